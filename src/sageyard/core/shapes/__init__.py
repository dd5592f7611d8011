"""API shapes: pydantic models with the reference's snake_case names.

``to_request()`` renders a shape as the SageMaker API spells it (PascalCase).
"""

from sageyard.core.shapes._base import Shape, pascal_case, to_request
from sageyard.core.shapes._training import (
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
    "Shape",
    "SourceCode",
    "StoppingCondition",
    "Tag",
    "TensorBoardOutputConfig",
    "TrainingImageConfig",
    "TrainingRepositoryAuthConfig",
    "pascal_case",
    "to_request",
]
