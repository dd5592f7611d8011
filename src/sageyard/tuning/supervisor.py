"""The supervisor of one tuning job: Optuna's ask/tell loop over real training jobs.

Each trial is asked of Optuna, run as an ordinary training job (static hyperparameters +
sampled ones + ``_tuning_objective_metric``), fed back to Optuna as its objective values
arrive (for early stopping and Hyperband), and told its final value when it ends. The loop
keeps ``max_parallel_jobs`` trials running, stops at ``max_jobs``, at
``max_runtime_in_seconds``, on a stop request, or when a completion criterion is met.

The studies live in the job store (Optuna's journal as the tuning job's events,
``journal.py``): a supervisor that starts on a tuning job whose journal has entries goes on
with the same studies, re-attaches the trials that were running, and launches the rest.
That is how ``sageyard tuning resume`` continues an interrupted tuning job, and how this
supervisor recovers from an error of its own (up to ``AUTOMATIC_RESUMES`` times) without
the tuning job failing.

Run one by hand with ``python -m sageyard.tuning.supervisor TUNING_JOB_NAME``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sageyard.core.exceptions import ValidationException
from sageyard.core.settings import Settings
from sageyard.jobs.doorbell import Doorbell, doorbell_path, wait_any
from sageyard.jobs.launch import ForkServer
from sageyard.jobs.lifecycle import settle, supervise
from sageyard.jobs.states import TERMINAL
from sageyard.runtime.environment import serialize_hyperparameter
from sageyard.store import JobRecord
from sageyard.tuning import criteria, search
from sageyard.tuning.service import TuningJobService, objective_value
from sageyard.tuning.spec import TrainingDefinition, TuningJobSpec

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

#: How often a supervisor goes on from the journal after an error of its own.
AUTOMATIC_RESUMES = 2
#: The user attribute of a trial that names its training job.
TRAINING_JOB = "training_job"


@dataclass
class _Search:
    """The Optuna study of one training definition."""

    definition: TrainingDefinition
    study: optuna.Study
    distributions: dict[str, Any]
    asked: int = 0


@dataclass
class _Running:
    search: _Search
    trial: optuna.trial.Trial
    reported: int = 0
    pruned: bool = False  # stopped by early stopping / Hyperband: told PRUNED
    budget_spent: bool = False  # Hyperband: reached max_resource, a complete trial


@dataclass
class _Outcome:
    status: str
    failure_reason: str | None = None
    completion: dict[str, Any] = field(default_factory=dict)


class TuningSupervisor:
    """Runs one tuning job to its end. Construct cheaply; :meth:`run` does the work."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.settings = settings
        self.name = name

    def run(self) -> None:
        # Trials' supervisors are forked from a server started before Optuna (and numpy's
        # threads, and the heartbeat's) are started here.
        forks = ForkServer(self.settings).start()
        self.service = TuningJobService(self.settings, launcher=forks.launch)
        store = self.service.store

        def work(record: JobRecord) -> _Outcome:
            spec = self.service.spec(record)
            for attempt in range(1 + AUTOMATIC_RESUMES):
                try:
                    return _Loop(self.service, spec, record.created_at).run()
                except Exception:
                    if attempt == AUTOMATIC_RESUMES:
                        self._stop_running_trials()  # a failed tuning job runs no trials
                        raise
                    logger.exception("tuning supervisor of %s failed; resuming", self.name)
            raise AssertionError("unreachable")

        def finish(outcome: _Outcome) -> None:
            settle(
                store,
                self.settings,
                self.name,
                outcome.status,
                failure_reason=outcome.failure_reason,
                completion=outcome.completion,
            )

        try:
            heartbeat = self.settings.heartbeat_seconds
            supervise(store, self.name, heartbeat, work, lambda r: _Outcome("Failed", r), finish)
        finally:
            forks.close()

    def _stop_running_trials(self) -> None:
        for trial in self.service.trials(self.name):
            if trial.status == "InProgress":
                with contextlib.suppress(ValidationException):
                    self.service.jobs.stop(trial.name)


class _Loop:
    def __init__(self, service: TuningJobService, spec: TuningJobSpec, created: float) -> None:
        self.service = service
        self.jobs = service.jobs
        self.spec = spec
        self.name = spec.tuning_job_name
        self.maximize = spec.objective_type == "Maximize"
        self.deadline = (
            created + spec.max_runtime_in_seconds if spec.max_runtime_in_seconds else None
        )
        from sageyard.tuning import journal  # Optuna: only once the fork server runs

        self.storage, self.journal = journal.journal_storage(service.store, self.name)
        self.resuming = bool(self.storage.get_all_studies())  # a journal from before
        self.searches = [self._search(i, d) for i, d in enumerate(spec.definitions)]
        self.running: dict[str, _Running] = {}
        self.bells: dict[str, Doorbell] = {}  # the running trials' doorbells
        self.launched = 0
        self.values: list[float] = []  # final objective values, in completion order
        self.failures: list[str] = []
        self.stopping: str | None = None  # why no new trials start
        self.completion: dict[str, Any] = {}

    def _search(self, index: int, definition: TrainingDefinition) -> _Search:
        """The study of one training definition, in the journal (made, or loaded)."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        share = -(-self.spec.max_jobs // len(self.spec.definitions))
        study_name = f"{index}:{definition.name or ''}"
        studies = {study.study_name: study._study_id for study in self.storage.get_all_studies()}
        asked = 0  # trials this tuning job asked (warm start's come from its parents)
        if study_name in studies:
            trials = self.storage.get_all_trials(studies[study_name], deepcopy=False)
            asked = sum(1 for trial in trials if "parent" not in trial.user_attrs)
        seed = None
        if self.spec.random_seed is not None:
            # A sampler's random state is not in the journal: a resumed search draws from a
            # seed of its own, so it does not repeat the draws it made before.
            seed = self.spec.random_seed + index + 1000 * asked
        study = optuna.create_study(
            storage=self.storage,
            study_name=study_name,
            load_if_exists=True,
            direction="maximize" if self.spec.objective_type == "Maximize" else "minimize",
            sampler=search.make_sampler(self.spec, definition.ranges, seed, share),
            pruner=search.make_pruner(self.spec),
        )
        return _Search(definition, study, search.distributions(definition.ranges), asked)

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> _Outcome:
        if self.resuming:
            self._reattach()
        else:
            self._warm_start()
        try:
            self._run()
        finally:
            for bell in self.bells.values():
                bell.close()
        return self._outcome()

    def _run(self) -> None:
        """Poll the trials and launch new ones until the last has ended; between passes,
        wait for a trial to end (its doorbell) or the next tick."""
        next_check, tick = 0.0, 0.01
        while True:
            now = time.time()
            if now >= next_check:
                next_check = now + 0.25
                self._check_stop(now)
            busy = self._poll_trials()
            busy |= self._launch()
            self.journal.flush()  # what this pass told and asked
            if not self.running and (self.stopping or self.launched >= self.spec.max_jobs):
                return
            tick = 0.01 if busy else min(tick * 1.3, 0.1)
            wait_any(self.bells.values(), tick)

    def _check_stop(self, now: float) -> None:
        if self.stopping in ("Stopped",):
            return
        record = self.service.store.get(self.name)
        if record is None or record.status != "InProgress":  # stop asked, or settled elsewhere
            self._stop_all("Stopped")
        elif self.deadline is not None and now >= self.deadline and not self.stopping:
            self.completion["Reason"] = "MaxRuntimeInSecondsReached"
            self._stop_all("MaxRuntime")

    def _stop_all(self, reason: str) -> None:
        self.stopping = reason
        for name, running in self.running.items():
            record = self.service.store.get(name)
            if record is not None and record.status == "InProgress":
                running.pruned = running.pruned or reason != "Completion"
                self._stop_trial(name)

    # -- trials ------------------------------------------------------------------------------

    def _stop_trial(self, name: str) -> None:
        """Stop a trial; one that ended in the meantime is left as it is."""
        with contextlib.suppress(ValidationException):  # it is no longer InProgress
            self.jobs.stop(name)

    def _launch(self) -> bool:
        launched = False
        while (
            not self.stopping
            and len(self.running) < self.spec.max_parallel_jobs
            and self.launched < self.spec.max_jobs
        ):
            search_ = self._next_search()
            trial = search_.study.ask(search_.distributions)
            values = search.to_values(search_.definition.ranges, trial.params)
            self.launched += 1
            name = f"{self.name}-{self.launched:03d}-{secrets.token_hex(4)}"
            trial.set_user_attr(TRAINING_JOB, name)  # before the job: a resume finds it
            self._create_trial(name, search_.definition, values)
            self.running[name] = _Running(search_, trial)
            launched = True
        return launched

    def _next_search(self) -> _Search:
        """Round-robin over the trainers; with Grid, each gets exactly its grid's size."""
        count = len(self.searches)
        for offset in range(count):
            candidate = self.searches[(self.launched + offset) % count]
            if self.spec.strategy != "Grid" or candidate.asked < search.grid_size(
                candidate.definition.ranges
            ):
                candidate.asked += 1
                return candidate
        raise RuntimeError("every grid is covered")  # max_jobs is the grids' total size

    def _create_trial(
        self, name: str, definition: TrainingDefinition, values: dict[str, Any]
    ) -> None:
        tuned = {key: serialize_hyperparameter(value) for key, value in values.items()}
        template = definition.template
        hyperparameters = {
            **template.hyperparameters,
            **tuned,
            "_tuning_objective_metric": definition.objective_metric_name,
        }
        spec = template.model_copy(
            update={
                "training_job_name": name,
                "hyperparameters": hyperparameters,
                "request": {**template.request, "TrainingJobName": name},
            }
        )
        self.journal.flush()  # the trial, named, before its job: a resume finds it
        self._listen(name)
        self.jobs.create(
            spec,
            parent=self.name,
            extra={
                "tuning": {"trial": self.launched, "definition": definition.name, "tuned": tuned}
            },
        )

    def _listen(self, name: str) -> None:
        """Wait on the doorbell of trial ``name`` between passes (``jobs/doorbell.py``)."""
        self.bells[name] = Doorbell(doorbell_path(self.service.settings, name)).open()

    def _poll_trials(self) -> bool:
        changed = False
        for name in list(self.running):
            running = self.running[name]
            record = self.jobs.reconcile(self.service.store.get(name))  # type: ignore[arg-type]
            changed |= self._report(name, running, record)
            if record.status in TERMINAL:
                self._finish(name, running, record)
                changed = True
        return changed

    def _report(self, name: str, running: _Running, record: JobRecord) -> bool:
        """Feed new objective values to Optuna; stop the trial when it should be pruned."""
        metric = running.search.definition.objective_metric_name
        points = self.service.store.metrics(name, metric)[running.reported :]
        if not points:
            return False
        for point in points:
            running.trial.report(point.value, running.reported)
            running.reported += 1
        if record.status != "InProgress" or running.pruned or running.budget_spent:
            return True
        max_resource = self.spec.hyperband.max_resource if self.spec.hyperband else None
        if self.spec.strategy == "Hyperband" and max_resource and running.reported >= max_resource:
            # The whole budget is spent: the trial is complete (a script whose epochs equal
            # max_resource has usually ended by itself already; one that goes on stops).
            running.budget_spent = True
            self._stop_trial(name)
        elif running.trial.should_prune():
            running.pruned = True
            self._stop_trial(name)
        return True

    def _finish(self, name: str, running: _Running, record: JobRecord) -> None:
        from optuna.trial import TrialState

        del self.running[name]
        if (bell := self.bells.pop(name, None)) is not None:
            bell.close()
        study = running.search.study
        value = objective_value(running.search.definition, record)
        if (record.status == "Completed" and value is not None) or (
            running.budget_spent and value is not None
        ):
            study.tell(running.trial, value)
        elif record.status == "Stopped" and value is not None:
            study.tell(running.trial, state=TrialState.PRUNED)
        else:
            study.tell(running.trial, state=TrialState.FAIL)
            self.failures.append(
                record.document.get("failure_reason")
                or f"{name} ended {record.status} without an objective value"
            )
        if value is not None and record.status in ("Completed", "Stopped"):
            self.values.append(value)
            self._check_completion()

    def _check_completion(self) -> None:
        if self.stopping:
            return
        reason = criteria.completion_reason(
            self.values, self.maximize, self.spec.completion, self.spec.max_jobs
        )
        self.completion["NumberOfTrainingJobsObjectiveNotImproving"] = (
            criteria.trials_not_improving(self.values, self.maximize)
        )
        if reason is not None:
            self.completion["Reason"] = reason
            if reason == "ConvergenceDetected":
                self.completion["ConvergenceDetectedTime"] = time.time()
            self._stop_all("Completion")

    def _reattach(self) -> None:
        """Go on from the journal: follow the trials that were running, count the rest.

        A trial asked whose training job was never made gets it now (named now if it had
        no name yet); one whose sampling the supervisor did not finish is told FAIL. A
        completion criterion already met ends the search at once.
        """
        from optuna.trial import Trial, TrialState

        jobs = {record.name: record for record in self.service.trials(self.name)}
        self.launched = len(jobs)
        for search_ in self.searches:
            for frozen in search_.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                trial = Trial(search_.study, frozen._trial_id)  # the asked trial, again
                name = frozen.user_attrs.get(TRAINING_JOB)
                if name in jobs:
                    reported = len(frozen.intermediate_values)
                    self.running[name] = _Running(search_, trial, reported=reported)
                    self._listen(name)
                elif set(frozen.params) == set(search_.distributions):
                    # asked (and maybe named), its job never made: make it now
                    self.launched += 1
                    if name is None:
                        name = f"{self.name}-{self.launched:03d}-{secrets.token_hex(4)}"
                        trial.set_user_attr(TRAINING_JOB, name)
                    values = search.to_values(search_.definition.ranges, frozen.params)
                    self._create_trial(name, search_.definition, values)
                    self.running[name] = _Running(search_, trial)
                else:  # the supervisor died while Optuna sampled it: no whole point to run
                    search_.study.tell(trial, state=TrialState.FAIL)
        ended = [r for r in jobs.values() if r.name not in self.running and r.status in TERMINAL]
        for record in sorted(ended, key=lambda r: r.document.get("end_time") or r.updated_at):
            definition = self.spec.definition(record.document.get("tuning", {}).get("definition"))
            value = objective_value(definition, record)
            if value is not None and record.status in ("Completed", "Stopped"):
                self.values.append(value)
            elif record.status != "Stopped":
                self.failures.append(record.document.get("failure_reason") or record.status)
        if self.values:
            self._check_completion()  # a criterion met before the interruption still ends it

    def _warm_start(self) -> None:
        """Seed each study with the finished trials of the parent tuning jobs."""
        import optuna

        warm = self.spec.warm_start
        if warm is None:
            return
        for parent in warm.parent_hyper_parameter_tuning_jobs:
            name = parent.hyper_parameter_tuning_job_name
            parent_spec = self.service.spec(self.service.get(name))
            for trial in self.service.trials(name):
                info = trial.document.get("tuning", {})
                try:
                    parent_definition = parent_spec.definition(info.get("definition"))
                except KeyError:
                    continue
                value = objective_value(parent_definition, trial)
                if value is None or trial.status not in ("Completed", "Stopped"):
                    continue
                for search_ in self._matching(info.get("definition")):
                    params = search.from_hyperparameters(
                        search_.definition.ranges, trial.document["spec"]["hyperparameters"]
                    )
                    if params is None:
                        continue
                    search_.study.add_trial(
                        optuna.trial.create_trial(
                            params=params,
                            distributions=search_.distributions,
                            value=value,
                            user_attrs={"parent": name, "training_job": trial.name},
                        )
                    )

    def _matching(self, definition: str | None) -> list[_Search]:
        same = [s for s in self.searches if s.definition.name == definition]
        return same or (self.searches if len(self.searches) == 1 else [])

    def _outcome(self) -> _Outcome:
        if self.stopping == "Stopped":
            return _Outcome("Stopped", completion=self.completion)
        if not self.values and self.failures:
            return _Outcome(
                "Failed",
                f"All {len(self.failures)} training jobs failed; the first: {self.failures[0]}",
                self.completion,
            )
        return _Outcome("Completed", completion=self.completion)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sageyard.tuning.supervisor TUNING_JOB_NAME", file=sys.stderr)
        return 2
    logging.basicConfig(level=os.environ.get("SAGEYARD_LOG_LEVEL", "WARNING").upper())
    TuningSupervisor(Settings.from_env(), args[0]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
