"""Configuration shapes for ModelTrainer (``sagemaker.train.configs`` in the reference).

Every name of the real module is here. ``BaseConfig`` is :class:`~sageyard.core.shapes.Shape`
(every config is one); ``HyperPodCompute`` builds, but sageyard has no HyperPod clusters, so
a trainer given one refuses it.

Example:
    >>> from sageyard.train.configs import Compute, SourceCode
    >>> Compute(instance_type="ml.m5.xlarge", instance_count=2).instance_count
    2
"""

from sageyard.core.shapes import (
    BaseConfig,
    Channel,
    CheckpointConfig,
    Compute,
    DatasetSource,
    DataSource,
    FileSystemDataSource,
    HubAccessConfig,
    HyperPodCompute,
    InfraCheckConfig,
    InputData,
    InstanceGroup,
    MetricDefinition,
    Mode,
    ModelAccessConfig,
    Networking,
    OutputDataConfig,
    RemoteDebugConfig,
    RetryStrategy,
    S3DataSource,
    SessionChainingConfig,
    ShuffleConfig,
    SourceCode,
    StoppingCondition,
    Tag,
    TensorBoardOutputConfig,
    TrainingImageConfig,
    TrainingJobCompute,
    TrainingRepositoryAuthConfig,
)

__all__ = [
    "BaseConfig",
    "Channel",
    "CheckpointConfig",
    "Compute",
    "DataSource",
    "DatasetSource",
    "FileSystemDataSource",
    "HubAccessConfig",
    "HyperPodCompute",
    "InfraCheckConfig",
    "InputData",
    "InstanceGroup",
    "MetricDefinition",
    "Mode",
    "ModelAccessConfig",
    "Networking",
    "OutputDataConfig",
    "RemoteDebugConfig",
    "RetryStrategy",
    "S3DataSource",
    "SessionChainingConfig",
    "ShuffleConfig",
    "SourceCode",
    "StoppingCondition",
    "Tag",
    "TensorBoardOutputConfig",
    "TrainingImageConfig",
    "TrainingJobCompute",
    "TrainingRepositoryAuthConfig",
]
