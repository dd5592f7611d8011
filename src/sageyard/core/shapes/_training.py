"""Shapes of a training job's configuration, with the reference's names and defaults.

Every shape refuses unknown fields and re-validates on assignment, so a mistake is reported
where it is made::

    >>> from sageyard.core.shapes import Compute
    >>> Compute(instance_type="ml.m5.xlarge", instance_count=0)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: ... instance_count ...
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from pydantic import Field, field_validator, model_validator

from sageyard.core.enums import BothSpellings
from sageyard.core.exceptions import ConfigurationError
from sageyard.core.shapes._base import Shape, to_request

T = TypeVar("T")

MAX_RUNTIME_IN_SECONDS = 2_419_200  # 28 days, the service limit
RESERVED_CHANNELS = frozenset({"code", "sm_drivers"})
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9-]+\.[a-z0-9-]+$")
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
_TRAINING_PLAN_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:training-plan/.+$")
_DATASET_ARN = re.compile(
    r"^arn:[a-z0-9.-]+:sagemaker:[^:\s]*:[^:\s]*:hub-content/[^/\s]+/DataSet/[^/\s]+(/[^/\s]+)?$"
)


class Mode(BothSpellings):
    """Where ModelTrainer runs a job.

    ``SAGEMAKER_TRAINING_JOB`` (the default) submits to sageyard's job service;
    ``LOCAL_CONTAINER`` runs the job in Docker and needs a running Docker engine. The real
    SDK's string values (``Mode("LOCAL_CONTAINER")``) look the members up too.
    """

    LOCAL_CONTAINER = 1
    SAGEMAKER_TRAINING_JOB = 2


def _check_s3_uri(value: str, field: str) -> str:
    if not _S3_URI.fullmatch(value):
        raise ValueError(
            f"{field} must be an S3 URI like 's3://my-bucket/prefix', but got {value!r}."
        )
    return value


#: SageMaker local mode's instance types: this machine (``local_gpu``: with its GPUs).
LOCAL_INSTANCE_TYPES = ("local", "local_cpu", "local_gpu")


def check_instance_type(value: str) -> str:
    if not _INSTANCE_TYPE.fullmatch(value) and value not in LOCAL_INSTANCE_TYPES:
        raise ValueError(
            f"instance_type must look like 'ml.<family>.<size>' (e.g. 'ml.m5.xlarge'), or be "
            f"one of local mode's {', '.join(LOCAL_INSTANCE_TYPES)}, but got {value!r}."
        )
    return value


def check_channel_folder(name: str) -> str:
    """Channel names become folders under ``input/data``: keep them safe folder names."""
    if not _CHANNEL_NAME.fullmatch(name):
        raise ValueError(
            f"channel_name {name!r} is not a safe folder name: use 1-64 letters, digits, "
            "'.', '-' or '_', starting with a letter or digit (e.g. 'train')."
        )
    return name


def check_channel_name(name: str) -> str:
    """A channel a ModelTrainer user names: a safe folder name, and not one of the channels
    the trainer makes itself (``code``, ``sm_drivers``), as the real SDK refuses."""
    check_channel_folder(name)
    if name in RESERVED_CHANNELS:
        raise ValueError(
            f"channel_name {name!r} is reserved for the job's own use; pick another name "
            "(e.g. 'training')."
        )
    return name


class SourceCode(Shape):
    """The training code: a folder, the script or command to run, and its requirements.

    Example:
        >>> code = SourceCode(source_dir="./code", entry_script="train.py")
        >>> code.entry_script
        'train.py'
    """

    source_dir: str | None = None
    requirements: str | None = None
    entry_script: str | None = None
    command: str | None = None
    args: list[str | int | float] | None = None  # appended after the hyperparameters
    ignore_patterns: list[str] | None = Field(
        default_factory=lambda: [
            ".env",
            ".git",
            "__pycache__",
            ".DS_Store",
            ".cache",
            ".ipynb_checkpoints",
        ]
    )

    @model_validator(mode="after")
    def _one_way_to_run(self) -> SourceCode:
        if self.entry_script and self.command:
            raise ValueError(
                "SourceCode takes entry_script or command, not both: got "
                f"entry_script={self.entry_script!r} and command={self.command!r}. "
                "Keep command to run a shell command, or entry_script to run a script with "
                "the hyperparameters as arguments."
            )
        for name in ("entry_script", "requirements"):
            value = getattr(self, name)
            if value is not None and (value.startswith("/") or ".." in value.split("/")):
                raise ValueError(
                    f"SourceCode.{name} must be a path inside source_dir, but got {value!r}."
                )
        if (self.entry_script or self.requirements) and not self.source_dir:
            raise ValueError(
                "SourceCode.source_dir is required when entry_script or requirements is set: "
                "point it at the folder that holds them (e.g. source_dir='./code')."
            )
        return self


class InstanceGroup(Shape):
    """One group of a heterogeneous cluster."""

    instance_type: str
    instance_count: int = Field(ge=1, le=100)
    instance_group_name: str = Field(min_length=1, max_length=64)

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        return check_instance_type(value)


class PlacementSpecification(Shape):
    """How many of a job's instances go on one UltraServer."""

    instance_count: int = Field(ge=0)
    ultra_server_id: str | None = Field(default=None, max_length=256)


class InstancePlacementConfig(Shape):
    """How a job's instances are placed on UltraServers (recorded: sageyard has none)."""

    enable_multiple_jobs: bool | None = None
    placement_specifications: list[PlacementSpecification] | None = Field(
        default=None, max_length=10
    )


class InstancePreference(Shape):
    """One candidate instance type of ``Compute.instance_preferences``.

    Example:
        >>> InstancePreference(instance_type="ml.g5.xlarge", instance_count=2).instance_count
        2
    """

    instance_type: str
    instance_count: int | None = Field(default=None, ge=1, le=100)
    training_plan_arns: list[str] | None = Field(default=None, min_length=1, max_length=1)

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        return check_instance_type(value)

    @field_validator("training_plan_arns")
    @classmethod
    def _plans(cls, value: list[str] | None) -> list[str] | None:
        for arn in value or []:
            if not _TRAINING_PLAN_ARN.fullmatch(arn):
                raise ValueError(_training_plan_message(arn))
        return value


def _training_plan_message(value: str) -> str:
    return (
        "a training plan ARN looks like 'arn:aws:sagemaker:us-west-2:111122223333:"
        f"training-plan/my-plan', but got {value!r}."
    )


class Compute(Shape):
    """Compute resources of a job.

    Example:
        >>> Compute(instance_type="ml.p3.2xlarge", instance_count=2, volume_size_in_gb=50)
        Compute(instance_type='ml.p3.2xlarge', instance_count=2, volume_size_in_gb=50, ...)

    ``instance_preferences`` (up to 5 candidate types, tried in order) replaces
    ``instance_type``: sageyard always has capacity for the first one, which the job runs
    on. ``selected_instance_type``/``selected_instance_count`` are what DescribeTrainingJob
    reports was chosen: accepted (the real Compute is a ResourceConfig), never sent.
    ``training_plan_arn`` and ``instance_placement_config`` are sent and recorded; sageyard
    has no training plans or UltraServers to act on them.
    """

    instance_type: str | None = None
    instance_count: int | None = Field(default=1, ge=1, le=100)
    volume_size_in_gb: int | None = Field(default=30, ge=1, le=16384)
    volume_kms_key_id: str | None = None
    keep_alive_period_in_seconds: int | None = Field(default=None, ge=0, le=3600)
    instance_groups: list[InstanceGroup] | None = None
    enable_managed_spot_training: bool | None = None
    training_plan_arn: str | None = None
    instance_placement_config: InstancePlacementConfig | None = None
    instance_preferences: list[InstancePreference] | None = Field(
        default=None, min_length=1, max_length=5
    )
    selected_instance_type: str | None = None
    selected_instance_count: int | None = Field(default=None, ge=0)

    @field_validator("instance_type", "selected_instance_type")
    @classmethod
    def _instance_type(cls, value: str | None) -> str | None:
        return None if value is None else check_instance_type(value)

    @field_validator("training_plan_arn")
    @classmethod
    def _plan(cls, value: str | None) -> str | None:
        if value is not None and not _TRAINING_PLAN_ARN.fullmatch(value):
            raise ValueError(_training_plan_message(value))
        return value

    @model_validator(mode="after")
    def _groups_or_type(self) -> Compute:
        if self.instance_groups:
            if self.instance_type is not None:
                raise ValueError(
                    "Compute takes instance_groups or instance_type, not both; "
                    "put the instance type on each InstanceGroup."
                )
            names = [group.instance_group_name for group in self.instance_groups]
            if len(set(names)) != len(names):
                raise ValueError(f"instance_group_name values must be unique, but got {names}.")
        return self

    @model_validator(mode="after")
    def _preferences(self) -> Compute:
        """The real SDK's rules for ``instance_preferences`` (its
        ``validate_instance_preferences``)."""
        preferences = self.instance_preferences
        if not preferences:
            return self
        for field in ("instance_type", "instance_groups", "instance_placement_config"):
            if getattr(self, field) is not None:
                raise ValueError(
                    f"instance_preferences is mutually exclusive with {field}; specify either "
                    "a single fixed cluster or instance_preferences, not both."
                )
        if self.enable_managed_spot_training:
            raise ValueError(
                "instance_preferences is mutually exclusive with managed spot training "
                "(enable_managed_spot_training=True)."
            )
        types = [p.instance_type for p in preferences]
        duplicates = sorted({t for t in types if types.count(t) > 1})
        if duplicates:
            raise ValueError(
                f"instance_preferences must not contain duplicate instance types: {duplicates}."
            )
        counts = [p.instance_count is not None for p in preferences]
        if all(counts) and "instance_count" not in self.model_fields_set:
            self.__dict__["instance_count"] = None  # the default 1 gives way to theirs
        if self.instance_count is not None and any(counts):
            raise ValueError(
                "The top-level instance_count and per-preference instance_count are mutually "
                "exclusive; set the top-level instance_count (applies to whichever preference "
                "wins) or an instance_count on every element of instance_preferences, not both."
            )
        if self.instance_count is None and not all(counts):
            raise ValueError(
                "When the top-level instance_count is not set, every element of "
                "instance_preferences must set its own instance_count."
            )
        if self.training_plan_arn is not None and any(p.training_plan_arns for p in preferences):
            raise ValueError(
                "The top-level (whole-job) training_plan_arn and per-preference "
                "training_plan_arns are mutually exclusive; set one or the other, not both."
            )
        return self

    def preferred_instances(self) -> tuple[str | None, int | None]:
        """(instance type, count) the job runs on: ``instance_type`` and
        ``instance_count``, or, with ``instance_preferences``, the first candidate (a local
        machine never lacks capacity for it).

        Example:
            >>> Compute(instance_preferences=[InstancePreference(instance_type="ml.g5.xlarge",
            ...     instance_count=2)]).preferred_instances()
            ('ml.g5.xlarge', 2)
        """
        if self.instance_preferences:
            first = self.instance_preferences[0]
            return first.instance_type, first.instance_count or self.instance_count
        return self.instance_type, self.instance_count

    def to_resource_config(self) -> dict[str, Any]:
        """The ``ResourceConfig`` of a CreateTrainingJob request (PascalCase, unset fields
        left out): ``enable_managed_spot_training`` is the request's own
        ``EnableManagedSpotTraining``, and the ``selected_*`` fields are the service's answer.

        Example:
            >>> Compute(instance_type="ml.m5.xlarge", training_plan_arn=None).to_resource_config()
            {'InstanceType': 'ml.m5.xlarge', 'InstanceCount': 1, 'VolumeSizeInGB': 30}
        """
        rendered = to_request(
            self.model_copy(
                update={
                    "enable_managed_spot_training": None,
                    "selected_instance_type": None,
                    "selected_instance_count": None,
                }
            )
        )
        assert isinstance(rendered, dict)
        return rendered


class HyperPodCompute(Shape):
    """A SageMaker HyperPod cluster to run on (the real SDK's fine-tuning trainers take it).

    It builds, with the real fields, but sageyard has no HyperPod clusters: a trainer or job
    given one is refused (see :func:`check_compute`).

    Example:
        >>> HyperPodCompute(cluster_name="my-cluster", node_count=2).namespace
        'kubeflow'
    """

    cluster_name: str = ""
    instance_type: str | None = None
    namespace: str = "kubeflow"
    node_count: int = Field(default=1, ge=1)


def check_compute(value: Any, where: str = "compute") -> Any:
    """``value`` as it is, unless it is a :class:`HyperPodCompute`, which sageyard cannot run.

    Raises:
        ConfigurationError: ``value`` is a HyperPodCompute.

    Example:
        >>> check_compute(Compute(instance_type="ml.m5.xlarge")).instance_type
        'ml.m5.xlarge'
    """
    if isinstance(value, HyperPodCompute):
        raise ConfigurationError(
            f"{where}=HyperPodCompute(cluster_name={value.cluster_name!r}) asks for a "
            "SageMaker HyperPod cluster, which sageyard does not have: it runs training jobs. "
            "Pass compute=Compute(instance_type=..., instance_count=...) instead."
        )
    return value


#: The real SDK's other name for :class:`Compute` (``sagemaker.core.training.configs``).
TrainingJobCompute = Compute


class StoppingCondition(Shape):
    """Time limits of a job (seconds)."""

    max_runtime_in_seconds: int | None = Field(default=None, ge=1, le=MAX_RUNTIME_IN_SECONDS)
    max_pending_time_in_seconds: int | None = Field(default=None, ge=1, le=MAX_RUNTIME_IN_SECONDS)
    max_wait_time_in_seconds: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _wait_covers_runtime(self) -> StoppingCondition:
        wait, runtime = self.max_wait_time_in_seconds, self.max_runtime_in_seconds
        # (isinstance: a shape built with model_construct is checked here too, when a
        # trainer takes it, and must fail as a ValueError later rather than a TypeError here)
        if isinstance(wait, int) and isinstance(runtime, int) and wait < runtime:
            raise ValueError(
                "max_wait_time_in_seconds must be >= max_runtime_in_seconds, but got "
                f"max_wait_time_in_seconds={wait} < max_runtime_in_seconds={runtime}."
            )
        return self


class Networking(Shape):
    """Network settings. Locally, ``enable_network_isolation`` runs the job without network."""

    subnets: list[str] | None = None
    security_group_ids: list[str] | None = None
    enable_network_isolation: bool | None = None
    enable_inter_container_traffic_encryption: bool | None = None

    @field_validator("subnets")
    @classmethod
    def _subnets(cls, value: list[str] | None) -> list[str] | None:
        for subnet in value or []:
            if not re.fullmatch(r"subnet-[0-9a-zA-Z]+", subnet):
                raise ValueError(f"subnet ids look like 'subnet-0abc123', but got {subnet!r}.")
        return value

    @field_validator("security_group_ids")
    @classmethod
    def _security_groups(cls, value: list[str] | None) -> list[str] | None:
        for group in value or []:
            if not re.fullmatch(r"sg-[0-9a-zA-Z]+", group):
                raise ValueError(f"security group ids look like 'sg-0abc123', but got {group!r}.")
        return value


class ModelAccessConfig(Shape):
    """Acceptance of a model's end-user license agreement, for the model data of a channel.

    Example:
        >>> ModelAccessConfig(accept_eula=True).to_request()
        {'AcceptEula': True}
    """

    accept_eula: bool


class HubAccessConfig(Shape):
    """The hub content (a model) whose data a channel's S3 URI holds."""

    hub_content_arn: str = Field(min_length=1, max_length=255)


class S3DataSource(Shape):
    """Data under an S3 URI (the embedded store or a real S3-compatible endpoint).

    ``model_access_config`` and ``hub_access_config`` are recorded with the channel.
    """

    s3_uri: str
    s3_data_type: Literal["S3Prefix", "ManifestFile", "AugmentedManifestFile", "Converse"] = (
        "S3Prefix"
    )
    s3_data_distribution_type: Literal["FullyReplicated", "ShardedByS3Key"] | None = (
        "FullyReplicated"
    )
    attribute_names: list[str] | None = None
    instance_group_names: list[str] | None = None
    model_access_config: ModelAccessConfig | None = None
    hub_access_config: HubAccessConfig | None = None

    @field_validator("s3_uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        return _check_s3_uri(value, "s3_uri")


class FileSystemDataSource(Shape):
    """A file system folder. Locally, ``directory_path`` is a folder on this machine."""

    file_system_id: str
    file_system_access_mode: Literal["rw", "ro"]
    file_system_type: Literal["EFS", "FSxLustre"]
    directory_path: str


class DatasetSource(Shape):
    """A dataset registered in the AI registry (``sageyard.ai_registry.DataSet``), by ARN.

    Example:
        >>> arn = "arn:aws:sagemaker:us-west-2:000000000000:hub-content/sageyard/DataSet/d/1"
        >>> DatasetSource(dataset_arn=arn).to_request()["DatasetArn"] == arn
        True
    """

    dataset_arn: str = Field(max_length=2048)

    @field_validator("dataset_arn")
    @classmethod
    def _arn(cls, value: str) -> str:
        if not _DATASET_ARN.fullmatch(value):
            raise ValueError(
                "dataset_arn must be a DataSet ARN like 'arn:aws:sagemaker:us-west-2:"
                f"111122223333:hub-content/sageyard/DataSet/my-data/1', but got {value!r}."
            )
        return value


class DataSource(Shape):
    """Exactly one of an S3, a file-system or a dataset (AI registry) data source."""

    s3_data_source: S3DataSource | None = None
    file_system_data_source: FileSystemDataSource | None = None
    dataset_source: DatasetSource | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> DataSource:
        given = [
            name
            for name in ("s3_data_source", "file_system_data_source", "dataset_source")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "DataSource needs exactly one of s3_data_source, file_system_data_source or "
                f"dataset_source, but got {given or 'none'}."
            )
        return self


class ShuffleConfig(Shape):
    """A channel's files in a seed-determined order (SageMaker: the S3 prefix's objects,
    shuffled anew each epoch in Pipe mode; with ShardedByS3Key, across hosts too).

    Example:
        >>> ShuffleConfig(seed=7).order(["a", "b", "c", "d"]) == ShuffleConfig(seed=7).order(
        ...     ["a", "b", "c", "d"])
        True
    """

    seed: int

    def order(self, items: Sequence[T], epoch: int = 0) -> list[T]:
        """``items`` shuffled by this seed for ``epoch``: the same for the same seed and epoch
        on every machine and run, another order for another epoch."""
        shuffled = list(items)
        random.Random(f"sageyard-shuffle:{self.seed}:{epoch}").shuffle(shuffled)
        return shuffled


class Channel(Shape):
    """A full input channel."""

    channel_name: str
    data_source: DataSource
    content_type: str | None = None
    compression_type: Literal["None", "Gzip"] | None = None
    record_wrapper_type: Literal["None", "RecordIO"] | None = None
    input_mode: Literal["File", "Pipe", "FastFile"] | None = None
    shuffle_config: ShuffleConfig | None = None

    _name = field_validator("channel_name")(classmethod(lambda cls, v: check_channel_name(v)))


class InputData(Shape):
    """A simple input channel: a name and an S3 URI, a local path, an S3DataSource, a
    FileSystemDataSource, a DatasetSource or a DataSource.

    Example:
        >>> InputData(channel_name="train", data_source="./data/train", content_type="text/csv")
        InputData(channel_name='train', data_source='./data/train', content_type='text/csv')
    """

    channel_name: str
    data_source: str | S3DataSource | FileSystemDataSource | DatasetSource | DataSource
    content_type: str | None = None

    _name = field_validator("channel_name")(classmethod(lambda cls, v: check_channel_name(v)))

    @field_validator("data_source")
    @classmethod
    def _source(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("data_source must be an S3 URI or a local path, but got ''.")
            if value.startswith("s3://"):
                _check_s3_uri(value, "data_source")
        return value


class OutputDataConfig(Shape):
    """Where a job's model and output archives go."""

    s3_output_path: str | None = None
    kms_key_id: str | None = None
    compression_type: Literal["None", "Gzip", "NONE", "GZIP"] | None = None

    @field_validator("s3_output_path")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        return None if value is None else _check_s3_uri(value, "s3_output_path")


class CheckpointConfig(Shape):
    """Checkpoints restored from ``s3_uri`` before the script starts and uploaded after.

    Without ``s3_uri`` (as the real SDK allows), ModelTrainer picks
    ``s3://<default bucket>/<base job name>/checkpoints``.
    """

    s3_uri: str | None = None
    local_path: str | None = "/opt/ml/checkpoints"

    @field_validator("s3_uri")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        return None if value is None else _check_s3_uri(value, "s3_uri")

    @field_validator("local_path")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError(f"local_path must be an absolute path, but got {value!r}.")
        return value


class TensorBoardOutputConfig(Shape):
    """TensorBoard event files uploaded from ``local_path`` to ``s3_output_path``.

    Without ``s3_output_path``, ModelTrainer picks ``s3://<default bucket>/<base job name>``.
    """

    s3_output_path: str | None = None
    local_path: str | None = "/opt/ml/output/tensorboard"

    @field_validator("s3_output_path")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        return None if value is None else _check_s3_uri(value, "s3_output_path")

    @field_validator("local_path")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError(f"local_path must be an absolute path, but got {value!r}.")
        return value


class TrainingRepositoryAuthConfig(Shape):
    training_repository_credentials_provider_arn: str


class TrainingImageConfig(Shape):
    """How the training image is pulled (recorded; locally images are not pulled)."""

    training_repository_access_mode: Literal["Platform", "Vpc"]
    training_repository_auth_config: TrainingRepositoryAuthConfig | None = None


class RetryStrategy(Shape):
    """Retries after infrastructure failures (not after errors in the script)."""

    maximum_retry_attempts: int = Field(ge=1, le=10)


class InfraCheckConfig(Shape):
    """Check the host (disk, GPUs, job root) before the script starts."""

    enable_infra_check: bool


class RemoteDebugConfig(Shape):
    enable_remote_debug: bool


class SessionChainingConfig(Shape):
    enable_session_tag_chaining: bool


class MetricDefinition(Shape):
    """A metric read from the job's log lines: the regex's one capture group is the value.

    Example:
        >>> MetricDefinition(name="train:loss", regex="Train Loss: ([0-9\\\\.]+)")
        MetricDefinition(name='train:loss', regex='Train Loss: ([0-9\\\\.]+)')
    """

    name: str = Field(min_length=1, max_length=255)
    regex: str = Field(min_length=1, max_length=500)

    @field_validator("regex")
    @classmethod
    def _one_group(cls, value: str) -> str:
        try:
            groups = re.compile(value).groups
        except re.error as error:
            raise ValueError(f"regex {value!r} does not compile: {error}.") from None
        if groups != 1:
            raise ValueError(
                f"regex must contain exactly one capture group, but {value!r} has {groups}; "
                "e.g. 'Train Loss: ([0-9\\.]+)' (use (?:...) for groups that capture nothing)."
            )
        return value


class ModelPackageConfig(Shape):
    """Where a training job's model is registered when it completes
    (``model_package_group_arn``: the group's ARN or name), and the model package it starts
    from (``source_model_package_arn``, recorded as the new version's base model)."""

    model_package_group_arn: str = Field(min_length=1)
    source_model_package_arn: str | None = None


class Tag(Shape):
    """A key/value tag; the API's ``{"Key": ..., "Value": ...}`` dict works too (every
    shape takes its PascalCase spelling).

    Example:
        >>> Tag.model_validate({"Key": "team", "Value": "ml"})
        Tag(key='team', value='ml')
    """

    key: str = Field(min_length=1, max_length=128)
    value: str = Field(default="", max_length=256)
