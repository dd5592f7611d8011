"""ECR URIs of SageMaker's pre-built images, exactly as ``sagemaker.core.image_uris`` gives them.

sageyard runs the built-in algorithms (``xgboost``, ``kmeans``, ``linear-learner``) with its own
programs, and runs your code for the framework images (``pytorch``, ``huggingface``,
``sklearn``). Code written for SageMaker asks :func:`retrieve` for an image and passes it to
``ModelTrainer(training_image=...)``; this module gives the same string the real SDK gives,
from the same data (``image_uri_config/``, copied from the SDK), so that code runs unchanged
and the image selects the right program (:func:`sageyard.programs.program_for_image`).

The steps follow the real SDK's: pick the image scope and its config, resolve the version
(aliases such as ``"2.1"`` → ``2.1.0``), check the Python version, look up the registry of
the region, infer the processor from the instance type, then format the tag.

Example:
    >>> from sageyard.core import image_uris
    >>> image_uris.retrieve("xgboost", "us-west-2", version="1.7-1")
    '246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1'
    >>> image_uris.retrieve(
    ...     "pytorch", "us-west-2", version="2.1", py_version="py310",
    ...     instance_type="ml.g5.xlarge", image_scope="training",
    ... )
    '763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.1-gpu-py310'
    >>> image_uris.list_py_versions("pytorch", "2.3", image_scope="training")
    ['py311']
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NoReturn

__all__ = [
    "config_for_framework",
    "list_frameworks",
    "list_py_versions",
    "list_versions",
    "retrieve",
]

logger = logging.getLogger(__name__)

# The frameworks and algorithms whose images sageyard knows (one JSON file each).
_FRAMEWORKS = ("huggingface", "kmeans", "linear-learner", "pytorch", "sklearn", "xgboost")

_Config = dict[str, Any]

_HUGGING_FACE = "huggingface"
_INFERENCE_GRAVITON = "inference_graviton"
_ARM64_FRAMEWORKS = ("xgboost", "sklearn")  # their Graviton images have fixed tags
_GRAVITON_FRAMEWORKS = ("pytorch", "sklearn", "xgboost")
_GRAVITON_FAMILIES = ("m6g", "m6gd", "c6g", "c6gd", "c6gn", "c7g", "r6g", "r6gd")
_ARM64_TAGS = {
    "xgboost": {"1.5-1": "1.5-1-arm64", "1.3-1": "1.3-1-arm64"},
    "sklearn": {"1.0-1": "1.0-1-arm64-cpu-py3"},
}
# The tags of PyTorch 1.6 GPU images on p4d instances (or with smdistributed) carry CUDA 11.
_P4D_CONTAINER_VERSIONS = {
    "pytorch-1.6-gpu-py36": "cu110-ubuntu18.04-v3",
    "pytorch-1.6.0-gpu-py36": "cu110-ubuntu18.04",
    "pytorch-1.6-gpu-py3": "cu110-ubuntu18.04-v3",
    "pytorch-1.6.0-gpu-py3": "cu110-ubuntu18.04",
}
# ECR's DNS suffix per AWS partition, by region prefix (botocore's endpoints data); every
# other region is in the ``aws`` partition.
_DNS_SUFFIXES = (
    ("cn-", "amazonaws.com.cn"),
    ("us-isob-", "sc2s.sgov.gov"),
    ("us-isof-", "csp.hci.ic.gov"),
    ("us-iso-", "c2s.ic.gov"),
    ("eu-isoe-", "cloud.adc-e.uk"),
    ("eusc-", "amazonaws.eu"),
)
_INSTANCE_FAMILY = re.compile(r"^ml[\._]([a-z\d\-]+)\.?\w*$")
_BASE_FRAMEWORK = re.compile(r"^(pytorch|tensorflow)(.*)$")
_RELEASE = re.compile(r"^(\d+(?:\.\d+)*)(?:-(\d+))?$")
_PRICING = "https://aws.amazon.com/sagemaker/pricing/instance-types"


def retrieve(
    framework: str,
    region: str,
    version: str | None = None,
    py_version: str | None = None,
    instance_type: str | None = None,
    accelerator_type: str | None = None,
    image_scope: str | None = None,
    container_version: str | None = None,
    distribution: dict[str, Any] | None = None,
    base_framework_version: str | None = None,
    training_compiler_config: Any = None,
    model_id: str | None = None,
    model_version: str | None = None,
    hub_arn: str | None = None,
    tolerate_vulnerable_model: bool = False,
    tolerate_deprecated_model: bool = False,
    sdk_version: str | None = None,
    inference_tool: str | None = None,
    serverless_inference_config: Any = None,
    sagemaker_session: Any = None,
    config_name: str | None = None,
    model_type: Any = None,
) -> str:
    """The ECR URI of the SageMaker image that matches the arguments.

    The arguments are the real SDK's. ``hub_arn``, ``tolerate_*``, ``sagemaker_session``,
    ``config_name`` and ``model_type`` only matter for JumpStart models, which sageyard
    fine-tunes through ``ModelTrainer.from_jumpstart_config`` instead; ``sdk_version`` only
    for AWS Neuron images, which sageyard does not serve.

    Args:
        framework: One of :func:`list_frameworks`.
        region: The AWS region whose registry holds the image, e.g. ``"us-west-2"``.
        version: The framework or algorithm version, or an alias (``"2.1"``, ``"latest"``).
        py_version: The Python version, e.g. ``"py310"``; needed when a version has several.
        instance_type: ``ml.<family>.<size>`` (or ``local``, ``local_gpu``), from which the
            processor (``cpu``/``gpu``) is inferred where images differ by processor.
        accelerator_type: An Elastic Inference accelerator (``ml.eia…``): selects the
            ``eia`` scope.
        image_scope: ``"training"``, ``"inference"``, ``"inference_graviton"`` or ``"eia"``.
        container_version: A tag suffix; only images whose tags carry one accept it.
        distribution: The distribution config; ``smdistributed`` picks CUDA 11 for PyTorch 1.6.
        base_framework_version: For ``huggingface``, e.g. ``"pytorch2.0.0"``.
        inference_tool: Replaces the processor in the tag, as in the real SDK.
        serverless_inference_config: When given, the processor is ``cpu``.

    Returns:
        The image URI, e.g. ``'174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1'``.

    Raises:
        ConfigurationError: (a ValueError) The combination is not one SageMaker publishes;
            the message says what was given and what is supported.

    Example:
        >>> retrieve("kmeans", "us-west-2")
        '174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1'
        >>> retrieve("sklearn", "eu-west-1", version="1.2-1", instance_type="ml.m5.xlarge")
        '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3'
    """
    _refuse_jumpstart(model_id, model_version)
    _check_framework(framework)
    if training_compiler_config and framework in (_HUGGING_FACE, "pytorch"):
        _fail(
            f"training_compiler_config was given for {framework!r}, but sageyard does not "
            "serve SageMaker Training Compiler images. Leave training_compiler_config unset."
        )
    inference_tool = _inference_tool(framework, inference_tool, instance_type)
    final_scope = _final_image_scope(framework, instance_type, image_scope)
    _check_instance_family(framework, instance_type)
    if inference_tool in ("neuron", "neuronx") and framework in (_HUGGING_FACE, "pytorch"):
        _fail(
            f"instance_type={instance_type!r} (inference_tool={inference_tool!r}) needs an "
            f"AWS Neuron image of {framework}, which sageyard does not serve. Use a CPU or "
            "GPU instance type (e.g. ml.m5.xlarge or ml.g5.xlarge)."
        )
    config = _config_for_scope(framework, final_scope, accelerator_type)

    version = _resolve_version(version, config, framework, image_scope)
    version_config = config["versions"][_alias_target(version, config)]
    if framework == _HUGGING_FACE:
        version_config = _base_framework_config(version_config, base_framework_version)
    py_version = _resolve_py_version(py_version, version_config)
    version_config = version_config.get(py_version or "") or version_config

    registries = version_config["registries"]
    registry = registries[_choose(region, registries, "region")]
    repository = version_config["repository"]
    processor = _processor(
        instance_type,
        config.get("processors") or version_config.get("processors"),
        serverless_inference_config,
    )
    tag = _image_tag(
        framework=framework,
        version=version,
        version_config=version_config,
        config=config,
        final_scope=final_scope,
        processor=processor,
        py_version=py_version,
        base_framework_version=base_framework_version,
        container_version=container_version,
        inference_tool=inference_tool,
        instance_type=instance_type,
        distribution=distribution,
    )
    uri = f"{registry}.dkr.{_ecr_hostname(region)}/{repository}"
    return f"{uri}:{tag}" if tag else uri


def list_frameworks() -> list[str]:
    """The frameworks and algorithms :func:`retrieve` knows, sorted.

    Example:
        >>> list_frameworks()
        ['huggingface', 'kmeans', 'linear-learner', 'pytorch', 'sklearn', 'xgboost']
    """
    return sorted(_FRAMEWORKS)


def list_versions(framework: str, image_scope: str | None = None) -> list[str]:
    """The versions and version aliases of ``framework``, sorted as versions.

    Without ``image_scope``, the versions of every scope together.

    Raises:
        ConfigurationError: (a ValueError) An unknown framework or image scope.

    Example:
        >>> list_versions("kmeans")
        ['1']
        >>> list_versions("xgboost", image_scope="inference_graviton")
        ['1.3-1', '1.5-1']
    """
    versions: set[str] = set()
    for subtree in _scope_configs(framework, image_scope):
        versions.update(subtree.get("versions", {}))
        versions.update(subtree.get("version_aliases", {}))
    return sorted(versions, key=_version_sort_key)


def list_py_versions(framework: str, version: str, image_scope: str | None = None) -> list[str]:
    """The Python versions of one version (or alias) of ``framework``, sorted.

    Empty where the images have no Python version (the algorithms) or nest it under a base
    framework (``huggingface``).

    Raises:
        ConfigurationError: (a ValueError) An unknown framework, image scope or version.

    Example:
        >>> list_py_versions("pytorch", "2.6", image_scope="training")
        ['py312']
    """
    py_versions: set[str] = set()
    known: set[str] = set()
    found = False
    for subtree in _scope_configs(framework, image_scope):
        versions, aliases = subtree.get("versions", {}), subtree.get("version_aliases", {})
        known.update(versions, aliases)
        resolved = aliases.get(version, version)
        if resolved in versions:
            found = True
            py_versions.update(versions[resolved].get("py_versions", []))
    if not found:
        _fail(
            f"Unsupported version: {version} for framework: {framework}. Supported "
            f"version(s): {', '.join(sorted(known, key=_version_sort_key))}."
        )
    return sorted(py_versions, key=_version_sort_key)


def config_for_framework(framework: str) -> _Config:
    """The image data of ``framework`` (a fresh copy; change it freely).

    Raises:
        ConfigurationError: (a ValueError) ``framework`` is not one of :func:`list_frameworks`.

    Example:
        >>> sorted(config_for_framework("kmeans"))
        ['scope', 'versions']
    """
    _check_framework(framework)
    result: _Config = json.loads(_config_text(framework))
    return result


# --- The data -----------------------------------------------------------------------------


@functools.cache
def _config_text(framework: str) -> str:
    import importlib.resources  # here: it pulls in pathlib, zipfile and tempfile

    folder = importlib.resources.files("sageyard.core") / "image_uri_config"
    return (folder / f"{framework}.json").read_text(encoding="utf-8")


@functools.cache
def _config(framework: str) -> _Config:
    """The shared, parsed data of ``framework``: read it, never change it."""
    result: _Config = json.loads(_config_text(framework))
    return result


def _scope_configs(framework: str, image_scope: str | None) -> Iterator[_Config]:
    """The config(s) holding ``versions`` of ``framework``: the one of ``image_scope``, or
    of every scope when it is None (a config shared by all scopes counts as one)."""
    _check_framework(framework)
    config = _config(framework)
    if "versions" in config:
        scopes = config.get("scope")
        if image_scope is not None and scopes and image_scope not in scopes:
            _fail(_bad_scope_message(image_scope, framework, scopes))
        yield config
        return
    by_scope = {name: sub for name, sub in config.items() if "versions" in sub}
    if image_scope is None:
        yield from by_scope.values()
    elif image_scope in by_scope:
        yield by_scope[image_scope]
    else:
        _fail(_bad_scope_message(image_scope, framework, by_scope))


def _bad_scope_message(image_scope: str, framework: str, scopes: Iterable[str]) -> str:
    return (
        f"Unsupported image scope: {image_scope} for framework: {framework}. "
        f"Supported scope(s): {', '.join(sorted(scopes))}."
    )


# --- Checks before the data is read -------------------------------------------------------


def _refuse_jumpstart(model_id: str | None, model_version: str | None) -> None:
    if model_id is None and model_version is None:
        return
    _fail(
        f"retrieve() got JumpStart arguments (model_id={model_id!r}, "
        f"model_version={model_version!r}), but sageyard does not look up JumpStart images. "
        "To fine-tune a catalog model, use ModelTrainer.from_jumpstart_config("
        "JumpStartConfig(model_id=...)); `sageyard models list` shows the catalog."
    )


def _check_framework(framework: str) -> None:
    if framework not in _FRAMEWORKS:
        _fail(
            f"Unsupported framework: {framework}. sageyard knows the images of the "
            f"frameworks and algorithms it runs: {', '.join(list_frameworks())}. To run "
            "another image, pass its URI as ModelTrainer(training_image=...)."
        )


def _instance_family(instance_type: str | None) -> str:
    """``"g5"`` for ``"ml.g5.xlarge"`` (or ``"ml_g5"``); ``""`` for anything else.

    Example:
        >>> _instance_family("ml.p4d.24xlarge"), _instance_family("local_gpu")
        ('p4d', '')
    """
    match = _INSTANCE_FAMILY.match(instance_type) if isinstance(instance_type, str) else None
    return match[1] if match else ""


def _inference_tool(
    framework: str, inference_tool: str | None, instance_type: str | None
) -> str | None:
    """Inferentia and Trainium instances need the ``neuron`` images of PyTorch and HF."""
    if inference_tool or framework not in (_HUGGING_FACE, "pytorch"):
        return inference_tool
    family = _instance_family(instance_type)
    return "neuron" if family.startswith(("inf", "trn")) else None


def _final_image_scope(
    framework: str, instance_type: str | None, image_scope: str | None
) -> str | None:
    """Graviton instances get the ``inference_graviton`` images whatever the scope asked (as
    in the real SDK); xgboost and sklearn default to ``training``, which is the same image."""
    if framework in _GRAVITON_FRAMEWORKS and _instance_family(instance_type) in _GRAVITON_FAMILIES:
        return _INFERENCE_GRAVITON
    if image_scope is None and framework in _ARM64_FRAMEWORKS:
        return "training"
    return image_scope


def _check_instance_family(framework: str, instance_type: str | None) -> None:
    if instance_type is None:
        return
    if "trn" in instance_type and framework != "pytorch":
        _fail(
            f"Unsupported framework: {framework}. Supported framework(s) for Trainium "
            f"instances: pytorch (instance_type={instance_type!r})."
        )
    if _instance_family(instance_type) in _GRAVITON_FAMILIES and (
        framework not in _GRAVITON_FRAMEWORKS
    ):
        _fail(
            f"Unsupported framework: {framework}. Supported framework(s) for Graviton "
            f"instances: {', '.join(_GRAVITON_FRAMEWORKS)} (instance_type={instance_type!r})."
        )


# --- Scope, version and Python version ----------------------------------------------------


def _config_for_scope(
    framework: str, image_scope: str | None, accelerator_type: str | None
) -> _Config:
    """The config of one image scope of ``framework``."""
    config = _config(framework)
    if accelerator_type:
        if not accelerator_type.startswith("ml.eia") and (
            accelerator_type != "local_sagemaker_notebook"
        ):
            _fail(
                f"Invalid SageMaker Elastic Inference accelerator type: {accelerator_type}. "
                "See https://docs.aws.amazon.com/sagemaker/latest/dg/ei.html"
            )
        if image_scope not in ("eia", "inference"):
            logger.warning(
                "Elastic inference is for inference only. Ignoring image scope: %s.", image_scope
            )
        image_scope = "eia"

    scopes: list[str] = config.get("scope", list(config))
    if len(scopes) == 1:
        if image_scope and image_scope != scopes[0]:
            logger.warning(
                "Defaulting to only supported image scope: %s. Ignoring image scope: %s.",
                scopes[0],
                image_scope,
            )
        image_scope = scopes[0]
    if not image_scope and "scope" in config and set(scopes) == {"training", "inference"}:
        logger.info("Same images for training and inference; image scope %s.", scopes[0])
        image_scope = scopes[0]
    _choose(image_scope, scopes, "image scope")
    return config if "scope" in config else config[str(image_scope)]


def _resolve_version(
    version: str | None, config: _Config, framework: str, image_scope: str | None
) -> str:
    """The version asked for (an alias stays an alias: the tag shows it), the only one, or
    the latest of the scope when none was asked for."""
    available = list(config["versions"])
    aliases = list(config.get("version_aliases", {}))
    if len(available) == 1 and version not in aliases:
        return available[0]
    if not version:
        version = _latest_version(_config(framework), image_scope)
    return _choose(version, available + aliases, f"{framework} version")


def _alias_target(version: str, config: _Config) -> str:
    """``"2.1.0"`` for ``"2.1"`` where the config aliases it; else ``version``."""
    aliases: dict[str, str] = config.get("version_aliases", {})
    return aliases.get(version, version)


def _latest_version(framework_config: _Config, image_scope: str | None) -> str | None:
    """The real SDK's default version: the ``latest`` alias of the scope, the only version,
    or the higher of its first and last versions; None where there is none (xgboost and
    sklearn without an image scope)."""
    scope_config = framework_config.get(image_scope or "") or {}
    if "latest" in scope_config.get("version_aliases", {}):
        latest: str = scope_config["version_aliases"]["latest"]
        return latest
    if "versions" in framework_config:
        versions = list(framework_config["versions"])
        if len(versions) == 1:
            return versions[0]
        if "latest" in (versions[0], versions[-1]):
            return None
    elif image_scope is not None and "versions" in scope_config:
        versions = list(scope_config["versions"])
    else:
        return None
    return max(versions[0], versions[-1], key=_version_sort_key)


def _base_framework_config(version_config: _Config, base_framework_version: str | None) -> _Config:
    """The part of a Hugging Face version's config for one base framework (``pytorch2.0.0``,
    or its alias ``pytorch2.0``)."""
    aliases: dict[str, str] = version_config.get("version_aliases", {})
    full = aliases.get(base_framework_version or "", base_framework_version)
    supported = [key for key in version_config if key != "version_aliases"] + list(aliases)
    if full not in supported:
        example = f" Pass e.g. base_framework_version={supported[0]!r}." if supported else ""
        _unsupported("base framework", base_framework_version, supported, example)
    base: _Config = version_config[str(full)]
    return base


def _resolve_py_version(py_version: str | None, version_config: _Config) -> str | None:
    """The Python version asked for, or the only one; None where images have none."""
    if "repository" in version_config:
        available = version_config.get("py_versions")
    else:
        available = list(version_config)
    if not available:
        if py_version:
            logger.info("Ignoring unnecessary Python version: %s.", py_version)
        return None
    if py_version is None and len(available) == 1:
        only: str = available[0]
        return only
    return _choose(py_version, available, "Python version")


# --- Processor and tag --------------------------------------------------------------------


def _processor(
    instance_type: str | None,
    available: Sequence[str] | None,
    serverless_inference_config: Any = None,
) -> str | None:
    """The processor part of the tag (``cpu``, ``gpu``) for ``instance_type``; None where
    the images do not differ by processor.

    As in the real SDK, ``local`` is ``cpu`` and every other ``local…`` (``local_gpu``, and
    ``local_cpu`` too) is ``gpu``.

    Example:
        >>> _processor("ml.g5.xlarge", ["cpu", "gpu"]), _processor("local", ["cpu", "gpu"])
        ('gpu', 'cpu')
    """
    if not available:
        return None
    if len(available) == 1 and not instance_type:
        return available[0]
    if serverless_inference_config is not None:
        return "cpu"
    if not instance_type:
        _fail(f"Empty SageMaker instance type. For options, see: {_PRICING}")
    if instance_type.startswith("local"):
        processor = "cpu" if instance_type == "local" else "gpu"
    elif instance_type.startswith("neuron"):
        processor = "neuron"
    else:
        family = _instance_family(instance_type)
        if not family:
            _fail(f"Invalid SageMaker instance type: {instance_type}. For options, see: {_PRICING}")
        processor = _processor_of_family(family, available)
    return _choose(processor, available, "processor")


def _processor_of_family(family: str, available: Sequence[str]) -> str:
    if family in available:  # an image made for this family (e.g. c5)
        return family
    if family.startswith("inf"):
        return "inf"
    if family.startswith("trn"):
        return "trn"
    return "gpu" if family[0] in ("g", "p") else "cpu"


def _image_tag(
    *,
    framework: str,
    version: str,
    version_config: _Config,
    config: _Config,
    final_scope: str | None,
    processor: str | None,
    py_version: str | None,
    base_framework_version: str | None,
    container_version: str | None,
    inference_tool: str | None,
    instance_type: str | None,
    distribution: dict[str, Any] | None,
) -> str:
    """The image tag: ``<prefix>-<processor>-<python>-<container version>``, leaving out
    the parts an image does not have, e.g. ``2.1-gpu-py310``."""
    repository = version_config["repository"]
    requested_container_version = container_version
    by_processor = version_config.get("container_version")
    if by_processor:  # the image's own suffix, e.g. cu118-ubuntu20.04 for gpu
        container_version = by_processor[_choose(processor, by_processor, "processor")]

    if framework == _HUGGING_FACE:
        base = _BASE_FRAMEWORK.match(base_framework_version or "")
        base_version = base[2] if base else base_framework_version
        tag_prefix = f"{base_version}-transformers{_alias_target(version, config)}"
    else:
        tag_prefix = version_config.get("tag_prefix", version)

    if repository in (f"{framework}-inference-graviton", f"{framework}-inference-arm64"):
        container_version = f"{container_version}-sagemaker"
    if not version_config.get("processor_in_tag", True):
        processor = None
    _check_p2(framework, instance_type, version)
    if (
        requested_container_version is not None
        and not version_config.get("container_version")
        and framework != _HUGGING_FACE
        and repository != f"{framework}-inference-graviton"
    ):
        _fail(
            f"container_version {requested_container_version!r} is not supported for "
            f"framework {framework!r} version {version!r}: its image tags carry no container "
            "version, so the tag would name no published image. Omit container_version and "
            "pass the full framework version instead."
        )

    if framework in _ARM64_FRAMEWORKS:
        return _arm64_or_plain_tag(
            framework, version, final_scope, instance_type, tag_prefix, processor,
            py_version, container_version, inference_tool,
        )  # fmt: skip
    tag = _format_tag(tag_prefix, processor, py_version, container_version, inference_tool)
    if instance_type is not None and _needs_cuda_11(instance_type, distribution):
        suffix = _P4D_CONTAINER_VERSIONS.get(f"{framework}-{tag}")
        tag = f"{tag}-{suffix}" if suffix else tag
    return tag


def _arm64_or_plain_tag(
    framework: str,
    version: str,
    final_scope: str | None,
    instance_type: str | None,
    tag_prefix: str,
    processor: str | None,
    py_version: str | None,
    container_version: str | None,
    inference_tool: str | None,
) -> str:
    """xgboost's and sklearn's Graviton images have fixed tags (``1.5-1-arm64``)."""
    family = _instance_family(instance_type)
    if family and final_scope == _INFERENCE_GRAVITON:
        _choose(family, _GRAVITON_FAMILIES, "instance type")
    if family in _GRAVITON_FAMILIES or final_scope == _INFERENCE_GRAVITON:
        arm64_tag: str = _choose(version, _ARM64_TAGS[framework], f"{framework} Graviton version")
        return _ARM64_TAGS[framework][arm64_tag]
    return _format_tag(tag_prefix, processor, py_version, container_version, inference_tool)


def _format_tag(
    tag_prefix: str,
    processor: str | None,
    py_version: str | None,
    container_version: str | None,
    inference_tool: str | None = None,
) -> str:
    """The non-empty parts joined by ``-``; an inference tool takes the processor's place.

    Example:
        >>> _format_tag("1.0-1", "cpu", "py3", None)
        '1.0-1-cpu-py3'
    """
    parts = (tag_prefix, inference_tool or processor, py_version, container_version)
    return "-".join(part for part in parts if part)


def _needs_cuda_11(instance_type: str, distribution: dict[str, Any] | None) -> bool:
    return _instance_family(instance_type) == "p4d" or bool(
        distribution and "smdistributed" in distribution
    )


def _check_p2(framework: str, instance_type: str | None, version: str) -> None:
    if framework != "pytorch" or _instance_family(instance_type) != "p2":
        return
    if _version_sort_key(version) >= _version_sort_key("1.13"):
        _fail(
            f"P2 instances have been deprecated for sagemaker jobs starting PyTorch 1.13 "
            f"(got instance_type={instance_type!r}, version={version!r}). Choose another GPU "
            "instance type; for options, see https://aws.amazon.com/sagemaker/pricing/"
        )


def _ecr_hostname(region: str) -> str:
    """ECR's host name in ``region``.

    Example:
        >>> _ecr_hostname("cn-north-1")
        'ecr.cn-north-1.amazonaws.com.cn'
    """
    suffix = next((s for prefix, s in _DNS_SUFFIXES if region.startswith(prefix)), None)
    return f"ecr.{region}.{suffix or 'amazonaws.com'}"


# --- Helpers ------------------------------------------------------------------------------


def _version_sort_key(version: str) -> tuple[Any, ...]:
    """Versions first, in version order (``0.90-1`` is 0.90, post-release 1; ``1`` equals
    ``1.0``, and then the shorter spelling comes first), then other names in name order.

    Example:
        >>> sorted(["latest", "1.10", "1.9", "1.0-1", "1"], key=_version_sort_key)
        ['1', '1.0-1', '1.9', '1.10', 'latest']
    """
    match = _RELEASE.match(version)
    if not match:
        return (1, version)
    release = [int(part) for part in match[1].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    post = int(match[2]) if match[2] is not None else -1
    return (0, tuple(release), post, len(version), version)


def _choose(value: Any, options: Iterable[str], name: str) -> Any:
    """``value`` if it is one of ``options``; else a ConfigurationError naming them."""
    options = list(options)
    if value not in options:
        _unsupported(name, value, options)
    return value


def _unsupported(name: str, value: Any, options: Iterable[str], hint: str = "") -> NoReturn:
    _fail(f"Unsupported {name}: {value}. Supported {name}(s): {', '.join(options)}.{hint}")


def _fail(message: str) -> NoReturn:
    # Imported here: the error tree imports botocore, and this module stays light.
    from sageyard.core.exceptions import ConfigurationError

    raise ConfigurationError(message)
