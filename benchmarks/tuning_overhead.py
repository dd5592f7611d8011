"""Tuning overhead: a sageyard tuning job against Optuna driving the same script directly.

    python benchmarks/tuning_overhead.py [--trials 100] [--seed 0] [--repeats 3]

The trial is ``benchmarks/functions/quadratic.py``, a script that only prints its
objective (a 2-parameter quadratic). Both sides run ``--trials`` trials, two at a time,
with a seeded random search over the same two ranges (x, y in [-5, 5]):

- sageyard: ``HyperparameterTuner(strategy="Random", random_seed=seed,
  max_parallel_jobs=2).tune()`` (each trial a training job: job row, code snapshot,
  supervisor, staging, the script, model/output packaging and upload, metrics from the
  log); timed from ``tune()`` to its return.
- Optuna: an ask/tell loop with ``RandomSampler(seed=seed)`` and a
  ``ThreadPoolExecutor(2)`` that runs ``python quadratic.py --x .. --y ..`` through
  ``subprocess`` and parses ``objective: ...`` from its stdout.

Both are measured in this one run, interleaved ``--repeats`` times (medians are shown), in
a fresh SAGEYARD_HOME, after one small warm-up each (the store and buckets are created
then, and Optuna is imported). Both ask the same
sampler with the same seed for the same distributions, so they try the same points; the
script checks that they found the same best value.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parent / "functions"
SCRIPT = FUNCTIONS / "quadratic.py"
OBJECTIVE = re.compile(r"objective: ([-+0-9.eE]+)")
PARALLEL = 2


def run_optuna(trials: int, seed: int) -> tuple[float, float, list[float]]:
    """Optuna ask/tell, two subprocess trials at a time.

    Returns: wall seconds, the best value, and each subprocess's duration in seconds.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {
        "x": optuna.distributions.FloatDistribution(-5.0, 5.0),
        "y": optuna.distributions.FloatDistribution(-5.0, 5.0),
    }
    lock = threading.Lock()
    durations: list[float] = []

    def evaluate(params: dict[str, float]) -> float:
        argv = [sys.executable, str(SCRIPT)]
        for name, value in params.items():
            argv += [f"--{name}", repr(value)]
        started = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, text=True, check=True)
        durations.append(time.perf_counter() - started)
        match = OBJECTIVE.search(result.stdout)
        assert match, result.stdout
        return float(match.group(1))

    started = time.perf_counter()
    study = optuna.create_study(
        direction="minimize", sampler=optuna.samplers.RandomSampler(seed=seed)
    )
    running: dict[Future[float], optuna.trial.Trial] = {}
    asked = 0
    with ThreadPoolExecutor(PARALLEL) as pool:
        while asked < trials or running:
            while asked < trials and len(running) < PARALLEL:
                with lock:
                    trial = study.ask(distributions)
                running[pool.submit(evaluate, trial.params)] = trial
                asked += 1
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                with lock:
                    study.tell(running.pop(future), future.result())
    return time.perf_counter() - started, study.best_value, durations


def run_sageyard(trials: int, seed: int) -> tuple[float, float, dict[str, float]]:
    """A Random tuning job, two trials at a time.

    Returns: wall seconds, the best value, and where the time went (seconds): from
    ``tune()`` to the first trial's creation, the medians of a trial's creation to its
    training start and of its training start to end, and from the last trial's end to
    ``tune()`` returning.
    """
    from sageyard.core.parameter import ContinuousParameter
    from sageyard.train import ModelTrainer
    from sageyard.train.configs import SourceCode
    from sageyard.train.tuner import HyperparameterTuner

    trainer = ModelTrainer(
        training_image="python:3.11",
        base_job_name="overhead",
        source_code=SourceCode(source_dir=str(FUNCTIONS), entry_script=SCRIPT.name),
    )
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name="objective",
        metric_definitions=[{"Name": "objective", "Regex": OBJECTIVE.pattern}],
        hyperparameter_ranges={
            "x": ContinuousParameter(-5.0, 5.0, "Linear"),
            "y": ContinuousParameter(-5.0, 5.0, "Linear"),
        },
        strategy="Random",
        objective_type="Minimize",
        max_jobs=trials,
        max_parallel_jobs=PARALLEL,
        random_seed=seed,
    )
    started, wall = time.perf_counter(), time.time()
    tuner.tune(wait=True)
    elapsed, ended = time.perf_counter() - started, time.time()
    description = tuner.describe()
    counts = description["TrainingJobStatusCounters"]
    assert counts["Completed"] == trials, counts
    best = description["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    summaries = tuner.analytics().training_job_summaries()
    created = [s["CreationTime"].timestamp() for s in summaries]
    start = [s["TrainingStartTime"].timestamp() for s in summaries]
    end = [s["TrainingEndTime"].timestamp() for s in summaries]
    phases = {
        "start": min(created) - wall,
        "staging": statistics.median(b - a for a, b in zip(created, start, strict=True)),
        "training": statistics.median(b - a for a, b in zip(start, end, strict=True)),
        "tail": ended - max(end),
    }
    return elapsed, float(best), phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sageyard-bench-"))
    os.environ["SAGEYARD_HOME"] = str(work / "home")

    run_optuna(PARALLEL, args.seed)  # warm-up: imports Optuna
    run_sageyard(PARALLEL, args.seed)  # warm-up: creates the store, buckets and slot files
    optuna_runs, sageyard_runs, all_durations, all_phases = [], [], [], []
    for _ in range(args.repeats):  # interleaved, so both sides see the same machine
        optuna_s, optuna_best, durations = run_optuna(args.trials, args.seed)
        sageyard_s, sageyard_best, phases = run_sageyard(args.trials, args.seed)
        optuna_runs.append(optuna_s)
        sageyard_runs.append(sageyard_s)
        all_durations += durations
        all_phases.append(phases)
    optuna_s, sageyard_s = statistics.median(optuna_runs), statistics.median(sageyard_runs)
    durations = all_durations
    phases = {key: statistics.median(p[key] for p in all_phases) for key in all_phases[0]}
    ratios = ", ".join(f"{s / o:.2f}x" for o, s in zip(optuna_runs, sageyard_runs, strict=True))

    per = 1000 / args.trials
    print(
        f"trials: {args.trials}, 2 at a time, Random search with seed {args.seed}; "
        f"median of {args.repeats} interleaved runs"
    )
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"Optuna + subprocess:   {optuna_s:7.2f} s  ({optuna_s * per:6.1f} ms/trial)")
    print(f"sageyard tuning job:   {sageyard_s:7.2f} s  ({sageyard_s * per:6.1f} ms/trial)")
    print(f"overhead per trial:    {(sageyard_s - optuna_s) * per:7.1f} ms")
    print(f"ratio sageyard/Optuna: {sageyard_s / optuna_s:6.2f}x  (aim: within 1.5x)")
    print(f"  (each run: {ratios})")
    print("where sageyard's time went (medians):")
    print(f"  tune() to the first trial created:     {phases['start'] * 1000:6.1f} ms")
    print(f"  trial created to its script started:  {phases['staging'] * 1000:6.1f} ms (median)")
    print(f"  script started to training ended:     {phases['training'] * 1000:6.1f} ms (median)")
    print(f"  last training ended to tune() return: {phases['tail'] * 1000:6.1f} ms")
    median_run = statistics.median(durations) * 1000
    print(f"  (Optuna's subprocess.run of the script: {median_run:.1f} ms median)")
    same = abs(optuna_best - sageyard_best) <= 1e-6 * max(1.0, abs(optuna_best))
    print(
        f"best objective: Optuna {optuna_best:.6g}, sageyard {sageyard_best:.6g}"
        f" ({'the same points were tried' if same else 'DIFFERENT: the searches diverged'})"
    )


if __name__ == "__main__":
    main()
