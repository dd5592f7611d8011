"""A CreateTrainingJob request → a validated :class:`TrainingJobSpec`, with every service rule.

The request is the dict the SageMaker API takes (PascalCase keys, as boto3's
``create_training_job`` sends it), plus one key of sageyard's own, ``"Sageyard"``, for what
the real service learns elsewhere (the real SDK ships code and drivers as input channels):

.. code-block:: python

    {
        "TrainingJobName": "my-job",          # or Sageyard.BaseJobName
        "AlgorithmSpecification": {"TrainingImage": "...", "TrainingInputMode": "File"},
        "RoleArn": "arn:aws:iam::000000000000:role/SageMakerRole",
        "HyperParameters": {"epochs": "10"},  # strings, as the API takes them
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {...}}],
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/prefix"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "Sageyard": {
            "BaseJobName": "my-job",          # name it <base>-<timestamp>, bumped until unique
            "SourceCode": {"SourceDir": "/abs/folder or s3://...", "EntryScript": "train.py",
                           "Command": None, "Requirements": None, "IgnorePatterns": None},
            "Executor": "local",              # "container": Mode.LOCAL_CONTAINER
            "ModelPackageRegistration": {  # register the model when the job completes
                "Group": "my-models", "BaseModel": "...", "CustomizationTechnique": "sft",
                "TrainingType": "lora", "DatasetUris": {"train": "s3://..."}},
            "ModelChannel": {"ChannelName": "model", "DataSource": {...}},  # the model a
                                              # fine-tuning program starts from: added to
                                              # InputDataConfig unless a channel has its name
            "Distributed": {"Torchrun": {"ProcessCountPerNode": 2}},  # torchrun on every host
        },
    }

A channel's ``DataSource`` is an ``S3DataSource`` or a ``FileSystemDataSource`` as in the
API, or ``{"LocalPath": "/abs/path"}``: a file or folder on the machine that runs the job.

Nothing is written here. A bad request raises :class:`ConfigurationError` (a ValueError) or
the reference's ClientError codes, before the service stores anything.
"""

from __future__ import annotations

import json
import logging
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sageyard.core.exceptions import ConfigurationError, ResourceLimitExceeded
from sageyard.core.settings import Settings
from sageyard.core.shapes import (
    CheckpointConfig,
    Compute,
    FileSystemDataSource,
    InfraCheckConfig,
    MetricDefinition,
    Networking,
    OutputDataConfig,
    RemoteDebugConfig,
    RetryStrategy,
    S3DataSource,
    SessionChainingConfig,
    StoppingCondition,
    Tag,
    TensorBoardOutputConfig,
    TrainingImageConfig,
    VpcConfig,
    from_request,
    name_or_base,
    only_known,
    optional_shape,
    request_mapping,
    to_request,
)
from sageyard.core.shapes._api import snake_case
from sageyard.core.shapes._fields import environment_map, hyperparameter_map, refuse_nul
from sageyard.core.shapes._training import check_channel_folder
from sageyard.executors import check_executor_name, executor_class
from sageyard.executors.local_slots import gpus_for_instance_type, machine_gpus
from sageyard.jobs.plans import host_plans
from sageyard.jobs.spec import (
    ChannelSpec,
    HostGroupSpec,
    ModelPackageRegistration,
    TrainingJobSpec,
)
from sageyard.models.registry import check_group_name
from sageyard.programs import ProgramSpec, program, program_for_image
from sageyard.runtime.smp import config as smp_config
from sageyard.runtime.smp.config import MP_PARAMETERS
from sageyard.storage import ObjectStore, is_s3_uri, parse_s3_uri

logger = logging.getLogger(__name__)

OPERATION = "CreateTrainingJob"
EXTENSION = "Sageyard"
DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
DEFAULT_VOLUME_SIZE_IN_GB = 30
DEFAULT_MAX_RUNTIME = 86400
#: SageMaker's TrainingJobName: 1-63 letters, digits and hyphens, no leading or trailing
#: hyphen (API_CreateTrainingJob; ``TrainingJobName`` in botocore's service model).
MAX_NAME = 63
_JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
#: ``DirectoryPath`` (CheckpointConfig/TensorBoardOutputConfig.LocalPath): at most 4,096.
MAX_LOCAL_PATH = 4096
#: SageMaker's limit on the tags of one resource (``TagList``: at most 50).
MAX_TAGS = 50

_KEYS = {
    "TrainingJobName",
    "AlgorithmSpecification",
    "RoleArn",
    "HyperParameters",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "Environment",
    "VpcConfig",
    "CheckpointConfig",
    "TensorBoardOutputConfig",
    "RetryStrategy",
    "InfraCheckConfig",
    "RemoteDebugConfig",
    "SessionChainingConfig",
    "TrainingImageConfig",
    "ModelPackageConfig",
    "Tags",
    EXTENSION,
}
EXTENSION_KEYS = {
    "BaseJobName",
    "SourceCode",
    "Executor",
    "ModelPackageRegistration",
    "ModelChannel",
    "Distributed",
}
_SOURCE_KEYS = {"SourceDir", "EntryScript", "Command", "Args", "Requirements", "IgnorePatterns"}
_ALGORITHM_KEYS = {
    "TrainingImage",
    "AlgorithmName",
    "TrainingInputMode",
    "MetricDefinitions",
    "EnableSageMakerMetricsTimeSeries",
    "ContainerEntrypoint",
    "ContainerArguments",
}
#: Fields sageyard records and shows in describe() but has nothing to do for locally.
_RECORDED: dict[str, type[Any]] = {
    "RemoteDebugConfig": RemoteDebugConfig,
    "SessionChainingConfig": SessionChainingConfig,
    "TrainingImageConfig": TrainingImageConfig,
}
_CHANNEL_KEYS = {
    "ChannelName",
    "DataSource",
    "ContentType",
    "CompressionType",
    "RecordWrapperType",
    "InputMode",
    "ShuffleConfig",
}


@dataclass(frozen=True)
class ValidatedTrainingJob:
    """A request that passed every rule: the job's spec and how the service names it.

    ``base_name`` set: the job is named ``<base>-<timestamp>`` (bumped until unique);
    otherwise ``spec.training_job_name`` is the name and must be new. ``source_dir``: a
    local code folder that the service snapshots once the job's name is known.
    """

    spec: TrainingJobSpec
    base_name: str | None
    source_dir: Path | None
    ignore_patterns: list[str] | None


def validate_training_job(
    request: Mapping[str, Any], settings: Settings, objects: ObjectStore
) -> ValidatedTrainingJob:
    """Check a CreateTrainingJob request against every rule and build the job's spec.

    Example:
        >>> job = validate_training_job(request, settings, objects)  # doctest: +SKIP
        >>> job.spec.host_count
        1
    """
    request = request_mapping(request, OPERATION)
    refuse_nul(request, OPERATION)
    only_known(request, _KEYS, OPERATION)
    extension = request_mapping(request.get(EXTENSION) or {}, EXTENSION)
    only_known(extension, EXTENSION_KEYS, EXTENSION)
    name, base_name = _names(request, extension)
    executor = check_executor_name(extension.get("Executor") or settings.executor)
    warnings: list[str] = []
    if executor == "container" and not settings.strict_container:
        from sageyard.executors.container import docker_engine_answers, docker_socket

        if not docker_engine_answers():
            executor = settings.executor if settings.executor != "container" else "local"
            warnings.append(
                f"Mode.LOCAL_CONTAINER: no Docker engine answers at {docker_socket()}, so the "
                "job runs as local processes on this machine; the training image is not used. "
                "Set SAGEYARD_STRICT_CONTAINER=1 to refuse such jobs instead."
            )
            logger.warning("%s", warnings[-1])
    algorithm = request_mapping(
        request.get("AlgorithmSpecification") or {}, "AlgorithmSpecification"
    )
    only_known(algorithm, _ALGORITHM_KEYS, "AlgorithmSpecification")
    image = _optional_str(algorithm, "TrainingImage", "AlgorithmSpecification")
    algorithm_name = _optional_str(algorithm, "AlgorithmName", "AlgorithmSpecification")
    input_mode = algorithm.get("TrainingInputMode") or "File"
    if input_mode not in ("File", "Pipe", "FastFile"):
        raise ConfigurationError(
            f"TrainingInputMode must be 'File', 'Pipe' or 'FastFile', but got {input_mode!r}."
        )
    if executor == "container":
        if image is None:
            raise ConfigurationError(
                "Mode.LOCAL_CONTAINER runs training_image in Docker; pass training_image=..."
            )
        built_in = None
    else:
        built_in = _program(image, algorithm_name)
    source = request_mapping(extension.get("SourceCode") or {}, "Sageyard.SourceCode")
    distributed = _distributed(extension.get("Distributed"), source)
    only_known(source, _SOURCE_KEYS, "Sageyard.SourceCode")
    source = _with_container_entrypoint(source, algorithm)
    source = _with_toolkit_contract(source, request.get("HyperParameters"))
    runs_code = bool(source.get("EntryScript") or source.get("Command"))
    if built_in is None and executor != "container" and not runs_code:
        raise ConfigurationError(
            f"training_image {image!r} is not a built-in algorithm image, so "
            "sageyard runs your code: pass source_code=SourceCode(source_dir=..., "
            "entry_script='train.py') (or command=...)."
        )
    source_dir, code_uri = local_source(source)
    if code_uri is not None and code_uri.endswith(".tar.gz") and not objects.exists(code_uri):
        raise ConfigurationError(
            f"SourceCode.source_dir {code_uri!r} does not exist in the object store: upload the "
            "archive first (Session().upload_data(...)) or point source_dir at a local folder."
        )
    hyperparameters = hyperparameter_map(request.get("HyperParameters"), "HyperParameters")
    if built_in is not None:  # the fine-tuning programs fail here rather than in the job
        built_in.check_hyperparameters(hyperparameters)
    spot = bool(request.get("EnableManagedSpotTraining"))
    stopping = _stopping(request.get("StoppingCondition"), spot)
    groups, resources = _host_groups(request.get("ResourceConfig"), settings)
    hyperparameters = _smp_hyperparameters(distributed, hyperparameters)
    if built_in is not None and built_in.data_parallel and distributed is None:
        distributed = _data_parallel(groups)
    input_config = _with_model_channel(request.get("InputDataConfig"), extension)
    channels = _channels(input_config, input_mode, objects)
    if built_in is not None:  # a fine-tuning dataset is checked line by line
        built_in.check_channels({c.name: c.source for c in channels}, objects)
    metric_definitions = _metric_definitions(algorithm.get("MetricDefinitions"), built_in)
    role = request.get("RoleArn")
    if not isinstance(role, str) or not role:
        raise ConfigurationError(
            f"RoleArn must be an IAM role ARN string, but got {role!r}; pass role=... or set "
            "SAGEYARD_ROLE."
        )
    output = request_mapping(request.get("OutputDataConfig") or {}, "OutputDataConfig")
    output_path = from_request(OutputDataConfig, output, "OutputDataConfig").s3_output_path
    if output_path is None:
        raise ConfigurationError(
            "OutputDataConfig.S3OutputPath is required: the s3:// URI the model goes to."
        )
    _s3_uri(output_path, "OutputDataConfig.S3OutputPath")
    compression = "None" if str(output.get("CompressionType", "")).lower() == "none" else "Gzip"
    checkpoint = optional_shape(CheckpointConfig, request, "CheckpointConfig")
    if checkpoint is not None and checkpoint.s3_uri is None:
        raise ConfigurationError(
            "CheckpointConfig.S3Uri is required: the s3:// URI checkpoints are restored from "
            "and uploaded to."
        )
    if checkpoint is not None:
        _s3_uri(checkpoint.s3_uri, "CheckpointConfig.S3Uri")
        _local_path(checkpoint.local_path, "CheckpointConfig.LocalPath")
    tensorboard = optional_shape(TensorBoardOutputConfig, request, "TensorBoardOutputConfig")
    if tensorboard is not None and tensorboard.s3_output_path is None:
        raise ConfigurationError(
            "TensorBoardOutputConfig.S3OutputPath is required: the s3:// URI TensorBoard "
            "files are uploaded to."
        )
    if tensorboard is not None:
        _s3_uri(tensorboard.s3_output_path, "TensorBoardOutputConfig.S3OutputPath")
        _local_path(tensorboard.local_path, "TensorBoardOutputConfig.LocalPath")
    retry = optional_shape(RetryStrategy, request, "RetryStrategy")
    infra = optional_shape(InfraCheckConfig, request, "InfraCheckConfig")
    for key, shape in _RECORDED.items():  # recorded as given: checked, not acted on
        optional_shape(shape, request, key)
    _vpc_config(request.get("VpcConfig"))
    check_tags(request.get("Tags"))
    environment = environment_map(request.get("Environment"), "Environment")
    registration = extension.get("ModelPackageRegistration") or _registration_of(
        request.get("ModelPackageConfig"), image or algorithm_name
    )
    described = {
        **{k: v for k, v in request.items() if k not in (EXTENSION, "HyperParameters")},
        "AlgorithmSpecification": {
            **algorithm,
            "TrainingInputMode": input_mode,
            **(
                {"MetricDefinitions": [to_request(m) for m in metric_definitions]}
                if metric_definitions
                else {}
            ),
        },
        "RoleArn": role,
        "InputDataConfig": list(input_config or []),
        "OutputDataConfig": {
            **output,
            "S3OutputPath": output_path,
            "CompressionType": compression.upper(),
        },
        "ResourceConfig": resources,
        "StoppingCondition": to_request(stopping),
        "EnableNetworkIsolation": bool(request.get("EnableNetworkIsolation")),
        "EnableInterContainerTrafficEncryption": bool(
            request.get("EnableInterContainerTrafficEncryption")
        ),
        "EnableManagedSpotTraining": spot,
        "Environment": environment,
    }
    if name is not None:
        described["TrainingJobName"] = name
    spec = TrainingJobSpec(
        training_job_name=name or base_name,
        role_arn=role,
        training_image=image,
        algorithm_name=built_in.name if built_in and algorithm_name else None,
        builtin_program=built_in.module if built_in else None,
        code_uri=code_uri,  # a local source_dir gets its snapshot URI from the service
        entry_script=source.get("EntryScript"),
        command=source.get("Command"),
        distributed=distributed,
        arguments=_arguments(source.get("Args")),
        requirements=source.get("Requirements"),
        hyperparameters=hyperparameters,
        environment=environment,
        channels=channels,
        host_groups=groups,
        volume_size_in_gb=resources["VolumeSizeInGB"],
        keep_alive_seconds=int(resources.get("KeepAlivePeriodInSeconds") or 0),
        output_path=output_path,
        compression_type=compression,
        checkpoint=checkpoint,
        tensorboard=tensorboard,
        stopping_condition=stopping,
        maximum_retry_attempts=retry.maximum_retry_attempts if retry else 0,
        metric_definitions=metric_definitions,
        network_isolation=bool(request.get("EnableNetworkIsolation")),
        infra_check=bool(infra and infra.enable_infra_check),
        enable_spot=spot,
        executor=executor,
        warnings=warnings,
        model_package_registration=(
            from_request(
                ModelPackageRegistration, registration, "Sageyard.ModelPackageRegistration"
            )
            if registration
            else None
        ),
        request=described,
    )
    # What only the executor knows: a Docker engine, the GPUs this machine has, ...
    executor_class(executor).check_job(settings, host_plans(spec))
    ignore = source.get("IgnorePatterns")
    return ValidatedTrainingJob(spec, base_name, source_dir, list(ignore) if ignore else None)


# -- the parts of the request ------------------------------------------------------------------


def _with_container_entrypoint(
    source: dict[str, Any], algorithm: Mapping[str, Any]
) -> dict[str, Any]:
    """``AlgorithmSpecification.ContainerEntrypoint`` (with ``ContainerArguments``): what the
    container runs instead of its image's entry point, so here the host's command, as
    ``SourceCode.command`` (the real SDK's ModelTrainer sends ``/bin/bash -c`` and its
    driver script, in a channel)."""
    entrypoint = algorithm.get("ContainerEntrypoint")
    arguments = algorithm.get("ContainerArguments")
    where = "AlgorithmSpecification.ContainerEntrypoint"
    if entrypoint is None:
        if arguments is not None:
            raise ConfigurationError(
                "AlgorithmSpecification.ContainerArguments are given to a ContainerEntrypoint, "
                "and there is none: set ContainerEntrypoint (e.g. ['python3', 'train.py'])."
            )
        return source
    for value, name in ((entrypoint, where), (arguments or [], "ContainerArguments")):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigurationError(f"{name} must be a list of strings, but got {value!r}.")
    if not entrypoint or len(entrypoint) > 100 or len(arguments or []) > 100:
        raise ConfigurationError(
            f"{where} must hold 1 to 100 strings, and ContainerArguments at most 100."
        )
    if source.get("EntryScript") or source.get("Command"):
        raise ConfigurationError(
            f"{where} and Sageyard.SourceCode's entry script or command both say what the "
            "job runs: keep one of them."
        )
    return {**source, "Command": shlex.join(entrypoint), "Args": list(arguments or [])}


def _with_toolkit_contract(source: dict[str, Any], hyperparameters: Any) -> dict[str, Any]:
    """The SageMaker training toolkit's contract, which framework images run: the
    ``sagemaker_program`` hyperparameter names the entry script in
    ``sagemaker_submit_directory``, a ``sourcedir.tar.gz`` (or a folder) in S3. The real
    SDK's tuner sends code so (CreateHyperParameterTuningJob takes no ContainerEntrypoint),
    as the v2 estimators did. The ``sagemaker_*`` keys stay off the script's command line."""
    values = hyperparameters if isinstance(hyperparameters, Mapping) else {}
    program = _toolkit_value(values.get("sagemaker_program"))
    directory = _toolkit_value(values.get("sagemaker_submit_directory"))
    if program is None or source.get("EntryScript") or source.get("Command"):
        return source
    if directory is None or source.get("SourceDir"):
        raise ConfigurationError(
            f"HyperParameters.sagemaker_program {program!r} names an entry script in "
            "sagemaker_submit_directory, which is "
            + (
                "not set: set it to the s3:// URI of the code's sourcedir.tar.gz."
                if directory is None
                else "given beside Sageyard.SourceCode: keep one of them."
            )
        )
    return {**source, "SourceDir": directory.removeprefix("file://"), "EntryScript": program}


def _toolkit_value(value: Any) -> str | None:
    """A ``sagemaker_*`` hyperparameter's text: the v2 SDK sends them JSON-encoded."""
    if not isinstance(value, str):
        return None
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, str) else value
    return value


def _arguments(value: Any) -> list[str]:
    """``SourceCode.Args``: a list of strings (numbers are taken as their text)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(item, str | int | float) and not isinstance(item, bool) for item in value
    ):
        raise ConfigurationError(
            f"Sageyard.SourceCode.Args must be a list of strings or numbers, but got {value!r}."
        )
    return [str(item) for item in value]


def _optional_str(value: Mapping[str, Any], key: str, where: str) -> str | None:
    item = value.get(key)
    if item is not None and (not isinstance(item, str) or not item):
        raise ConfigurationError(f"{where}.{key} must be a non-empty string, but got {item!r}.")
    return item


def _distributed(value: Any, source: Mapping[str, Any]) -> dict[str, Any] | None:
    """``Sageyard.Distributed``, checked: ``{"Torchrun": {"ProcessCountPerNode": n}}`` or
    ``{"MPI": {"ProcessCountPerNode": n, "MpiAdditionalOptions": [...]}}`` (n unset: the
    GPUs per instance, or 1 on a machine without GPUs), as the job spec keeps it; ``None``
    without."""
    if value is None:
        return None
    settings = request_mapping(value, "Sageyard.Distributed")
    if len(settings) != 1 or not set(settings) <= {"Torchrun", "MPI"}:
        raise ConfigurationError(
            f"Sageyard.Distributed must be {{'Torchrun': {{...}}}} or {{'MPI': {{...}}}}, but "
            f"got keys {sorted(settings)}."
        )
    ((kind, given),) = settings.items()
    fields = request_mapping(given or {}, f"Sageyard.Distributed.{kind}")
    launcher = "Torchrun" if kind == "Torchrun" else "MPI"
    if kind == "Torchrun":
        only_known(fields, {"ProcessCountPerNode", "Smp"}, "Sageyard.Distributed.Torchrun")
    else:
        only_known(
            fields, {"ProcessCountPerNode", "MpiAdditionalOptions"}, "Sageyard.Distributed.MPI"
        )
    count = fields.get("ProcessCountPerNode")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ConfigurationError(
            f"{launcher}(process_count_per_node=...) must be a whole number of at least 1, "
            f"but got {count!r}."
        )
    script = source.get("EntryScript")
    if source.get("Command") or not (isinstance(script, str) and script.endswith(".py")):
        runner = "torchrun" if kind == "Torchrun" else "mpirun"
        raise ConfigurationError(
            f"distributed={launcher}(...) runs SourceCode.entry_script (a .py file) under "
            f"{runner} on every host; set entry_script to a Python script (and no command)."
        )
    if kind == "Torchrun":
        smp = _smp(fields.get("Smp"))
        return {"Torchrun": {"ProcessCountPerNode": count, **({"Smp": smp} if smp else {})}}
    options = fields.get("MpiAdditionalOptions") or []
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise ConfigurationError(
            f"MPI(mpi_additional_options=...) must be a list of strings (mpirun's own "
            f"arguments, e.g. ['-x', 'NCCL_DEBUG=INFO']), but got {options!r}."
        )
    return {"MPI": {"ProcessCountPerNode": count, "MpiAdditionalOptions": list(options)}}


def _smp(value: Any) -> dict[str, Any] | None:
    """``Torchrun(smp=SMP(...))``'s parameters, snake_case as SMP names them (``None``
    without)."""
    if value is None:
        return None
    fields = request_mapping(value, "Sageyard.Distributed.Torchrun.Smp")
    return smp_config.check_parameters(
        {snake_case(key): item for key, item in fields.items()}, "SMP"
    )


def _smp_hyperparameters(
    distributed: dict[str, Any] | None, hyperparameters: dict[str, str]
) -> dict[str, str]:
    """The hyperparameters of a job with SMP: ``mp_parameters`` as the real SDK sets it
    (added when missing, and it must agree with ``Smp``). The executor's ``check_job``
    checks the degrees against the world size."""
    smp = ((distributed or {}).get("Torchrun") or {}).get("Smp")
    if smp is None:
        return hyperparameters
    given = hyperparameters.get(MP_PARAMETERS)
    if given is not None:
        try:
            same = json.loads(given) == smp
        except ValueError:
            same = False
        if not same:
            raise ConfigurationError(
                f"HyperParameters.{MP_PARAMETERS} ({given!r}) disagrees with Torchrun(smp=...) "
                f"({json.dumps(smp)}); leave {MP_PARAMETERS} out: the job sets it from smp."
            )
    return {**hyperparameters, MP_PARAMETERS: json.dumps(smp)}


def _data_parallel(groups: list[HostGroupSpec]) -> dict[str, Any] | None:
    """How a data-parallel built-in program runs: under torchrun when the job has several
    hosts, or GPUs to give a process each; ``None``: one process, as any program."""
    hosts = sum(group.count for group in groups)
    gpus = min(gpus_for_instance_type(groups[0].instance_type), len(machine_gpus()))
    if hosts > 1 or gpus > 1:
        return {"Torchrun": {"ProcessCountPerNode": None}}
    return None


def _names(
    request: Mapping[str, Any], extension: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    name, base = name_or_base(request, extension, "TrainingJobName", OPERATION)
    if name is not None and (not isinstance(name, str) or not name.strip("-")):
        raise ConfigurationError(
            f"TrainingJobName must contain letters or digits, but got {name!r}."
        )
    if name is not None and not _JOB_NAME.fullmatch(name):
        raise ConfigurationError(
            f"TrainingJobName must be 1-{MAX_NAME} letters, digits or hyphens, starting and "
            f"ending with a letter or digit (SageMaker's rule), but got {name[:80]!r}"
            f"{f' ({len(name)} characters)' if len(name) > MAX_NAME else ''}; e.g. 'my-job-1'."
        )
    return name, base


def _s3_uri(uri: str | None, where: str) -> None:
    """An ``s3://`` URI of the request that a job can use: no ``..`` in its key."""
    if uri is None:
        return
    try:
        parse_s3_uri(uri)
    except ConfigurationError as error:
        raise ConfigurationError(f"{where}: {error}") from None


def _local_path(path: str | None, where: str) -> None:
    """A folder the job writes in (checkpoints, TensorBoard files). Any path is taken: one
    outside the job root is mapped into it when the job runs, never onto this machine's
    folder (``runtime/host.py``)."""
    if path is not None and len(path) > MAX_LOCAL_PATH:
        raise ConfigurationError(
            f"{where} is {len(path):,} characters long, but SageMaker allows at most "
            f"{MAX_LOCAL_PATH:,}; use a shorter path, e.g. /opt/ml/checkpoints."
        )


def _program(image: str | None, algorithm_name: str | None) -> ProgramSpec | None:
    """The built-in program the job runs (by name, or by SageMaker's algorithm image)."""
    if (image is None) == (algorithm_name is None):
        given = "both" if image else "neither"
        raise ConfigurationError(
            f"AlgorithmSpecification needs exactly one of TrainingImage or AlgorithmName, but "
            f"got {given}. Pass training_image='<image uri>' to run your own code, or "
            "algorithm_name='xgboost' for a built-in algorithm."
        )
    if algorithm_name is not None:
        return program(algorithm_name)  # an unknown name: ConfigurationError
    assert image is not None
    return program_for_image(image)


def local_source(source: Mapping[str, Any]) -> tuple[Path | None, str | None]:
    """The local code folder (or ``.tar.gz``) to snapshot, or an s3:// URI that is the
    snapshot already, of ``Sageyard.SourceCode``; checked (the folder holds the entry
    script and requirements it names)."""
    folder = source.get("SourceDir")
    if folder is None:
        if source.get("EntryScript") or source.get("Requirements"):
            raise ConfigurationError(
                "Sageyard.SourceCode names an EntryScript or Requirements but no SourceDir: "
                "pass source_dir= with the folder that holds them."
            )
        return None, None
    if not isinstance(folder, str):
        raise ConfigurationError(f"SourceCode.source_dir must be a string, but got {folder!r}.")
    if is_s3_uri(folder):  # a snapshot folder, or a sourcedir.tar.gz unpacked on each host
        _s3_uri(folder, "SourceCode.source_dir")
        return None, folder.rstrip("/")
    path = Path(folder)
    if path.is_absolute() and path.is_file() and path.name.endswith(".tar.gz"):
        return _source_archive(path, source), None
    if not path.is_absolute() or not path.is_dir():
        raise ConfigurationError(
            f"SourceCode.source_dir {folder!r} is not a folder. Point it at the folder that "
            "holds your training script."
        )
    for field, key in (("entry_script", "EntryScript"), ("requirements", "Requirements")):
        name = source.get(key)
        if name and not (path / name).is_file():
            raise ConfigurationError(
                f"SourceCode.{field} {name!r} is not in source_dir {folder!r}."
            )
    return path, None


def _source_archive(path: Path, source: Mapping[str, Any]) -> Path:
    """A local ``.tar.gz`` source_dir (the real SDK takes one): readable, and holding the
    entry script and requirements file it names. It is unpacked into the job's code."""
    import tarfile

    try:
        with tarfile.open(path, "r:gz") as archive:
            members = {name.removeprefix("./") for name in archive.getnames()}
    except (tarfile.TarError, OSError) as error:
        raise ConfigurationError(
            f"SourceCode.source_dir {str(path)!r} is not a readable .tar.gz: {error}."
        ) from None
    for field, key in (("entry_script", "EntryScript"), ("requirements", "Requirements")):
        name = source.get(key)
        if name and name not in members:
            raise ConfigurationError(
                f"SourceCode.{field} {name!r} is not in the source_dir archive {str(path)!r}."
            )
    return path


def _registration_of(value: Any, trained_from: str | None) -> dict[str, Any] | None:
    """``ModelPackageConfig`` (the output model package group, and the package the job starts
    from) as the registration the supervisor makes when the job completes."""
    if value is None:
        return None
    config = request_mapping(value, "ModelPackageConfig")
    only_known(config, {"ModelPackageGroupArn", "SourceModelPackageArn"}, "ModelPackageConfig")
    group = config.get("ModelPackageGroupArn")
    if not isinstance(group, str) or not group:
        raise ConfigurationError(
            "ModelPackageConfig.ModelPackageGroupArn is required: the ARN (or name) of the "
            f"model package group the job's model is registered in, but got {group!r}."
        )
    name = group.rsplit("model-package-group/", 1)[-1]
    check_group_name(name)
    source = _optional_str(config, "SourceModelPackageArn", "ModelPackageConfig")
    return {
        "Group": name,
        "BaseModel": source or trained_from or "",
        "CustomizationTechnique": "",
        "TrainingType": "",
    }


def _stopping(value: Any, spot: bool) -> StoppingCondition:
    stopping = from_request(StoppingCondition, value or {}, "StoppingCondition")
    if stopping.max_runtime_in_seconds is None:
        stopping = stopping.model_copy(update={"max_runtime_in_seconds": DEFAULT_MAX_RUNTIME})
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


def _host_groups(value: Any, settings: Settings) -> tuple[list[HostGroupSpec], dict[str, Any]]:
    """The host groups, and ResourceConfig with its defaults filled in (as described).

    ResourceConfig has Compute's fields, so Compute's bounds check it (instance counts,
    volume size, keep-alive, instance types, unique group names).
    """
    resources = request_mapping(value or {}, "ResourceConfig")
    for key in ("SelectedInstanceType", "SelectedInstanceCount"):
        if key in resources:
            raise ConfigurationError(
                f"ResourceConfig.{key} is the service's answer, not a request field: give "
                "InstanceType/InstanceCount or InstancePreferences instead."
            )
    compute = from_request(Compute, resources, "ResourceConfig")
    instance_type, instance_count = compute.preferred_instances()
    if compute.instance_groups:
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
                instance_type=instance_type or DEFAULT_INSTANCE_TYPE,
                count=instance_count or 1,
            )
        ]
    hosts = sum(group.count for group in groups)
    if hosts > settings.instance_quota:
        raise ResourceLimitExceeded(
            f"The job asks for {hosts} instances but the local quota is "
            f"{settings.instance_quota} per job (SAGEYARD_INSTANCE_QUOTA); ask for fewer "
            "instances or raise the quota.",
        )
    described = {
        **resources,
        "InstanceCount": hosts,
        "VolumeSizeInGB": compute.volume_size_in_gb or DEFAULT_VOLUME_SIZE_IN_GB,
    }
    if compute.instance_preferences:  # the candidate chosen, as the service reports it
        described["SelectedInstanceType"] = groups[0].instance_type
        described["SelectedInstanceCount"] = groups[0].count
    elif not compute.instance_groups:
        described["InstanceType"] = groups[0].instance_type
    return groups, described


def _with_model_channel(value: Any, extension: Mapping[str, Any]) -> Any:
    """InputDataConfig with ``Sageyard.ModelChannel`` added, unless a channel has its name.

    A fine-tuning trainer's jobs always read their base model from it, whatever channels a
    ``train(input_data_config=...)`` gives.
    """
    model = extension.get("ModelChannel")
    if model is None or not isinstance(value, list | None):
        return value  # a malformed InputDataConfig is refused by _channels
    model = request_mapping(model, "Sageyard.ModelChannel")
    name = model.get("ChannelName")
    if not isinstance(name, str) or not name:
        raise ConfigurationError(
            f"Sageyard.ModelChannel.ChannelName must be a non-empty string, got {name!r}."
        )
    given = value or []
    if any(isinstance(c, Mapping) and c.get("ChannelName") == name for c in given):
        return value
    return [*given, dict(model)]


def _channels(value: Any, input_mode: str, objects: ObjectStore) -> list[ChannelSpec]:
    if value is None:
        value = []
    if not isinstance(value, list):
        raise ConfigurationError(f"InputDataConfig must be a list of channels, but got {value!r}.")
    channels = [_channel(item, index, input_mode) for index, item in enumerate(value)]
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
        _check_source_exists(channel, objects)
    return channels


def _channel(value: Any, index: int, input_mode: str) -> ChannelSpec:
    where = f"InputDataConfig[{index}]"
    item = request_mapping(value, where)
    only_known(item, _CHANNEL_KEYS, where)
    name = item.get("ChannelName")
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"{where}.ChannelName must be a non-empty string, got {name!r}.")
    # channel names become folders under input/data: none may climb out of it. ``code`` and
    # ``sm_drivers`` are the real SDK's own (its ModelTrainer sends them over the wire)
    try:
        check_channel_folder(name)
    except ValueError as error:
        raise ConfigurationError(f"{where}.ChannelName: {error}") from None
    source = request_mapping(item.get("DataSource") or {}, f"{where}.DataSource")
    kinds = sorted(set(source) & {"S3DataSource", "FileSystemDataSource", "LocalPath"})
    if len(kinds) != 1 or len(source) != 1:
        raise ConfigurationError(
            f"Channel {name!r}: DataSource needs exactly one of S3DataSource, "
            f"FileSystemDataSource or LocalPath, but got {sorted(source)}."
        )
    extra: dict[str, Any] = {}
    if "S3DataSource" in source:
        s3 = from_request(S3DataSource, source["S3DataSource"], f"{where}.DataSource.S3DataSource")
        if s3.s3_data_type != "S3Prefix":
            raise ConfigurationError(
                f"s3_data_type={s3.s3_data_type!r} is not supported yet; use 'S3Prefix'."
            )
        uri = s3.s3_uri
        _s3_uri(uri, f"Channel {name!r}: S3DataSource.S3Uri")
        extra["distribution"] = s3.s3_data_distribution_type or "FullyReplicated"
        if s3.instance_group_names is not None:
            extra["instance_group_names"] = s3.instance_group_names
    elif "FileSystemDataSource" in source:
        where_fs = f"{where}.DataSource.FileSystemDataSource"
        uri = _local(
            from_request(
                FileSystemDataSource, source["FileSystemDataSource"], where_fs
            ).directory_path,
            name,
        )
    else:
        uri = _local(source["LocalPath"], name)
    fields = {
        "content_type": item.get("ContentType"),
        "compression_type": item.get("CompressionType"),
        "record_wrapper_type": item.get("RecordWrapperType"),
        "input_mode": item.get("InputMode") or input_mode,
    }
    try:
        return ChannelSpec(
            name=name, source=uri, **{k: v for k, v in fields.items() if v is not None}, **extra
        )
    except ValueError as error:
        raise ConfigurationError(f"Channel {name!r} is invalid: {error}") from None


def _local(path: Any, channel: str) -> str:
    if not isinstance(path, str) or not Path(path).is_absolute() or not Path(path).exists():
        raise ConfigurationError(
            f"Channel {channel!r}: the local path {path!r} does not exist. Give an existing "
            "file or folder, or an s3:// URI."
        )
    return path


def _check_source_exists(channel: ChannelSpec, objects: ObjectStore) -> None:
    if not is_s3_uri(channel.source):
        return
    bucket, key = parse_s3_uri(channel.source)
    if not objects.list(channel.source):
        raise ConfigurationError(
            f"Channel {channel.name!r}: no data under {channel.source}. Upload it first, "
            f"e.g. Session().upload_data('data/', bucket={bucket!r}, key_prefix={key!r})."
        )


def _metric_definitions(value: Any, spec: ProgramSpec | None) -> list[MetricDefinition]:
    """A built-in program's metric definitions, then the request's; on a name, the request's
    win over the program's, and a later one over an earlier one."""
    if value is not None and not isinstance(value, list):
        raise ConfigurationError(f"MetricDefinitions must be a list, but got {value!r}.")
    own: dict[str, MetricDefinition] = {}
    for index, item in enumerate(value or []):
        if not isinstance(item, Mapping) or set(item) != {"Name", "Regex"}:
            raise ConfigurationError(
                f"metric_definitions entries are dicts with 'Name' and 'Regex', but got {item!r}."
            )
        definition = from_request(MetricDefinition, item, f"MetricDefinitions[{index}]")
        own.pop(definition.name, None)  # the later one's place, as well as its regex
        own[definition.name] = definition
    built_in = [d for d in spec.metric_definitions if d.name not in own] if spec else []
    return [*built_in, *own.values()]


def check_tags(value: Any) -> None:
    """``Tags``: a list of at most :data:`MAX_TAGS` ``{"Key", "Value"}`` dicts, no key twice
    (SageMaker's rules, for a training job and a tuning job alike).

    Example:
        >>> check_tags([{"Key": "team", "Value": "ml"}])
        >>> check_tags([{"Key": "team"}, {"Key": "team"}])
        Traceback (most recent call last):
        ...
        sageyard.core.exceptions.ConfigurationError: Tags[1] repeats the key 'team' of ...
    """
    if value is None:
        return
    if not isinstance(value, list):
        raise ConfigurationError(f"Tags must be a list of {{'Key', 'Value'}}, but got {value!r}.")
    if len(value) > MAX_TAGS:
        raise ConfigurationError(
            f"Tags has {len(value)} tags, but SageMaker allows at most {MAX_TAGS} on a job; "
            "remove some, or join related ones into one tag."
        )
    first: dict[str, int] = {}
    for index, item in enumerate(value):
        key = from_request(Tag, item, f"Tags[{index}]").key
        if key in first:
            raise ConfigurationError(
                f"Tags[{index}] repeats the key {key!r} of Tags[{first[key]}], but each tag key "
                "may be given once; keep one of them."
            )
        first[key] = index


def _vpc_config(value: Any) -> None:
    """``VpcConfig``: the VpcConfig shape (Subnets and SecurityGroupIds, lists of strings),
    with ids that look like ids, as :class:`Networking` checks them. Recorded, not acted on:
    a local job has no VPC."""
    if value is None:
        return
    config = request_mapping(value, "VpcConfig")
    only_known(config, {"Subnets", "SecurityGroupIds"}, "VpcConfig")
    for key, example in (("Subnets", "subnet-0abc123"), ("SecurityGroupIds", "sg-0abc123")):
        ids = config.get(key)
        if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
            raise ConfigurationError(
                f"VpcConfig.{key} must be a list of id strings such as [{example!r}], but "
                f"got {ids!r}."
            )
    vpc = from_request(VpcConfig, config, "VpcConfig")
    ids = {"Subnets": vpc.subnets, "SecurityGroupIds": vpc.security_group_ids}
    from_request(Networking, ids, "VpcConfig")
