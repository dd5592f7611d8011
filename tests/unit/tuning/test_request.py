"""CreateHyperParameterTuningJob requests, straight into ``validate_tuning_job``.

Each rule refuses a request with a ConfigurationError (a ValueError) that names what was
given and how to fix it; a valid request becomes a TuningJobSpec whose training definitions
hold trial templates checked by the training-job rules. Nothing here starts a process.
"""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sageyard.core.exceptions import ConfigurationError, ResourceLimitExceeded
from sageyard.core.parameter import CategoricalParameter, ContinuousParameter
from sageyard.core.settings import Settings
from sageyard.storage import ObjectStore
from sageyard.store import JobRecord
from sageyard.tuning import service as tuning_service
from sageyard.tuning.request import (
    ValidatedTuningJob,
    validate_tuning_job,
)
from sageyard.tuning.rules import check_settings
from sageyard.tuning.service import TuningJobService
from sageyard.tuning.spec import KIND
from tests.unit.tuning.conftest import LR, ROLE, SCORE

ACC = {"Name": "acc", "Regex": "acc=([0-9.]+)"}
GRID = {
    "CategoricalParameterRanges": [
        {"Name": "a", "Values": ["1", "2"]},
        {"Name": "b", "Values": ["x", "y", "z"]},
    ]
}


@pytest.fixture
def multi(definition: dict[str, Any]) -> dict[str, Any]:
    """A valid request with two training definitions, ``a`` and ``b``."""
    a = copy.deepcopy(definition)
    a.update(
        DefinitionName="a",
        TuningObjective={"Type": "Maximize", "MetricName": "score"},
        HyperParameterRanges={"ContinuousParameterRanges": [dict(LR)]},
    )
    b = copy.deepcopy(definition)
    b["AlgorithmSpecification"]["MetricDefinitions"] = [ACC]
    b.update(
        DefinitionName="b",
        TuningObjective={"Type": "Maximize", "MetricName": "acc"},
        HyperParameterRanges={
            "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "5"}]
        },
    )
    return {
        "HyperParameterTuningJobName": "multi",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
        },
        "TrainingJobDefinitions": [a, b],
    }


def validate(request: dict[str, Any], settings: Settings, objects: ObjectStore) -> Any:
    return validate_tuning_job(request, settings, objects)


def refused(
    request: dict[str, Any], settings: Settings, objects: ObjectStore, *matches: str
) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as excinfo:
        validate(request, settings, objects)
    for match in matches:
        assert re.search(re.escape(match), str(excinfo.value)), str(excinfo.value)
    return excinfo.value


def config_of(request: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = request["HyperParameterTuningJobConfig"]
    return config


# -- valid requests ---------------------------------------------------------------------------


def test_a_single_definition(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore, code_dir: Path
) -> None:
    job = validate(request_, settings, objects)
    assert isinstance(job, ValidatedTuningJob)
    spec = job.spec
    assert job.base_name == "my-tuning" and spec.tuning_job_name == "my-tuning"
    assert (spec.strategy, spec.objective_type, spec.max_jobs, spec.max_parallel_jobs) == (
        "Bayesian",
        "Maximize",
        4,
        2,
    )
    (definition,) = spec.definitions
    assert definition.name is None and definition.objective_metric_name == "score"
    assert [(r.name, r.kind, r.min_value, r.max_value) for r in definition.ranges] == [
        ("lr", "Continuous", 0.001, 0.1)
    ]
    template = definition.template
    assert template.hyperparameters == {"epochs": "3"}
    assert [d.name for d in template.metric_definitions] == ["score"]
    assert template.host_groups[0].instance_type == "ml.m5.large"
    assert template.entry_script == "train.py"
    assert job.sources == {None: (code_dir, None)}
    described = spec.request
    assert "HyperParameterTuningJobName" not in described
    config = described["HyperParameterTuningJobConfig"]
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2}
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "score"}
    assert config["ParameterRanges"]["ContinuousParameterRanges"] == [LR]
    shown = described["TrainingJobDefinition"]
    assert shown["StaticHyperParameters"] == {"epochs": "3", "_tuning_objective_metric": "score"}
    assert shown["AlgorithmSpecification"]["MetricDefinitions"] == [SCORE]
    assert shown["ResourceConfig"]["VolumeSizeInGB"] == 30  # defaults filled in
    assert "Sageyard" not in described and "Sageyard" not in shown


def test_an_exact_name_and_every_setting(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    del request_["Sageyard"]
    request_["HyperParameterTuningJobName"] = "exact-1"
    config = config_of(request_)
    config.update(
        Strategy="Hyperband",
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}},
        RandomSeed=7,
        TuningJobCompletionCriteria={"TargetObjectiveMetricValue": 0.9},
    )
    config["ResourceLimits"]["MaxRuntimeInSeconds"] = 600
    request_["Tags"] = [{"Key": "team", "Value": "ml"}]
    # the objective hyperparameter the API's callers send is set anew on every trial
    request_["TrainingJobDefinition"]["StaticHyperParameters"]["_tuning_objective_metric"] = "x"
    job = validate(request_, settings, objects)
    spec = job.spec
    assert job.base_name is None and spec.tuning_job_name == "exact-1"
    assert spec.hyperband is not None and spec.hyperband.max_resource == 9
    assert spec.random_seed == 7 and spec.max_runtime_in_seconds == 600
    assert spec.completion is not None and spec.completion.target_objective_metric_value == 0.9
    assert spec.definitions[0].static_hyperparameters == {"epochs": "3"}
    assert spec.request["HyperParameterTuningJobName"] == "exact-1"
    assert spec.request["Tags"] == [{"Key": "team", "Value": "ml"}]
    shown = spec.request["HyperParameterTuningJobConfig"]
    assert shown["StrategyConfig"] == {
        "HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}
    }


def test_several_definitions(
    multi: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    multi["TrainingJobDefinitions"][1]["HyperParameterTuningResourceConfig"] = {
        "InstanceConfigs": [
            {"InstanceType": "ml.m5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50}
        ]
    }
    del multi["TrainingJobDefinitions"][1]["ResourceConfig"]
    job = validate(multi, settings, objects)
    a, b = job.spec.definitions
    assert (a.name, a.objective_metric_name, b.name, b.objective_metric_name) == (
        "a",
        "score",
        "b",
        "acc",
    )
    assert [r.name for r in b.ranges] == ["depth"]
    assert a.template.host_groups[0].instance_type == "ml.m5.large"
    assert b.template.host_groups[0].instance_type == "ml.m5.2xlarge"
    assert b.template.volume_size_in_gb == 50
    assert set(job.sources) == {"a", "b"}
    shown = job.spec.request["TrainingJobDefinitions"]
    assert [d["DefinitionName"] for d in shown] == ["a", "b"]
    assert shown[1]["TuningObjective"] == {"Type": "Maximize", "MetricName": "acc"}
    assert shown[1]["HyperParameterTuningResourceConfig"]["InstanceConfigs"][0]["InstanceType"] == (
        "ml.m5.2xlarge"
    )
    assert "ResourceConfig" not in shown[1]
    assert "TrainingJobDefinition" not in job.spec.request


def test_ranges_keep_the_order_given(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    config_of(request_)["ParameterRanges"] = {
        "ContinuousParameterRanges": [dict(LR)],
        "IntegerParameterRanges": [{"Name": "n", "MinValue": "1", "MaxValue": "5"}],
        "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd"]}],
    }
    (definition,) = validate(request_, settings, objects).spec.definitions
    assert [r.name for r in definition.ranges] == ["lr", "n", "opt"]  # the trials' tuned order


def test_grid_runs_every_combination(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    config = config_of(request_)
    config.update(Strategy="Grid", ParameterRanges=GRID)
    config["ResourceLimits"] = {"MaxParallelTrainingJobs": 2}
    job = validate(request_, settings, objects)
    assert job.spec.max_jobs == 6
    (definition,) = job.spec.definitions
    assert definition.ranges[0].values == [1, 2]  # JSON numbers come back as numbers
    limits = job.spec.request["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert limits["MaxNumberOfTrainingJobs"] == 6


# -- autotune -----------------------------------------------------------------------------------


def autotuned(request: dict[str, Any], static: dict[str, str], **extension: Any) -> None:
    request["Autotune"] = {"Mode": "Enabled"}
    del config_of(request)["ParameterRanges"]
    definition = request["TrainingJobDefinition"]
    definition["StaticHyperParameters"] = static
    definition["Sageyard"].update(extension)


def test_autotune_chooses_ranges_for_the_known_static_hyperparameters(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    autotuned(
        request_,
        {"learning_rate": "0.5", "epochs": "3", "batch_size": "32", "mystery": "1"},
        HyperParametersToKeepStatic=["epochs"],
    )
    job = validate(request_, settings, objects)
    (definition,) = job.spec.definitions
    ranges = {r.name: r for r in definition.ranges}
    assert set(ranges) == {"learning_rate", "batch_size"}
    assert ranges["learning_rate"].max_value == 0.5  # widened to hold the trainer's value
    assert ranges["batch_size"].values == [16, 32, 64, 128, 256]
    assert definition.static_hyperparameters == {"epochs": "3", "mystery": "1"}
    assert job.spec.request["Autotune"] == {"Mode": "Enabled"}
    assert {
        r["Name"]
        for r in job.spec.request["HyperParameterTuningJobConfig"]["ParameterRanges"][
            "ContinuousParameterRanges"
        ]
    } == {"learning_rate"}


def test_autotune_of_a_built_in_algorithm_uses_its_own_ranges(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    definition = request_["TrainingJobDefinition"]
    definition["AlgorithmSpecification"] = {"AlgorithmName": "xgboost"}
    definition["Sageyard"] = {"BaseJobName": "xgb"}
    definition["StaticHyperParameters"] = {"num_round": "20"}
    request_["Autotune"] = {"Mode": "Enabled"}
    config = config_of(request_)
    del config["ParameterRanges"]
    config["HyperParameterTuningJobObjective"] = {
        "Type": "Minimize",
        "MetricName": "validation:rmse",
    }
    (tuned,) = validate(request_, settings, objects).spec.definitions
    names = {r.name for r in tuned.ranges}
    assert {"eta", "max_depth", "num_round"} <= names
    assert "num_round" not in tuned.static_hyperparameters


def test_autotune_with_nothing_known(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    autotuned(request_, {"mystery": "1"})
    refused(
        request_,
        settings,
        objects,
        "autotune knows none of the trainer's hyperparameters (['mystery']",
        "Give hyperparameter_ranges",
    )


def test_autotune_keeping_names_the_trainer_does_not_set(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    autotuned(request_, {"epochs": "3"}, HyperParametersToKeepStatic=["nope"])
    refused(
        request_,
        settings,
        objects,
        "hyperparameters_to_keep_static names ['nope'], which the trainer does not set",
        "its hyperparameters are ['epochs']",
    )


def test_keep_static_rules(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request_["TrainingJobDefinition"]["Sageyard"]["HyperParametersToKeepStatic"] = ["epochs"]
    refused(request_, settings, objects, "['epochs'] only applies with autotune=True")
    autotuned(request_, {"epochs": "3"}, HyperParametersToKeepStatic=["epochs", "epochs"])
    refused(request_, settings, objects, "lists a name twice: ['epochs', 'epochs']")
    request_["TrainingJobDefinition"]["Sageyard"]["HyperParametersToKeepStatic"] = "epochs"
    refused(request_, settings, objects, "must be a list of hyperparameter names, but got 'epochs'")


def test_autotune_needs_bayesian_or_random(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    autotuned(request_, {"learning_rate": "0.01"})
    config_of(request_)["Strategy"] = "Grid"
    refused(request_, settings, objects, "strategy='Grid' cannot search")


def test_autotune_mode(request_: dict[str, Any], settings: Settings, objects: ObjectStore) -> None:
    request_["Autotune"] = {"Mode": "On"}
    refused(request_, settings, objects, "Autotune must be {'Mode': 'Enabled'}", "'On'")


# -- names and shapes ---------------------------------------------------------------------------


def test_unknown_fields(request_: dict[str, Any], settings: Settings, objects: ObjectStore) -> None:
    request_["Typo"] = 1
    refused(
        request_, settings, objects, "CreateHyperParameterTuningJob has unknown field(s) ['Typo']"
    )
    del request_["Typo"]
    config_of(request_)["MaxJobs"] = 3
    refused(
        request_,
        settings,
        objects,
        "HyperParameterTuningJobConfig has unknown field(s) ['MaxJobs']",
    )
    del config_of(request_)["MaxJobs"]
    request_["TrainingJobDefinition"]["Sageyard"]["Typo"] = 1
    refused(request_, settings, objects, "TrainingJobDefinition.Sageyard has unknown field(s)")


@pytest.mark.parametrize(
    "name", ["bad_name", "-leading", "trailing-", "x" * 33, "a" + "-" * 40 + "b"]
)
def test_a_bad_job_name(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore, name: str
) -> None:
    del request_["Sageyard"]
    request_["HyperParameterTuningJobName"] = name
    refused(request_, settings, objects, "1-32 letters, digits or hyphens", f"but got {name!r}")


def test_exactly_one_of_name_or_base_name(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request_["HyperParameterTuningJobName"] = "both"
    refused(request_, settings, objects, "exactly one of HyperParameterTuningJobName", "'both'")
    del request_["HyperParameterTuningJobName"], request_["Sageyard"]
    refused(request_, settings, objects, "exactly one of HyperParameterTuningJobName")
    request_["Sageyard"] = {"BaseJobName": "---"}
    refused(
        request_, settings, objects, "BaseJobName must contain letters or digits, but got '---'"
    )


def test_exactly_one_of_definition_or_definitions(
    request_: dict[str, Any], multi: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request_["TrainingJobDefinitions"] = multi["TrainingJobDefinitions"]
    refused(request_, settings, objects, "exactly one of TrainingJobDefinition", "both")
    del request_["TrainingJobDefinitions"], request_["TrainingJobDefinition"]
    refused(request_, settings, objects, "exactly one of TrainingJobDefinition", "neither")


def test_several_definitions_are_named_once_each(
    multi: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    multi["TrainingJobDefinitions"][1]["DefinitionName"] = "a"
    refused(multi, settings, objects, "DefinitionName must be unique", "['a']")
    del multi["TrainingJobDefinitions"][1]["DefinitionName"]
    refused(multi, settings, objects, "TrainingJobDefinitions[1] needs a DefinitionName")


def test_several_definitions_share_one_objective_type(
    multi: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    multi["TrainingJobDefinitions"][1]["TuningObjective"]["Type"] = "Minimize"
    refused(multi, settings, objects, "must be the same", "['Maximize', 'Minimize']")


def test_several_definitions_keep_their_ranges_to_themselves(
    multi: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    config_of(multi)["ParameterRanges"] = {"ContinuousParameterRanges": [LR]}
    refused(multi, settings, objects, "move HyperParameterTuningJobConfig.ParameterRanges")


def test_an_objective_given_twice_differently(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request_["TrainingJobDefinition"]["TuningObjective"] = {"Type": "Maximize", "MetricName": "x"}
    refused(request_, settings, objects, "TuningObjective and HyperParameterTuningJobConfig")


def test_the_objective_needs_a_metric_name(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    config_of(request_)["HyperParameterTuningJobObjective"] = {"Type": "Maximize"}
    refused(request_, settings, objects, "needs a MetricName", "but got None")


def test_two_resource_configs(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request_["TrainingJobDefinition"]["HyperParameterTuningResourceConfig"] = {
        "InstanceConfigs": [
            {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 9}
        ]
    }
    refused(
        request_, settings, objects, "both ResourceConfig and HyperParameterTuningResourceConfig"
    )
    del request_["TrainingJobDefinition"]["ResourceConfig"]
    request_["TrainingJobDefinition"]["HyperParameterTuningResourceConfig"] = {
        "InstanceConfigs": []
    }
    refused(request_, settings, objects, "InstanceConfigs must list at least one", "[]")


def test_bad_tags(request_: dict[str, Any], settings: Settings, objects: ObjectStore) -> None:
    request_["Tags"] = [{"Value": "no key"}]
    refused(request_, settings, objects, "Tags[0] is invalid")


# -- strategy, objective type, limits (the same rules as the tuner's constructor) --------------


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"Strategy": "Evolutionary"}, "strategy must be one of Bayesian, Random, Grid, Hyperband"),
        ({"TrainingJobEarlyStoppingType": "On"}, "early_stopping_type must be 'Off' or 'Auto'"),
        ({"RandomSeed": -1}, "random_seed must be between 0 and 2147483647, but got -1"),
        ({"RandomSeed": "7"}, "RandomSeed must be an integer, but got '7'"),
        ({"Strategy": "Hyperband"}, "The Hyperband strategy needs strategy_config="),
        (
            {
                "Strategy": "Hyperband",
                "TrainingJobEarlyStoppingType": "Auto",
                "StrategyConfig": {"HyperbandStrategyConfig": {"MaxResource": 9}},
            },
            "early_stopping_type must be 'Off', but got 'Auto'",
        ),
        (
            {
                "Strategy": "Random",
                "StrategyConfig": {"HyperbandStrategyConfig": {"MaxResource": 9}},
            },
            "only for strategy='Hyperband', but the strategy is 'Random'",
        ),
    ],
    ids=str,
)
def test_settings(
    request_: dict[str, Any],
    settings: Settings,
    objects: ObjectStore,
    change: dict[str, Any],
    match: str,
) -> None:
    config_of(request_).update(change)
    refused(request_, settings, objects, match)


def test_the_objective_type(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    config_of(request_)["HyperParameterTuningJobObjective"]["Type"] = "Max"
    refused(
        request_,
        settings,
        objects,
        "objective_type must be 'Maximize' or 'Minimize', but got 'Max'",
    )


@pytest.mark.parametrize(
    ("limits", "match"),
    [
        ({"MaxNumberOfTrainingJobs": 0}, "max_jobs must be >= 1, but got 0"),
        ({"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 0}, "must be >= 1, but got 0"),
        ({"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 5}, "(5) must not exceed"),
        ({"MaxNumberOfTrainingJobs": 2, "MaxRuntimeInSeconds": 0}, "between 1 and 15768000"),
        ({"MaxParallelTrainingJobs": 1}, "max_jobs is required"),
        ({"MaxNumberOfTrainingJobs": "4"}, "MaxNumberOfTrainingJobs must be an integer"),
    ],
    ids=str,
)
def test_resource_limits(
    request_: dict[str, Any],
    settings: Settings,
    objects: ObjectStore,
    limits: dict[str, Any],
    match: str,
) -> None:
    config_of(request_)["ResourceLimits"] = limits
    refused(request_, settings, objects, match)


def test_grid_rules(request_: dict[str, Any], settings: Settings, objects: ObjectStore) -> None:
    config = config_of(request_)
    config["Strategy"] = "Grid"
    refused(request_, settings, objects, "categorical ranges only, but ['lr']")
    config["ParameterRanges"] = GRID
    config["ResourceLimits"] = {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 1}
    refused(request_, settings, objects, "max_jobs must be unset or 6, but got 4")
    config["ResourceLimits"] = {"MaxParallelTrainingJobs": 7}
    refused(request_, settings, objects, "max_parallel_jobs (7) exceeds the 6 grid combinations")


# -- ranges -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ranges", "match"),
    [
        ({}, "hyperparameter_ranges is empty"),
        (
            {"ContinuousParameterRanges": [{"Name": "lr", "MinValue": "0.5", "MaxValue": "0.1"}]},
            "(min_value=0.5, max_value=0.1)",
        ),
        (
            {"IntegerParameterRanges": [{"Name": "n", "MinValue": "one", "MaxValue": "3"}]},
            "must be integer numbers, but got 'one' and '3'",
        ),
        (
            {"ContinuousParameterRanges": [{"Name": "lr", "MinValue": 0.1, "MaxValue": 1}]},
            "range values as strings",
        ),
        ({"CategoricalParameterRanges": [{"Name": "o", "Values": []}]}, "at least one value"),
        ({"CategoricalParameterRanges": [{"Name": "o"}]}, "('o') needs ['Values']"),
        (
            {
                "ContinuousParameterRanges": [LR],
                "CategoricalParameterRanges": [{"Name": "lr", "Values": ["1"]}],
            },
            "names 'lr' twice",
        ),
        ({"AutoParameters": []}, "unknown field(s) ['AutoParameters']"),
        (
            {"CategoricalParameterRanges": [{"Name": "_tuning_objective_metric", "Values": ["a"]}]},
            "['_tuning_objective_metric'] are reserved names",
        ),
        (
            {"CategoricalParameterRanges": [{"Name": "sagemaker_program", "Values": ["a"]}]},
            "['sagemaker_program'] are reserved names",
        ),
        (
            {"IntegerParameterRanges": [{"Name": "epochs", "MinValue": "1", "MaxValue": "3"}]},
            "['epochs'] are both static hyperparameters and tuned ranges",
        ),
    ],
    ids=str,
)
def test_ranges(
    request_: dict[str, Any],
    settings: Settings,
    objects: ObjectStore,
    ranges: dict[str, Any],
    match: str,
) -> None:
    config_of(request_)["ParameterRanges"] = ranges
    refused(request_, settings, objects, match)


def test_ranges_for_one_of_several_definitions(
    multi: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    multi["TrainingJobDefinitions"][1]["HyperParameterRanges"] = {}
    refused(multi, settings, objects, "hyperparameter_ranges for trainer 'b' is empty")


# -- metric definitions -----------------------------------------------------------------------


def test_the_objective_needs_a_metric_definition(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request_["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": "loss", "Regex": "loss=(.*)"}
    ]
    refused(
        request_,
        settings,
        objects,
        "The objective metric 'score' has no metric definition",
        "add metric_definitions=",
        "known: ['loss']",
    )


def test_a_built_in_algorithm_brings_its_metric_definitions(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    definition = request_["TrainingJobDefinition"]
    definition["AlgorithmSpecification"] = {"AlgorithmName": "xgboost"}
    definition["Sageyard"] = {}
    definition["StaticHyperParameters"] = {}
    config_of(request_)["HyperParameterTuningJobObjective"]["MetricName"] = "validation:rmse"
    config_of(request_)["ParameterRanges"] = {
        "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.1", "MaxValue": "0.5"}]
    }
    (tuned,) = validate(request_, settings, objects).spec.definitions
    assert "validation:rmse" in [d.name for d in tuned.template.metric_definitions]


@pytest.mark.parametrize(
    "entry", [{"Name": "score"}, {"Name": "score", "Regex": "x", "Extra": 1}, "score=(.*)"], ids=str
)
def test_malformed_metric_definitions(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore, entry: Any
) -> None:
    request_["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"] = [entry]
    refused(
        request_,
        settings,
        objects,
        f"metric_definitions entries are dicts with 'Name' and 'Regex', but got {entry!r}",
    )


def test_metric_definitions_are_unique_by_name(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    later = {"Name": "score", "Regex": "s=([0-9.]+)"}
    request_["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"] = [
        SCORE,
        later,
    ]
    (definition,) = validate(request_, settings, objects).spec.definitions
    assert [(d.name, d.regex) for d in definition.template.metric_definitions] == [
        ("score", later["Regex"])
    ]


# -- the trial template: the training-job rules, reused ---------------------------------------


def test_a_definition_breaking_a_training_job_rule(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    del request_["TrainingJobDefinition"]["RoleArn"]
    refused(request_, settings, objects, "RoleArn must be an IAM role ARN string, but got None")
    request_["TrainingJobDefinition"]["RoleArn"] = ROLE
    request_["TrainingJobDefinition"]["Sageyard"]["SourceCode"] = None
    refused(request_, settings, objects, "pass source_code=SourceCode(")


def test_a_named_definition_breaking_a_training_job_rule_is_named(
    multi: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    multi["TrainingJobDefinitions"][1]["OutputDataConfig"] = {"S3OutputPath": "/tmp/out"}
    refused(multi, settings, objects, "Training definition 'b': ", "must be an S3 URI")


def test_a_definition_over_the_instance_quota(
    request_: dict[str, Any], objects: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_INSTANCE_QUOTA", "2")
    request_["TrainingJobDefinition"]["ResourceConfig"]["InstanceCount"] = 3
    with pytest.raises(ResourceLimitExceeded):
        validate(request_, Settings.from_env(), objects)


def test_training_only_fields_ride_in_the_definitions_sageyard_key(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    extension = request_["TrainingJobDefinition"]["Sageyard"]
    extension["Tags"] = [{"Key": "trial", "Value": "yes"}]
    extension["InfraCheckConfig"] = {"EnableInfraCheck": True}
    (definition,) = validate(request_, settings, objects).spec.definitions
    assert definition.template.infra_check is True
    assert definition.template.request["Tags"] == [{"Key": "trial", "Value": "yes"}]


# -- warm start -------------------------------------------------------------------------------


def warm(request: dict[str, Any], parent: str, kind: str = "TransferLearning") -> None:
    request["WarmStartConfig"] = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": parent}],
        "WarmStartType": kind,
    }


def store_parent(settings: Settings, name: str, status: str, spec: dict[str, Any]) -> None:
    now = time.time()
    TuningJobService(settings).store.create(
        JobRecord(
            name=name,
            kind=KIND,
            status=status,
            secondary_status=None,
            parent=None,
            created_at=now,
            updated_at=now,
            heartbeat_at=now,
            owner=None,
            document={"spec": spec},
        )
    )


def test_warm_start_from_a_parent_that_does_not_exist(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    warm(request_, "no-such-parent")
    with pytest.raises(ClientError) as excinfo:
        validate_tuning_job(request_, settings, objects, parents=TuningJobService(settings).get)
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFound"
    assert "'no-such-parent'" in str(excinfo.value)


def test_warm_start_needs_a_way_to_find_parents(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    warm(request_, "parent")
    refused(request_, settings, objects, "no job store was given", "parents=")


def test_warm_start_from_a_parent_still_running(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    store_parent(settings, "running-parent", "InProgress", {})
    warm(request_, "running-parent")
    with pytest.raises(ConfigurationError, match="'running-parent' is still InProgress"):
        validate_tuning_job(request_, settings, objects, parents=TuningJobService(settings).get)


def test_identical_data_and_algorithm_needs_the_same_image(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    parent = validate(copy.deepcopy(request_), settings, objects).spec
    store_parent(settings, "parent", "Completed", parent.model_dump(mode="json"))
    service = TuningJobService(settings)
    warm(request_, "parent", "IdenticalDataAndAlgorithm")
    job = validate_tuning_job(request_, settings, objects, parents=service.get)
    assert job.spec.warm_start is not None
    assert job.spec.request["WarmStartConfig"]["WarmStartType"] == "IdenticalDataAndAlgorithm"
    request_["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] = "python:3.12"
    with pytest.raises(ConfigurationError, match=r"use WarmStartTypes\.TRANSFER_LEARNING"):
        validate_tuning_job(request_, settings, objects, parents=service.get)


# -- the shared settings check and the service --------------------------------------------------


def test_check_settings_takes_the_facades_ranges() -> None:
    base: dict[str, Any] = {
        "strategy": "Bayesian",
        "objective_type": "Maximize",
        "early_stopping_type": "Off",
        "strategy_config": None,
        "random_seed": None,
        "max_jobs": 2,
        "max_parallel_jobs": 1,
        "max_runtime_in_seconds": None,
        "autotune": False,
        "keep_static": {None: None},
    }
    check_settings(**base, ranges={None: {"lr": ContinuousParameter(0.01, 0.1)}})
    with pytest.raises(ConfigurationError, match=r"hyperparameter_ranges\['lr'\] must be a"):
        check_settings(**base, ranges={None: {"lr": (0.01, 0.1)}})
    with pytest.raises(ConfigurationError, match="for trainer 'b' is empty"):
        check_settings(**base, ranges={"a": {"o": CategoricalParameter(["x"])}, "b": {}})


def test_the_service_validates_then_creates(
    request_: dict[str, Any],
    settings: Settings,
    objects: ObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[str] = []
    monkeypatch.setattr(
        tuning_service, "launch_supervisor", lambda settings, name, log, kind: started.append(name)
    )
    service = TuningJobService(settings)
    bad = copy.deepcopy(request_)
    config_of(bad)["Strategy"] = "Evolutionary"
    with pytest.raises(ConfigurationError):
        service.create_hyper_parameter_tuning_job(bad)
    assert service.list_jobs() == [] and started == []
    record = service.create_hyper_parameter_tuning_job(request_)
    assert record.name.startswith("my-tuning-") and started == [record.name]
    (definition,) = service.spec(service.get(record.name)).definitions
    assert definition.template.code_uri is not None
    assert objects.exists(f"{definition.template.code_uri}/train.py")
    description = service.describe(record.name)
    assert description["HyperParameterTuningJobName"] == record.name
    assert description["TrainingJobDefinition"]["StaticHyperParameters"]["epochs"] == "3"
