"""The job root of one host: the folder that a script sees as ``/opt/ml``."""

from __future__ import annotations

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
