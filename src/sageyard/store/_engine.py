"""Build a SQLAlchemy engine for the job store from a URL.

SQLite gets WAL, a 30 s ``busy_timeout`` and SQLAlchemy-controlled transactions: read
transactions start with a plain ``BEGIN`` and write transactions with ``BEGIN IMMEDIATE``,
so a writer takes the write lock up front (waiting up to the busy timeout) instead of
failing with ``SQLITE_BUSY`` when it upgrades a read lock half-way through.
"""

from __future__ import annotations

import atexit
import logging
import os
import sqlite3
import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import QueuePool, StaticPool

from sageyard.core.exceptions import ConfigurationError, MissingDependencyError

logger = logging.getLogger(__name__)

#: Connection execution option that marks a write transaction (``BEGIN IMMEDIATE``).
WRITE_OPTION = "sageyard_write"

BUSY_TIMEOUT_SECONDS = 30.0

_POSTGRES_DRIVER = "postgresql+psycopg"

_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_connections_after_fork() -> None:
    """A forked child must not use its parent's pooled connections: drop them (unclosed)."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


def close_pooled_connections() -> None:
    """Close every idle pooled connection of this process.

    Call it before ``os.fork()`` when the child will use the store: a child that inherits
    open SQLite files and later closes them (garbage collection does) drops its *own*
    POSIX locks on the database, after which another process may delete the WAL under it.
    """
    for engine in list(_ENGINES):
        engine.dispose()


os.register_at_fork(after_in_child=_forget_connections_after_fork)
atexit.register(close_pooled_connections)


def normalize_url(url: str) -> URL:
    """Parse a store URL; bare ``postgresql://`` and ``postgres://`` use psycopg 3.

    Args:
        url: Any SQLAlchemy URL.

    Returns:
        The parsed URL.

    Raises:
        ConfigurationError: The URL cannot be parsed.

    Example:
        >>> normalize_url("postgres://u@db/sy").drivername
        'postgresql+psycopg'
    """
    raw = url.strip()
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    try:
        parsed = make_url(raw)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"The job store URL {url!r} is not a SQLAlchemy URL ({exc}). Use e.g. "
            "'sqlite:////path/to/store.db' or 'postgresql://user@host/db' in "
            "SAGEYARD_STORE_URL."
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername=_POSTGRES_DRIVER)
    return parsed


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def _with_retries(cursor: Any, sql: str) -> None:
    """Run ``sql``, retrying while the database is locked: SQLite can answer BUSY without
    calling its busy handler (a connection that opens a WAL database while another one
    recovers it), so ``busy_timeout`` alone does not cover the first statement."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            cursor.execute(sql)
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _install_sqlite_hooks(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, emit BEGIN (SQLAlchemy 2.x SQLite transaction recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop pysqlite from emitting BEGIN itself; the "begin" hook below does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            _with_retries(cursor, "PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; for a SQLite file, create its parent folder.

    Args:
        url: SQLAlchemy URL of the store.

    Returns:
        A configured engine (no connection is opened yet).

    Raises:
        ConfigurationError: The URL is invalid or names an unknown database.
        MissingDependencyError: The database driver is not installed.
    """
    parsed = normalize_url(url)
    kwargs: dict[str, Any] = {}
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        path = _sqlite_file(parsed)
        if path is None:
            # An in-memory database lives in one connection: share it.
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            # A small pool: opening a connection and setting its pragmas costs ~2 ms, more
            # than most of our queries. A pooled connection is idle outside a transaction
            # (the pool rolls back on return), so it holds no lock or WAL read mark that
            # could block other processes; after fork() the child drops the parent's
            # connections (see _forget_connections_after_fork).
            kwargs.update(
                poolclass=QueuePool,
                pool_size=2,
                max_overflow=6,
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
    else:
        # Server databases: a small pool, checked before use so a restarted server or a
        # connection closed by a firewall does not surface as an error.
        kwargs.update(pool_size=2, max_overflow=4, pool_pre_ping=True)
    try:
        engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError:
        raise ConfigurationError(
            f"The job store URL names the database {parsed.drivername!r}, which SQLAlchemy "
            "does not know. Use a 'sqlite://' or 'postgresql://' URL."
        ) from None
    except ImportError as exc:
        extra = "postgres" if parsed.get_backend_name() == "postgresql" else None
        hint = (
            f"Install it with `pip install 'sageyard[{extra}]'`."
            if extra
            else "Install the driver for this database."
        )
        raise MissingDependencyError(
            f"The job store URL uses the driver {parsed.drivername!r}, but it is not "
            f"installed ({exc}). {hint}"
        ) from None
    if is_sqlite:
        _install_sqlite_hooks(engine)
    _ENGINES.add(engine)
    logger.debug("Job store engine for %s", parsed.render_as_string(hide_password=True))
    return engine
