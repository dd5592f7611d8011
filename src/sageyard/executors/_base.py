"""The narrow executor interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Mount:
    """A read-only view of ``source`` at ``target`` inside the host's mount namespace."""

    source: Path
    target: Path


@dataclass(frozen=True)
class HostLaunch:
    """Everything needed to start one host's process tree."""

    host: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    job_root: Path
    mounts: list[Mount] = field(default_factory=list)
    alias_container_root: bool = False  # also mount the job root at /opt/ml
    isolate_network: bool = False
    keep_fds: tuple[int, ...] = ()  # slot locks the host holds while it lives
    gpus: tuple[str, ...] = ()  # GPU ids reserved for the host


class HostHandle(Protocol):
    host: str

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None:
        """The exit status once the host's main process ended (negative: killed by signal)."""
        ...

    def signal(self, signum: int) -> None:
        """Send a signal to the host's whole process tree."""
        ...


class Executor(Protocol):
    def start(self, launch: HostLaunch) -> HostHandle: ...
