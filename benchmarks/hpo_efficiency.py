"""HPO efficiency: Bayesian against Random, and Hyperband against full-budget Random.

    python benchmarks/hpo_efficiency.py [--seeds 3] [--quick]

Every trial is a real sageyard training job of a script in ``benchmarks/functions/``
(two at a time, ``max_parallel_jobs=2``), in a fresh SAGEYARD_HOME.

Part 1, Bayesian vs Random (minimise), on three standard test functions:

- Branin (2-D; minimum 0.397887),
- Hartmann-6 (6-D; minimum -3.32237),
- a noisy 1-D function of a log-scaled learning rate in [1e-5, 1] (``noisy_log1d.py``;
  noise-free minimum 0.1143; Gaussian noise of sigma 0.05 on each observation).

For each function, strategy and seed (``random_seed`` = 0, 1, ...) one tuning job runs
the largest trial count; the best value after the first 10, 20 and 40 trials (in creation
order) is read from it, and the table shows the median over the seeds. For the noisy
function the value reported is the noise-free value of the trial with the best noisy
observation (what a user would pick), not the lucky noise.

Part 2, Hyperband vs full-budget Random, on a learning curve that ends at Branin
(``branin_curve.py``: 27 epochs, one objective value per epoch, ``--epoch-seconds`` of
work each). Hyperband (min_resource 1, max_resource 27, reduction_factor 3, 4 brackets)
runs ``--hyperband-trials`` trials; its resource is the number of objective values all
its trials emitted (counted from each trial's metric time series), and its best value is
its best trial's final objective. Random runs the same number of trials, each the whole
27 epochs; its resource for the same best value is 27 x the number of its trials (in
creation order) up to the first one at least as good as Hyperband's best. The table shows
the medians over the seeds, and how often Random got there at all.

``--seeds`` defaults to 3 (about 4 minutes on a 2-core machine; keep a run under ~15
minutes there); ``--quick`` is 1 seed, 10/20 trials and 12 Hyperband trials. A Part 2
tuning job that fails is run again, and the failure is printed (a Hyperband trial that
ends by itself just as the tuner stops it at max_resource can fail the whole tuning job:
see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FUNCTIONS = Path(__file__).resolve().parent / "functions"
sys.path.insert(0, str(FUNCTIONS))

import branin  # noqa: E402
import hartmann6  # noqa: E402
import noisy_log1d  # noqa: E402

METRIC = [{"Name": "objective", "Regex": "objective: ([-+0-9.eE]+)"}]
PARALLEL = 2
MAX_RESOURCE = 27


@dataclass(frozen=True)
class Problem:
    name: str
    script: str
    minimum: float
    ranges: Callable[[], dict[str, Any]]
    score: Callable[[dict[str, float], float], float]  # (params, observed) -> reported value


def _continuous(low: float, high: float, scaling: str = "Linear") -> Any:
    from sageyard.core.parameter import ContinuousParameter

    return ContinuousParameter(low, high, scaling)


PROBLEMS = [
    Problem(
        "Branin",
        "branin.py",
        branin.MINIMUM,
        lambda: {name: _continuous(*bounds) for name, bounds in branin.BOUNDS.items()},
        lambda params, observed: observed,
    ),
    Problem(
        "Hartmann-6",
        "hartmann6.py",
        hartmann6.MINIMUM,
        lambda: {name: _continuous(0.0, 1.0) for name in hartmann6.NAMES},
        lambda params, observed: observed,
    ),
    Problem(
        "noisy 1-D (log lr)",
        "noisy_log1d.py",
        noisy_log1d.minimum()[0],
        lambda: {"learning_rate": _continuous(noisy_log1d.LOW, noisy_log1d.HIGH, "Logarithmic")},
        lambda params, observed: noisy_log1d.true_value(params["learning_rate"]),
    ),
]


@dataclass
class Trial:
    name: str
    params: dict[str, float]
    value: float | None  # the final objective the tuning job recorded


def tune(
    script: str,
    ranges: dict[str, Any],
    strategy: str,
    trials: int,
    seed: int,
    static: dict[str, Any] | None = None,
    strategy_config: Any = None,
) -> tuple[list[Trial], float]:
    """Run one tuning job to its end: its trials in creation order, and its wall time."""
    from sageyard.train import ModelTrainer
    from sageyard.train.configs import SourceCode
    from sageyard.train.tuner import HyperparameterTuner

    base = re.sub(r"[^a-z0-9]+", "-", script.removesuffix(".py").lower())
    trainer = ModelTrainer(
        training_image="python:3.11",
        base_job_name=base,
        source_code=SourceCode(source_dir=str(FUNCTIONS), entry_script=script),
        hyperparameters=static or {},
    )
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name="objective",
        metric_definitions=METRIC,
        hyperparameter_ranges=ranges,
        strategy=strategy,
        strategy_config=strategy_config,
        objective_type="Minimize",
        max_jobs=trials,
        max_parallel_jobs=PARALLEL,
        random_seed=seed,
    )
    started = time.perf_counter()
    tuner.tune(wait=True)
    elapsed = time.perf_counter() - started
    out = []
    for summary in tuner.analytics().training_job_summaries():
        objective = summary.get("FinalHyperParameterTuningJobObjectiveMetric")
        out.append(
            Trial(
                summary["TrainingJobName"],
                {k: float(v) for k, v in summary["TunedHyperParameters"].items()},
                objective["Value"] if objective else None,
            )
        )
    return out, elapsed


def tune_retrying(*args: Any, attempts: int = 3) -> tuple[list[Trial], float]:
    """``tune``, run again (up to ``attempts`` times) when the tuning job fails; each
    failure is printed, so a run that needed it says so."""
    from sageyard.core.exceptions import TuningJobFailedError

    for attempt in range(1, attempts + 1):
        try:
            return tune(*args)
        except TuningJobFailedError as error:
            print(f"  [{args[2]} tuning job failed (attempt {attempt}): {error}]", flush=True)
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def best_after(problem: Problem, trials: list[Trial], count: int) -> float:
    """The reported value of the best observed trial among the first ``count``."""
    scored = [t for t in trials[:count] if t.value is not None]
    best = min(scored, key=lambda t: t.value)  # type: ignore[arg-type, return-value]
    return problem.score(best.params, best.value)  # type: ignore[arg-type]


def part_one(seeds: int, checkpoints: list[int]) -> None:
    print("== Part 1: Bayesian vs Random, median best value over seeds (lower is better) ==")
    print(f"seeds: {seeds}; trials in each tuning job: {checkpoints[-1]}, {PARALLEL} at a time")
    header = f"{'function':<20}{'optimum':>10}  {'strategy':<9}"
    header += "".join(f"{f'after {n}':>12}" for n in checkpoints) + f"{'wall/job':>10}"
    print(header)
    print("-" * len(header))
    for problem in PROBLEMS:
        for strategy in ("Bayesian", "Random"):
            results: dict[int, list[float]] = {n: [] for n in checkpoints}
            walls = []
            for seed in range(seeds):
                trials, wall = tune(
                    problem.script, problem.ranges(), strategy, checkpoints[-1], seed
                )
                walls.append(wall)
                for n in checkpoints:
                    results[n].append(best_after(problem, trials, n))
            row = f"{problem.name:<20}{problem.minimum:>10.4f}  {strategy:<9}"
            row += "".join(f"{statistics.median(results[n]):>12.4f}" for n in checkpoints)
            row += f"{statistics.median(walls):>9.1f}s"
            print(row, flush=True)
    print()


def part_two(seeds: int, trials: int, epoch_seconds: float) -> None:
    from sageyard.core.resources import TrainingJob
    from sageyard.core.shapes import (
        HyperbandStrategyConfig,
        HyperParameterTuningJobStrategyConfig,
    )

    print("== Part 2: Hyperband vs full-budget Random on a Branin learning curve ==")
    print(
        f"{trials} trials per tuning job, {PARALLEL} at a time; each trial may run "
        f"{MAX_RESOURCE} epochs of {epoch_seconds:g} s.\n"
        "1 resource unit = 1 objective value emitted (one epoch).\n"
        "HB resource: the values all of Hyperband's trials emitted (from their metric series).\n"
        "Random to match: Random's resource for the same best value, 27 x the full-budget\n"
        "  trials it ran (in creation order) until one was at least as good as HB best\n"
        "  ('> N': none of its trials was).\n"
        "epochs/trial: the fewest, median and most epochs a Hyperband trial ran.\n"
        "ratio: Random to match / HB resource (above 1: Hyperband needed less)."
    )
    ranges = {name: _continuous(*bounds) for name, bounds in branin.BOUNDS.items()}
    static = {"epochs": MAX_RESOURCE, "epoch_seconds": epoch_seconds}
    config = HyperParameterTuningJobStrategyConfig(
        hyperband_strategy_config=HyperbandStrategyConfig(
            min_resource=1, max_resource=MAX_RESOURCE, reduction_factor=3, number_of_brackets=4
        )
    )
    header = (
        f"{'seed':>4}  {'HB best':>9}  {'HB resource':>11}  {'epochs/trial':>12}  "
        f"{'Random to match':>15}  {'Random best':>11}  {'ratio':>6}  {'wall HB/Random':>14}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for seed in range(seeds):
        hb, hb_wall = tune_retrying(
            "branin_curve.py", ranges, "Hyperband", trials, seed, static, config
        )
        epochs = [len(TrainingJob.get(t.name).metrics("objective")) for t in hb]
        hb_resource = sum(epochs)
        hb_best = min(t.value for t in hb if t.value is not None)
        rnd, rnd_wall = tune_retrying("branin_curve.py", ranges, "Random", trials, seed, static)
        running, matched = float("inf"), None
        for index, trial in enumerate(rnd, start=1):
            if trial.value is not None:
                running = min(running, trial.value)
            if running <= hb_best:
                matched = index * MAX_RESOURCE
                break
        rnd_best = min(t.value for t in rnd if t.value is not None)
        ratio = matched / hb_resource if matched else None
        rows.append((hb_best, hb_resource, matched, rnd_best, ratio))
        spread = f"{min(epochs)}/{statistics.median(epochs):g}/{max(epochs)}"
        shown = f"{matched}" if matched else f"> {trials * MAX_RESOURCE}"
        walls = f"{hb_wall:.0f}s/{rnd_wall:.0f}s"
        print(
            f"{seed:>4}  {hb_best:>9.4f}  {hb_resource:>11}  {spread:>12}  {shown:>15}  "
            f"{rnd_best:>11.4f}  {f'{ratio:.2f}x' if ratio else '-':>6}  {walls:>14}",
            flush=True,
        )
    # A seed where Random never matched counts as more than its full budget (+inf), so the
    # median stays a true median (shown as "> N" when it falls on such a seed).
    matches = [r[2] if r[2] is not None else math.inf for r in rows]
    median_match = statistics.median(matches)
    median_resource = statistics.median(r[1] for r in rows)
    limit = trials * MAX_RESOURCE
    shown = f"{median_match:g}" if median_match != math.inf else f"> {limit}"
    ratio = (
        f"{median_match / median_resource:.2f}x"
        if median_match != math.inf
        else f"> {limit / median_resource:.2f}x"
    )
    print(
        f"median over seeds: Hyperband best {statistics.median(r[0] for r in rows):.4f} "
        f"using {median_resource:g} resource units (its {trials} trials at full budget: {limit});"
        f"\nfull-budget Random matched Hyperband's best in {sum(r[2] is not None for r in rows)} "
        f"of {len(rows)} seeds, using {shown} units: Random/Hyperband resource {ratio}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", default="10,20,40", help="checkpoints, e.g. 10,20,40")
    parser.add_argument("--hyperband-trials", type=int, default=30)
    parser.add_argument("--epoch-seconds", type=float, default=0.05)
    parser.add_argument("--quick", action="store_true", help="1 seed, 10/20 trials, 12 HB trials")
    parser.add_argument("--skip", choices=["bayesian", "hyperband"], action="append", default=[])
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.trials, args.hyperband_trials = 1, "10,20", 12
    checkpoints = sorted(int(n) for n in args.trials.split(","))
    os.environ["SAGEYARD_HOME"] = str(Path(tempfile.mkdtemp(prefix="sageyard-bench-")) / "home")
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
    started = time.perf_counter()
    if "bayesian" not in args.skip:
        part_one(args.seeds, checkpoints)
    if "hyperband" not in args.skip:
        part_two(args.seeds, args.hyperband_trials, args.epoch_seconds)
    print(f"\ntotal time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
