"""A job's folders on a node: each host's job root (``/opt/ml`` to its script), the logs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

CONTAINER_ROOT = "/opt/ml"


@dataclass(frozen=True)
class JobRoot:
    """Paths of one host's job root (``/opt/ml`` in SageMaker).

    Example:
        >>> JobRoot(Path("/tmp/job/algo-1")).model_dir
        PosixPath('/tmp/job/algo-1/model')
    """

    path: Path

    @property
    def input_dir(self) -> Path:
        return self.path / "input"

    @property
    def config_dir(self) -> Path:
        return self.path / "input" / "config"

    @property
    def data_dir(self) -> Path:
        return self.path / "input" / "data"

    def channel_dir(self, channel: str) -> Path:
        return self.data_dir / channel

    @property
    def code_dir(self) -> Path:
        return self.data_dir / "code"

    @property
    def drivers_dir(self) -> Path:
        return self.data_dir / "sm_drivers"

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def output_dir(self) -> Path:
        return self.path / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.path / "output" / "data"

    @property
    def failure_file(self) -> Path:
        return self.path / "output" / "failure"

    def create(self) -> None:
        for folder in (
            self.config_dir,
            self.data_dir,
            self.code_dir,
            self.model_dir,
            self.output_data_dir,
        ):
            folder.mkdir(parents=True, exist_ok=True)

    def host_path(self, container_path: str) -> Path:
        """Map a path the script knows (``/opt/ml/checkpoints``) to this job root.

        Paths outside ``/opt/ml`` are returned unchanged.
        """
        if container_path == CONTAINER_ROOT:
            return self.path
        if container_path.startswith(CONTAINER_ROOT + "/"):
            return self.path / container_path[len(CONTAINER_ROOT) + 1 :]
        return Path(container_path)


@dataclass(frozen=True)
class JobPaths:
    """Folders of one job on this machine: ``<home>/jobs/<name>/``."""

    root: Path

    @property
    def hosts(self) -> Path:
        return self.root / "hosts"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log(self, host: str) -> Path:
        return self.logs / f"{host}.log"

    @property
    def doorbell(self) -> Path:
        """The FIFO the supervisor rings when the job ends (``jobs/doorbell.py``)."""
        return self.root / "doorbell"

    def host_logs(self) -> list[Path]:
        """Log files of the job's hosts, in rank order (algo-1, algo-2, …)."""
        found = list(self.logs.glob("algo-*.log")) if self.logs.is_dir() else []
        return sorted(found, key=lambda p: int(p.stem.split("-")[-1]))

    def etc_hosts(self, host_count: int) -> Path:
        """An /etc/hosts that resolves algo-1 … algo-N to loopback addresses of their own
        (:func:`host_address`): hosts do not collide on ports, and programs that tell hosts
        apart by address (Open MPI) see them as different machines."""
        path = self.root / "etc-hosts"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["127.0.0.1 localhost", "::1 localhost"]
        lines += [f"{host_address(i)} algo-{i}" for i in range(1, host_count + 1)]
        path.write_text("\n".join(lines) + "\n")
        return path


def host_address(rank: int) -> str:
    """The loopback address host ``algo-<rank>`` has on this machine (``127.100.0.0/16``).

    Example:
        >>> host_address(1), host_address(300)
        ('127.100.0.1', '127.100.1.44')
    """
    return str(ipaddress.IPv4Address("127.100.0.0") + rank)
