"""The node side of the Ray executor: one actor per host runs it as the local executor does.

:class:`HostActor` is created by ``ray.py`` in the host's placement-group bundle, so it
lives on the node Ray placed the host on. There it stages and starts the host with the
local executor's own node-side code (:class:`NodeRunner`: ``runtime/host.py``'s staging and
the same sandbox, limits and container contract), in a home of the node's own
(``$SAGEYARD_HOME/ray-nodes/<node id>``: nodes share no disk). Inputs come from, and
checkpoints and outputs go to, the S3-compatible object store. ``algo-N`` resolve to the
nodes' addresses through the ``/etc/hosts`` the sandbox mounts (``SM_MASTER_ADDR`` is
algo-1's address where there is no sandbox).

The supervisor reaches the host only through the actor's methods (``progress``: its end
and new output in one round trip; ``signal``, ``read_log``, ``finish``); an actor that
dies with its node ends the host, and the handle in ``ray.py`` reports that as an
infrastructure failure.
"""

from __future__ import annotations

import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sageyard.core.settings import Settings
from sageyard.executors.local import LocalExecutor, LocalHost, _opt_ml_in, _sandbox_for
from sageyard.runtime.host import HostExit, HostPlacement
from sageyard.runtime.layout import host_address
from sageyard.runtime.plan import HostPlan
from sageyard.storage.transfer import upload_path

__all__ = ["HostActor", "HostLink", "NodeRunner", "node_home"]


@dataclass(frozen=True)
class HostLink:
    """What every host of a job must agree on: where algo-1 listens, each host's address."""

    master_port: int
    addresses: tuple[str, ...]  # by rank: the address of the node each host runs on
    cpus: int
    agent_port: int = 0  # an MPI job's: where its hosts' rsh agents listen (runtime/mpi.py)
    agent_token: str = ""  # an MPI job's secret


def node_home(settings: Settings, node_id: str) -> Path:
    """This node's sageyard home: a folder of its own, even where nodes share a disk."""
    return settings.home / "ray-nodes" / node_id[:16]


class NodeRunner(LocalExecutor):
    """The local executor's host set-up on a Ray node, on capacity Ray already placed."""

    def __init__(self, settings: Settings, job_name: str, link: HostLink, gpus: list[str]):
        super().__init__(settings, job_name)
        self.link = link
        self._node_gpus = tuple(gpus)
        self._sandbox = _sandbox_for(settings)
        self._isolate = self._sandbox is not None
        self._alias = _opt_ml_in(self._sandbox)

    def placement(self, plan: HostPlan) -> HostPlacement:
        several = len(plan.hosts) > 1
        etc_hosts = self._etc_hosts(plan) if self._isolate and several else None
        zygote = self._zygotes.get(plan.host)  # a warm pool's warmed interpreter
        warm = zygote is not None and zygote.alive
        return HostPlacement(
            root=zygote.root if zygote is not None and warm else self.paths.hosts / plan.host,
            warm=warm,
            log=self.paths.log(plan.host),
            envs_dir=self.settings.home / "envs",
            master_port=self.link.master_port,
            gpus=self._node_gpus,
            isolate=self._isolate,
            alias=self._alias,
            master_addr=None if etc_hosts is not None else self.link.addresses[0],
            cuda_visible=True,
            cpus=self.link.cpus,
            etc_hosts=etc_hosts,
            agent_port=self.link.agent_port,
            agent_token=self.link.agent_token,
        )

    def _etc_hosts(self, plan: HostPlan) -> Path:
        """An /etc/hosts where each ``algo-N`` is the address of the node it runs on.

        When every node has the same address they share a machine (a test cluster, or
        several nodes on one big machine): the hosts then get loopback addresses of their
        own, as the local executor's do, so that programs telling hosts apart by address
        (Open MPI) see different machines, and the hosts do not collide on ports."""
        path = self.paths.root / f"etc-hosts-{plan.host}"
        path.parent.mkdir(parents=True, exist_ok=True)
        addresses = list(self.link.addresses)
        if len(addresses) > 1 and len(set(addresses)) == 1:
            addresses = [host_address(rank + 1) for rank in range(len(addresses))]
        lines = ["127.0.0.1 localhost", "::1 localhost"]
        lines += [f"{address} {host}" for host, address in zip(plan.hosts, addresses, strict=True)]
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self, plan: HostPlan) -> LocalHost:
        self._reservation = _PLACED  # Ray holds the capacity: placement() may run
        return super().start(plan)

    def close(self) -> None:
        self._reservation = None
        super().close()


class _Placed:
    """The capacity Ray reserved for the host (nothing to give back on this node)."""

    def release(self) -> None:
        pass


_PLACED: Any = _Placed()


class HostActor:
    """One host of a job, on the node Ray placed it on (a Ray actor: see ``ray.py``).

    Its methods run in threads of their own (``max_concurrency``), so ``signal`` and
    ``cancel`` reach a host while another call waits on its set-up.
    """

    def __init__(self, settings: Settings, job_name: str) -> None:
        import ray

        self.node_id = ray.get_runtime_context().get_node_id()
        self.address = ray.util.get_node_ip_address()
        home = node_home(settings, self.node_id)
        self.settings = settings.with_overrides(home=home)
        self.job_name = job_name
        self._runner: NodeRunner | None = None
        self._host: LocalHost | None = None
        self._cancelled = threading.Event()

    def locate(self, ports: int = 0) -> tuple[dict[str, str], list[int]]:
        """The node this host runs on (its Ray node id and address), and ``ports`` ports
        free on it (algo-1's: where the job's ranks meet, an MPI job's agents listen)."""
        free = []
        for _ in range(ports):
            with socket.socket() as sock:
                sock.bind(("", 0))
                free.append(int(sock.getsockname()[1]))
        return {"NodeId": self.node_id, "NodeAddress": self.address}, free

    def start(self, plan: HostPlan, link: HostLink) -> None:
        """Stage and start the host (raises HostSetupError as the local executor does)."""
        import ray

        self._cancelled.clear()
        if self._runner is None:
            gpus = [str(gpu) for gpu in ray.get_gpu_ids()]
            self._runner = NodeRunner(self.settings, self.job_name, link, gpus)
        self._runner.link = link
        self._runner._progress = _Cancel(self._cancelled)
        plan = _with_node(plan, self.node_id)
        self._host = self._runner.start(plan)

    def cancel(self) -> None:
        """A stop came during set-up: the requirements install ends at once."""
        self._cancelled.set()

    def signal(self, signum: int) -> None:
        if self._host is not None:
            self._host.signal(signum)

    def read_log(self, offset: int) -> bytes:
        return self._host.read_log(offset) if self._host is not None else b""

    def progress(self, offset: int) -> tuple[HostExit | None, bytes]:
        """The host's end (``None``: running) and its output from ``offset`` on, in one
        round trip: the end first, so the output read after it holds all there is."""
        ended = self._host.poll() if self._host is not None else None
        return ended, self.read_log(offset)

    def finish(self, staging_uri: str) -> list[str]:
        """Upload the checkpoints and TensorBoard files, then the model and output-data
        folders to ``staging_uri`` (``model/``, ``output/``) for the supervisor to merge;
        the names of those uploaded (an empty folder is not)."""
        assert self._host is not None and self._runner is not None
        outputs = self._host.finish()
        objects = self._runner._object_store()
        uploaded: list[str] = []
        for folder, name in ((outputs.model_dir, "model"), (outputs.output_data_dir, "output")):
            if folder.is_dir() and any(folder.iterdir()):
                if not uploaded:
                    objects.ensure_bucket(staging_uri[len("s3://") :].split("/", 1)[0])
                upload_path(objects, folder, f"{staging_uri.rstrip('/')}/{name}")
                uploaded.append(name)
        return uploaded

    # a warm pool's (``RayExecutor.warm_up``/``reuse``): as the local executor's

    def warm_up(self, park: bool = False) -> None:
        """A warmed interpreter for the next job's host, in a fresh sandbox on this node;
        ``park``: the host ended and the actor stays for the pool's next job (what the
        job left in the pool's folders is tidied first)."""
        if self._runner is not None:
            if park:
                self._runner.park()
            self._runner.warm_up()

    def reuse(self, job_name: str, ports: int = 0) -> tuple[dict[str, str], list[int]]:
        """Run ``job_name``'s host next; the last job's files on this node go (its outputs
        were uploaded by :meth:`finish`). Where it is, as :meth:`locate` tells."""
        if self._runner is not None:
            shutil.rmtree(self._runner.paths.root, ignore_errors=True)
            self._runner.reuse(job_name)
        self.job_name = job_name
        self._host = None
        return self.locate(ports)

    def close(self) -> None:
        """End what is left of the host and drop the job's files on this node."""
        if self._host is not None and self._host.poll() is None:
            self._host.signal(9)
        if self._runner is not None:
            self._runner.close()
            shutil.rmtree(self._runner.paths.root, ignore_errors=True)


class _Cancel:
    """The local executor's Progress, as far as set-up asks it: whether to stop."""

    def __init__(self, cancelled: threading.Event) -> None:
        self._cancelled = cancelled

    def stop_requested(self) -> bool:
        return self._cancelled.is_set()

    def note(self, message: str) -> None:
        pass

    def waiting(self, message: str) -> None:
        pass


def _with_node(plan: HostPlan, node_id: str) -> HostPlan:
    """The plan, its environment naming the Ray node it runs on (``SAGEYARD_RAY_NODE_ID``)."""
    from dataclasses import replace

    return replace(plan, environment={**plan.environment, "SAGEYARD_RAY_NODE_ID": node_id})
