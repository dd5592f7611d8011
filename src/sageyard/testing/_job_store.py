"""The conformance suite of the :class:`~sageyard.store.JobStore` interface."""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections.abc import Callable, Iterator
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest

from sageyard.core.exceptions import ResourceInUse, ResourceNotFound
from sageyard.store import JobRecord, JobStore, MetricPoint

_WORKERS = 8
_UPDATES_PER_WORKER = 25


def _record(
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


def _names(records: list[JobRecord]) -> list[str]:
    return [r.name for r in records]


def _concurrent_worker(open_store: Callable[[], JobStore], worker: int, barrier: Barrier) -> None:
    store = open_store()
    try:
        barrier.wait(timeout=60)
        for j in range(_UPDATES_PER_WORKER):
            i = worker * _UPDATES_PER_WORKER + j
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


class JobStoreSuite:
    """Every rule a :class:`~sageyard.store.JobStore` keeps, as pytest tests.

    Subclass it in a ``Test*`` class and override the ``job_store_factory`` fixture: a
    picklable callable without arguments that opens a new handle on one empty store, the
    same store at each call. The suite opens its ``job_store`` with it, reopens the store
    with it, and calls it in other processes (``spawn``) to check that concurrent writers
    lose no update.

    Example:
        >>> class TestSqliteJobStore(JobStoreSuite):  # doctest: +SKIP
        ...     @pytest.fixture
        ...     def job_store_factory(self, tmp_path: Path) -> Callable[[], JobStore]:
        ...         return functools.partial(open_store, f"sqlite:///{tmp_path / 'store.db'}")
    """

    @pytest.fixture
    def job_store_factory(self) -> Callable[[], JobStore]:
        """Opens the empty store of the backend under test. Subclasses must override it."""
        raise NotImplementedError(
            f"{type(self).__name__} must override the `job_store_factory` fixture with a "
            "picklable callable that opens one empty JobStore of the backend under test."
        )

    @pytest.fixture
    def job_store(self, job_store_factory: Callable[[], JobStore]) -> Iterator[JobStore]:
        """A handle on the store, closed after the test."""
        store = job_store_factory()
        yield store
        store.close()

    # -- the interface and opening -------------------------------------------------------

    def test_store_satisfies_protocol(self, job_store: JobStore) -> None:
        assert isinstance(job_store, JobStore)

    def test_open_twice_keeps_data(self, job_store_factory: Callable[[], JobStore]) -> None:
        first = job_store_factory()
        first.create(_record("job-a"))
        first.close()
        second = job_store_factory()
        try:
            fetched = second.get("job-a")
            assert fetched is not None
            assert fetched.name == "job-a"
        finally:
            second.close()

    # -- jobs ----------------------------------------------------------------------------

    def test_create_and_get_round_trip(self, job_store: JobStore) -> None:
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
        job_store.create(rec)
        assert job_store.get("job-1") == rec
        assert job_store.get("no-such-job") is None

    def test_duplicate_name_is_resource_in_use(self, job_store: JobStore) -> None:
        job_store.create(_record("dup", document={"first": True}))
        with pytest.raises(ResourceInUse) as info:
            job_store.create(_record("dup", document={"second": True}))
        assert info.value.response["Error"]["Code"] == "ResourceInUse"
        assert "dup" in info.value.response["Error"]["Message"]
        kept = job_store.get("dup")
        assert kept is not None
        assert kept.document == {"first": True}

    def test_list_filters_ordering_and_limit(self, job_store: JobStore) -> None:
        store = job_store
        store.create(_record("tune-1", kind="HyperParameterTuningJob", created_at=1.0))
        store.create(_record("train-a", created_at=2.0, parent="tune-1", status="Completed"))
        store.create(_record("train-b", created_at=3.0, parent="tune-1"))
        store.create(_record("other", created_at=4.0))

        assert _names(store.list()) == ["other", "train-b", "train-a", "tune-1"]
        assert _names(store.list(newest_first=False)) == ["tune-1", "train-a", "train-b", "other"]
        assert _names(store.list("TrainingJob")) == ["other", "train-b", "train-a"]
        assert _names(store.list("HyperParameterTuningJob")) == ["tune-1"]
        assert _names(store.list(parent="tune-1")) == ["train-b", "train-a"]
        assert _names(store.list(status="Completed")) == ["train-a"]
        assert _names(store.list("TrainingJob", status="InProgress", parent="tune-1")) == [
            "train-b"
        ]
        assert _names(store.list(name_contains="train")) == ["train-b", "train-a"]
        assert _names(store.list(limit=2)) == ["other", "train-b"]
        assert _names(store.list(limit=1, newest_first=False)) == ["tune-1"]
        assert store.list("NoSuchKind") == []

    def test_list_name_contains_is_literal(self, job_store: JobStore) -> None:
        job_store.create(_record("a_b", created_at=1.0))
        job_store.create(_record("axb", created_at=2.0))
        job_store.create(_record("50%-off", created_at=3.0))
        assert _names(job_store.list(name_contains="_")) == ["a_b"]
        assert _names(job_store.list(name_contains="%")) == ["50%-off"]

    def test_list_orders_equal_times_by_name(self, job_store: JobStore) -> None:
        for name in ("b", "a", "c"):
            job_store.create(_record(name, created_at=5.0))
        assert _names(job_store.list(newest_first=False)) == ["a", "b", "c"]
        assert _names(job_store.list()) == ["c", "b", "a"]

    def test_update_merges_document_patch(self, job_store: JobStore) -> None:
        job_store.create(_record("job", document={"keep": 1, "replace": {"old": True}}))
        before = time.time()
        updated = job_store.update(
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
        assert job_store.get("job") == updated

    def test_update_without_changes_only_bumps_updated_at(self, job_store: JobStore) -> None:
        original = _record("job")
        job_store.create(original)
        updated = job_store.update("job")
        assert updated is not None
        assert updated.updated_at > original.updated_at
        assert updated == dataclasses.replace(original, updated_at=updated.updated_at)

    def test_update_compare_and_set(self, job_store: JobStore) -> None:
        job_store.create(_record("job", status="InProgress"))
        assert (
            job_store.update("job", status="Stopping", expect_status={"Completed", "Failed"})
            is None
        )
        unchanged = job_store.get("job")
        assert unchanged is not None
        assert unchanged.status == "InProgress"
        assert unchanged.updated_at == 1000.0

        won = job_store.update("job", status="Stopping", expect_status=["InProgress"])
        assert won is not None
        assert won.status == "Stopping"
        assert job_store.update("job", status="Stopping", expect_status=("InProgress",)) is None

    def test_create_writes_the_first_events_with_the_job(self, job_store: JobStore) -> None:
        job_store.create(_record("job"), [{"n": 0}, {"n": 1}])
        got = job_store.events("job")
        assert [payload for _, payload in got] == [{"n": 0}, {"n": 1}]
        assert {at for at, _ in got} == {1000.0}  # the record's created_at
        with pytest.raises(ResourceInUse):
            job_store.create(_record("job"), [{"n": 2}])
        assert len(job_store.events("job")) == 2  # a refused create appends nothing

    def test_update_appends_events_with_the_change(self, job_store: JobStore) -> None:
        job_store.create(_record("job", status="InProgress"))
        job_store.append_events("job", [{"n": 0}])
        updated = job_store.update("job", secondary_status="Training", events=[{"n": 1}, {"n": 2}])
        assert updated is not None
        got = job_store.events("job")
        assert [payload for _, payload in got] == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert got[1][0] == got[2][0] == updated.updated_at
        # a compare-and-set that fails appends nothing
        refused = job_store.update(
            "job", status="Stopped", expect_status={"Completed"}, events=[{"n": 3}]
        )
        assert refused is None
        assert len(job_store.events("job")) == 3

    def test_update_unknown_name_is_resource_not_found(self, job_store: JobStore) -> None:
        with pytest.raises(ResourceNotFound) as info:
            job_store.update("ghost", status="Completed")
        assert info.value.response["Error"]["Code"] == "ResourceNotFound"
        with pytest.raises(ResourceNotFound):
            job_store.update("ghost", expect_status={"InProgress"})

    def test_delete_removes_the_job_its_events_and_metrics(self, job_store: JobStore) -> None:
        job_store.create(_record("job", status="Completed", document={"first": True}))
        job_store.create(_record("other"))
        job_store.append_events("job", [{"n": 0}])
        job_store.append_metrics("job", [MetricPoint("loss", 1.0, 1.0, 0)])
        job_store.append_metrics("other", [MetricPoint("loss", 2.0, 1.0, 0)])
        removed = job_store.delete("job")
        assert removed is not None
        assert removed.document == {"first": True}
        assert job_store.get("job") is None
        assert _names(job_store.list()) == ["other"]
        assert job_store.metrics("other") == [MetricPoint("loss", 2.0, 1.0, 0)]
        # the name is free again, and the new job starts with no events or metrics
        job_store.create(_record("job", document={"second": True}))
        assert job_store.events("job") == []
        assert job_store.metrics("job") == []
        again = job_store.get("job")
        assert again is not None
        assert again.document == {"second": True}

    def test_delete_compare_and_delete(self, job_store: JobStore) -> None:
        job_store.create(_record("job", status="InProgress"))
        assert job_store.delete("job", expect_status={"Completed", "Failed"}) is None
        assert job_store.get("job") == _record("job", status="InProgress")
        removed = job_store.delete("job", expect_status=["InProgress"])
        assert removed is not None
        assert removed.status == "InProgress"
        assert job_store.get("job") is None

    def test_delete_keeps_the_children_without_a_parent(self, job_store: JobStore) -> None:
        job_store.create(_record("tune", kind="HyperParameterTuningJob", status="Completed"))
        job_store.create(_record("trial-1", parent="tune", status="Completed"))
        job_store.delete("tune")
        trial = job_store.get("trial-1")
        assert trial is not None
        assert trial.parent is None
        assert trial.status == "Completed"
        job_store.create(_record("tune", kind="HyperParameterTuningJob"))
        assert job_store.list(parent="tune") == []

    def test_delete_unknown_name_is_resource_not_found(self, job_store: JobStore) -> None:
        with pytest.raises(ResourceNotFound) as info:
            job_store.delete("ghost")
        assert info.value.response["Error"]["Code"] == "ResourceNotFound"
        with pytest.raises(ResourceNotFound):
            job_store.delete("ghost", expect_status={"Completed"})

    # -- registry rows (model packages, datasets: registered, not run) ------------------

    def test_registered_rows_round_trip(self, job_store: JobStore) -> None:
        group = JobRecord.registered("group", "ModelPackageGroup", None, {"arn": "g"}, "Completed")
        job_store.create(group)
        for version in (1, 2):
            job_store.create(
                JobRecord.registered(
                    f"group/{version}", "ModelPackage", "group", {"version": version}, "Completed"
                )
            )
        with pytest.raises(ResourceInUse):  # how concurrent registrations number versions
            job_store.create(
                JobRecord.registered("group/2", "ModelPackage", "group", {}, "Completed")
            )

        assert job_store.get("group") == group
        versions = job_store.list("ModelPackage", parent="group")
        assert _names(versions) == ["group/2", "group/1"]
        assert [r.document for r in versions] == [{"version": 2}, {"version": 1}]
        assert all(r.secondary_status is None and r.heartbeat_at is None for r in versions)
        assert _names(job_store.list("ModelPackage", parent="group", limit=1)) == ["group/2"]
        assert _names(job_store.list("ModelPackageGroup")) == ["group"]

    # -- events and metrics --------------------------------------------------------------

    def test_events_round_trip_in_order(self, job_store: JobStore) -> None:
        job_store.create(_record("job"))
        assert job_store.events("job") == []
        before = time.time()
        job_store.append_events("job", [{"n": 0}, {"n": 1}])
        job_store.append_events("job", [{"n": 2}], at=5.5)
        job_store.append_events("job", [])
        got = job_store.events("job")
        assert [payload for _, payload in got] == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert got[0][0] >= before
        assert got[0][0] == got[1][0]
        assert got[2][0] == 5.5
        assert job_store.events("job", start=1) == got[1:]
        assert job_store.events("job", start=3) == []
        assert job_store.events("job", start=10) == []

    def test_metrics_round_trip_in_order(self, job_store: JobStore) -> None:
        job_store.create(_record("job"))
        job_store.create(_record("other"))
        points = [
            MetricPoint("train:loss", 0.9, 10.0, 0),
            MetricPoint("valid:acc", 0.5, 10.5, 0),
            MetricPoint("train:loss", 0.4, 11.0, 1),
            MetricPoint("train:loss", 0.6, 12.0, 2),
        ]
        job_store.append_metrics("job", points[:2])
        job_store.append_metrics("job", points[2:])
        job_store.append_metrics("other", [MetricPoint("train:loss", 9.0, 1.0, 0)])
        job_store.append_metrics("job", [])
        assert job_store.metrics("job") == points
        assert job_store.metrics("job", "train:loss") == [points[0], points[2], points[3]]
        assert job_store.metrics("job", "missing") == []
        assert job_store.metrics("no-such-job") == []

    def test_log_chunks_round_trip_in_order_and_are_read_on_from_an_id(
        self, job_store: JobStore
    ) -> None:
        job_store.create(_record("job"))
        job_store.create(_record("other"))
        job_store.append_logs("job", [("algo-1", "a\n"), ("algo-2", "b\nc\n")], at=5.0)
        job_store.append_logs("other", [("algo-1", "elsewhere\n")])
        job_store.append_logs("job", [("algo-1", "d ünï\n")])
        job_store.append_logs("job", [])
        chunks = job_store.logs("job")
        assert [(c.host, c.text) for c in chunks] == [
            ("algo-1", "a\n"),
            ("algo-2", "b\nc\n"),
            ("algo-1", "d ünï\n"),
        ]
        assert chunks[0].at == 5.0 and chunks[0].id < chunks[1].id < chunks[2].id
        assert [c.text for c in job_store.logs("job", after=chunks[1].id)] == ["d ünï\n"]
        assert job_store.logs("no-such-job") == []
        job_store.delete("job")
        assert job_store.logs("job") == []
        assert [c.text for c in job_store.logs("other")] == ["elsewhere\n"]

    def test_appending_to_unknown_job_is_resource_not_found(self, job_store: JobStore) -> None:
        with pytest.raises(ResourceNotFound):
            job_store.append_logs("ghost", [("algo-1", "x\n")])
        with pytest.raises(ResourceNotFound):
            job_store.append_events("ghost", [{"x": 1}])
        with pytest.raises(ResourceNotFound):
            job_store.append_metrics("ghost", [MetricPoint("m", 1.0, 1.0, 1)])
        assert job_store.events("ghost") == []
        assert job_store.metrics("ghost") == []

    def test_json_with_unicode(self, job_store: JobStore) -> None:
        document = {
            "Description": "日本語のジョブ — ünïcödé ✓ 🚀",
            "Quotes": 'it\'s "quoted" \\ back\\slash\nnewline\ttab \u0000 nul',
            "Nested": {"Ключ": ["значение", 1.5, None, False]},
        }
        job_store.create(_record("job-ü", document=document))
        fetched = job_store.get("job-ü")
        assert fetched is not None
        assert fetched.document == document
        updated = job_store.update("job-ü", document_patch={"Emoji": "🦜"})
        assert updated is not None
        assert job_store.get("job-ü") == updated
        assert updated.document["Emoji"] == "🦜"
        job_store.append_events("job-ü", [{"message": "état: terminé ✓"}])
        assert job_store.events("job-ü")[0][1] == {"message": "état: terminé ✓"}
        job_store.append_metrics("job-ü", [MetricPoint("précision", 0.5, 1.0, 1)])
        assert job_store.metrics("job-ü", "précision") == [MetricPoint("précision", 0.5, 1.0, 1)]
        assert _names(job_store.list(name_contains="ü")) == ["job-ü"]

    # -- processes -----------------------------------------------------------------------

    def test_concurrent_processes_lose_no_update(
        self, job_store: JobStore, job_store_factory: Callable[[], JobStore]
    ) -> None:
        job_store.create(_record("shared", document={"initial": True}))
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(_WORKERS)
        procs = [
            ctx.Process(target=_concurrent_worker, args=(job_store_factory, w, barrier))
            for w in range(_WORKERS)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=240)
        assert [proc.exitcode for proc in procs] == [0] * _WORKERS

        total = _WORKERS * _UPDATES_PER_WORKER
        final = job_store.get("shared")
        assert final is not None
        assert final.document.pop("initial") is True
        assert set(final.document) == {f"k{i}" for i in range(total)}
        for i in range(total):
            assert final.document[f"k{i}"] == {
                "worker": i // _UPDATES_PER_WORKER,
                "j": i % _UPDATES_PER_WORKER,
            }

        points = job_store.metrics("shared")
        assert len(points) == 2 * total
        by_worker = job_store.metrics("shared", "worker")
        assert sorted(p.step for p in by_worker) == list(range(total))
        for w in range(_WORKERS):  # each process's points keep their order
            steps = [p.step for p in by_worker if p.value == w]
            assert steps == list(range(w * _UPDATES_PER_WORKER, (w + 1) * _UPDATES_PER_WORKER))
        assert sorted(p.step for p in job_store.metrics("shared", "j")) == list(range(total))
