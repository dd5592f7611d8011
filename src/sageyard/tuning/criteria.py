"""Completion criteria of a tuning job (pure functions over the objective values seen).

- Target: the best objective reaches ``target_objective_metric_value``.
- Best objective not improving: the last N completed trials did not improve the best by
  at least 1% (relative to the best so far).
- Convergence (sageyard's rule): with at least ``K = max(10, ceil(max_jobs / 5))``
  completed trials, the last K of them improved the best objective by less than 0.1%
  (relative) in total.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sageyard.core.shapes import TuningJobCompletionCriteria

NOT_IMPROVING_THRESHOLD = 0.01
CONVERGENCE_THRESHOLD = 0.001


def improves(value: float, best: float, maximize: bool, threshold: float) -> bool:
    margin = max(abs(best) * threshold, 1e-12)
    return value >= best + margin if maximize else value <= best - margin


def best_of(values: Sequence[float], maximize: bool) -> float:
    return max(values) if maximize else min(values)


def trials_not_improving(values: Sequence[float], maximize: bool) -> int:
    """How many trials in a row (to the last) did not improve the best by at least 1%."""
    if not values:
        return 0
    best, streak = values[0], 0
    for value in values[1:]:
        if improves(value, best, maximize, NOT_IMPROVING_THRESHOLD):
            best, streak = value, 0
        else:
            streak += 1
            best = best_of([best, value], maximize)
    return streak


def convergence_window(max_jobs: int) -> int:
    return max(10, math.ceil(max_jobs / 5))


def converged(values: Sequence[float], maximize: bool, max_jobs: int) -> bool:
    window = convergence_window(max_jobs)
    if len(values) < window + 1:
        return False
    before = best_of(values[:-window], maximize)
    after = best_of(values, maximize)
    return not improves(after, before, maximize, CONVERGENCE_THRESHOLD)


def completion_reason(
    values: Sequence[float],
    maximize: bool,
    criteria: TuningJobCompletionCriteria | None,
    max_jobs: int,
) -> str | None:
    """Why the tuning job may end now (``None``: not yet). ``values`` in completion order."""
    if criteria is None or not values:
        return None
    target = criteria.target_objective_metric_value
    best = best_of(values, maximize)
    if target is not None and (best >= target if maximize else best <= target):
        return "TargetObjectiveMetricValueReached"
    limit = (
        criteria.best_objective_not_improving.max_number_of_training_jobs_not_improving
        if criteria.best_objective_not_improving
        else None
    )
    if limit is not None and trials_not_improving(values, maximize) >= limit:
        return "BestObjectiveNotImproving"
    convergence = criteria.convergence_detected
    if (
        convergence is not None
        and convergence.complete_on_convergence == "Enabled"
        and converged(values, maximize, max_jobs)
    ):
        return "ConvergenceDetected"
    return None
