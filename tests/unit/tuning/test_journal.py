"""Optuna's journal in the job store: a study outlives the storage object that made it."""

from __future__ import annotations

import optuna
import pytest

from sageyard.core.settings import Settings
from sageyard.store import JobRecord, JobStore, open_store
from sageyard.tuning.journal import KEY, journal_storage


@pytest.fixture
def store(settings: Settings) -> JobStore:
    store = open_store(settings.store_url)
    store.create(JobRecord.registered("tuning", "HyperParameterTuningJob", None, {}, "InProgress"))
    return store


def test_a_second_storage_replays_the_same_study(store: JobStore) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=journal_storage(store, "tuning"), study_name="0:")
    space = {"x": optuna.distributions.FloatDistribution(-5, 5)}
    for value in (3.0, 1.0):
        trial = study.ask(space)
        trial.report(value * 2, 0)
        study.tell(trial, value)
    running = study.ask(space)
    running.set_user_attr("training_job", "tuning-003")

    again = optuna.load_study(storage=journal_storage(store, "tuning"), study_name="0:")
    trials = again.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "RUNNING"]
    assert [t.params for t in trials] == [t.params for t in study.get_trials()]
    assert (again.best_value, trials[0].intermediate_values) == (1.0, {0: 6.0})
    assert trials[2].user_attrs == {"training_job": "tuning-003"}


def test_other_events_of_the_job_do_not_disturb_the_journal(store: JobStore) -> None:
    storage = journal_storage(store, "tuning")
    study = optuna.create_study(storage=storage, study_name="0:")
    store.append_events("tuning", [{"Status": "something else"}])
    study.tell(study.ask({"x": optuna.distributions.IntDistribution(0, 3)}), 2.0)
    entries = [payload[KEY] for _, payload in store.events("tuning") if KEY in payload]
    assert entries  # every change is an entry, and only those carry the key
    again = optuna.load_study(storage=journal_storage(store, "tuning"), study_name="0:")
    assert [t.value for t in again.get_trials()] == [2.0]
