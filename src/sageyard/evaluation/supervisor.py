"""The supervisor of one evaluation: its steps' training jobs, each when its turn comes.

A step starts once every step it depends on has succeeded; a step whose dependency
failed or stopped never starts. The evaluation ends when no step runs and none can
start: ``Succeeded`` when every step succeeded, ``Failed`` (SageMaker Pipelines' "Step
failure: One or multiple steps failed.") when one failed, ``Stopped`` when it was asked
to stop (its running steps' jobs are stopped first). A supervisor that restarts on an
evaluation goes on from the step jobs it finds.

Run one by hand with ``python -m sageyard.evaluation.supervisor EXECUTION_ID``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from dataclasses import dataclass

from sageyard.core.exceptions import ValidationException
from sageyard.core.settings import Settings
from sageyard.evaluation.service import STEP_FAILURE, EvaluationService
from sageyard.evaluation.spec import EvaluationSpec, StepSpec
from sageyard.jobs.launch import ForkServer
from sageyard.jobs.lifecycle import settle, supervise
from sageyard.jobs.states import TERMINAL
from sageyard.store import JobRecord

logger = logging.getLogger(__name__)

#: Seconds between passes over the steps.
POLL_SECONDS = 0.2


@dataclass
class _Outcome:
    status: str
    failure_reason: str | None = None


class EvaluationSupervisor:
    """Runs one evaluation to its end. Construct cheaply; :meth:`run` does the work."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.settings = settings
        self.name = name

    def run(self) -> None:
        forks = ForkServer(self.settings).start()  # the steps' supervisors fork from it
        self.service = EvaluationService(self.settings, launcher=forks.launch)
        store = self.service.store

        def work(record: JobRecord) -> _Outcome:
            return _Pipeline(self.service, self.service.spec(record)).run()

        def finish(outcome: _Outcome) -> None:
            settle(
                store,
                self.settings,
                self.name,
                outcome.status,
                failure_reason=outcome.failure_reason,
            )

        try:
            heartbeat = self.settings.heartbeat_seconds
            supervise(store, self.name, heartbeat, work, lambda r: _Outcome("Failed", r), finish)
        finally:
            forks.close()


class _Pipeline:
    def __init__(self, service: EvaluationService, spec: EvaluationSpec) -> None:
        self.service = service
        self.spec = spec
        self.name = spec.execution_id
        self.failed: dict[str, str] = {}  # steps whose job could not be created (the row's)
        self.published: set[str] = set()  # judge steps whose examples were copied

    def run(self) -> _Outcome:
        while True:
            record = self.service.store.get(self.name)
            if record is None or record.status != "InProgress":
                return self._stop(self.service.step_jobs(self.name))
            # a supervisor that starts again goes on from the row: its jobs and failures
            self.failed = dict(record.document.get("step_failures") or {})
            jobs = self.service.step_jobs(self.name)
            self._publish(jobs)
            started = self._start_ready(jobs)
            if not started and not any(j.status not in TERMINAL for j in jobs.values()):
                return self._outcome(jobs)
            time.sleep(POLL_SECONDS)

    def _publish(self, jobs: dict[str, JobRecord]) -> None:
        """Copy each completed judge step's per-example files where the real SDK reads them."""
        from sageyard.evaluation.results import publish_judge_examples

        for step in self.spec.steps:
            job = jobs.get(step.name)
            done = job is not None and job.status == "Completed"
            if step.publishes_examples and done and step.name not in self.published:
                assert job is not None
                objects = self.service.jobs.objects
                publish_judge_examples(objects, self.spec.s3_output_path, job.name)
                self.published.add(step.name)

    def _status(self, step: StepSpec, jobs: dict[str, JobRecord]) -> str | None:
        if step.name in self.failed:
            return "Failed"
        job = jobs.get(step.name)
        return None if job is None else job.status

    def _start_ready(self, jobs: dict[str, JobRecord]) -> bool:
        """Start every step whose dependencies all completed; whether one started."""
        started = False
        for step in self.spec.steps:
            if self._status(step, jobs) is not None:
                continue
            states = [self._status(self.spec.step(d), jobs) for d in step.depends_on]
            if all(state == "Completed" for state in states):
                self._start(step)
                started = True
        return started

    def _start(self, step: StepSpec) -> None:
        jobs = self.service.jobs
        try:
            spec = jobs.validate_training_job(step.request)
            jobs.create(
                spec,
                parent=self.name,
                extra={"evaluation": {"execution": self.name, "step": step.name}},
            )
        except Exception as error:  # the step fails, not the supervisor
            logger.warning("step %s of %s could not start: %s", step.name, self.name, error)
            self.failed[step.name] = f"ClientError: {error}"
            self.service.store.update(
                self.name, document_patch={"step_failures": dict(self.failed)}
            )

    def _stop(self, jobs: dict[str, JobRecord]) -> _Outcome:
        for job in jobs.values():
            if job.status == "InProgress":
                with contextlib.suppress(ValidationException):
                    self.service.jobs.stop(job.name)
        while any(j.status not in TERMINAL for j in self.service.step_jobs(self.name).values()):
            time.sleep(POLL_SECONDS)
        return _Outcome("Stopped")

    def _outcome(self, jobs: dict[str, JobRecord]) -> _Outcome:
        states = [self._status(step, jobs) for step in self.spec.steps]
        if all(state == "Completed" for state in states):
            return _Outcome("Completed")
        if any(state == "Failed" for state in states):
            return _Outcome("Failed", STEP_FAILURE)
        return _Outcome("Stopped")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    EvaluationSupervisor(Settings.from_env(), sys.argv[1]).run()
