"""Watching a job's running hosts: logs → metrics, stop requests, max runtime, the outcome.

What to do next is decided by pure functions of what was polled: :func:`decide` (whether to
begin stopping, and which signal to send now) and :func:`outcome` (how the attempt ended);
:class:`Watch` only polls the hosts' handles, feeds their logs to the metric extractor and
carries the decisions out.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sageyard.core.shapes import MetricDefinition
from sageyard.executors import HostExit, HostHandle
from sageyard.jobs.metrics import LineSplitter, MetricExtractor
from sageyard.jobs.states import StatusWriter
from sageyard.runtime.host import signal_name
from sageyard.store import JobStore, MetricPoint

# Metrics reach the store at most this late: early stopping and Hyperband act on them.
FLUSH_SECONDS = 0.05
# How often a running job looks for a stop request in the store.
STOP_CHECK_SECONDS = 0.1


@dataclass(frozen=True)
class Outcome:
    status: str  # Completed | Failed | Stopped
    secondary: str
    failure_reason: str | None = None
    retryable: bool = False  # an infrastructure failure: RetryStrategy may try again


@dataclass(frozen=True)
class Stopping:
    """Where a watched job stands: whether (and why) it is being stopped, and when its
    hosts get SIGKILL. ``reason``: ``Stopped`` (asked to), ``MaxRuntimeExceeded``, or
    ``HostFailed`` (a host failed: the others are ended; ``culprit`` is its index, as the
    hosts ended by sageyard's SIGTERM then fail too, and must not be blamed)."""

    deadline: float  # MaxRuntimeInSeconds, as a time
    grace: float  # seconds from SIGTERM to SIGKILL
    reason: str | None = None
    kill_at: float | None = None
    culprit: int | None = None


def decide(
    state: Stopping, now: float, exits: Sequence[HostExit | None], stop_requested: bool
) -> tuple[Stopping, int | None]:
    """The next state, and the signal to send to the hosts still running (or ``None``).

    Example:
        >>> state, signum = decide(Stopping(deadline=10.0, grace=2.0), 11.0, [None], False)
        >>> state.reason, state.kill_at, signum.name
        ('MaxRuntimeExceeded', 13.0, 'SIGTERM')
    """
    if all(exit is not None for exit in exits):
        return state, None
    if state.reason is None:
        failed = [i for i, exit in enumerate(exits) if exit is not None and exit.code != 0]
        culprit = None
        if now >= state.deadline:
            reason = "MaxRuntimeExceeded"
        elif stop_requested:
            reason = "Stopped"
        elif failed:
            reason, culprit = "HostFailed", failed[0]
        else:
            return state, None
        stopping = replace(state, reason=reason, kill_at=now + state.grace, culprit=culprit)
        return stopping, signal.SIGTERM
    if state.kill_at is not None and now >= state.kill_at:
        return replace(state, kill_at=None), signal.SIGKILL
    return state, None


def outcome(state: Stopping, hosts: Sequence[str], exits: Sequence[HostExit]) -> Outcome:
    """How the attempt ended, from why it was stopped (if it was) and each host's exit.

    The host that failed on its own gives the FailureReason (the first in rank order, if
    several ended together). A host killed by a signal sageyard did not send, that wrote no
    failure file, is an infrastructure failure (retryable).
    """
    if state.reason == "MaxRuntimeExceeded":
        return Outcome("Stopped", "MaxRuntimeExceeded")
    if state.reason == "Stopped":
        return Outcome("Stopped", "Stopped")
    failed = [(host, exit) for host, exit in zip(hosts, exits, strict=True) if exit.code != 0]
    if not failed:
        return Outcome("Completed", "Completed")
    host, first = failed[0]
    if state.culprit is not None:
        host, first = hosts[state.culprit], exits[state.culprit]
    if first.failure_text is None and first.code < 0:
        return Outcome(
            "Failed",
            "Failed",
            f"InternalServerError: host {host} was killed by signal {-first.code} "
            f"({signal_name(-first.code)}) that sageyard did not send (the out-of-memory "
            "killer, for example).",
            retryable=True,
        )
    reason_text = first.failure_text or f"AlgorithmError: the script exited with code {first.code}."
    return Outcome("Failed", "Failed", reason_text)


class _HostLog:
    """The whole new lines of one host's output since the last read."""

    def __init__(self, handle: HostHandle) -> None:
        self._handle, self._offset, self._lines = handle, 0, LineSplitter()

    def read_lines(self, final: bool = False) -> list[str]:
        data = self._handle.read_log(self._offset)
        self._offset += len(data)
        return self._lines.split(data, final=final)


class Watch:
    """Follows a job's started hosts until every one has ended."""

    def __init__(
        self,
        job_name: str,
        store: JobStore,
        status: StatusWriter,
        metric_definitions: Sequence[MetricDefinition],
        state: Stopping,
    ) -> None:
        self.job_name, self.store, self.status = job_name, store, status
        self.extractor = MetricExtractor(metric_definitions)
        self.state = state
        self.points: list[MetricPoint] = []

    def run(self, handles: Sequence[HostHandle]) -> Outcome:
        logs = [_HostLog(handle) for handle in handles]
        exits: list[HostExit | None] = [None] * len(handles)
        tick, next_check, next_flush = 0.002, 0.0, time.time() + FLUSH_SECONDS
        stop_requested = False
        while True:
            now = time.time()
            exits = [exit or handle.poll() for exit, handle in zip(exits, handles, strict=True)]
            self._read(logs)
            if now >= next_check and not stop_requested:
                next_check = now + STOP_CHECK_SECONDS
                stop_requested = self.status.stop_requested()
            before = self.state.reason
            self.state, signum = decide(self.state, now, exits, stop_requested)
            if self.state.reason != before:
                self._report(self.state.reason)
            if signum is not None:
                for handle, exit in zip(handles, exits, strict=True):
                    if exit is None:
                        handle.signal(signum)
            if now >= next_flush:
                self._flush()
                next_flush = now + FLUSH_SECONDS
            if all(exit is not None for exit in exits):
                break
            time.sleep(tick)
            tick = min(tick * 1.2, 0.1)  # short jobs end fast, long ones cost little
        self._read(logs, final=True)
        self._flush()
        ended = [exit for exit in exits if exit is not None]
        return outcome(self.state, [handle.host for handle in handles], ended)

    def _report(self, reason: str | None) -> None:
        if reason == "Stopped":
            self.status.transition("Stopping", "Stopping the job")
        elif reason == "MaxRuntimeExceeded":
            self.status.transition(reason, "Training job exceeded MaxRuntimeInSeconds")

    def _read(self, logs: list[_HostLog], final: bool = False) -> None:
        for log in logs:
            lines = log.read_lines(final=final)
            if lines:
                self.points += self.extractor.feed(lines)

    def _flush(self) -> None:
        if self.points:
            self.store.append_metrics(self.job_name, self.points)
            self.points = []
