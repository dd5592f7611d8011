"""One conformance suite for the job store, run against SQLite and PostgreSQL.

PostgreSQL runs when ``SAGEYARD_TEST_POSTGRES_URL`` is set (start a server with
``eval "$(bash .ci/postgres.sh | tail -1)"``); without it those tests skip, except under CI
(``CI`` set), where they fail so that CI never skips them silently. Every PostgreSQL test
gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from sageyard.core.exceptions import (
    ConfigurationError,
    MissingDependencyError,
    ResourceInUse,
    ResourceNotFound,
)
from sageyard.store import JobRecord, JobStore, MetricPoint, SqlJobStore, open_store

WORKERS = 8
UPDATES_PER_WORKER = 25


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database on the server of ``SAGEYARD_TEST_POSTGRES_URL``."""
    base = os.environ.get("SAGEYARD_TEST_POSTGRES_URL")
    if not base:
        message = (
            "SAGEYARD_TEST_POSTGRES_URL is not set; start a server with "
            '`eval "$(bash .ci/postgres.sh | tail -1)"`.'
        )
        if _ci():
            pytest.fail(message + " PostgreSQL tests must not be skipped in CI.")
        pytest.skip(message)
    if base.startswith("postgres://"):
        base = "postgresql://" + base[len("postgres://") :]
    url = make_url(base)
    database = f"sageyard_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """The URL of an empty store on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[SqlJobStore]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def record(
    name: str,
    *,
    kind: str = "TrainingJob",
    status: str = "InProgress",
    created_at: float = 1000.0,
    parent: str | None = None,
    document: dict[str, Any] | None = None,
) -> JobRecord:
    return JobRecord(
        name=name,
        kind=kind,
        status=status,
        secondary_status="Starting",
        parent=parent,
        created_at=created_at,
        updated_at=created_at,
        heartbeat_at=None,
        owner=None,
        document={"TrainingJobName": name} if document is None else document,
    )


# --- public surface and opening ---------------------------------------------------------


def test_store_satisfies_protocol(store: SqlJobStore) -> None:
    assert isinstance(store, JobStore)


def test_open_store_creates_sqlite_parent_folder(tmp_path: Any) -> None:
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


def test_open_twice_keeps_data(store_url: str) -> None:
    first = open_store(store_url)
    first.create(record("job-a"))
    first.close()
    second = open_store(store_url)
    try:
        fetched = second.get("job-a")
        assert fetched is not None
        assert fetched.name == "job-a"
    finally:
        second.close()


# --- jobs -------------------------------------------------------------------------------


def test_create_and_get_round_trip(store: SqlJobStore) -> None:
    rec = JobRecord(
        name="job-1",
        kind="TrainingJob",
        status="InProgress",
        secondary_status="Starting",
        parent="tuning-1",
        created_at=1700000000.125,
        updated_at=1700000001.5,
        heartbeat_at=1700000002.25,
        owner="host:123",
        document={"a": 1, "nested": {"list": [1, 2.5, None, True]}},
    )
    store.create(rec)
    assert store.get("job-1") == rec
    assert store.get("no-such-job") is None


def test_duplicate_name_is_resource_in_use(store: SqlJobStore) -> None:
    store.create(record("dup", document={"first": True}))
    with pytest.raises(ResourceInUse) as info:
        store.create(record("dup", document={"second": True}))
    assert info.value.response["Error"]["Code"] == "ResourceInUse"
    assert "dup" in info.value.response["Error"]["Message"]
    kept = store.get("dup")
    assert kept is not None
    assert kept.document == {"first": True}


def test_list_filters_ordering_and_limit(store: SqlJobStore) -> None:
    store.create(record("tune-1", kind="HyperParameterTuningJob", created_at=1.0))
    store.create(record("train-a", created_at=2.0, parent="tune-1", status="Completed"))
    store.create(record("train-b", created_at=3.0, parent="tune-1"))
    store.create(record("other", created_at=4.0))

    def names(records: list[JobRecord]) -> list[str]:
        return [r.name for r in records]

    assert names(store.list()) == ["other", "train-b", "train-a", "tune-1"]
    assert names(store.list(newest_first=False)) == ["tune-1", "train-a", "train-b", "other"]
    assert names(store.list("TrainingJob")) == ["other", "train-b", "train-a"]
    assert names(store.list("HyperParameterTuningJob")) == ["tune-1"]
    assert names(store.list(parent="tune-1")) == ["train-b", "train-a"]
    assert names(store.list(status="Completed")) == ["train-a"]
    assert names(store.list("TrainingJob", status="InProgress", parent="tune-1")) == ["train-b"]
    assert names(store.list(name_contains="train")) == ["train-b", "train-a"]
    assert names(store.list(limit=2)) == ["other", "train-b"]
    assert names(store.list(limit=1, newest_first=False)) == ["tune-1"]
    assert store.list("NoSuchKind") == []


def test_list_name_contains_is_literal(store: SqlJobStore) -> None:
    store.create(record("a_b", created_at=1.0))
    store.create(record("axb", created_at=2.0))
    store.create(record("50%-off", created_at=3.0))
    assert [r.name for r in store.list(name_contains="_")] == ["a_b"]
    assert [r.name for r in store.list(name_contains="%")] == ["50%-off"]


def test_list_orders_equal_times_by_name(store: SqlJobStore) -> None:
    for name in ("b", "a", "c"):
        store.create(record(name, created_at=5.0))
    assert [r.name for r in store.list(newest_first=False)] == ["a", "b", "c"]
    assert [r.name for r in store.list()] == ["c", "b", "a"]


def test_update_merges_document_patch(store: SqlJobStore) -> None:
    store.create(record("job", document={"keep": 1, "replace": {"old": True}}))
    before = time.time()
    updated = store.update(
        "job",
        status="Completed",
        secondary_status="Completed",
        document_patch={"replace": {"new": True}, "added": [1, 2]},
        heartbeat_at=123.5,
        owner="host:42",
    )
    assert updated is not None
    assert updated.status == "Completed"
    assert updated.secondary_status == "Completed"
    assert updated.heartbeat_at == 123.5
    assert updated.owner == "host:42"
    assert updated.document == {"keep": 1, "replace": {"new": True}, "added": [1, 2]}
    assert updated.updated_at >= before
    assert updated.created_at == 1000.0
    assert store.get("job") == updated


def test_update_without_changes_only_bumps_updated_at(store: SqlJobStore) -> None:
    original = record("job")
    store.create(original)
    updated = store.update("job")
    assert updated is not None
    assert updated.updated_at > original.updated_at
    assert updated == JobRecord(**{**original.__dict__, "updated_at": updated.updated_at})


def test_update_compare_and_set(store: SqlJobStore) -> None:
    store.create(record("job", status="InProgress"))
    assert store.update("job", status="Stopping", expect_status={"Completed", "Failed"}) is None
    unchanged = store.get("job")
    assert unchanged is not None
    assert unchanged.status == "InProgress"
    assert unchanged.updated_at == 1000.0

    won = store.update("job", status="Stopping", expect_status=["InProgress"])
    assert won is not None
    assert won.status == "Stopping"
    assert store.update("job", status="Stopping", expect_status=("InProgress",)) is None


def test_update_unknown_name_is_resource_not_found(store: SqlJobStore) -> None:
    with pytest.raises(ResourceNotFound) as info:
        store.update("ghost", status="Completed")
    assert info.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ResourceNotFound):
        store.update("ghost", expect_status={"InProgress"})


# --- events and metrics -----------------------------------------------------------------


def test_events_round_trip_in_order(store: SqlJobStore) -> None:
    store.create(record("job"))
    assert store.events("job") == []
    before = time.time()
    store.append_events("job", [{"n": 0}, {"n": 1}])
    store.append_events("job", [{"n": 2}], at=5.5)
    store.append_events("job", [])
    got = store.events("job")
    assert [payload for _, payload in got] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert got[0][0] >= before
    assert got[0][0] == got[1][0]
    assert got[2][0] == 5.5


def test_metrics_round_trip_in_order(store: SqlJobStore) -> None:
    store.create(record("job"))
    store.create(record("other"))
    points = [
        MetricPoint("train:loss", 0.9, 10.0, 0),
        MetricPoint("valid:acc", 0.5, 10.5, 0),
        MetricPoint("train:loss", 0.4, 11.0, 1),
        MetricPoint("train:loss", 0.6, 12.0, 2),
    ]
    store.append_metrics("job", points[:2])
    store.append_metrics("job", points[2:])
    store.append_metrics("other", [MetricPoint("train:loss", 9.0, 1.0, 0)])
    store.append_metrics("job", [])
    assert store.metrics("job") == points
    assert store.metrics("job", "train:loss") == [points[0], points[2], points[3]]
    assert store.metrics("job", "missing") == []
    assert store.metrics("no-such-job") == []


def test_appending_to_unknown_job_is_resource_not_found(store: SqlJobStore) -> None:
    with pytest.raises(ResourceNotFound):
        store.append_events("ghost", [{"x": 1}])
    with pytest.raises(ResourceNotFound):
        store.append_metrics("ghost", [MetricPoint("m", 1.0, 1.0, 1)])
    assert store.events("ghost") == []
    assert store.metrics("ghost") == []


def test_json_with_unicode(store: SqlJobStore) -> None:
    document = {
        "Description": "日本語のジョブ — ünïcödé ✓ 🚀",
        "Quotes": 'it\'s "quoted" \\ back\\slash\nnewline\ttab \u0000 nul',
        "Nested": {"Ключ": ["значение", 1.5, None, False]},
    }
    store.create(record("job-ü", document=document))
    fetched = store.get("job-ü")
    assert fetched is not None
    assert fetched.document == document
    updated = store.update("job-ü", document_patch={"Emoji": "🦜"})
    assert updated is not None
    assert store.get("job-ü") == updated
    assert updated.document["Emoji"] == "🦜"
    store.append_events("job-ü", [{"message": "état: terminé ✓"}])
    assert store.events("job-ü")[0][1] == {"message": "état: terminé ✓"}
    store.append_metrics("job-ü", [MetricPoint("précision", 0.5, 1.0, 1)])
    assert store.metrics("job-ü", "précision") == [MetricPoint("précision", 0.5, 1.0, 1)]
    assert [r.name for r in store.list(name_contains="ü")] == ["job-ü"]


# --- processes --------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_after_fork_gives_the_child_its_own_connections(store: SqlJobStore) -> None:
    store.create(record("job"))
    assert store.get("job") is not None  # the parent now holds pooled connections
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            store.after_fork()
            store.append_events("job", [{"from": "child"}])
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.events("job")[0][1] == {"from": "child"}
    store.update("job", document_patch={"parent": "still works"})


def _concurrent_worker(url: str, worker: int, barrier: Any) -> None:
    store = open_store(url)
    try:
        barrier.wait(timeout=60)
        for j in range(UPDATES_PER_WORKER):
            i = worker * UPDATES_PER_WORKER + j
            store.update(
                "shared",
                document_patch={f"k{i}": {"worker": worker, "j": j}},
                heartbeat_at=time.time(),
                owner=f"worker:{worker}",
            )
            store.append_metrics(
                "shared",
                [MetricPoint("worker", float(worker), time.time(), i), MetricPoint("j", j, 0.0, i)],
            )
    finally:
        store.close()


def test_concurrent_processes_lose_no_update(store: SqlJobStore, store_url: str) -> None:
    store.create(record("shared", document={"initial": True}))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    procs = [
        ctx.Process(target=_concurrent_worker, args=(store_url, w, barrier)) for w in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=240)
    assert [proc.exitcode for proc in procs] == [0] * WORKERS

    total = WORKERS * UPDATES_PER_WORKER
    final = store.get("shared")
    assert final is not None
    assert final.document.pop("initial") is True
    assert set(final.document) == {f"k{i}" for i in range(total)}
    for i in range(total):
        assert final.document[f"k{i}"] == {
            "worker": i // UPDATES_PER_WORKER,
            "j": i % UPDATES_PER_WORKER,
        }

    points = store.metrics("shared")
    assert len(points) == 2 * total
    by_worker = store.metrics("shared", "worker")
    assert sorted(p.step for p in by_worker) == list(range(total))
    for w in range(WORKERS):  # each process's points keep their order
        steps = [p.step for p in by_worker if p.value == w]
        assert steps == list(range(w * UPDATES_PER_WORKER, (w + 1) * UPDATES_PER_WORKER))
    assert sorted(p.step for p in store.metrics("shared", "j")) == list(range(total))
