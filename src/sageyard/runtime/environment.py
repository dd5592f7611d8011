"""The SM_* environment and the hyperparameter serialisation of the job contract.

Everything here is pure: explicit inputs in, strings out. See ``spec/CONTRACT.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SECRET_MARKERS = ("SECRET", "PASSWORD", "KEY", "TOKEN", "PRIVATE", "CREDS", "CREDENTIALS")
MASK = "********"


def serialize_hyperparameter(value: Any) -> str:
    """A request value: ``str`` stays as it is, anything else is JSON (``True`` → ``"true"``).

    Values JSON cannot encode (a ``Path``, say) become ``str(value)``, as the reference does.
    """
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


def serialize_hyperparameters(hyperparameters: Mapping[str, Any]) -> dict[str, str]:
    return {str(name): serialize_hyperparameter(value) for name, value in hyperparameters.items()}


def decode_hyperparameter(value: str) -> Any:
    """The value a script sees in ``SM_HPS``: JSON-decoded when it parses, else the string."""
    try:
        return json.loads(value)
    except ValueError:
        return value


#: The static hyperparameter a tuning job adds to each trial: its objective metric's name.
TUNING_OBJECTIVE = "_tuning_objective_metric"


def is_framework_hyperparameter(name: str) -> bool:
    """Whether ``name`` is the platform's, not the script's: SageMaker's ``sagemaker_*`` keys
    and a tuning trial's ``_tuning_objective_metric``. They are in ``hyperparameters.json``
    and ``SM_HPS``, but not on the script's command line (CONTRACT.md)."""
    return name == TUNING_OBJECTIVE or name.startswith("sagemaker_")


def script_arguments(hyperparameters: Mapping[str, str]) -> list[str]:
    """``--name value`` pairs in dict order, without the framework's keys.

    Example:
        >>> script_arguments({"epochs": "3", "_tuning_objective_metric": "loss"})
        ['--epochs', '3']
    """
    args: list[str] = []
    for name, value in hyperparameters.items():
        if not is_framework_hyperparameter(name):
            args += [f"--{name}", value]
    return args


def is_secret(name: str) -> bool:
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def mask_secrets(environment: Mapping[str, str]) -> dict[str, str]:
    """The environment with secret-looking values replaced by ``********``."""
    return {key: (MASK if is_secret(key) else value) for key, value in environment.items()}


#: Values shorter than this are not masked: they would mask ordinary words everywhere.
MIN_SECRET_LENGTH = 4


def secret_values(environment: Mapping[str, str]) -> list[str]:
    """The values of ``environment``'s secret-looking variables, as :func:`mask_text` takes
    them: long enough to mask, each once, longest first (so a secret that contains another
    is masked whole).

    Example:
        >>> secret_values({"DB_PASSWORD": "hunter22", "MODE": "fast", "API_KEY": "k"})
        ['hunter22']
    """
    found = {v for k, v in environment.items() if is_secret(k) and len(v) >= MIN_SECRET_LENGTH}
    return sorted(found, key=lambda value: (-len(value), value))


def _spellings(secret: str) -> list[str]:
    """``secret`` as it may appear in text: as it is, JSON-escaped, and as ``repr`` shows it
    inside quotes (a traceback's ``'...'`` or a JSON document's ``"..."``)."""
    forms = [secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]]
    return list(dict.fromkeys(form for form in forms if form))


def mask_text(text: str, secrets: list[str], *, edges: bool = False) -> str:
    """``text`` with every secret value replaced by ``********``.

    ``edges``: ``text`` is an excerpt (a FailureReason cut to fit): a secret cut in two at
    either end, or after a leading ``...``, is masked as well, when at least
    ``MIN_SECRET_LENGTH`` characters of it are left.

    Example:
        >>> mask_text("login failed for hunter22", ["hunter22"])
        'login failed for ********'
        >>> mask_text("...er22 was refused", ["hunter22"], edges=True)
        '...******** was refused'
    """
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) < MIN_SECRET_LENGTH:
            continue
        for form in _spellings(secret):
            text = text.replace(form, MASK)
        if edges:
            text = _mask_edges(text, secret)
    return text


def _mask_edges(text: str, secret: str) -> str:
    lead = "..." if text.startswith("...") else ""
    body = text[len(lead) :]
    for size in range(len(secret) - 1, MIN_SECRET_LENGTH - 1, -1):
        if body.startswith(secret[-size:]):
            body = MASK + body[size:]
            break
    for size in range(len(secret) - 1, MIN_SECRET_LENGTH - 1, -1):
        if body.endswith(secret[:size]):
            body = body[: len(body) - size] + MASK
            break
    return lead + body


@dataclass(frozen=True)
class ChannelInfo:
    name: str
    content_type: str | None = None
    input_mode: str = "File"
    distribution: str = "FullyReplicated"
    record_wrapper_type: str = "None"
    compression_type: str | None = None


@dataclass(frozen=True)
class HostContext:
    """What one host of a job needs to know to build its environment."""

    job_name: str
    root: str  # the job root as the script sees it ("/opt/ml" or a folder on this machine)
    current_host: str
    hosts: list[str]
    instance_type: str
    instance_groups: list[dict[str, Any]]
    current_group_name: str
    hyperparameters: dict[str, str]
    channels: list[ChannelInfo]
    num_cpus: int
    num_gpus: int
    master_port: int
    entry_script: str | None = None
    user_environment: dict[str, str] = field(default_factory=dict)
    distributed_config: dict[str, Any] | None = None


def resource_config(ctx: HostContext) -> dict[str, Any]:
    return {
        "current_host": ctx.current_host,
        "current_instance_type": ctx.instance_type,
        "current_group_name": ctx.current_group_name,
        "hosts": ctx.hosts,
        "instance_groups": ctx.instance_groups,
        "network_interface_name": "eth0",
    }


def input_data_config(channels: list[ChannelInfo]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for channel in channels:
        entry: dict[str, Any] = {}
        if channel.content_type:
            entry["ContentType"] = channel.content_type
        entry.update(
            TrainingInputMode=channel.input_mode,
            S3DistributionType=channel.distribution,
            RecordWrapperType=channel.record_wrapper_type,
        )
        if channel.compression_type:
            entry["CompressionType"] = channel.compression_type
        config[channel.name] = entry
    return config


def build_environment(ctx: HostContext) -> dict[str, str]:
    """The SM_* variables of one host (the caller adds PATH and friends)."""
    root = ctx.root.rstrip("/")
    hps = {name: decode_hyperparameter(value) for name, value in ctx.hyperparameters.items()}
    channel_dirs = {c.name: f"{root}/input/data/{c.name}" for c in ctx.channels}
    hosts = sorted(ctx.hosts)
    user_args = script_arguments(ctx.hyperparameters)
    paths = {
        "SM_MODEL_DIR": f"{root}/model",
        "SM_INPUT_DIR": f"{root}/input",
        "SM_INPUT_DATA_DIR": f"{root}/input/data",
        "SM_INPUT_CONFIG_DIR": f"{root}/input/config",
        "SM_OUTPUT_DIR": f"{root}/output",
        "SM_OUTPUT_DATA_DIR": f"{root}/output/data",
        "SM_OUTPUT_FAILURE": f"{root}/output/failure",
        "SM_SOURCE_DIR": f"{root}/input/data/code",
        "SM_DISTRIBUTED_DRIVER_DIR": f"{root}/input/data/sm_drivers/distributed_drivers",
    }
    training_env = {
        "channel_input_dirs": channel_dirs,
        "current_host": ctx.current_host,
        "current_instance_type": ctx.instance_type,
        "hosts": hosts,
        "hyperparameters": hps,
        "input_config_dir": paths["SM_INPUT_CONFIG_DIR"],
        "input_data_config": input_data_config(ctx.channels),
        "input_dir": paths["SM_INPUT_DIR"],
        "job_name": ctx.job_name,
        "log_level": 20,
        "master_hostname": hosts[0],
        "model_dir": paths["SM_MODEL_DIR"],
        "module_dir": paths["SM_SOURCE_DIR"],
        "network_interface_name": "eth0",
        "num_cpus": ctx.num_cpus,
        "num_gpus": ctx.num_gpus,
        "num_neurons": 0,
        "output_data_dir": paths["SM_OUTPUT_DATA_DIR"],
        "output_dir": paths["SM_OUTPUT_DIR"],
        "resource_config": resource_config(ctx),
        "user_entry_point": ctx.entry_script,
        "current_host_rank": hosts.index(ctx.current_host),
    }
    env: dict[str, str] = dict(ctx.user_environment)
    env.update(paths)
    env.update(
        {
            "TRAINING_JOB_NAME": ctx.job_name,
            "SM_CHANNELS": json.dumps([c.name for c in ctx.channels]),
            "SM_HPS": json.dumps(hps),
            "SM_HOSTS": json.dumps(hosts),
            "SM_CURRENT_HOST": ctx.current_host,
            "SM_CURRENT_HOST_RANK": str(hosts.index(ctx.current_host)),
            "SM_HOST_COUNT": str(len(hosts)),
            "SM_CURRENT_INSTANCE_TYPE": ctx.instance_type,
            "SM_NETWORK_INTERFACE_NAME": "eth0",
            "SM_MASTER_ADDR": hosts[0],
            "SM_MASTER_PORT": str(ctx.master_port),
            "SM_NUM_CPUS": str(ctx.num_cpus),
            "SM_NUM_GPUS": str(ctx.num_gpus),
            "SM_NUM_NEURONS": "0",
            "SM_RESOURCE_CONFIG": json.dumps(resource_config(ctx)),
            "SM_INPUT_DATA_CONFIG": json.dumps(input_data_config(ctx.channels)),
            "SM_TRAINING_ENV": json.dumps(training_env),
            "SM_USER_ARGS": json.dumps(user_args),
            "SM_LOG_LEVEL": "20",
        }
    )
    if ctx.entry_script:
        env["SM_ENTRY_SCRIPT"] = ctx.entry_script
        env["SM_USER_ENTRY_POINT"] = ctx.entry_script
        env["SM_MODULE_NAME"] = ctx.entry_script.rsplit(".", 1)[0]
    if ctx.distributed_config is not None:
        env["SM_DISTRIBUTED_CONFIG"] = json.dumps(ctx.distributed_config)
    for channel, folder in channel_dirs.items():
        env[f"SM_CHANNEL_{channel.upper().replace('-', '_').replace('.', '_')}"] = folder
    for name, value in hps.items():
        env[f"SM_HP_{name.upper().replace('-', '_')}"] = (
            value if isinstance(value, str) else json.dumps(value)
        )
    return env


def config_files(ctx: HostContext) -> dict[str, Any]:
    """The documents written to ``input/config``: name → JSON-able content."""
    return {
        "hyperparameters.json": ctx.hyperparameters,
        "resourceconfig.json": resource_config(ctx),
        "inputdataconfig.json": input_data_config(ctx.channels),
    }


#: Variables of the caller's environment a job's process inherits (everything else is left
#: out: a job never sees SAGEYARD_HOME, the caller's credentials or its test secrets). The
#: job's own ``Environment`` and the SM_* contract are added on top.
INHERITED = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TERM",
        "TMPDIR",
        "LD_LIBRARY_PATH",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "HF_HUB_OFFLINE",
        "HF_DATASETS_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_HUB_DISABLE_TELEMETRY",
    }
)
#: Prefixes of inherited variables: locale, GPU and collective-communication settings.
INHERITED_PREFIXES = ("LC_", "CUDA_", "NVIDIA_", "NCCL_", "ROCR_", "HIP_", "GPU_")


def inherited_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of the caller's environment a job inherits: an allow-list (:data:`INHERITED`
    and :data:`INHERITED_PREFIXES`), never ``SAGEYARD_*``.

    Example:
        >>> inherited_environment({"PATH": "/bin", "SAGEYARD_HOME": "/h", "AWS_SECRET": "x"})
        {'PATH': '/bin'}
    """
    return {
        name: value
        for name, value in environ.items()
        if (name in INHERITED or name.startswith(INHERITED_PREFIXES))
        and not name.startswith("SAGEYARD_")
    }
