"""The local executor: each host is a process group on this machine.

Capacity is this machine's slots (``local_slots.py``): ``reserve`` waits for one per host
(and the GPUs the instance types ask for), then ``start`` stages each host in a job root
under ``$SAGEYARD_HOME/jobs/<job>/hosts/`` (``runtime/host.py``) and starts its process.

Each host runs in a sandbox (``runtime/sandbox.py``): under bubblewrap where it runs (the
job sees only its job root, also at ``/opt/ml``, read-only system and Python paths, its
read-only channels and a private ``/tmp``, with no capabilities), else in a mount namespace
of our own as root. ``enable_network_isolation=True`` gives a single-host job a network
namespace with only loopback, and the hosts of a multi-host job one they share
(``runtime/network.py``): they reach each other and nothing else. It is refused where no
sandbox can be built.

A warm pool's executor (``jobs/warm_pools.py``) outlives its job: :meth:`LocalExecutor.park`
moves the files its warm hosts left into the job's folder, :meth:`~LocalExecutor.warm_up`
starts a warmed interpreter per host in a fresh sandbox over an empty pool folder
(``runtime/zygote.py``), and :meth:`~LocalExecutor.reuse` runs the next job on the slots it
holds; a host whose launch fits the warmed interpreter (its own interpreter, data copied,
no mount of its own) runs there as a :class:`WarmHost`, any other starts cold.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.core.exceptions import CapacityError, ConfigurationError, ResourceLimitExceeded
from sageyard.core.settings import Settings
from sageyard.executors._base import LOG_CHUNK, Executor, HostHandle, Progress
from sageyard.executors.local_slots import (
    Reservation,
    SlotPool,
    gpus_for_instance_type,
    machine_gpus,
)
from sageyard.runtime.environment import inherited_environment, secret_values
from sageyard.runtime.host import (
    Feeders,
    HostExit,
    HostOutputs,
    HostPlacement,
    HostSetupError,
    PreparedHost,
    exit_of,
    launcher,
    local_tracking_stores,
    needs_container_root,
    oom_kills,
    prepare_host,
    smp_parameters,
    upload_host,
)
from sageyard.runtime.layout import CONTAINER_ROOT, JobPaths
from sageyard.runtime.network import JobNetwork
from sageyard.runtime.plan import HostPlan
from sageyard.runtime.process import HostLaunch, Mount
from sageyard.runtime.sandbox import (
    BwrapExec,
    SandboxKind,
    become_reaper,
    bwrap_argv,
    bwrap_executable,
    container_root_available,
    enter_namespace,
    libc,
    pid_namespace_available,
    sandbox_env,
    sandbox_kind,
    wait_ready,
)
from sageyard.runtime.smp import config as smp_config
from sageyard.runtime.zygote import Zygote, move_contents
from sageyard.storage import ObjectStore, object_store_for

logger = logging.getLogger(__name__)


class LocalHost:
    """A host running as a process group on this machine."""

    def __init__(
        self,
        plan: HostPlan,
        prepared: PreparedHost,
        process: subprocess.Popen[bytes],
        feeders: Feeders,
        log_start: int,
        objects: ObjectStore,
    ) -> None:
        self.host = plan.host
        self._plan, self._root, self._log = plan, prepared.root, prepared.launch.log_path
        self._process, self._feeders, self._log_start = process, feeders, log_start
        self._objects = objects
        self._exit: HostExit | None = None
        self._oom_kills = oom_kills()  # to tell the out-of-memory killer's SIGKILL
        self._pidfd: int | None = None

    @property
    def pid(self) -> int:
        return self._process.pid

    def exit_fd(self) -> int | None:
        """A descriptor that becomes readable when the host's process ends (a pidfd), so a
        watch can wait on it instead of sleeping; ``None`` where the kernel has none."""
        if self._pidfd is None and self._exit is None:
            try:
                self._pidfd = os.pidfd_open(self._process.pid)
            except (OSError, AttributeError):
                self._pidfd = -1
        return self._pidfd if self._pidfd is not None and self._pidfd >= 0 else None

    def _close_exit_fd(self) -> None:
        if self._pidfd is not None and self._pidfd >= 0:
            os.close(self._pidfd)
        self._pidfd = -1

    def poll(self) -> HostExit | None:
        if self._exit is None:
            code = self._process.poll()
            if code is None:
                return None
            self._end_stragglers()
            self._feeders.stop()
            self._close_exit_fd()
            secrets = secret_values(self._plan.environment)
            self._exit = exit_of(
                code, self._root, self._log, self._log_start, secrets, self._oom_kills
            )
        return self._exit

    def _end_stragglers(self) -> None:
        """Processes the host's main process left behind in its group."""
        self._kill_group(signal.SIGKILL)

    def signal(self, signum: int) -> None:
        if self._exit is None:
            self._kill_group(signum)

    def _kill_group(self, signum: int) -> None:
        try:
            os.killpg(self._process.pid, signum)
        except ProcessLookupError:
            pass
        except PermissionError as error:  # pragma: no cover - foreign process group
            if error.errno != errno.EPERM:
                raise

    def read_log(self, offset: int) -> bytes:
        """Up to LOG_CHUNK (1 MiB) of the output from ``offset`` on (see HostHandle)."""
        try:
            with open(self._log, "rb") as log:
                log.seek(self._log_start + offset)
                return log.read(LOG_CHUNK)
        except FileNotFoundError:
            return b""

    def finish(self) -> HostOutputs:
        return upload_host(self._plan, self._root, self._objects)


class WarmHost(LocalHost):
    """A host whose command runs in a warm pool's warmed interpreter (``runtime/zygote.py``).

    Its process group is the zygote's: a signal reaches the job's process (the zygote
    ignores the stop signals), and the zygote itself ends what the job left behind."""

    def __init__(self, plan: HostPlan, prepared: PreparedHost, zygote: Zygote, *args: Any):
        super().__init__(plan, prepared, zygote.process, *args)
        self._zygote = zygote

    def exit_fd(self) -> int | None:
        """The zygote's control socket: readable when it reports the job's end."""
        return self._zygote.fileno() if self._exit is None else None

    def poll(self) -> HostExit | None:
        if self._exit is None:
            code = self._zygote.poll()
            if code is None:
                return None
            self._feeders.stop()
            secrets = secret_values(self._plan.environment)
            self._exit = exit_of(
                code, self._root, self._log, self._log_start, secrets, self._oom_kills
            )
        return self._exit


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class LocalExecutor:
    """Runs each host as a process group on this machine, in a mount namespace of its own
    where the kernel allows it; capacity is this machine's slots (``local_slots.py``)."""

    container = False  # ContainerExecutor: each host in a container of the job's image

    def __init__(self, settings: Settings, job_name: str) -> None:
        self.settings, self.job_name = settings, job_name
        self._pool_id = job_name  # names a warm pool's folders: the job that began it
        self.paths = JobPaths(settings.jobs_dir / job_name)
        self._reservation: Reservation | None = None
        self._gpus: list[list[str]] = []
        self._port = 0
        self._agent = (0, "")  # an MPI job's agents' port and secret (runtime/mpi.py)
        self._isolate = self._alias = False
        self._sandbox: SandboxKind | None = None
        self._network: JobNetwork | None = None
        self._zygotes: dict[str, Zygote] = {}  # a warm pool's warmed interpreters, by host
        self._plans: dict[str, HostPlan] = {}  # the last plan each host ran
        self._objects: ObjectStore | None = None
        self._progress: Progress | None = None

    @classmethod
    def check_job(cls, settings: Settings, plans: Sequence[HostPlan]) -> None:
        """Refuse network isolation where no sandbox can be built, and, with
        SAGEYARD_STRICT_GPU, a job that wants more GPUs than this machine has."""
        if not cls.container and plans and plans[0].network_isolation:
            if settings.isolation == "off":
                raise ConfigurationError(
                    "enable_network_isolation=True needs the host sandbox, but "
                    "SAGEYARD_ISOLATION=off turns it off: unset SAGEYARD_ISOLATION, or set "
                    "enable_network_isolation=False to run the job with this machine's network."
                )
            if sandbox_kind() is None:
                raise ConfigurationError(
                    "enable_network_isolation=True needs a sandbox, and none can be built "
                    "here (bubblewrap cannot run, and this user cannot make namespaces): "
                    "install bubblewrap and allow unprivileged user namespaces, run as root, "
                    "or set enable_network_isolation=False."
                )
        if plans and launcher(plans[0]) == "MPI":
            cls._check_mpi(settings, plans)
        if plans and (smp := smp_parameters(plans[0])) is not None:
            _check_smp_world(smp, plans)
        if not settings.strict_gpu:
            return
        wanted = sum(gpus_for_instance_type(plan.instance_type) for plan in plans)
        have = len(machine_gpus())
        if wanted > have:
            raise ResourceLimitExceeded(
                f"The job needs {wanted} GPU(s) ({plans[0].instance_type}) but this machine "
                f"has {have}, and SAGEYARD_STRICT_GPU is set; unset it to run on the CPU."
            )

    @classmethod
    def _check_mpi(cls, settings: Settings, plans: Sequence[HostPlan]) -> None:
        """MPI needs mpirun here, and across hosts the sandbox: the hosts' names (their
        ``/etc/hosts`` and hostnames) and one ``/opt/ml`` path for the code on every host."""
        if cls.container:
            raise ConfigurationError(
                "distributed=MPI(...) runs with the local executor (SAGEYARD_EXECUTOR=local): "
                "its hosts' remote ranks start through sageyard's own agent, which a "
                "training image does not have."
            )
        if shutil.which("mpirun") is None:
            raise ConfigurationError(
                "distributed=MPI(...) needs Open MPI's mpirun on this machine, and it is not "
                "on PATH: install it (apt-get install openmpi-bin), or use "
                "distributed=Torchrun(...)."
            )
        if len(plans) > 1 and not _opt_ml_in(_sandbox_for(settings)):
            raise ConfigurationError(
                f"distributed=MPI(...) on {len(plans)} hosts needs the host sandbox (each "
                "host named algo-N, with the code at /opt/ml on every host), and it cannot be "
                "built here: install bubblewrap (or run as root), unset "
                "SAGEYARD_ISOLATION=off, or use instance_count=1."
            )

    def reserve(
        self, plans: Sequence[HostPlan], max_pending_seconds: float | None, progress: Progress
    ) -> bool:
        self._progress = progress  # start() polls it during the requirements install
        if self._reservation is not None:  # a warm pool's: the capacity is held already
            if len(self._gpus) != len(plans):
                raise RuntimeError(f"{self.job_name} does not match its warm pool's hosts")
            self._port = _free_port()
            self._agent = _agent_link(plans)
            return True
        slots = self.settings.slots
        pool = SlotPool(self.settings.home / "slots", slots, machine_gpus())
        stopped = False

        def should_stop() -> bool:
            nonlocal stopped
            stopped = stopped or progress.stop_requested()
            return stopped

        reservation = pool.acquire(
            len(plans),
            self._gpus_wanted(plans, progress),
            deadline=None if max_pending_seconds is None else time.time() + max_pending_seconds,
            should_stop=should_stop,
            on_wait=lambda: progress.waiting(
                f"Waiting for capacity: {len(plans)} host(s) need a slot and all {slots} slots "
                "of this machine are busy."
            ),
        )
        if reservation is None:
            if stopped:
                return False
            raise CapacityError(
                f"no capacity within MaxPendingTimeInSeconds ({max_pending_seconds} s); "
                f"{slots} slots are configured (SAGEYARD_SLOTS)."
            )
        self._reservation = reservation
        self._gpus = _split(reservation.gpus, len(plans))
        self._port = _free_port()
        self._agent = _agent_link(plans)
        self._isolate, self._alias = self._view(plans, progress)
        return True

    def _view(self, plans: Sequence[HostPlan], progress: Progress) -> tuple[bool, bool]:
        """Whether hosts get a private view of the file system, and /opt/ml in it."""
        if self.container:
            return True, True
        self._sandbox = _sandbox_for(self.settings)
        isolate = self._sandbox is not None
        alias = _opt_ml_in(self._sandbox)
        if not alias and needs_container_root(plans[0]):
            progress.note(
                "No private mount namespace here (not root, or SAGEYARD_ISOLATION=off): "
                "/opt/ml is not this job's folder, so use the SM_* variables (SM_MODEL_DIR, "
                "...) rather than hard-coded /opt/ml paths; checkpoints go to "
                "<job root>/checkpoints."
            )
        return isolate, alias

    def _gpus_wanted(self, plans: Sequence[HostPlan], progress: Progress) -> int:
        wanted = sum(gpus_for_instance_type(plan.instance_type) for plan in plans)
        have = len(machine_gpus())
        if wanted and have < wanted:
            instance_type = plans[0].instance_type
            per_host = gpus_for_instance_type(instance_type)
            hosts = f" per host, {wanted} for {len(plans)} hosts" if len(plans) > 1 else ""
            progress.note(
                f"{instance_type} has {per_host} GPU(s){hosts}, but this machine has {have}: "
                f"running on {'the CPU' if not have else f'{have} GPU(s)'}. "
                "Set SAGEYARD_STRICT_GPU=1 to refuse such jobs instead."
            )
        return min(wanted, have)

    def placement(self, plan: HostPlan) -> HostPlacement:
        """Where ``plan`` runs on this machine (after :meth:`reserve`)."""
        if self._reservation is None:
            raise RuntimeError(f"reserve() capacity for {self.job_name} before starting hosts")
        gpus = tuple(self._gpus[plan.rank])
        several = len(plan.hosts) > 1
        namespaced = self._isolate and not self.container
        zygote = self._zygotes.get(plan.host)
        warm = zygote is not None and zygote.alive
        return HostPlacement(
            root=zygote.root if zygote is not None and warm else self.paths.hosts / plan.host,
            warm=warm,
            log=self.paths.log(plan.host),
            envs_dir=self.settings.home / "envs",
            master_port=self._port,
            gpus=gpus,
            isolate=self._isolate,
            alias=self._alias,
            container=self.container,
            # algo-N resolve only inside a namespace (an /etc/hosts of the job's own)
            master_addr=None if self.container or (namespaced and several) else "127.0.0.1",
            cuda_visible=not self.container and bool(gpus or machine_gpus()),
            # hosts share this machine as instances would not: each gets its share of CPUs
            cpus=max(1, (os.cpu_count() or 1) // len(plan.hosts)),
            # the host's own name resolves too (gloo, for one, looks it up)
            etc_hosts=self.paths.etc_hosts(len(plan.hosts)) if namespaced else None,
            agent_port=self._agent[0],
            agent_token=self._agent[1],
        )

    def start(self, plan: HostPlan) -> LocalHost:
        placement = self.placement(plan)
        objects = self._object_store()
        progress = self._progress
        prepared = prepare_host(
            plan, placement, objects, progress.stop_requested if progress else lambda: False
        )
        log_start = _size(placement.log)
        feeders = Feeders(prepared.pipes, placement.log)
        self._plans[plan.host] = plan
        zygote = self._zygotes.get(plan.host)
        if placement.warm and zygote is not None and _runs_in(zygote, prepared.launch):
            launch = prepared.launch
            env = sandbox_env(launch.env, [launch.job_root, Path(CONTAINER_ROOT)])
            launch.log_path.parent.mkdir(parents=True, exist_ok=True)
            try:
                zygote.run(launch.argv, env, launch.cwd, launch.log_path)
            except OSError as error:
                feeders.stop()
                raise HostSetupError(
                    f"InternalServerError: could not start {plan.host}: {error}", retryable=True
                ) from error
            return WarmHost(plan, prepared, zygote, feeders, log_start, objects)
        try:
            process = self._spawn(prepared.launch, plan)
        except OSError as error:
            feeders.stop()
            raise HostSetupError(
                f"InternalServerError: could not start {plan.host}: {error}", retryable=True
            ) from error
        except BaseException:  # no feeder may wait forever for a host that never started
            feeders.stop()
            raise
        return self._host(plan, prepared, process, feeders, log_start, objects)

    def _host(self, plan: HostPlan, *args: Any) -> LocalHost:
        return LocalHost(plan, *args)

    def _object_store(self) -> ObjectStore:
        if self._objects is None:
            self._objects = object_store_for(self.settings)
        return self._objects

    def _spawn(
        self, launch: HostLaunch, plan: HostPlan, keep_fd: int | None = None
    ) -> subprocess.Popen[bytes]:
        """Start the host's reaper, which starts its command (``runtime/sandbox.py``): no
        process of the host outlives it, and none gets the reservation's slot locks
        (``keep_fd``: a descriptor the command inherits, a zygote's control socket)."""
        launch.log_path.parent.mkdir(parents=True, exist_ok=True)
        libc()  # load before fork: the child only calls into it
        bwrap = bwrap_executable() if self._sandbox == "bwrap" else None
        namespaces = self._sandbox == "namespaces"
        pid_namespace = namespaces and pid_namespace_available()
        argv, env, ready = launch.argv, launch.env, None
        sandboxed: BwrapExec | None = None
        keep = (keep_fd,) if keep_fd is not None else ()
        if bwrap is not None:
            ready = os.pipe()
            argv = bwrap_argv(launch, bwrap, hidden=[self.settings.home])
            env = sandbox_env(env, [launch.job_root, Path(CONTAINER_ROOT)])
            sandboxed = BwrapExec(argv, env, ready[1], keep)

        network = self._job_network(plan)

        def preexec() -> None:
            if network is not None:
                network.enter()
            if namespaces:
                enter_namespace(launch)
            become_reaper(pid_namespace, sandboxed)  # with bwrap, it execs bwrap itself

        try:
            with open(launch.log_path, "ab", buffering=0) as log:
                process = subprocess.Popen(
                    argv,
                    cwd=None if self._isolate else launch.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=preexec,
                    pass_fds=(*(ready[1:] if ready else ()), *keep),
                )
        finally:
            if ready is not None:
                os.close(ready[1])
        if ready is not None and not wait_ready(ready[0]):  # sandbox.py: stops reach it now
            self._sandbox_failed(launch, process)
        return process

    @staticmethod
    def _sandbox_failed(launch: HostLaunch, process: subprocess.Popen[bytes]) -> None:
        """The command never ran: its sandbox could not be built. An infrastructure failure
        (RetryStrategy tries again), with what bwrap said."""
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        with open(launch.log_path, "rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - 2048))
            said = log.read().decode(errors="replace").strip().splitlines()
        raise HostSetupError(
            f"InternalServerError: the sandbox of {launch.host} could not start"
            + (f": {said[-1]}" if said else f" (exit code {process.returncode})"),
            retryable=True,
        )

    def park(self) -> None:
        """The job's hosts ended and the capacity stays warm: the files its warm hosts left
        in the pool's folders go to the job's own (``runtime/zygote.py``)."""
        for host, zygote in self._zygotes.items():
            if any(zygote.root.iterdir()):
                move_contents(zygote.root, self.paths.hosts / host)

    def warm_up(self) -> None:
        """A warmed interpreter for each host the last job ran (where the sandbox is
        bubblewrap's and the host ran this interpreter), in an empty folder of the pool."""
        if self._sandbox != "bwrap" or self.container:
            return
        for host, plan in self._plans.items():
            zygote = self._zygotes.get(host)
            if zygote is not None and zygote.alive:
                continue
            if zygote is not None:
                zygote.close()
            root = self.settings.home / "warm" / self._pool_id / host
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
            try:
                spawn = self._zygote_spawner(plan, root)
                writable = local_tracking_stores(plan)
                self._zygotes[host] = Zygote(root, sys.executable, spawn, writable)
            except (OSError, HostSetupError):
                logger.warning(
                    "no warmed interpreter for %s of %s", host, self.job_name, exc_info=True
                )

    def _zygote_spawner(self, plan: HostPlan, root: Path) -> Any:
        """How a zygote of ``plan``'s host starts: as that host would, in its sandbox."""
        placement = self.placement(plan)
        mounts = []
        if placement.etc_hosts is not None:  # a copy: the job's folder is not the pool's
            hosts_file = root.parent / "hosts"
            hosts_file.write_text(placement.etc_hosts.read_text())
            mounts.append(Mount(hosts_file, Path("/etc/hosts")))

        def spawn(argv: list[str], keep_fd: int) -> subprocess.Popen[bytes]:
            launch = HostLaunch(
                host=plan.host,
                argv=argv,
                env={**inherited_environment(os.environ), "PYTHONUNBUFFERED": "1"},
                cwd=root,
                log_path=root.parent / f"{plan.host}.zygote.log",
                job_root=root,
                mounts=mounts,
                alias_container_root=True,
                isolate_network=plan.network_isolation and len(plan.hosts) == 1,
                gpus=placement.gpus,
                writable=local_tracking_stores(plan),
            )
            return self._spawn(launch, plan, keep_fd=keep_fd)

        return spawn

    def reuse(self, job_name: str) -> None:
        """Run ``job_name`` next on the slots (and job network) this executor holds: a warm
        pool's next job (``jobs/warm_pools.py``)."""
        self.job_name = job_name
        self.paths = JobPaths(self.settings.jobs_dir / job_name)
        self._progress = None

    def _job_network(self, plan: HostPlan) -> JobNetwork | None:
        """The network a multi-host job's hosts share under network isolation (made once)."""
        if not (plan.network_isolation and len(plan.hosts) > 1 and self._sandbox):
            return None
        if self._network is None:
            try:
                self._network = JobNetwork.open()
            except OSError as error:
                raise HostSetupError(
                    f"InternalServerError: could not make the private network of "
                    f"{self.job_name}'s hosts: {error}",
                    retryable=True,
                ) from error
        return self._network

    def close(self) -> None:
        for zygote in self._zygotes.values():
            zygote.close()
        self._zygotes.clear()
        if self._network is not None:
            self._network.close()
            self._network = None
        if self._reservation is not None:
            self._reservation.release()
            self._reservation = None


def _runs_in(zygote: Zygote, launch: HostLaunch) -> bool:
    """Whether ``launch`` can run in the warmed interpreter ``zygote`` (whose sandbox was
    built before the job): no mount of its own (data was copied; ``/etc/hosts`` is the
    pool's), this interpreter, and no shared folder the zygote's sandbox does not show."""
    return (
        zygote.alive
        and all(m.target == Path("/etc/hosts") for m in launch.mounts)
        and not launch.read_only
        and set(launch.writable) <= set(zygote.writable)
    )


def _sandbox_for(settings: Settings) -> SandboxKind | None:
    """The sandbox this machine's hosts get, unless SAGEYARD_ISOLATION turns it off."""
    return sandbox_kind() if settings.isolation == "auto" else None


def _opt_ml_in(sandbox: SandboxKind | None) -> bool:
    """Whether a host in ``sandbox`` sees its job root at /opt/ml: bwrap makes /opt/ml in
    the sandbox's own root; our namespaces need it on the disk."""
    return sandbox == "bwrap" or (sandbox is not None and container_root_available())


def _check_smp_world(smp: dict[str, Any], plans: Sequence[HostPlan]) -> None:
    """SMP's degrees against the job's world: hosts x ``process_count_per_node``, or x 1
    on a machine without GPUs when it is unset (one per GPU elsewhere: then ``tsm.init()``
    checks them in the job, where the GPUs are counted)."""
    ((_, fields),) = (plans[0].distributed or {}).items()
    count = fields.get("ProcessCountPerNode")
    if count is not None or not machine_gpus():
        smp_config.resolve(smp, len(plans) * (count or 1))


def _agent_link(plans: Sequence[HostPlan]) -> tuple[int, str]:
    """An MPI job's agents' port (one for all its hosts: each listens on its own address)
    and a secret of the job's own; nothing for other jobs."""
    if not plans or launcher(plans[0]) != "MPI":
        return 0, ""
    return _free_port(), secrets.token_hex(16)


def _split(items: list[str], parts: int) -> list[list[str]]:
    """``items`` dealt round-robin to ``parts`` hosts: none reserved goes unused."""
    return [items[i::parts] for i in range(parts)] if parts else []


if TYPE_CHECKING:  # mypy checks that both keep their interface
    _executor: type[Executor] = LocalExecutor
    _host: type[HostHandle] = LocalHost
