"""Who supervises a job, and whether that process is still alive.

A supervisor records ``owner = "<hostname>:<pid>:<start time>"`` and a heartbeat. A reader
on the same machine can tell at once that the process is gone (the pid is dead or was
reused); from elsewhere, a heartbeat older than :func:`stale_after` says the same.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks; ``None`` if it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]  # state, field 22: start time


def owner_token(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or '?'}"


def owner_alive(owner: str) -> bool | None:
    """``True``/``False`` for an owner on this machine; ``None`` when it lives elsewhere."""
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if not Path("/proc/self/stat").exists():  # no procfs: the pid is all we can check
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    current = _start_time(pid)
    return current is not None and started in ("?", current)


def stale_after(heartbeat_seconds: float) -> float:
    """Seconds without a heartbeat after which a supervisor counts as dead."""
    return 3 * heartbeat_seconds + 10


#: More seconds a job whose supervisor has not claimed it yet is given: a supervisor started
#: as a fresh interpreter (by a caller with threads, e.g. a notebook) imports for a few
#: hundred milliseconds, and a hundred of them started at once on two cores take tens of
#: seconds, longer than :func:`stale_after`, before the first claims its job.
LAUNCH_GRACE_SECONDS = 120.0


def dead_reason(
    owner: str | None, heartbeat_at: float | None, created_at: float, heartbeat_seconds: float
) -> tuple[str | None, bool]:
    """Why a job's supervisor counts as dead (``None``: alive), and whether it is known to
    be gone from this machine (so what it left running here may be ended)."""
    alive = owner_alive(owner) if owner else None
    if alive is False:
        return f"its supervisor process ({owner}) is gone", True
    silence = time.time() - (heartbeat_at or created_at)
    allowed = stale_after(heartbeat_seconds) + (LAUNCH_GRACE_SECONDS if owner is None else 0)
    if silence > allowed:
        return f"its supervisor sent no heartbeat for {silence:.0f} s", False
    return None, False
