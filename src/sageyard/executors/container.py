"""Docker, for ``Mode.LOCAL_CONTAINER``: each host is a container of the job's image.

The host's job root is mounted at ``/opt/ml``, channels are mounted read-only under
``/opt/ml/input/data``, and the hosts of one job share a Docker network in which they are
called ``algo-1`` … ``algo-N``. The ``docker`` command line drives it all.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.settings import Settings
from sageyard.executors.local import LocalExecutor, LocalHost
from sageyard.runtime.host import HostExit, HostSetupError
from sageyard.runtime.layout import CONTAINER_ROOT
from sageyard.runtime.plan import HostPlan
from sageyard.runtime.process import HostLaunch

#: How long a signal is retried while the container of a just-started host does not exist.
KILL_RETRY_SECONDS = 5.0


def docker_socket() -> str:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return host.removeprefix("unix://")


def docker_engine_answers(timeout: float = 1.0) -> bool:
    """Whether a Docker engine answers ``/_ping`` on its unix socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(docker_socket())
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = sock.recv(4096)
    except OSError:
        return False
    status = reply.split(b"\r\n", 1)[0].split()
    return len(status) >= 2 and status[0].startswith(b"HTTP/1.") and status[1] == b"200"


def require_docker() -> None:
    """Fail fast, before anything is written, when ``Mode.LOCAL_CONTAINER`` cannot run."""
    if not docker_engine_answers():
        raise ConfigurationError(
            f"Mode.LOCAL_CONTAINER runs the job in Docker, but no Docker engine answers at "
            f"{docker_socket()}. Start Docker (or set DOCKER_HOST), or use the default "
            "Mode.SAGEMAKER_TRAINING_JOB, which runs the job as local processes without Docker."
        )


def _in_container(path: Path, job_root: Path) -> str:
    """A host path under the job root, as the container sees it (under /opt/ml)."""
    return f"{CONTAINER_ROOT}/{path.relative_to(job_root)}"


def docker_run_argv(
    launch: HostLaunch, image: str, container: str, network: str | None, env_file: Path
) -> list[str]:
    """The ``docker run`` command line of one host (pure: test it directly).

    With ``launch.argv`` empty the image's own entry point runs with the argument
    ``train``, as SageMaker starts algorithm containers.
    """
    argv = [
        "docker",
        "run",
        "--rm",
        "--name",
        container,
        "--hostname",
        launch.host,
        "--env-file",
        str(env_file),
        "-v",
        f"{launch.job_root}:{CONTAINER_ROOT}",
    ]
    for mount in launch.mounts:
        if mount.target.is_relative_to(launch.job_root):
            argv += ["-v", f"{mount.source}:{_in_container(mount.target, launch.job_root)}:ro"]
    argv += ["-w", str(launch.cwd)]
    if launch.isolate_network:
        argv += ["--network", "none"]
    elif network is not None:
        argv += ["--network", network, "--network-alias", launch.host]
    if launch.gpus:  # quoted: docker reads the value as CSV, and a device list has commas
        argv += ["--gpus", f'"device={",".join(launch.gpus)}"']
    if not launch.argv:
        return [*argv, image, "train"]
    return [*argv, "--entrypoint", launch.argv[0], image, *launch.argv[1:]]


def write_env_file(env: dict[str, str], path: Path) -> Path:
    """Variables for ``--env-file`` (kept off the command line, where ``ps`` shows them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        for key, value in env.items():
            out.write(f"{key}={value.replace(chr(10), ' ')}\n")
    return path


class ContainerHost(LocalHost):
    """A host running as ``docker run``: signals go to the container, not the client.

    ``docker run`` exits with 128 + n when the container's main process died of signal n;
    for a signal sageyard sent, the host's exit says so as a process's would (-n).
    """

    def __init__(self, container: str, *args: Any) -> None:
        super().__init__(*args)
        self.container = container
        self._sent: set[int] = set()

    def _end_stragglers(self) -> None:
        """Nothing: the container ended with its main process (``--rm`` removed it)."""

    def poll(self) -> HostExit | None:
        ended = super().poll()
        if (
            ended is not None
            and ended.code > 128
            and (ended.code - 128 in self._sent or not self._root.failure_file.exists())
        ):  # the container's main process died of signal code - 128
            written = self._root.failure_file.exists()
            ended = HostExit(-(ended.code - 128), ended.failure_text if written else None)
            self._exit = ended
        return ended

    def signal(self, signum: int) -> None:
        if self._process.poll() is not None:
            return
        self._sent.add(signum)
        name = signal.Signals(signum).name.removeprefix("SIG")
        deadline = time.monotonic() + KILL_RETRY_SECONDS
        # Right after `docker run` starts, the container may not exist yet: try again.
        while self._process.poll() is None:
            kill = ["docker", "kill", f"--signal={name}", self.container]
            if subprocess.run(kill, capture_output=True, check=False).returncode == 0:
                return
            if time.monotonic() >= deadline:  # still no container (an image pull?): end it
                self._process.kill()
                subprocess.run(
                    ["docker", "rm", "-f", self.container], capture_output=True, check=False
                )
                return
            time.sleep(0.05)


class ContainerExecutor(LocalExecutor):
    """Runs each host as ``docker run`` of the job's image, in this machine's slots."""

    container = True

    def __init__(self, settings: Settings, job_name: str) -> None:
        super().__init__(settings, job_name)
        self._job_network_name: str | None = None

    @classmethod
    def check_job(cls, settings: Settings, plans: Sequence[HostPlan]) -> None:
        """A Docker engine must answer (and the local executor's GPU rule holds)."""
        require_docker()
        super().check_job(settings, plans)

    def _host(self, plan: HostPlan, *args: Any) -> ContainerHost:
        return ContainerHost(self._container_name(plan), plan, *args)

    def _container_name(self, plan: HostPlan) -> str:
        return f"{self.job_name}-{plan.host}"

    def start(self, plan: HostPlan) -> LocalHost:
        if plan.training_image is None:  # before anything is staged
            raise HostSetupError(
                "ClientError: Mode.LOCAL_CONTAINER needs a training_image", retryable=False
            )
        return super().start(plan)

    def _spawn(
        self, launch: HostLaunch, plan: HostPlan, keep_fd: int | None = None
    ) -> subprocess.Popen[bytes]:
        assert plan.training_image is not None  # checked by start()
        assert keep_fd is None  # containers keep no warmed interpreter
        if len(plan.hosts) > 1 and self._job_network_name is None:
            network = f"sageyard-{self.job_name}"
            subprocess.run(
                ["docker", "network", "create", network], check=True, capture_output=True
            )
            self._job_network_name = network
        env_file = write_env_file(launch.env, launch.log_path.parent / f".{launch.host}.env")
        argv = docker_run_argv(
            launch,
            plan.training_image,
            self._container_name(plan),
            self._job_network_name,
            env_file,
        )
        launch.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(launch.log_path, "ab", buffering=0) as log:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def close(self) -> None:
        if self._job_network_name is not None:
            subprocess.run(
                ["docker", "network", "rm", self._job_network_name],
                capture_output=True,
                check=False,
            )
            self._job_network_name = None
        super().close()
