"""Watching a job's running hosts: logs → metrics, stop requests, max runtime, the outcome."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sageyard.executors import Executor, HostLaunch
from sageyard.jobs.hosts import Host
from sageyard.jobs.metrics import LogTail, MetricExtractor
from sageyard.jobs.spec import TrainingJobSpec
from sageyard.jobs.states import StatusWriter
from sageyard.runtime.layout import JobRoot
from sageyard.store import JobStore, MetricPoint

_TRACEBACK = "Traceback (most recent call last):"
# Metrics reach the store at most this late: early stopping and Hyperband act on them.
FLUSH_SECONDS = 0.05
# How often a running job looks for a stop request in the store.
STOP_CHECK_SECONDS = 0.1


@dataclass
class Outcome:
    status: str  # Completed | Failed | Stopped
    secondary: str
    failure_reason: str | None = None
    retryable: bool = False  # an infrastructure failure: RetryStrategy may try again


def failure_reason(root: JobRoot, log: Path, exit_code: int) -> str:
    """FailureReason: the start of ``output/failure``, else the end of the traceback."""
    try:
        written = root.failure_file.read_text(errors="replace").strip()
    except OSError:
        written = ""
    if written:
        return written[:1024]
    try:
        lines = log.read_text(errors="replace").splitlines()[-200:]
    except OSError:
        lines = []
    starts = [i for i, line in enumerate(lines) if line.startswith(_TRACEBACK)]
    excerpt = lines[starts[-1] :] if starts else lines[-5:]
    detail = "\n".join(excerpt).strip()
    if len(detail) > 900:
        detail = "..." + detail[-900:]
    return f"AlgorithmError: the script exited with code {exit_code}" + (
        f":\n{detail}" if detail else "."
    )


def _start_feeder(manifest: Path, log: Path) -> subprocess.Popen[bytes]:
    """A Pipe-mode feeder (``sageyard.runtime.pipe``); its errors go to the host's log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "sageyard.runtime.pipe", str(manifest)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class Watch:
    """Starts the hosts and follows them until every one has ended."""

    def __init__(
        self,
        job_name: str,
        store: JobStore,
        status: StatusWriter,
        spec: TrainingJobSpec,
        started: float,
        grace: float,
    ) -> None:
        self.job_name, self.store, self.status, self.spec = job_name, store, status, spec
        self.deadline = started + (spec.stopping_condition.max_runtime_in_seconds or 86400)
        self.grace = grace
        self.extractor = MetricExtractor(spec.metric_definitions)
        self.hosts: list[Host] = []
        self.tails: list[LogTail] = []
        self.points: list[MetricPoint] = []
        self.stop_reason: str | None = None
        self.kill_at: float | None = None
        self.feeders: dict[str, list[subprocess.Popen[bytes]]] = {}

    def run(self, executor: Executor, launches: list[tuple[Host, HostLaunch]]) -> Outcome:
        self.hosts = [host for host, _ in launches]
        self.tails = [LogTail(host.log, offset=_size(host.log)) for host in self.hosts]
        try:
            for host, launch in launches:
                self.feeders[host.name] = [_start_feeder(m, host.log) for m in host.pipes]
                host.handle = executor.start(launch)
        except OSError as error:
            self._signal_all(signal.SIGKILL)
            self._stop_feeders()
            return Outcome(
                "Failed", "Failed", f"InternalServerError: could not start: {error}", retryable=True
            )
        self.status.record_hosts({h.name: h.handle.pid for h in self.hosts if h.handle})
        try:
            return self._loop()
        finally:
            self._stop_feeders()

    def _stop_feeders(self, host: str | None = None) -> None:
        for name, feeders in self.feeders.items():
            if host is None or name == host:
                for feeder in feeders:
                    feeder.kill()
                    feeder.wait()

    def _loop(self) -> Outcome:
        tick, next_check, next_flush = 0.002, 0.0, time.time() + FLUSH_SECONDS
        while True:
            now = time.time()
            for host in self.hosts:
                if host.exit_code is None and host.handle is not None:
                    host.exit_code = host.handle.poll()
                    if host.exit_code is not None:
                        host.handle.signal(signal.SIGKILL)  # stragglers of its process group
                        self._stop_feeders(host.name)
            self._read_logs()
            if self.stop_reason is None:
                if now >= self.deadline:
                    self._begin_stop("MaxRuntimeExceeded", now)
                elif now >= next_check:
                    next_check = now + STOP_CHECK_SECONDS
                    if self.status.stop_requested():
                        self._begin_stop("Stopped", now)
                failed = [h for h in self.hosts if h.exit_code not in (None, 0)]
                if failed and any(h.exit_code is None for h in self.hosts):
                    self._begin_stop("HostFailed", now)  # one host failed: end the others
            elif self.kill_at is not None and now >= self.kill_at:
                self._signal_all(signal.SIGKILL)
                self.kill_at = None
            if now >= next_flush:
                self._flush()
                next_flush = now + FLUSH_SECONDS
            if all(h.exit_code is not None for h in self.hosts):
                break
            time.sleep(tick)
            tick = min(tick * 1.2, 0.1)  # short jobs end fast, long ones cost little
        self._read_logs(final=True)
        self._flush()
        return self._outcome()

    def _begin_stop(self, reason: str, now: float) -> None:
        self.stop_reason = reason
        if reason == "Stopped":
            self.status.transition("Stopping", "Stopping the job")
        elif reason == "MaxRuntimeExceeded":
            self.status.transition(reason, "Training job exceeded MaxRuntimeInSeconds")
        self._signal_all(signal.SIGTERM)
        self.kill_at = now + self.grace

    def _signal_all(self, signum: int) -> None:
        for host in self.hosts:
            if host.handle is not None and host.exit_code is None:
                host.handle.signal(signum)

    def _read_logs(self, final: bool = False) -> None:
        for tail in self.tails:
            lines = tail.read_lines(final=final)
            if lines:
                self.points += self.extractor.feed(lines)

    def _flush(self) -> None:
        if self.points:
            self.store.append_metrics(self.job_name, self.points)
            self.points = []

    def _outcome(self) -> Outcome:
        if self.stop_reason == "MaxRuntimeExceeded":
            return Outcome("Stopped", "MaxRuntimeExceeded")
        if self.stop_reason == "Stopped":
            return Outcome("Stopped", "Stopped")
        failed = [h for h in self.hosts if h.exit_code not in (None, 0)]
        if not failed:
            return Outcome("Completed", "Completed")
        first = min(failed, key=lambda h: h.rank)
        code = first.exit_code or 1
        if code < 0 and not first.root.failure_file.exists():
            name = signal.Signals(-code).name
            return Outcome(
                "Failed",
                "Failed",
                f"InternalServerError: host {first.name} was killed by signal {-code} ({name}) "
                "that sageyard did not send (the out-of-memory killer, for example).",
                retryable=True,
            )
        return Outcome("Failed", "Failed", failure_reason(first.root, first.log, code))
