"""What the training-job and tuning-job services share: reading job rows of one kind, and
marking a job Failed when its supervisor has died (so nothing stays InProgress forever)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from sageyard.core.exceptions import ResourceInUse, ResourceNotFound
from sageyard.core.settings import Settings
from sageyard.jobs.liveness import dead_reason
from sageyard.jobs.states import ACTIVE
from sageyard.store import JobRecord, JobStore

logger = logging.getLogger(__name__)


class JobRecords:
    """Reads rows of one ``KIND``; every read passes through :meth:`reconcile`."""

    KIND: ClassVar[str]
    NOUN: ClassVar[str]  # "Training job", "Tuning job"
    DESCRIBE_OPERATION: ClassVar[str]
    CLI_LIST: ClassVar[str]

    settings: Settings

    @property
    def store(self) -> JobStore:
        raise NotImplementedError

    def insert_new(
        self,
        name: str,
        base_name: str | None,
        namer: Callable[[str, float], str],
        build: Callable[[str, float], JobRecord],
        operation: str,
        events: Sequence[dict[str, Any]] = (),
    ) -> JobRecord:
        """Insert ``build(name, now)`` (with its first ``events``); with ``base_name``, the
        name is ``namer(base, t)``, bumped a millisecond at a time until free (two jobs in
        one second stay distinct).

        Raises:
            ResourceInUse: ``name`` (no base) is taken.
        """
        now = time.time()
        for attempt in range(1000):
            candidate = name if base_name is None else namer(base_name, now + attempt / 1000)
            record = build(candidate, now)
            try:
                self.store.create(record, events)
            except ResourceInUse:
                if base_name is None:
                    raise ResourceInUse(
                        f"A {self.NOUN.lower()} named {candidate!r} exists already; choose "
                        "another name, or leave it out to get a unique one.",
                        operation,
                    ) from None
                continue
            return record
        raise ResourceInUse(f"Could not find a free name for base {base_name!r}.", operation)

    def get(self, name: str) -> JobRecord:
        record = self.store.get(name)
        if record is None or record.kind != self.KIND:
            raise ResourceNotFound(
                f"{self.NOUN} {name!r} does not exist in {self.settings.store_url}. "
                f"List them with `{self.CLI_LIST}`.",
                self.DESCRIBE_OPERATION,
            )
        return self.reconcile(record)

    def list_jobs(
        self,
        *,
        status: str | None = None,
        name_contains: str | None = None,
        limit: int | None = None,
    ) -> list[JobRecord]:
        records = self.store.list(
            self.KIND, status=status, name_contains=name_contains, limit=limit
        )
        return [self.reconcile(record) for record in records]

    def stop(self, name: str) -> None:
        """Ask the job's supervisor to stop it (each service knows how)."""
        raise NotImplementedError

    def reconcile(self, record: JobRecord) -> JobRecord:
        """Mark the job Failed when its supervisor is gone, then clean up after it."""
        if record.status not in ACTIVE:
            return record
        dead, gone = dead_reason(
            record.owner, record.heartbeat_at, record.created_at, self.settings.heartbeat_seconds
        )
        if dead is None:
            return record
        reason = f"InternalServerError: the {self.NOUN.lower()} was interrupted: {dead}"
        reason += self._interruption_advice()
        updated = self.store.update(
            record.name,
            status="Failed",
            secondary_status="Failed" if record.secondary_status is not None else None,
            document_patch={
                "failure_reason": reason,
                "end_time": time.time(),
                **self._final_fields(record),
            },
            expect_status=ACTIVE,
        )
        if updated is None:  # someone else settled it first
            return self.store.get(record.name) or record
        self._after_interrupted(record, reason, gone)
        logger.warning("%s %s: %s", self.NOUN.lower(), record.name, reason)
        return updated

    def fail_to_start(self, record: JobRecord, error: Exception) -> None:
        """The job could not be started (its code, its supervisor): Failed, with why, unless
        it ended meanwhile. The caller raises ``error`` on."""
        self.store.update(
            record.name,
            status="Failed",
            secondary_status="Failed" if record.secondary_status is not None else None,
            document_patch={
                "failure_reason": f"InternalServerError: {error}",
                "end_time": time.time(),
            },
            expect_status=ACTIVE,
        )

    def _interruption_advice(self) -> str:
        return "."

    def _final_fields(self, record: JobRecord) -> dict[str, Any]:
        return {}

    def _after_interrupted(self, record: JobRecord, reason: str, gone: bool) -> None:
        """``gone``: the supervisor is known to be dead on this machine."""
