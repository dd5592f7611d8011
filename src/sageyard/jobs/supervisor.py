"""The supervisor of one training job: Starting → Downloading → Training → Uploading → end.

One supervisor process watches each job, detached from the caller (see ``launch.py``). It
writes every status change, metric and heartbeat to the job store, so any process can
follow the job, and a reader can tell when the supervisor itself has died.

Run one by hand with ``python -m sageyard.jobs.supervisor JOB_NAME``.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import threading
import time

from sageyard.core.exceptions import StorageError
from sageyard.core.settings import Settings
from sageyard.executors import Executor
from sageyard.executors.container import ContainerExecutor
from sageyard.executors.local import LocalExecutor, container_root_available, isolation_available
from sageyard.jobs.artifacts import model_artifacts_uri, upload_outputs
from sageyard.jobs.capacity import Reservation, SlotPool, gpus_for_instance_type, machine_gpus
from sageyard.jobs.hosts import (
    Placement,
    host_launch,
    job_python,
    needs_container_root,
    prepare_hosts,
)
from sageyard.jobs.liveness import owner_token
from sageyard.jobs.requirements import RequirementsError
from sageyard.jobs.spec import TrainingJobSpec
from sageyard.jobs.states import TERMINAL, JobPaths, StatusWriter
from sageyard.jobs.watch import Outcome, Watch
from sageyard.storage import ObjectStore, object_store_for
from sageyard.store import JobStore, open_store

logger = logging.getLogger(__name__)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Supervisor:
    """Runs one job to its end. Construct cheaply; :meth:`run` does the work."""

    def __init__(self, settings: Settings, job_name: str) -> None:
        self.settings = settings
        self.name = job_name
        self.paths = JobPaths(settings.jobs_dir / job_name)

    def run(self) -> None:
        store = open_store(self.settings.store_url)
        record = store.get(self.name)
        if record is None or record.status in TERMINAL:
            return
        spec = TrainingJobSpec.model_validate(record.document["spec"])
        status = StatusWriter(store, self.name, self.paths)
        status.claim(owner_token())
        heartbeat = _Heartbeat(store, self.name, self.settings.heartbeat_seconds)
        heartbeat.start()
        reservation: Reservation | None = None
        try:
            reservation, outcome = self._run(store, status, spec)
        except Exception as error:  # the platform failed: never leave the job InProgress
            logger.exception("supervisor of %s failed", self.name)
            outcome = Outcome("Failed", "Failed", f"InternalServerError: {error}")
        finally:
            heartbeat.stop()
        if outcome.status == "Completed" and spec.model_package_registration is not None:
            self._register_model(store, spec)
        status.finish(outcome.status, outcome.secondary, outcome.failure_reason)
        if reservation is not None:
            reservation.release()

    def _register_model(self, store: JobStore, spec: TrainingJobSpec) -> None:
        """Register the model as a new model package version (fine-tuning jobs ask for it).

        A failed registration leaves the job Completed, with a warning saying why.
        """
        from sageyard.models.registry import register_job_output

        assert spec.model_package_registration is not None
        try:
            package = register_job_output(
                self.settings, self.name, spec.model_package_registration, model_artifacts_uri(spec)
            )
        except Exception as error:
            logger.exception("registering the model of %s failed", self.name)
            record = store.get(self.name)
            assert record is not None
            notes = [*record.document.get("notes", []), f"Model not registered: {error}"]
            store.update(self.name, document_patch={"notes": notes})
            return
        store.update(
            self.name, document_patch={"output_model_package_arn": package.model_package_arn}
        )

    def _run(
        self, store: JobStore, status: StatusWriter, spec: TrainingJobSpec
    ) -> tuple[Reservation | None, Outcome]:
        """Wait for capacity, then run attempts until one succeeds or may not be retried."""
        pool = SlotPool(self.settings.home / "slots", self.settings.slots, machine_gpus())
        pending = spec.stopping_condition.max_pending_time_in_seconds
        reservation = pool.acquire(
            spec.host_count,
            self._gpus_wanted(spec, status),
            deadline=None if pending is None else time.time() + pending,
            should_stop=status.stop_requested_throttled,
            on_wait=lambda: status.transition(
                "Pending",
                f"Waiting for capacity: {spec.host_count} host(s) need a slot and all "
                f"{self.settings.slots} slots of this machine are busy.",
            ),
        )
        if reservation is None:
            if status.stop_requested():
                return None, Outcome("Stopped", "Stopped")
            return None, Outcome(
                "Failed",
                "Failed",
                f"CapacityError: no capacity within MaxPendingTimeInSeconds ({pending} s); "
                f"{self.settings.slots} slots are configured (SAGEYARD_SLOTS).",
            )
        objects = object_store_for(self.settings)
        placement = self._placement(spec, status)
        attempts = 1 + spec.maximum_retry_attempts
        started: float | None = None
        outcome = Outcome("Failed", "Failed", "InternalServerError: the job did not run.")
        for attempt in range(attempts):
            if attempt:
                status.transition("Restarting", f"Retrying after: {outcome.failure_reason}")
            outcome, started = self._attempt(
                store, objects, status, spec, reservation, placement, started
            )
            if not outcome.retryable or attempt == attempts - 1:
                break
        return reservation, outcome

    def _attempt(
        self,
        store: JobStore,
        objects: ObjectStore,
        status: StatusWriter,
        spec: TrainingJobSpec,
        reservation: Reservation,
        placement: Placement,
        started: float | None,
    ) -> tuple[Outcome, float | None]:
        status.transition("Downloading", "Downloading input data")
        try:
            hosts = prepare_hosts(self.paths, objects, spec, reservation, placement)
            python = job_python(self.settings.home / "envs", spec, hosts[0], placement)
        except (FileNotFoundError, RequirementsError, ValueError) as error:
            return Outcome("Failed", "Failed", f"ClientError: {error}"), started
        except (StorageError, OSError) as error:
            return Outcome("Failed", "Failed", f"InternalServerError: {error}", True), started
        if status.stop_requested():
            return Outcome("Stopped", "Stopped"), started
        status.transition("Training", "Training image download completed. Training in progress.")
        started = started or time.time()
        status.training_started(started)
        port, fds = _free_port(), tuple(reservation.fds)
        launches = [
            (host, host_launch(self.name, spec, host, hosts, python, placement, port, fds))
            for host in hosts
        ]
        watch = Watch(self.name, store, status, spec, started, self.settings.stop_grace_seconds)
        executor = self._executor(spec, placement)
        try:
            outcome = watch.run(executor, launches)
        finally:
            if isinstance(executor, ContainerExecutor):
                executor.close()
        status.transition("Uploading", "Uploading generated training model")
        upload_outputs(objects, spec, [host.root for host in hosts])
        status.training_ended(time.time())
        return outcome, started

    def _placement(self, spec: TrainingJobSpec, status: StatusWriter) -> Placement:
        if spec.executor == "container":
            return Placement(isolate=True, alias=True, image=spec.training_image)
        isolate = self.settings.isolation == "auto" and isolation_available()
        placement = Placement(isolate=isolate, alias=isolate and container_root_available())
        if not placement.alias and needs_container_root(spec):
            status.note(
                "No private mount namespace here (not root, or SAGEYARD_ISOLATION=off): "
                "/opt/ml is not this job's folder, so use the SM_* variables (SM_MODEL_DIR, "
                "...) rather than hard-coded /opt/ml paths; checkpoints go to "
                "<job root>/checkpoints."
            )
        return placement

    def _executor(self, spec: TrainingJobSpec, placement: Placement) -> Executor:
        if placement.image is not None:
            return ContainerExecutor(placement.image, self.name, spec.host_count)
        return LocalExecutor(isolate=placement.isolate)

    def _gpus_wanted(self, spec: TrainingJobSpec, status: StatusWriter) -> int:
        wanted = sum(gpus_for_instance_type(group.instance_type) for _, group in spec.hosts)
        have = len(machine_gpus())
        if wanted and have < wanted:
            instance_type = spec.hosts[0][1].instance_type
            per_host = gpus_for_instance_type(instance_type)
            hosts = (
                f" per host, {wanted} for {spec.host_count} hosts" if spec.host_count > 1 else ""
            )
            status.note(
                f"{instance_type} has {per_host} GPU(s){hosts}, but this machine has {have}: "
                f"running on {'the CPU' if not have else f'{have} GPU(s)'}. "
                "Set SAGEYARD_STRICT_GPU=1 to refuse such jobs instead."
            )
        return min(wanted, have)


class _Heartbeat(threading.Thread):
    """Proves the supervisor is alive, every ``interval`` seconds, from a thread of its own."""

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


_LEVEL = re.compile(r"^(DEBUG|INFO|WARNING|ERROR)$")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sageyard.jobs.supervisor JOB_NAME", file=sys.stderr)
        return 2
    level = os.environ.get("SAGEYARD_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(level=level if _LEVEL.match(level) else "WARNING")
    Supervisor(Settings.from_env(), args[0]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
