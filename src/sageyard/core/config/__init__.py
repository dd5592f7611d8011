"""The real SDK's configuration file (``sagemaker.core.config``): defaults an administrator
or user writes once in ``config.yaml`` and every Session and ModelTrainer picks up.

Where the files are read from, in order (later files win, key by key):

1. ``SAGEMAKER_ADMIN_CONFIG_OVERRIDE``, else ``$XDG_CONFIG_DIRS``' first folder (``/etc/xdg``)
   ``/sagemaker/config.yaml``;
2. ``SAGEMAKER_USER_CONFIG_OVERRIDE``, else ``$XDG_CONFIG_HOME`` (``~/.config``)
   ``/sagemaker/config.yaml``;
3. any ``additional_config_paths``.

A path may name a folder holding ``config.yaml``. A missing default file is skipped; a missing
file named by a variable or an argument, or a file that is not a valid configuration, raises
:class:`~sageyard.core.exceptions.ConfigurationError` naming the file.

Example:
    >>> from sageyard.core.config import load_sagemaker_config
    >>> config = load_sagemaker_config()  # doctest: +SKIP
    >>> config["SageMaker"]["PythonSDK"]["Modules"]["Session"]["DefaultS3Bucket"]  # doctest: +SKIP
    'my-bucket'
"""

from sageyard.core.config.config_manager import (
    ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE,
    ENV_VARIABLE_USER_CONFIG_OVERRIDE,
    MODEL_TRAINER_PATH,
    SESSION_DEFAULT_S3_BUCKET_PATH,
    SESSION_DEFAULT_S3_OBJECT_KEY_PREFIX_PATH,
    TRAINING_JOB_ENABLE_NETWORK_ISOLATION_PATH,
    TRAINING_JOB_ENVIRONMENT_PATH,
    TRAINING_JOB_OUTPUT_DATA_CONFIG_PATH,
    TRAINING_JOB_RESOURCE_CONFIG_PATH,
    TRAINING_JOB_ROLE_ARN_PATH,
    TRAINING_JOB_SECURITY_GROUP_IDS_PATH,
    TRAINING_JOB_SUBNETS_PATH,
    TRAINING_JOB_TAGS_PATH,
    TRAINING_JOB_VPC_CONFIG_PATH,
    SageMakerConfig,
    load_local_mode_config,
    load_sagemaker_config,
    validate_sagemaker_config,
)

__all__ = [
    "ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE",
    "ENV_VARIABLE_USER_CONFIG_OVERRIDE",
    "MODEL_TRAINER_PATH",
    "SESSION_DEFAULT_S3_BUCKET_PATH",
    "SESSION_DEFAULT_S3_OBJECT_KEY_PREFIX_PATH",
    "TRAINING_JOB_ENABLE_NETWORK_ISOLATION_PATH",
    "TRAINING_JOB_ENVIRONMENT_PATH",
    "TRAINING_JOB_OUTPUT_DATA_CONFIG_PATH",
    "TRAINING_JOB_RESOURCE_CONFIG_PATH",
    "TRAINING_JOB_ROLE_ARN_PATH",
    "TRAINING_JOB_SECURITY_GROUP_IDS_PATH",
    "TRAINING_JOB_SUBNETS_PATH",
    "TRAINING_JOB_TAGS_PATH",
    "TRAINING_JOB_VPC_CONFIG_PATH",
    "SageMakerConfig",
    "load_local_mode_config",
    "load_sagemaker_config",
    "validate_sagemaker_config",
]
