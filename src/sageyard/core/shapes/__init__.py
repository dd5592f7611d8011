"""API shapes: pydantic models with the reference's snake_case names.

``to_request()`` renders a shape as the SageMaker API spells it (PascalCase).

The shapes listed in ``__all__`` are written by hand, with sageyard's rules. Every other
structure of the SageMaker API (``AlgorithmSpecification``, ``ResourceConfig``,
``HyperParameterTuningJobConfig``, ...) is importable from here too: it is built on first
use from botocore's service model (see ``_api``), so importing this module does not load
that model. ``dir()`` lists both.

Example:
    >>> from sageyard.core.shapes import VpcConfig
    >>> VpcConfig(security_group_ids=["sg-1"], subnets=["subnet-1"]).to_request()
    {'SecurityGroupIds': ['sg-1'], 'Subnets': ['subnet-1']}
"""

from typing import Any

from sageyard.core.shapes._base import (
    Base,
    BaseConfig,
    Shape,
    api_name,
    from_request,
    pascal_case,
    to_request,
)
from sageyard.core.shapes._fields import (
    name_or_base,
    only_known,
    optional_shape,
    request_mapping,
    string_map,
)
from sageyard.core.shapes._training import (
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
    InstancePlacementConfig,
    InstancePreference,
    MetricDefinition,
    Mode,
    ModelAccessConfig,
    ModelPackageConfig,
    Networking,
    OutputDataConfig,
    PlacementSpecification,
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
    check_compute,
)
from sageyard.core.shapes._tuning import (
    BestObjectiveNotImproving,
    ConvergenceDetected,
    HyperbandStrategyConfig,
    HyperParameterTuningInstanceConfig,
    HyperParameterTuningJobStrategyConfig,
    HyperParameterTuningJobWarmStartConfig,
    ParentHyperParameterTuningJob,
    TuningJobCompletionCriteria,
)

__all__ = [
    "Base",
    "BaseConfig",
    "BestObjectiveNotImproving",
    "Channel",
    "CheckpointConfig",
    "Compute",
    "ConvergenceDetected",
    "DataSource",
    "DatasetSource",
    "FileSystemDataSource",
    "HubAccessConfig",
    "HyperParameterTuningInstanceConfig",
    "HyperParameterTuningJobStrategyConfig",
    "HyperParameterTuningJobWarmStartConfig",
    "HyperPodCompute",
    "HyperbandStrategyConfig",
    "InfraCheckConfig",
    "InputData",
    "InstanceGroup",
    "InstancePlacementConfig",
    "InstancePreference",
    "MetricDefinition",
    "Mode",
    "ModelAccessConfig",
    "ModelPackageConfig",
    "Networking",
    "OutputDataConfig",
    "ParentHyperParameterTuningJob",
    "PlacementSpecification",
    "RemoteDebugConfig",
    "RetryStrategy",
    "S3DataSource",
    "SessionChainingConfig",
    "Shape",
    "ShuffleConfig",
    "SourceCode",
    "StoppingCondition",
    "Tag",
    "TensorBoardOutputConfig",
    "TrainingImageConfig",
    "TrainingJobCompute",
    "TrainingRepositoryAuthConfig",
    "TuningJobCompletionCriteria",
    "api_name",
    "check_compute",
    "from_request",
    "name_or_base",
    "only_known",
    "optional_shape",
    "pascal_case",
    "request_mapping",
    "string_map",
    "to_request",
]


def __getattr__(name: str) -> Any:  # Any: type checkers then take the built classes' kwargs
    """Any other structure of the SageMaker API, built on first use."""
    if not name[:1].isupper():  # dunders, private names: never an API shape
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from sageyard.core.shapes import _api

    return _api.shape(name, globals())


def __dir__() -> list[str]:
    """The hand-written names and every structure of the API (this loads the API model)."""
    from sageyard.core.shapes import _api

    return sorted(set(globals()) | _api.names())
