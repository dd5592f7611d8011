"""CreateHyperParameterTuningJob values that can never start a job are refused before
anything is written.

SageMaker's limits (its API reference and botocore's service model): a base name of letters,
digits and hyphens (an absolute ``base_tuning_job_name`` once made folders outside
SAGEYARD_HOME); at most 30 ranges in all; categorical ranges of 1-30 values of at most 256
characters; range names of at most 256; trials of at most 100 hyperparameters; at most 10
training definitions, named by SageMaker's pattern; at most 48 environment variables over
all of them. Plus what no job can hold: NUL bytes. Each is a ConfigurationError (a
ValueError) that names what was given; no tuning job, training job or folder is left.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.parameter import CategoricalParameter, ContinuousParameter
from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.train import ModelTrainer
from sageyard.train.configs import SourceCode
from sageyard.train.tuner import HyperparameterTuner
from sageyard.tuning.service import TuningJobService
from tests.unit.tuning.conftest import LR, SCORE


@pytest.fixture
def request_(request_: dict[str, Any]) -> dict[str, Any]:
    """The shared request with the Random strategy (no Gaussian-process sampler to load)."""
    request_["HyperParameterTuningJobConfig"]["Strategy"] = "Random"
    return request_


def assert_nothing_written(home: Path) -> None:
    settings = Settings.from_env()
    assert TuningJobService(settings).list_jobs() == []
    assert TrainingJobService(settings).list_jobs() == []
    assert not (home / "jobs").exists()


def refused(request: dict[str, Any], home: Path, *matches: str) -> ConfigurationError:
    service = TuningJobService(Settings.from_env())
    with pytest.raises(ConfigurationError) as excinfo:
        service.create_hyper_parameter_tuning_job(request)
    for match in matches:
        assert re.search(re.escape(match), str(excinfo.value)), str(excinfo.value)
    assert_nothing_written(home)
    return excinfo.value


def ranges_of(request: dict[str, Any]) -> dict[str, Any]:
    ranges: dict[str, Any] = request["HyperParameterTuningJobConfig"]["ParameterRanges"]
    return ranges


def accepted(request: dict[str, Any]) -> None:
    from sageyard.tuning.request import validate_tuning_job

    service = TuningJobService(Settings.from_env())
    validate_tuning_job(request, service.settings, service.objects)


# -- base names --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["absolute", "relative"])
def test_a_base_name_with_a_path_creates_no_folder_anywhere(
    request_: dict[str, Any], sageyard_home: Path, tmp_path: Path, kind: str
) -> None:
    outside = tmp_path / "outside"
    base = str(outside) if kind == "absolute" else "../../outside"
    request_["Sageyard"]["BaseJobName"] = base
    refused(request_, sageyard_home, "must be letters, digits and hyphens", repr(base))
    assert not list(tmp_path.glob("outside*"))


def test_the_tuner_refuses_an_absolute_base_tuning_job_name(
    code_dir: Path, sageyard_home: Path, tmp_path: Path
) -> None:
    trainer = ModelTrainer(
        training_image="python:3.11",
        source_code=SourceCode(source_dir=str(code_dir), entry_script="train.py"),
    )
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name="score",
        hyperparameter_ranges={"lr": ContinuousParameter(0.001, 0.1)},
        metric_definitions=[SCORE],
        max_jobs=2,
        max_parallel_jobs=1,
        base_tuning_job_name=str(tmp_path / "outside"),
    )
    with pytest.raises(ValueError, match="base_tuning_job_name"):
        tuner.tune(wait=False)
    assert_nothing_written(sageyard_home)
    assert not list(tmp_path.glob("outside*"))


@pytest.mark.parametrize("name", ["a_b", "-a", "x" * 65, "a b"])
def test_definition_names_follow_sagemakers_rule(
    request_: dict[str, Any], definition: dict[str, Any], sageyard_home: Path, name: str
) -> None:
    item = copy.deepcopy(definition)
    item.update(
        DefinitionName=name,
        TuningObjective={"Type": "Maximize", "MetricName": "score"},
        HyperParameterRanges={"ContinuousParameterRanges": [dict(LR)]},
    )
    request = {
        "HyperParameterTuningJobName": "multi",
        "HyperParameterTuningJobConfig": request_["HyperParameterTuningJobConfig"],
        "TrainingJobDefinitions": [item],
    }
    del request["HyperParameterTuningJobConfig"]["ParameterRanges"]
    refused(request, sageyard_home, "DefinitionName (a model_trainer_dict key) must be 1-64")


def test_at_most_ten_training_definitions(
    request_: dict[str, Any], definition: dict[str, Any], sageyard_home: Path
) -> None:
    items = []
    for index in range(11):
        item = copy.deepcopy(definition)
        item.update(
            DefinitionName=f"d{index}",
            TuningObjective={"Type": "Maximize", "MetricName": "score"},
            HyperParameterRanges={"ContinuousParameterRanges": [dict(LR)]},
        )
        items.append(item)
    config = request_["HyperParameterTuningJobConfig"]
    del config["ParameterRanges"]
    request = {
        "HyperParameterTuningJobName": "multi",
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinitions": items,
    }
    refused(request, sageyard_home, "has 11 training definitions", "at most 10")


# -- ranges ------------------------------------------------------------------------------------


def test_a_categorical_range_of_at_most_30_values(
    request_: dict[str, Any], sageyard_home: Path
) -> None:
    ranges = ranges_of(request_)
    ranges["CategoricalParameterRanges"] = [{"Name": "opt", "Values": [f"v{i}" for i in range(30)]}]
    accepted(request_)
    ranges["CategoricalParameterRanges"][0]["Values"].append("v30")
    refused(request_, sageyard_home, "CategoricalParameter has 31 values", "at most 30")


def test_a_categorical_value_of_at_most_256_characters(
    request_: dict[str, Any], sageyard_home: Path
) -> None:
    ranges_of(request_)["CategoricalParameterRanges"] = [{"Name": "opt", "Values": ["v" * 257]}]
    refused(request_, sageyard_home, "('opt')", "is 257 characters long", "at most 256")


def test_the_facade_refuses_a_categorical_over_the_limit() -> None:
    with pytest.raises(ValueError, match="CategoricalParameter has 31 values"):
        CategoricalParameter(list(range(31)))
    assert CategoricalParameter(list(range(30))).values[-1] == 29


def test_at_most_30_ranges_in_all(request_: dict[str, Any], sageyard_home: Path) -> None:
    ranges = ranges_of(request_)
    ranges["ContinuousParameterRanges"] = [{**LR, "Name": f"c{i}"} for i in range(16)]
    ranges["IntegerParameterRanges"] = [
        {"Name": f"i{i}", "MinValue": "1", "MaxValue": "5"} for i in range(14)
    ]
    accepted(request_)
    ranges["CategoricalParameterRanges"] = [{"Name": "one-more", "Values": ["a", "b"]}]
    refused(request_, sageyard_home, "has at least 31 ranges", "at most 30 tuned hyperparameters")


def test_a_range_name_of_at_most_256_characters(
    request_: dict[str, Any], sageyard_home: Path
) -> None:
    ranges_of(request_)["ContinuousParameterRanges"] = [{**LR, "Name": "n" * 257}]
    refused(request_, sageyard_home, "Name is 257 characters long", "at most 256")


# -- what each trial gets ----------------------------------------------------------------------


def test_each_trial_gets_at_most_100_hyperparameters(
    request_: dict[str, Any], sageyard_home: Path
) -> None:
    definition = request_["TrainingJobDefinition"]
    definition["StaticHyperParameters"] = {f"hp{i}": "1" for i in range(98)}
    accepted(request_)  # 98 static + lr + the objective metric: 100
    definition["StaticHyperParameters"]["hp98"] = "1"
    refused(
        request_,
        sageyard_home,
        "each trial would get 101 hyperparameters (99 static, 1 tuned and "
        "_tuning_objective_metric)",
    )


def test_a_static_hyperparameter_of_at_most_2500_characters(
    request_: dict[str, Any], sageyard_home: Path
) -> None:
    request_["TrainingJobDefinition"]["StaticHyperParameters"] = {"config": "x" * 2501}
    refused(request_, sageyard_home, "['config'] is 2,501 characters long")


def test_at_most_48_environment_variables_in_all(
    request_: dict[str, Any], sageyard_home: Path
) -> None:
    request_["TrainingJobDefinition"]["Environment"] = {f"V{i}": "1" for i in range(48)}
    accepted(request_)
    request_["TrainingJobDefinition"]["Environment"]["V48"] = "1"
    refused(request_, sageyard_home, "set 49 environment variables", "at most 48")


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r["TrainingJobDefinition"]["StaticHyperParameters"].update(epochs="3\x00"),
        lambda r: r["HyperParameterTuningJobConfig"]["ParameterRanges"].update(
            CategoricalParameterRanges=[{"Name": "opt", "Values": ["a\x00"]}]
        ),
        lambda r: r["TrainingJobDefinition"].update(Environment={"A": "\x00"}),
    ],
    ids=["static", "categorical", "environment"],
)
def test_a_nul_byte_is_refused(
    request_: dict[str, Any], sageyard_home: Path, change: Callable[[dict[str, Any]], None]
) -> None:
    change(request_)
    refused(request_, sageyard_home, "NUL byte")


def test_an_environment_name_with_an_equals_sign(
    request_: dict[str, Any], sageyard_home: Path
) -> None:
    request_["TrainingJobDefinition"]["Environment"] = {"A=B": "1"}
    refused(request_, sageyard_home, "'A=B' is not an environment variable name")


def test_dot_dot_in_a_definitions_output_path(
    request_: dict[str, Any], sageyard_home: Path
) -> None:
    request_["TrainingJobDefinition"]["OutputDataConfig"]["S3OutputPath"] = "s3://bucket/../up"
    refused(request_, sageyard_home, "OutputDataConfig.S3OutputPath", "'..' component")
