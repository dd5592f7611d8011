"""The validated, resolved request of a training job: what the supervisor executes.

``jobs/request.py`` builds a :class:`TrainingJobSpec` from a CreateTrainingJob request; the
service stores it in the job's document; the supervisor reads it back. ``request`` keeps the
CreateTrainingJob rendering (defaults filled in) that ``describe()`` returns.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sageyard.core.shapes import (
    CheckpointConfig,
    MetricDefinition,
    StoppingCondition,
    TensorBoardOutputConfig,
)
from sageyard.models.registry import ModelPackageRegistration


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelSpec(_Spec):
    """One input channel, resolved to an ``s3://`` URI or an absolute local path."""

    name: str
    source: str
    content_type: str | None = None
    compression_type: Literal["None", "Gzip"] | None = None
    input_mode: Literal["File", "Pipe", "FastFile"] = "File"
    distribution: Literal["FullyReplicated", "ShardedByS3Key"] = "FullyReplicated"
    record_wrapper_type: Literal["None", "RecordIO"] = "None"
    instance_group_names: list[str] | None = None


class HostGroupSpec(_Spec):
    name: str
    instance_type: str
    count: int


class TrainingJobSpec(_Spec):
    training_job_name: str
    role_arn: str
    training_image: str | None = None
    algorithm_name: str | None = None
    builtin_program: str | None = None  # module in sageyard.programs for built-in algorithms
    code_uri: str | None = None  # snapshot of SourceCode.source_dir in the object store
    entry_script: str | None = None
    command: str | None = None
    arguments: list[str] = Field(default_factory=list)  # SourceCode.args, after the hps
    requirements: str | None = None
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    environment: dict[str, str] = Field(default_factory=dict)
    channels: list[ChannelSpec] = Field(default_factory=list)
    host_groups: list[HostGroupSpec]
    volume_size_in_gb: int = 30
    keep_alive_seconds: int = 0  # ResourceConfig.KeepAlivePeriodInSeconds: a warm pool
    output_path: str
    compression_type: Literal["None", "Gzip"] = "Gzip"
    checkpoint: CheckpointConfig | None = None
    tensorboard: TensorBoardOutputConfig | None = None
    stopping_condition: StoppingCondition
    maximum_retry_attempts: int = 0
    metric_definitions: list[MetricDefinition] = Field(default_factory=list)
    network_isolation: bool = False
    infra_check: bool = False
    enable_spot: bool = False
    distributed: dict[str, Any] | None = None
    executor: str = "local"  # a name of sageyard.executors.EXECUTORS ("container": Docker)
    warnings: list[str] = Field(default_factory=list)  # shown in describe and the first log
    model_package_registration: ModelPackageRegistration | None = None
    request: dict[str, Any] = Field(default_factory=dict)

    @property
    def hosts(self) -> list[tuple[str, HostGroupSpec]]:
        """``[("algo-1", group), …]`` in rank order."""
        names: list[tuple[str, HostGroupSpec]] = []
        for group in self.host_groups:
            for _ in range(group.count):
                names.append((f"algo-{len(names) + 1}", group))
        return names

    @property
    def host_count(self) -> int:
        return sum(group.count for group in self.host_groups)
