"""The job store: jobs, their events and their metrics, readable from any process.

SQLite (WAL) under ``SAGEYARD_HOME`` by default; any SQLAlchemy URL (PostgreSQL included)
through ``SAGEYARD_STORE_URL``.

Example:
    >>> from sageyard.store import open_store
    >>> store = open_store(settings.store_url)  # doctest: +SKIP
    >>> store.get("my-training-job")  # doctest: +SKIP
"""

from sageyard.store._engine import close_pooled_connections
from sageyard.store._records import JobRecord, JobStore, LogChunk, MetricPoint, final_metrics
from sageyard.store._sql import SqlJobStore, open_store

__all__ = [
    "JobRecord",
    "JobStore",
    "LogChunk",
    "MetricPoint",
    "SqlJobStore",
    "close_pooled_connections",
    "final_metrics",
    "open_store",
]
