"""``sagemaker.core.training.configs``: the real SDK's canonical config module (what
``sagemaker.train.configs`` re-exports). The same classes as :mod:`sageyard.train.configs`.

Example:
    >>> from sageyard.core.training.configs import Compute, InputData, SourceCode
    >>> Compute(instance_type="ml.m5.xlarge").volume_size_in_gb
    30
"""

from sageyard.train.configs import (
    Channel,
    CheckpointConfig,
    Compute,
    DataSource,
    FileSystemDataSource,
    InfraCheckConfig,
    InputData,
    InstanceGroup,
    MetricDefinition,
    Mode,
    Networking,
    OutputDataConfig,
    RemoteDebugConfig,
    RetryStrategy,
    S3DataSource,
    SessionChainingConfig,
    SourceCode,
    StoppingCondition,
    Tag,
    TensorBoardOutputConfig,
    TrainingImageConfig,
    TrainingRepositoryAuthConfig,
)

__all__ = [
    "Channel",
    "CheckpointConfig",
    "Compute",
    "DataSource",
    "FileSystemDataSource",
    "InfraCheckConfig",
    "InputData",
    "InstanceGroup",
    "MetricDefinition",
    "Mode",
    "Networking",
    "OutputDataConfig",
    "RemoteDebugConfig",
    "RetryStrategy",
    "S3DataSource",
    "SessionChainingConfig",
    "SourceCode",
    "StoppingCondition",
    "Tag",
    "TensorBoardOutputConfig",
    "TrainingImageConfig",
    "TrainingRepositoryAuthConfig",
]
