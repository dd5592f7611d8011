"""The job store's tables: one schema for SQLite and PostgreSQL.

Timestamps are ``Float`` epoch seconds and JSON is ``Text`` written with :func:`json.dumps`,
so both engines store and return exactly the same values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

from sageyard.store._records import JobRecord

metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("secondary_status", String(64), nullable=True),
    Column("parent", String(128), nullable=True, index=True),
    Column("created_at", Float, nullable=False, index=True),
    Column("updated_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=True),
    Column("owner", String(256), nullable=True),
    Column("document", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_name", String(128), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("payload", Text, nullable=False),
)

metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_name", String(128), nullable=False, index=True),
    Column("metric_name", String(255), nullable=False),
    Column("value", Float, nullable=False),
    Column("at", Float, nullable=False),
    Column("step", Integer, nullable=False),
    Index("ix_metrics_job_name_metric_name", "job_name", "metric_name"),
)


logs = Table(
    "logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_name", String(128), nullable=False, index=True),
    Column("host", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("text", Text, nullable=False),
)


def dump_json(value: dict[str, Any]) -> str:
    """Serialise a JSON object for a ``Text`` column (UTF-8 kept as is)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_json(text: str) -> dict[str, Any]:
    """Parse a JSON object written by :func:`dump_json`."""
    value: dict[str, Any] = json.loads(text)
    return value


def job_from_row(row: Mapping[Any, Any]) -> JobRecord:
    """Build a :class:`JobRecord` from a ``jobs`` row mapping."""
    return JobRecord(
        name=row["name"],
        kind=row["kind"],
        status=row["status"],
        secondary_status=row["secondary_status"],
        parent=row["parent"],
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        heartbeat_at=None if row["heartbeat_at"] is None else float(row["heartbeat_at"]),
        owner=row["owner"],
        document=load_json(row["document"]),
    )
