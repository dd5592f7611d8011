"""Tuning overhead: a sageyard tuning job against Optuna and Ray Tune driving the same script.

    python benchmarks/tuning_overhead.py [--trials 100] [--seed 0] [--repeats 3]

The trial is ``benchmarks/functions/quadratic.py``, a script that only prints its
objective (a 2-parameter quadratic). Every peer runs ``--trials`` trials, two at a time,
with a seeded random search over the same two ranges (x, y in [-5, 5]):

- Optuna: an ask/tell loop with ``RandomSampler(seed=seed)`` and a
  ``ThreadPoolExecutor(2)`` that runs ``python quadratic.py --x .. --y ..`` through
  ``subprocess`` and parses ``objective: ...`` from its stdout.
- Ray Tune (optional: skipped with a note when ``import ray`` fails), measured twice, with
  ``reuse_actors=True`` and ``reuse_actors=False``: ``Tuner(trial, TuneConfig(
  search_alg=OptunaSearch(<the same distributions>, sampler=RandomSampler(seed=seed)),
  num_samples=trials, max_concurrent_trials=2, reuse_actors=...)).fit()`` on a local
  ``ray.init(num_cpus=2)``. Each trial is a function trainable that runs the same
  ``subprocess`` as the Optuna side and ``tune.report``s the parsed objective. The search
  is Optuna's RandomSampler through Ray's OptunaSearch (not Ray's own random search), so
  it tries the same points as the other two. Timed from ``Tuner.fit()`` to its return;
  ``ray.init`` (the local cluster's start) happens once, before any timing, and is printed
  apart. The cluster stays up, idle, while the other peers run. Ray's defaults otherwise
  (per-trial result files and loggers under a storage path in the work folder); the
  dashboard is off and worker logs are not forwarded to this process.
- sageyard: ``HyperparameterTuner(strategy="Random", random_seed=seed,
  max_parallel_jobs=2).tune()`` (each trial a training job: job row, code snapshot,
  supervisor, staging, the script, model/output packaging and upload, metrics from the
  log); timed from ``tune()`` to its return. Measured twice: as is, and with warm pools
  (``Compute(keep_alive_period_in_seconds=60)`` on the trainer: the first two trials
  start cold, every later one runs on the pool a finished trial left, in its warmed
  interpreter; ``jobs/warm_pools.py``).

All are measured in this one run, interleaved ``--repeats`` times (medians are shown), in
a fresh SAGEYARD_HOME, after one small warm-up each (the store and buckets are created
then, and Optuna and Ray Tune are imported). All ask the same
sampler with the same seed for the same distributions, so they try the same points; the
script checks that they found the same best value.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import logging
import math
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
OPTUNA, SAGEYARD = "Optuna + subprocess", "sageyard tuning job"
SAGEYARD_WARM = "sageyard, warm pools"
KEEP_ALIVE = 60  # seconds a finished trial's pool waits for the next trial


def run_script(params: dict[str, float]) -> tuple[float, float, float]:
    """``python quadratic.py --x .. --y ..`` through subprocess, as Optuna and Ray run it.

    Returns: the parsed objective, and the wall-clock times (``time.time()``) just before
    and just after ``subprocess.run``.
    """
    argv = [sys.executable, str(SCRIPT)]
    for name, value in params.items():
        argv += [f"--{name}", repr(value)]
    started = time.time()
    result = subprocess.run(argv, capture_output=True, text=True, check=True)
    ended = time.time()
    match = OBJECTIVE.search(result.stdout)
    assert match, result.stdout
    return float(match.group(1)), started, ended


def optuna_distributions() -> dict:
    """x, y uniform in [-5, 5], as Optuna distributions (Optuna and Ray Tune use these)."""
    import optuna

    return {
        "x": optuna.distributions.FloatDistribution(-5.0, 5.0),
        "y": optuna.distributions.FloatDistribution(-5.0, 5.0),
    }


def run_optuna(trials: int, seed: int) -> tuple[float, float, list[float]]:
    """Optuna ask/tell, two subprocess trials at a time.

    Returns: wall seconds, the best value, and each subprocess's duration in seconds.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = optuna_distributions()
    lock = threading.Lock()
    durations: list[float] = []

    def evaluate(params: dict[str, float]) -> float:
        value, started, ended = run_script(params)
        durations.append(ended - started)
        return value

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


def start_ray() -> tuple[str, float] | None:
    """Start the local Ray cluster once (not timed with the trials).

    Returns: Ray's version and the seconds ``ray.init`` took, or None when Ray Tune is not
    installed.
    """
    try:
        import ray
        from ray import tune  # noqa: F401
    except ImportError:
        return None
    started = time.perf_counter()
    ray.init(
        num_cpus=PARALLEL,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,  # Tune logs every experiment-state write at INFO
    )
    return ray.__version__, time.perf_counter() - started


def ray_trial(config: dict[str, float]) -> None:
    """A Ray Tune function trainable: the script once, its objective reported."""
    from ray import tune

    value, started, ended = run_script(config)
    tune.report(
        {
            "objective": value,
            "script_started": started,
            "script_ended": ended,
            "worker": os.getpid(),
        }
    )


def run_ray(
    trials: int, seed: int, reuse_actors: bool, storage: Path, parallel: int = PARALLEL
) -> tuple[float, float, dict[str, float]]:
    """Ray Tune, ``parallel`` trials at a time, Optuna's RandomSampler through OptunaSearch.

    Returns: wall seconds, the best value, and where the time went (seconds): from
    ``fit()`` to the first script's start, the medians from a slot freed (a script ended)
    to the next script's start and from a script's end to the next start in the same
    worker process, the median script run, from the last script's end to ``fit()``
    returning; and how many Ray worker processes the trials ran in and the most scripts
    that ran at once.
    """
    import optuna
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    tuner = tune.Tuner(
        ray_trial,
        tune_config=tune.TuneConfig(
            metric="objective",
            mode="min",
            search_alg=OptunaSearch(
                optuna_distributions(),
                metric="objective",  # given its own space, OptunaSearch ignores
                mode="min",  # TuneConfig's metric and mode
                sampler=optuna.samplers.RandomSampler(seed=seed),
            ),
            num_samples=trials,
            max_concurrent_trials=parallel,
            reuse_actors=reuse_actors,
        ),
        run_config=tune.RunConfig(storage_path=tempfile.mkdtemp(dir=storage), verbose=0),
    )
    # Tune prints its experiment banner and results path even with verbose=0
    with contextlib.redirect_stdout(io.StringIO()):
        started, wall = time.perf_counter(), time.time()
        results = tuner.fit()
        elapsed, ended = time.perf_counter() - started, time.time()
    assert not results.errors and len(results) == trials, (len(results), results.errors)
    frame = results.get_dataframe().sort_values("script_started")
    starts, ends = list(frame["script_started"]), sorted(frame["script_ended"])
    # two at a time: script i (in start order, from 0) could start once i - 1 had ended
    freed = [start - ends[i - parallel] for i, start in enumerate(starts) if i >= parallel]
    same_worker = [
        later.script_started - earlier.script_ended
        for _, runs in frame.groupby("worker")
        for earlier, later in itertools.pairwise(runs.itertuples())
    ]
    running = at_once = 0
    for _, step in sorted([(t, 1) for t in starts] + [(t, -1) for t in ends]):
        running += step
        at_once = max(at_once, running)
    phases = {
        "start": starts[0] - wall,
        "freed": statistics.median(freed) if freed else float("nan"),
        "same worker": statistics.median(same_worker) if same_worker else float("nan"),
        "script": (frame["script_ended"] - frame["script_started"]).median(),
        "tail": ended - ends[-1],
        "workers": frame["worker"].nunique(),
        "at once": at_once,
    }
    return elapsed, float(results.get_best_result().metrics["objective"]), phases


def run_sageyard(
    trials: int,
    seed: int,
    keep_alive: int | None = None,
    parallel: int = PARALLEL,
    instance_type: str | None = None,
) -> tuple[float, float, dict[str, float]]:
    """A Random tuning job, ``parallel`` trials at a time (``keep_alive``: with warm pools,
    each trial after the first ones running on the pool a finished one left).

    Returns: wall seconds, the best value, and where the time went (seconds): from
    ``tune()`` to the first trial's creation, the medians of a trial's creation to its
    training start and of its training start to end, and from the last trial's end to
    ``tune()`` returning.
    """
    from sageyard.core.parameter import ContinuousParameter
    from sageyard.train import ModelTrainer
    from sageyard.train.configs import Compute, SourceCode
    from sageyard.train.tuner import HyperparameterTuner

    trainer = ModelTrainer(
        training_image="python:3.11",
        base_job_name="overhead",
        source_code=SourceCode(source_dir=str(FUNCTIONS), entry_script=SCRIPT.name),
        compute=Compute(
            keep_alive_period_in_seconds=keep_alive,
            **({"instance_type": instance_type} if instance_type else {}),
        ),
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
        max_parallel_jobs=parallel,
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

    ray_started = start_ray()  # before any timing; None when Ray is not installed
    reuse_modes = [True, False] if ray_started else []
    run_optuna(PARALLEL, args.seed)  # warm-up: imports Optuna
    if ray_started:
        run_ray(PARALLEL, args.seed, True, work)  # warm-up: imports Tune in this process
    run_sageyard(PARALLEL, args.seed)  # warm-up: creates the store, buckets and slot files
    run_sageyard(PARALLEL, args.seed, KEEP_ALIVE)
    walls: dict[str, list[float]] = {}
    bests: dict[str, float] = {}
    durations: list[float] = []
    ray_phases: dict[bool, list[dict[str, float]]] = {reuse: [] for reuse in reuse_modes}
    sageyard_phases: dict[str, list[dict[str, float]]] = {SAGEYARD: [], SAGEYARD_WARM: []}
    for _ in range(args.repeats):  # interleaved, so every peer sees the same machine
        seconds, bests[OPTUNA], run_durations = run_optuna(args.trials, args.seed)
        walls.setdefault(OPTUNA, []).append(seconds)
        durations += run_durations
        for reuse in reuse_modes:
            name = f"Ray Tune, reuse_actors={reuse}"
            seconds, bests[name], phases = run_ray(args.trials, args.seed, reuse, work)
            walls.setdefault(name, []).append(seconds)
            ray_phases[reuse].append(phases)
        for name, keep_alive in ((SAGEYARD, None), (SAGEYARD_WARM, KEEP_ALIVE)):
            seconds, bests[name], phases = run_sageyard(args.trials, args.seed, keep_alive)
            walls.setdefault(name, []).append(seconds)
            sageyard_phases[name].append(phases)

    def medians(runs: list[dict[str, float]]) -> dict[str, float]:
        return {key: statistics.median(run[key] for run in runs) for key in runs[0]}

    per = 1000 / args.trials
    optuna_runs = walls[OPTUNA]
    optuna_s = statistics.median(optuna_runs)
    print(
        f"trials: {args.trials}, 2 at a time, Random search with seed {args.seed}; "
        f"median of {args.repeats} interleaved runs"
    )
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    if ray_started:
        version, init_s = ray_started
        print(f"Ray {version}: ray.init(num_cpus=2) took {init_s:.2f} s (once, not in the table)")
    else:
        print("Ray Tune: skipped (import ray failed); install it with: pip install 'ray[tune]'")
    print()
    print(f"{'peer':<30} {'wall':>9} {'ms/trial':>9} {'overhead/trial':>15} {'ratio':>7}  each run")
    for name, runs in walls.items():
        seconds = statistics.median(runs)
        ratios = " ".join(f"{s / o:.2f}x" for o, s in zip(optuna_runs, runs, strict=True))
        print(
            f"{name:<30} {seconds:7.2f} s {seconds * per:9.1f} "
            f"{(seconds - optuna_s) * per:12.1f} ms {seconds / optuna_s:6.2f}x  {ratios}"
        )
    print("(overhead/trial and ratio are against Optuna + subprocess; sageyard aims within 1.5x)")
    print()
    for name, runs in sageyard_phases.items():
        phases = medians(runs)
        print(f"where the time of {name} went (medians):")
        print(f"  tune() to the first trial created:     {phases['start'] * 1000:6.1f} ms")
        print(f"  trial created to its script started:  {phases['staging'] * 1000:6.1f} ms")
        print(f"  script started to training ended:     {phases['training'] * 1000:6.1f} ms")
        print(f"  last training ended to tune() return: {phases['tail'] * 1000:6.1f} ms")
    for reuse in reuse_modes:
        phases = medians(ray_phases[reuse])
        print(f"where Ray Tune's time went, reuse_actors={reuse} (medians):")
        for label, key in [
            ("fit() to the first script started:", "start"),
            ("a slot freed to the next script start:", "freed"),
            ("one worker, a script end to its next:", "same worker"),
            ("the script's subprocess.run:", "script"),
            ("last script ended to fit() return:", "tail"),
        ]:
            value = "      —" if math.isnan(phases[key]) else f"{phases[key] * 1000:7.1f} ms"
            print(f"  {label:<40}{value}")
        print(f"  Ray worker processes the trials ran in: {phases['workers']:.0f}")
        print(f"  most scripts running at once:           {phases['at once']:.0f}")
    median_run = statistics.median(durations) * 1000
    print(f"(Optuna's subprocess.run of the script: {median_run:.1f} ms median)")
    reference = bests[OPTUNA]
    if all(abs(best - reference) <= 1e-6 * max(1.0, abs(reference)) for best in bests.values()):
        print(f"best objective: {reference:.6g} for every peer (the same points were tried)")
    else:
        found = ", ".join(f"{name} {best:.6g}" for name, best in bests.items())
        print(f"best objective: {found} (DIFFERENT: the searches diverged)")


if __name__ == "__main__":
    main()
