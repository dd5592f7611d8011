"""From a ModelTrainer to a validated TrainingJobSpec, checking everything before any write.

Every rule that can be checked on this side is checked here, so a bad request fails with a
ValueError (or the reference's ClientError) and leaves nothing behind.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.core.exceptions import ConfigurationError, ResourceLimitExceeded
from sageyard.core.session import Session, get_execution_role
from sageyard.core.shapes import (
    Channel,
    DataSource,
    FileSystemDataSource,
    InputData,
    MetricDefinition,
    Mode,
    S3DataSource,
    StoppingCondition,
    to_request,
)
from sageyard.jobs.capacity import gpus_for_instance_type, machine_gpus
from sageyard.jobs.spec import ChannelSpec, HostGroupSpec, TrainingJobSpec
from sageyard.programs import (
    ALGORITHMS,
    algorithm_spec,
    builtin_algorithm_for_image,
    image_repository,
)
from sageyard.runtime.environment import serialize_hyperparameters
from sageyard.storage import is_s3_uri, parse_s3_uri

if TYPE_CHECKING:
    from sageyard.train.model_trainer import ModelTrainer

DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
DEFAULT_MAX_RUNTIME = 86400
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9-]+")


@dataclass(frozen=True)
class Plan:
    spec: TrainingJobSpec
    base_name: str
    source_dir: Path | None
    ignore_patterns: list[str] | None


def base_job_name(trainer: ModelTrainer) -> str:
    if trainer.base_job_name:
        base = trainer.base_job_name
    elif trainer.algorithm_name:
        base = f"{trainer.algorithm_name}-job"
    else:
        base = f"{image_repository(trainer.training_image or 'training')}-job"
    return _NAME_CHARS.sub("-", base).strip("-")[:40] or "training-job"


def load_hyperparameters(value: dict[str, Any] | str | None) -> dict[str, Any]:
    """A dict as it is, or the JSON/YAML file a string names."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigurationError(
            f"hyperparameters={value!r} is neither a dict nor an existing JSON/YAML file."
        )
    text = path.read_text()
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            loaded = yaml.safe_load(text)
        else:
            loaded = json.loads(text)
    except Exception as error:
        raise ConfigurationError(f"Could not read hyperparameters from {path}: {error}") from None
    if not isinstance(loaded, dict):
        raise ConfigurationError(
            f"The hyperparameters file {path} must hold a mapping of names to values, "
            f"but holds a {type(loaded).__name__}."
        )
    return loaded


def _channels(trainer: ModelTrainer, session: Session) -> list[ChannelSpec]:
    channels: list[ChannelSpec] = []
    mode = trainer.training_input_mode or "File"
    for item in trainer.input_data_config or []:
        if isinstance(item, InputData):
            source = item.data_source
            kwargs: dict[str, Any] = {"content_type": item.content_type, "input_mode": mode}
            if isinstance(source, str):
                uri = source
            elif isinstance(source, DataSource):
                uri, extra = _data_source(source)
                kwargs.update(extra)
            else:
                uri, extra = _data_source_leaf(source)
                kwargs.update(extra)
            channels.append(
                ChannelSpec(
                    name=item.channel_name,
                    source=_resolve(uri, item),
                    **{k: v for k, v in kwargs.items() if v is not None},
                )
            )
        else:
            assert isinstance(item, Channel)
            uri, extra = _data_source(item.data_source)
            channels.append(
                ChannelSpec(
                    name=item.channel_name,
                    source=_resolve(uri, item),
                    content_type=item.content_type,
                    compression_type=item.compression_type,
                    input_mode=item.input_mode or mode,
                    record_wrapper_type=item.record_wrapper_type or "None",
                    **extra,
                )
            )
    names = [c.name for c in channels]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(
            f"Channel names must be unique, but {duplicates} appear more than once."
        )
    variables: dict[str, str] = {}
    for name in names:  # SM_CHANNEL_<NAME> must not collide either
        variable = name.upper().replace("-", "_").replace(".", "_")
        if variable in variables:
            raise ConfigurationError(
                f"Channels {variables[variable]!r} and {name!r} would both be SM_CHANNEL_"
                f"{variable}; rename one of them."
            )
        variables[variable] = name
    for channel in channels:
        _check_source_exists(channel, session)
    return channels


def _data_source(source: DataSource) -> tuple[str, dict[str, Any]]:
    leaf = source.s3_data_source or source.file_system_data_source
    assert leaf is not None  # DataSource validates that one is set
    return _data_source_leaf(leaf)


def _data_source_leaf(leaf: S3DataSource | FileSystemDataSource) -> tuple[str, dict[str, Any]]:
    if isinstance(leaf, S3DataSource):
        if leaf.s3_data_type != "S3Prefix":
            raise ConfigurationError(
                f"s3_data_type={leaf.s3_data_type!r} is not supported yet; use 'S3Prefix'."
            )
        extra: dict[str, Any] = {
            "distribution": leaf.s3_data_distribution_type or "FullyReplicated",
            "instance_group_names": leaf.instance_group_names,
        }
        return leaf.s3_uri, {k: v for k, v in extra.items() if v is not None}
    return leaf.directory_path, {}


def _resolve(uri: str, item: Channel | InputData) -> str:
    if is_s3_uri(uri):
        return uri
    path = Path(uri).expanduser()
    if not path.exists():
        raise ConfigurationError(
            f"Channel {item.channel_name!r}: the local path {uri!r} does not exist. Give an "
            "existing file or folder, or an s3:// URI."
        )
    return str(path.resolve())


def _check_source_exists(channel: ChannelSpec, session: Session) -> None:
    if not is_s3_uri(channel.source):
        return
    bucket, key = parse_s3_uri(channel.source)
    if not session.objects.list(channel.source):
        raise ConfigurationError(
            f"Channel {channel.name!r}: no data under {channel.source}. Upload it first, "
            f"e.g. Session().upload_data('data/', bucket={bucket!r}, key_prefix={key!r})."
        )


def _source(trainer: ModelTrainer) -> tuple[Path | None, str | None]:
    """The local code folder to snapshot, or an s3:// URI that is the snapshot already."""
    code = trainer.source_code
    if code is None or code.source_dir is None:
        return None, None
    if is_s3_uri(code.source_dir):
        return None, code.source_dir.rstrip("/")
    folder = Path(code.source_dir).expanduser().resolve()
    if not folder.is_dir():
        raise ConfigurationError(
            f"SourceCode.source_dir {code.source_dir!r} is not a folder. Point it at the "
            "folder that holds your training script."
        )
    for field in ("entry_script", "requirements"):
        name = getattr(code, field)
        if name and not (folder / name).is_file():
            raise ConfigurationError(
                f"SourceCode.{field} {name!r} is not in source_dir {str(folder)!r}."
            )
    return folder, None


def _program(trainer: ModelTrainer) -> tuple[str | None, str]:
    """(built-in program module or None, how the job's algorithm is named)."""
    algorithm = trainer.algorithm_name
    if algorithm is None and trainer.training_image:
        algorithm = builtin_algorithm_for_image(trainer.training_image)
        if algorithm is None:
            return None, trainer.training_image
    assert algorithm is not None
    key = algorithm.lower()
    if key not in ALGORITHMS:
        raise ConfigurationError(
            f"algorithm_name {algorithm!r} is not a built-in algorithm sageyard knows; known: "
            f"{', '.join(sorted(ALGORITHMS))}. To run your own code, pass "
            "training_image=... and source_code=... instead."
        )
    if algorithm_spec(key) is None:
        raise ConfigurationError(
            f"The built-in algorithm {algorithm!r} is not shipped in this version of sageyard "
            "yet; run your own script with training_image=... and source_code=... meanwhile."
        )
    return ALGORITHMS[key], key


def _with_algorithm_metrics(
    program: str | None, algorithm: str, trainer: ModelTrainer
) -> list[MetricDefinition]:
    """A built-in algorithm's metric definitions, then the user's (which win on a name)."""
    own = list(trainer._metric_definitions or [])
    spec = algorithm_spec(algorithm) if program is not None else None
    if spec is None:
        return own
    names = {definition.name for definition in own}
    return [d for d in spec.METRIC_DEFINITIONS if d.name not in names] + own


def _stopping(trainer: ModelTrainer) -> StoppingCondition:
    stopping = trainer.stopping_condition or StoppingCondition()
    if stopping.max_runtime_in_seconds is None:
        stopping = stopping.model_copy(update={"max_runtime_in_seconds": DEFAULT_MAX_RUNTIME})
    spot = bool(trainer.compute and trainer.compute.enable_managed_spot_training)
    wait = stopping.max_wait_time_in_seconds
    if spot and wait is None:
        raise ConfigurationError(
            "Managed spot training needs StoppingCondition.max_wait_time_in_seconds "
            f"(>= max_runtime_in_seconds, here {stopping.max_runtime_in_seconds})."
        )
    if spot and wait is not None and wait < (stopping.max_runtime_in_seconds or 0):
        raise ConfigurationError(
            f"max_wait_time_in_seconds ({wait}) must be >= max_runtime_in_seconds "
            f"({stopping.max_runtime_in_seconds}) for managed spot training."
        )
    if not spot and wait is not None:
        raise ConfigurationError(
            "max_wait_time_in_seconds is only for managed spot training: set "
            "Compute(enable_managed_spot_training=True) or leave it out."
        )
    return stopping


def _host_groups(trainer: ModelTrainer, session: Session) -> list[HostGroupSpec]:
    compute = trainer.compute
    if compute is not None and compute.instance_groups:
        groups = [
            HostGroupSpec(
                name=g.instance_group_name, instance_type=g.instance_type, count=g.instance_count
            )
            for g in compute.instance_groups
        ]
    else:
        groups = [
            HostGroupSpec(
                name="homogeneousCluster",
                instance_type=(compute.instance_type if compute else None) or DEFAULT_INSTANCE_TYPE,
                count=(compute.instance_count if compute else None) or 1,
            )
        ]
    settings = session.settings
    hosts = sum(g.count for g in groups)
    if hosts > settings.instance_quota:
        raise ResourceLimitExceeded(
            f"The job asks for {hosts} instances but the local quota is "
            f"{settings.instance_quota} per job (SAGEYARD_INSTANCE_QUOTA); ask for fewer "
            "instances or raise the quota.",
        )
    if settings.strict_gpu:
        wanted = sum(gpus_for_instance_type(g.instance_type) * g.count for g in groups)
        have = len(machine_gpus())
        if wanted > have:
            raise ResourceLimitExceeded(
                f"The job needs {wanted} GPU(s) ({groups[0].instance_type}) but this machine "
                f"has {have}, and SAGEYARD_STRICT_GPU is set; unset it to run on the CPU."
            )
    return groups


def _check_program_hyperparameters(
    program: str | None, algorithm: str, hyperparameters: dict[str, str]
) -> None:
    """A program whose spec can check its hyperparameters (the fine-tuning programs) fails
    here, before the job exists, rather than in the job."""
    spec = algorithm_spec(algorithm) if program is not None else None
    check = getattr(spec, "check_hyperparameters", None)
    if check is not None:
        check(hyperparameters)


def plan(trainer: ModelTrainer, session: Session) -> Plan:
    """Validate the trainer's whole configuration and build the job's spec (no writes)."""
    container = trainer.training_mode == Mode.LOCAL_CONTAINER
    if container:
        from sageyard.executors.container import require_docker

        require_docker()
        if trainer.training_image is None:
            raise ConfigurationError(
                "Mode.LOCAL_CONTAINER runs training_image in Docker; pass training_image=..."
            )
    if trainer.distributed is not None:
        raise ConfigurationError(
            "distributed=Torchrun/MPI is not supported by this version of sageyard yet; "
            "leave it out to run one process per host."
        )
    program, algorithm = (None, trainer.training_image or "") if container else _program(trainer)
    code = trainer.source_code
    runs_code = code is not None and bool(code.entry_script or code.command)
    if program is None and not container and not runs_code:
        raise ConfigurationError(
            f"training_image {trainer.training_image!r} is not a built-in algorithm image, so "
            "sageyard runs your code: pass source_code=SourceCode(source_dir=..., "
            "entry_script='train.py') (or command=...)."
        )
    source_dir, code_uri = _source(trainer)
    hyperparameters = serialize_hyperparameters(load_hyperparameters(trainer.hyperparameters))
    _check_program_hyperparameters(program, algorithm, hyperparameters)
    stopping = _stopping(trainer)
    groups = _host_groups(trainer, session)
    channels = _channels(trainer, session)
    role = trainer.role or get_execution_role(session, use_default=True)
    base = base_job_name(trainer)
    bucket = session.default_bucket()
    output = trainer.output_data_config
    output_path = (
        output.s3_output_path if output and output.s3_output_path else f"s3://{bucket}/{base}"
    )
    compression = "None" if output and (output.compression_type or "").lower() == "none" else "Gzip"
    metric_definitions = _with_algorithm_metrics(program, algorithm, trainer)
    retry = trainer._retry_strategy
    networking = trainer.networking
    compute = trainer.compute
    request: dict[str, Any] = {
        "AlgorithmSpecification": {
            k: v
            for k, v in {
                "TrainingImage": trainer.training_image,
                "AlgorithmName": trainer.algorithm_name,
                "TrainingInputMode": trainer.training_input_mode or "File",
                "MetricDefinitions": [to_request(m) for m in metric_definitions] or None,
                "EnableSageMakerMetricsTimeSeries": True,
            }.items()
            if v is not None
        },
        "RoleArn": role,
        "InputDataConfig": [to_request(c) for c in trainer.input_data_config or []],
        "OutputDataConfig": {"S3OutputPath": output_path, "CompressionType": compression.upper()},
        "ResourceConfig": {
            "InstanceType": groups[0].instance_type if len(groups) == 1 else None,
            "InstanceCount": sum(g.count for g in groups),
            "VolumeSizeInGB": (compute.volume_size_in_gb if compute else None) or 30,
            "KeepAlivePeriodInSeconds": compute.keep_alive_period_in_seconds if compute else None,
            "InstanceGroups": [to_request(g) for g in compute.instance_groups]
            if compute and compute.instance_groups
            else None,
        },
        "StoppingCondition": to_request(stopping),
        "EnableNetworkIsolation": bool(networking and networking.enable_network_isolation),
        "EnableInterContainerTrafficEncryption": bool(
            networking and networking.enable_inter_container_traffic_encryption
        ),
        "EnableManagedSpotTraining": bool(compute and compute.enable_managed_spot_training),
        "Environment": dict(trainer.environment or {}),
    }
    request["ResourceConfig"] = {
        k: v for k, v in request["ResourceConfig"].items() if v is not None
    }
    optional = {
        "VpcConfig": {
            "Subnets": networking.subnets or [],
            "SecurityGroupIds": networking.security_group_ids or [],
        }
        if networking and (networking.subnets or networking.security_group_ids)
        else None,
        "CheckpointConfig": to_request(trainer.checkpoint_config)
        if trainer.checkpoint_config
        else None,
        "TensorBoardOutputConfig": to_request(trainer._tensorboard_output_config)
        if trainer._tensorboard_output_config
        else None,
        "RetryStrategy": to_request(retry) if retry else None,
        "InfraCheckConfig": to_request(trainer._infra_check_config)
        if trainer._infra_check_config
        else None,
        "RemoteDebugConfig": to_request(trainer._remote_debug_config)
        if trainer._remote_debug_config
        else None,
        "SessionChainingConfig": to_request(trainer._session_chaining_config)
        if trainer._session_chaining_config
        else None,
        "TrainingImageConfig": to_request(trainer.training_image_config)
        if trainer.training_image_config
        else None,
        "Tags": [to_request(t) for t in trainer.tags] if trainer.tags else None,
    }
    request.update({k: v for k, v in optional.items() if v is not None})
    spec = TrainingJobSpec(
        training_job_name=base,
        role_arn=role,
        training_image=trainer.training_image,
        algorithm_name=algorithm if trainer.algorithm_name else None,
        builtin_program=program,
        code_uri=code_uri,  # a local source_dir gets its snapshot URI from the service
        entry_script=code.entry_script if code else None,
        command=code.command if code else None,
        requirements=code.requirements if code else None,
        hyperparameters=hyperparameters,
        environment=dict(trainer.environment or {}),
        channels=channels,
        host_groups=groups,
        volume_size_in_gb=(compute.volume_size_in_gb if compute else None) or 30,
        output_path=output_path,
        compression_type=compression,
        checkpoint=trainer.checkpoint_config,
        tensorboard=trainer._tensorboard_output_config,
        stopping_condition=stopping,
        maximum_retry_attempts=retry.maximum_retry_attempts if retry else 0,
        metric_definitions=metric_definitions,
        network_isolation=bool(networking and networking.enable_network_isolation),
        infra_check=bool(
            trainer._infra_check_config and trainer._infra_check_config.enable_infra_check
        ),
        enable_spot=bool(compute and compute.enable_managed_spot_training),
        executor="container" if container else "local",
        request=request,
    )
    return Plan(
        spec=spec,
        base_name=base,
        source_dir=source_dir,
        ignore_patterns=code.ignore_patterns if code else None,
    )
