"""Job overhead: a training job whose script does nothing, against ``python`` running it.

    python benchmarks/job_overhead.py [--runs 15]

All sides are measured in this one run, interleaved, in a fresh SAGEYARD_HOME; the figure
is the median. The job side is the whole ``ModelTrainer.train(wait=True)``: validation,
job row, code snapshot, supervisor, staging, the script, packaging and upload of
model.tar.gz/output.tar.gz, and the caller seeing the job end.

The warm-pool row is the same job with ``Compute(keep_alive_period_in_seconds=60)``: each
run claims the pool the run before left (its supervisor, capacity and warmed interpreter,
``jobs/warm_pools.py``). Between runs the script waits, untimed, until the pool is
``Available`` again and its interpreter ready, as a user's next job after a pause would find it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sageyard-bench-"))
    os.environ["SAGEYARD_HOME"] = str(work / "home")
    code = work / "code"
    code.mkdir()
    (code / "noop.py").write_text("pass\n")

    from sageyard.train import ModelTrainer
    from sageyard.train.configs import Compute, SourceCode

    trainer = ModelTrainer(
        training_image="python:3.11",
        base_job_name="noop",
        source_code=SourceCode(source_dir=str(code), entry_script="noop.py"),
    )
    trainer.train(logs=False)  # warm-up: creates the store, buckets and slot files
    warm = ModelTrainer(
        training_image="python:3.11",
        base_job_name="noop-warm",
        source_code=SourceCode(source_dir=str(code), entry_script="noop.py"),
        compute=Compute(keep_alive_period_in_seconds=60),
    )
    warm.train(logs=False)  # the first job of the pool starts cold
    warm_runs = 0

    direct, job, warmed = [], [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, str(code / "noop.py")], check=True)
        direct.append(time.perf_counter() - started)
        started = time.perf_counter()
        trainer.train(logs=False)
        job.append(time.perf_counter() - started)
        assert trainer._latest_training_job.training_job_status == "Completed"
        _pool_ready(warm)
        started = time.perf_counter()
        warm.train(logs=False)
        warmed.append(time.perf_counter() - started)
        latest = warm._latest_training_job
        assert latest is not None and latest.training_job_status == "Completed"
        warm_runs += _ran_warm(latest.training_job_name)

    d, j, w = statistics.median(direct), statistics.median(job), statistics.median(warmed)
    print(f"runs: {args.runs} (median)")
    print(f"python noop.py:      {d * 1000:7.1f} ms")
    print(
        f"training job:        {j * 1000:7.1f} ms  (overhead {(j - d) * 1000:.1f} ms, {j / d:.2f}x)"
    )
    print(
        f"with a warm pool:    {w * 1000:7.1f} ms  (overhead {(w - d) * 1000:.1f} ms, {w / d:.2f}x;"
        f" {warm_runs} of {args.runs} ran in the pool)"
    )


def _pool_ready(trainer: object) -> None:
    """Wait (untimed) until the last job's pool is Available with its interpreter ready."""
    from sageyard.core.settings import Settings
    from sageyard.jobs.service import TrainingJobService

    service = TrainingJobService(Settings.from_env())
    name = trainer._latest_training_job.training_job_name  # type: ignore[attr-defined]
    deadline = time.time() + 30
    while time.time() < deadline:
        status = (service.describe(name).get("WarmPoolStatus") or {}).get("Status")
        if status == "Available":
            break
        time.sleep(0.01)
    time.sleep(0.3)  # the warmed interpreter starts after the pool is offered


def _ran_warm(name: str) -> int:
    """1 if job ``name`` ran on a pool (the job before it says Reused by it)."""
    from sageyard.core.settings import Settings
    from sageyard.jobs.service import TrainingJobService

    service = TrainingJobService(Settings.from_env())
    for record in service.store.list("TrainingJob", name_contains="noop-warm"):
        if (record.document.get("warm_pool") or {}).get("ReusedByJob") == name:
            return 1
    return 0


if __name__ == "__main__":
    main()
