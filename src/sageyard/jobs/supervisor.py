"""The supervisor of one training job: Starting → Downloading → Training → Uploading → end.

One supervisor process watches each job, detached from the caller (see ``launch.py``). It
writes every status change, metric and heartbeat to the job store, so any process can
follow the job, and a reader can tell when the supervisor itself has died.

The hosts themselves are the executor's: the supervisor cuts the job into one plan per
host (``plans.py``), asks the executor to ``reserve`` capacity for them and to ``start``
each, watches the handles it gets back (``watch.py``), and merges what the hosts left.

Run one by hand with ``python -m sageyard.jobs.supervisor JOB_NAME``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from sageyard.core.exceptions import CapacityError
from sageyard.core.settings import Settings
from sageyard.executors import (
    Executor,
    HostHandle,
    HostPlan,
    HostSetupError,
    WarmExecutor,
    executor_for,
)
from sageyard.jobs.artifacts import collect_scratch, model_artifacts_uri, upload_outputs
from sageyard.jobs.lifecycle import supervise
from sageyard.jobs.liveness import owner_token
from sageyard.jobs.plans import host_plans
from sageyard.jobs.spec import TrainingJobSpec
from sageyard.jobs.spot import SpotMarket
from sageyard.jobs.states import StatusWriter
from sageyard.jobs.warm_pools import WarmPool, evict_idle, jobs_waiting, pool_key
from sageyard.jobs.watch import Outcome, Stopping, Watch
from sageyard.runtime.layout import JobPaths
from sageyard.storage import ObjectStore, object_store_for
from sageyard.store import JobRecord, JobStore, open_store

logger = logging.getLogger(__name__)


class Supervisor:
    """Runs one job to its end. Construct cheaply; :meth:`run` does the work.

    ``executor`` replaces the one the job's spec names (tests pass a scripted one).
    ``once_training`` runs once the job's hosts train: the bookkeeping of a warm pool's
    keeper that no job should wait for.
    """

    def __init__(
        self,
        settings: Settings,
        job_name: str,
        executor: Executor | None = None,
        once_training: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.name = job_name
        self.paths = JobPaths(settings.jobs_dir / job_name)
        self._executor = executor
        self._once_training = once_training

    def run(self) -> None:
        """Run the job to its end; then, if it asked for a warm pool, keep its capacity and
        hosts warm and run each matching job that claims them (``warm_pools.py``)."""
        collect_scratch(self.settings.home / "tmp")  # what killed supervisors left
        store = open_store(self.settings.store_url)
        kept = self._supervise(store)
        if kept is not None:
            self._keep_warm(store, *kept)

    def _supervise(
        self, store: JobStore, pool: WarmPool | None = None
    ) -> tuple[WarmExecutor, WarmPool] | None:
        """Supervise this job (``pool``: the warm pool it runs on); the executor and the pool
        when a pool is kept after it. The pool is offered before the job's end is written, so
        that a job created once this one has ended finds it Available."""
        status = StatusWriter(store, self.name, self.paths)
        spec: TrainingJobSpec | None = None
        parked: WarmExecutor | None = None  # the hosts' executor, kept for a warm pool
        kept: tuple[WarmExecutor, WarmPool] | None = None

        def work(record: JobRecord) -> Outcome:
            nonlocal spec, parked
            spec = TrainingJobSpec.model_validate(record.document["spec"])
            for warning in spec.warnings:  # found when the job was created
                status.note(warning)
            executor = self._executor or executor_for(spec.executor, self.settings, self.name)
            outcome: Outcome | None = None
            try:
                outcome = self._run(store, status, spec, executor)
                return outcome
            finally:
                if _keeps_warm(spec, executor, outcome):
                    assert isinstance(executor, WarmExecutor)
                    executor.park()
                    parked = executor
                else:  # the hosts have ended: their capacity is free before the end
                    executor.close()

        def finish(outcome: Outcome) -> None:
            nonlocal kept
            if outcome.status == "Completed" and spec and spec.model_package_registration:
                self._register_model(store, spec)
            patch = None
            if spec is not None and spec.keep_alive_seconds:
                kept = self._offer(store, spec, parked, pool)
                warm_pool = (
                    {"Status": "Available", "since": kept[1].since}
                    if kept is not None
                    else {"Status": "Terminated", "ResourceRetainedBillableTimeInSeconds": 0}
                )
                patch = {"warm_pool": warm_pool}
            status.finish(outcome.status, outcome.secondary, outcome.failure_reason, patch)

        def failed(reason: str) -> Outcome:
            return Outcome("Failed", "Failed", reason)

        supervise(store, self.name, self.settings.heartbeat_seconds, work, failed, finish)
        if self._once_training is not None:  # it never trained
            self._once_training()
            self._once_training = None
        if kept is None and pool is not None:  # the job had ended already: no pool after it
            pool.terminate()
        return kept

    def _offer(
        self,
        store: JobStore,
        spec: TrainingJobSpec,
        executor: WarmExecutor | None,
        pool: WarmPool | None,
    ) -> tuple[WarmExecutor, WarmPool] | None:
        """The warm pool after this job, offered for its keep-alive period; ``None`` when
        none is kept (its hosts failed, or jobs wait for the capacity: it is freed)."""
        pool = pool or WarmPool(store, self.settings, pool_key(spec, self.settings), self.name)
        if executor is None or jobs_waiting(store):
            pool.terminate()
            if executor is not None:
                executor.close()
            return None
        pool.offer(self.name, spec.keep_alive_seconds)
        return executor, pool

    def _keep_warm(self, store: JobStore, executor: WarmExecutor, pool: WarmPool) -> None:
        """Be the keeper of the warm pool offered after this job: run each job that claims
        it on the executor held, until the period ends or a job keeps no pool after it;
        then give the capacity back."""
        try:
            executor.warm_up()
            while (job := pool.wait()) is not None:
                # the job before says its pool was reused, once this one trains
                reused = functools.partial(pool.reused, pool.job, job, time.time())
                pool.job = job
                executor.reuse(job)
                supervisor = Supervisor(self.settings, job, executor, once_training=reused)
                kept = supervisor._supervise(store, pool)
                if kept is None:  # its hosts failed, or jobs wait for the capacity
                    return
                executor.warm_up()
        finally:
            pool.close()
            executor.close()

    def _register_model(self, store: JobStore, spec: TrainingJobSpec) -> None:
        """Register the model as a new model package version (fine-tuning jobs ask for it).

        A failed registration leaves the job Completed, with a warning saying why.
        """
        from sageyard.models.registry import register_job_output

        assert spec.model_package_registration is not None
        try:
            package = register_job_output(
                self.settings, self.name, spec.model_package_registration, model_artifacts_uri(spec)
            )
        except Exception as error:
            logger.exception("registering the model of %s failed", self.name)
            record = store.get(self.name)
            assert record is not None
            notes = [*record.document.get("notes", []), f"Model not registered: {error}"]
            store.update(self.name, document_patch={"notes": notes})
            return
        store.update(
            self.name, document_patch={"output_model_package_arn": package.model_package_arn}
        )

    def _run(
        self, store: JobStore, status: StatusWriter, spec: TrainingJobSpec, executor: Executor
    ) -> Outcome:
        """Wait for capacity, then run attempts until one succeeds or may not be retried."""
        plans = host_plans(spec)
        pending = spec.stopping_condition.max_pending_time_in_seconds
        progress = _Progress(status)
        try:
            if not executor.reserve(plans, pending, progress):
                return Outcome("Stopped", "Stopped")
        except CapacityError as error:
            # SageMaker: MaxPendingTimeInSeconds is "the maximum length of time ... that a
            # training job can be pending before it is stopped" (API_StoppingCondition).
            status.transition("Stopping", f"Stopping the job: {error}")
            return Outcome("Stopped", "Stopped")
        objects = object_store_for(self.settings)
        market = SpotMarket.from_settings(self.settings, self.name) if spec.enable_spot else None
        wait = spec.stopping_condition.max_wait_time_in_seconds
        clock = _Clock(market, time.time() + wait if market and wait else None)
        attempts = 1 + spec.maximum_retry_attempts
        failures = 0
        while True:
            if market is not None:
                ended = self._wait_for_capacity(status, market, clock)
                if ended is not None:
                    return ended
            # a requirements install ends with MaxRuntimeInSeconds too
            clock.setup_deadline = progress.deadline = clock.runtime_deadline(spec)
            outcome = self._attempt(store, objects, status, spec, executor, plans, clock)
            if outcome.secondary == "Interrupted":  # not a retry: the job goes on where it was
                clock.interruptions += 1
                continue
            failures += 1
            if not outcome.retryable or failures == attempts:
                return outcome
            # SageMaker shows each retry as a Restarting transition
            status.transition(
                "Restarting",
                f"Attempt {failures + 1} of {attempts} (RetryStrategy), after an "
                f"infrastructure failure: {outcome.failure_reason}",
            )

    def _wait_for_capacity(
        self, status: StatusWriter, market: SpotMarket, clock: _Clock
    ) -> Outcome | None:
        """A managed spot job waits for capacity before each start (the simulated market's
        wait); the outcome if it ends meanwhile (stopped, or out of MaxWaitTimeInSeconds)."""
        until = time.time() + market.capacity_wait_seconds
        if market.capacity_wait_seconds > 0:
            status.transition(
                "Starting",
                f"Waiting for spot capacity ({market.capacity_wait_seconds:g} s in the simulated "
                "spot market, SAGEYARD_SPOT_CAPACITY_WAIT_SECONDS)",
            )
        while True:
            now = time.time()
            if clock.wait_deadline is not None and now >= clock.wait_deadline:
                status.transition(
                    "MaxWaitTimeExceeded", "Training job exceeded MaxWaitTimeInSeconds"
                )
                return Outcome("Stopped", "MaxWaitTimeExceeded")
            if now >= until:
                return None
            if status.stop_requested():
                return Outcome("Stopped", "Stopped")
            time.sleep(min(0.1, until - now))

    def _attempt(
        self,
        store: JobStore,
        objects: ObjectStore,
        status: StatusWriter,
        spec: TrainingJobSpec,
        executor: Executor,
        plans: list[HostPlan],
        clock: _Clock,
    ) -> Outcome:
        """One attempt: start every host, watch them to their end, upload what they left."""
        status.transition("Downloading", "Downloading input data")
        handles: list[HostHandle] = []
        try:
            for plan in plans:
                handles.append(executor.start(plan))
        except HostSetupError as error:
            _end(handles)
            if status.stop_requested():  # e.g. a stop during the requirements install
                return Outcome("Stopped", "Stopped")
            if clock.setup_deadline is not None and time.time() >= clock.setup_deadline:
                status.transition("MaxRuntimeExceeded", "Training job exceeded MaxRuntimeInSeconds")
                return Outcome("Stopped", "MaxRuntimeExceeded")
            return Outcome("Failed", "Failed", error.reason, error.retryable)
        except BaseException:  # the platform failed: end what started, then fail the job
            _end(handles)
            raise
        began = time.time()
        # the hosts' process groups, so a reader can end them if this supervisor dies
        patch: dict[str, Any] = {
            "host_pids": {h.host: owner_token(h.pid) for h in handles if h.pid is not None}
        }
        if (placement := _placement(executor, handles)) is not None:
            patch["placement"] = placement
        # the hosts' logs are on other machines: the watch stores their lines (follow.py)
        store_logs = bool(getattr(executor, "shares_no_disk", False))
        if clock.started is None:
            clock.started = patch["training_start_time"] = began
        message = "Training image download completed. Training in progress."
        # refused when a stop came while the hosts started (the job is Stopping, or ended)
        if not status.transition("Training", message, patch, expect_status=_RUNNING):
            _end(handles)
            return Outcome("Stopped", "Stopped")
        limits = clock.stopping(spec, began, self.settings.stop_grace_seconds)
        watch = Watch(self.name, store, status, spec.metric_definitions, limits, store_logs)
        try:
            if self._once_training is not None:
                self._once_training()
                self._once_training = None
            outcome = watch.run(handles)
        except BaseException:  # e.g. the store failed: no host may outlive the supervisor
            _end(handles)
            raise
        clock.trained += time.time() - began
        if outcome.secondary == "Interrupted":
            return self._interrupted(status, handles, clock)
        status.transition("Uploading", "Uploading generated training model")
        try:
            hosts = [handle.finish() for handle in handles]
            upload_outputs(objects, spec, hosts, self.settings.home / "tmp")
        except Exception as error:  # a failed attempt keeps its own reason first
            if outcome.status == "Completed":
                raise
            reason = f"{outcome.failure_reason}; its outputs could not be uploaded: {error}"
            outcome = dataclasses.replace(outcome, failure_reason=reason)
        clock.record(status)
        return outcome

    @staticmethod
    def _interrupted(status: StatusWriter, handles: list[HostHandle], clock: _Clock) -> Outcome:
        """After a spot interruption: upload each host's checkpoints, for the restart."""
        clock.record(status)
        try:
            for handle in handles:
                handle.finish()
        except Exception as error:
            return Outcome(
                "Failed",
                "Failed",
                f"InternalServerError: the checkpoints could not be uploaded when the spot "
                f"capacity was reclaimed, so the job cannot resume: {error}",
                retryable=True,
            )
        return Outcome("InProgress", "Interrupted")


@dataclasses.dataclass
class _Clock:
    """A job's time across its attempts: its training so far, and what a managed spot job's
    market (``spot.py``) and MaxWaitTimeInSeconds allow it."""

    market: SpotMarket | None
    wait_deadline: float | None  # MaxWaitTimeInSeconds, as a time
    started: float | None = None  # the first attempt's training start
    trained: float = 0.0  # seconds of training in the attempts so far
    interruptions: int = 0
    first_try: float | None = None  # when the first attempt began staging its hosts
    setup_deadline: float | None = None  # MaxRuntimeInSeconds for this attempt's set-up

    def runtime_deadline(self, spec: TrainingJobSpec) -> float:
        """When MaxRuntimeInSeconds runs out for the attempt about to start, its hosts'
        set-up (a requirements install) included: what a managed spot job's training so far
        left of it; else from the first attempt's start."""
        runtime = spec.stopping_condition.max_runtime_in_seconds or 86400
        now = time.time()
        if self.market is not None:
            return now + runtime - self.trained
        if self.first_try is None:
            self.first_try = now
        return (self.started or self.first_try) + runtime

    def stopping(self, spec: TrainingJobSpec, began: float, grace: float) -> Stopping:
        """The limits of an attempt whose training began at ``began`` (``grace``: SIGTERM →
        SIGKILL when it is stopped): MaxRuntimeInSeconds
        counts the training of every attempt (from the first start, for a job that is not
        managed spot), and the market's next interruption."""
        runtime = spec.stopping_condition.max_runtime_in_seconds or 86400
        if self.market is None:
            assert self.started is not None
            return Stopping(deadline=self.started + runtime, grace=grace)
        interrupt_at = None
        at = self.market.next_interruption(self.trained, self.interruptions)
        if at is not None:
            interrupt_at = began + at - self.trained
        return Stopping(
            deadline=began + runtime - self.trained,
            grace=grace,
            wait_deadline=self.wait_deadline,
            interrupt_at=interrupt_at,
            notice=self.market.notice_seconds,
        )

    def record(self, status: StatusWriter) -> None:
        """The end of an attempt's training, and (managed spot) the job's training and
        billable seconds so far."""
        if self.market is None:
            status.training_ended(time.time())
            return
        seconds = max(1, round(self.trained))
        status.training_ended(time.time(), seconds, self.market.billable_seconds(self.trained))


_RUNNING = frozenset({"InProgress"})


def _keeps_warm(spec: TrainingJobSpec, executor: Executor, outcome: Outcome | None) -> bool:
    """Whether the job's capacity stays warm for the next one: it asked for a keep-alive
    period, its executor can keep it, and it did not end with an infrastructure failure
    (SageMaker terminates the warm pool of such a job)."""
    return (
        spec.keep_alive_seconds > 0
        and isinstance(executor, WarmExecutor)
        and outcome is not None
        and not outcome.retryable
    )


def _end(handles: list[HostHandle]) -> None:
    """Kill the hosts that started, and wait for each to end, when an attempt cannot go on."""
    for handle in handles:
        handle.signal(signal.SIGKILL)
    for handle in handles:
        while handle.poll() is None:
            time.sleep(0.01)


class _Progress:
    """What the executor may tell the user while it reserves capacity for the job."""

    def __init__(self, status: StatusWriter) -> None:
        self._status = status
        self.deadline: float | None = None  # MaxRuntimeInSeconds: an install ends with it

    def note(self, message: str) -> None:
        self._status.note(message)

    def waiting(self, message: str) -> None:
        self._status.transition("Pending", message)
        evict_idle(self._status.store)  # idle warm pools give their capacity back

    def stop_requested(self) -> bool:
        if self.deadline is not None and time.time() >= self.deadline:
            return True
        return self._status.stop_requested_throttled()


def _placement(executor: Executor, handles: list[HostHandle]) -> dict[str, Any] | None:
    """Where a cluster executor placed the hosts (its strategy, each host's node), which
    describe shows; None on this machine."""
    nodes = {h.host: node for h in handles if (node := getattr(h, "node", None))}
    if not nodes:
        return None
    return {"Strategy": getattr(executor, "strategy", None), "Hosts": nodes}


_LEVEL = re.compile(r"^(DEBUG|INFO|WARNING|ERROR)$")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sageyard.jobs.supervisor JOB_NAME", file=sys.stderr)
        return 2
    level = os.environ.get("SAGEYARD_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(level=level if _LEVEL.match(level) else "WARNING")
    Supervisor(Settings.from_env(), args[0]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
