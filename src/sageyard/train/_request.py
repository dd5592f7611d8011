"""From a ModelTrainer to a CreateTrainingJob request (the facade's half of ``train()``).

The request is what the SageMaker API takes, plus sageyard's ``"Sageyard"`` key (see
``sageyard.jobs.request``, which checks every rule before anything is written). Here only
the facade's own work is done: the reference's defaults (role, output path, job name),
hyperparameters read from a file and serialised, local paths made absolute.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.session import Session, get_execution_role
from sageyard.core.shapes import (
    Channel,
    DatasetSource,
    DataSource,
    InputData,
    Mode,
    S3DataSource,
    SourceCode,
    StoppingCondition,
    to_request,
)
from sageyard.core.shapes._training import check_channel_name
from sageyard.jobs.resource import TrainingJob
from sageyard.programs import image_repository
from sageyard.runtime.environment import serialize_hyperparameters
from sageyard.storage import is_s3_uri
from sageyard.train.client import client_for

if TYPE_CHECKING:
    from sageyard.train.model_trainer import ModelTrainer

_NAME_CHARS = re.compile(r"[^a-zA-Z0-9-]+")


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


def _hyperparameters(trainer: ModelTrainer) -> dict[str, Any]:
    """The trainer's hyperparameters and, for ``Torchrun(smp=SMP(...))``, ``mp_parameters``:
    the SMP settings as JSON, as the real SDK adds them (the job's ``SM_HP_MP_PARAMETERS``,
    which ``torch.sagemaker`` reads)."""
    hyperparameters = load_hyperparameters(trainer.hyperparameters)
    smp = getattr(trainer.distributed, "smp", None)
    if smp is not None:
        hyperparameters = {**hyperparameters, **smp._to_mp_hyperparameters()}
    return hyperparameters


def create_training_job(session: Session, request: dict[str, Any]) -> TrainingJob:
    """Create the job of ``request`` through the session's client; its resource, refreshed."""
    client = client_for(session)
    response = client.create_training_job(request)
    return TrainingJob(response["TrainingJobName"], client.training_jobs).refresh()


def training_job_request(trainer: ModelTrainer, session: Session) -> dict[str, Any]:
    """The CreateTrainingJob request for ``trainer`` (no I/O beyond reading local files)."""
    code = trainer.source_code
    base = base_job_name(trainer)
    output = trainer.output_data_config
    output_path = (
        output.s3_output_path
        if output and output.s3_output_path
        else f"s3://{session.default_bucket()}/{base}"
    )
    compression = "NONE" if output and (output.compression_type or "").lower() == "none" else "GZIP"
    compute = trainer.compute
    networking = trainer.networking
    retry = trainer._retry_strategy
    algorithm = {
        "TrainingImage": trainer.training_image,
        "AlgorithmName": trainer.algorithm_name,
        "TrainingInputMode": trainer.training_input_mode or "File",
        "MetricDefinitions": [to_request(m) for m in trainer._metric_definitions or []] or None,
        "EnableSageMakerMetricsTimeSeries": True,
    }
    resources = compute.to_resource_config() if compute else {}
    extension = {
        "BaseJobName": base,
        "SourceCode": _source_code(code) if code else None,
        "Executor": "container" if trainer.training_mode == Mode.LOCAL_CONTAINER else None,
        # {"Torchrun": {...}} or {"MPI": {...}}: the launcher's kind, then its settings
        "Distributed": {type(trainer.distributed).__name__: to_request(trainer.distributed)}
        if trainer.distributed
        else None,
        "ModelChannel": _channel(trainer._model_channel) if trainer._model_channel else None,
    }
    request: dict[str, Any] = {
        "AlgorithmSpecification": present(algorithm),
        "RoleArn": trainer.role or get_execution_role(session, use_default=True),
        "HyperParameters": serialize_hyperparameters(_hyperparameters(trainer)),
        "InputDataConfig": [_channel(item) for item in trainer.input_data_config or []],
        "OutputDataConfig": present(
            {
                "S3OutputPath": output_path,
                "CompressionType": compression,
                "KmsKeyId": output.kms_key_id if output else None,
            }
        ),
        "ResourceConfig": present(resources),
        "StoppingCondition": to_request(trainer.stopping_condition or StoppingCondition()),
        "EnableNetworkIsolation": bool(networking and networking.enable_network_isolation),
        "EnableInterContainerTrafficEncryption": bool(
            networking and networking.enable_inter_container_traffic_encryption
        ),
        "EnableManagedSpotTraining": bool(compute and compute.enable_managed_spot_training),
        "Environment": dict(trainer.environment or {}),
        "Sageyard": present(extension),
    }
    optional = {
        "VpcConfig": {
            "Subnets": networking.subnets or [],
            "SecurityGroupIds": networking.security_group_ids or [],
        }
        if networking and (networking.subnets or networking.security_group_ids)
        else None,
        "CheckpointConfig": _with_default_uri(
            trainer.checkpoint_config,
            "s3_uri",
            f"s3://{session.default_bucket()}/{base}/checkpoints",
        ),
        "TensorBoardOutputConfig": _with_default_uri(
            trainer._tensorboard_output_config,
            "s3_output_path",
            f"s3://{session.default_bucket()}/{base}",
        ),
        "RetryStrategy": retry,
        "InfraCheckConfig": trainer._infra_check_config,
        "RemoteDebugConfig": trainer._remote_debug_config,
        "SessionChainingConfig": trainer._session_chaining_config,
        "TrainingImageConfig": trainer.training_image_config,
        "ModelPackageConfig": trainer.model_package_config,
        "Tags": list(trainer.tags) if trainer.tags else None,
    }
    request.update({k: to_request(v) for k, v in optional.items() if v is not None})
    return request


def _with_default_uri(config: Any, field: str, default: str) -> Any:
    """``config`` with ``field`` set to ``default`` when it has no URI (the real SDK's rule)."""
    if config is None or getattr(config, field) is not None:
        return config
    return config.model_copy(update={field: default})


def present(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without its None entries (the API leaves unset fields out)."""
    return {key: value for key, value in values.items() if value is not None}


def _source_code(code: SourceCode) -> dict[str, Any]:
    folder = code.source_dir
    if folder is not None and not is_s3_uri(folder):
        folder = str(Path(folder).expanduser().resolve())
    return present(
        {
            "SourceDir": folder,
            "EntryScript": code.entry_script,
            "Command": code.command,
            "Args": [str(arg) for arg in code.args] if code.args is not None else None,
            "Requirements": code.requirements,
            "IgnorePatterns": code.ignore_patterns,
        }
    )


def _channel(item: Channel | InputData) -> dict[str, Any]:
    """A Channel as the API takes it; an InputData becomes one (a local path stays local).
    A ``DatasetSource`` names a DataSet of the AI registry: the channel reads its data.
    ``code`` and ``sm_drivers`` are the trainer's own channels (the request layer takes them
    from the wire, where the real SDK sends them), so a user's channel may not be named so."""
    try:  # shapes made with model_construct were never validated
        check_channel_name(item.channel_name)
    except ValueError as error:
        raise ConfigurationError(f"input_data_config: {error}") from None
    if isinstance(item, Channel):
        channel = item.to_request()
        dataset = item.data_source.dataset_source
        if dataset is not None:
            channel["DataSource"] = _data_source(_dataset_location(dataset))
        return channel
    source = item.data_source
    if isinstance(source, DataSource) and source.dataset_source is not None:
        source = source.dataset_source
    if isinstance(source, DatasetSource):
        source = _dataset_location(source)
    if isinstance(source, str):
        data_source = _data_source(source)
    elif isinstance(source, DataSource):
        data_source = source.to_request()
    elif isinstance(source, S3DataSource):
        data_source = {"S3DataSource": source.to_request()}
    else:
        data_source = {"FileSystemDataSource": source.to_request()}
    return present(
        {
            "ChannelName": item.channel_name,
            "DataSource": data_source,
            "ContentType": item.content_type,
        }
    )


def _data_source(location: str) -> dict[str, Any]:
    if is_s3_uri(location):
        return {"S3DataSource": S3DataSource(s3_uri=location).to_request()}
    return {"LocalPath": _absolute(location)}


def _dataset_location(source: DatasetSource) -> str:
    """Where the registered DataSet's data is (ResourceNotFound when there is no such one)."""
    from sageyard.ai_registry.dataset import dataset_uri

    return dataset_uri(source.dataset_arn)


def _absolute(path: str) -> str:
    return str(Path(path).expanduser().resolve())
