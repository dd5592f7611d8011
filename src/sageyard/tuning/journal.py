"""A tuning job's Optuna studies, kept in the job store: Optuna's journal as events.

Optuna's :class:`~optuna.storages.JournalStorage` records every change to its studies (a
study made, a trial asked, a parameter sampled, a value reported, a trial told) as one
JSON entry, and rebuilds the studies by replaying the entries. :class:`StoreJournal`
keeps them as the tuning job's events (``{"optuna": entry}``) in the job store, next to its
training jobs, so the studies outlive the supervisor process that ran them: a new
supervisor replays the journal and goes on with the same studies (``sageyard tuning
resume``).

Only the tuning job's supervisor appends (one at a time: it claims the job), so once it
has read the journal, the journal is its own: reads come from memory, and new entries wait
in memory until :meth:`StoreJournal.flush` writes them in one transaction (an ask is four
entries). The supervisor flushes before it creates a trial's training job, so a resumed
search knows every trial that has a job; entries lost with a supervisor that died before
its flush are of trials without a job (never run), or a trial's result, which the next
supervisor reads again from the trial's job.

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
        self._entries: list[dict[str, Any]] | None = None  # every entry: read once, then ours
        self._unwritten: list[dict[str, Any]] = []  # appended since the last flush

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        return self._read()[log_number_from:]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self._read().extend(logs)
        self._unwritten.extend(logs)

    def flush(self) -> None:
        """Write the entries appended since the last flush (one transaction)."""
        if self._unwritten:
            self._store.append_events(self._name, [{KEY: entry} for entry in self._unwritten])
            self._unwritten = []

    def _read(self) -> list[dict[str, Any]]:
        if self._entries is None:
            events = self._store.events(self._name)
            self._entries = [payload[KEY] for _, payload in events if KEY in payload]
        return self._entries


def journal_storage(store: JobStore, tuning_job: str) -> tuple[JournalStorage, StoreJournal]:
    """Optuna storage over the journal of ``tuning_job``, and the journal (to flush)."""
    journal = StoreJournal(store, tuning_job)
    return JournalStorage(journal), journal
