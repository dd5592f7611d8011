"""Job statuses and the supervisor's writes to the job store (its folders: ``JobPaths``)."""

from __future__ import annotations

import time
from typing import Any

from sageyard.runtime.layout import JobPaths
from sageyard.store import JobStore, final_metrics

KIND = "TrainingJob"
ACTIVE = frozenset({"InProgress", "Stopping"})
TERMINAL = frozenset({"Completed", "Failed", "Stopped"})


class StatusWriter:
    """The supervisor's writes: status transitions, notes, timings, the final outcome."""

    def __init__(self, store: JobStore, name: str, paths: JobPaths) -> None:
        self.store, self.name, self.paths = store, name, paths
        self._next_stop_check = 0.0

    def transition(
        self, secondary: str, message: str, document_patch: dict[str, Any] | None = None
    ) -> None:
        """A new secondary status (an event), with ``document_patch`` in the same write."""
        stopping = ("Stopping", "MaxRuntimeExceeded", "MaxWaitTimeExceeded")
        status = "Stopping" if secondary in stopping else None
        self.store.append_events(self.name, [{"Status": secondary, "StatusMessage": message}])
        self.store.update(
            self.name,
            status=status,
            secondary_status=secondary,
            document_patch=document_patch,
            expect_status=ACTIVE,
        )

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
        """The end of an attempt's training; ``training_seconds`` and ``billable_seconds``: a
        managed spot job's so far (its training is not end - start, and spot costs less)."""
        patch: dict[str, float] = {"training_end_time": at}
        if training_seconds is not None:
            patch["training_seconds"] = training_seconds
        if billable_seconds is not None:
            patch["billable_seconds"] = billable_seconds
        self.store.update(self.name, document_patch=patch)

    def finish(self, status: str, secondary: str, reason: str | None) -> None:
        patch: dict[str, Any] = {
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
        self.store.append_events(
            self.name,
            [{"Status": secondary, "StatusMessage": message.get(secondary, reason or "")}],
        )
        self.store.update(
            self.name,
            status=status,
            secondary_status=secondary,
            document_patch=patch,
            expect_status=ACTIVE,
        )
