"""A job's hosts: their job roots, staged inputs, and the command line each one runs."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sageyard.executors import HostHandle, HostLaunch, Mount
from sageyard.jobs.capacity import Reservation, machine_gpus
from sageyard.jobs.requirements import ensure_environment
from sageyard.jobs.spec import TrainingJobSpec
from sageyard.jobs.staging import (
    restore_checkpoints,
    stage_channel,
    stage_code,
    stage_pipe_channel,
)
from sageyard.jobs.states import JobPaths
from sageyard.runtime.drivers import command_argv, script_argv
from sageyard.runtime.environment import ChannelInfo, HostContext, build_environment, config_files
from sageyard.runtime.layout import CONTAINER_ROOT, JobRoot
from sageyard.storage import ObjectStore


@dataclass(frozen=True)
class Placement:
    """How the hosts of one attempt run.

    ``isolate``: each host has a private view of the file system (a mount namespace, or a
    container), so local data is bind-mounted instead of copied. ``alias``: the job root is
    visible at ``/opt/ml``. ``image``: run in this Docker image (``Mode.LOCAL_CONTAINER``).
    """

    isolate: bool
    alias: bool
    image: str | None = None


@dataclass
class Host:
    name: str
    rank: int
    root: JobRoot
    instance_type: str
    group: str
    log: Path
    mounts: list[Mount] = field(default_factory=list)
    pipes: list[Path] = field(default_factory=list)  # feeder manifests of Pipe channels
    gpus: list[str] = field(default_factory=list)
    handle: HostHandle | None = None
    exit_code: int | None = None


def append_log(log: Path, text: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        out.write(text)


def _split(items: list[str], parts: int) -> list[list[str]]:
    size = len(items) // parts if parts else 0
    return [items[i * size : (i + 1) * size] for i in range(parts)]


def prepare_hosts(
    paths: JobPaths,
    objects: ObjectStore,
    spec: TrainingJobSpec,
    reservation: Reservation,
    placement: Placement,
) -> list[Host]:
    """Create each host's job root and stage code, channels and checkpoints into it."""
    hosts: list[Host] = []
    per_host = _split(reservation.gpus, spec.host_count)
    for rank, (name, group) in enumerate(spec.hosts):
        root = JobRoot(paths.hosts / name)
        root.create()
        host = Host(
            name, rank, root, group.instance_type, group.name, paths.log(name), gpus=per_host[rank]
        )
        if spec.code_uri:
            stage_code(objects, spec.code_uri, root)
        for channel in spec.channels:
            if channel.instance_group_names and group.name not in channel.instance_group_names:
                continue
            if channel.input_mode == "Pipe":
                host.pipes.append(
                    stage_pipe_channel(
                        objects, channel, root, host_index=rank, host_count=spec.host_count
                    )
                )
                continue
            host.mounts += stage_channel(
                objects,
                channel,
                root,
                host_index=rank,
                host_count=spec.host_count,
                isolate=placement.isolate,
            )
        if spec.checkpoint is not None:
            local = root.host_path(spec.checkpoint.local_path or "/opt/ml/checkpoints")
            restored = restore_checkpoints(objects, spec.checkpoint.s3_uri, local)
            if restored:
                append_log(
                    host.log,
                    f"Restored {restored} checkpoint file(s) from {spec.checkpoint.s3_uri}\n",
                )
        if spec.tensorboard is not None:
            tensorboard = spec.tensorboard.local_path or "/opt/ml/output/tensorboard"
            root.host_path(tensorboard).mkdir(parents=True, exist_ok=True)
        if placement.isolate and placement.image is None and spec.host_count > 1:
            host.mounts.append(Mount(paths.etc_hosts(spec.host_count), Path("/etc/hosts")))
        if spec.infra_check:
            infra_check(host, spec)
        hosts.append(host)
    return hosts


def job_python(envs_dir: Path, spec: TrainingJobSpec, first: Host, placement: Placement) -> str:
    """The interpreter that runs the script: this one, or a cached requirements environment.

    In a container, the image's ``python``; requirements are installed in the container.
    """
    if placement.image is not None:
        return "python"
    if not spec.requirements:
        return sys.executable
    requirements = first.root.code_dir / spec.requirements
    if not requirements.is_file():
        raise FileNotFoundError(f"requirements file {spec.requirements} is not in source_dir")
    python, built = ensure_environment(envs_dir, requirements, first.log)
    if not built:
        append_log(
            first.log,
            f"Requirements from {spec.requirements} already installed (cached environment)\n",
        )
    return str(python)


def _argv(spec: TrainingJobSpec, python: str, placement: Placement) -> list[str]:
    """The host's command line; empty in a container without source code: the image's own
    entry point runs (with ``train``, as SageMaker does)."""
    if placement.image is not None and not (spec.command or spec.entry_script):
        return []
    if spec.builtin_program:
        argv = [python, "-m", spec.builtin_program]
    elif spec.command:
        argv = command_argv(spec.command)
    elif spec.entry_script:
        argv = script_argv(python, spec.entry_script, spec.hyperparameters)
    else:  # validated by the facade; kept as a clear error for hand-made rows
        raise ValueError("the job has neither an entry script, a command nor a program")
    if placement.image is not None and spec.requirements:
        install = 'python -m pip install --no-input -r "$0" && exec "$@"'
        argv = ["/bin/sh", "-c", install, spec.requirements, *argv]
    return argv


def host_launch(
    job_name: str,
    spec: TrainingJobSpec,
    host: Host,
    hosts: list[Host],
    python: str,
    placement: Placement,
    port: int,
    keep_fds: tuple[int, ...],
) -> HostLaunch:
    """Write the host's config files and build what its executor needs to start it."""
    root = CONTAINER_ROOT if placement.alias else str(host.root.path)
    groups: dict[str, dict[str, object]] = {}
    for other in hosts:
        group = groups.setdefault(
            other.group,
            {"instance_group_name": other.group, "instance_type": other.instance_type, "hosts": []},
        )
        group["hosts"].append(other.name)  # type: ignore[attr-defined]
    ctx = HostContext(
        job_name=job_name,
        root=root,
        current_host=host.name,
        hosts=[h.name for h in hosts],
        instance_type=host.instance_type,
        instance_groups=list(groups.values()),
        current_group_name=host.group,
        hyperparameters=spec.hyperparameters,
        channels=[
            ChannelInfo(
                c.name,
                c.content_type,
                c.input_mode,
                c.distribution,
                c.record_wrapper_type,
                c.compression_type,
            )
            for c in spec.channels
        ],
        num_cpus=os.cpu_count() or 1,
        num_gpus=len(host.gpus),
        master_port=port,
        entry_script=spec.entry_script,
        user_environment=spec.environment,
        distributed_config=spec.distributed,
    )
    documents = config_files(ctx)
    if spec.checkpoint is not None:  # as SageMaker writes it, for programs that look
        documents["checkpointconfig.json"] = {
            "LocalPath": spec.checkpoint.local_path or "/opt/ml/checkpoints",
            "S3Uri": spec.checkpoint.s3_uri,
        }
    for filename, content in documents.items():
        (host.root.config_dir / filename).write_text(json.dumps(content, indent=2))
    env = {**build_environment(ctx), "PYTHONUNBUFFERED": "1"}
    if placement.image is None:
        env = {**os.environ, **env}
        if not (placement.isolate and len(hosts) > 1):
            env["SM_MASTER_ADDR"] = "127.0.0.1"  # algo-N resolve only inside a namespace
        if host.gpus or machine_gpus():
            env["CUDA_VISIBLE_DEVICES"] = ",".join(host.gpus)
    code_dir = Path(root) / "input" / "data" / "code"
    return HostLaunch(
        host=host.name,
        argv=_argv(spec, python, placement),
        env=env,
        cwd=code_dir if placement.alias else host.root.code_dir,
        log_path=host.log,
        job_root=host.root.path,
        mounts=host.mounts,
        alias_container_root=placement.alias,
        isolate_network=spec.network_isolation and placement.isolate and len(hosts) == 1,
        keep_fds=keep_fds,
        gpus=tuple(host.gpus),
    )


def infra_check(host: Host, spec: TrainingJobSpec) -> None:
    """InfraCheckConfig: the job root is writable and the volume size fits on this disk."""
    probe = host.root.path / ".infra-check"
    probe.write_text("ok")
    probe.unlink()
    stat = os.statvfs(host.root.path)
    free_gb = stat.f_bavail * stat.f_frsize / 2**30
    note = f"Infra check on {host.name}: job root writable, {free_gb:.1f} GB free"
    if free_gb < spec.volume_size_in_gb:
        note += f" (less than VolumeSizeInGB={spec.volume_size_in_gb})"
    append_log(host.log, note + "\n")


def needs_container_root(spec: TrainingJobSpec) -> bool:
    """Whether the job relies on /opt/ml paths that only exist inside a namespace."""
    local = spec.checkpoint.local_path if spec.checkpoint else None
    return bool(local and local.startswith(CONTAINER_ROOT))
