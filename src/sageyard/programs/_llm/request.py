"""A fine-tuning job's hyperparameters → a checked :class:`Request`, in the job and before it.

The same check runs twice: in the job (:func:`parse_request`, failing it with an
AlgorithmError) and when the job is created (:func:`check_job_hyperparameters`, the
programs' ``ProgramSpec.hyperparameter_check``, raising ConfigurationError), so a bad name
or value fails before anything is written.

Example:
    >>> from sageyard.programs import program
    >>> request = parse_request({"epochs": "2", "training_type": "full"}, program("sft"))
    >>> request.options["epochs"], request.lora
    (2, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sageyard.models.options import parse_options
from sageyard.programs._common import AlgorithmError
from sageyard.runtime.environment import is_framework_hyperparameter

if TYPE_CHECKING:
    from sageyard.programs._spec import ProgramSpec

__all__ = [
    "DEFAULT_TRAINING_TYPE",
    "EXTRA_HYPERPARAMETERS",
    "MlflowSettings",
    "Request",
    "check_job_hyperparameters",
    "parse_request",
]

# Hyperparameters a fine-tuning job carries besides the options of its technique.
EXTRA_HYPERPARAMETERS = (
    "training_type",
    "base_model",
    "mlflow_tracking_uri",
    "mlflow_experiment_name",
    "mlflow_run_name",
)
DEFAULT_TRAINING_TYPE = "lora"


@dataclass(frozen=True)
class MlflowSettings:
    """Where a job logs to MLflow: given by ``mlflow_*`` hyperparameters."""

    experiment_name: str
    tracking_uri: str | None = None
    run_name: str | None = None


@dataclass(frozen=True)
class Request:
    """A fine-tuning job's hyperparameters, typed and checked."""

    technique: str
    training_type: str
    options: dict[str, Any]
    base_model: str | None = None
    mlflow: MlflowSettings | None = None

    @property
    def lora(self) -> bool:
        return self.training_type == "lora"


def check_job_hyperparameters(program: ProgramSpec, raw: Mapping[str, str]) -> None:
    """Before a job is created: the check :func:`parse_request` makes in the job.

    Raises:
        ConfigurationError: (a ValueError) What :func:`parse_request` would fail the job with.
    """
    from sageyard.core.exceptions import ConfigurationError

    try:
        parse_request(raw, program)
    except AlgorithmError as error:
        raise ConfigurationError(str(error).removeprefix("ClientError: ")) from None


def parse_request(raw: Mapping[str, str], program: ProgramSpec) -> Request:
    """The job's hyperparameters as a :class:`Request` of ``program``'s technique.

    Raises:
        AlgorithmError: An unknown name (the message lists the valid ones), a bad
            ``training_type`` or a value of the wrong type or out of range.
    """
    training_type = str(raw.get("training_type", DEFAULT_TRAINING_TYPE)).strip().lower()
    if training_type not in program.training_types:
        raise AlgorithmError(
            f"ClientError: Hyperparameter training_type={raw['training_type']!r} is not valid; "
            f"choose from {', '.join(program.training_types)}."
        )
    specs = program.option_specs(training_type)
    valid = sorted({*specs, *EXTRA_HYPERPARAMETERS})
    unknown = [name for name in raw if name not in valid and not is_framework_hyperparameter(name)]
    if unknown:
        lora_only = [name for name in unknown if name in program.options.get("lora", {})]
        hint = f" ({', '.join(lora_only)}: only with training_type='lora')" if lora_only else ""
        raise AlgorithmError(
            f"ClientError: {', '.join(map(repr, unknown))} "
            f"{'is not a hyperparameter' if len(unknown) == 1 else 'are not hyperparameters'} "
            f"of {program.display_name} {training_type} fine-tuning{hint}. "
            f"Valid names: {', '.join(valid)}."
        )
    try:
        options = parse_options(specs, raw)
    except ValueError as error:
        raise AlgorithmError(f"ClientError: Hyperparameter {error}") from None
    mlflow = None
    if raw.get("mlflow_experiment_name"):
        mlflow = MlflowSettings(
            experiment_name=raw["mlflow_experiment_name"],
            tracking_uri=raw.get("mlflow_tracking_uri") or None,
            run_name=raw.get("mlflow_run_name") or None,
        )
    return Request(
        technique=program.name,
        training_type=training_type,
        options=options,
        base_model=raw.get("base_model") or None,
        mlflow=mlflow,
    )
