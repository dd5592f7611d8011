"""From a HyperparameterTuner to a CreateHyperParameterTuningJob request (the facade's half
of ``tune()``).

The request is what the SageMaker API takes, plus sageyard's ``"Sageyard"`` keys (see
``sageyard.tuning.request``, which checks every rule before anything is written). Each
training definition is built from its trainer's CreateTrainingJob request
(``sageyard.train._request``); here only the tuner's own settings are rendered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sageyard.core.parameter import ParameterRange
from sageyard.core.session import Session
from sageyard.core.shapes import (
    HyperParameterTuningInstanceConfig,
    MetricDefinition,
    Tag,
    to_request,
)
from sageyard.train._request import present, training_job_request
from sageyard.tuning import request as tuning_request
from sageyard.tuning import rules

if TYPE_CHECKING:
    from sageyard.train.tuner import HyperparameterTuner


def check_settings(tuner: HyperparameterTuner) -> None:
    """The rules on the tuner's settings alone (the constructor runs them; the service runs
    the same ones on the request)."""
    rules.check_settings(
        strategy=tuner.strategy,
        objective_type=tuner.objective_type,
        early_stopping_type=tuner.early_stopping_type,
        strategy_config=tuner.strategy_config,
        random_seed=tuner.random_seed,
        max_jobs=tuner.max_jobs,
        max_parallel_jobs=tuner.max_parallel_jobs,
        max_runtime_in_seconds=tuner.max_runtime_in_seconds,
        ranges=tuner._ranges_dict(),
        autotune=tuner.autotune,
        keep_static=_keep_static(tuner),
    )


def _keep_static(tuner: HyperparameterTuner) -> dict[str | None, list[str] | None]:
    if tuner.model_trainer_dict is not None:
        keep = tuner.hyperparameters_to_keep_static_dict or {}
        return {name: keep.get(name) for name in tuner.model_trainer_dict}
    return {tuner.model_trainer_name: tuner.hyperparameters_to_keep_static}


def tuning_job_request(
    tuner: HyperparameterTuner, session: Session, job_name: str | None
) -> dict[str, Any]:
    """The CreateHyperParameterTuningJob request for ``tuner`` (no I/O beyond what building
    each trainer's CreateTrainingJob request does)."""
    check_settings(tuner)  # its ranges must be parameter ranges to be rendered
    config: dict[str, Any] = {
        "Strategy": tuner.strategy,
        "ResourceLimits": present(
            {
                "MaxNumberOfTrainingJobs": tuner.max_jobs,
                "MaxParallelTrainingJobs": tuner.max_parallel_jobs,
                "MaxRuntimeInSeconds": tuner.max_runtime_in_seconds,
            }
        ),
        "TrainingJobEarlyStoppingType": tuner.early_stopping_type,
    }
    if tuner.random_seed is not None:
        config["RandomSeed"] = tuner.random_seed
    if tuner.strategy_config is not None:
        config["StrategyConfig"] = to_request(tuner.strategy_config)
    if tuner.completion_criteria_config is not None:
        config["TuningJobCompletionCriteria"] = to_request(tuner.completion_criteria_config)
    objectives, ranges, keep = tuner._objectives(), tuner._ranges_dict(), _keep_static(tuner)
    definitions = [
        _definition(
            tuner,
            name,
            training_job_request(trainer, session),
            objectives[name],
            ranges[name],
            keep.get(name),
            tuner._instance_configs.get(name),
        )
        for name, trainer in tuner._trainers().items()
    ]
    request: dict[str, Any] = {"HyperParameterTuningJobConfig": config}
    if len(definitions) == 1 and "DefinitionName" not in definitions[0]:
        single = definitions[0]
        config["HyperParameterTuningJobObjective"] = single.pop("TuningObjective")
        config["ParameterRanges"] = single.pop("HyperParameterRanges")
        request["TrainingJobDefinition"] = single
    else:
        request["TrainingJobDefinitions"] = definitions
    if job_name is not None:
        request["HyperParameterTuningJobName"] = job_name
    else:
        request["Sageyard"] = {"BaseJobName": tuner._base_name()}
    if tuner.warm_start_config is not None:
        request["WarmStartConfig"] = to_request(tuner.warm_start_config)
    if tuner.tags:
        request["Tags"] = [to_request(Tag.model_validate(t)) for t in tuner.tags]
    if tuner.autotune:
        request["Autotune"] = {"Mode": "Enabled"}
    return request


def _definition(
    tuner: HyperparameterTuner,
    name: str | None,
    training: dict[str, Any],
    objective: str,
    ranges: dict[str, ParameterRange],
    keep: list[str] | None,
    instance_configs: list[HyperParameterTuningInstanceConfig] | None,
) -> dict[str, Any]:
    """A HyperParameterTrainingJobDefinition from the trainer's CreateTrainingJob request."""
    training = dict(training)
    extension = dict(training.pop("Sageyard", None) or {})
    for key in tuning_request.TRAINING_ONLY_FIELDS:  # no place for them in the API's shape
        if key in training:
            extension[key] = training.pop(key)
    if keep:
        extension[tuning_request.KEEP_STATIC] = list(keep)
    extra = (
        (tuner.metric_definitions_dict or {}).get(name or "")
        if tuner.model_trainer_dict is not None
        else tuner.metric_definitions
    )
    algorithm = dict(training.pop("AlgorithmSpecification"))
    metrics = [
        *algorithm.get("MetricDefinitions", []),
        *(to_request(m) if isinstance(m, MetricDefinition) else m for m in extra or []),
    ]
    if metrics:
        algorithm["MetricDefinitions"] = metrics
    definition: dict[str, Any] = {
        "AlgorithmSpecification": algorithm,
        "StaticHyperParameters": {
            # the trainer's hyperparameters, less those being tuned (as the real tuner does)
            **{k: v for k, v in training.pop("HyperParameters", {}).items() if k not in ranges},
            tuning_request.OBJECTIVE_HYPERPARAMETER: objective,
        },
        "HyperParameterRanges": _ranges(ranges),
        "TuningObjective": {"Type": tuner.objective_type, "MetricName": objective},
        **training,
    }
    if name is not None:
        definition["DefinitionName"] = name
    if instance_configs:
        definition.pop("ResourceConfig", None)
        definition["HyperParameterTuningResourceConfig"] = {
            "InstanceConfigs": [to_request(c) for c in instance_configs]
        }
    if extension:
        definition["Sageyard"] = extension
    return definition


def _ranges(ranges: dict[str, ParameterRange]) -> dict[str, list[dict[str, Any]]]:
    """The API's ParameterRanges, the kinds in the order they first appear in ``ranges`` (the
    service keeps that order for the trials' tuned hyperparameters)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for key, parameter in ranges.items():
        out.setdefault(f"{parameter.__name__}ParameterRanges", []).append(
            parameter.as_tuning_range(key)
        )
    for kind in ("Integer", "Continuous", "Categorical"):
        out.setdefault(f"{kind}ParameterRanges", [])
    return out
