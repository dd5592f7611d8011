"""The Ray executor: a job's hosts on the nodes of a Ray cluster (``SAGEYARD_EXECUTOR=ray``).

``reserve`` takes one placement group per job, one bundle per host sized from its instance
type (``ray_resources.py``): ``STRICT_SPREAD`` (each host on a node of its own) for a
multi-host job when the cluster has as many nodes, ``SPREAD`` otherwise, ``PACK`` for one
host. A job that does not fit waits, ``Pending``, until Ray can place it (or
``MaxPendingTimeInSeconds`` passes). ``start`` creates each host's actor
(``ray_host.HostActor``) in its bundle, so on its node, where the local executor's own
node-side code stages and runs it in the same sandbox; every host's ``algo-N`` resolves to
its node's address, so Torchrun spans nodes. The supervisor watches each host through its
:class:`RayHost` handle: the log is read from the node as the job runs (metrics, ``logs
-f``), and an actor that died (its node lost, or it was killed) ends the host as an
infrastructure failure that ``RetryStrategy`` may retry, on whatever node Ray gives then.

Nodes share no disk, so the job's code, channels, checkpoints and outputs travel through
the S3-compatible object store (``SAGEYARD_S3_ENDPOINT_URL``) and its state through the
shared SQL job store (PostgreSQL): :meth:`RayExecutor.check_job` refuses a job otherwise,
before anything is written. ``close`` ends every actor and removes the placement group;
the group belongs to the supervisor's Ray connection, so Ray removes it, and the actors
in it, if the supervisor dies.

A job with a warm pool (``keep_alive_period_in_seconds``) keeps its placement group and
host actors after it ends (:meth:`RayExecutor.park`): the pool's keeper runs the next
matching job on them (``jobs/warm_pools.py``), each actor in a warmed interpreter on its
node, so that job starts no supervisor, placement group, Ray worker or Python of its own.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.core.exceptions import CapacityError, ConfigurationError, MissingDependencyError
from sageyard.core.settings import Settings
from sageyard.executors._base import LOG_CHUNK, Executor, HostHandle, Progress, WarmExecutor
from sageyard.executors.ray_resources import parse_resource_table, resources_for
from sageyard.runtime.host import HostExit, HostOutputs, HostSetupError, launcher
from sageyard.runtime.plan import HostPlan

logger = logging.getLogger(__name__)

__all__ = ["RayExecutor", "RayHost", "cluster_nodes", "connect"]

#: The Ray namespace of sageyard's actors and placement groups.
NAMESPACE = "sageyard"

#: How long a call to a host's actor may take before the host counts as lost.
CALL_SECONDS = 60.0

#: How long a host's node may take to upload the host's model and output data.
FINISH_SECONDS = 3600.0

#: The free ports a warm pool's reuse() asks of each node: as many as algo-1's start may
#: take (the ranks' port, and an MPI job's agents').
REUSE_PORTS = 2

#: How often a host's end, and its new output, are asked of its node (a round trip).
POLL_SECONDS = 0.05


def connect(settings: Settings) -> Any:
    """The ``ray`` module, connected to the cluster at ``SAGEYARD_RAY_ADDRESS`` (once per
    process).

    Raises:
        MissingDependencyError: Ray is not installed.
    """
    try:
        import ray
    except ImportError as error:  # pragma: no cover - the extra is installed in tests
        raise MissingDependencyError(
            "SAGEYARD_EXECUTOR=ray needs Ray: pip install 'sageyard[ray]'."
        ) from error
    if not ray.is_initialized():
        ray.init(
            address=settings.ray_address or "auto",
            namespace=NAMESPACE,
            log_to_driver=False,
            logging_level=logging.WARNING,
            configure_logging=False,
        )
    return ray


def _actor_class(ray: Any) -> Any:
    from sageyard.executors.ray_host import HostActor

    return ray.remote(max_concurrency=8, max_restarts=0)(HostActor)


class RayHost:
    """One host, running in its actor on a Ray node."""

    pid = None  # not a process of this machine

    def __init__(
        self,
        plan: HostPlan,
        actor: Any,
        node: dict[str, str],
        staging: str,
        settings: Settings,
        scratch: Path,
    ) -> None:
        import ray

        self.host = plan.host
        self.node = node  # {"NodeId", "NodeAddress"}: describe shows where each host ran
        self._actor, self._staging, self._settings = actor, staging, settings
        self._scratch = scratch  # where finish() puts the host's folders (the executor's)
        self._ray = ray
        self._exit: HostExit | None = None
        self._next_poll = 0.0
        # what the last round trip brought of the log, from _offset on (read_log's next)
        self._offset, self._unread = 0, b""
        self._full = False  # whether the last read was a whole chunk: more is waiting
        self._fresh_until = 0.0  # till when the last round trip's read counts as current

    def _call(self, method: str, *args: Any, timeout: float = CALL_SECONDS) -> Any:
        return self._ray.get(getattr(self._actor, method).remote(*args), timeout=timeout)

    def poll(self) -> HostExit | None:
        """The host's end, asked of its node at most every POLL_SECONDS: one round trip
        that brings the log's new output too, for the next :meth:`read_log`."""
        if self._exit is not None:
            return self._exit
        now = time.monotonic()
        if now < self._next_poll:  # each poll is a round trip to the node
            return None
        self._next_poll = now + POLL_SECONDS
        try:
            self._exit, self._unread = self._call("progress", self._offset)
            self._fresh_until = self._next_poll
        except Exception as error:  # the actor is gone: its node died, or it was killed
            if not _actor_lost(self._ray, error):
                raise
            self._exit = HostExit(
                -signal.SIGKILL,
                infrastructure=(
                    f"InternalServerError: host {self.host} was lost with its Ray node "
                    f"{self.node['NodeId'][:16]} ({self.node['NodeAddress']}): "
                    f"{type(error).__name__}."
                ),
            )
        return self._exit

    def signal(self, signum: int) -> None:
        if self._exit is None:
            try:
                self._call("signal", signum)
            except Exception as error:
                if not _actor_lost(self._ray, error):
                    raise

    def read_log(self, offset: int) -> bytes:
        """The output from ``offset`` on, read from the node (the supervisor stores its
        lines in the job store: ``shares_no_disk``): what the last :meth:`poll` brought,
        if it is unread. Nothing new is asked of the node within POLL_SECONDS of the last
        round trip, nor once the host is known to have ended (the poll that found it read
        after the end: all there is; a lost host has no more to give), unless that read
        was a whole chunk (more is waiting) or was from elsewhere."""
        if offset == self._offset and self._unread:
            data, self._unread = self._unread, b""
        elif (
            offset == self._offset
            and not self._full
            and (self._exit is not None or time.monotonic() < self._fresh_until)
        ):
            return b""
        else:
            try:
                data = self._call("read_log", offset)
            except Exception as error:
                if not _actor_lost(self._ray, error):
                    raise
                return b""
            self._fresh_until = time.monotonic() + POLL_SECONDS
        self._offset, self._full = offset + len(data), len(data) >= LOG_CHUNK
        return data

    def finish(self) -> HostOutputs:
        """The host's model and output data, uploaded by its node and fetched here."""
        from sageyard.storage import object_store_for
        from sageyard.storage.transfer import download_prefix

        staged: list[str] = self._call("finish", self._staging, timeout=FINISH_SECONDS)
        local = Path(tempfile.mkdtemp(prefix=f"{self.host}-", dir=self._scratch))
        outputs = HostOutputs(local / "model", local / "output")
        objects = object_store_for(self._settings)
        for folder, name in ((outputs.model_dir, "model"), (outputs.output_data_dir, "output")):
            folder.mkdir(parents=True, exist_ok=True)
            if name not in staged:  # the node had nothing to upload
                continue
            uploaded = objects.list(f"{self._staging}/{name}/")
            download_prefix(objects, f"{self._staging}/{name}/", folder)
            for uri in uploaded:  # the staging copy has served
                objects.delete(uri)
        return outputs


def _actor_lost(ray: Any, error: BaseException) -> bool:
    """Whether ``error`` says the actor (or its node) is gone."""
    lost = (
        ray.exceptions.RayActorError,
        ray.exceptions.ActorDiedError,
        ray.exceptions.ActorUnavailableError,
        ray.exceptions.NodeDiedError,
        ray.exceptions.GetTimeoutError,
    )
    return isinstance(error, lost)


class RayExecutor:
    """Places a job's hosts on a Ray cluster and runs each in an actor on its node."""

    #: The hosts run on machines that share no disk with the caller: a job's local inputs
    #: go to the object store before it starts (``jobs/inputs.py``), and the supervisor
    #: stores the hosts' log lines in the job store, where followers read them.
    shares_no_disk = True

    def __init__(self, settings: Settings, job_name: str) -> None:
        self.settings, self.job_name = settings, job_name
        self.strategy: str | None = None
        self._group: Any = None
        self._bundles: list[dict[str, Any]] = []
        self._actors: dict[str, Any] = {}
        self._nodes: dict[str, dict[str, str]] = {}
        self._port = 0
        self._progress: Progress | None = None
        self._staging = ""
        self._addresses: tuple[str, ...] = ()
        self._placed = False  # whether _addresses are where the bundles are now
        self._agent = (0, "")  # an MPI job's agents' port and secret (runtime/mpi.py)
        self._parked = False  # a warm pool's hosts ended; their nodes tidy at warm_up()
        # each held actor's node and free ports, as a warm pool's reuse() found them
        self._located: dict[str, tuple[dict[str, str], list[int]]] = {}
        # the hosts' model and output folders, fetched for the supervisor to merge
        self._scratch = settings.home / "tmp" / f"ray-{job_name}-{uuid.uuid4().hex[:8]}"

    @classmethod
    def check_job(cls, settings: Settings, plans: Sequence[HostPlan]) -> None:
        """Refuse what cannot run across machines: the embedded object store, a SQLite job
        store, a bad resource table, a multi-host job with network isolation."""
        if not settings.s3_endpoint_url:
            raise ConfigurationError(
                "SAGEYARD_EXECUTOR=ray runs hosts on other machines, which cannot read this "
                "machine's embedded object store: set SAGEYARD_S3_ENDPOINT_URL to an "
                "S3-compatible store every node reaches (MinIO, Ceph, S3), or unset "
                "SAGEYARD_EXECUTOR to run on this machine."
            )
        if settings.store_url.startswith("sqlite"):
            raise ConfigurationError(
                f"SAGEYARD_EXECUTOR=ray needs a job store every node and supervisor shares, "
                f"and SAGEYARD_STORE_URL is a SQLite file ({settings.store_url}): set it to "
                "a PostgreSQL URL (postgresql+psycopg://user:pass@host/db)."
            )
        parse_resource_table(settings.ray_resources)
        if plans and plans[0].network_isolation and len(plans) > 1:
            raise ConfigurationError(
                "enable_network_isolation=True on several hosts needs one private network "
                "they share, which hosts on different Ray nodes cannot have: use "
                "instance_count=1, or enable_network_isolation=False."
            )

    # -- capacity ------------------------------------------------------------------------

    def reserve(
        self, plans: Sequence[HostPlan], max_pending_seconds: float | None, progress: Progress
    ) -> bool:
        from ray.util.placement_group import placement_group, remove_placement_group

        ray = connect(self.settings)
        self._progress = progress
        if self._group is not None:  # a warm pool's: its placement group is held already
            if len(self._bundles) != len(plans):
                raise RuntimeError(f"{self.job_name} does not match its warm pool's hosts")
            self._staging = self._staging_prefix(plans)
            return True
        table = parse_resource_table(self.settings.ray_resources)
        self._bundles = [resources_for(plan.instance_type, table) for plan in plans]
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        if len(plans) == 1:
            self.strategy = "PACK"
        elif len(nodes) >= len(plans):
            self.strategy = "STRICT_SPREAD"
        else:
            self.strategy = "SPREAD"
            progress.note(
                f"The Ray cluster has {len(nodes)} node(s) for {len(plans)} hosts: hosts are "
                "spread over the nodes as far as they go (SPREAD), some sharing a node."
            )
        if not any(_fits(self._bundles[0], node.get("Resources", {})) for node in nodes):
            progress.note(
                f"No node of the Ray cluster has {_shown(self._bundles[0])}, what a host of "
                f"{plans[0].instance_type} reserves: the job waits until such a node joins. "
                "Set SAGEYARD_RAY_RESOURCES to size the instance type for this cluster (e.g. "
                f'{{"{plans[0].instance_type}": {{"CPU": 2}}}}), or choose a smaller one.'
            )
        group = placement_group(
            self._bundles, strategy=self.strategy, name=f"sageyard-{self.job_name}"
        )
        deadline = None if max_pending_seconds is None else time.time() + max_pending_seconds
        ready = group.ready()
        told = False
        while not ray.wait([ready], timeout=0.2)[0]:
            if progress.stop_requested():
                remove_placement_group(group)
                return False
            if deadline is not None and time.time() >= deadline:
                remove_placement_group(group)
                raise CapacityError(
                    f"no capacity on the Ray cluster within MaxPendingTimeInSeconds "
                    f"({max_pending_seconds} s) for {len(plans)} host(s) of "
                    f"{_shown(self._bundles[0])} ({self.strategy})."
                )
            if not told:
                told = True
                progress.waiting(
                    f"Waiting for capacity on the Ray cluster: {len(plans)} host(s) of "
                    f"{_shown(self._bundles[0])} each ({self.strategy}) do not fit its free "
                    "resources yet."
                )
        self._group = group
        self._addresses = _bundle_addresses(ray, group, len(plans))
        self._placed = True
        self._staging = self._staging_prefix(plans)
        return True

    def _staging_prefix(self, plans: Sequence[HostPlan]) -> str:
        """Where the hosts' model and output folders go for the supervisor to merge: beside
        the job's code or data in their bucket (else the default bucket's)."""
        uris = [plans[0].code_uri, *(c.source for c in plans[0].channels)] if plans else []
        found = next((u for u in uris if u and u.startswith("s3://")), None)
        bucket = found[len("s3://") :].split("/", 1)[0] if found else self.settings.default_bucket
        return f"s3://{bucket}/.sageyard-staging/{self.job_name}/{uuid.uuid4().hex[:8]}"

    # -- hosts ---------------------------------------------------------------------------

    def start(self, plan: HostPlan) -> RayHost:
        if self._group is None:
            raise RuntimeError(f"reserve() capacity for {self.job_name} before starting hosts")
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        from sageyard.executors.ray_host import HostLink

        ray = connect(self.settings)
        # algo-1 finds the port the ranks meet on (and an MPI job's agents' port)
        ports = 0 if plan.rank else 1 + (launcher(plan) == "MPI")
        actor: Any = self._actors.get(plan.host)
        found = self._located.pop(plan.host, None)  # a warm pool's reuse() told it
        if found is not None:
            found = (found[0], found[1][:ports])
        elif actor is not None:  # an earlier attempt's: None when it is lost
            found = self._locate(actor, ports)
        if found is None:
            bundle = self._bundles[plan.rank]
            actor = (
                _actor_class(ray)
                .options(
                    name=f"{self.job_name}/{plan.host}/{uuid.uuid4().hex[:8]}",
                    namespace=NAMESPACE,
                    num_cpus=bundle["CPU"],
                    num_gpus=bundle.get("GPU", 0),
                    memory=bundle.get("memory"),
                    scheduling_strategy=PlacementGroupSchedulingStrategy(
                        self._group, placement_group_bundle_index=plan.rank
                    ),
                )
                .remote(self.settings, self.job_name)
            )
            self._actors[plan.host] = actor
        try:
            if found is None:
                found = ray.get(actor.locate.remote(ports), timeout=CALL_SECONDS)
            node, free = found
            self._nodes[plan.host] = node
            if plan.rank == 0 and not self._placed:
                # a retry after a node died: Ray has placed its bundles again, elsewhere
                ray.get(self._group.ready(), timeout=CALL_SECONDS)
                self._addresses = _bundle_addresses(ray, self._group, len(plan.hosts))
            self._placed = False  # known for this start only
            if plan.rank == 0:
                self._port = free[0]
                if len(free) > 1:  # MPI: one port for the agents, each on its node
                    self._agent = (free[1], secrets.token_hex(16))
            link = HostLink(
                master_port=self._port,
                addresses=self._addresses,
                cpus=max(1, int(self._bundles[plan.rank]["CPU"])),
                agent_port=self._agent[0],
                agent_token=self._agent[1],
            )
            started = actor.start.remote(plan, link)
            while not ray.wait([started], timeout=0.2)[0]:
                if self._progress is not None and self._progress.stop_requested():
                    actor.cancel.remote()
            ray.get(started)
        except HostSetupError:
            raise
        except Exception as error:
            cause = getattr(error, "cause", None)
            if isinstance(cause, HostSetupError):
                raise cause from None
            if _actor_lost(ray, error):
                raise HostSetupError(
                    f"InternalServerError: the Ray actor of {plan.host} was lost while it "
                    f"started: {type(error).__name__}",
                    retryable=True,
                ) from error
            raise
        staging = f"{self._staging}/{plan.host}"
        self._scratch.mkdir(parents=True, exist_ok=True)
        node = self._nodes[plan.host]
        return RayHost(plan, actor, node, staging, self.settings, self._scratch)

    @staticmethod
    def _locate(actor: Any, ports: int) -> tuple[dict[str, str], list[int]] | None:
        """An earlier start's actor: its node and ``ports`` free ports there (``None`` when
        it is lost)."""
        import ray

        try:
            found: tuple[dict[str, str], list[int]] = ray.get(
                actor.locate.remote(ports), timeout=CALL_SECONDS
            )
        except Exception as error:
            if _actor_lost(ray, error):
                return None
            raise
        return found

    # -- warm pools (jobs/warm_pools.py) ------------------------------------------------

    def park(self) -> None:
        """The hosts ended: their actors stay on their nodes, in the placement group this
        executor keeps holding; they tidy what the job left there with :meth:`warm_up`,
        which comes next (one round trip for both)."""
        self._parked = True

    def warm_up(self) -> None:
        """Each host's actor readies a warmed interpreter on its node for the next job (as
        the local executor does), so it starts no Ray worker, placement group or Python."""
        self._on_every_actor("warm_up", self._parked)
        self._parked = False

    def reuse(self, job_name: str) -> None:
        """Run ``job_name`` next, on the placement group and host actors held; each tells
        where it is, and algo-1 the free ports its start asks for, in the same call."""
        shutil.rmtree(self._scratch, ignore_errors=True)
        self.job_name = job_name
        self._scratch = self.settings.home / "tmp" / f"ray-{job_name}-{uuid.uuid4().hex[:8]}"
        self._progress = None
        held = len(self._actors)
        self._located = self._on_every_actor("reuse", job_name, REUSE_PORTS)
        self._placed = len(self._located) == held  # every actor lives on: no bundle moved

    def _on_every_actor(self, method: str, *args: Any) -> dict[str, Any]:
        """Call ``method`` on every host's actor at once; a lost actor is forgotten (the
        next :meth:`start` makes its host a new one in the same bundle). The answers of
        those not lost, by host."""
        ray = connect(self.settings)
        calls = {host: getattr(actor, method).remote(*args) for host, actor in self._actors.items()}
        answers = {}
        for host, call in calls.items():
            try:
                answers[host] = ray.get(call, timeout=CALL_SECONDS)
            except Exception as error:
                if not _actor_lost(ray, error):
                    raise
                logger.warning("the Ray actor of %s of %s was lost", host, self.job_name)
                del self._actors[host]
        return answers

    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)
        if not self._actors and self._group is None:
            return
        ray = connect(self.settings)
        from ray.util.placement_group import remove_placement_group

        for actor in self._actors.values():
            try:
                ray.get(actor.close.remote(), timeout=30)
            except Exception:  # lost already: nothing of it is left to end
                logger.debug("closing a host actor of %s", self.job_name, exc_info=True)
            ray.kill(actor, no_restart=True)
        self._actors.clear()
        if self._group is not None:
            remove_placement_group(self._group)
            self._group = None


def _bundle_addresses(ray: Any, group: Any, count: int) -> tuple[str, ...]:
    """The address of the node each bundle of the ready placement group is on."""
    from ray.util.placement_group import placement_group_table

    table = placement_group_table(group)
    where = table.get("bundles_to_node_id", {})
    addresses = {n["NodeID"]: n["NodeManagerAddress"] for n in ray.nodes()}
    return tuple(addresses.get(where.get(index, ""), "127.0.0.1") for index in range(count))


def _fits(bundle: dict[str, Any], resources: dict[str, float]) -> bool:
    """Whether a node of ``resources`` (in all) could ever hold ``bundle``."""
    return all(resources.get(name, 0.0) >= amount for name, amount in bundle.items())


def _shown(bundle: dict[str, Any]) -> str:
    """A bundle as people read it: ``2 CPU, 8 GiB``."""
    parts = [f"{bundle['CPU']:g} CPU"]
    if bundle.get("GPU"):
        parts.append(f"{bundle['GPU']:g} GPU")
    if bundle.get("memory"):
        parts.append(f"{bundle['memory'] / (1 << 30):g} GiB")
    return ", ".join(parts)


if TYPE_CHECKING:  # mypy checks that both keep their interface
    _executor: type[Executor] = RayExecutor
    _warm: type[WarmExecutor] = RayExecutor
    _host: type[HostHandle] = RayHost


def cluster_nodes(settings: Settings) -> list[dict[str, Any]]:
    """The cluster's nodes: id, address, whether alive, their resources (CPU, GPU, memory
    in GiB) in all and free now, sorted by address then id."""
    ray = connect(settings)
    free = _free_per_node(ray)
    nodes = []
    for node in ray.nodes():
        total = node.get("Resources", {})
        nodes.append(
            {
                "NodeId": node["NodeID"],
                "NodeAddress": node.get("NodeManagerAddress", ""),
                "Alive": bool(node.get("Alive")),
                "Head": "node:__internal_head__" in total,
                "Total": _readable(total),
                "Free": _readable(free.get(node["NodeID"], {})),
            }
        )
    return sorted(nodes, key=lambda n: (n["NodeAddress"], n["NodeId"]))


def _free_per_node(ray: Any) -> dict[str, dict[str, float]]:
    """Each node's free resources (Ray's state API without its dashboard; {} if absent)."""
    try:
        from ray._private.state import available_resources_per_node
    except ImportError:  # pragma: no cover - a Ray without it: free resources unknown
        return {}
    found: dict[str, dict[str, float]] = available_resources_per_node()
    return found


def _readable(resources: dict[str, float]) -> dict[str, float]:
    """CPU, GPU and memory (GiB) of a resource mapping."""
    shown = {"CPU": float(resources.get("CPU", 0.0))}
    if resources.get("GPU"):
        shown["GPU"] = float(resources["GPU"])
    shown["memory_gib"] = round(float(resources.get("memory", 0.0)) / (1 << 30), 1)
    return shown
