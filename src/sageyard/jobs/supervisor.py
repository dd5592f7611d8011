"""The supervisor of one training job: Starting → Downloading → Training → Uploading → end.

One supervisor process watches each job, detached from the caller (see ``launch.py``). It
writes every status change, metric and heartbeat to the job store, so any process can
follow the job, and a reader can tell when the supervisor itself has died.

Run one by hand with ``python -m sageyard.jobs.supervisor JOB_NAME``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sageyard.core.exceptions import StorageError
from sageyard.core.settings import Settings
from sageyard.executors import HostHandle, HostLaunch, Mount
from sageyard.executors.local import (
    LocalExecutor,
    container_root_available,
    isolation_available,
)
from sageyard.jobs import artifacts as job_artifacts
from sageyard.jobs.capacity import Reservation, SlotPool, gpus_for_instance_type, machine_gpus
from sageyard.jobs.liveness import owner_token
from sageyard.jobs.metrics import LogTail, MetricExtractor
from sageyard.jobs.requirements import RequirementsError, ensure_environment
from sageyard.jobs.spec import TrainingJobSpec
from sageyard.jobs.staging import restore_checkpoints, stage_channel, stage_code
from sageyard.jobs.states import (
    TERMINAL,
    JobPaths,
    StatusWriter,
)
from sageyard.runtime.drivers import command_argv, script_argv
from sageyard.runtime.environment import ChannelInfo, HostContext, build_environment, config_files
from sageyard.runtime.layout import CONTAINER_ROOT, JobRoot
from sageyard.storage import ObjectStore, object_store_for
from sageyard.store import JobStore, MetricPoint, open_store

logger = logging.getLogger(__name__)

_TRACEBACK = "Traceback (most recent call last):"


class InfrastructureError(RuntimeError):
    """A failure of the platform rather than of the script: the attempt may be retried."""


@dataclass
class Host:
    name: str
    rank: int
    root: JobRoot
    instance_type: str
    group: str
    log: Path
    mounts: list[Mount] = field(default_factory=list)
    gpus: list[str] = field(default_factory=list)
    handle: HostHandle | None = None
    exit_code: int | None = None


@dataclass
class Outcome:
    status: str  # Completed | Failed | Stopped
    secondary: str
    failure_reason: str | None = None
    retryable: bool = False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def failure_reason(root: JobRoot, log: Path, exit_code: int) -> str:
    """FailureReason: the start of ``output/failure``, else the end of the traceback."""
    try:
        written = root.failure_file.read_text(errors="replace").strip()
    except OSError:
        written = ""
    if written:
        return written[:1024]
    try:
        lines = log.read_text(errors="replace").splitlines()[-200:]
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


class Supervisor:
    """Runs one job to its end. Construct cheaply; :meth:`run` does the work."""

    def __init__(self, settings: Settings, job_name: str) -> None:
        self.settings = settings
        self.name = job_name
        self.paths = JobPaths(settings.jobs_dir / job_name)

    # -- the whole life ---------------------------------------------------------------------

    def run(self) -> None:
        store = open_store(self.settings.store_url)
        record = store.get(self.name)
        if record is None or record.status in TERMINAL:
            return
        spec = TrainingJobSpec.model_validate(record.document["spec"])
        status = StatusWriter(store, self.name, self.paths)
        status.claim(owner_token())
        heartbeat = _Heartbeat(store, self.name, self.settings.heartbeat_seconds)
        heartbeat.start()
        reservation: Reservation | None = None
        try:
            reservation, outcome = self._run(store, status, spec)
        except Exception as error:  # the platform failed: never leave the job InProgress
            logger.exception("supervisor of %s failed", self.name)
            outcome = Outcome("Failed", "Failed", f"InternalServerError: {error}")
        finally:
            heartbeat.stop()
        status.finish(outcome.status, outcome.secondary, outcome.failure_reason)
        if reservation is not None:
            reservation.release()
        store.close()

    def _run(
        self, store: JobStore, status: StatusWriter, spec: TrainingJobSpec
    ) -> tuple[Reservation | None, Outcome]:
        objects = object_store_for(self.settings)
        gpus_wanted = self._gpus_wanted(spec, status)
        pool = SlotPool(self.settings.home / "slots", self.settings.slots, machine_gpus())
        pending = spec.stopping_condition.max_pending_time_in_seconds
        created = time.time()
        reservation = pool.acquire(
            spec.host_count,
            gpus_wanted,
            deadline=None if pending is None else created + pending,
            should_stop=status.stop_requested_throttled,
            on_wait=lambda: status.transition(
                "Pending",
                f"Waiting for capacity: {spec.host_count} host(s) need a slot and all "
                f"{self.settings.slots} slots of this machine are busy.",
            ),
        )
        if reservation is None:
            if status.stop_requested():
                return None, Outcome("Stopped", "Stopped")
            return None, Outcome(
                "Failed",
                "Failed",
                f"CapacityError: no capacity within MaxPendingTimeInSeconds ({pending} s); "
                f"{self.settings.slots} slots are configured (SAGEYARD_SLOTS).",
            )
        attempts = 1 + spec.maximum_retry_attempts
        training_started: float | None = None
        outcome = Outcome("Failed", "Failed", "InternalServerError: the job did not run.")
        for attempt in range(attempts):
            if attempt:
                status.transition("Restarting", f"Retrying after: {outcome.failure_reason}")
            outcome, training_started = self._attempt(
                store, objects, status, spec, reservation, training_started
            )
            if not outcome.retryable or attempt == attempts - 1:
                break
        return reservation, outcome

    def _attempt(
        self,
        store: JobStore,
        objects: ObjectStore,
        status: StatusWriter,
        spec: TrainingJobSpec,
        reservation: Reservation,
        training_started: float | None,
    ) -> tuple[Outcome, float | None]:
        status.transition("Downloading", "Downloading input data")
        isolate = self.settings.isolation == "auto" and isolation_available()
        alias = isolate and container_root_available()
        if not alias and attempt_note_needed(spec):
            status.note(
                "No private mount namespace here (not root, or SAGEYARD_ISOLATION=off): "
                "/opt/ml is not this job's folder, so use the SM_* variables (SM_MODEL_DIR, "
                "...) rather than hard-coded /opt/ml paths; the checkpoint folder is "
                "<job root>/checkpoints."
            )
        try:
            hosts = self._prepare_hosts(objects, spec, reservation, isolate, alias)
            python = self._python(spec, hosts[0])
        except (StorageError, OSError) as error:
            return Outcome("Failed", "Failed", f"InternalServerError: {error}", True), None
        except (FileNotFoundError, RequirementsError, ValueError) as error:
            return Outcome("Failed", "Failed", f"ClientError: {error}"), None
        if status.stop_requested():
            return Outcome("Stopped", "Stopped"), training_started
        status.transition("Training", "Training image download completed. Training in progress.")
        started = training_started or time.time()
        status.training_started(started)
        outcome = _Watch(
            self,
            store,
            status,
            spec,
            hosts,
            python,
            isolate,
            alias,
            started,
            tuple(reservation.fds),
        ).run()
        status.transition("Uploading", "Uploading generated training model")
        job_artifacts.upload_outputs(objects, spec, [h.root for h in hosts])
        status.training_ended(time.time())
        return outcome, started

    # -- preparation ------------------------------------------------------------------------

    def _gpus_wanted(self, spec: TrainingJobSpec, status: StatusWriter) -> int:
        wanted = sum(gpus_for_instance_type(t.instance_type) for _, t in spec.hosts)
        have = len(machine_gpus())
        if wanted and have < wanted:
            instance_type = spec.hosts[0][1].instance_type
            per_host = gpus_for_instance_type(instance_type)
            hosts = (
                f" per host, {wanted} for {spec.host_count} hosts" if spec.host_count > 1 else ""
            )
            status.note(
                f"{instance_type} has {per_host} GPU(s){hosts}, but this machine has {have}: "
                f"running on {'the CPU' if not have else f'{have} GPU(s)'}. "
                "Set SAGEYARD_STRICT_GPU=1 to refuse such jobs instead."
            )
        return min(wanted, have)

    def _prepare_hosts(
        self,
        objects: ObjectStore,
        spec: TrainingJobSpec,
        reservation: Reservation,
        isolate: bool,
        alias: bool,
    ) -> list[Host]:
        hosts: list[Host] = []
        per_host = _split(reservation.gpus, spec.host_count)
        for rank, (name, group) in enumerate(spec.hosts):
            root = JobRoot(self.paths.hosts / name)
            root.create()
            host = Host(
                name,
                rank,
                root,
                group.instance_type,
                group.name,
                self.paths.log(name),
                gpus=per_host[rank],
            )
            if spec.code_uri:
                stage_code(objects, spec.code_uri, root)
            for channel in spec.channels:
                if channel.instance_group_names and group.name not in channel.instance_group_names:
                    continue
                host.mounts += stage_channel(
                    objects,
                    channel,
                    root,
                    host_index=rank,
                    host_count=spec.host_count,
                    isolate=isolate,
                )
            if spec.checkpoint is not None:
                local = root.host_path(spec.checkpoint.local_path or "/opt/ml/checkpoints")
                restored = restore_checkpoints(objects, spec.checkpoint.s3_uri, local)
                if restored:
                    _append(
                        host.log,
                        f"Restored {restored} checkpoint file(s) from {spec.checkpoint.s3_uri}\n",
                    )
            if spec.tensorboard is not None:
                root.host_path(spec.tensorboard.local_path or "/opt/ml/output/tensorboard").mkdir(
                    parents=True, exist_ok=True
                )
            if isolate and spec.host_count > 1:
                host.mounts.append(Mount(self.paths.etc_hosts(spec.host_count), Path("/etc/hosts")))
            if spec.infra_check:
                _infra_check(host, spec)
            hosts.append(host)
        return hosts

    def _python(self, spec: TrainingJobSpec, first: Host) -> str:
        if not spec.requirements:
            return sys.executable
        requirements = first.root.code_dir / spec.requirements
        if not requirements.is_file():
            raise FileNotFoundError(f"requirements file {spec.requirements} is not in source_dir")
        python, built = ensure_environment(self.settings.home / "envs", requirements, first.log)
        if not built:
            _append(
                first.log,
                f"Requirements from {spec.requirements} already installed (cached environment)\n",
            )
        return str(python)

    def host_launch(
        self,
        spec: TrainingJobSpec,
        host: Host,
        hosts: list[Host],
        python: str,
        alias: bool,
        port: int,
        reservation_fds: tuple[int, ...],
        isolate: bool,
    ) -> HostLaunch:
        root = CONTAINER_ROOT if alias else str(host.root.path)
        groups: dict[str, dict[str, object]] = {}
        for h in hosts:
            group = groups.setdefault(
                h.group,
                {"instance_group_name": h.group, "instance_type": h.instance_type, "hosts": []},
            )
            group["hosts"].append(h.name)  # type: ignore[attr-defined]
        ctx = HostContext(
            job_name=self.name,
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
        for filename, content in config_files(ctx).items():
            (host.root.config_dir / filename).write_text(json.dumps(content, indent=2))
        env = {**os.environ, **build_environment(ctx), "PYTHONUNBUFFERED": "1"}
        if not (isolate and len(hosts) > 1):
            env["SM_MASTER_ADDR"] = "127.0.0.1"  # algo-N only resolve inside a namespace
        if host.gpus or machine_gpus():
            env["CUDA_VISIBLE_DEVICES"] = ",".join(host.gpus)
        env = {k: v for k, v in env.items() if not k.startswith("SAGEYARD_INTERNAL")}
        if spec.builtin_program:
            argv = [python, "-m", spec.builtin_program]
        elif spec.command:
            argv = command_argv(spec.command)
        elif spec.entry_script:
            argv = script_argv(python, spec.entry_script, spec.hyperparameters)
        else:  # validated by the facade; kept as a clear error for hand-made rows
            raise ValueError("the job has neither an entry script, a command nor a program")
        cwd = Path(root) / "input" / "data" / "code"
        return HostLaunch(
            host=host.name,
            argv=argv,
            env=env,
            cwd=cwd if alias else host.root.code_dir,
            log_path=host.log,
            job_root=host.root.path,
            mounts=host.mounts,
            alias_container_root=alias,
            isolate_network=spec.network_isolation and isolate and len(hosts) == 1,
            keep_fds=reservation_fds,
        )


def attempt_note_needed(spec: TrainingJobSpec) -> bool:
    """Whether the job relies on /opt/ml paths that only exist inside a namespace."""
    local = spec.checkpoint.local_path if spec.checkpoint else None
    return bool(local and local.startswith(CONTAINER_ROOT))


def _split(items: list[str], parts: int) -> list[list[str]]:
    size = len(items) // parts if parts else 0
    return [items[i * size : (i + 1) * size] for i in range(parts)]


def _append(log: Path, text: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        out.write(text)


def _infra_check(host: Host, spec: TrainingJobSpec) -> None:
    """InfraCheckConfig: the job root is writable and the volume size fits on this disk."""
    probe = host.root.path / ".infra-check"
    probe.write_text("ok")
    probe.unlink()
    stat = os.statvfs(host.root.path)
    free_gb = stat.f_bavail * stat.f_frsize / 2**30
    note = f"Infra check on {host.name}: job root writable, {free_gb:.1f} GB free"
    if free_gb < spec.volume_size_in_gb:
        note += f" (less than VolumeSizeInGB={spec.volume_size_in_gb})"
    _append(host.log, note + "\n")


class _Heartbeat(threading.Thread):
    """Proves the supervisor is alive, every ``interval`` seconds, from a thread of its own."""

    def __init__(self, store: JobStore, name: str, interval: float) -> None:
        super().__init__(name=f"heartbeat-{name}", daemon=True)
        self._store, self._name, self._interval = store, name, interval
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self._interval):
            try:
                self._store.update(self._name, heartbeat_at=time.time())
            except Exception:  # a missed beat is not fatal; the next one may succeed
                logger.warning("heartbeat of %s failed", self._name, exc_info=True)

    def stop(self) -> None:
        self._done.set()


class _Watch:
    """Starts the hosts and watches them: logs → metrics, stop requests, max runtime."""

    def __init__(
        self,
        supervisor: Supervisor,
        store: JobStore,
        status: StatusWriter,
        spec: TrainingJobSpec,
        hosts: list[Host],
        python: str,
        isolate: bool,
        alias: bool,
        started: float,
        fds: tuple[int, ...],
    ) -> None:
        self.sup, self.store, self.status, self.spec = supervisor, store, status, spec
        self.hosts, self.python, self.isolate, self.alias = hosts, python, isolate, alias
        runtime = spec.stopping_condition.max_runtime_in_seconds or 86400
        self.deadline = started + runtime
        self.grace = supervisor.settings.stop_grace_seconds
        self.extractor = MetricExtractor(spec.metric_definitions)
        self.tails = [LogTail(h.log, offset=_size(h.log)) for h in hosts]
        self.points: list[MetricPoint] = []
        self.stop_reason: str | None = None
        self.kill_at: float | None = None
        self.fds = fds

    def run(self) -> Outcome:
        executor = LocalExecutor(isolate=self.isolate)
        port = _free_port()
        try:
            for host in self.hosts:
                launch = self.sup.host_launch(
                    self.spec,
                    host,
                    self.hosts,
                    self.python,
                    self.alias,
                    port,
                    self.fds,
                    self.isolate,
                )
                host.handle = executor.start(launch)
        except OSError as error:
            self._signal_all(signal.SIGKILL)
            return Outcome(
                "Failed", "Failed", f"InternalServerError: could not start: {error}", retryable=True
            )
        self.status.record_hosts({h.name: h.handle.pid for h in self.hosts if h.handle})
        return self._loop()

    def _loop(self) -> Outcome:
        tick, next_check, next_flush = 0.002, 0.0, time.time() + 1.0
        while True:
            now = time.time()
            for host in self.hosts:
                if host.exit_code is None and host.handle is not None:
                    host.exit_code = host.handle.poll()
                    if host.exit_code is not None:
                        host.handle.signal(signal.SIGKILL)  # stragglers of the process group
            self._read_logs()
            if self.stop_reason is None:
                if now >= self.deadline:
                    self._begin_stop("MaxRuntimeExceeded", now)
                elif now >= next_check:
                    next_check = now + 0.25
                    if self.status.stop_requested():
                        self._begin_stop("Stopped", now)
                failed = [h for h in self.hosts if h.exit_code not in (None, 0)]
                if failed and any(h.exit_code is None for h in self.hosts):
                    self._begin_stop("HostFailed", now)
            elif self.kill_at is not None and now >= self.kill_at:
                self._signal_all(signal.SIGKILL)
                self.kill_at = None
            if now >= next_flush:
                self._flush()
                next_flush = now + 1.0
            if all(h.exit_code is not None for h in self.hosts):
                break
            time.sleep(tick)
            tick = min(tick * 1.2, 0.1)  # short jobs end fast, long ones cost little
        self._read_logs(final=True)
        self._flush()
        return self._outcome()

    def _begin_stop(self, reason: str, now: float) -> None:
        self.stop_reason = reason
        if reason != "HostFailed":
            self.status.transition(
                "Stopping" if reason == "Stopped" else reason,
                "Stopping the job"
                if reason == "Stopped"
                else "Training job exceeded MaxRuntimeInSeconds",
            )
        self._signal_all(signal.SIGTERM)
        self.kill_at = now + self.grace

    def _signal_all(self, signum: int) -> None:
        for host in self.hosts:
            if host.handle is not None and host.exit_code is None:
                host.handle.signal(signum)

    def _read_logs(self, final: bool = False) -> None:
        for tail in self.tails:
            lines = tail.read_lines(final=final)
            if lines:
                self.points += self.extractor.feed(lines)

    def _flush(self) -> None:
        if self.points:
            self.store.append_metrics(self.sup.name, self.points)
            self.points = []

    def _outcome(self) -> Outcome:
        if self.stop_reason == "MaxRuntimeExceeded":
            return Outcome("Stopped", "MaxRuntimeExceeded")
        if self.stop_reason == "Stopped":
            return Outcome("Stopped", "Stopped")
        failed = [h for h in self.hosts if h.exit_code not in (None, 0)]
        if not failed:
            return Outcome("Completed", "Completed")
        first = min(failed, key=lambda h: h.rank)
        code = first.exit_code or 1
        if code < 0 and not first.root.failure_file.exists():
            name = signal.Signals(-code).name
            return Outcome(
                "Failed",
                "Failed",
                f"InternalServerError: host {first.name} was killed by signal {-code} ({name}) "
                "that sageyard did not send (the out-of-memory killer, for example).",
                retryable=True,
            )
        return Outcome("Failed", "Failed", failure_reason(first.root, first.log, code))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


_LEVEL = re.compile(r"^(DEBUG|INFO|WARNING|ERROR)$")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sageyard.jobs.supervisor JOB_NAME", file=sys.stderr)
        return 2
    level = os.environ.get("SAGEYARD_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(level=level if _LEVEL.match(level) else "WARNING")
    Supervisor(Settings.from_env(), args[0]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
