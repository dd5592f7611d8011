"""Shapes of a tuning job's configuration, with the reference's names and defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sageyard.core.shapes._base import Shape
from sageyard.core.shapes._training import check_instance_type


class HyperbandStrategyConfig(Shape):
    """Hyperband: trials get between ``min_resource`` and ``max_resource`` units of resource
    (one unit = one value of the objective metric the trial emits).

    Example:
        >>> HyperbandStrategyConfig(min_resource=1, max_resource=27, reduction_factor=3)
        HyperbandStrategyConfig(min_resource=1, max_resource=27, reduction_factor=3, ...)
    """

    min_resource: int | None = Field(default=None, ge=1)
    max_resource: int | None = Field(default=None, ge=1)
    reduction_factor: int | None = Field(default=None, ge=2)
    number_of_brackets: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> HyperbandStrategyConfig:
        low, high = self.min_resource, self.max_resource
        if isinstance(low, int) and isinstance(high, int) and low > high:
            raise ValueError(
                "`min_resource <= max_resource` must hold, but got "
                f"(min_resource={low}, max_resource={high})."
            )
        return self


class HyperParameterTuningJobStrategyConfig(Shape):
    hyperband_strategy_config: HyperbandStrategyConfig | None = None


class ParentHyperParameterTuningJob(Shape):
    hyper_parameter_tuning_job_name: str = Field(min_length=1, max_length=32)


class HyperParameterTuningJobWarmStartConfig(Shape):
    """Seed a new tuning job with the results of up to 5 parent tuning jobs."""

    parent_hyper_parameter_tuning_jobs: list[ParentHyperParameterTuningJob] = Field(
        min_length=1, max_length=5
    )
    warm_start_type: Literal["IdenticalDataAndAlgorithm", "TransferLearning"]

    @field_validator("warm_start_type", mode="before")
    @classmethod
    def _enum_value(cls, value: object) -> object:
        return getattr(value, "value", value)  # WarmStartTypes members are accepted too


class BestObjectiveNotImproving(Shape):
    max_number_of_training_jobs_not_improving: int | None = Field(default=None, ge=3)


class ConvergenceDetected(Shape):
    complete_on_convergence: Literal["Disabled", "Enabled"] | None = None


class TuningJobCompletionCriteria(Shape):
    """When a tuning job may end before ``max_jobs``.

    Example:
        >>> TuningJobCompletionCriteria(target_objective_metric_value=0.95)
        TuningJobCompletionCriteria(target_objective_metric_value=0.95, ...)
    """

    # a NaN or infinite target could never be reached (nor sent: JSON has no such numbers)
    target_objective_metric_value: float | None = Field(default=None, allow_inf_nan=False)
    best_objective_not_improving: BestObjectiveNotImproving | None = None
    convergence_detected: ConvergenceDetected | None = None


class HyperParameterTuningInstanceConfig(Shape):
    instance_type: str
    instance_count: int = Field(ge=1, le=100)
    volume_size_in_gb: int = Field(ge=1, le=16384)

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        return check_instance_type(value)
