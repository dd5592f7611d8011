"""Distributed overhead: a DDP script as a 2-host sageyard job against bare torchrun.

    python benchmarks/distributed_overhead.py [--steps 300] [--repeats 3]

The script (``functions/ddp_mlp.py``) trains a small MLP data-parallel over two processes
with gloo for ``--steps`` steps and prints, from rank 0, how long its training loop took
(after the process group is up, until the last step). It runs:

- bare: ``python -m torch.distributed.run --nnodes 1 --nproc-per-node 2 ddp_mlp.py``;
- sageyard: ``ModelTrainer(distributed=Torchrun(process_count_per_node=1),
  compute=Compute(instance_count=2))``: torchrun on each of two hosts (sandboxes), one
  process each, the rendezvous at algo-1; ``train(wait=True)`` timed whole.

Both are interleaved ``--repeats`` times in one run, in a fresh SAGEYARD_HOME; medians are
shown. The aim compares the training phases (the loop's own time, steps/s): within 1.05x.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parent / "functions"
SCRIPT = FUNCTIONS / "ddp_mlp.py"
TRAINED = re.compile(r"TRAINED steps=(\d+) seconds=([0-9.]+)")


def run_bare(steps: int) -> tuple[float, float]:
    """Wall seconds and training-loop seconds of bare torchrun on this machine."""
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nnodes=1",
            "--nproc-per-node=2",
            "--master-addr=127.0.0.1",
            "--master-port=29517",
            str(SCRIPT),
            "--steps",
            str(steps),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    wall = time.perf_counter() - started
    return wall, _trained(done.stdout.splitlines())


def run_sageyard(steps: int) -> tuple[float, float]:
    """Wall seconds of ``train()`` and training-loop seconds of the 2-host job."""
    from sageyard.train import ModelTrainer
    from sageyard.train.configs import Compute, SourceCode
    from sageyard.train.distributed import Torchrun

    trainer = ModelTrainer(
        training_image="pytorch-training:2.5-cpu-py311",
        base_job_name="ddp",
        source_code=SourceCode(source_dir=str(FUNCTIONS), entry_script=SCRIPT.name),
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        distributed=Torchrun(process_count_per_node=1),
        hyperparameters={"steps": steps},
    )
    started = time.perf_counter()
    trainer.train(logs=False)
    wall = time.perf_counter() - started
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed", job
    return wall, _trained(job.logs())


def _trained(lines: list[str]) -> float:
    for line in lines:
        found = TRAINED.search(line)
        if found:
            return float(found.group(2))
    raise RuntimeError("the script printed no TRAINED line:\n" + "\n".join(lines[-20:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sageyard-bench-"))
    os.environ["SAGEYARD_HOME"] = str(work / "home")
    run_bare(5)  # warm-up: imports, page cache
    run_sageyard(5)
    bare, job = [], []
    for _ in range(args.repeats):
        bare.append(run_bare(args.steps))
        job.append(run_sageyard(args.steps))

    def median(runs: list[tuple[float, float]], index: int) -> float:
        return statistics.median(run[index] for run in runs)

    bare_wall, bare_train = median(bare, 0), median(bare, 1)
    job_wall, job_train = median(job, 0), median(job, 1)
    print(f"DDP MLP, {args.steps} steps, 2 processes (gloo); median of {args.repeats} runs")
    print(f"{'':34s}{'wall':>9s}{'training':>11s}{'steps/s':>10s}")
    print(
        f"{'bare torchrun (1 node x 2)':34s}{bare_wall:8.2f}s{bare_train:10.2f}s"
        f"{args.steps / bare_train:10.1f}"
    )
    print(
        f"{'sageyard job (2 hosts x 1)':34s}{job_wall:8.2f}s{job_train:10.2f}s"
        f"{args.steps / job_train:10.1f}"
    )
    print(
        f"training phase: {job_train / bare_train:.3f}x of bare torchrun (aim: within 1.05x); "
        f"whole run: {job_wall / bare_wall:.2f}x"
    )


if __name__ == "__main__":
    main()
