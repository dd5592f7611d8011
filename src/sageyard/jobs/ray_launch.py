"""Supervisors on the Ray cluster: started from its head node, so the caller may leave.

With ``SAGEYARD_EXECUTOR=ray``, :func:`launch_on_cluster` hands a job's supervisor to the
cluster's *launcher*, a detached Ray actor (``sageyard-launcher``, no CPU reserved) that
lives on the head node: it starts the supervisor there as a detached process (``python -m``
its module, as ``launch.py`` does where it cannot fork), with the caller's settings and
``SAGEYARD_ON_CLUSTER=1``. The caller needs only the Ray client for that one call, so a
laptop can submit with ``wait=False`` and disconnect; the job's state is in the shared job
store, its logs too (``watch.py``), and its supervisor's heartbeat tells readers anywhere
whether it lives. Supervisors already on the cluster (a tuning job's, starting its trials)
start theirs beside them, on the head node, without the launcher.

Two things keep a supervisor alive when some other node dies. The launcher is pinned to the
head node (a *hard* affinity: a soft one let Ray place it on any node, and a supervisor
started there died with that node). And a supervisor is no child of the launcher's Ray
worker: Ray kills a worker's child processes when the worker exits
(``kill_child_processes_on_worker_exit``), so the launcher starts it through a short-lived
intermediate process that forks it and exits, and the supervisor outlives its launcher.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sageyard.core.exceptions import SageyardError
from sageyard.core.settings import Settings

__all__ = ["ON_CLUSTER", "Launcher", "launch_on_cluster", "on_cluster"]

#: Set in the environment of supervisors the launcher started.
ON_CLUSTER = "SAGEYARD_ON_CLUSTER"

#: The launcher actor's name (in sageyard's Ray namespace).
LAUNCHER = "sageyard-launcher"


def on_cluster() -> bool:
    """Whether this process is a supervisor the cluster's launcher started."""
    return os.environ.get(ON_CLUSTER) == "1"


class Launcher:
    """The cluster's supervisor launcher (a detached Ray actor on the head node)."""

    def __init__(self) -> None:
        # the node's own environment, less any sageyard setting (each launch brings its
        # own) and what Ray set for this worker (RAY_JOB_ID, RAY_RAYLET_PID, …): a
        # supervisor is a Ray driver of its own
        self._base = {
            k: v for k, v in os.environ.items() if not k.startswith(("SAGEYARD_", "RAY_"))
        }

    def launch(self, env: dict[str, str], module: str, job_name: str, log: str) -> str:
        """Start ``python -m module job_name`` (a supervisor) on this node, detached from
        this worker, in the environment of the caller's settings; the node it runs on."""
        import ray

        Path(log).parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            intermediate = subprocess.Popen(
                [sys.executable, "-S", "-c", _DETACH, "-m", module, job_name],
                env={**self._base, **env, ON_CLUSTER: "1"},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        code = intermediate.wait(timeout=60)  # it only forks
        node: str = ray.get_runtime_context().get_node_id()
        if code != 0:
            raise SageyardError(
                f"the launcher on node {node} could not start the supervisor of {job_name} "
                f"(exit {code}); see {log}"
            )
        return node


#: The intermediate: forks the supervisor (``python <its arguments>``) and exits, so the
#: supervisor is no child of the launcher's Ray worker (which kills its children on exit).
_DETACH = """\
import os, sys
if os.fork() == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


def launch_on_cluster(settings: Settings, module: str, job_name: str, log: Path) -> None:
    """Have the cluster's launcher start ``python -m module job_name`` (the supervisor of
    ``job_name``) on the head node."""
    from sageyard.executors.ray import NAMESPACE, connect

    ray = connect(settings)
    launcher = _launcher(ray, NAMESPACE)
    env = {**settings.to_env(), **_credentials()}
    ray.get(launcher.launch.remote(env, module, job_name, str(log)), timeout=120)


def _launcher(ray: Any, namespace: str) -> Any:
    """The launcher actor, created on the head node the first time."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    head = next(
        (n["NodeID"] for n in ray.nodes() if n.get("Alive") and _is_head(n)),
        None,
    )
    options: dict[str, Any] = {
        "name": LAUNCHER,
        "namespace": namespace,
        "lifetime": "detached",
        "get_if_exists": True,
        "num_cpus": 0,
        "max_concurrency": 16,
    }
    if head is not None:  # hard: a supervisor placed elsewhere dies with that node
        options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(head, soft=False)
    return ray.remote(Launcher).options(**options).remote()


def _is_head(node: dict[str, Any]) -> bool:
    return "node:__internal_head__" in node.get("Resources", {})


def _credentials() -> dict[str, str]:
    """The caller's object-store credentials, which its supervisor uses on the head node."""
    names = (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
    )
    return {name: os.environ[name] for name in names if os.environ.get(name)}
