"""The validated request of a tuning job: what its supervisor executes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sageyard.core.parameter import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
)
from sageyard.core.shapes import (
    HyperbandStrategyConfig,
    HyperParameterTuningJobWarmStartConfig,
    TuningJobCompletionCriteria,
)
from sageyard.jobs.spec import TrainingJobSpec

KIND = "HyperParameterTuningJob"
STRATEGIES = ("Bayesian", "Random", "Grid", "Hyperband")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RangeSpec(_Spec):
    """One tuned hyperparameter."""

    name: str
    kind: Literal["Continuous", "Integer", "Categorical"]
    # int first: an integer bound stays exact (a float holds integers only up to 2**53)
    min_value: int | float | None = None
    max_value: int | float | None = None
    scaling_type: str = "Auto"
    values: list[str | int | float] | None = None

    @classmethod
    def of(cls, name: str, parameter: ParameterRange) -> RangeSpec:
        if isinstance(parameter, CategoricalParameter):
            return cls(name=name, kind="Categorical", values=list(parameter.values))
        assert isinstance(parameter, ContinuousParameter | IntegerParameter)
        kind: Literal["Continuous", "Integer"] = (
            "Integer" if isinstance(parameter, IntegerParameter) else "Continuous"
        )
        return cls(
            name=name,
            kind=kind,
            min_value=parameter.min_value,
            max_value=parameter.max_value,
            scaling_type=parameter.scaling_type,
        )

    def to_parameter(self) -> ParameterRange:
        """The range as the reference's parameter class (``RangeSpec.of`` reversed)."""
        if self.kind == "Categorical":
            return CategoricalParameter(list(self.values or []))
        assert self.min_value is not None and self.max_value is not None
        if self.kind == "Integer":
            return IntegerParameter(int(self.min_value), int(self.max_value), self.scaling_type)
        return ContinuousParameter(self.min_value, self.max_value, self.scaling_type)

    def contains(self, value: Any) -> bool:
        if self.kind == "Categorical":
            return self.values is not None and value in self.values
        assert self.min_value is not None and self.max_value is not None
        return isinstance(value, int | float) and self.min_value <= value <= self.max_value


class TrainingDefinition(_Spec):
    """One trainer of the tuning job (several with ``HyperparameterTuner.create``)."""

    name: str | None = None  # TrainingJobDefinitionName; None for a single trainer
    objective_metric_name: str
    ranges: list[RangeSpec]
    template: TrainingJobSpec  # trials copy it, adding the sampled hyperparameters

    @property
    def static_hyperparameters(self) -> dict[str, str]:
        return dict(self.template.hyperparameters)


class TuningJobSpec(_Spec):
    tuning_job_name: str
    strategy: Literal["Bayesian", "Random", "Grid", "Hyperband"]
    objective_type: Literal["Maximize", "Minimize"]
    definitions: list[TrainingDefinition] = Field(min_length=1)
    max_jobs: int = Field(ge=1)
    max_parallel_jobs: int = Field(ge=1)
    max_runtime_in_seconds: int | None = None
    early_stopping_type: Literal["Off", "Auto"] = "Off"
    completion: TuningJobCompletionCriteria | None = None
    hyperband: HyperbandStrategyConfig | None = None
    warm_start: HyperParameterTuningJobWarmStartConfig | None = None
    random_seed: int | None = None
    request: dict[str, Any] = Field(default_factory=dict)

    def definition(self, name: str | None) -> TrainingDefinition:
        for definition in self.definitions:
            if definition.name == name:
                return definition
        raise KeyError(name)
