"""Built-in XGBoost: a job on a 100k-row CSV against ``xgboost.train`` in a plain script.

    python benchmarks/builtin_xgboost.py [--rows 100000] [--rounds 50] [--runs 3]

Data: ``make_classification`` (20 features, seed 0) written as the container's CSV (label
in column 0, no header). Both sides train ``binary:logistic`` with ``tree_method=hist``,
``max_depth=6``, ``eta=0.3``, ``seed=0`` for ``--rounds`` rounds, evaluate the train data
each round and save the model:

- the job: ``ModelTrainer(algorithm_name="xgboost").train(...)`` with the CSV as the
  ``train`` channel (``content_type="text/csv"``), whole, as a user waits for it;
- the script: ``python script.py`` (``subprocess``), which reads the CSV with
  ``numpy.loadtxt`` (what the program's fast path uses), builds a ``DMatrix`` and calls
  ``xgboost.train`` with ``verbose_eval=True``.

Both sides run interleaved ``--runs`` times in a fresh SAGEYARD_HOME after one warm-up
each; medians are shown. Both must end with the same final train logloss (same data, same
parameters, same model), which the script checks. The job's time is split by its
SecondaryStatusTransitions: the engine's start and staging, the program's process,
packaging/upload, and the caller seeing the end.

``--numpy`` imports numpy and scikit-learn in the calling process first (a notebook that
made its data would have): numpy's thread pool then makes the engine start the job's
supervisor as a fresh interpreter instead of forking it (``sageyard.jobs.launch``).
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
from typing import Any

PARAMS = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.3}
SCRIPT = """
import sys, time
started = time.perf_counter()
import numpy as np, xgboost as xgb
imported = time.perf_counter()
data = np.loadtxt(sys.argv[1], delimiter=",", dtype=np.float64, ndmin=2)
dtrain = xgb.DMatrix(data[:, 1:], label=data[:, 0])
read = time.perf_counter()
params = {params!r}
booster = xgb.train(params, dtrain, num_boost_round={rounds}, evals=[(dtrain, "train")],
                    verbose_eval=True)
booster.save_model(sys.argv[2])
done = time.perf_counter()
print(f"TIMES import={{imported - started:.3f}} read={{read - imported:.3f}} "
      f"train={{done - read:.3f}}")
"""


WRITE = """
import sys
import numpy as np
from sklearn.datasets import make_classification
features, labels = make_classification(n_samples=int(sys.argv[2]), n_features=20, random_state=0)
np.savetxt(sys.argv[1], np.column_stack([labels, features]), delimiter=",", fmt="%.8g")
"""


def write_data(folder: Path, rows: int) -> Path:
    """Written by a child process, so this one stays free of numpy's threads (see --numpy)."""
    folder.mkdir(parents=True)
    path = folder / "data.csv"
    subprocess.run([sys.executable, "-c", WRITE, str(path), str(rows)], check=True)
    return path


def phases(described: dict[str, Any], elapsed: float) -> dict[str, float]:
    """Where the job's wall time went: before the program (the engine's start and staging),
    the program's process, packaging/upload, and the rest (the caller seeing the end)."""
    spans = {
        t["Status"]: (t["EndTime"] - t["StartTime"]).total_seconds()
        for t in described["SecondaryStatusTransitions"]
        if t.get("EndTime")
    }
    split = {
        "start+staging": spans.get("Starting", 0.0) + spans.get("Downloading", 0.0),
        "program": spans.get("Training", 0.0),
        "upload": spans.get("Uploading", 0.0),
    }
    split["caller"] = elapsed - sum(split.values())
    return split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--numpy",
        action="store_true",
        help="import numpy and scikit-learn in this (the calling) process first, as a "
        "notebook that prepared its data would have",
    )
    args = parser.parse_args()
    if args.numpy:
        import sklearn.datasets  # noqa: F401
    work = Path(tempfile.mkdtemp(prefix="sageyard-bench-"))
    os.environ["SAGEYARD_HOME"] = str(work / "home")
    data = write_data(work / "train", args.rows)
    script = work / "script.py"
    script.write_text(SCRIPT.format(params={**PARAMS, "seed": 0}, rounds=args.rounds))
    print(f"data: {args.rows} rows x 20 features, {data.stat().st_size / 1e6:.1f} MB CSV")
    print(f"caller: {'numpy and scikit-learn imported' if args.numpy else 'no numpy'}")

    from sageyard.train import ModelTrainer
    from sageyard.train.configs import InputData

    trainer = ModelTrainer(
        algorithm_name="xgboost",
        base_job_name="bench-xgboost",
        hyperparameters={**PARAMS, "seed": 0, "num_round": args.rounds},
    )
    inputs = [
        InputData(channel_name="train", data_source=str(work / "train"), content_type="text/csv")
    ]

    def run_script() -> tuple[float, str]:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, str(script), str(data), str(work / "model.ubj")],
            check=True,
            capture_output=True,
            text=True,
        )
        return time.perf_counter() - started, result.stdout

    def run_job() -> tuple[float, list[str], float, dict[str, float]]:
        started = time.perf_counter()
        trainer.train(input_data_config=inputs, logs=False)
        elapsed = time.perf_counter() - started
        job = trainer._latest_training_job
        assert job is not None and job.training_job_status == "Completed", job
        metrics = {m.metric_name: m.value for m in job.final_metric_data_list}
        return elapsed, job.logs(), metrics["train:logloss"], phases(job.describe(), elapsed)

    run_script()  # warm-up: page cache, imports, the store and its buckets
    run_job()
    script_times, job_times, job_phases = [], [], []
    script_out, job_logs, job_logloss = "", [], 0.0
    for _ in range(args.runs):
        elapsed, script_out = run_script()
        script_times.append(elapsed)
        elapsed, job_logs, job_logloss, split = run_job()
        job_times.append(elapsed)
        job_phases.append(split)

    last = [line for line in script_out.splitlines() if line.startswith(f"[{args.rounds - 1}]")]
    script_logloss = float(last[0].rsplit(":", 1)[1])
    assert abs(script_logloss - job_logloss) <= 1e-5 * max(1.0, script_logloss), (
        f"the job's model differs: train-logloss {job_logloss} vs {script_logloss}"
    )
    s, j = statistics.median(script_times), statistics.median(job_times)
    timing = re.search(r"TIMES (.*)", script_out)
    notes = [
        line.split("] ", 1)[-1]
        for line in job_logs
        if "Read the data in" in line or "since the program started" in line
    ]
    print(
        f"runs: {args.runs} (median), {args.rounds} rounds, final train-logloss {job_logloss:.6f}"
    )
    print(f"xgboost.train script:   {s:6.2f} s   ({timing.group(1) if timing else ''})")
    print(f"built-in XGBoost job:   {j:6.2f} s")
    for note in notes:
        print(f"  program: {note}")
    split = {k: statistics.median(p[k] for p in job_phases) for k in job_phases[0]}
    print("  job phases:           " + ", ".join(f"{k} {v:.2f} s" for k, v in split.items()))
    print(f"difference:             {j - s:6.2f} s")
    print(f"ratio job/script:       {j / s:6.2f}x")


if __name__ == "__main__":
    main()
