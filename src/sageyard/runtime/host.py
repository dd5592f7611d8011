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

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sageyard.core.exceptions import StorageError
from sageyard.runtime.drivers import command_argv, script_argv
from sageyard.runtime.environment import ChannelInfo, HostContext, build_environment, config_files
from sageyard.runtime.layout import CONTAINER_ROOT, JobRoot
from sageyard.runtime.plan import HostPlan
from sageyard.runtime.process import HostLaunch, Mount
from sageyard.runtime.requirements import RequirementsError, ensure_environment
from sageyard.runtime.staging import (
    restore_checkpoints,
    stage_channel,
    stage_code,
    stage_pipe_channel,
)
from sageyard.storage import ObjectStore, upload_path

_TRACEBACK = "Traceback (most recent call last):"


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
    keep_fds: tuple[int, ...] = ()  # capacity locks the host's processes hold


@dataclass(frozen=True)
class HostExit:
    """How a host ended: its main process's exit code (negative: killed by that signal).

    ``failure_text`` is the host's FailureReason when it failed: what the script wrote to
    ``output/failure``, else the end of its traceback. It is ``None`` on success, and for a
    host killed by a signal that left no failure file (the supervisor words that itself).
    """

    code: int
    failure_text: str | None = None


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


def prepare_host(plan: HostPlan, placement: HostPlacement, objects: ObjectStore) -> PreparedHost:
    """Stage the host's inputs, write its config, build its environment: ready to start.

    Raises :class:`HostSetupError`: a ``ClientError`` for a mistake in the job (a missing
    local path or requirements file, requirements pip cannot install), an
    ``InternalServerError`` (retryable) when storage or the disk failed.
    """
    try:
        root, mounts, pipes = _stage(plan, placement, objects)
        python = job_python(plan, placement, root)
        launch = host_launch(plan, placement, root, python, mounts)
    except HostSetupError:
        raise
    except (FileNotFoundError, RequirementsError, ValueError) as error:
        raise HostSetupError(f"ClientError: {error}", retryable=False) from error
    except (StorageError, OSError) as error:
        raise HostSetupError(f"InternalServerError: {error}", retryable=True) from error
    return PreparedHost(launch, root, tuple(pipes))


def _stage(
    plan: HostPlan, placement: HostPlacement, objects: ObjectStore
) -> tuple[JobRoot, list[Mount], list[Path]]:
    """Create the job root and bring code, channels and checkpoints into it."""
    root = JobRoot(placement.root)
    root.create()
    mounts: list[Mount] = []
    pipes: list[Path] = []
    host_count = len(plan.hosts)
    if plan.code_uri:
        stage_code(objects, plan.code_uri, root)
    for channel in plan.host_channels():
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
            isolate=placement.isolate,
        )
    if plan.checkpoint_uri is not None:
        local = root.host_path(plan.checkpoint_path)
        restored = restore_checkpoints(objects, plan.checkpoint_uri, local)
        if restored:
            append_log(
                placement.log,
                f"Restored {restored} checkpoint file(s) from {plan.checkpoint_uri}\n",
            )
    if plan.tensorboard_uri is not None:
        root.host_path(plan.tensorboard_path).mkdir(parents=True, exist_ok=True)
    if placement.etc_hosts is not None:
        mounts.append(Mount(placement.etc_hosts, Path("/etc/hosts")))
    if plan.infra_check:
        infra_check(plan, root, placement.log)
    return root, mounts, pipes


def job_python(plan: HostPlan, placement: HostPlacement, root: JobRoot) -> str:
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
    python, built = ensure_environment(placement.envs_dir, requirements, placement.log)
    if not built:
        append_log(
            placement.log,
            f"Requirements from {plan.requirements} already installed (cached environment)\n",
        )
    return str(python)


def host_argv(plan: HostPlan, python: str, placement: HostPlacement) -> list[str]:
    """The host's command line; empty in a container without source code: the image's own
    entry point runs (with ``train``, as SageMaker does)."""
    if placement.container and not (plan.command or plan.entry_script):
        return []
    if plan.program:
        argv = [python, "-m", plan.program]
    elif plan.command:
        argv = command_argv(plan.command, plan.arguments)
    elif plan.entry_script:
        argv = [*script_argv(python, plan.entry_script, plan.hyperparameters), *plan.arguments]
    else:  # validated with the request; kept as a clear error for hand-made plans
        raise HostSetupError(
            "ClientError: the job has neither an entry script, a command nor a program",
            retryable=False,
        )
    if placement.container and plan.requirements:
        install = 'python -m pip install --no-input -r "$0" && exec "$@"'
        argv = ["/bin/sh", "-c", install, plan.requirements, *argv]
    return argv


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
        distributed_config=plan.distributed,
    )


def host_launch(
    plan: HostPlan, placement: HostPlacement, root: JobRoot, python: str, mounts: list[Mount]
) -> HostLaunch:
    """Write the host's config files and build the process its executor starts."""
    ctx = host_context(plan, placement)
    documents = config_files(ctx)
    if plan.checkpoint_uri is not None:  # as SageMaker writes it, for programs that look
        documents["checkpointconfig.json"] = {
            "LocalPath": plan.checkpoint_path,
            "S3Uri": plan.checkpoint_uri,
        }
    for filename, content in documents.items():
        (root.config_dir / filename).write_text(json.dumps(content, indent=2))
    env = {**build_environment(ctx), "PYTHONUNBUFFERED": "1"}
    if not placement.container:
        env = {**os.environ, **env}
        # python, pip, torchrun and console scripts are the job's own (CONTRACT.md).
        bin_dir = str(Path(python).parent)
        path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir]
        env["PATH"] = os.pathsep.join([bin_dir, *path])
        if placement.master_addr is not None:
            env["SM_MASTER_ADDR"] = placement.master_addr
        if placement.cuda_visible:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(placement.gpus)
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
        keep_fds=placement.keep_fds,
        gpus=placement.gpus,
    )


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
    return plan.checkpoint_uri is not None and plan.checkpoint_path.startswith(CONTAINER_ROOT)


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


def failure_reason(root: JobRoot, log: Path, exit_code: int, log_start: int = 0) -> str:
    """FailureReason: the start of ``output/failure``, else the end of the traceback.

    Only the log written after ``log_start`` (this attempt's) is searched.
    """
    try:
        written = root.failure_file.read_text(errors="replace").strip()
    except OSError:
        written = ""
    if written:
        return written[:1024]
    try:
        with open(log, "rb") as file:
            file.seek(log_start)
            lines = file.read().decode(errors="replace").splitlines()[-200:]
    except OSError:
        lines = []
    starts = [i for i, line in enumerate(lines) if line.startswith(_TRACEBACK)]
    excerpt = lines[starts[-1] :] if starts else lines[-5:]
    detail = "\n".join(excerpt).strip()
    if len(detail) > 900:
        detail = "..." + detail[-900:]
    return f"AlgorithmError: the script exited with code {exit_code}" + (
        f":\n{detail}" if detail else "."
    )


def exit_of(code: int, root: JobRoot, log: Path, log_start: int = 0) -> HostExit:
    """How the host ended, its FailureReason read from its job root and log."""
    if code == 0:
        return HostExit(0)
    if code < 0 and not root.failure_file.exists():
        return HostExit(code)  # killed by a signal, and the script did not say why
    return HostExit(code, failure_reason(root, log, code, log_start))


def upload_host(plan: HostPlan, root: JobRoot, objects: ObjectStore) -> HostOutputs:
    """Upload this host's checkpoints and TensorBoard files; name the folders to merge."""
    if plan.checkpoint_uri is not None:
        local = root.host_path(plan.checkpoint_path)
        if local.is_dir() and any(local.iterdir()):
            upload_path(objects, local, plan.checkpoint_uri.rstrip("/"))
    if plan.tensorboard_uri is not None:
        local = root.host_path(plan.tensorboard_path)
        if local.is_dir() and any(local.iterdir()):
            upload_path(objects, local, plan.tensorboard_uri)
    return HostOutputs(root.model_dir, root.output_data_dir)


def signal_name(signum: int) -> str:
    """``SIGKILL`` for 9 (``SIG<number>`` for a number no signal has)."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"SIG{signum}"
