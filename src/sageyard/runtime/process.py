"""The process one host runs, and the private view of the file system it gets.

``runtime/host.py`` builds a :class:`HostLaunch` from a host's plan and placement; the
executor that placed the host starts it (a process group, a namespace, a container).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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
    gpus: tuple[str, ...] = ()  # GPU ids reserved for the host
    read_only: tuple[Path, ...] = ()  # more folders the sandbox shows, read-only (the env)
    writable: tuple[Path, ...] = ()  # shared services' folders it shows read-write (MLflow)
