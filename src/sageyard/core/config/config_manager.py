"""Loading and resolving the real SDK's ``config.yaml`` (``sagemaker.core.config.config_manager``).

Only the reading is here; which defaults apply where is decided by the classes that use them
(``Session`` for the bucket, ``ModelTrainer`` for its attributes and the training-job space).
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sageyard.core.exceptions import ConfigurationError

logger = logging.getLogger("sageyard.config")

CONFIG_FILE_NAME = "config.yaml"
ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE = "SAGEMAKER_ADMIN_CONFIG_OVERRIDE"
ENV_VARIABLE_USER_CONFIG_OVERRIDE = "SAGEMAKER_USER_CONFIG_OVERRIDE"
SCHEMA_VERSIONS = ("1.0",)

SESSION_DEFAULT_S3_BUCKET_PATH = "SageMaker.PythonSDK.Modules.Session.DefaultS3Bucket"
SESSION_DEFAULT_S3_OBJECT_KEY_PREFIX_PATH = (
    "SageMaker.PythonSDK.Modules.Session.DefaultS3ObjectKeyPrefix"
)
MODEL_TRAINER_PATH = "SageMaker.PythonSDK.Modules.ModelTrainer"
TRAINING_JOB_ENVIRONMENT_PATH = "SageMaker.TrainingJob.Environment"
TRAINING_JOB_ENABLE_NETWORK_ISOLATION_PATH = "SageMaker.TrainingJob.EnableNetworkIsolation"
TRAINING_JOB_RESOURCE_CONFIG_PATH = "SageMaker.TrainingJob.ResourceConfig"
TRAINING_JOB_OUTPUT_DATA_CONFIG_PATH = "SageMaker.TrainingJob.OutputDataConfig"
TRAINING_JOB_ROLE_ARN_PATH = "SageMaker.TrainingJob.RoleArn"
TRAINING_JOB_VPC_CONFIG_PATH = "SageMaker.TrainingJob.VpcConfig"
TRAINING_JOB_SUBNETS_PATH = "SageMaker.TrainingJob.VpcConfig.Subnets"
TRAINING_JOB_SECURITY_GROUP_IDS_PATH = "SageMaker.TrainingJob.VpcConfig.SecurityGroupIds"
TRAINING_JOB_TAGS_PATH = "SageMaker.TrainingJob.Tags"

#: What a value at these paths must be (the real schema's types for the paths sageyard uses).
_TYPES: dict[str, type | tuple[type, ...]] = {
    SESSION_DEFAULT_S3_BUCKET_PATH: str,
    SESSION_DEFAULT_S3_OBJECT_KEY_PREFIX_PATH: str,
    MODEL_TRAINER_PATH: dict,
    TRAINING_JOB_ENVIRONMENT_PATH: dict,
    TRAINING_JOB_ENABLE_NETWORK_ISOLATION_PATH: bool,
    TRAINING_JOB_RESOURCE_CONFIG_PATH: dict,
    TRAINING_JOB_OUTPUT_DATA_CONFIG_PATH: dict,
    TRAINING_JOB_ROLE_ARN_PATH: str,
    TRAINING_JOB_VPC_CONFIG_PATH: dict,
    TRAINING_JOB_SUBNETS_PATH: list,
    TRAINING_JOB_SECURITY_GROUP_IDS_PATH: list,
    TRAINING_JOB_TAGS_PATH: list,
}


def _admin_config_path() -> str:
    folders = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    return str(Path(folders.split(os.pathsep)[0]) / "sagemaker" / CONFIG_FILE_NAME)


def _user_config_path() -> str:
    home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return str(Path(home) / "sagemaker" / CONFIG_FILE_NAME)


class SageMakerConfig:
    """Loads config files and answers values by dotted path, as the real ``SageMakerConfig``."""

    S3_PREFIX = "s3://"
    ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE = ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE
    ENV_VARIABLE_USER_CONFIG_OVERRIDE = ENV_VARIABLE_USER_CONFIG_OVERRIDE

    def load_sagemaker_config(
        self,
        additional_config_paths: list[str] | None = None,
        s3_resource: Any = None,
        repeat_log: bool = False,
    ) -> dict[str, Any]:
        """The admin file, the user file and ``additional_config_paths``, merged in order.

        ``s3_resource`` reads ``s3://`` paths (anything with boto3's
        ``Object(bucket, key).get()["Body"].read()``).
        """
        defaults = (_admin_config_path(), _user_config_path())
        paths = [
            os.environ.get(ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE, defaults[0]),
            os.environ.get(ENV_VARIABLE_USER_CONFIG_OVERRIDE, defaults[1]),
            *(additional_config_paths or []),
        ]
        merged: dict[str, Any] = {}
        for path in paths:
            if path.startswith(self.S3_PREFIX):
                loaded = _load_from_s3(path, s3_resource)
            elif path in defaults and not _config_file(path).exists():
                continue
            else:
                loaded = _load_from_file(path)
            if not loaded:
                continue
            validate_sagemaker_config(loaded, path)
            _merge(merged, loaded)
            (logger.info if repeat_log else logger.debug)("Applied SDK defaults from %s", path)
        return merged

    @staticmethod
    def validate_sagemaker_config(
        sagemaker_config: Mapping[str, Any] | None = None, where: str = "the configuration"
    ) -> None:
        validate_sagemaker_config(sagemaker_config, where)

    def load_local_mode_config(self) -> dict[str, Any] | None:
        return load_local_mode_config()

    @staticmethod
    def get_config_value(key_path: str, config: Mapping[str, Any] | None) -> Any:
        """The value at ``key_path`` (``"SageMaker.TrainingJob.RoleArn"``), or None."""
        node: Any = config
        for key in key_path.split("."):
            if not isinstance(node, Mapping) or key not in node:
                return None
            node = node[key]
        return node

    def get_sagemaker_config_value(
        self, sagemaker_session: Any, key: str, sagemaker_config: Mapping[str, Any] | None = None
    ) -> Any:
        """A copy of the value at ``key`` in the session's configuration (else the one given)."""
        config = getattr(sagemaker_session, "sagemaker_config", None) or sagemaker_config
        if not config:
            return None
        return copy.deepcopy(self.get_config_value(key, config))

    def resolve_value_from_config(
        self,
        direct_input: Any = None,
        config_path: str | None = None,
        default_value: Any = None,
        sagemaker_session: Any = None,
        sagemaker_config: Mapping[str, Any] | None = None,
    ) -> Any:
        """``direct_input`` if given, else the configured value, else ``default_value``."""
        if direct_input is not None:
            return direct_input
        configured = (
            self.get_sagemaker_config_value(sagemaker_session, config_path, sagemaker_config)
            if config_path
            else None
        )
        return configured if configured is not None else default_value


def load_sagemaker_config(
    additional_config_paths: list[str] | None = None,
    s3_resource: Any = None,
    repeat_log: bool = False,
) -> dict[str, Any]:
    return SageMakerConfig().load_sagemaker_config(additional_config_paths, s3_resource, repeat_log)


def load_local_mode_config() -> dict[str, Any] | None:
    """``~/.sagemaker/config.yaml`` (the real SDK's local-mode settings), or None."""
    path = Path.home() / ".sagemaker" / CONFIG_FILE_NAME
    return _load_from_file(str(path)) if path.is_file() else None


def validate_sagemaker_config(
    sagemaker_config: Mapping[str, Any] | None = None, where: str = "the configuration"
) -> None:
    """Raise ConfigurationError unless the configuration has the real schema's shape for the
    keys sageyard reads (``SchemaVersion``; the types at the paths above; tags as Key/Value)."""
    if not isinstance(sagemaker_config, Mapping):
        raise ConfigurationError(
            f"{where} is not a SageMaker configuration: expected a mapping with SchemaVersion "
            f"and SageMaker keys, got {type(sagemaker_config).__name__}."
        )
    version = sagemaker_config.get("SchemaVersion")
    if version not in SCHEMA_VERSIONS:
        raise ConfigurationError(
            f"{where} has SchemaVersion {version!r}; write SchemaVersion: '1.0' at its top."
        )
    for path, kind in _TYPES.items():
        value = SageMakerConfig.get_config_value(path, sagemaker_config)
        if value is not None and not isinstance(value, kind):
            expected = kind.__name__ if isinstance(kind, type) else kind
            raise ConfigurationError(f"{where}: {path} must be a {expected}, got {value!r}.")
    for tag in SageMakerConfig.get_config_value(TRAINING_JOB_TAGS_PATH, sagemaker_config) or []:
        if not isinstance(tag, Mapping) or set(tag) != {"Key", "Value"}:
            raise ConfigurationError(
                f"{where}: each of {TRAINING_JOB_TAGS_PATH} must be {{Key: ..., Value: ...}}, "
                f"got {tag!r}."
            )


def _config_file(path: str) -> Path:
    file = Path(path)
    return file / CONFIG_FILE_NAME if file.is_dir() else file


def _load_from_file(path: str) -> dict[str, Any]:
    import yaml

    file = _config_file(path)
    if not file.is_file():
        raise ConfigurationError(
            f"No SageMaker configuration file at {path}: point the setting (for example "
            f"{ENV_VARIABLE_USER_CONFIG_OVERRIDE}) at a config.yaml or a folder that holds one."
        )
    try:
        return yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{file} is not valid YAML: {error}") from None


def _load_from_s3(uri: str, s3_resource: Any) -> dict[str, Any]:
    import yaml

    if s3_resource is None:
        import boto3

        s3_resource = boto3.resource("s3")
    bucket, _, key = uri[len("s3://") :].partition("/")
    errors = []
    for candidate in (key, f"{key.rstrip('/')}/{CONFIG_FILE_NAME}".lstrip("/")):
        try:
            body = s3_resource.Object(bucket, candidate).get()["Body"].read()
        except Exception as error:  # boto3's errors and sageyard's alike
            errors.append(f"{candidate}: {error}")
            continue
        return yaml.safe_load(body.decode("utf-8")) or {}
    raise ConfigurationError(
        f"Could not read the SageMaker configuration at {uri} ({'; '.join(errors)}). Give the "
        "URI of a config.yaml, or of a folder that holds one."
    )


def _merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    """Merge ``other`` into ``into``, mappings key by key (botocore's ``merge_dicts``)."""
    for key, value in other.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)
