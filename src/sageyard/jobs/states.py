"""Job statuses and the supervisor's writes to the job store (its folders: ``JobPaths``)."""

from __future__ import annotations

import time
from typing import Any

from sageyard.jobs.doorbell import ring
from sageyard.runtime.layout import JobPaths
from sageyard.store import JobStore, final_metrics

KIND = "TrainingJob"
ACTIVE = frozenset({"InProgress", "Stopping"})
TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
#: ListTrainingJobs' filter values (StatusEquals) and sort keys.
JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")


class StatusWriter:
    """The supervisor's writes: status transitions, notes, timings, the final outcome.

    Each transition or end is one write: the status, its event and the document fields
    that come with it. The end of an attempt's training (:meth:`training_ended`) rides on
    the next one; the end is the last, and rings the job's doorbell (``doorbell.py``).
    """

    def __init__(self, store: JobStore, name: str, paths: JobPaths) -> None:
        self.store, self.name, self.paths = store, name, paths
        self._next_stop_check = 0.0
        self._pending: dict[str, Any] = {}  # document fields for the next write

    def transition(
        self,
        secondary: str,
        message: str,
        document_patch: dict[str, Any] | None = None,
        expect_status: frozenset[str] = ACTIVE,
    ) -> bool:
        """A new secondary status (an event), with ``document_patch`` in the same write;
        whether it was written (the job's status was one of ``expect_status``)."""
        stopping = ("Stopping", "MaxRuntimeExceeded", "MaxWaitTimeExceeded")
        status = "Stopping" if secondary in stopping else None
        written = self.store.update(
            self.name,
            status=status,
            secondary_status=secondary,
            document_patch={**self._pending, **(document_patch or {})} or None,
            expect_status=expect_status,
            events=[{"Status": secondary, "StatusMessage": message}],
        )
        if written is not None:
            self._pending = {}
        return written is not None

    def note(self, message: str) -> None:
        """A warning for the user: shown in describe (``Warnings``) and the first host's log."""
        record = self.store.get(self.name)
        notes = list(record.document.get("notes", [])) if record else []
        self.store.update(self.name, document_patch={"notes": [*notes, message]})
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        with open(self.paths.log("algo-1"), "a") as log:
            log.write(f"[sageyard] {message}\n")

    def stop_requested(self) -> bool:
        """Whether the job should end: asked to stop, or no longer this supervisor's (a
        reader declared it dead and settled it while this process was stalled)."""
        record = self.store.get(self.name)
        return record is None or record.status != "InProgress"

    def stop_requested_throttled(self) -> bool:
        """:meth:`stop_requested`, asked of the store at most twice a second."""
        now = time.time()
        if now < self._next_stop_check:
            return False
        self._next_stop_check = now + 0.5
        return self.stop_requested()

    def training_ended(
        self, at: float, training_seconds: int | None = None, billable_seconds: int | None = None
    ) -> None:
        """The end of an attempt's training, written with the next transition or the end;
        ``training_seconds`` and ``billable_seconds``: a managed spot job's so far (its
        training is not end - start, and spot costs less)."""
        self._pending["training_end_time"] = at
        if training_seconds is not None:
            self._pending["training_seconds"] = training_seconds
        if billable_seconds is not None:
            self._pending["billable_seconds"] = billable_seconds

    def finish(
        self,
        status: str,
        secondary: str,
        reason: str | None,
        document_patch: dict[str, Any] | None = None,
    ) -> None:
        """The job's end, with its final metrics (and ``document_patch``); then its
        doorbell rings."""
        patch: dict[str, Any] = {
            **self._pending,
            **(document_patch or {}),
            "final_metrics": final_metrics(self.store.metrics(self.name)),
            "end_time": time.time(),
        }
        if reason:
            patch["failure_reason"] = reason
        message = {
            "Completed": "Training job completed",
            "Stopped": "Training job stopped",
            "MaxRuntimeExceeded": "Training job stopped: MaxRuntimeInSeconds exceeded",
        }
        self.store.update(
            self.name,
            status=status,
            secondary_status=secondary,
            document_patch=patch,
            expect_status=ACTIVE,
            events=[{"Status": secondary, "StatusMessage": message.get(secondary, reason or "")}],
        )
        self._pending = {}
        ring(self.paths.doorbell)
