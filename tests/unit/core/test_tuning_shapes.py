"""The tuning shapes of ``sageyard.core.shapes``: reference names, defaults, rules, API form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sageyard.core.shapes import (
    BestObjectiveNotImproving,
    ConvergenceDetected,
    HyperbandStrategyConfig,
    HyperParameterTuningInstanceConfig,
    HyperParameterTuningJobStrategyConfig,
    HyperParameterTuningJobWarmStartConfig,
    ParentHyperParameterTuningJob,
    TuningJobCompletionCriteria,
)
from sageyard.train.tuner import WarmStartTypes


def parents(*names: str) -> list[ParentHyperParameterTuningJob]:
    return [ParentHyperParameterTuningJob(hyper_parameter_tuning_job_name=n) for n in names]


# -- Hyperband ----------------------------------------------------------------------------------


def test_hyperband_defaults_are_unset() -> None:
    config = HyperbandStrategyConfig()
    assert config.min_resource is None
    assert config.max_resource is None
    assert config.reduction_factor is None
    assert config.number_of_brackets is None
    assert config.to_request() == {}


def test_hyperband_renders_the_api_form() -> None:
    config = HyperParameterTuningJobStrategyConfig(
        hyperband_strategy_config=HyperbandStrategyConfig(
            min_resource=1, max_resource=27, reduction_factor=3, number_of_brackets=4
        )
    )
    assert config.to_request() == {
        "HyperbandStrategyConfig": {
            "MinResource": 1,
            "MaxResource": 27,
            "ReductionFactor": 3,
            "NumberOfBrackets": 4,
        }
    }
    assert HyperParameterTuningJobStrategyConfig().hyperband_strategy_config is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_resource", 0),
        ("max_resource", 0),
        ("reduction_factor", 1),
        ("number_of_brackets", 0),
    ],
)
def test_hyperband_lower_limits(field: str, value: int) -> None:
    with pytest.raises(ValidationError, match=field):
        HyperbandStrategyConfig(**{field: value})


def test_hyperband_min_resource_above_max_is_refused_with_both_values() -> None:
    with pytest.raises(ValueError, match=r"\(min_resource=10, max_resource=3\)"):
        HyperbandStrategyConfig(min_resource=10, max_resource=3)


def test_hyperband_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="max_epochs"):
        HyperbandStrategyConfig(max_epochs=3)  # type: ignore[call-arg]


# -- warm start ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        WarmStartTypes.TRANSFER_LEARNING,
        WarmStartTypes.TRANSFER_LEARNING.value,
        WarmStartTypes.IDENTICAL_DATA_AND_ALGORITHM,
        "IdenticalDataAndAlgorithm",
    ],
    ids=str,
)
def test_warm_start_accepts_the_enum_and_its_value(kind: object) -> None:
    config = HyperParameterTuningJobWarmStartConfig(
        parent_hyper_parameter_tuning_jobs=parents("parent-a"),
        warm_start_type=kind,  # type: ignore[arg-type]
    )
    assert config.warm_start_type == getattr(kind, "value", kind)


def test_warm_start_types_have_the_reference_values() -> None:
    assert WarmStartTypes.IDENTICAL_DATA_AND_ALGORITHM.value == "IdenticalDataAndAlgorithm"
    assert WarmStartTypes.TRANSFER_LEARNING.value == "TransferLearning"
    assert len(WarmStartTypes) == 2


def test_warm_start_renders_the_api_form() -> None:
    config = HyperParameterTuningJobWarmStartConfig(
        parent_hyper_parameter_tuning_jobs=parents("a", "b"),
        warm_start_type=WarmStartTypes.TRANSFER_LEARNING.value,
    )
    assert config.to_request() == {
        "ParentHyperParameterTuningJobs": [
            {"HyperParameterTuningJobName": "a"},
            {"HyperParameterTuningJobName": "b"},
        ],
        "WarmStartType": "TransferLearning",
    }


def test_an_unknown_warm_start_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="Transfer"):
        HyperParameterTuningJobWarmStartConfig(
            parent_hyper_parameter_tuning_jobs=parents("a"),
            warm_start_type="Transfer",  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("count", [0, 6])
def test_warm_start_takes_one_to_five_parents(count: int) -> None:
    with pytest.raises(ValidationError, match="parent_hyper_parameter_tuning_jobs"):
        HyperParameterTuningJobWarmStartConfig(
            parent_hyper_parameter_tuning_jobs=parents(*[f"p{i}" for i in range(count)]),
            warm_start_type="TransferLearning",
        )


@pytest.mark.parametrize("name", ["", "x" * 33])
def test_a_parent_name_has_one_to_32_characters(name: str) -> None:
    with pytest.raises(ValidationError, match="hyper_parameter_tuning_job_name"):
        ParentHyperParameterTuningJob(hyper_parameter_tuning_job_name=name)


# -- completion criteria ------------------------------------------------------------------------


def test_completion_criteria_defaults_and_api_form() -> None:
    assert TuningJobCompletionCriteria().to_request() == {}
    criteria = TuningJobCompletionCriteria(
        target_objective_metric_value=0.95,
        best_objective_not_improving=BestObjectiveNotImproving(
            max_number_of_training_jobs_not_improving=10
        ),
        convergence_detected=ConvergenceDetected(complete_on_convergence="Enabled"),
    )
    assert criteria.to_request() == {
        "TargetObjectiveMetricValue": 0.95,
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 10},
        "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"},
    }


def test_best_objective_not_improving_needs_at_least_three_jobs() -> None:
    assert BestObjectiveNotImproving().max_number_of_training_jobs_not_improving is None
    assert BestObjectiveNotImproving(max_number_of_training_jobs_not_improving=3)
    with pytest.raises(ValidationError, match="max_number_of_training_jobs_not_improving"):
        BestObjectiveNotImproving(max_number_of_training_jobs_not_improving=2)


def test_convergence_detected_is_enabled_or_disabled() -> None:
    assert ConvergenceDetected().complete_on_convergence is None
    assert ConvergenceDetected(complete_on_convergence="Disabled")
    with pytest.raises(ValidationError, match="complete_on_convergence"):
        ConvergenceDetected(complete_on_convergence="On")  # type: ignore[arg-type]


def test_an_invalid_assignment_leaves_the_shape_unchanged() -> None:
    config = HyperbandStrategyConfig(min_resource=1, max_resource=9)
    with pytest.raises(ValueError, match="min_resource=20"):
        config.min_resource = 20
    assert config.min_resource == 1


# -- instance configs ---------------------------------------------------------------------------


def test_instance_config_renders_the_api_form() -> None:
    config = HyperParameterTuningInstanceConfig(
        instance_type="ml.m5.xlarge", instance_count=1, volume_size_in_gb=30
    )
    assert config.to_request() == {
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("instance_count", 0),
        ("instance_count", 101),
        ("volume_size_in_gb", 0),
        ("instance_type", "m5.xlarge"),
    ],
)
def test_instance_config_rules(field: str, value: object) -> None:
    values: dict[str, object] = {
        "instance_type": "ml.m5.xlarge",
        "instance_count": 1,
        "volume_size_in_gb": 30,
        field: value,
    }
    with pytest.raises(ValidationError, match=field):
        HyperParameterTuningInstanceConfig(**values)  # type: ignore[arg-type]


def test_instance_config_fields_are_required() -> None:
    with pytest.raises(ValidationError, match="volume_size_in_gb"):
        HyperParameterTuningInstanceConfig(  # type: ignore[call-arg]
            instance_type="ml.m5.xlarge", instance_count=1
        )
