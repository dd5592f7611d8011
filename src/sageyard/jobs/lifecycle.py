"""The life of every supervisor, training or tuning: claim → heartbeat → run → finish.

:func:`supervise` claims the job in the store (its ``owner`` is this process, so a reader
can tell when it dies), proves it alive from a thread of its own every
``heartbeat_seconds``, runs the work, turns an unexpected error into an
``InternalServerError`` result instead of leaving the job InProgress, and hands the result
to ``finish``. A job that ended already, or does not exist, is left alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sageyard.core.exceptions import ResourceNotFound
from sageyard.core.settings import Settings
from sageyard.jobs.doorbell import doorbell_path, ring
from sageyard.jobs.liveness import owner_token
from sageyard.jobs.states import ACTIVE
from sageyard.store import JobRecord, JobStore

logger = logging.getLogger(__name__)

Result = TypeVar("Result")


def supervise(
    store: JobStore,
    name: str,
    heartbeat_seconds: float,
    work: Callable[[JobRecord], Result],
    failed: Callable[[str], Result],
    finish: Callable[[Result], None],
) -> None:
    """Run ``work`` on the job ``name`` as its supervisor, then ``finish`` its result.

    ``failed(reason)`` makes the result of a ``work`` that raised.
    """
    try:
        record = store.update(
            name, owner=owner_token(), heartbeat_at=time.time(), expect_status=ACTIVE
        )
    except ResourceNotFound:  # deleted meanwhile
        return
    if record is None:  # it ended already (settled by a reader): nothing to supervise
        return
    heartbeat = Heartbeat(store, name, heartbeat_seconds)
    heartbeat.start()
    try:
        result = work(record)
    except Exception as error:  # the platform failed: never leave the job InProgress
        logger.exception("supervisor of %s failed", name)
        result = failed(f"InternalServerError: {error}")
    finally:
        heartbeat.stop()
    finish(result)


def settle(store: JobStore, settings: Settings, name: str, status: str, **fields: object) -> None:
    """End a supervised job: its final ``status``, ``end_time`` and the ``fields`` given
    (falsy ones left out) in one write, unless it ended already; then ring its doorbell
    (``doorbell.py``), so whoever waits on it wakes."""
    patch = {"end_time": time.time(), **{k: v for k, v in fields.items() if v}}
    store.update(name, status=status, document_patch=patch, expect_status=ACTIVE)
    ring(doorbell_path(settings, name))


class Heartbeat(threading.Thread):
    """Proves the supervisor is alive, every ``interval`` seconds, from a thread of its own.

    What the main thread does cannot hold it up for long: metric regexes run in the
    ``regex`` module, which releases the GIL while it matches, each search with a time
    bound (``metrics.py``), and the watch reads a job's output a bounded chunk at a time.
    """

    def __init__(self, store: JobStore, name: str, interval: float) -> None:
        super().__init__(name=f"heartbeat-{name}", daemon=True)
        self._store, self._name, self._interval = store, name, interval
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self._interval):
            try:
                self._store.update(self._name, heartbeat_at=time.time())
            except Exception:  # a missed beat is not fatal; the next one may succeed
                logger.warning("heartbeat of %s failed", self._name, exc_info=True)

    def stop(self) -> None:
        self._done.set()
