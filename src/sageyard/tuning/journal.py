"""A tuning job's Optuna studies, kept in the job store: Optuna's journal as events.

Optuna's :class:`~optuna.storages.JournalStorage` records every change to its studies (a
study made, a trial asked, a parameter sampled, a value reported, a trial told) as one
JSON entry, and rebuilds the studies by replaying the entries. :class:`StoreJournal`
keeps them as the tuning job's events (``{"optuna": entry}``) in the job store, next to its
training jobs, so the studies outlive the supervisor process that ran them: a new
supervisor replays the journal and goes on with the same studies (``sageyard tuning
resume``). Only the tuning job's supervisor appends (one at a time: it claims the job).

This module imports Optuna: import it where Optuna may be imported (not at the top of a
module that ``sageyard.train`` imports).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from optuna.storages import JournalStorage
from optuna.storages.journal import BaseJournalBackend

from sageyard.store import JobStore

#: The key of an event that holds one Optuna journal entry.
KEY = "optuna"


class StoreJournal(BaseJournalBackend):
    """Optuna journal entries as the events of one job in a job store."""

    def __init__(self, store: JobStore, name: str) -> None:
        self._store, self._name = store, name
        self._events_seen = 0  # the job's events read so far (of any kind)
        self._entries: list[dict[str, Any]] = []  # every journal entry read so far

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        new = self._store.events(self._name, start=self._events_seen)
        self._events_seen += len(new)
        self._entries += [payload[KEY] for _, payload in new if KEY in payload]
        return self._entries[log_number_from:]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self._store.append_events(self._name, [{KEY: entry} for entry in logs])


def journal_storage(store: JobStore, tuning_job: str) -> JournalStorage:
    """Optuna storage over the journal of ``tuning_job``."""
    return JournalStorage(StoreJournal(store, tuning_job))
