"""Fixtures for running the conformance suites of ``sageyard.testing`` against each backend.

Object storage: ``moto_endpoint`` (an S3 server) lives in ``tests/conftest.py``. Job store:
``postgres_url``, a fresh database on the server that ``SAGEYARD_TEST_POSTGRES_URL`` names
(start one with ``eval "$(bash .ci/postgres.sh | tail -1)"``). Without that variable the
PostgreSQL tests skip, except under CI (``CI`` set), where they fail so that CI never
skips them silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database on the server of ``SAGEYARD_TEST_POSTGRES_URL``, dropped after."""
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
