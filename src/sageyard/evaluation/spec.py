"""An evaluation as the store holds it: a pipeline execution whose steps are training jobs.

Each :class:`StepSpec` is one step of the real SDK's evaluation pipeline
(``EvaluateBaseModel``, ``EvaluateCustomModel``, ``EvaluateBaseInferenceModel``, ...):
a CreateTrainingJob request for the evaluate program, with the steps it waits for.
The execution's supervisor starts each step's job once its dependencies succeeded.

Example:
    >>> step = StepSpec(name="EvaluateBaseModel", job_name="eval-x-base", request={})
    >>> EvaluationSpec(execution_id="abc", display_name="eval-1", eval_type="benchmark",
    ...     pipeline_name="SagemakerEvaluation-BenchmarkEvaluation-1", s3_output_path="s3://b/o",
    ...     steps=[step]).step("EvaluateBaseModel").job_name
    'eval-x-base'
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["EVAL_TYPES", "KIND", "EvaluationSpec", "StepSpec"]

#: The job-store kind of an evaluation's row.
KIND = "EvaluationExecution"
#: The real SDK's ``EvalType`` values → the display name its pipeline names use.
EVAL_TYPES = {
    "benchmark": "BenchmarkEvaluation",
    "customscorer": "CustomScorerEvaluation",
    "llmasjudge": "LLMAJEvaluation",
}


class StepSpec(BaseModel):
    """One step: the training job it runs and the steps it waits for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    display_name: str | None = None
    job_name: str = Field(min_length=1, max_length=63)
    request: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    #: Which model the step evaluates: ``"base"`` or ``"custom"``.
    model_role: str = "custom"
    #: A judge's step: its per-example files are copied under the output path when it
    #: completes (``results.publish_judge_examples``).
    publishes_examples: bool = False


class EvaluationSpec(BaseModel):
    """A validated evaluation: what the facade asked for, ready to run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    execution_id: str
    display_name: str
    eval_type: str
    pipeline_name: str
    s3_output_path: str
    steps: list[StepSpec] = Field(min_length=1)
    #: What was evaluated, for listings: model, base model, benchmark, subtasks, ...
    summary: dict[str, Any] = Field(default_factory=dict)
    tags: list[dict[str, str]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _steps_form_a_dag(self) -> EvaluationSpec:
        names = [step.name for step in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names repeat: {names}")
        seen: set[str] = set()
        for step in self.steps:  # dependencies come first: the list is in running order
            unknown = [d for d in step.depends_on if d not in seen]
            if unknown:
                raise ValueError(f"step {step.name} depends on {unknown}, not an earlier step")
            seen.add(step.name)
        if self.eval_type not in EVAL_TYPES:
            raise ValueError(f"eval_type must be one of {', '.join(EVAL_TYPES)}")
        return self

    def step(self, name: str) -> StepSpec:
        return next(step for step in self.steps if step.name == name)
