"""The JobStore contract (``sageyard.testing.JobStoreSuite``) on SQLite and PostgreSQL;
then what only the SQL store has: opening by URL, drivers, WAL, ``after_fork``.

PostgreSQL runs when ``SAGEYARD_TEST_POSTGRES_URL`` is set (see ``conftest.py``); every
PostgreSQL test gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sageyard.core.exceptions import ConfigurationError, MissingDependencyError
from sageyard.store import JobRecord, JobStore, SqlJobStore, open_store
from sageyard.testing import JobStoreSuite


class SqlJobStoreChecks:
    """What :class:`SqlJobStore` adds to the interface, on each SQL backend."""

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
    def test_after_fork_gives_the_child_its_own_connections(self, job_store: JobStore) -> None:
        assert isinstance(job_store, SqlJobStore)
        job_store.create(JobRecord.registered("job", "TrainingJob", None, {}, "InProgress"))
        assert job_store.get("job") is not None  # the parent now holds pooled connections
        pid = os.fork()
        if pid == 0:  # child
            code = 1
            try:
                job_store.after_fork()
                job_store.append_events("job", [{"from": "child"}])
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert job_store.events("job")[0][1] == {"from": "child"}
        job_store.update("job", document_patch={"parent": "still works"})


class TestSqliteJobStore(JobStoreSuite, SqlJobStoreChecks):
    @pytest.fixture
    def job_store_factory(self, tmp_path: Path) -> Callable[[], JobStore]:
        return functools.partial(open_store, f"sqlite:///{tmp_path / 'state' / 'store.db'}")


@pytest.mark.postgres
class TestPostgresJobStore(JobStoreSuite, SqlJobStoreChecks):
    @pytest.fixture
    def job_store_factory(self, postgres_url: str) -> Callable[[], JobStore]:
        return functools.partial(open_store, postgres_url)


# -- opening by URL ----------------------------------------------------------------------


def test_open_store_creates_sqlite_parent_folder(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "store.db"
    opened = open_store(f"sqlite:///{path}")
    try:
        with opened.engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
            busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
        assert path.exists()
        assert mode == "wal"
        assert busy == 30_000
    finally:
        opened.close()


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://host/db"])
def test_bad_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="URL"):
        open_store(url)


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'sageyard\[postgres\]'"):
        open_store("postgresql://user@127.0.0.1:1/db")


@pytest.mark.postgres
def test_postgres_urls_use_psycopg(postgres_url: str) -> None:
    for url in (postgres_url, postgres_url.replace("postgresql://", "postgres://", 1)):
        opened = open_store(url)
        try:
            assert opened.engine.url.drivername == "postgresql+psycopg"
            assert opened.list() == []
        finally:
            opened.close()


def test_a_database_error_reaches_the_caller_as_a_store_error(tmp_path: Path) -> None:
    """A store that cannot be read (here: its file replaced by a folder) says so plainly,
    naming the store, never as a raw SQLAlchemy error."""
    from sageyard.core.exceptions import StoreError

    path = tmp_path / "store.db"
    store = open_store(f"sqlite:///{path}")
    store.create(JobRecord.registered("job", "TrainingJob", None, {}, "InProgress"))
    store.close()
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    path.mkdir()  # sqlite cannot open a folder
    with pytest.raises(StoreError, match=r"The job store sqlite:///.*store\.db could not read"):
        store.get("job")
