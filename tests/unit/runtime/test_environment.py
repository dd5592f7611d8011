"""The SM_* environment and hyperparameter serialisation, as spec/CONTRACT.md defines them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sageyard.runtime.environment import (
    MASK,
    ChannelInfo,
    HostContext,
    build_environment,
    config_files,
    decode_hyperparameter,
    is_secret,
    mask_secrets,
    mask_text,
    script_arguments,
    serialize_hyperparameter,
    serialize_hyperparameters,
)

# -- hyperparameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("adam", "adam"),
        ("0.1", "0.1"),
        ("", ""),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (3, "3"),
        (0.1, "0.1"),
        ([1, 2], "[1, 2]"),
        ({"a": 1}, '{"a": 1}'),
    ],
)
def test_serialize_hyperparameter(value: Any, expected: str) -> None:
    assert serialize_hyperparameter(value) == expected


def test_serialize_hyperparameters_keeps_dict_order() -> None:
    hps = {"zeta": 1, "alpha": True, "mid": "x", "beta": [1, 2]}
    serialized = serialize_hyperparameters(hps)
    assert list(serialized) == ["zeta", "alpha", "mid", "beta"]
    assert serialized == {"zeta": "1", "alpha": "true", "mid": "x", "beta": "[1, 2]"}


def test_serialize_hyperparameter_falls_back_to_str_for_other_objects() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque"

    assert serialize_hyperparameter(Opaque()) == "opaque"


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [("3", 3), ("0.1", 0.1), ("true", True), ("[1, 2]", [1, 2]), ("adam", "adam"), ("", "")],
)
def test_decode_hyperparameter(raw: str, decoded: Any) -> None:
    assert decode_hyperparameter(raw) == decoded


def test_script_arguments_keep_order_and_drop_framework_keys() -> None:
    hps = {
        "epochs": "3",
        "sagemaker_program": "train.py",
        "learning-rate": "0.1",
        "sagemaker_submit_directory": "s3://b/c",
        "_tuning_objective_metric": "validation:loss",  # a tuning trial's: not an argument
        "flag": "true",
    }
    assert script_arguments(hps) == [
        "--epochs",
        "3",
        "--learning-rate",
        "0.1",
        "--flag",
        "true",
    ]


def test_script_arguments_of_nothing() -> None:
    assert script_arguments({}) == []


# -- the environment of one host of a two-host job --------------------------------------------

HYPERPARAMETERS = {
    "epochs": "3",
    "learning-rate": "0.1",
    "optimizer": "adam",
    "use_cuda": "true",
    "layers": "[1, 2]",
}
RESOURCE_CONFIG = {
    "current_host": "algo-2",
    "current_instance_type": "ml.m5.xlarge",
    "current_group_name": "homogeneousCluster",
    "hosts": ["algo-2", "algo-1"],
    "instance_groups": [
        {
            "instance_group_name": "homogeneousCluster",
            "instance_type": "ml.m5.xlarge",
            "hosts": ["algo-1", "algo-2"],
        }
    ],
    "network_interface_name": "eth0",
}


def context(**changes: Any) -> HostContext:
    values: dict[str, Any] = {
        "job_name": "my-job-2024-01-02-03-04-05-678",
        "root": "/opt/ml",
        "current_host": "algo-2",
        "hosts": ["algo-2", "algo-1"],  # unsorted on purpose
        "instance_type": "ml.m5.xlarge",
        "instance_groups": RESOURCE_CONFIG["instance_groups"],
        "current_group_name": "homogeneousCluster",
        "hyperparameters": dict(HYPERPARAMETERS),
        "channels": [ChannelInfo("train", content_type="text/csv"), ChannelInfo("validation")],
        "num_cpus": 4,
        "num_gpus": 0,
        "master_port": 29500,
        "entry_script": "train.py",
        "user_environment": {"MY_SETTING": "on"},
        "distributed_config": {"backend": "gloo"},
    }
    values.update(changes)
    return HostContext(**values)


EXPECTED_STRINGS = {
    "SM_MODEL_DIR": "/opt/ml/model",
    "SM_INPUT_DIR": "/opt/ml/input",
    "SM_INPUT_DATA_DIR": "/opt/ml/input/data",
    "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
    "SM_OUTPUT_DIR": "/opt/ml/output",
    "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
    "SM_OUTPUT_FAILURE": "/opt/ml/output/failure",
    "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train",
    "SM_CHANNEL_VALIDATION": "/opt/ml/input/data/validation",
    "SM_SOURCE_DIR": "/opt/ml/input/data/code",
    "SM_ENTRY_SCRIPT": "train.py",
    "SM_CURRENT_HOST": "algo-2",
    "SM_CURRENT_HOST_RANK": "1",
    "SM_HOST_COUNT": "2",
    "SM_CURRENT_INSTANCE_TYPE": "ml.m5.xlarge",
    "SM_NETWORK_INTERFACE_NAME": "eth0",
    "SM_MASTER_ADDR": "algo-1",
    "SM_MASTER_PORT": "29500",
    "SM_NUM_CPUS": "4",
    "SM_NUM_GPUS": "0",
    "SM_NUM_NEURONS": "0",
    "TRAINING_JOB_NAME": "my-job-2024-01-02-03-04-05-678",
    "SM_HP_EPOCHS": "3",
    "SM_HP_LEARNING_RATE": "0.1",
    "SM_HP_OPTIMIZER": "adam",
    "SM_HP_USE_CUDA": "true",
    "SM_HP_LAYERS": "[1, 2]",
    "MY_SETTING": "on",
}
# Every variable CONTRACT.md lists (SM_CHANNEL_<NAME> and SM_HP_<NAME> are checked above).
CONTRACT_VARIABLES = [
    "SM_MODEL_DIR",
    "SM_INPUT_DIR",
    "SM_INPUT_DATA_DIR",
    "SM_INPUT_CONFIG_DIR",
    "SM_OUTPUT_DIR",
    "SM_OUTPUT_DATA_DIR",
    "SM_OUTPUT_FAILURE",
    "SM_CHANNELS",
    "SM_SOURCE_DIR",
    "SM_ENTRY_SCRIPT",
    "SM_HPS",
    "SM_HOSTS",
    "SM_CURRENT_HOST",
    "SM_CURRENT_HOST_RANK",
    "SM_HOST_COUNT",
    "SM_CURRENT_INSTANCE_TYPE",
    "SM_NETWORK_INTERFACE_NAME",
    "SM_MASTER_ADDR",
    "SM_MASTER_PORT",
    "SM_NUM_CPUS",
    "SM_NUM_GPUS",
    "SM_NUM_NEURONS",
    "SM_RESOURCE_CONFIG",
    "SM_INPUT_DATA_CONFIG",
    "SM_TRAINING_ENV",
    "SM_USER_ARGS",
    "TRAINING_JOB_NAME",
    "SM_DISTRIBUTED_DRIVER_DIR",
    "SM_DISTRIBUTED_CONFIG",
]


def test_every_contract_variable_is_set() -> None:
    env = build_environment(context())
    missing = [name for name in CONTRACT_VARIABLES if name not in env]
    assert missing == []
    assert all(isinstance(value, str) for value in env.values())


def test_plain_values() -> None:
    env = build_environment(context())
    assert {name: env.get(name) for name in EXPECTED_STRINGS} == EXPECTED_STRINGS


def test_json_values() -> None:
    env = build_environment(context())
    assert json.loads(env["SM_CHANNELS"]) == ["train", "validation"]
    assert json.loads(env["SM_HOSTS"]) == ["algo-1", "algo-2"]
    assert json.loads(env["SM_HPS"]) == {
        "epochs": 3,
        "learning-rate": 0.1,
        "optimizer": "adam",
        "use_cuda": True,
        "layers": [1, 2],
    }
    assert json.loads(env["SM_USER_ARGS"]) == [
        "--epochs",
        "3",
        "--learning-rate",
        "0.1",
        "--optimizer",
        "adam",
        "--use_cuda",
        "true",
        "--layers",
        "[1, 2]",
    ]
    assert json.loads(env["SM_RESOURCE_CONFIG"]) == RESOURCE_CONFIG
    assert (
        json.loads(env["SM_INPUT_DATA_CONFIG"]) == config_files(context())["inputdataconfig.json"]
    )
    assert json.loads(env["SM_DISTRIBUTED_CONFIG"]) == {"backend": "gloo"}
    assert env["SM_DISTRIBUTED_DRIVER_DIR"].startswith("/opt/ml/input/data/sm_drivers")


def test_training_env_document() -> None:
    training_env = json.loads(build_environment(context())["SM_TRAINING_ENV"])
    assert training_env["channel_input_dirs"] == {
        "train": "/opt/ml/input/data/train",
        "validation": "/opt/ml/input/data/validation",
    }
    assert training_env["current_host"] == "algo-2"
    assert training_env["hosts"] == ["algo-1", "algo-2"]
    assert training_env["hyperparameters"]["layers"] == [1, 2]
    assert training_env["hyperparameters"]["optimizer"] == "adam"
    assert training_env["job_name"] == "my-job-2024-01-02-03-04-05-678"
    assert training_env["model_dir"] == "/opt/ml/model"
    assert training_env["num_cpus"] == 4
    assert training_env["num_gpus"] == 0
    assert training_env["output_data_dir"] == "/opt/ml/output/data"


def test_host_rank_follows_sorted_hosts() -> None:
    env = build_environment(context(current_host="algo-1"))
    assert env["SM_CURRENT_HOST_RANK"] == "0"
    assert env["SM_MASTER_ADDR"] == "algo-1"


def test_channel_and_hyperparameter_names_become_variable_names() -> None:
    env = build_environment(
        context(
            channels=[ChannelInfo("train-data")],
            hyperparameters={"max-depth": "6", "dropOut": "0.5", "name": "plain text"},
        )
    )
    assert env["SM_CHANNEL_TRAIN_DATA"] == "/opt/ml/input/data/train-data"
    assert env["SM_HP_MAX_DEPTH"] == "6"
    assert env["SM_HP_DROPOUT"] == "0.5"
    assert env["SM_HP_NAME"] == "plain text"
    assert json.loads(env["SM_HPS"])["name"] == "plain text"  # not JSON: the raw string


def test_paths_follow_a_local_root() -> None:
    env = build_environment(context(root="/tmp/jobs/my-job/algo-2/"))
    assert env["SM_MODEL_DIR"] == "/tmp/jobs/my-job/algo-2/model"
    assert env["SM_CHANNEL_TRAIN"] == "/tmp/jobs/my-job/algo-2/input/data/train"


def test_no_entry_script_or_distribution() -> None:
    env = build_environment(context(entry_script=None, distributed_config=None))
    assert "SM_ENTRY_SCRIPT" not in env
    assert "SM_DISTRIBUTED_CONFIG" not in env


# -- input/config documents -------------------------------------------------------------------


def test_config_files() -> None:
    files = config_files(context())
    assert set(files) == {"hyperparameters.json", "resourceconfig.json", "inputdataconfig.json"}
    assert files["hyperparameters.json"] == HYPERPARAMETERS
    assert all(isinstance(v, str) for v in files["hyperparameters.json"].values())
    assert files["resourceconfig.json"] == RESOURCE_CONFIG
    assert files["inputdataconfig.json"] == {
        "train": {
            "ContentType": "text/csv",
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        },
        "validation": {  # ContentType omitted when unset
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        },
    }
    json.dumps(files)  # every document is JSON-able


def test_input_data_config_carries_channel_settings() -> None:
    channel = ChannelInfo(
        "train", input_mode="Pipe", distribution="ShardedByS3Key", compression_type="Gzip"
    )
    entry = config_files(context(channels=[channel]))["inputdataconfig.json"]["train"]
    assert entry["TrainingInputMode"] == "Pipe"
    assert entry["S3DistributionType"] == "ShardedByS3Key"
    assert entry["CompressionType"] == "Gzip"
    assert "ContentType" not in entry


# -- secrets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "MY_SECRET",
        "DB_PASSWORD",
        "AWS_ACCESS_KEY_ID",
        "HF_TOKEN",
        "PRIVATE_URL",
        "MY_CREDS",
        "GOOGLE_CREDENTIALS",
        "aws_secret_access_key",
        "hf_Token",
        "Password",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret(name)


@pytest.mark.parametrize("name", ["PATH", "SM_MODEL_DIR", "EPOCHS", "HOME", "LANG"])
def test_ordinary_names(name: str) -> None:
    assert not is_secret(name)


def test_mask_secrets() -> None:
    env = {"HF_TOKEN": "hf_abc", "db_password": "pw", "EPOCHS": "3", "api_key": "k"}
    assert mask_secrets(env) == {
        "HF_TOKEN": MASK,
        "db_password": MASK,
        "EPOCHS": "3",
        "api_key": MASK,
    }
    assert env["HF_TOKEN"] == "hf_abc"  # the input is not changed


def test_mask_text() -> None:
    text = "login with hf_abcdef and s3cr3tpw, epoch 3"
    masked = mask_text(text, ["hf_abcdef", "s3cr3tpw"])
    assert masked == f"login with {MASK} and {MASK}, epoch 3"
    assert mask_text(text, []) == text
    assert mask_text(text, [""]) == text  # an empty secret does not mangle the text
