"""Configuration shapes for ModelTrainer (``sagemaker.train.configs`` in the reference).

Example:
    >>> from sageyard.train.configs import Compute, SourceCode
    >>> Compute(instance_type="ml.m5.xlarge", instance_count=2).instance_count
    2
"""

from sageyard.core.shapes import (
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
    TrainingJobCompute,
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
    "TrainingJobCompute",
    "TrainingRepositoryAuthConfig",
]
