"""The job store over SQLAlchemy Core: :class:`SqlJobStore` and :func:`open_store`."""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from sageyard.core.exceptions import (
    ConfigurationError,
    ResourceInUse,
    ResourceNotFound,
    StoreError,
)
from sageyard.store import _schema as s
from sageyard.store._engine import WRITE_OPTION, make_engine
from sageyard.store._records import JobRecord, LogChunk, MetricPoint

logger = logging.getLogger(__name__)

# Serialises concurrent ``create_all`` calls on PostgreSQL (any constant works).
_SCHEMA_LOCK_KEY = 0x5A6E_7941


class SqlJobStore:
    """A :class:`~sageyard.store.JobStore` on any SQLAlchemy database.

    Writes are read-modify-write transactions that take the write lock first
    (``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), so concurrent
    writers from many processes never lose an update.

    Args:
        engine: An engine made by :func:`open_store` (or one configured the same way).

    Example:
        >>> store = open_store("sqlite:///" + str(tmp_path / "store.db"))  # doctest: +SKIP
        >>> store.get("no-such-job") is None  # doctest: +SKIP
        True
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine behind this store."""
        return self._engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    yield conn
        except IntegrityError:
            raise  # a name taken: the callers say which
        except SQLAlchemyError as error:  # a full disk, a lost server, ...: said plainly
            raise StoreError.of(error, str(self._engine.url), "write") from error

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except SQLAlchemyError as error:
            raise StoreError.of(error, str(self._engine.url), "read") from error

    def create_tables(self) -> None:
        """Create the tables that do not exist yet (safe to run from many processes)."""
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            s.metadata.create_all(conn)

    def create(self, record: JobRecord, events: Sequence[dict[str, Any]] = ()) -> None:
        """Insert a new job, with ``events`` (its first, at its ``created_at``) in the same
        transaction.

        Raises:
            ResourceInUse: A job called ``record.name`` exists already.
        """
        values = {
            "name": record.name,
            "kind": record.kind,
            "status": record.status,
            "secondary_status": record.secondary_status,
            "parent": record.parent,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "heartbeat_at": record.heartbeat_at,
            "owner": record.owner,
            "document": s.dump_json(record.document),
        }
        try:
            with self._write() as conn:
                conn.execute(insert(s.jobs).values(**values))
                if events:
                    conn.execute(
                        insert(s.events), _event_rows(record.name, events, record.created_at)
                    )
        except IntegrityError:
            raise ResourceInUse(
                f"A job named {record.name!r} already exists. Job names must be unique; "
                "choose another name.",
                f"Create{record.kind}",
            ) from None

    def update(
        self,
        name: str,
        *,
        status: str | None = None,
        secondary_status: str | None = None,
        document_patch: dict[str, Any] | None = None,
        heartbeat_at: float | None = None,
        owner: str | None = None,
        expect_status: Collection[str] | None = None,
        events: Sequence[dict[str, Any]] = (),
    ) -> JobRecord | None:
        """Atomically change a job and return it as it is afterwards.

        Arguments left at ``None`` keep their value. ``document_patch`` replaces top-level
        keys of the document. ``updated_at`` is always set to now.

        Args:
            name: The job.
            status: New status.
            secondary_status: New secondary status.
            document_patch: Top-level document keys to set.
            heartbeat_at: New heartbeat time (epoch seconds).
            owner: New owner (``"hostname:pid"`` of the supervisor).
            expect_status: Compare-and-set: change nothing and return ``None`` unless
                the current status is one of these.
            events: Events to append to the job's log in the same transaction (as
                :meth:`append_events`, at now); none when ``expect_status`` did not match.

        Returns:
            The updated record, or ``None`` when ``expect_status`` did not match.

        Raises:
            ResourceNotFound: No job is called ``name``.
        """
        with self._write() as conn:
            row = _locked_row(conn, name, expect_status, "UpdateJob")
            if row is None:
                return None
            values: dict[str, Any] = {"updated_at": time.time()}
            if status is not None:
                values["status"] = status
            if secondary_status is not None:
                values["secondary_status"] = secondary_status
            if heartbeat_at is not None:
                values["heartbeat_at"] = heartbeat_at
            if owner is not None:
                values["owner"] = owner
            if document_patch:
                document = s.load_json(row["document"])
                document.update(document_patch)
                values["document"] = s.dump_json(document)
            conn.execute(sql_update(s.jobs).where(s.jobs.c.name == name).values(**values))
            if events:
                conn.execute(insert(s.events), _event_rows(name, events, values["updated_at"]))
            return s.job_from_row({**row, **values})

    def get(self, name: str) -> JobRecord | None:
        """The job called ``name``, or ``None``."""
        with self._read() as conn:
            row = conn.execute(select(s.jobs).where(s.jobs.c.name == name)).mappings().first()
        return None if row is None else s.job_from_row(row)

    def delete(
        self, name: str, *, expect_status: Collection[str] | None = None
    ) -> JobRecord | None:
        """Atomically remove a job, its events and its metrics; return it as it was.

        A job whose ``parent`` it was is kept, with no parent (a tuning job's trials
        outlive it, as on SageMaker), so a later job of the same name adopts nothing.

        Args:
            name: The job.
            expect_status: Compare-and-delete: remove nothing and return ``None`` unless
                the current status is one of these.

        Returns:
            The removed record, or ``None`` when ``expect_status`` did not match.

        Raises:
            ResourceNotFound: No job is called ``name``.
        """
        with self._write() as conn:
            row = _locked_row(conn, name, expect_status, "DeleteJob")
            if row is None:
                return None
            conn.execute(sql_delete(s.events).where(s.events.c.job_name == name))
            conn.execute(sql_delete(s.metrics).where(s.metrics.c.job_name == name))
            conn.execute(sql_delete(s.logs).where(s.logs.c.job_name == name))
            conn.execute(sql_update(s.jobs).where(s.jobs.c.parent == name).values(parent=None))
            conn.execute(sql_delete(s.jobs).where(s.jobs.c.name == name))
            return s.job_from_row(row)

    def list(
        self,
        kind: str | None = None,
        *,
        status: str | None = None,
        parent: str | None = None,
        name_contains: str | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> builtins.list[JobRecord]:
        """Jobs matching every given filter, ordered by creation time (then name).

        ``name_contains`` matches a literal substring (``%`` and ``_`` are not wildcards).
        """
        query = select(s.jobs)
        if kind is not None:
            query = query.where(s.jobs.c.kind == kind)
        if status is not None:
            query = query.where(s.jobs.c.status == status)
        if parent is not None:
            query = query.where(s.jobs.c.parent == parent)
        if name_contains:
            query = query.where(s.jobs.c.name.contains(name_contains, autoescape=True))
        order = [s.jobs.c.created_at, s.jobs.c.name]
        query = query.order_by(*(c.desc() for c in order) if newest_first else order)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [s.job_from_row(row) for row in rows]

    def _require_job(self, conn: Connection, name: str, operation: str) -> None:
        found = conn.execute(select(func.count()).where(s.jobs.c.name == name)).scalar_one()
        if not found:
            raise ResourceNotFound(f"No job named {name!r} exists.", operation)

    def append_events(
        self, name: str, payloads: Sequence[dict[str, Any]], at: float | None = None
    ) -> None:
        """Append events to a job's log in one transaction (``at`` defaults to now).

        Raises:
            ResourceNotFound: No job is called ``name``.
        """
        if not payloads:
            return
        rows = _event_rows(name, payloads, time.time() if at is None else at)
        with self._write() as conn:
            self._require_job(conn, name, "AppendEvents")
            conn.execute(insert(s.events), rows)

    def events(self, name: str, start: int = 0) -> builtins.list[tuple[float, dict[str, Any]]]:
        """A job's events as ``(at, payload)`` pairs in insertion order, from the
        ``start``-th (0: all); a reader that has seen n events asks for the rest with n."""
        if start < 0:
            raise ConfigurationError(f"events(start=...) must be 0 or more, but got {start}.")
        query = (
            select(s.events.c.at, s.events.c.payload)
            .where(s.events.c.job_name == name)
            .order_by(s.events.c.id)
            .offset(start)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [(float(at), s.load_json(payload)) for at, payload in rows]

    def append_metrics(self, name: str, points: Sequence[MetricPoint]) -> None:
        """Append metric points to a job in one transaction.

        Raises:
            ResourceNotFound: No job is called ``name``.
        """
        if not points:
            return
        rows = [
            {
                "job_name": name,
                "metric_name": p.metric_name,
                "value": float(p.value),
                "at": float(p.at),
                "step": int(p.step),
            }
            for p in points
        ]
        with self._write() as conn:
            self._require_job(conn, name, "AppendMetrics")
            conn.execute(insert(s.metrics), rows)

    def metrics(self, name: str, metric_name: str | None = None) -> builtins.list[MetricPoint]:
        """A job's metric points in insertion order, optionally only ``metric_name``."""
        m = s.metrics.c
        query = select(m.metric_name, m.value, m.at, m.step).where(m.job_name == name)
        if metric_name is not None:
            query = query.where(m.metric_name == metric_name)
        with self._read() as conn:
            rows = conn.execute(query.order_by(m.id)).all()
        return [
            MetricPoint(
                metric_name=r.metric_name, value=float(r.value), at=float(r.at), step=r.step
            )
            for r in rows
        ]

    def append_logs(
        self, name: str, chunks: Sequence[tuple[str, str]], at: float | None = None
    ) -> None:
        """Append ``(host, text)`` log chunks to a job in one transaction.

        Raises:
            ResourceNotFound: No job is called ``name``.
        """
        if not chunks:
            return
        when = time.time() if at is None else at
        rows = [{"job_name": name, "host": host, "at": when, "text": text} for host, text in chunks]
        with self._write() as conn:
            self._require_job(conn, name, "AppendLogs")
            conn.execute(insert(s.logs), rows)

    def logs(self, name: str, after: int = 0) -> builtins.list[LogChunk]:
        """A job's log chunks in insertion order, those with ``id`` > ``after``."""
        c = s.logs.c
        query = (
            select(c.id, c.host, c.at, c.text)
            .where(c.job_name == name, c.id > after)
            .order_by(c.id)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [LogChunk(id=r.id, host=r.host, at=float(r.at), text=r.text) for r in rows]

    def after_fork(self) -> None:
        """Call in a child process right after ``os.fork()``.

        Drops the pooled connections inherited from the parent without closing them (they
        still belong to the parent), so the child opens its own. Not needed with the
        ``spawn`` start method.
        """
        self._engine.dispose(close=False)

    def close(self) -> None:
        """Close all pooled connections. The store reconnects if used again."""
        self._engine.dispose()


def _event_rows(
    name: str, payloads: Sequence[dict[str, Any]], at: float
) -> builtins.list[dict[str, Any]]:
    return [{"job_name": name, "at": at, "payload": s.dump_json(p)} for p in payloads]


def _locked_row(
    conn: Connection, name: str, expect_status: Collection[str] | None, operation: str
) -> Any:
    """The job's row, locked for this transaction; ``None`` when its status is not one of
    ``expect_status`` (compare-and-set). ResourceNotFound when there is no such job."""
    query = select(s.jobs).where(s.jobs.c.name == name).with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise ResourceNotFound(f"No job named {name!r} exists.", operation)
    if expect_status is not None and row["status"] not in expect_status:
        logger.debug(
            "%s of %s skipped: status %s is not one of %s",
            operation,
            name,
            row["status"],
            sorted(expect_status),
        )
        return None
    return row


def open_store(url: str) -> SqlJobStore:
    """Open the job store at ``url``, creating its tables (and SQLite folder) if needed.

    Args:
        url: SQLAlchemy URL, e.g. ``Settings.store_url``. ``postgresql://`` and
            ``postgres://`` URLs use psycopg 3.

    Returns:
        The store.

    Raises:
        ConfigurationError: The URL is invalid.
        MissingDependencyError: The database driver is not installed.

    Example:
        >>> store = open_store("sqlite:///" + str(tmp_path / "store.db"))  # doctest: +SKIP
        >>> store.list(status="InProgress")  # doctest: +SKIP
        []
    """
    engine = _ENGINES.get(url)
    if engine is not None:
        return SqlJobStore(engine)
    store = SqlJobStore(make_engine(url))
    try:
        store.create_tables()
    except BaseException:
        store.close()
        raise
    _ENGINES[url] = store.engine
    return store


# One engine per URL and process (engines are meant to be shared); a forked child keeps
# the mapping, and drops the pooled connections (see _engine.py).
_ENGINES: dict[str, Engine] = {}
