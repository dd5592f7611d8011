"""Following a job from the caller's side: status transitions and, optionally, its logs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from sageyard.core.exceptions import TimeoutExceededError
from sageyard.core.settings import Settings
from sageyard.executors import executor_class
from sageyard.jobs.doorbell import Doorbell, doorbell_path
from sageyard.jobs.metrics import LogTail
from sageyard.jobs.spec import TrainingJobSpec
from sageyard.jobs.states import ACTIVE
from sageyard.runtime.environment import mask_text, secret_values
from sageyard.runtime.layout import JobPaths
from sageyard.store import JobRecord, JobStore

_AFTER = frozenset(
    {
        "Uploading",
        "Completed",
        "Failed",
        "Stopped",
        "Stopping",
        "MaxRuntimeExceeded",
        "Interrupted",
        "Restarting",
    }
)


class LocalJobs(Protocol):
    """What following a job reads of the training-job service of this machine."""

    settings: Settings

    @property
    def store(self) -> JobStore: ...

    def get(self, name: str) -> JobRecord: ...

    def paths(self, name: str) -> JobPaths: ...


def _write_events(
    out: TextIO, events: list[tuple[float, dict[str, Any]]], secrets: list[str]
) -> None:
    for at, payload in events:
        stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        message = mask_text(str(payload.get("StatusMessage", "")), secrets, edges=True)
        out.write(f"{stamp} {payload.get('Status')} - {message}\n")


class JobLogReader:
    """Reads a job's new log lines, masked, prefixed with the host when it has several."""

    def __init__(self, service: LocalJobs, name: str) -> None:
        spec = TrainingJobSpec.model_validate(service.get(name).document["spec"])
        self.secrets = secret_values(spec.environment)
        self._prefix = spec.host_count > 1
        self._paths = service.paths(name)
        self._tails: dict[Path, LogTail] = {}
        self._service, self._name = service, name
        # hosts that ran elsewhere (a cluster's nodes): their lines are in the job store
        self._in_store = bool(getattr(executor_class(spec.executor), "shares_no_disk", False))
        self._seen = 0  # the last log chunk read from the job store

    def read(self, final: bool = False) -> list[str]:
        if self._in_store:
            return self._read_store()
        lines = []
        for log in self._paths.host_logs():
            tail = self._tails.setdefault(log, LogTail(log))
            for line in tail.read_lines(final=final):
                text = mask_text(line, self.secrets)
                lines.append(f"[{log.stem}] {text}" if self._prefix else text)
        return lines

    def _read_store(self) -> list[str]:
        """The new lines of a job whose hosts ran elsewhere (the store keeps them), each
        host's in order, the hosts' interleaved as they were read."""
        lines = []
        for chunk in self._service.store.logs(self._name, after=self._seen):
            self._seen = chunk.id
            for line in chunk.text.splitlines():
                text = mask_text(line, self.secrets)
                lines.append(f"[{chunk.host}] {text}" if self._prefix else text)
        return lines


def log_lines(
    service: LocalJobs, name: str, *, follow: bool = False, poll: float = 0.2
) -> Iterator[str]:
    """The job's log lines; with ``follow``, keep reading until the job ends."""
    reader = JobLogReader(service, name)
    while True:
        ended = service.get(name).status not in ACTIVE
        yield from reader.read(final=ended)
        if not follow or ended:
            return
        time.sleep(poll)


def follow_job(
    service: LocalJobs,
    name: str,
    *,
    logs: bool,
    out: TextIO,
    deadline: float | None = None,
    poll: float = 0.2,
) -> None:
    """Poll until the job ends, printing each secondary status and (with ``logs``) log lines.

    The job's end is seen at once: between polls this waits on the job's doorbell, which
    its supervisor rings when the job ends (``doorbell.py``). Polls come every ``poll``
    seconds; while logs are followed, or where no doorbell can be made, they start fast
    (2 ms) and slow down to ``poll``, so short jobs are seen at once and long ones cost
    little.
    """
    with Doorbell(doorbell_path(service.settings, name)) as bell:
        _follow(
            service, name, bell, JobLogReader(service, name) if logs else None, out, deadline, poll
        )


def _follow(
    service: LocalJobs,
    name: str,
    bell: Doorbell,
    reader: JobLogReader | None,
    out: TextIO,
    deadline: float | None,
    poll: float,
) -> None:
    seen_events = 0
    interval = poll if bell.ready and reader is None else 0.002
    while True:
        record = service.get(name)
        ended = record.status not in ACTIVE
        if reader is not None:
            events = service.store.events(name)[seen_events:]
            seen_events += len(events)
            # Status lines up to Training come before this round's log lines, the rest after.
            split = next(
                (i for i, (_, p) in enumerate(events) if p.get("Status") in _AFTER), len(events)
            )
            _write_events(out, events[:split], reader.secrets)
            for line in reader.read(final=ended):
                out.write(line + "\n")
            _write_events(out, events[split:], reader.secrets)
            out.flush()
        if ended:
            return
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutExceededError(
                "TrainingJob",
                record.status,
                message=f"Training job {name} is still running; call .refresh() to check its "
                "current status, or wait() again.",
            )
        bell.wait(interval if deadline is None else min(interval, deadline - time.monotonic()))
        interval = min(interval * 1.2, poll)
