"""Local capacity: hosts run in slots (CPU slots, and GPU slots on machines with GPUs).

A slot is an exclusive ``flock`` on ``$SAGEYARD_HOME/slots/<kind>-<i>.lock``. Locks belong
to open files, so a slot is freed the moment every process holding it ends: a crash never
leaks capacity. Only the supervisor holds them: a host's processes never get the
descriptors (its reaper closes them, ``runtime/sandbox.py``), so a daemon a job leaves
behind can never hold a slot; the supervisor releases the slots once every host's reaper
has ended every process of its host.

Waiting jobs queue on ``queue.lock``: only the job at the head tries to take slots, so a
job that needs every slot (more hosts than slots) is not overtaken forever by small ones.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

# The g5, g6 and g6e families have the same sizes.
_G_SIZES = {
    "xlarge": 1,
    "2xlarge": 1,
    "4xlarge": 1,
    "8xlarge": 1,
    "12xlarge": 4,
    "16xlarge": 1,
    "24xlarge": 4,
    "48xlarge": 8,
}

# GPUs per instance for the accelerated SageMaker families (instance size → count).
_GPU_FAMILIES = {
    "p2": {"xlarge": 1, "8xlarge": 8, "16xlarge": 16},
    "p3": {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8},
    "p3dn": {"24xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p4de": {"24xlarge": 8},
    "p5": {"48xlarge": 8},
    "p5e": {"48xlarge": 8},
    "p5en": {"48xlarge": 8},
    "g4dn": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "12xlarge": 4,
        "16xlarge": 1,
        "metal": 8,
    },
    "g5": _G_SIZES,
    "g6": _G_SIZES,
    "g6e": _G_SIZES,
}


def gpus_for_instance_type(instance_type: str) -> int:
    """How many GPUs a SageMaker instance type has (0 for CPU types).

    Example:
        >>> gpus_for_instance_type("ml.p3.8xlarge")
        4
    """
    if instance_type == "local_gpu":  # SageMaker local mode: every GPU of this machine
        return max(1, len(machine_gpus()))
    _, family, size = ([*instance_type.split("."), "", ""])[:3]
    sizes = _GPU_FAMILIES.get(family)
    if sizes is None:
        return 0
    return sizes.get(size, 1)


@cache
def machine_gpus() -> list[str]:
    """GPU ids usable here: ``CUDA_VISIBLE_DEVICES`` when set, else what nvidia-smi lists."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [gpu for gpu in visible.split(",") if gpu.strip() and gpu.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(
            ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in listing.splitlines() if line.strip()]


@dataclass
class Reservation:
    """Slots held by one job: ``fds`` are the supervisor's locks, never passed to hosts."""

    cpu_slots: list[int] = field(default_factory=list)
    gpus: list[str] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)

    def release(self) -> None:
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds.clear()


class SlotPool:
    """Takes CPU and GPU slots for the hosts of one job."""

    def __init__(self, folder: Path, cpu_slots: int, gpu_ids: list[str]) -> None:
        self.folder = folder
        self.cpu_slots = cpu_slots
        self.gpu_ids = gpu_ids

    def _lock(self, name: str, blocking: bool = False) -> int | None:
        fd = os.open(self.folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def _try_take(self, hosts: int, gpus: int) -> Reservation | None:
        reservation = Reservation()
        wanted_cpu = min(hosts, self.cpu_slots)  # more hosts than slots: take the machine
        for index in range(self.cpu_slots):
            if len(reservation.cpu_slots) == wanted_cpu:
                break
            fd = self._lock(f"cpu-{index}")
            if fd is not None:
                reservation.cpu_slots.append(index)
                reservation.fds.append(fd)
        wanted_gpu = min(gpus, len(self.gpu_ids))
        for gpu in self.gpu_ids:
            if len(reservation.gpus) == wanted_gpu:
                break
            fd = self._lock(f"gpu-{gpu}")
            if fd is not None:
                reservation.gpus.append(gpu)
                reservation.fds.append(fd)
        if len(reservation.cpu_slots) == wanted_cpu and len(reservation.gpus) == wanted_gpu:
            return reservation
        reservation.release()
        return None

    def acquire(
        self,
        hosts: int,
        gpus: int,
        *,
        deadline: float | None,
        should_stop: Callable[[], bool],
        on_wait: Callable[[], None],
        poll_seconds: float = 0.05,
    ) -> Reservation | None:
        """Wait for slots. ``None`` when the deadline passed or ``should_stop()`` said so.

        ``on_wait`` is called once, when the job first has to wait.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        reservation = self._try_take(hosts, gpus)
        if reservation is not None:
            return reservation
        on_wait()
        queue_fd: int | None = None
        try:
            while True:
                if queue_fd is None:
                    queue_fd = self._lock("queue")
                if queue_fd is not None:
                    reservation = self._try_take(hosts, gpus)
                    if reservation is not None:
                        return reservation
                if (deadline is not None and time.time() >= deadline) or should_stop():
                    return None
                time.sleep(poll_seconds)
        finally:
            if queue_fd is not None:
                os.close(queue_fd)
