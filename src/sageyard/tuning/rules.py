"""The rules of a tuning job that hold whoever asks: the strategy and its settings, the
ranges, and how many trials may run. ``HyperparameterTuner`` checks them when it is built,
and :mod:`sageyard.tuning.request` again on every CreateHyperParameterTuningJob request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.parameter import CategoricalParameter, ParameterRange
from sageyard.core.shapes import HyperParameterTuningJobStrategyConfig
from sageyard.tuning import search
from sageyard.tuning.spec import STRATEGIES, TrainingDefinition

MAX_SEED = 2_147_483_647
MAX_TUNING_RUNTIME = 15_768_000  # 6 months, the service limit


def check_settings(
    *,
    strategy: Any,
    objective_type: Any,
    early_stopping_type: Any,
    strategy_config: HyperParameterTuningJobStrategyConfig | None,
    random_seed: int | None,
    max_jobs: int | None,
    max_parallel_jobs: int,
    max_runtime_in_seconds: int | None,
    ranges: Mapping[str | None, Mapping[str, Any]],
    autotune: bool,
    keep_static: Mapping[str | None, Sequence[str] | None],
) -> None:
    """The rules on a tuning job's settings alone (``HyperparameterTuner`` runs them when it
    is built; :func:`validate_tuning_job` on every request). ``ranges`` and ``keep_static``
    map a training definition's name (None for a single trainer) to its own."""
    if strategy not in STRATEGIES:
        raise ConfigurationError(
            f"strategy must be one of {', '.join(STRATEGIES)}, but got {strategy!r}."
        )
    if objective_type not in ("Maximize", "Minimize"):
        raise ConfigurationError(
            f"objective_type must be 'Maximize' or 'Minimize', but got {objective_type!r}."
        )
    if early_stopping_type not in ("Off", "Auto"):
        raise ConfigurationError(
            f"early_stopping_type must be 'Off' or 'Auto', but got {early_stopping_type!r}."
        )
    hyperband = strategy_config.hyperband_strategy_config if strategy_config else None
    if strategy == "Hyperband":
        if early_stopping_type != "Off":
            raise ConfigurationError(
                "The Hyperband strategy stops trials itself: early_stopping_type must be 'Off', "
                f"but got {early_stopping_type!r}."
            )
        if hyperband is None or hyperband.max_resource is None:
            raise ConfigurationError(
                "The Hyperband strategy needs strategy_config=HyperParameterTuningJobStrategy"
                "Config(hyperband_strategy_config=HyperbandStrategyConfig(min_resource=1, "
                "max_resource=27)); max_resource is the most objective values a trial may emit."
            )
    elif hyperband is not None:
        raise ConfigurationError(
            f"strategy_config with a HyperbandStrategyConfig is only for strategy='Hyperband', "
            f"but the strategy is {strategy!r}."
        )
    if random_seed is not None and not 0 <= random_seed <= MAX_SEED:
        raise ConfigurationError(
            f"random_seed must be between 0 and {MAX_SEED}, but got {random_seed}."
        )
    if max_jobs is not None and max_jobs < 1:
        raise ConfigurationError(f"max_jobs must be >= 1, but got {max_jobs}.")
    if max_parallel_jobs < 1:
        raise ConfigurationError(f"max_parallel_jobs must be >= 1, but got {max_parallel_jobs}.")
    if max_jobs is not None and max_parallel_jobs > max_jobs:
        raise ConfigurationError(
            f"max_parallel_jobs ({max_parallel_jobs}) must not exceed max_jobs "
            f"({max_jobs}); lower max_parallel_jobs or raise max_jobs."
        )
    runtime = max_runtime_in_seconds
    if runtime is not None and not 1 <= runtime <= MAX_TUNING_RUNTIME:
        raise ConfigurationError(
            f"max_runtime_in_seconds must be between 1 and {MAX_TUNING_RUNTIME}, but got {runtime}."
        )
    for name, given in ranges.items():
        check_ranges(name, given, strategy, autotune)
    for name, keep in keep_static.items():
        where = f" for trainer {name!r}" if name else ""
        if keep and not autotune:
            raise ConfigurationError(
                f"hyperparameters_to_keep_static={list(keep)}{where} only applies with "
                "autotune=True; set autotune=True or leave it out (without autotune, only the "
                "ranges you give are tuned)."
            )
        if keep and len(set(keep)) != len(keep):
            raise ConfigurationError(
                f"hyperparameters_to_keep_static{where} lists a name twice: {list(keep)}."
            )
    if autotune and strategy in ("Grid", "Hyperband"):
        raise ConfigurationError(
            f"autotune chooses continuous ranges, which strategy={strategy!r} cannot "
            "search; use 'Bayesian' or 'Random'."
        )


def check_ranges(
    trainer_name: str | None, ranges: Mapping[str, Any], strategy: str, autotune: bool
) -> None:
    where = f" for trainer {trainer_name!r}" if trainer_name else ""
    if not ranges and not autotune:
        raise ConfigurationError(
            f"hyperparameter_ranges{where} is empty: give at least one range, e.g. "
            "{'learning_rate': ContinuousParameter(0.001, 0.1)}, or set autotune=True."
        )
    for name, parameter in ranges.items():
        if not isinstance(parameter, ParameterRange):
            raise ConfigurationError(
                f"hyperparameter_ranges[{name!r}]{where} must be a ContinuousParameter, "
                f"IntegerParameter or CategoricalParameter, but got {parameter!r}."
            )
    if strategy == "Grid":
        numeric = [n for n, p in ranges.items() if not isinstance(p, CategoricalParameter)]
        if numeric:
            raise ConfigurationError(
                f"The Grid strategy searches categorical ranges only, but {numeric}{where} "
                "are numeric; make them CategoricalParameter([...]) or use another strategy."
            )


def max_jobs_of(
    strategy: str, max_jobs: int | None, max_parallel: int, definitions: list[TrainingDefinition]
) -> int:
    if strategy == "Grid":
        combos = sum(search.grid_size(d.ranges) for d in definitions)
        if max_jobs is not None and max_jobs != combos:
            raise ConfigurationError(
                f"The Grid strategy runs every combination of the categorical ranges ({combos}); "
                f"max_jobs must be unset or {combos}, but got {max_jobs}."
            )
        if max_parallel > combos:
            raise ConfigurationError(
                f"max_parallel_jobs ({max_parallel}) exceeds the {combos} grid combinations; "
                "lower it."
            )
        return combos
    if max_jobs is None:
        raise ConfigurationError(
            "max_jobs is required (ResourceLimits.MaxNumberOfTrainingJobs: how many training "
            "jobs the tuning job may run), unless strategy='Grid', which runs every combination."
        )
    return max_jobs
