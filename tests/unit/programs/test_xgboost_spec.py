"""The XGBoost algorithm's declarations and hyperparameter checks (no xgboost needed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from sageyard.core.parameter import ContinuousParameter, IntegerParameter
from sageyard.jobs.metrics import MetricExtractor
from sageyard.programs import program
from sageyard.programs._common import AlgorithmError
from sageyard.programs.xgboost import spec
from sageyard.programs.xgboost.config import (
    CONTAINER_METRICS,
    HYPERPARAMETERS,
    XGBOOST_METRICS,
    is_maximized,
    parse_config,
)
from sageyard.programs.xgboost.evaluation import round_line


def imported_by(statement: str) -> list[str]:
    """Top-level packages among the watched ones that ``statement`` loads, in a new process."""
    probe = (
        "import json, sys\n"
        f"{statement}\n"
        "watched = {'xgboost', 'numpy', 'scipy', 'pandas', 'sklearn', 'pydantic', 'botocore'}\n"
        "print(json.dumps(sorted({m.partition('.')[0] for m in sys.modules} & watched)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_spec_is_light_enough_for_the_facade() -> None:
    loaded = imported_by("import sageyard.programs.xgboost.spec")
    assert not {"xgboost", "numpy", "scipy", "pandas", "sklearn"} & set(loaded)


def test_the_program_starts_without_pydantic_numpy_or_xgboost() -> None:
    # A job that fails on its hyperparameters fails in a few tens of milliseconds.
    assert imported_by("import sageyard.programs.xgboost.__main__") == []


def test_the_registry_finds_the_spec() -> None:
    assert program("xgboost") is spec.PROGRAM
    assert spec.PROGRAM.hyperparameters == tuple(HYPERPARAMETERS)


def raw(**values: object) -> dict[str, str]:
    return {"num_round": "10", **{k: str(v) for k, v in values.items()}}


def test_defaults_and_what_goes_to_xgboost() -> None:
    config, notes = parse_config(raw())
    assert config.num_round == 10
    assert config.params == {"objective": "reg:squarederror", "seed": 0}  # XGBoost's defaults
    assert config.early_stopping_rounds is None
    assert not config.csv_weights
    assert notes == []
    documented = {h.name: h.default for h in HYPERPARAMETERS}
    assert documented["eta"] == 0.3
    assert documented["max_depth"] == 6
    assert documented["lambda"] == 1.0
    assert documented["alpha"] == 0.0
    assert documented["objective"] == "reg:squarederror"


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("learning_rate", "eta"),
        ("min_split_loss", "gamma"),
        ("reg_lambda", "lambda"),
        ("reg_alpha", "alpha"),
    ],
)
def test_aliases(alias: str, name: str) -> None:
    config, _ = parse_config(raw(**{alias: "0.25"}))
    assert config.params[name] == 0.25


def test_an_alias_and_its_name_together_are_refused() -> None:
    with pytest.raises(AlgorithmError, match="eta is given twice"):
        parse_config(raw(eta=0.1, learning_rate=0.2))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"num_round": "0"}, "num_round=0 of the XGBoost algorithm must be >= 1"),
        ({"num_round": "2.5"}, "num_round='2.5' of the XGBoost algorithm must be an integer"),
        ({"num_round": "10", "eta": "1.5"}, "eta=1.5 of the XGBoost algorithm must be <= 1"),
        (
            {"num_round": "10", "subsample": "0"},
            "subsample=0.0 of the XGBoost algorithm must be > 0",
        ),
        (
            {"num_round": "10", "max_depth": "-1"},
            "max_depth=-1 of the XGBoost algorithm must be >= 0",
        ),
        ({"num_round": "10", "csv_weights": "2"}, "csv_weights=2 of the XGBoost algorithm"),
        ({"num_round": "10", "tree_method": "fast"}, "tree_method='fast'.*choose from auto"),
        ({"num_round": "10", "objective": "binary:foo"}, "objective='binary:foo'"),
        ({"num_round": "10", "tweedie_variance_power": "2"}, "tweedie_variance_power=2.0.*< 2"),
        ({"num_round": "10", "max_dept": "3"}, "'max_dept' is not a hyperparameter of the XGBoost"),
        ({"eta": "0.1"}, "num_round is required by the XGBoost algorithm"),
    ],
)
def test_mistakes_name_the_hyperparameter(values: dict[str, str], message: str) -> None:
    with pytest.raises(AlgorithmError, match=message) as raised:
        parse_config(values)
    assert str(raised.value).startswith("ClientError: ")


def test_multi_class_objectives_need_num_class_and_others_refuse_it() -> None:
    with pytest.raises(AlgorithmError, match="num_class is required with objective=multi:softmax"):
        parse_config(raw(objective="multi:softmax"))
    with pytest.raises(AlgorithmError, match="num_class=3 is only for the multi:softmax"):
        parse_config(raw(objective="binary:logistic", num_class=3))
    config, _ = parse_config(raw(objective="multi:softprob", num_class=3))
    assert config.params["num_class"] == 3
    assert config.num_class == 3


def test_eval_metrics_are_checked_and_split_between_xgboost_and_the_program() -> None:
    config, _ = parse_config(
        raw(objective="binary:logistic", eval_metric="auc,error@0.7,accuracy,f1,auc")
    )
    assert config.params["eval_metric"] == ["auc", "error@0.7"]
    assert config.container_metrics == ("accuracy", "f1")
    assert config.stopping_metric == "f1"  # the last one, as XGBoost stops on
    config, _ = parse_config(raw(objective="rank:ndcg", eval_metric='["ndcg@5", "map@3-"]'))
    assert config.params["eval_metric"] == ["ndcg@5", "map@3-"]
    for bad, message in [
        ("bogus", "eval_metric='bogus' is not a metric"),
        ("ndcg@0.5", "eval_metric='ndcg@0.5' is not a metric"),
        ("auc", "'auc' can only be applied to classification and ranking"),
        ("accuracy", "'accuracy' needs a classification objective"),
    ]:
        with pytest.raises(AlgorithmError, match=message):
            parse_config(raw(eval_metric=bad))


def test_the_tuning_objective_is_evaluated_and_stopped_on() -> None:
    values = raw(objective="binary:logistic", early_stopping_rounds=5)
    values["_tuning_objective_metric"] = "validation:auc"
    config, _ = parse_config(values)
    assert config.params["eval_metric"] == ["auc"]
    assert config.stopping_metric == "auc"
    values["eval_metric"] = "logloss"
    config, _ = parse_config(values)
    assert config.params["eval_metric"] == ["logloss", "auc"]
    assert config.stopping_metric == "auc"
    values["_tuning_objective_metric"] = "validation:nonsense"
    with pytest.raises(AlgorithmError, match="tuning objective 'validation:nonsense'"):
        parse_config(values)


def test_old_container_settings_are_translated_or_ignored_with_a_note() -> None:
    config, notes = parse_config(
        raw(objective="reg:linear", tree_method="gpu_hist", sketch_eps=0.1, predictor="auto")
    )
    assert config.params["objective"] == "reg:squarederror"
    assert (config.params["tree_method"], config.params["device"]) == ("hist", "cuda")
    assert "sketch_eps" not in config.params
    assert "predictor" not in config.params
    text = " ".join(notes)
    for word in ("reg:linear", "gpu_hist", "sketch_eps", "predictor"):
        assert word in text


def test_constraints_and_updaters() -> None:
    config, _ = parse_config(
        raw(
            tree_method="hist",
            monotone_constraints="[1, 0,-1]",
            interaction_constraints="[[0, 1], [2]]",
            updater="grow_quantile_histmaker,prune",
        )
    )
    assert config.params["monotone_constraints"] == "(1,0,-1)"
    assert config.params["interaction_constraints"] == "[[0,1],[2]]"
    assert config.params["updater"] == "grow_quantile_histmaker,prune"
    for values, message in [
        ({"monotone_constraints": "(1,2)"}, "monotone_constraints='\\(1,2\\)' must be a tuple"),
        ({"interaction_constraints": "[0,1]"}, "interaction_constraints='\\[0,1\\]' must be"),
        ({"updater": "grow_colmaker,grow_histmaker"}, "more than one tree grow plugin"),
        ({"updater": "shotgun"}, "shotgun and coord_descent are for booster=gblinear"),
        ({"booster": "gblinear", "updater": "prune"}, "does not fit booster=gblinear"),
        ({"process_type": "update", "updater": "grow_colmaker"}, "process_type=update"),
        ({"updater": "grow_skmaker"}, "updater=\\['grow_skmaker'\\].*choose from grow_colmaker"),
    ]:
        with pytest.raises(AlgorithmError, match=message):
            parse_config(raw(**values))


def test_every_metric_has_train_and_validation_definitions() -> None:
    names = {d.name for d in spec.PROGRAM.metric_definitions}
    for metric in (*XGBOOST_METRICS, *CONTAINER_METRICS):
        assert {f"train:{metric}", f"validation:{metric}"} <= names
    assert is_maximized("auc") and is_maximized("ndcg@5") and not is_maximized("rmse")


def test_the_definitions_read_the_container_log_lines() -> None:
    lines = [
        round_line(0, [("train", "logloss", 0.5), ("train", "auc", 0.9)]),
        round_line(
            1,
            [
                ("train", "logloss", 0.25),
                ("train", "auc", 0.95),
                ("validation", "logloss", 0.3),
                ("validation", "auc", 0.93),
                ("validation", "ndcg@32", 0.8),
                ("validation", "tweedie-nloglik@1.5", 2.5),
                ("validation", "mape", 0.1),
                ("validation", "map", 0.7),
            ],
        ),
        "[2026-11-28:01:02:03:INFO] Train matrix has 400 rows",
    ]
    points = MetricExtractor(spec.PROGRAM.metric_definitions).feed(lines)
    seen = {(p.metric_name, p.value) for p in points}
    assert seen == {
        ("train:logloss", 0.5),
        ("train:auc", 0.9),
        ("train:logloss", 0.25),
        ("train:auc", 0.95),
        ("validation:logloss", 0.3),
        ("validation:auc", 0.93),
        ("validation:ndcg", 0.8),
        ("validation:tweedie-nloglik", 2.5),
        ("validation:mape", 0.1),
        ("validation:map", 0.7),
    }


def test_the_documented_regex_reads_the_last_metric_of_a_line() -> None:
    line = round_line(4, [("train", "auc", 0.98), ("validation", "auc", 0.97)])
    assert line == "[4]#011train-auc:0.98#011validation-auc:0.97"
    documented = re.compile(r".*\[[0-9]+\].*#011validation-auc:(\S+)")
    match = documented.match(line)
    assert match is not None and float(match.group(1)) == 0.97


def test_tunable_ranges_are_the_documented_ones_within_the_valid_ranges() -> None:
    ranges = spec.PROGRAM.tunable_ranges
    assert set(ranges) == {
        "alpha",
        "colsample_bylevel",
        "colsample_bynode",
        "colsample_bytree",
        "eta",
        "gamma",
        "lambda",
        "max_delta_step",
        "max_depth",
        "min_child_weight",
        "num_round",
        "subsample",
    }
    assert ranges["eta"] == ContinuousParameter(0.1, 0.5, "Linear")
    assert ranges["alpha"] == ContinuousParameter(0, 1000, "Linear")
    assert ranges["num_round"] == IntegerParameter(10, 500, "Logarithmic")
    by_name = {h.name: h for h in HYPERPARAMETERS}
    for name, parameter in ranges.items():
        assert isinstance(parameter, ContinuousParameter | IntegerParameter)
        for value in (parameter.min_value, parameter.max_value):
            parse_config(raw(**{name: value}))  # both ends are valid values
        kinds = ("int", "float") if isinstance(parameter, IntegerParameter) else ("float",)
        assert by_name[name].kind in kinds  # max_delta_step: a number, tuned as an integer


def test_long_log_lines_stay_cheap_to_scan() -> None:
    extractor = MetricExtractor(spec.PROGRAM.metric_definitions)
    started = time.perf_counter()
    extractor.feed(["x" * 100_000, "[1] " + "value #011 " * 10_000])
    assert time.perf_counter() - started < 1.0  # ~0.02 s; a leading ".*" took minutes


def test_the_older_containers_silent_switch_is_taken() -> None:
    """The 1.0-1 container takes ``silent`` (XGBoost < 1.0): silent=1 is verbosity=0."""
    config, notes = parse_config({"num_round": "5", "silent": "1"})
    assert config.params["verbosity"] == 0 and "silent" not in config.params
    assert any("silent" in note for note in notes)
    config, _ = parse_config({"num_round": "5", "silent": "1", "verbosity": "2"})
    assert config.params["verbosity"] == 2  # an explicit verbosity wins
