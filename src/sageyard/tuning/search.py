"""The search side of tuning, on Optuna: distributions, samplers, pruners.

Strategy → Optuna:

- ``Bayesian``: a Gaussian-process sampler (``GPSampler``, needs torch) while that is
  affordable — up to 100 trials of a definition — and TPE (multivariate, constant liar for
  parallel trials) beyond, or when torch is not installed.
- ``Random``: ``RandomSampler``. ``Grid``: ``GridSampler`` over the categorical ranges.
- ``Hyperband``: TPE with asynchronous successive halving (Optuna's ``HyperbandPruner``)
  between ``min_resource`` and ``max_resource``, where each value of the objective metric
  a trial emits is one unit of resource.

Scaling: ``Logarithmic`` samples log-uniformly; ``ReverseLogarithmic`` samples ``1 - x``
log-uniformly (dense near the upper bound); ``Auto`` is logarithmic for positive ranges
spanning at least two orders of magnitude (``max / min >= 100``) and linear otherwise.

Early stopping ``Auto`` is SageMaker's median rule (:class:`MedianRulePruner`).

Optuna is imported lazily: ``pip install 'sageyard[tuning]'``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sageyard.core.exceptions import MissingDependencyError
from sageyard.tuning.spec import RangeSpec, TuningJobSpec

if TYPE_CHECKING:
    import optuna

GP_TRIAL_LIMIT = 100
MEDIAN_RULE_MIN_COMPLETED = 3


def require_optuna() -> None:
    if importlib.util.find_spec("optuna") is None:
        raise MissingDependencyError(
            "Hyperparameter tuning needs Optuna, which is not installed. Install it with "
            "`pip install 'sageyard[tuning]'`."
        )


def _log_scaled(spec: RangeSpec) -> bool:
    if spec.scaling_type == "Logarithmic":
        return True
    if spec.scaling_type != "Auto":
        return False
    assert spec.min_value is not None and spec.max_value is not None
    return spec.min_value > 0 and spec.max_value / spec.min_value >= 100


def distributions(ranges: Sequence[RangeSpec]) -> dict[str, optuna.distributions.BaseDistribution]:
    """Optuna distributions of the ranges (a ReverseLogarithmic range samples ``1 - x``)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    result: dict[str, optuna.distributions.BaseDistribution] = {}
    for spec in ranges:
        if spec.kind == "Categorical":
            result[spec.name] = CategoricalDistribution(list(spec.values or []))
            continue
        low, high = spec.min_value, spec.max_value
        assert low is not None and high is not None
        if spec.kind == "Integer":
            result[spec.name] = IntDistribution(int(low), int(high), log=_log_scaled(spec))
        elif spec.scaling_type == "ReverseLogarithmic":
            result[spec.name] = FloatDistribution(1 - high, 1 - low, log=True)
        else:
            result[spec.name] = FloatDistribution(low, high, log=_log_scaled(spec))
    return result


def to_values(ranges: Sequence[RangeSpec], params: dict[str, Any]) -> dict[str, Any]:
    """Optuna's params → the hyperparameter values a trial gets."""
    values: dict[str, Any] = {}
    for spec in ranges:
        value = params[spec.name]
        if spec.kind == "Continuous" and spec.scaling_type == "ReverseLogarithmic":
            value = 1 - value
        values[spec.name] = value
    return values


def from_hyperparameters(
    ranges: Sequence[RangeSpec], hyperparameters: dict[str, str]
) -> dict[str, Any] | None:
    """A finished trial's string hyperparameters → Optuna params, or None if they do not
    fit these ranges (warm start from a parent with other ranges)."""
    params: dict[str, Any] = {}
    for spec in ranges:
        raw = hyperparameters.get(spec.name)
        if raw is None:
            return None
        if spec.kind == "Categorical":
            value: Any = next((v for v in spec.values or [] if _text(v) == raw), None)
            if value is None:
                return None
        else:
            try:
                value = int(raw) if spec.kind == "Integer" else float(raw)
            except ValueError:
                return None
            if not spec.contains(value):
                return None
            if spec.scaling_type == "ReverseLogarithmic":
                value = 1 - value
        params[spec.name] = value
    return params


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def grid_size(ranges: Sequence[RangeSpec]) -> int:
    return math.prod(len(spec.values or []) for spec in ranges)


def make_sampler(
    spec: TuningJobSpec, ranges: Sequence[RangeSpec], seed: int | None, trials: int
) -> optuna.samplers.BaseSampler:
    import optuna

    startup = min(10, max(3, trials // 4))
    if spec.strategy == "Random":
        return optuna.samplers.RandomSampler(seed=seed)
    if spec.strategy == "Grid":
        space = {r.name: list(r.values or []) for r in ranges}
        return _grid_sampler(space, seed)
    if (
        spec.strategy == "Bayesian"
        and trials <= GP_TRIAL_LIMIT
        and importlib.util.find_spec("torch") is not None
    ):
        return optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=startup, warn_independent_sampling=False
        )
    return optuna.samplers.TPESampler(
        seed=seed,
        n_startup_trials=startup,
        multivariate=True,
        constant_liar=True,
    )


def _grid_sampler(space: dict[str, list[Any]], seed: int | None) -> optuna.samplers.BaseSampler:
    """Optuna's GridSampler, without its ``study.stop()`` once the grid is covered.

    That call only works inside ``study.optimize()``; with ask/tell it makes the last
    ``tell()`` raise. The tuning loop stops by itself: max_jobs is the grid's size.
    """
    import optuna

    class AskTellGridSampler(optuna.samplers.GridSampler):
        def after_trial(self, *args: Any, **kwargs: Any) -> None:
            return None

    return AskTellGridSampler(space, seed=seed)


def make_pruner(spec: TuningJobSpec) -> optuna.pruners.BasePruner:
    import optuna

    if spec.strategy == "Hyperband":
        config = spec.hyperband
        return _hyperband_pruner(
            min_resource=(config.min_resource if config else None) or 1,
            max_resource=(config.max_resource if config else None) or "auto",
            reduction_factor=(config.reduction_factor if config else None) or 3,
            n_brackets=config.number_of_brackets if config else None,
        )
    if spec.early_stopping_type == "Auto":
        return MedianRulePruner(maximize=spec.objective_type == "Maximize")
    return optuna.pruners.NopPruner()


def _hyperband_pruner(
    min_resource: int, max_resource: int | str, reduction_factor: int, n_brackets: int | None
) -> optuna.pruners.BasePruner:
    import optuna

    pruner = optuna.pruners.HyperbandPruner(
        min_resource=min_resource, max_resource=max_resource, reduction_factor=reduction_factor
    )
    if n_brackets is not None:
        # Optuna derives the bracket count from the resources unless it is set before the
        # first prune; setting it is how number_of_brackets is honoured.
        pruner._n_brackets = n_brackets
    return pruner


def _make_median_pruner_class() -> type:
    import optuna
    from optuna.trial import TrialState

    class _MedianRulePruner(optuna.pruners.BasePruner):
        """SageMaker's early-stopping rule.

        At each step, a trial is stopped when its objective value is worse than the median
        of the running averages (up to the same step) of the completed trials. The rule
        applies once at least three trials have completed.
        """

        def __init__(self, maximize: bool, min_completed: int = MEDIAN_RULE_MIN_COMPLETED):
            self.maximize = maximize
            self.min_completed = min_completed

        def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
            step = trial.last_step
            if step is None:
                return False
            value = trial.intermediate_values[step]
            averages = []
            for other in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
                seen = [v for s, v in other.intermediate_values.items() if s <= step]
                if seen:
                    averages.append(statistics.fmean(seen))
            if len(averages) < self.min_completed:
                return False
            median = statistics.median(averages)
            return value < median if self.maximize else value > median

    return _MedianRulePruner


def MedianRulePruner(maximize: bool) -> optuna.pruners.BasePruner:
    """SageMaker's median early-stopping rule as an Optuna pruner (Optuna imported lazily)."""
    pruner: optuna.pruners.BasePruner = _make_median_pruner_class()(maximize)
    return pruner
