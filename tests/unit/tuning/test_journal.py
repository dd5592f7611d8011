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


def _entries(store: JobStore) -> list[dict[str, object]]:
    return [payload[KEY] for _, payload in store.events("tuning") if KEY in payload]


def test_a_second_storage_replays_the_same_study(store: JobStore) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage, journal = journal_storage(store, "tuning")
    study = optuna.create_study(storage=storage, study_name="0:")
    space = {"x": optuna.distributions.FloatDistribution(-5, 5)}
    for value in (3.0, 1.0):
        trial = study.ask(space)
        trial.report(value * 2, 0)
        study.tell(trial, value)
    running = study.ask(space)
    running.set_user_attr("training_job", "tuning-003")
    journal.flush()

    again = optuna.load_study(storage=journal_storage(store, "tuning")[0], study_name="0:")
    trials = again.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "RUNNING"]
    assert [t.params for t in trials] == [t.params for t in study.get_trials()]
    assert (again.best_value, trials[0].intermediate_values) == (1.0, {0: 6.0})
    assert trials[2].user_attrs == {"training_job": "tuning-003"}


def test_entries_reach_the_store_only_when_flushed(store: JobStore) -> None:
    storage, journal = journal_storage(store, "tuning")
    study = optuna.create_study(storage=storage, study_name="0:")
    trial = study.ask({"x": optuna.distributions.FloatDistribution(-5, 5)})
    assert _entries(store) == []  # the study and the ask wait in memory, read from there
    assert study.trials[0].params == trial.params
    journal.flush()
    written = _entries(store)
    assert len(written) >= 3  # the study, the trial, its parameter
    journal.flush()  # nothing new: nothing written
    assert _entries(store) == written
    study.tell(trial, 1.0)
    # a supervisor that died now: the next one sees the trial asked, not told
    again = optuna.load_study(storage=journal_storage(store, "tuning")[0], study_name="0:")
    assert [t.state.name for t in again.get_trials()] == ["RUNNING"]
    journal.flush()
    again = optuna.load_study(storage=journal_storage(store, "tuning")[0], study_name="0:")
    assert [t.value for t in again.get_trials()] == [1.0]


def test_other_events_of_the_job_do_not_disturb_the_journal(store: JobStore) -> None:
    storage, journal = journal_storage(store, "tuning")
    study = optuna.create_study(storage=storage, study_name="0:")
    store.append_events("tuning", [{"Status": "something else"}])
    study.tell(study.ask({"x": optuna.distributions.IntDistribution(0, 3)}), 2.0)
    journal.flush()
    assert _entries(store)  # every change is an entry, and only those carry the key
    again = optuna.load_study(storage=journal_storage(store, "tuning")[0], study_name="0:")
    assert [t.value for t in again.get_trials()] == [2.0]
