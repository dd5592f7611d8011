"""Load: real jobs submitted with ``train(wait=False)`` while reader threads poll the store.

A fresh process submits the jobs with ``ModelTrainer(...).train(wait=False)`` while four
reader threads here loop over ``TrainingJob.get``, ``TrainingJob.get_all``, ``describe()``
and ``logs()`` for the jobs submitted so far (a fifth finds their names in the store), the
whole time the jobs are created, queued for the machine's slots, run and finalized. At the
end nothing is lost: every job is Completed with its own model in its own model.tar.gz and
its own log lines, the store holds exactly the jobs submitted, and no reader saw an error.

The submitter is a process of its own so that how it starts supervisors is known: alone in
its process it forks each one (100 jobs in ~15 s on 2 cores); with another thread, as in a
notebook, it starts each as a fresh interpreter, which is slower (30 jobs by default, 100
with ``-m slow``, ~60 s) and once lost jobs whose supervisors took longer to start than
the heartbeat allowed (``jobs/liveness.py``: ``LAUNCH_GRACE_SECONDS``).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.resources import TrainingJob
from sageyard.core.settings import Settings
from sageyard.jobs.liveness import LAUNCH_GRACE_SECONDS, stale_after
from sageyard.jobs.service import TrainingJobService
from sageyard.jobs.spec import HostGroupSpec, TrainingJobSpec
from sageyard.store import JobRecord
from sageyard.train import ModelTrainer
from sageyard.train.configs import SourceCode, StoppingCondition
from tests.integration.conftest import tar_members

BASE = "load"
KINDS = ("get", "get_all", "describe", "logs")
SCRIPT = """
    import os
    name = os.environ["TRAINING_JOB_NAME"]
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
        f.write(name)
    print("trained", name)
"""


def submit(code: str, count: int, threaded: bool, results: Any) -> None:
    """(Run in a spawned process, with the test's environment.) Submit ``count`` jobs
    without waiting; put their names. ``threaded``: with an idle thread running, as a
    notebook's kernel has."""
    if threaded:
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    trainer = ModelTrainer(
        training_image="python:3.11",
        base_job_name=BASE,
        source_code=SourceCode(source_dir=code, entry_script="train.py"),
    )
    names = []
    for _ in range(count):
        trainer.train(wait=False, logs=False)
        job = trainer._latest_training_job
        assert job is not None
        names.append(job.training_job_name)
    results.put(names)


class Readers:
    """Threads that read the jobs found so far, each with one kind of read, until stopped."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.reads: Counter[str] = Counter()
        reads: dict[str, Callable[[list[str]], None]] = {
            "get": self._get,
            "get_all": self._get_all,
            "describe": self._describe,
            "logs": self._logs,
        }
        self.threads = [
            threading.Thread(target=self._loop, args=(kind, read), name=f"reader-{kind}")
            for kind, read in reads.items()
        ]
        self.threads.append(threading.Thread(target=self._find_names, name="reader-names"))

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _find_names(self) -> None:
        service = TrainingJobService(Settings.from_env())
        while not self.stop.is_set():
            known = set(self.names)
            found = sorted(r.name for r in service.list_jobs(name_contains=BASE))
            self.names.extend(name for name in found if name not in known)
            time.sleep(0.05)

    def _loop(self, kind: str, read: Callable[[list[str]], None]) -> None:
        while not self.stop.is_set():
            names = list(self.names)
            if not names:
                time.sleep(0.01)
                continue
            try:
                read(names)
            except Exception as error:
                self.errors.append(f"{kind}: {type(error).__name__}: {error}")
                return
            self.reads[kind] += 1
            time.sleep(0.02)  # a polling client, not a busy loop

    @staticmethod
    def _get(names: list[str]) -> None:
        for name in names[-5:]:
            job = TrainingJob.get(name)
            assert job.training_job_name == name
            assert job.training_job_status in ("InProgress", "Completed"), job.failure_reason

    @staticmethod
    def _get_all(names: list[str]) -> None:
        listed = {job.training_job_name for job in TrainingJob.get_all(name_contains=BASE)}
        missing = set(names) - listed  # (the list may hold newer ones already)
        assert not missing, f"get_all lost {sorted(missing)}"

    @staticmethod
    def _describe(names: list[str]) -> None:
        for name in names[-5:]:
            description = TrainingJob.get(name).describe()
            assert description["TrainingJobName"] == name

    @staticmethod
    def _logs(names: list[str]) -> None:
        for name in names[-3:]:
            lines = TrainingJob.get(name).logs()
            assert all(isinstance(line, str) for line in lines)


def assert_nothing_lost(names: list[str], count: int, tmp_path: Path) -> None:
    assert len(set(names)) == count
    records = TrainingJobService(Settings.from_env()).list_jobs()
    assert sorted(r.name for r in records) == sorted(names)
    statuses = {r.name: (r.status, r.document.get("failure_reason")) for r in records}
    assert Counter(status for status, _ in statuses.values()) == {"Completed": count}, statuses
    listed = list(TrainingJob.get_all(name_contains=BASE))
    assert len(listed) == count
    assert all(job.training_job_status == "Completed" for job in listed)
    for name in names:
        job = TrainingJob.get(name)
        assert job.model_artifacts is not None, name
        members = tar_members(job.model_artifacts.s3_model_artifacts, tmp_path)
        assert members["model.txt"] == name.encode(), name
        assert f"trained {name}" in job.logs(), name


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("count", "threaded"),
    [
        (100, False),
        (30, True),
        pytest.param(100, True, marks=pytest.mark.slow),
    ],
    ids=["100 jobs", "30 jobs from a threaded caller", "100 jobs from a threaded caller"],
)
def test_jobs_submitted_without_waiting_under_concurrent_readers_lose_nothing(
    code_dir: Callable[[str], Path], tmp_path: Path, count: int, threaded: bool
) -> None:
    code = code_dir(SCRIPT)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    submitter = context.Process(target=submit, args=(str(code), count, threaded, results))
    started = time.monotonic()
    with Readers() as readers:
        submitter.start()
        names: list[str] = results.get(timeout=240)
        submitter.join(timeout=30)
        for name in names:
            TrainingJob.get(name).wait(timeout=120)
    elapsed = time.monotonic() - started

    assert submitter.exitcode == 0
    assert readers.errors == []
    assert set(readers.reads) == set(KINDS), readers.reads
    assert_nothing_lost(names, count, tmp_path)
    assert elapsed < 2 * count, f"{count} jobs took {elapsed:.0f} s"


@pytest.mark.parametrize("late", [False, True], ids=["starting", "never started"])
def test_a_job_whose_supervisor_is_still_starting_is_not_taken_for_dead(late: bool) -> None:
    """What the threaded caller's load showed, reduced: a job no supervisor has claimed yet
    (a hundred fresh interpreters starting at once on two cores) is given
    ``LAUNCH_GRACE_SECONDS`` more than a claimed one before it counts as interrupted."""
    service = TrainingJobService(Settings.from_env())
    spec = TrainingJobSpec(
        training_job_name="starting",
        role_arn="arn:aws:iam::000000000000:role/r",
        host_groups=[HostGroupSpec(name="g", instance_type="ml.m5.xlarge", count=1)],
        output_path="s3://bucket-a/out",
        stopping_condition=StoppingCondition(),
        entry_script="train.py",
    )
    silence = stale_after(service.settings.heartbeat_seconds) + 5
    silence += LAUNCH_GRACE_SECONDS if late else 0
    created = time.time() - silence
    service.store.create(
        JobRecord(
            name="starting",
            kind="TrainingJob",
            status="InProgress",
            secondary_status="Starting",
            parent=None,
            created_at=created,
            updated_at=created,
            heartbeat_at=created,
            owner=None,
            document={"spec": spec.model_dump(mode="json")},
        )
    )
    job = TrainingJob.get("starting")
    if late:
        assert job.training_job_status == "Failed"
        assert "no heartbeat" in (job.failure_reason or "")
    else:
        assert job.training_job_status == "InProgress"
