"""A job's doorbell: how a process that follows a job on this machine learns at once that
the job ended, instead of at its next poll.

Followers read the job store (``follow.py``, a tuning job's loop, a tuning job's ``wait``).
Between two reads they wait on the job's doorbell, a FIFO in the job's folder, and the
job's supervisor rings it right after it writes the job's end (:func:`ring`). The follower
wakes, reads the store and sees the end. Polling stays, so a follower that misses a ring
(several follow one job, or a reader settled a dead supervisor's job) sees the end at its
next poll; where no doorbell can be made, a follower only polls.

The FIFO is in ``$SAGEYARD_HOME/jobs/<name>/``, which no job's sandbox shows.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from sageyard.core.settings import Settings
from sageyard.runtime.layout import JobPaths


def doorbell_path(settings: Settings, name: str) -> Path:
    """Where the doorbell of the job (training or tuning) ``name`` is."""
    return JobPaths(settings.jobs_dir / name).doorbell


def ring(path: Path) -> None:
    """Wake whoever waits on the doorbell at ``path``; nothing when nobody does."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as error:
        if error.errno in (errno.ENXIO, errno.ENOENT):  # no follower waits
            return
        raise
    try:
        with contextlib.suppress(BlockingIOError):  # full of rings nobody read: awake anyway
            os.write(fd, b"\n")
    finally:
        os.close(fd)


class Doorbell:
    """The follower's side of one doorbell: made (if missing) and opened on ``open()``.

    The follower holds a write end of its own too, so that a ringer closing its end is no
    end of file (which would wake every wait at once). ``path=None`` is a doorbell nobody
    rings (a job whose supervisor is on another machine, a ``sageyard server``'s): its
    waits only sleep."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._reader: int | None = None
        self._writer: int | None = None

    def open(self) -> Doorbell:
        """Make and open the FIFO; without one (no such folder can be made), waits sleep."""
        if self.path is None:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkfifo(self.path, 0o600)
            self._reader = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            self._writer = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            self.close()
        return self

    @property
    def ready(self) -> bool:
        """Whether rings reach this follower (else it can only poll)."""
        return self._reader is not None

    def fileno(self) -> int | None:
        return self._reader

    def wait(self, seconds: float) -> bool:
        """Wait until the doorbell rings or ``seconds`` pass; whether it rang."""
        return wait_any([self], seconds)

    def drain(self) -> None:
        """Forget the rings so far."""
        if self._reader is None:
            return
        with contextlib.suppress(BlockingIOError):
            while os.read(self._reader, 4096):
                pass

    def close(self) -> None:
        """Stop listening, and remove the FIFO (a job's folder keeps no special file that
        a copy of ``SAGEYARD_HOME`` would trip on; another follower of the same job, if
        any, polls from then on)."""
        if self._reader is not None and self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
        for fd in (self._reader, self._writer):
            if fd is not None:
                os.close(fd)
        self._reader = self._writer = None

    def __enter__(self) -> Doorbell:
        return self.open()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def wait_any(bells: Iterable[Doorbell], seconds: float) -> bool:
    """Wait until one of ``bells`` rings or ``seconds`` pass; whether one rang (each that
    rang is drained)."""
    seconds = max(0.0, seconds)
    ready = {fd: bell for bell in bells if (fd := bell.fileno()) is not None}
    if not ready:
        time.sleep(seconds)
        return False
    readable, _, _ = select.select(list(ready), [], [], seconds)
    for fd in readable:
        ready[fd].drain()
    return bool(readable)
