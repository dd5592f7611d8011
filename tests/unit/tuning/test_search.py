"""The search side of tuning on Optuna: distributions and scaling, value round trips,
samplers per strategy, SageMaker's median rule and Hyperband's pruner."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator
from typing import Any

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from sageyard.core.parameter import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
)
from sageyard.core.shapes import HyperbandStrategyConfig
from sageyard.runtime.environment import serialize_hyperparameter
from sageyard.tuning import search
from sageyard.tuning.spec import RangeSpec, TuningJobSpec

HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(autouse=True)
def quiet_optuna() -> Iterator[None]:
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(level)


def ranges(**parameters: ParameterRange) -> list[RangeSpec]:
    return [RangeSpec.of(name, parameter) for name, parameter in parameters.items()]


def tuning_spec(
    strategy: str = "Bayesian",
    early_stopping_type: str = "Off",
    objective_type: str = "Maximize",
    hyperband: HyperbandStrategyConfig | None = None,
) -> TuningJobSpec:
    """A spec with only what the sampler and pruner read (no training definitions)."""
    return TuningJobSpec.model_construct(
        tuning_job_name="t",
        strategy=strategy,
        objective_type=objective_type,
        definitions=[],
        max_jobs=10,
        max_parallel_jobs=1,
        max_runtime_in_seconds=None,
        early_stopping_type=early_stopping_type,
        completion=None,
        hyperband=hyperband,
        warm_start=None,
        random_seed=None,
        request={},
    )


def sample(parameter: ParameterRange, count: int = 400, seed: int = 7) -> list[Any]:
    """``count`` values a trial would get for ``parameter`` under Random search."""
    specs = ranges(p=parameter)
    dists = search.distributions(specs)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(count):
        trial = study.ask(dists)
        out.append(search.to_values(specs, trial.params)["p"])
        study.tell(trial, 0.0)
    return out


# -- distributions and scaling ----------------------------------------------------------------


def test_distributions_of_each_kind() -> None:
    dists = search.distributions(
        ranges(
            lr=ContinuousParameter(0.001, 0.1, "Logarithmic"),
            dropout=ContinuousParameter(0.0, 0.5, "Linear"),
            layers=IntegerParameter(1, 8, "Linear"),
            width=IntegerParameter(16, 512, "Logarithmic"),
            opt=CategoricalParameter(["adam", "sgd"]),
            momentum=ContinuousParameter(0.0, 0.99, "ReverseLogarithmic"),
        )
    )
    assert dists["lr"] == FloatDistribution(0.001, 0.1, log=True)
    assert dists["dropout"] == FloatDistribution(0.0, 0.5, log=False)
    assert dists["layers"] == IntDistribution(1, 8, log=False)
    assert dists["width"] == IntDistribution(16, 512, log=True)
    assert dists["opt"] == CategoricalDistribution(["adam", "sgd"])
    # ReverseLogarithmic samples 1 - x log-uniformly
    momentum = dists["momentum"]
    assert isinstance(momentum, FloatDistribution) and momentum.log
    assert momentum.low == pytest.approx(0.01) and momentum.high == 1.0


@pytest.mark.parametrize(
    ("parameter", "log"),
    [
        (ContinuousParameter(0.0001, 1.0), True),  # four orders of magnitude
        (ContinuousParameter(0.01, 1.0), True),  # max / min == 100: logarithmic
        (ContinuousParameter(0.02, 1.0), False),  # max / min == 50: linear
        (ContinuousParameter(0.0, 1000.0), False),  # not positive: linear
        (ContinuousParameter(-5.0, 5.0), False),
        (IntegerParameter(1, 1000), True),
        (IntegerParameter(1, 99), False),
        (IntegerParameter(0, 1000), False),
        (ContinuousParameter(1e-5, 1.0, "Linear"), False),  # explicit scaling wins
        (ContinuousParameter(0.5, 1.0, "Logarithmic"), True),
    ],
    ids=repr,
)
def test_auto_scaling_follows_the_documented_rule(parameter: ParameterRange, log: bool) -> None:
    dist = search.distributions(ranges(p=parameter))["p"]
    assert isinstance(dist, FloatDistribution | IntDistribution)
    assert dist.log is log


def test_logarithmic_sampling_is_uniform_in_the_exponent() -> None:
    values = sample(ContinuousParameter(1e-4, 1.0, "Logarithmic"))
    assert all(1e-4 <= v <= 1.0 for v in values)
    below = sum(v < 1e-2 for v in values) / len(values)
    assert 0.35 < below < 0.65  # linear sampling would put 1% there


def test_reverse_logarithmic_sampling_is_dense_near_the_upper_bound() -> None:
    values = sample(ContinuousParameter(0.0, 0.9999, "ReverseLogarithmic"))
    assert all(0.0 <= v <= 0.9999 for v in values)
    near_top = sum(v > 0.99 for v in values) / len(values)
    assert 0.35 < near_top < 0.65  # linear sampling would put 1% there


def test_integer_and_categorical_samples_have_their_types() -> None:
    assert all(isinstance(v, int) and 1 <= v <= 4 for v in sample(IntegerParameter(1, 4), 50))
    assert set(sample(IntegerParameter(1, 4), 200)) == {1, 2, 3, 4}
    assert set(sample(CategoricalParameter(["a", 2, 0.5]), 100)) == {"a", 2, 0.5}


# -- round trips: Optuna params → trial hyperparameters → Optuna params ------------------------

ROUND_TRIP = {
    "lr": ContinuousParameter(1e-5, 1e-1, "Logarithmic"),
    "beta": ContinuousParameter(0.5, 0.999, "ReverseLogarithmic"),
    "gamma": ContinuousParameter(0.0, 0.9, "ReverseLogarithmic"),
    "dropout": ContinuousParameter(0.0, 0.5),
    "layers": IntegerParameter(1, 12),
    "width": IntegerParameter(8, 1024, "Logarithmic"),
    "opt": CategoricalParameter(["adam", "sgd"]),
    "batch": CategoricalParameter([16, 32, 64]),
    "ratio": CategoricalParameter([0.25, 0.5]),
}


def _hyperparameters(specs: list[RangeSpec], params: dict[str, Any]) -> dict[str, str]:
    values = search.to_values(specs, params)
    return {name: serialize_hyperparameter(value) for name, value in values.items()}


def test_sampled_params_survive_the_round_trip_through_trial_hyperparameters() -> None:
    specs = ranges(**ROUND_TRIP)
    dists = search.distributions(specs)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    for _ in range(50):
        trial = study.ask(dists)
        hyperparameters = _hyperparameters(specs, trial.params)
        back = search.from_hyperparameters(specs, hyperparameters)
        assert back is not None
        assert back.keys() == trial.params.keys()
        for name, value in trial.params.items():
            if isinstance(value, float):
                assert back[name] == pytest.approx(value, rel=1e-12, abs=1e-15)
            else:
                assert back[name] == value
        # what warm start does with a parent's trial: it must be a valid trial of the study
        create_trial(params=back, distributions=dists, value=1.0)
        study.tell(trial, 0.0)


def test_values_given_to_trials_are_in_the_user_scale() -> None:
    specs = ranges(**ROUND_TRIP)
    dists = search.distributions(specs)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=5))
    for _ in range(50):
        values = search.to_values(specs, study.ask(dists).params)
        for name, parameter in ROUND_TRIP.items():
            assert parameter.is_valid(values[name]), (name, values[name])


@pytest.mark.parametrize("name", ["beta", "gamma", "lr", "width", "dropout"])
@pytest.mark.parametrize("end", ["low", "high"])
def test_bounds_survive_the_round_trip(name: str, end: str) -> None:
    specs = ranges(**{name: ROUND_TRIP[name]})
    dist = search.distributions(specs)[name]
    assert isinstance(dist, FloatDistribution | IntDistribution)
    params = {name: getattr(dist, end)}
    back = search.from_hyperparameters(specs, _hyperparameters(specs, params))
    assert back is not None
    assert back[name] == pytest.approx(params[name])
    create_trial(params=back, distributions={name: dist}, value=0.0)


def test_reverse_logarithmic_values_are_flipped_back() -> None:
    specs = ranges(beta=ContinuousParameter(0.5, 0.99, "ReverseLogarithmic"))
    assert search.to_values(specs, {"beta": 0.1}) == {"beta": pytest.approx(0.9)}
    assert search.from_hyperparameters(specs, {"beta": "0.9"}) == {"beta": pytest.approx(0.1)}


@pytest.mark.parametrize(
    "hyperparameters",
    [
        {"lr": "0.01"},  # layers missing
        {"lr": "0.01", "layers": "abc"},  # not a number
        {"lr": "0.5", "layers": "3"},  # lr out of its range
        {"lr": "0.01", "layers": "30"},  # layers out of its range
        {"lr": "0.01", "layers": "3", "opt": "rmsprop"},  # not one of the categories
    ],
    ids=str,
)
def test_hyperparameters_that_do_not_fit_the_ranges_give_none(
    hyperparameters: dict[str, str],
) -> None:
    specs = ranges(
        lr=ContinuousParameter(0.001, 0.1),
        layers=IntegerParameter(1, 10),
        **({"opt": CategoricalParameter(["adam", "sgd"])} if "opt" in hyperparameters else {}),
    )
    assert search.from_hyperparameters(specs, hyperparameters) is None


def test_numeric_categories_are_matched_by_their_json_text() -> None:
    specs = ranges(batch=CategoricalParameter([16, 32]), ratio=CategoricalParameter([0.5, 1.5]))
    assert search.from_hyperparameters(specs, {"batch": "32", "ratio": "1.5"}) == {
        "batch": 32,
        "ratio": 1.5,
    }


def test_grid_size_is_the_product_of_the_categories() -> None:
    specs = ranges(a=CategoricalParameter([1, 2, 3]), b=CategoricalParameter(["x", "y"]))
    assert search.grid_size(specs) == 6
    assert search.grid_size(ranges(a=CategoricalParameter(["only"]))) == 1


# -- samplers -------------------------------------------------------------------------------------

SPACE = ranges(x=ContinuousParameter(0.0, 1.0), n=IntegerParameter(1, 5))


def test_random_and_grid_samplers() -> None:
    assert isinstance(
        search.make_sampler(tuning_spec("Random"), SPACE, 1, 10), optuna.samplers.RandomSampler
    )
    grid = ranges(a=CategoricalParameter([1, 2]), b=CategoricalParameter(["x", "y", "z"]))
    sampler = search.make_sampler(tuning_spec("Grid"), grid, 1, 6)
    assert isinstance(sampler, optuna.samplers.GridSampler)


@pytest.mark.skipif(not HAS_TORCH, reason="GPSampler needs torch")
@pytest.mark.filterwarnings("ignore:`warn_independent_sampling`:FutureWarning")
def test_bayesian_uses_a_gaussian_process_up_to_100_trials_and_tpe_beyond() -> None:
    assert isinstance(search.make_sampler(tuning_spec(), SPACE, 1, 100), optuna.samplers.GPSampler)
    assert isinstance(search.make_sampler(tuning_spec(), SPACE, 1, 101), optuna.samplers.TPESampler)


@pytest.mark.filterwarnings("ignore:`warn_independent_sampling`:FutureWarning")
def test_bayesian_falls_back_to_tpe_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def no_torch(name: str, *args: Any) -> Any:
        return None if name == "torch" else real(name, *args)

    monkeypatch.setattr(search.importlib.util, "find_spec", no_torch)
    assert isinstance(search.make_sampler(tuning_spec(), SPACE, 1, 10), optuna.samplers.TPESampler)


@pytest.mark.filterwarnings("ignore:`warn_independent_sampling`:FutureWarning")
def test_hyperband_samples_with_tpe() -> None:
    sampler = search.make_sampler(tuning_spec("Hyperband"), SPACE, 1, 10)
    assert isinstance(sampler, optuna.samplers.TPESampler)


@pytest.mark.parametrize("trials", [10, 500])
def test_samplers_are_built_without_deprecated_arguments(trials: int) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for strategy in ("Bayesian", "Hyperband"):
            search.make_sampler(tuning_spec(strategy), SPACE, 1, trials)


def _sequence(strategy: str, seed: int, count: int = 8) -> list[dict[str, Any]]:
    study = optuna.create_study(
        direction="maximize", sampler=search.make_sampler(tuning_spec(strategy), SPACE, seed, 20)
    )
    dists = search.distributions(SPACE)
    seen = []
    for _ in range(count):
        trial = study.ask(dists)
        seen.append(dict(trial.params))
        study.tell(trial, -((trial.params["x"] - 0.3) ** 2) + trial.params["n"] / 10)
    return seen


@pytest.mark.filterwarnings("ignore:`warn_independent_sampling`:FutureWarning")
@pytest.mark.parametrize("strategy", ["Random", "Bayesian", "Hyperband"])
def test_the_same_seed_gives_the_same_sequence(strategy: str) -> None:
    first = _sequence(strategy, 42)
    assert _sequence(strategy, 42) == first
    assert _sequence(strategy, 43) != first


def test_grid_visits_every_combination_once() -> None:
    grid = ranges(a=CategoricalParameter([1, 2]), b=CategoricalParameter(["x", "y", "z"]))
    study = optuna.create_study(sampler=search.make_sampler(tuning_spec("Grid"), grid, 0, 6))
    dists = search.distributions(grid)
    seen = []
    for _ in range(6):
        trial = study.ask(dists)
        seen.append((trial.params["a"], trial.params["b"]))
        study.tell(trial, 0.0)
    assert sorted(seen) == sorted((a, b) for a in (1, 2) for b in ("x", "y", "z"))


# -- pruners ----------------------------------------------------------------------------------


def test_pruner_per_strategy_and_early_stopping_type() -> None:
    assert isinstance(search.make_pruner(tuning_spec()), optuna.pruners.NopPruner)
    median = search.make_pruner(tuning_spec(early_stopping_type="Auto"))
    assert isinstance(median, optuna.pruners.BasePruner)
    assert not isinstance(median, optuna.pruners.NopPruner | optuna.pruners.MedianPruner)
    config = HyperbandStrategyConfig(min_resource=1, max_resource=9, reduction_factor=3)
    hyperband = search.make_pruner(tuning_spec("Hyperband", hyperband=config))
    assert isinstance(hyperband, optuna.pruners.HyperbandPruner)


def _median_study(
    maximize: bool, histories: list[list[float]], state: TrialState = TrialState.COMPLETE
) -> optuna.Study:
    study = optuna.create_study(
        direction="maximize" if maximize else "minimize",
        pruner=search.MedianRulePruner(maximize=maximize),
    )
    for history in histories:
        study.add_trial(
            create_trial(
                state=state,
                value=history[-1] if state == TrialState.COMPLETE else None,
                intermediate_values=dict(enumerate(history)),
            )
        )
    return study


def _pruned(study: optuna.Study, values: list[float]) -> bool:
    trial = study.ask()
    for step, value in enumerate(values):
        trial.report(value, step)
    return trial.should_prune()


# Running averages at step 1: [6, 0] → 3, [8, 2] → 5, [10, 4] → 7: the median is 5.
# (The median of the values *at* step 1 would be 2, and of the final values 2 as well.)
HISTORIES = [[6.0, 0.0, 0.0], [8.0, 2.0, 2.0], [10.0, 4.0, 2.0]]


@pytest.mark.parametrize(
    ("value_at_step_1", "pruned"), [(4.0, False), (4.9, False), (5.1, True), (6.0, True)]
)
def test_median_rule_minimize(value_at_step_1: float, pruned: bool) -> None:
    study = _median_study(False, HISTORIES)
    assert _pruned(study, [0.0, value_at_step_1]) is pruned


@pytest.mark.parametrize(
    ("value_at_step_1", "pruned"), [(-4.0, False), (-4.9, False), (-5.1, True), (-6.0, True)]
)
def test_median_rule_maximize(value_at_step_1: float, pruned: bool) -> None:
    negated = [[-v for v in history] for history in HISTORIES]
    study = _median_study(True, negated)
    assert _pruned(study, [0.0, value_at_step_1]) is pruned


def test_median_rule_compares_the_current_step_only() -> None:
    # step 0 averages: 6, 8, 10 → median 8; a good first value is not pruned
    study = _median_study(False, HISTORIES)
    assert _pruned(study, [7.0]) is False
    assert _pruned(study, [9.0]) is True


def test_median_rule_uses_the_steps_the_others_reached() -> None:
    # At step 5 the others' running averages are over all their (3) values: 2, 4, 5.33.
    study = _median_study(False, HISTORIES)
    assert _pruned(study, [0.0] * 5 + [3.9]) is False
    assert _pruned(study, [0.0] * 5 + [4.1]) is True


def test_median_rule_needs_three_completed_trials() -> None:
    study = _median_study(False, HISTORIES[:2])
    assert _pruned(study, [100.0, 100.0]) is False
    study = _median_study(False, HISTORIES[:2])
    study.add_trial(
        create_trial(state=TrialState.FAIL, intermediate_values={0: 0.0, 1: 0.0}, value=None)
    )
    assert _pruned(study, [100.0, 100.0]) is False
    study.add_trial(create_trial(value=0.0, intermediate_values={0: 0.0, 1: 0.0}))
    assert _pruned(study, [100.0, 100.0]) is True


def test_median_rule_does_nothing_before_the_first_value() -> None:
    study = _median_study(False, HISTORIES)
    assert study.ask().should_prune() is False


def _hyperband_run(config: HyperbandStrategyConfig, trials: int) -> tuple[Any, list[int]]:
    """Simulate trials emitting one value per unit of resource; return the pruner and
    how many values each trial emitted before it was pruned or reached max_resource."""
    pruner = search.make_pruner(tuning_spec("Hyperband", hyperband=config))
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=pruner,
    )
    emitted = []
    assert config.max_resource is not None
    for number in range(trials):
        trial = study.ask({"q": FloatDistribution(0.0, 1.0)})
        quality = trial.params["q"]
        steps = 0
        for step in range(config.max_resource):
            trial.report(quality * (step + 1), step)
            steps += 1
            if trial.should_prune():
                break
        emitted.append(steps)
        if steps < config.max_resource:
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, quality * steps)
        assert number == trial.number
    return pruner, emitted


def test_hyperband_stops_some_trials_early_and_none_after_max_resource() -> None:
    config = HyperbandStrategyConfig(min_resource=1, max_resource=9, reduction_factor=3)
    pruner, emitted = _hyperband_run(config, 30)
    assert max(emitted) <= 9
    assert any(steps < 9 for steps in emitted)
    assert any(steps == 9 for steps in emitted)
    # brackets from the resources: floor(log_3(9 / 1)) + 1
    assert pruner._n_brackets == 3


def test_hyperband_honours_number_of_brackets() -> None:
    config = HyperbandStrategyConfig(
        min_resource=1, max_resource=9, reduction_factor=3, number_of_brackets=2
    )
    pruner, _ = _hyperband_run(config, 6)
    assert pruner._n_brackets == 2
    assert pruner._reduction_factor == 3
    assert pruner._min_resource == 1 and pruner._max_resource == 9


def test_hyperband_defaults() -> None:
    pruner = search.make_pruner(tuning_spec("Hyperband", hyperband=HyperbandStrategyConfig()))
    assert pruner._min_resource == 1
    assert pruner._reduction_factor == 3
    assert pruner._max_resource == "auto"


def test_missing_optuna_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        search.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "optuna" else real(name, *a),
    )
    with pytest.raises(ImportError, match=r"pip install 'sageyard\[tuning\]'"):
        search.require_optuna()


def test_the_median_rule_threshold_constants() -> None:
    assert search.MEDIAN_RULE_MIN_COMPLETED == 3
    assert search.GP_TRIAL_LIMIT == 100
    assert math.isfinite(search.GP_TRIAL_LIMIT)
