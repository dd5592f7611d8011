"""Completion criteria of a tuning job: target value, best objective not improving (by at
least 1%) for N trials, and sageyard's documented convergence rule."""

from __future__ import annotations

import pytest

from sageyard.core.shapes import (
    BestObjectiveNotImproving,
    ConvergenceDetected,
    TuningJobCompletionCriteria,
)
from sageyard.tuning import criteria


def not_improving(count: int) -> TuningJobCompletionCriteria:
    return TuningJobCompletionCriteria(
        best_objective_not_improving=BestObjectiveNotImproving(
            max_number_of_training_jobs_not_improving=count
        )
    )


CONVERGENCE = TuningJobCompletionCriteria(
    convergence_detected=ConvergenceDetected(complete_on_convergence="Enabled")
)


# -- improvement ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "best", "maximize", "expected"),
    [
        (1.011, 1.0, True, True),
        (1.009, 1.0, True, False),
        (0.989, 1.0, False, True),
        (0.991, 1.0, False, False),
        (-0.989, -1.0, True, True),  # relative to |best| for negative objectives
        (-1.011, -1.0, False, True),
        (-1.005, -1.0, False, False),
        (1e-9, 0.0, True, True),  # any gain over a best of zero
        (0.0, 0.0, True, False),
    ],
)
def test_improves_by_at_least_one_percent(
    value: float, best: float, maximize: bool, expected: bool
) -> None:
    assert criteria.improves(value, best, maximize, criteria.NOT_IMPROVING_THRESHOLD) is expected


def test_the_thresholds() -> None:
    assert criteria.NOT_IMPROVING_THRESHOLD == 0.01
    assert criteria.CONVERGENCE_THRESHOLD == 0.001


@pytest.mark.parametrize(
    ("values", "maximize", "streak"),
    [
        ([], True, 0),
        ([1.0], True, 0),
        ([1.0, 1.0, 1.0], True, 2),
        ([1.0, 2.0, 2.0], True, 1),
        ([1.0, 1.005, 1.009], True, 2),  # gains under 1% do not reset the count
        ([1.0, 0.5, 0.2, 1.5], True, 0),
        ([5.0, 4.0, 3.0, 3.01, 2.999], False, 2),
        ([5.0, 6.0, 7.0], False, 2),
    ],
)
def test_trials_not_improving(values: list[float], maximize: bool, streak: int) -> None:
    assert criteria.trials_not_improving(values, maximize) == streak


# -- completion_reason ------------------------------------------------------------------------


def test_no_criteria_or_no_values_never_complete() -> None:
    assert criteria.completion_reason([1.0, 1.0, 1.0, 1.0], True, None, 10) is None
    assert criteria.completion_reason([], True, not_improving(3), 10) is None
    assert criteria.completion_reason([1.0] * 20, True, TuningJobCompletionCriteria(), 50) is None


@pytest.mark.parametrize(
    ("values", "maximize", "target", "reached"),
    [
        ([0.5, 0.94], True, 0.95, False),
        ([0.5, 0.95], True, 0.95, True),
        ([0.96, 0.5], True, 0.95, True),  # the best so far counts, not the last value
        ([0.3, 0.11], False, 0.1, False),
        ([0.3, 0.1], False, 0.1, True),
        ([0.05, 0.3], False, 0.1, True),
    ],
)
def test_target_objective_metric_value(
    values: list[float], maximize: bool, target: float, reached: bool
) -> None:
    config = TuningJobCompletionCriteria(target_objective_metric_value=target)
    reason = criteria.completion_reason(values, maximize, config, 100)
    assert reason == ("TargetObjectiveMetricValueReached" if reached else None)


def test_best_objective_not_improving_for_n_trials() -> None:
    config = not_improving(3)
    flat = [1.0, 1.0, 1.0, 1.0]
    assert criteria.completion_reason(flat[:3], True, config, 100) is None
    assert criteria.completion_reason(flat, True, config, 100) == "BestObjectiveNotImproving"
    improving = [1.0, 1.02, 1.04, 1.06, 1.08]
    assert criteria.completion_reason(improving, True, config, 100) is None
    creeping = [1.0, 1.005, 1.009, 1.012]  # 1.2% in total, under 1% against each best
    assert criteria.completion_reason(creeping, True, config, 100) == "BestObjectiveNotImproving"


def test_a_new_best_restarts_the_count() -> None:
    config = not_improving(3)
    values = [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    assert criteria.completion_reason(values, True, config, 100) is None
    assert criteria.completion_reason([*values, 2.0], True, config, 100) == (
        "BestObjectiveNotImproving"
    )


def test_convergence_window() -> None:
    assert criteria.convergence_window(10) == 10
    assert criteria.convergence_window(50) == 10
    assert criteria.convergence_window(51) == 11
    assert criteria.convergence_window(100) == 20


def test_convergence_needs_a_full_window_after_the_first_trials() -> None:
    # max_jobs 20: window of 10 trials, which must follow at least one earlier trial
    flat = [1.0] * 11
    assert criteria.converged(flat[:10], True, 20) is False
    assert criteria.converged(flat, True, 20) is True
    assert criteria.completion_reason(flat[:10], True, CONVERGENCE, 20) is None
    assert criteria.completion_reason(flat, True, CONVERGENCE, 20) == "ConvergenceDetected"


def test_convergence_counts_small_improvements_over_the_window() -> None:
    # each step improves by 0.05%, 10 steps: 0.5% in total over the window → not converged
    values = [1.0 * (1.0005**i) for i in range(11)]
    assert criteria.converged(values, True, 20) is False
    # a 0.05% gain in total over the window → converged
    assert criteria.converged([1.0] * 10 + [1.0005], True, 20) is True
    minimize = [2.0] + [2.0 - 0.0001 * i for i in range(1, 11)]  # 0.05% lower: converged
    assert criteria.converged(minimize, False, 20) is True
    assert criteria.converged([2.0] * 10 + [1.9], False, 20) is False


def test_convergence_disabled_never_completes() -> None:
    disabled = TuningJobCompletionCriteria(
        convergence_detected=ConvergenceDetected(complete_on_convergence="Disabled")
    )
    assert criteria.completion_reason([1.0] * 30, True, disabled, 20) is None


def test_the_target_wins_over_the_other_criteria() -> None:
    config = TuningJobCompletionCriteria(
        target_objective_metric_value=1.0,
        best_objective_not_improving=BestObjectiveNotImproving(
            max_number_of_training_jobs_not_improving=3
        ),
        convergence_detected=ConvergenceDetected(complete_on_convergence="Enabled"),
    )
    assert criteria.completion_reason([1.0] * 20, True, config, 10) == (
        "TargetObjectiveMetricValueReached"
    )
    assert criteria.completion_reason([0.5] * 20, True, config, 10) == "BestObjectiveNotImproving"


def test_best_of() -> None:
    assert criteria.best_of([1.0, 3.0, 2.0], True) == 3.0
    assert criteria.best_of([1.0, 3.0, 2.0], False) == 1.0
