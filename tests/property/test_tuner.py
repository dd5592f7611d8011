"""Properties of ``HyperparameterTuner.tune()`` over ranges and the tuning shapes.

Valid ranges and names are accepted by the service's own check of the request, and reach the
tuning job's spec unchanged; a tuning shape that breaks one rule (built with
``model_construct``, so that only the request check stands in the way) is refused with a
ValueError, and nothing is written. Accepted requests are captured, never started.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sageyard.core import shapes as s
from sageyard.core.parameter import ContinuousParameter
from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.train import ModelTrainer
from sageyard.train.configs import SourceCode
from sageyard.train.tuner import HyperparameterTuner
from sageyard.tuning.service import TuningJobService
from sageyard.tuning.spec import TuningJobSpec
from tests.property import ranges, shape_cases
from tests.property import strategies as g
from tests.property.strategies import FEWER

METRICS = [{"Name": "score", "Regex": "score=([0-9.]+)"}]
MakeTuner = Callable[..., HyperparameterTuner]


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[TuningJobSpec]:
    """The specs ``tune()`` hands to the service; no tuning job is created or started."""
    specs: list[TuningJobSpec] = []

    def create(self: TuningJobService, spec: TuningJobSpec, **kwargs: Any) -> Any:
        specs.append(spec)
        return SimpleNamespace(name=spec.tuning_job_name)

    monkeypatch.setattr(TuningJobService, "create", create)
    return specs


@pytest.fixture
def make_tuner(tmp_path: Path) -> MakeTuner:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('score=1.0')\n")

    def make(**kwargs: Any) -> HyperparameterTuner:
        trainer = ModelTrainer(
            training_image="python:3.11",
            source_code=SourceCode(source_dir=str(code), entry_script="train.py"),
        )
        values: dict[str, Any] = {
            "model_trainer": trainer,
            "objective_metric_name": "score",
            "hyperparameter_ranges": {"lr": ContinuousParameter(0.001, 0.1)},
            "metric_definitions": METRICS,
            "max_jobs": 4,
            "max_parallel_jobs": 2,
        }
        values.update(kwargs)
        return HyperparameterTuner(**values)

    return make


def assert_nothing_written(home: Path) -> None:
    settings = Settings.from_env()
    assert TuningJobService(settings).list_jobs() == []
    assert TrainingJobService(settings).list_jobs() == []
    assert not (home / "jobs").exists()


RANGE_NAME = g.word(g.ALNUM + "_-", max_size=20)


@FEWER
@given(st.dictionaries(RANGE_NAME, ranges.valid_range(), min_size=1, max_size=5))
def test_valid_ranges_reach_the_tuning_job_unchanged(
    make_tuner: MakeTuner, captured: list[TuningJobSpec], given_ranges: dict[str, Any]
) -> None:
    parameters = {
        name: ranges.build(*kind_and_args) for name, kind_and_args in given_ranges.items()
    }
    make_tuner(hyperparameter_ranges=parameters).tune(wait=False)
    (definition,) = captured[-1].definitions
    assert {r.name: r.to_parameter() for r in definition.ranges} == parameters


@FEWER
@example(name="abc")
@given(g.job_name(32))
def test_valid_tuning_job_names_are_taken_as_given(
    make_tuner: MakeTuner, captured: list[TuningJobSpec], name: str
) -> None:
    make_tuner().tune(wait=False, job_name=name)
    assert captured[-1].tuning_job_name == name


@FEWER
@example(name="abc\n")
@given(g.bad_job_name(32))
def test_invalid_tuning_job_names_are_refused(
    sageyard_home: Path, make_tuner: MakeTuner, captured: list[TuningJobSpec], name: str
) -> None:
    with pytest.raises(ValueError):
        make_tuner().tune(wait=False, job_name=name)
    assert captured == []
    assert_nothing_written(sageyard_home)


def constructed(case: shape_cases.Case, data: st.DataObject) -> Any:
    """A shape of ``case`` that breaks one of its rules, built without validation."""
    args = data.draw(case.valid, label="valid args")
    rule = data.draw(st.sampled_from(sorted(case.invalid)), label="rule")
    overrides = data.draw(case.invalid[rule](args), label="overrides")
    return case.cls.model_construct(**{**args, **overrides})


def _hyperband(data: st.DataObject) -> dict[str, Any]:
    config = constructed(shape_cases.HYPERBAND, data)
    return {
        "strategy": "Hyperband",
        "strategy_config": s.HyperParameterTuningJobStrategyConfig(
            hyperband_strategy_config=None
        ).model_copy(update={"hyperband_strategy_config": config}),
    }


def _completion(data: st.DataObject) -> dict[str, Any]:
    return {"completion_criteria_config": constructed(shape_cases.COMPLETION_CRITERIA, data)}


def _not_improving(data: st.DataObject) -> dict[str, Any]:
    inner = constructed(shape_cases.BEST_OBJECTIVE_NOT_IMPROVING, data)
    criteria = s.TuningJobCompletionCriteria().model_copy(
        update={"best_objective_not_improving": inner}
    )
    return {"completion_criteria_config": criteria}


def _convergence(data: st.DataObject) -> dict[str, Any]:
    inner = constructed(shape_cases.CONVERGENCE_DETECTED, data)
    criteria = s.TuningJobCompletionCriteria().model_copy(update={"convergence_detected": inner})
    return {"completion_criteria_config": criteria}


def _warm_start(data: st.DataObject) -> dict[str, Any]:
    return {"warm_start_config": constructed(shape_cases.WARM_START, data)}


INVALID_SETTINGS = {
    "hyperband": _hyperband,
    "completion criteria": _completion,
    "best objective not improving": _not_improving,
    "convergence detected": _convergence,
    "warm start": _warm_start,
}


@FEWER
@given(data=st.data())
@pytest.mark.parametrize("setting", sorted(INVALID_SETTINGS))
def test_invalid_tuning_shapes_are_refused_before_anything_is_written(
    sageyard_home: Path,
    make_tuner: MakeTuner,
    captured: list[TuningJobSpec],
    setting: str,
    data: st.DataObject,
) -> None:
    tuner_args = INVALID_SETTINGS[setting](data)
    with pytest.raises(ValueError):
        make_tuner(**tuner_args).tune(wait=False)
    assert captured == []
    assert_nothing_written(sageyard_home)
