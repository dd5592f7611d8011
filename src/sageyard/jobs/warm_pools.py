"""Warm pools (``ResourceConfig.KeepAlivePeriodInSeconds``): a finished job's hosts kept
ready for the next job that matches it.

SageMaker keeps the instances of a job that asks for a keep-alive period after it ends; a
job created within the period with a matching configuration runs on them and starts
faster. Here the supervisor of such a job stays alive once the job has ended, as the pool's
*keeper* (``supervisor.py``): it holds the job's capacity (its slots, as the retained
instances count against SageMaker's quota) and its executor, warm (``executors/local.py``
keeps a warmed interpreter per host ready, in a fresh sandbox). The pool is a row of the job
store (kind ``WarmPool``): ``Available`` while it waits, ``InUse`` while a job runs on it,
``Terminated`` at the end of the period, or as soon as another job has to wait for
capacity (:func:`evict_idle`: an idle pool never keeps a job waiting on this machine).

A job created with a keep-alive period first tries to claim an ``Available`` pool with its
key (:func:`pool_key`: role, instance groups, volume, image, VPC, network isolation and
executor, SageMaker's matching rules): an atomic compare-and-set of the pool's status
(``InUse``, naming the job), then the job's name written to the keeper's FIFO, which wakes
it. If no keeper reads the FIFO (it died), the pool is ``Terminated`` and the next one is
tried; with none, the job gets a supervisor of its own, as any job. A pool whose keeper runs
on another machine (a Ray cluster's head node, seen from a laptop) is left to the jobs
created there, such as a tuning job's trials.

Each job says where its pool stands in describe's ``WarmPoolStatus``: ``InUse`` while it
runs, ``Available`` once it ended and its pool waits, ``Reused`` (with ``ReusedByJob``) when
a later job took the pool, ``Terminated`` when the period ran out; the last two with
``ResourceRetainedBillableTimeInSeconds``, the seconds the pool waited after the job.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import select
import time
from pathlib import Path
from typing import Any

from sageyard.core.settings import Settings
from sageyard.jobs.liveness import owner_alive, owner_token
from sageyard.jobs.spec import TrainingJobSpec
from sageyard.store import JobRecord, JobStore

KIND = "WarmPool"
KEEP_ALIVE_LINE = "!keep-alive "  # what update_keep_alive writes to a keeper's FIFO


def pool_key(spec: TrainingJobSpec, settings: Settings) -> str:
    """What a job must share with a warm pool's job to reuse it, as a short hash: SageMaker's
    matching rules, and the same ``SAGEYARD_*`` settings (the pool's keeper runs with its
    first job's).

    Example:
        >>> from sageyard.jobs.spec import HostGroupSpec
        >>> spec = TrainingJobSpec(training_job_name="a", role_arn="r", output_path="s3://b/o",
        ...     host_groups=[HostGroupSpec(name="g", instance_type="ml.m5.large", count=1)],
        ...     stopping_condition={"MaxRuntimeInSeconds": 60})
        >>> settings = Settings(home=Path("/h"), store_url="sqlite://")
        >>> other = spec.model_copy(update={"training_job_name": "b"})
        >>> pool_key(spec, settings) == pool_key(other, settings)
        True
    """
    resources = spec.request.get("ResourceConfig") or {}
    matching = {
        "role": spec.role_arn,
        "groups": [(g.instance_type, g.count) for g in spec.host_groups],
        "volume": spec.volume_size_in_gb,
        "kms": resources.get("VolumeKmsKeyId"),
        "image": spec.training_image or spec.algorithm_name,
        "vpc": spec.request.get("VpcConfig"),
        "isolation": spec.network_isolation,
        "executor": spec.executor,
        "settings": sorted(settings.to_env().items()),
    }
    text = json.dumps(matching, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def warm_status(store: JobStore, record: JobRecord) -> dict[str, Any] | None:
    """A job's WarmPoolStatus as describe shows it (``None``: it asked for no warm pool).

    An ``Available`` pool whose keeper died (killed, or the machine rebooted) is ended here,
    so that describe never offers a pool nobody keeps."""
    status = record.document.get("warm_pool")
    if not status:
        return None
    if status.get("Status") == "Available" and _keeper_gone(store, record.name):
        status = {**status, "Status": "Terminated"}
        _set_job_status(store, record.name, Status="Terminated")
    return {k: v for k, v in status.items() if k[0].isupper()}


def _keeper_gone(store: JobStore, job: str) -> bool:
    """Whether the ``Available`` pool ``job`` left has lost its keeper (a process of this
    machine that is no longer alive); that pool is ended then. A pool claimed meanwhile is
    left to its keeper, which says the job's pool was Reused."""
    for pool in store.list(KIND, status="Available"):
        if pool.document.get("job") == job:
            if pool.owner is not None and owner_alive(pool.owner) is False:
                ended = store.update(pool.name, status="Terminated", expect_status={"Available"})
                return ended is not None
            return False
    return False


def _set_job_status(store: JobStore, job: str, **fields: Any) -> None:
    record = store.get(job)
    if record is not None:
        store.update(
            job, document_patch={"warm_pool": {**record.document.get("warm_pool", {}), **fields}}
        )


class WarmPool:
    """The keeper's side of one pool: offer it, wait for a job, end it."""

    def __init__(self, store: JobStore, settings: Settings, key: str, first_job: str) -> None:
        self.store, self.key = store, key
        self.name = f"warm-pool-{key}-{first_job}"[:120]
        self.fifo = settings.home / "pools" / f"{self.name}.fifo"
        self.job = first_job  # the job that ran on it last
        self.since = self.until = 0.0  # the period it is offered for (offer)
        self._row = False  # whether its row is in the store
        self._reader: int | None = None
        self._writer: int | None = None
        self._received = b""  # what the FIFO brought past its last whole line
        self._lines: list[str] = []  # whole lines not acted on yet

    def offer(self, job: str, keep_alive_seconds: int) -> None:
        """``job`` is ending: its pool waits ``keep_alive_seconds`` for the next matching job,
        from now (:attr:`since`). The keeper writes the job's own status (Available) with
        the job's end."""
        now = time.time()
        self.job, self.since, self.until = job, now, now + keep_alive_seconds
        if self._reader is None:
            self.fifo.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                self.fifo.unlink()
            os.mkfifo(self.fifo, 0o600)
            self._reader = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
            # a writer of its own: a claimer closing its end is never an end of file
            self._writer = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        document = {"key": self.key, "job": job, "fifo": str(self.fifo), "until": self.until}
        if not self._row:
            # made InUse (its first job's), so that no job can claim it before it is offered
            # below: the offer's write would undo that claim, and the job would be lost
            record = JobRecord.registered(self.name, KIND, None, document, "InUse")
            self.store.create(record)
            self._row = True
        self.store.update(
            self.name, status="Available", owner=owner_token(), document_patch=document
        )

    def wait(self) -> str | None:
        """The next job claimed for this pool, or ``None`` once the period ran out and the
        pool is ``Terminated``."""
        assert self._reader is not None
        while True:
            while self._lines:  # each line the FIFO brought, in order: no claim is dropped
                line = self._lines.pop(0).strip()
                if line.startswith(KEEP_ALIVE_LINE):  # update_keep_alive: a new period
                    self.until = self.since + int(line.removeprefix(KEEP_ALIVE_LINE))
                    self.store.update(self.name, document_patch={"until": self.until})
                    continue
                if line:
                    return line
                # an empty line: a waiting job evicted the pool (evict_idle)
                self._retained(self.job, "Terminated")
                self.close()
                return None
            timeout = max(0.0, self.until - time.time())
            readable, _, _ = select.select([self._reader], [], [], min(timeout, 1.0))
            if readable:
                self._received += os.read(self._reader, 4096)
                *complete, self._received = self._received.split(b"\n")
                self._lines += [line.decode() for line in complete]
                continue
            if time.time() < self.until:
                continue
            # the period is up: end the pool, unless a job claimed it in the meantime
            if self.store.update(self.name, status="Terminated", expect_status={"Available"}):
                self._retained(self.job, "Terminated")
                self.close()
                return None

    def _retained(
        self, job: str, status: str, reused_by: str | None = None, at: float | None = None
    ) -> None:
        """``job``'s pool ended (``status``) at ``at`` (now), after it waited since the job."""
        record = self.store.get(job)
        since = (record.document.get("warm_pool") or {}).get("since") if record else None
        retained = max(0, round((at or time.time()) - since)) if since else 0
        fields: dict[str, Any] = {
            "Status": status,
            "ResourceRetainedBillableTimeInSeconds": retained,
        }
        if reused_by:
            fields["ReusedByJob"] = reused_by
        _set_job_status(self.store, job, **fields)

    def reused(self, previous: str, job: str, at: float) -> None:
        """``previous`` says that ``job`` reused its pool, claimed at ``at``."""
        self._retained(previous, "Reused", reused_by=job, at=at)

    def terminate(self) -> None:
        """No job comes after the last one (its hosts failed, or jobs wait for the
        capacity); the keeper writes that job's own status (Terminated) with its end."""
        if self._row:  # offered before
            self.store.update(self.name, status="Terminated")
        self.close()

    def close(self) -> None:
        for fd in (self._reader, self._writer):
            if fd is not None:
                os.close(fd)
        self._reader = self._writer = None
        with contextlib.suppress(FileNotFoundError):
            self.fifo.unlink()


def claim(store: JobStore, settings: Settings, spec: TrainingJobSpec, job: str) -> bool:
    """Hand ``job`` to an ``Available`` pool that matches it; whether one took it."""
    key = pool_key(spec, settings)
    for pool in store.list(KIND, status="Available", name_contains=key):
        if pool.document.get("key") != key:
            continue
        alive = owner_alive(pool.owner) if pool.owner is not None else True
        if alive is None:  # its keeper is on another machine: its FIFO is not here
            continue
        if not alive:
            store.update(pool.name, status="Terminated", expect_status={"Available"})
            continue
        taken = store.update(
            pool.name,
            status="InUse",
            document_patch={"job": job, "previous": pool.document.get("job")},
            expect_status={"Available"},
        )
        if taken is None:  # another job, or the period's end, got there first
            continue
        if _wake(Path(pool.document["fifo"]), job):
            return True
        store.update(pool.name, status="Terminated")  # its keeper is gone
    return False


def evict_idle(store: JobStore) -> int:
    """End every ``Available`` pool, so that their capacity goes to a job that waits for it
    (an idle pool never keeps another job waiting); how many were ended."""
    evicted = 0
    for pool in store.list(KIND, status="Available"):
        if store.update(pool.name, status="Terminated", expect_status={"Available"}):
            _wake(Path(pool.document["fifo"]), "")
            evicted += 1
    return evicted


def update_keep_alive(store: JobStore, job: str, seconds: int) -> bool:
    """UpdateTrainingJob's ``KeepAlivePeriodInSeconds``: the pool ``job`` left waits
    ``seconds`` from the job's end (0 ends it now); whether ``job`` has an Available pool."""
    for pool in store.list(KIND, status="Available"):
        if pool.document.get("job") != job:
            continue
        fifo = Path(pool.document["fifo"])
        if seconds == 0:
            if store.update(pool.name, status="Terminated", expect_status={"Available"}):
                return _wake(fifo, "")
            return False
        return _wake(fifo, f"{KEEP_ALIVE_LINE}{seconds}")
    return False


def jobs_waiting(store: JobStore) -> bool:
    """Whether a training job waits for capacity (``Pending``): a pool is not kept then."""
    return any(
        record.secondary_status == "Pending"
        for record in store.list("TrainingJob", status="InProgress")
    )


def _wake(fifo: Path, job: str) -> bool:
    """Write ``job`` to a keeper's FIFO; ``False`` when no keeper reads it."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as error:
        if error.errno in (errno.ENXIO, errno.ENOENT):
            return False
        raise
    try:
        os.write(fd, f"{job}\n".encode())
    finally:
        os.close(fd)
    return True
