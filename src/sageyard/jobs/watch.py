"""Watching a job's running hosts: logs → metrics, stop requests, max runtime, the outcome.

What to do next is decided by pure functions of what was polled: :func:`decide` (whether to
begin stopping, and which signal to send now) and :func:`outcome` (how the attempt ended);
:class:`Watch` only polls the hosts' handles, feeds their logs to the metric extractor and
carries the decisions out.

What a job prints cannot stall the watch: a host's log is read a bounded chunk at a time
(the executor's ``read_log``), each chunk is split and searched within the extractor's
bounds (``metrics.py``), and the points of each metric are capped at
:data:`~sageyard.jobs.metrics.POINTS_PER_SECOND` a second; so every pass of the loop, with
its stop and max-runtime decisions, comes within a bounded time, whatever the job prints.
"""

from __future__ import annotations

import logging
import re
import select
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sageyard.core.shapes import MetricDefinition
from sageyard.executors import HostExit, HostHandle
from sageyard.jobs.metrics import POINTS_PER_SECOND, LineSplitter, MetricExtractor
from sageyard.jobs.states import StatusWriter
from sageyard.runtime.host import signal_name
from sageyard.store import JobStore, MetricPoint

logger = logging.getLogger(__name__)

# Metrics reach the store at most this late: early stopping and Hyperband act on them.
FLUSH_SECONDS = 0.05
# How often a running job looks for a stop request in the store.
STOP_CHECK_SECONDS = 0.1
# After the hosts have ended, how long their unread output is searched for metrics at most.
DRAIN_SECONDS = 30.0
# A read of this much output means more is waiting: the watch reads on without sleeping.
BACKLOG_BYTES = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    status: str  # Completed | Failed | Stopped (InProgress: Interrupted, to be restarted)
    secondary: str
    failure_reason: str | None = None
    retryable: bool = False  # an infrastructure failure: RetryStrategy may try again


@dataclass(frozen=True)
class Stopping:
    """Where a watched job stands: whether (and why) it is being stopped, and when its
    hosts get SIGKILL. ``reason``: ``Stopped`` (asked to), ``MaxRuntimeExceeded``,
    ``MaxWaitTimeExceeded`` (a managed spot job's whole time is up), ``Interrupted`` (the
    spot market reclaimed its capacity: the job restarts from its checkpoints), or
    ``HostFailed`` (a host failed: the others are ended; ``culprit`` is its index, as the
    hosts ended by sageyard's SIGTERM then fail too, and must not be blamed)."""

    deadline: float  # MaxRuntimeInSeconds, as a time
    grace: float  # seconds from SIGTERM to SIGKILL
    reason: str | None = None
    kill_at: float | None = None
    culprit: int | None = None
    wait_deadline: float | None = None  # MaxWaitTimeInSeconds of a managed spot job, as a time
    interrupt_at: float | None = None  # when the spot market reclaims the capacity
    notice: float | None = None  # seconds from SIGTERM to SIGKILL at an interruption


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
        grace = state.grace
        if state.wait_deadline is not None and now >= state.wait_deadline:
            reason = "MaxWaitTimeExceeded"
        elif now >= state.deadline:
            reason = "MaxRuntimeExceeded"
        elif stop_requested:
            reason = "Stopped"
        elif failed:
            reason, culprit = "HostFailed", failed[0]
        elif state.interrupt_at is not None and now >= state.interrupt_at:
            reason = "Interrupted"
            grace = state.notice if state.notice is not None else state.grace
        else:
            return state, None
        stopping = replace(state, reason=reason, kill_at=now + grace, culprit=culprit)
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
    if state.reason in ("MaxRuntimeExceeded", "MaxWaitTimeExceeded"):
        return Outcome("Stopped", state.reason)
    if state.reason == "Interrupted":  # the supervisor restarts it (whatever the hosts did)
        return Outcome("InProgress", "Interrupted")
    if state.reason == "Stopped":
        return Outcome("Stopped", "Stopped")
    failed = [(host, exit) for host, exit in zip(hosts, exits, strict=True) if exit.code != 0]
    if not failed:
        return Outcome("Completed", "Completed")
    lost = next((e.infrastructure for _, e in failed if e.infrastructure is not None), None)
    if lost is not None:  # the platform lost a host (its node died): the others followed
        return Outcome("Failed", "Failed", lost, retryable=True)
    host, first = failed[0]
    if state.culprit is not None:
        host, first = hosts[state.culprit], exits[state.culprit]
    if _lost_a_peer(first):  # a distributed job's rank that failed because another one did
        own = ((h, e) for h, e in failed if e.failure_text is not None and not _lost_a_peer(e))
        host, first = next(own, (host, first))
    if first.out_of_memory:
        return Outcome(
            "Failed",
            "Failed",
            f"InternalServerError: host {host} ran out of memory: the kernel's out-of-memory "
            "killer ended it (SIGKILL). Use an instance type with more memory, or a smaller "
            "batch size.",
            retryable=True,
        )
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


#: What a rank says when a collective lost a peer, i.e. another rank failed first.
_LOST_PEER = re.compile(
    r"Connection closed by peer|Connection reset by peer|remote worker crash|"
    r"NCCL communicator was aborted|remote process exited"
)


def _lost_a_peer(exit: HostExit) -> bool:
    return exit.failure_text is not None and bool(_LOST_PEER.search(exit.failure_text))


def _nap(handles: Sequence[HostHandle], exits: Sequence[HostExit | None], seconds: float) -> None:
    """Wait ``seconds``, or less: until a running host ends, where its handle gives a
    descriptor for that (``exit_fd()``: a pidfd, a warm host's control socket)."""
    fds = []
    for handle, ended in zip(handles, exits, strict=True):
        exit_fd = getattr(handle, "exit_fd", None)
        fd = exit_fd() if ended is None and exit_fd is not None else None
        if fd is not None:
            fds.append(fd)
    if fds:
        select.select(fds, [], [], seconds)
    else:
        time.sleep(seconds)


class _HostLog:
    """The whole new lines of one host's output since the last read, a chunk at a time."""

    def __init__(self, handle: HostHandle) -> None:
        self.host = handle.host
        self._handle, self._offset, self._lines = handle, 0, LineSplitter()
        self.got = 0  # bytes the last read got

    def read_lines(self, final: bool = False) -> list[str]:
        """The lines of the next chunk; with ``final``, the partial last line too once the
        output is over."""
        data = self._handle.read_log(self._offset)
        self._offset += len(data)
        self.got = len(data)
        return self._lines.split(data, final=final and not data)


class Watch:
    """Follows a job's started hosts until every one has ended."""

    def __init__(
        self,
        job_name: str,
        store: JobStore,
        status: StatusWriter,
        metric_definitions: Sequence[MetricDefinition],
        state: Stopping,
        store_logs: bool = False,
    ) -> None:
        self.job_name, self.store, self.status = job_name, store, status
        self.extractor = MetricExtractor(metric_definitions, per_second=POINTS_PER_SECOND)
        self.state = state
        self.points: list[MetricPoint] = []
        # the hosts run elsewhere (a cluster's nodes): their lines go to the job store too,
        # with the metrics, so followers on any machine read them
        self.store_logs = store_logs
        self.lines: list[tuple[str, str]] = []

    def run(self, handles: Sequence[HostHandle]) -> Outcome:
        logs = [_HostLog(handle) for handle in handles]
        exits: list[HostExit | None] = [None] * len(handles)
        # the Training transition has just found the job InProgress: the first stop check
        # comes a STOP_CHECK_SECONDS later
        started = time.time()
        tick, next_check, next_flush = 0.002, started + STOP_CHECK_SECONDS, started + FLUSH_SECONDS
        stop_requested = False
        while True:
            now = time.time()
            exits = [exit or handle.poll() for exit, handle in zip(exits, handles, strict=True)]
            pending = self._read(logs) >= BACKLOG_BYTES
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
            if pending:  # output is waiting: read on at once
                tick = 0.002
                continue
            _nap(handles, exits, tick)
            tick = min(tick * 1.2, 0.1)  # short jobs end fast, long ones cost little
        self._drain(logs)
        ended = [exit for exit in exits if exit is not None]
        return outcome(self.state, [handle.host for handle in handles], ended)

    def _drain(self, logs: list[_HostLog]) -> None:
        """Read what the ended hosts left unread, for at most DRAIN_SECONDS; then the held
        points, and a note of what was dropped."""
        deadline = time.monotonic() + DRAIN_SECONDS
        while self._read(logs, final=True):  # until every host's output is read
            self._flush()
            if time.monotonic() >= deadline:
                unread = ", ".join(log.host for log in logs if log.got)
                self._note(
                    f"Metrics were not read from the rest of the output of {unread}: "
                    f"{DRAIN_SECONDS:.0f} s after the job ended it was still being searched "
                    "(the job printed faster than its metric regexes could search it). The "
                    "log itself is complete; the last metric values may be missing. Print "
                    "less, or simplify the metric definitions' regexes."
                )
                break
        self.points += self.extractor.drain()
        self._flush()
        dropped = self.extractor.dropped
        if dropped:
            counts = ", ".join(f"{name}: {count:,}" for name, count in sorted(dropped.items()))
            self._note(
                f"At most {POINTS_PER_SECOND} points a second of each metric are kept (the "
                f"first {POINTS_PER_SECOND - 1} and the last of each second); about this many "
                f"more were dropped: {counts}. Print metrics less often to keep them all."
            )

    def _report(self, reason: str | None) -> None:
        if reason == "Stopped":
            self.status.transition("Stopping", "Stopping the job")
        elif reason == "MaxRuntimeExceeded":
            self.status.transition(reason, "Training job exceeded MaxRuntimeInSeconds")
        elif reason == "MaxWaitTimeExceeded":
            self.status.transition(reason, "Training job exceeded MaxWaitTimeInSeconds")
        elif reason == "Interrupted":
            self.status.transition(
                reason,
                "The spot capacity was reclaimed (the simulated spot market, SAGEYARD_SPOT_*): "
                "the script got SIGTERM; its checkpoints are uploaded and the job restarts "
                "from them",
            )

    def _read(self, logs: list[_HostLog], final: bool = False) -> int:
        """Read one chunk of each host's output; the most bytes one host had."""
        for log in logs:
            lines = log.read_lines(final=final)
            if lines:
                self.points += self.extractor.feed(lines)
                if self.store_logs:
                    self.lines.append((log.host, "".join(line + "\n" for line in lines)))
        for warning in self.extractor.take_warnings():
            self._note(warning)
        return max((log.got for log in logs), default=0)

    def _note(self, message: str) -> None:
        logger.warning("%s: %s", self.job_name, message)
        self.status.note(message)

    def _flush(self) -> None:
        self.points += self.extractor.release(time.time())  # the held points now due
        if self.points:
            self.store.append_metrics(self.job_name, self.points)
            self.points = []
        if self.lines:
            self.store.append_logs(self.job_name, self.lines)
            self.lines = []
