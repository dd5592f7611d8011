"""One host of a job, on the node it was placed on: stage → config → requirements →
driver → failure → upload.

An executor places a :class:`~sageyard.runtime.plan.HostPlan` on a node (a
:class:`HostPlacement`: the host's folders there, its GPUs, its master's port) and calls
:func:`prepare_host`, which stages the host's code, channels and checkpoints, writes its
config files, builds its requirements environment and returns the process to start. The
executor starts it, with the Pipe feeders of :func:`start_feeders` beside it; when it has
ended, :func:`exit_of` says how (the FailureReason is read here, on the node) and
:func:`upload_host` uploads what this host alone leaves (checkpoints, TensorBoard files)
and names the folders the supervisor merges into ``model.tar.gz`` and ``output.tar.gz``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import posixpath
import re
import shutil
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sageyard.core.exceptions import DiskFullError, StorageError
from sageyard.runtime import mpi, smp
from sageyard.runtime.drivers import RANK_PREFIX, command_argv, script_argv, torchrun_argv
from sageyard.runtime.environment import (
    ChannelInfo,
    HostContext,
    build_environment,
    config_files,
    inherited_environment,
    mask_text,
    secret_values,
)
from sageyard.runtime.layout import CONTAINER_ROOT, JobRoot
from sageyard.runtime.plan import HostPlan
from sageyard.runtime.process import HostLaunch, Mount
from sageyard.runtime.requirements import RequirementsError, ensure_environment
from sageyard.runtime.smp import config as smp_config
from sageyard.runtime.staging import (
    restore_checkpoints,
    stage_channel,
    stage_code,
    stage_pipe_channel,
)
from sageyard.storage import ObjectStore, parse_s3_uri, upload_path

_TRACEBACK = "Traceback (most recent call last):"
_NO_SPACE = re.compile(r"\[Errno 28\] No space left on device(?:: '([^']+)')?")
_NO_SPACE_PATH = re.compile(r"'([^']+)': No space left on device")
#: Where a folder the request names goes when its path is outside the job root (or inside
#: its read-only ``input``): SageMaker's defaults, inside the job root.
CHECKPOINT_DEFAULT = f"{CONTAINER_ROOT}/checkpoints"
TENSORBOARD_DEFAULT = f"{CONTAINER_ROOT}/output/tensorboard"


@dataclass(frozen=True)
class HostPlacement:
    """Where and how a node runs one host: the executor's half of the host's set-up.

    ``isolate``: the host has a private view of the file system (a mount namespace, or a
    container), so local data is bind-mounted read-only instead of copied. ``alias``: the
    job root is ``/opt/ml`` for the script. ``container``: the host runs in the plan's
    training image (its ``python``; requirements are installed inside). ``master_addr``:
    ``SM_MASTER_ADDR``, when ``algo-1`` does not resolve on the node. ``cuda_visible``:
    restrict the host to ``gpus`` with ``CUDA_VISIBLE_DEVICES``.
    """

    root: Path
    log: Path
    envs_dir: Path
    master_port: int
    gpus: tuple[str, ...] = ()
    isolate: bool = False
    alias: bool = False
    container: bool = False
    master_addr: str | None = None
    cuda_visible: bool = False
    etc_hosts: Path | None = None  # an /etc/hosts to mount, where algo-N resolve
    cpus: int | None = None  # the host's share of the node's CPUs (None: all of them)
    warm: bool = False  # in a warm pool's sandbox, made before the job: data is copied
    agent_port: int = 0  # an MPI job's: where its hosts' rsh agents listen (runtime/mpi.py)
    agent_token: str = ""  # an MPI job's secret, which its agents ask of every request


@dataclass(frozen=True)
class HostExit:
    """How a host ended: its main process's exit code (negative: killed by that signal).

    ``failure_text`` is the host's FailureReason when it failed: what the script wrote to
    ``output/failure``, else the end of its traceback. It is ``None`` on success, and for a
    host killed by a signal that left no failure file (the supervisor words that itself).
    ``out_of_memory``: it was SIGKILLed while the kernel's out-of-memory killer was at work
    on this machine (:func:`oom_kills`). ``infrastructure``: the platform lost the host (its
    node died): the job's FailureReason, a failure ``RetryStrategy`` may retry.
    """

    code: int
    failure_text: str | None = None
    out_of_memory: bool = False
    infrastructure: str | None = None


def oom_kills() -> int:
    """How many processes the kernel's out-of-memory killer has ended on this machine since
    boot (``oom_kill`` in ``/proc/vmstat``; 0 where the kernel does not say)."""
    try:
        with open("/proc/vmstat") as vmstat:
            for line in vmstat:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@dataclass(frozen=True)
class HostOutputs:
    """A host's model and output-data folders, readable by the supervisor, to merge."""

    model_dir: Path
    output_data_dir: Path


class HostSetupError(Exception):
    """A host could not be set up; ``reason`` is the job's FailureReason."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable  # an infrastructure failure: RetryStrategy may try again


@dataclass(frozen=True)
class PreparedHost:
    """A staged host: the process to start and the Pipe feeders' manifests beside it."""

    launch: HostLaunch
    root: JobRoot
    pipes: tuple[Path, ...] = ()


def append_log(log: Path, text: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        out.write(text)


@dataclass(frozen=True)
class JobFolder:
    """A folder of the job that the request names (``CheckpointConfig.LocalPath``,
    ``TensorBoardOutputConfig.LocalPath``), always inside the host's job root.

    ``relative`` is its place in the job root; ``mapped`` says the request's path was outside
    the job root (``/tmp/ckpt``, ``/home/me``, a relative path) or in its read-only
    ``input``, so the folder is SageMaker's default instead: sageyard never writes to, reads
    from or uploads a folder of this machine outside the job root.

    Example:
        >>> job_folder("/tmp/ckpt", CHECKPOINT_DEFAULT)
        JobFolder(asked='/tmp/ckpt', relative='checkpoints', mapped=True)
        >>> job_folder("/opt/ml/checkpoints/run-1/", CHECKPOINT_DEFAULT).relative
        'checkpoints/run-1'
    """

    asked: str
    relative: str
    mapped: bool

    def host_path(self, root: JobRoot) -> Path:
        """The folder on this machine."""
        return root.path / self.relative

    def script_path(self, script_root: str) -> str:
        """The folder as the script sees it, under its job root (``/opt/ml`` or a folder)."""
        return f"{script_root.rstrip('/')}/{self.relative}"


def job_folder(asked: str | None, default: str) -> JobFolder:
    """Where a folder the request names is in the job root (see :class:`JobFolder`).

    ``default`` is SageMaker's default for it, under ``/opt/ml``. The path is normalised
    first, so ``/opt/ml/../../etc`` is outside the job root, and mapped.
    """
    path = posixpath.normpath(asked) if asked else default
    inside = path.startswith(CONTAINER_ROOT + "/") and not path.startswith("//")
    relative = path[len(CONTAINER_ROOT) + 1 :] if inside else ""
    if relative and relative != "input" and not relative.startswith("input/"):
        return JobFolder(asked or default, relative, False)
    return JobFolder(asked or default, default[len(CONTAINER_ROOT) + 1 :], True)


def checkpoint_folder(plan: HostPlan) -> JobFolder:
    return job_folder(plan.checkpoint_path, CHECKPOINT_DEFAULT)


def tensorboard_folder(plan: HostPlan) -> JobFolder:
    return job_folder(plan.tensorboard_path, TENSORBOARD_DEFAULT)


class _Writing:
    """What a host's set-up is writing now: the path a full disk is reported against."""

    def __init__(self, path: Path) -> None:
        self.path = path


def _never() -> bool:
    return False


def prepare_host(
    plan: HostPlan,
    placement: HostPlacement,
    objects: ObjectStore,
    should_stop: Callable[[], bool] = _never,
) -> PreparedHost:
    """Stage the host's inputs, write its config, build its environment: ready to start.

    ``should_stop`` is polled during the requirements install: when it says so, pip is
    killed at once and a ``ClientError`` HostSetupError is raised (the supervisor, which
    knows it asked to stop, ends the job Stopped).

    Raises :class:`HostSetupError`: a ``ClientError`` for a mistake in the job (a missing
    local path or requirements file, requirements pip cannot install) and for a full disk
    (the reason names the disk and the path; trying again would fill it again), an
    ``InternalServerError`` (retryable) when storage or the disk failed otherwise. The
    reason never shows the values of the job's secret environment variables.
    """
    writing = _Writing(placement.root)
    try:
        root, mounts, pipes = _stage(plan, placement, objects, writing)
        writing.path = placement.envs_dir
        python = job_python(plan, placement, root, should_stop)
        writing.path = root.config_dir
        launch = host_launch(plan, placement, root, python, mounts)
    except Exception as error:
        setup = _masked(_setup_error(error, writing.path), plan)
        if setup is error:
            raise
        raise setup from error
    return PreparedHost(launch, root, tuple(pipes))


def _setup_error(error: Exception, writing: Path) -> HostSetupError | Exception:
    """The HostSetupError a failed set-up step ends the host with (or ``error`` itself: the
    platform failed, and the supervisor fails the job)."""
    if isinstance(error, HostSetupError):
        return error
    if DiskFullError.caused(error):
        return HostSetupError(f"ClientError: {disk_full(error, writing)}", retryable=False)
    if isinstance(error, FileNotFoundError | RequirementsError | ValueError):
        return HostSetupError(f"ClientError: {error}", retryable=False)
    if isinstance(error, StorageError | OSError | subprocess.CalledProcessError):
        return HostSetupError(f"InternalServerError: {error}", retryable=True)
    return error


def _masked(error: HostSetupError | Exception, plan: HostPlan) -> HostSetupError | Exception:
    if not isinstance(error, HostSetupError):
        return error
    reason = mask_text(error.reason, secret_values(plan.environment))
    if reason == error.reason:
        return error
    return HostSetupError(reason, retryable=error.retryable)


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def disk_full(error: BaseException, writing: Path | str) -> DiskFullError:
    """The :class:`DiskFullError` for a write that failed with ENOSPC, naming the file it
    wrote where ``error`` (or what it was raised from) says, else ``writing``."""
    for current in _causes(error):
        if isinstance(current, DiskFullError):
            return current
        if isinstance(current, shutil.Error) and current.args and isinstance(current.args[0], list):
            for item in current.args[0]:  # (source, target, why) of each file copytree failed
                if isinstance(item, tuple) and len(item) == 3 and "No space" in str(item[2]):
                    return DiskFullError(str(item[1]))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            written = current.filename2 or current.filename  # a copy's target is filename2
            if written:
                return DiskFullError(os.fsdecode(written))
        found = _NO_SPACE_PATH.search(str(current))
        if found and os.path.isabs(found.group(1)):
            return DiskFullError(found.group(1))
    return DiskFullError(writing)


def _stage(
    plan: HostPlan, placement: HostPlacement, objects: ObjectStore, writing: _Writing
) -> tuple[JobRoot, list[Mount], list[Path]]:
    """Create the job root and bring code, channels and checkpoints into it."""
    root = JobRoot(placement.root)
    root.create()
    mounts: list[Mount] = []
    pipes: list[Path] = []
    host_count = len(plan.hosts)
    if plan.code_uri:
        writing.path = root.code_dir
        stage_code(objects, plan.code_uri, root)
    for channel in plan.host_channels():
        writing.path = root.channel_dir(channel.name)
        if channel.input_mode == "Pipe":
            pipes.append(
                stage_pipe_channel(
                    objects, channel, root, host_index=plan.rank, host_count=host_count
                )
            )
            continue
        mounts += stage_channel(
            objects,
            channel,
            root,
            host_index=plan.rank,
            host_count=host_count,
            isolate=placement.isolate and not placement.warm,
        )
    script_root = _script_root(placement)
    if plan.checkpoint_uri is not None:
        folder = checkpoint_folder(plan)
        writing.path = folder.host_path(root)
        _say_mapped(placement.log, "CheckpointConfig", folder, script_root, "SM_CHECKPOINT_DIR")
        restored = restore_checkpoints(objects, plan.checkpoint_uri, folder.host_path(root))
        if restored:
            append_log(
                placement.log,
                f"Restored {restored} checkpoint file(s) from {plan.checkpoint_uri}\n",
            )
    if plan.tensorboard_uri is not None:
        folder = tensorboard_folder(plan)
        writing.path = folder.host_path(root)
        _say_mapped(
            placement.log, "TensorBoardOutputConfig", folder, script_root, "SM_TENSORBOARD_DIR"
        )
        folder.host_path(root).mkdir(parents=True, exist_ok=True)
    writing.path = root.path
    if placement.etc_hosts is not None:
        mounts.append(Mount(placement.etc_hosts, Path("/etc/hosts")))
    if plan.infra_check:
        infra_check(plan, root, placement.log)
    return root, mounts, pipes


def _script_root(placement: HostPlacement) -> str:
    return CONTAINER_ROOT if placement.alias else str(placement.root)


def _say_mapped(log: Path, config: str, folder: JobFolder, script_root: str, env: str) -> None:
    """Tell the job's log where a folder whose path was outside the job root went."""
    if not folder.mapped:
        return
    checkpoint = config == "CheckpointConfig"
    also = ", and LocalPath in input/config/checkpointconfig.json" if checkpoint else ""
    append_log(
        log,
        f"{config}.LocalPath {folder.asked!r} is outside the job root, so this job's folder "
        f"for it is {folder.script_path(script_root)} (in ${env}{also}): write there. "
        f"sageyard writes nothing to {folder.asked!r} on this machine and uploads only that "
        "folder.\n",
    )


def job_python(
    plan: HostPlan,
    placement: HostPlacement,
    root: JobRoot,
    should_stop: Callable[[], bool] = _never,
) -> str:
    """The interpreter that runs the script: this one, or a cached requirements environment.

    In a container, the image's ``python``; requirements are installed in the container.
    """
    if placement.container:
        return "python"
    if not plan.requirements:
        return sys.executable
    requirements = root.code_dir / plan.requirements
    if not requirements.is_file():
        raise FileNotFoundError(f"requirements file {plan.requirements} is not in source_dir")
    python, built = ensure_environment(placement.envs_dir, requirements, placement.log, should_stop)
    if not built:
        append_log(
            placement.log,
            f"Requirements from {plan.requirements} already installed (cached environment)\n",
        )
    return str(python)


def processes_per_host(plan: HostPlan, placement: HostPlacement) -> int | None:
    """How many processes a distributed job runs on the host (``None``: not distributed):
    ``process_count_per_node``, else one per GPU of the host, else 1 (a CPU-only host)."""
    if not plan.distributed:
        return None
    ((_, fields),) = plan.distributed.items()
    return int((fields or {}).get("ProcessCountPerNode") or len(placement.gpus) or 1)


def smp_parameters(plan: HostPlan) -> dict[str, Any] | None:
    """The SMP parameters of a ``Torchrun(smp=SMP(...))`` job; ``None`` for other jobs."""
    smp = ((plan.distributed or {}).get("Torchrun") or {}).get("Smp")
    return dict(smp) if smp is not None else None


def launcher(plan: HostPlan) -> str | None:
    """The job's distributed launcher: ``"Torchrun"``, ``"MPI"`` or ``None``."""
    return next(iter(plan.distributed)) if plan.distributed else None


def host_argv(plan: HostPlan, python: str, placement: HostPlacement) -> list[str]:
    """The host's command line; empty in a container without source code: the image's own
    entry point runs (with ``train``, as SageMaker does)."""
    if placement.container and not (plan.command or plan.entry_script):
        return []
    processes = processes_per_host(plan, placement)
    if plan.program:  # a data-parallel program has Torchrun (jobs/request._data_parallel)
        argv = [python, "-m", plan.program]
        if launcher(plan) == "Torchrun" and processes:
            argv = _under_torchrun(plan, python, argv[1:], placement, processes)
    elif plan.command:
        argv = command_argv(plan.command, plan.arguments)
    elif plan.entry_script:
        argv = [*script_argv(python, plan.entry_script, plan.hyperparameters), *plan.arguments]
        if launcher(plan) == "Torchrun" and processes:  # torchrun starts the interpreters
            argv = _under_torchrun(plan, python, argv[1:], placement, processes)
        elif launcher(plan) == "MPI" and processes:
            argv = mpi_host_argv(plan, python, argv[1:], processes)
    else:  # validated with the request; kept as a clear error for hand-made plans
        raise HostSetupError(
            "ClientError: the job has neither an entry script, a command nor a program",
            retryable=False,
        )
    if placement.container and plan.requirements:
        install = 'python -m pip install --no-input -r "$0" && exec "$@"'
        argv = ["/bin/sh", "-c", install, plan.requirements, *argv]
    return argv


def _under_torchrun(
    plan: HostPlan, python: str, script: list[str], placement: HostPlacement, processes: int
) -> list[str]:
    """``script`` (a file or ``-m module``, and its arguments) under this host's torchrun."""
    return torchrun_argv(
        python,
        script,
        nnodes=len(plan.hosts),
        nproc_per_node=processes,
        node_rank=plan.hosts.index(plan.host),
        master_addr=placement.master_addr or plan.hosts[0],
        master_port=placement.master_port,
    )


def mpi_host_argv(plan: HostPlan, python: str, script: list[str], processes: int) -> list[str]:
    """An MPI job's host: mpirun on algo-1, an agent for its remote daemons on the others
    (``runtime/mpi.py``; sageyard's own Python runs them, the job's runs the ranks)."""
    agent = [sys.executable, "-m", "sageyard.runtime.mpi"]
    if plan.host != plan.hosts[0]:
        return [*agent, "serve"]
    fields = (plan.distributed or {})["MPI"]
    spec = {
        "hosts": list(plan.hosts),
        "processes": processes,
        "options": list(fields.get("MpiAdditionalOptions") or []),
        "python": python,
        "script": script,
    }
    return [*agent, "launch", json.dumps(spec)]


def host_context(plan: HostPlan, placement: HostPlacement) -> HostContext:
    """What the host's SM_* environment and config files are built from, after placement."""
    return HostContext(
        job_name=plan.job_name,
        root=CONTAINER_ROOT if placement.alias else str(placement.root),
        current_host=plan.host,
        hosts=list(plan.hosts),
        instance_type=plan.instance_type,
        instance_groups=[
            {
                "instance_group_name": group.name,
                "instance_type": group.instance_type,
                "hosts": list(group.hosts),
            }
            for group in plan.groups
        ],
        current_group_name=plan.group.name,
        hyperparameters=plan.hyperparameters,
        channels=[
            ChannelInfo(
                c.name,
                c.content_type,
                c.input_mode,
                c.distribution,
                c.record_wrapper_type,
                c.compression_type,
            )
            for c in plan.channels
        ],
        num_cpus=os.cpu_count() or 1,
        num_gpus=len(placement.gpus),
        master_port=placement.master_port,
        entry_script=plan.entry_script,
        user_environment=plan.environment,
        distributed_config=distributed_config(plan.distributed),
    )


#: Each launcher's fields, as the real SDK's ``model_dump()`` of it has them.
_LAUNCHER_FIELDS = {
    "Torchrun": ("process_count_per_node", "smp"),
    "MPI": ("process_count_per_node", "mpi_additional_options"),
}


def distributed_config(distributed: dict[str, Any] | None) -> dict[str, Any] | None:
    """``SM_DISTRIBUTED_CONFIG`` as the real SDK writes it (the launcher's ``model_dump()``,
    snake_case) from the job's ``{"Torchrun": {"ProcessCountPerNode": 2}}``.

    Example:
        >>> distributed_config({"Torchrun": {"ProcessCountPerNode": 2}})
        {'process_count_per_node': 2, 'smp': None}
    """
    if not distributed:
        return None
    ((kind, fields),) = distributed.items()
    given = {_snake(key): value for key, value in (fields or {}).items()}
    if given.get("smp") is not None:  # as SMP.model_dump() has it: every field
        given["smp"] = {name: given["smp"].get(name) for name in smp_config.DEFAULTS}
    return {name: given.get(name) for name in _LAUNCHER_FIELDS.get(kind, tuple(given))}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def host_launch(
    plan: HostPlan, placement: HostPlacement, root: JobRoot, python: str, mounts: list[Mount]
) -> HostLaunch:
    """Write the host's config files and build the process its executor starts."""
    ctx = host_context(plan, placement)
    documents = config_files(ctx)
    folders: dict[str, str] = {}  # where the job's own folders are, as the script sees them
    if plan.checkpoint_uri is not None:  # as SageMaker writes it, for programs that look
        checkpoints = checkpoint_folder(plan)
        folders["SM_CHECKPOINT_DIR"] = checkpoints.script_path(ctx.root)
        documents["checkpointconfig.json"] = {
            "LocalPath": plan.checkpoint_path
            if not checkpoints.mapped
            else folders["SM_CHECKPOINT_DIR"],
            "S3Uri": plan.checkpoint_uri,
        }
    if plan.tensorboard_uri is not None:
        folders["SM_TENSORBOARD_DIR"] = tensorboard_folder(plan).script_path(ctx.root)
    for filename, content in documents.items():
        (root.config_dir / filename).write_text(json.dumps(content, indent=2))
    env = {**build_environment(ctx), **folders, "PYTHONUNBUFFERED": "1"}
    if not placement.container:
        env = {**inherited_environment(os.environ), **env}
        # python, pip, torchrun and console scripts are the job's own (CONTRACT.md).
        bin_dir = str(Path(python).parent)
        path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir]
        env["PATH"] = os.pathsep.join([bin_dir, *path])
        if placement.master_addr is not None:
            env["SM_MASTER_ADDR"] = placement.master_addr
        if placement.cuda_visible:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(placement.gpus)
    if (processes := processes_per_host(plan, placement)) is not None:
        env.update(_distributed_environment(plan, placement, processes))
    if smp_parameters(plan) is not None and not placement.container:
        # every rank's Python imports torch.sagemaker as sageyard's (runtime/smp/hook.py)
        paths = [str(smp.SITE_DIR), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        env["PYTHONPATH"] = os.pathsep.join(paths)
    code_dir = Path(ctx.root) / "input" / "data" / "code"
    return HostLaunch(
        host=plan.host,
        argv=host_argv(plan, python, placement),
        env=env,
        cwd=code_dir if placement.alias else root.code_dir,
        log_path=placement.log,
        job_root=root.path,
        mounts=mounts,
        alias_container_root=placement.alias,
        isolate_network=plan.network_isolation and placement.isolate and len(plan.hosts) == 1,
        gpus=placement.gpus,
        # a requirements environment: the sandbox shows it (and no other of SAGEYARD_HOME)
        read_only=(Path(python).parent.parent,)
        if os.path.isabs(python) and python != sys.executable
        else (),
        writable=local_tracking_stores(plan),
    )


def _distributed_environment(
    plan: HostPlan, placement: HostPlacement, processes: int
) -> dict[str, str]:
    """A distributed host's own variables: torchrun's rank prefix, or the MPI agents' port
    and secret; each rank's share of the host's CPUs (as torchrun gives it) unless the job
    sets OMP_NUM_THREADS. Says so in the log when one process runs for want of GPUs."""
    kind = launcher(plan)
    env: dict[str, str] = {}
    if kind == "Torchrun":
        env["TORCHELASTIC_LOG_LINE_PREFIX_TEMPLATE"] = RANK_PREFIX
    elif kind == "MPI":
        env.update({mpi.PORT_ENV: str(placement.agent_port), mpi.TOKEN_ENV: placement.agent_token})
    if "OMP_NUM_THREADS" not in plan.environment:
        cpus = placement.cpus or os.cpu_count() or 1
        env["OMP_NUM_THREADS"] = str(max(1, cpus // processes))
    ((_, fields),) = (plan.distributed or {}).items()
    if not (fields or {}).get("ProcessCountPerNode") and not placement.gpus:
        append_log(
            placement.log,
            f"[sageyard] {kind}: 1 process on this host (process_count_per_node is not set "
            "and this machine has no GPU for it: one process per GPU where there are GPUs)\n",
        )
    return env


def local_tracking_stores(plan: HostPlan) -> tuple[Path, ...]:
    """Folders of the local MLflow stores a job logs to (the ``mlflow_tracking_uri``
    hyperparameter of sageyard's programs, a script's ``MLFLOW_TRACKING_URI``): shared services
    the sandbox shows read-write, as SageMaker's jobs reach their tracking server.

    Only folders that exist count, e.g. ``sqlite:////srv/mlflow/mlflow.db`` gives
    ``/srv/mlflow``.
    """
    found: list[Path] = []
    for value in (
        plan.hyperparameters.get("mlflow_tracking_uri"),
        plan.environment.get("MLFLOW_TRACKING_URI"),
    ):
        with contextlib.suppress(ValueError):
            value = json.loads(value) if value and value.startswith('"') else value
        folder = None
        if isinstance(value, str) and value.startswith("sqlite:///"):
            folder = Path(value.removeprefix("sqlite:///")).parent
        elif isinstance(value, str) and value.startswith("file:"):
            folder = Path(urllib.parse.urlparse(value).path)
        if folder is not None and folder.is_absolute() and folder.is_dir():
            found.append(folder.resolve())
    return tuple(dict.fromkeys(found))


def infra_check(plan: HostPlan, root: JobRoot, log: Path) -> None:
    """InfraCheckConfig: the job root is writable and the volume size fits on this disk."""
    probe = root.path / ".infra-check"
    probe.write_text("ok")
    probe.unlink()
    stat = os.statvfs(root.path)
    free_gb = stat.f_bavail * stat.f_frsize / 2**30
    note = f"Infra check on {plan.host}: job root writable, {free_gb:.1f} GB free"
    if free_gb < plan.volume_size_in_gb:
        note += f" (less than VolumeSizeInGB={plan.volume_size_in_gb})"
    append_log(log, note + "\n")


def needs_container_root(plan: HostPlan) -> bool:
    """Whether the job relies on /opt/ml paths that only exist inside a namespace."""
    return plan.checkpoint_uri is not None and not checkpoint_folder(plan).mapped


class Feeders:
    """The Pipe-mode feeders of one host (``sageyard.runtime.pipe``), one per Pipe channel."""

    def __init__(self, manifests: tuple[Path, ...], log: Path) -> None:
        self._processes: list[subprocess.Popen[bytes]] = []
        if manifests:
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "ab") as out:  # the feeders' errors go to the host's log
                self._processes = [
                    subprocess.Popen(
                        [sys.executable, "-m", "sageyard.runtime.pipe", str(manifest)],
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=out,
                        start_new_session=True,
                    )
                    for manifest in manifests
                ]

    def stop(self) -> None:
        for feeder in self._processes:
            feeder.kill()
            feeder.wait()
        self._processes = []


def failure_reason(
    root: JobRoot, log: Path, exit_code: int, log_start: int = 0, secrets: Sequence[str] = ()
) -> str:
    """FailureReason: the start of ``output/failure``, else the end of the traceback, with
    the values of the job's secret environment variables (``secrets``) masked.

    Only the log written after ``log_start`` (this attempt's) is searched. A script that
    failed because its disk is full gets a reason that names the disk and the path.
    """
    hidden = list(secrets)
    try:
        written = root.failure_file.read_text(errors="replace").strip()
    except OSError:
        written = ""
    if written:  # masked whole, then cut: no piece of a secret is left at the cut either
        return mask_text(mask_text(written, hidden)[:1024], hidden, edges=True)
    return _traceback_reason(root, log, exit_code, log_start, hidden)


def _traceback_reason(
    root: JobRoot, log: Path, exit_code: int, log_start: int, secrets: list[str]
) -> str:
    try:
        with open(log, "rb") as file:
            file.seek(log_start)
            lines = file.read().decode(errors="replace").splitlines()[-200:]
    except OSError:
        lines = []
    head = f"AlgorithmError: the script exited with code {exit_code}"
    failed = failed_rank(lines)
    if failed is not None:  # torchrun's own traceback says only which rank failed
        rank, code, lines = failed
        ended = f"was killed by {signal_name(-code)}" if code < 0 else f"exited with code {code}"
        head = f"AlgorithmError: rank {rank} {ended}"
    starts = [i for i, line in enumerate(lines) if line.startswith(_TRACEBACK)]
    excerpt = lines[starts[-1] :] if starts else lines[-5:]
    detail = mask_text("\n".join(excerpt).strip(), secrets)
    if len(detail) > 900:
        detail = mask_text("..." + detail[-900:], secrets, edges=True)
    disk = _script_disk_full(root, detail, log)
    if disk is not None:
        head += f": {disk}"
    return head + (f":\n{detail}" if detail else "" if head.endswith(".") else ".")


_ROOT_CAUSE = "Root Cause (first observed failure):"
_FIELD = re.compile(r"^\s*(rank|exitcode)\s*:\s*(-?\d+)")


def failed_rank(lines: Sequence[str]) -> tuple[int, int, list[str]] | None:
    """From a distributed host's log: the rank torchrun or mpirun names as the first to
    fail, its exit code, and that rank's own lines (their rank prefixes removed); ``None``
    when no launcher reported a failed rank.

    Example:
        >>> failed_rank(["[rank1]: Traceback (most recent call last):",
        ...     "[rank1]: [rank1]: ValueError: no", "[rank0]: fine", _ROOT_CAUSE,
        ...     "  rank      : 1 (local_rank: 1)", "  exitcode  : 1 (pid: 5)"])
        (1, 1, ['Traceback (most recent call last):', 'ValueError: no'])
        >>> failed_rank(["[1,2]<stderr>:ValueError: no", "[1,0]<stdout>:fine",
        ...     "MPI_ABORT was invoked on rank 2 in communicator MPI_COMM_WORLD",
        ...     "with errorcode 1."])
        (2, 1, ['ValueError: no'])
    """
    return _torchrun_failure(lines) or _mpirun_failure(lines)


def _torchrun_failure(lines: Sequence[str]) -> tuple[int, int, list[str]] | None:
    starts = [i for i, line in enumerate(lines) if line.startswith(_ROOT_CAUSE)]
    if not starts:
        return None
    fields: dict[str, int] = {}
    for line in lines[starts[-1] :]:
        found = _FIELD.match(line)
        if found:
            fields.setdefault(found.group(1), int(found.group(2)))
    if "rank" not in fields:
        return None
    prefix = f"[rank{fields['rank']}]:"
    own = []
    for line in lines[: starts[-1]]:
        if not line.startswith(prefix):
            continue
        while line.startswith(prefix):  # torch prefixes a rank's traceback once more
            line = line[len(prefix) :].removeprefix(" ")
        own.append(line)
    return fields["rank"], fields.get("exitcode", 1), own


#: How mpirun names the rank that ended the job: an MPI_Abort (mpi4py's, for an uncaught
#: error), a non-zero exit (``orte_abort_on_non_zero_status``), or a signal.
_MPI_FAILED = (
    re.compile(
        r"MPI_ABORT was invoked on rank (?P<rank>\d+) .*\n?\s*with errorcode (?P<code>-?\d+)"
    ),
    re.compile(r"Process name: \[\[\d+,\d+\],(?P<rank>\d+)\]\s*\n\s*Exit code:\s*(?P<code>-?\d+)"),
    re.compile(
        r"process rank (?P<rank>\d+) with PID \d+ on node \S+ exited on signal (?P<signal>\d+)"
    ),
)
_MPI_TAG = re.compile(r"^\[\d+,(\d+)\]<std(?:out|err)>:")


def _mpirun_failure(lines: Sequence[str]) -> tuple[int, int, list[str]] | None:
    text = "\n".join(lines)
    for pattern in _MPI_FAILED:
        found = pattern.search(text)
        if found is None:
            continue
        rank = int(found.group("rank"))
        fields = found.groupdict()
        code = -int(fields["signal"]) if fields.get("signal") else int(fields["code"])
        own = []
        for line in lines:
            tag = _MPI_TAG.match(line)
            if tag is not None and int(tag.group(1)) == rank:
                own.append(line[tag.end() :])
        return rank, code, own
    return None


def _script_disk_full(root: JobRoot, detail: str, log: Path) -> str | None:
    """The disk and path a script's ``[Errno 28]`` names (the path as the script wrote it,
    the disk it is on here); with no traceback at all, the log's disk if it is full."""
    found = _NO_SPACE.search(detail)
    if found is None:
        return None if detail or not _disk_is_full(log) else str(DiskFullError(log))
    path = found.group(1) or str(root.path)
    mount, device = DiskFullError.disk_of(
        root.host_path(path) if os.path.isabs(path) else root.path
    )
    return str(DiskFullError(path, mount=mount, device=device))


def _disk_is_full(path: Path) -> bool:
    try:
        stat = os.statvfs(path.parent)
    except OSError:
        return False
    return stat.f_bavail == 0


def exit_of(
    code: int,
    root: JobRoot,
    log: Path,
    log_start: int = 0,
    secrets: Sequence[str] = (),
    oom_kills_at_start: int | None = None,
) -> HostExit:
    """How the host ended, its FailureReason read from its job root and log (the values of
    the job's secret environment variables, ``secrets``, masked). ``oom_kills_at_start``:
    :func:`oom_kills` when the host started, to tell a SIGKILL from the out-of-memory killer."""
    if code == 0:
        return HostExit(0)
    if code < 0 and not root.failure_file.exists():  # killed, and the script did not say why
        oom = (
            code == -signal.SIGKILL
            and oom_kills_at_start is not None
            and oom_kills() > oom_kills_at_start
        )
        return HostExit(code, out_of_memory=oom)
    return HostExit(code, failure_reason(root, log, code, log_start, secrets))


def upload_host(plan: HostPlan, root: JobRoot, objects: ObjectStore) -> HostOutputs:
    """Upload this host's checkpoints and TensorBoard files; name the folders to merge.

    Only folders inside the job root are uploaded (a ``LocalPath`` outside it was mapped
    into it). A full disk raises :class:`DiskFullError`, naming the disk and the path.
    """
    folders = []
    if plan.checkpoint_uri is not None:
        folders.append((checkpoint_folder(plan), plan.checkpoint_uri.rstrip("/")))
    if plan.tensorboard_uri is not None:
        folders.append((tensorboard_folder(plan), plan.tensorboard_uri))
    for folder, uri in folders:
        local = folder.host_path(root)
        if local.is_dir() and any(local.iterdir()):
            try:
                upload_path(objects, local, uri)
            except Exception as error:
                if DiskFullError.caused(error):
                    raise disk_full(error, _store_target(objects, uri)) from error
                raise
    return HostOutputs(root.model_dir, root.output_data_dir)


def _store_target(objects: ObjectStore, uri: str) -> str:
    """Where an object store on this disk keeps ``uri`` (the embedded store), else the URI."""
    base = getattr(objects, "root", None)
    if isinstance(base, Path):
        bucket, key = parse_s3_uri(uri)
        return str(base / bucket / key)
    return uri


def signal_name(signum: int) -> str:
    """``SIGKILL`` for 9 (``SIG<number>`` for a number no signal has)."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"SIG{signum}"
