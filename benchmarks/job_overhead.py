"""Job overhead: a training job whose script does nothing, against ``python`` running it.

    python benchmarks/job_overhead.py [--runs 15]

Both sides are measured in this one run, interleaved, in a fresh SAGEYARD_HOME; the figure
is the median. The job side is the whole ``ModelTrainer.train(wait=True)``: validation,
job row, code snapshot, supervisor, staging, the script, packaging and upload of
model.tar.gz/output.tar.gz, and the caller seeing the job end.
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
    from sageyard.train.configs import SourceCode

    trainer = ModelTrainer(
        training_image="python:3.11",
        base_job_name="noop",
        source_code=SourceCode(source_dir=str(code), entry_script="noop.py"),
    )
    trainer.train(logs=False)  # warm-up: creates the store, buckets and slot files

    direct, job = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, str(code / "noop.py")], check=True)
        direct.append(time.perf_counter() - started)
        started = time.perf_counter()
        trainer.train(logs=False)
        job.append(time.perf_counter() - started)
        assert trainer._latest_training_job.training_job_status == "Completed"

    d, j = statistics.median(direct), statistics.median(job)
    print(f"runs: {args.runs} (median)")
    print(f"python noop.py:      {d * 1000:7.1f} ms")
    print(f"training job:        {j * 1000:7.1f} ms")
    print(f"overhead:            {(j - d) * 1000:7.1f} ms")
    print(f"ratio job/python:    {j / d:7.2f}x")


if __name__ == "__main__":
    main()
