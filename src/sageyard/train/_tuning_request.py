"""From a HyperparameterTuner to a validated TuningJobSpec, checking everything first.

Every rule is checked here, before anything is written; each error says what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.parameter import CategoricalParameter, ParameterRange
from sageyard.core.session import Session
from sageyard.core.shapes import (
    HyperParameterTuningInstanceConfig,
    MetricDefinition,
    to_request,
)
from sageyard.jobs.spec import HostGroupSpec
from sageyard.programs import algorithm_spec
from sageyard.train import _request
from sageyard.train._request import load_hyperparameters
from sageyard.tuning import search
from sageyard.tuning.autotune import KNOWN_RANGES, autotune_ranges
from sageyard.tuning.spec import STRATEGIES, RangeSpec, TrainingDefinition, TuningJobSpec

if TYPE_CHECKING:
    from sageyard.train.model_trainer import ModelTrainer
    from sageyard.train.tuner import HyperparameterTuner

MAX_SEED = 2_147_483_647
MAX_TUNING_RUNTIME = 15_768_000  # 6 months, the service limit
_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")


@dataclass(frozen=True)
class TuningPlan:
    spec: TuningJobSpec
    base_name: str | None
    sources: dict[str | None, tuple[Path, list[str] | None]]


def check_settings(tuner: HyperparameterTuner) -> None:
    """The rules that need no I/O (run by the constructor too)."""
    if tuner.strategy not in STRATEGIES:
        raise ConfigurationError(
            f"strategy must be one of {', '.join(STRATEGIES)}, but got {tuner.strategy!r}."
        )
    if tuner.objective_type not in ("Maximize", "Minimize"):
        raise ConfigurationError(
            f"objective_type must be 'Maximize' or 'Minimize', but got {tuner.objective_type!r}."
        )
    if tuner.early_stopping_type not in ("Off", "Auto"):
        raise ConfigurationError(
            f"early_stopping_type must be 'Off' or 'Auto', but got {tuner.early_stopping_type!r}."
        )
    if tuner.strategy == "Hyperband":
        if tuner.early_stopping_type != "Off":
            raise ConfigurationError(
                "The Hyperband strategy stops trials itself: early_stopping_type must be 'Off', "
                f"but got {tuner.early_stopping_type!r}."
            )
        config = tuner.strategy_config.hyperband_strategy_config if tuner.strategy_config else None
        if config is None or config.max_resource is None:
            raise ConfigurationError(
                "The Hyperband strategy needs strategy_config=HyperParameterTuningJobStrategy"
                "Config(hyperband_strategy_config=HyperbandStrategyConfig(min_resource=1, "
                "max_resource=27)); max_resource is the most objective values a trial may emit."
            )
    elif tuner.strategy_config is not None and tuner.strategy_config.hyperband_strategy_config:
        raise ConfigurationError(
            f"strategy_config with a HyperbandStrategyConfig is only for strategy='Hyperband', "
            f"but the strategy is {tuner.strategy!r}."
        )
    if tuner.random_seed is not None and not 0 <= tuner.random_seed <= MAX_SEED:
        raise ConfigurationError(
            f"random_seed must be between 0 and {MAX_SEED}, but got {tuner.random_seed}."
        )
    if tuner.max_jobs is not None and tuner.max_jobs < 1:
        raise ConfigurationError(f"max_jobs must be >= 1, but got {tuner.max_jobs}.")
    if tuner.max_parallel_jobs < 1:
        raise ConfigurationError(
            f"max_parallel_jobs must be >= 1, but got {tuner.max_parallel_jobs}."
        )
    if tuner.max_jobs is not None and tuner.max_parallel_jobs > tuner.max_jobs:
        raise ConfigurationError(
            f"max_parallel_jobs ({tuner.max_parallel_jobs}) must not exceed max_jobs "
            f"({tuner.max_jobs}); lower max_parallel_jobs or raise max_jobs."
        )
    runtime = tuner.max_runtime_in_seconds
    if runtime is not None and not 1 <= runtime <= MAX_TUNING_RUNTIME:
        raise ConfigurationError(
            f"max_runtime_in_seconds must be between 1 and {MAX_TUNING_RUNTIME}, but got {runtime}."
        )
    for name, ranges in tuner._ranges_dict().items():
        _check_ranges(name, ranges, tuner)
    keep = tuner.hyperparameters_to_keep_static
    if keep and not tuner.autotune:
        raise ConfigurationError(
            f"hyperparameters_to_keep_static={keep} only applies with autotune=True; set "
            "autotune=True or leave it out (without autotune, only the ranges you give are tuned)."
        )
    if keep and len(set(keep)) != len(keep):
        raise ConfigurationError(f"hyperparameters_to_keep_static lists a name twice: {keep}.")
    if tuner.autotune and tuner.strategy in ("Grid", "Hyperband"):
        raise ConfigurationError(
            f"autotune chooses continuous ranges, which strategy={tuner.strategy!r} cannot "
            "search; use 'Bayesian' or 'Random'."
        )


def _check_ranges(
    trainer_name: str | None, ranges: dict[str, ParameterRange], tuner: HyperparameterTuner
) -> None:
    where = f" for trainer {trainer_name!r}" if trainer_name else ""
    if not ranges and not tuner.autotune:
        raise ConfigurationError(
            f"hyperparameter_ranges{where} is empty: give at least one range, e.g. "
            "{'learning_rate': ContinuousParameter(0.001, 0.1)}, or set autotune=True."
        )
    for name, parameter in ranges.items():
        if not isinstance(parameter, ParameterRange):
            raise ConfigurationError(
                f"hyperparameter_ranges[{name!r}]{where} must be a ContinuousParameter, "
                f"IntegerParameter or CategoricalParameter, but got {parameter!r}."
            )
    if tuner.strategy == "Grid":
        numeric = [n for n, p in ranges.items() if not isinstance(p, CategoricalParameter)]
        if numeric:
            raise ConfigurationError(
                f"The Grid strategy searches categorical ranges only, but {numeric}{where} "
                "are numeric; make them CategoricalParameter([...]) or use another strategy."
            )


def _metric_definitions(
    tuner: HyperparameterTuner,
    name: str | None,
    base: list[MetricDefinition],
    objective: str,
    label: str,
) -> list[MetricDefinition]:
    """The job's metric definitions (a built-in algorithm's included) and the tuner's."""
    definitions = list(base)
    extra = (
        (tuner.metric_definitions_dict or {}).get(name or "")
        if tuner.model_trainer_dict is not None
        else tuner.metric_definitions
    )
    for item in extra or []:
        if isinstance(item, MetricDefinition):
            definitions.append(item)
            continue
        if not isinstance(item, dict) or set(item) - {"Name", "Regex"} or len(item) != 2:
            raise ConfigurationError(
                f"metric_definitions entries are dicts with 'Name' and 'Regex', but got {item!r}."
            )
        definitions.append(MetricDefinition(name=item["Name"], regex=item["Regex"]))
    names = [d.name for d in definitions]
    if objective not in names:
        raise ConfigurationError(
            f"The objective metric {objective!r}{label} has no metric definition, so its value "
            f"cannot be read from the job's logs; add metric_definitions=[{{'Name': "
            f"{objective!r}, 'Regex': '{objective}: ([0-9\\\\.]+)'}}] (known: {names})."
        )
    unique = {d.name: d for d in definitions}
    return list(unique.values())


def _definition(
    tuner: HyperparameterTuner,
    name: str | None,
    trainer: ModelTrainer,
    objective: str,
    ranges: dict[str, ParameterRange],
    session: Session,
    instance_configs: list[HyperParameterTuningInstanceConfig] | None,
) -> tuple[TrainingDefinition, _request.Plan]:
    label = f" of trainer {name!r}" if name else ""
    plan = _request.plan(trainer, session)
    static = load_hyperparameters(trainer.hyperparameters)
    if tuner.autotune:
        keep = list(
            (tuner.hyperparameters_to_keep_static_dict or {}).get(name or "", [])
            if tuner.model_trainer_dict is not None
            else tuner.hyperparameters_to_keep_static or []
        )
        unknown = [k for k in keep if k not in static]
        if unknown:
            raise ConfigurationError(
                f"hyperparameters_to_keep_static names {unknown}, which the trainer{label} "
                f"does not set; its hyperparameters are {sorted(static)}."
            )
        algorithm = (
            algorithm_spec(plan.spec.algorithm_name or "") if plan.spec.builtin_program else None
        )
        chosen = autotune_ranges(static, keep, algorithm.TUNABLE_RANGES if algorithm else None)
        chosen.update(ranges)
        if not chosen:
            raise ConfigurationError(
                f"autotune knows none of the trainer's hyperparameters{label} "
                f"({sorted(static) or 'none are set'}; kept static: {keep}). Give "
                f"hyperparameter_ranges, or set some of: {', '.join(sorted(KNOWN_RANGES)[:12])}…"
            )
        ranges = chosen
    else:
        clash = sorted(set(ranges) & set(static))
        if clash:
            raise ConfigurationError(
                f"{clash}{label} are both static hyperparameters and tuned ranges; remove them "
                "from the trainer's hyperparameters or from hyperparameter_ranges."
            )
    reserved = [n for n in ranges if n == "_tuning_objective_metric" or n.startswith("sagemaker_")]
    if reserved:
        raise ConfigurationError(f"{reserved} are reserved names and cannot be tuned.")
    template = plan.spec
    tuned_names = set(ranges)
    template = template.model_copy(
        update={
            "hyperparameters": {
                k: v for k, v in template.hyperparameters.items() if k not in tuned_names
            },
            "metric_definitions": _metric_definitions(
                tuner, name, plan.spec.metric_definitions, objective, label
            ),
        }
    )
    if instance_configs:
        first = instance_configs[0]
        template = template.model_copy(
            update={
                "host_groups": [
                    HostGroupSpec(
                        name="homogeneousCluster",
                        instance_type=first.instance_type,
                        count=first.instance_count,
                    )
                ],
                "volume_size_in_gb": first.volume_size_in_gb,
            }
        )
    definition = TrainingDefinition(
        name=name,
        objective_metric_name=objective,
        ranges=[RangeSpec.of(key, value) for key, value in ranges.items()],
        template=template,
    )
    return definition, plan


def _max_jobs(tuner: HyperparameterTuner, definitions: list[TrainingDefinition]) -> int:
    if tuner.strategy == "Grid":
        combos = sum(search.grid_size(d.ranges) for d in definitions)
        if tuner.max_jobs is not None and tuner.max_jobs != combos:
            raise ConfigurationError(
                f"The Grid strategy runs every combination of the categorical ranges ({combos}); "
                f"max_jobs must be unset or {combos}, but got {tuner.max_jobs}."
            )
        if tuner.max_parallel_jobs > combos:
            raise ConfigurationError(
                f"max_parallel_jobs ({tuner.max_parallel_jobs}) exceeds the {combos} grid "
                "combinations; lower it."
            )
        return combos
    if tuner.max_jobs is None:
        raise ConfigurationError(
            "max_jobs is required (how many training jobs the tuning job may run), unless "
            "strategy='Grid', which runs every combination."
        )
    return tuner.max_jobs


def _warm_start(
    tuner: HyperparameterTuner, session: Session, definitions: list[TrainingDefinition]
) -> None:
    config = tuner.warm_start_config
    if config is None:
        return
    from sageyard.tuning.service import TuningJobService

    service = TuningJobService(session.settings)
    for parent in config.parent_hyper_parameter_tuning_jobs:
        record = service.get(parent.hyper_parameter_tuning_job_name)  # ResourceNotFound
        if record.status in ("InProgress", "Stopping"):
            raise ConfigurationError(
                f"The parent tuning job {record.name!r} is still {record.status}; warm start "
                "needs parents that have ended (wait for it or stop it)."
            )
        if config.warm_start_type != "IdenticalDataAndAlgorithm":
            continue
        parent_spec = service.spec(record)
        for definition in definitions:
            for theirs in parent_spec.definitions:
                if theirs.name != definition.name:
                    continue
                mine, other = definition.template, theirs.template
                if (mine.training_image, mine.algorithm_name) != (
                    other.training_image,
                    other.algorithm_name,
                ) or [c.model_dump() for c in mine.channels] != [
                    c.model_dump() for c in other.channels
                ]:
                    raise ConfigurationError(
                        f"IdenticalDataAndAlgorithm warm start needs the same training image "
                        f"and input data as the parent {record.name!r}, but they differ; use "
                        "WarmStartTypes.TRANSFER_LEARNING instead."
                    )


def tuning_plan(
    tuner: HyperparameterTuner,
    session: Session,
    job_name: str | None,
) -> TuningPlan:
    """Validate everything and build the tuning job's spec (no writes)."""
    from sageyard.tuning.search import require_optuna

    require_optuna()
    check_settings(tuner)
    if job_name is not None and (len(job_name) > 32 or not _JOB_NAME.match(job_name)):
        raise ConfigurationError(
            f"job_name must be 1-32 letters, digits or hyphens (no leading hyphen), but got "
            f"{job_name!r}."
        )
    definitions: list[TrainingDefinition] = []
    sources: dict[str | None, tuple[Path, list[str] | None]] = {}
    trainers = tuner._trainers()
    for name, trainer in trainers.items():
        objective = tuner._objectives()[name]
        ranges = tuner._ranges_dict()[name]
        instance = tuner._instance_configs.get(name) if tuner._instance_configs else None
        definition, plan = _definition(tuner, name, trainer, objective, ranges, session, instance)
        definitions.append(definition)
        if plan.source_dir is not None:
            sources[name] = (plan.source_dir, plan.ignore_patterns)
    max_jobs = _max_jobs(tuner, definitions)
    if tuner.max_parallel_jobs > max_jobs:
        raise ConfigurationError(
            f"max_parallel_jobs ({tuner.max_parallel_jobs}) must not exceed max_jobs ({max_jobs})."
        )
    _warm_start(tuner, session, definitions)
    base = None if job_name else tuner._base_name()
    request = _request_dict(tuner, definitions, max_jobs)
    spec = TuningJobSpec(
        tuning_job_name=job_name or base or "tuning",
        strategy=tuner.strategy,
        objective_type=tuner.objective_type,
        definitions=definitions,
        max_jobs=max_jobs,
        max_parallel_jobs=tuner.max_parallel_jobs,
        max_runtime_in_seconds=tuner.max_runtime_in_seconds,
        early_stopping_type=tuner.early_stopping_type,
        completion=tuner.completion_criteria_config,
        hyperband=tuner.strategy_config.hyperband_strategy_config
        if tuner.strategy_config
        else None,
        warm_start=tuner.warm_start_config,
        random_seed=tuner.random_seed,
        request=request,
    )
    return TuningPlan(spec=spec, base_name=base, sources=sources)


def _ranges_request(ranges: list[RangeSpec]) -> dict[str, list[dict[str, Any]]]:
    from sageyard.core.parameter import (
        CategoricalParameter,
        ContinuousParameter,
        IntegerParameter,
    )

    out: dict[str, list[dict[str, Any]]] = {
        "IntegerParameterRanges": [],
        "ContinuousParameterRanges": [],
        "CategoricalParameterRanges": [],
    }
    for item in ranges:
        parameter: ParameterRange
        if item.kind == "Categorical":
            parameter = CategoricalParameter(list(item.values or []))
        elif item.kind == "Integer":
            parameter = IntegerParameter(
                int(item.min_value or 0), int(item.max_value or 0), item.scaling_type
            )
        else:
            parameter = ContinuousParameter(
                item.min_value or 0.0, item.max_value or 0.0, item.scaling_type
            )
        out[f"{item.kind}ParameterRanges"].append(parameter.as_tuning_range(item.name))
    return out


def _request_dict(
    tuner: HyperparameterTuner, definitions: list[TrainingDefinition], max_jobs: int
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "Strategy": tuner.strategy,
        "ResourceLimits": {
            "MaxNumberOfTrainingJobs": max_jobs,
            "MaxParallelTrainingJobs": tuner.max_parallel_jobs,
            **(
                {"MaxRuntimeInSeconds": tuner.max_runtime_in_seconds}
                if tuner.max_runtime_in_seconds
                else {}
            ),
        },
        "TrainingJobEarlyStoppingType": tuner.early_stopping_type,
    }
    if tuner.random_seed is not None:
        config["RandomSeed"] = tuner.random_seed
    if tuner.strategy_config is not None:
        config["StrategyConfig"] = to_request(tuner.strategy_config)
    if tuner.completion_criteria_config is not None:
        config["TuningJobCompletionCriteria"] = to_request(tuner.completion_criteria_config)
    jobs = []
    for definition in definitions:
        item: dict[str, Any] = {
            "AlgorithmSpecification": definition.template.request.get("AlgorithmSpecification"),
            "StaticHyperParameters": {
                **definition.static_hyperparameters,
                "_tuning_objective_metric": definition.objective_metric_name,
            },
            "HyperParameterRanges": _ranges_request(definition.ranges),
            "TuningObjective": {
                "Type": tuner.objective_type,
                "MetricName": definition.objective_metric_name,
            },
            "RoleArn": definition.template.role_arn,
            "ResourceConfig": definition.template.request.get("ResourceConfig"),
            "OutputDataConfig": definition.template.request.get("OutputDataConfig"),
            "StoppingCondition": definition.template.request.get("StoppingCondition"),
        }
        if definition.name is not None:
            item["DefinitionName"] = definition.name
        jobs.append(item)
    request: dict[str, Any] = {"HyperParameterTuningJobConfig": config}
    if len(definitions) == 1 and definitions[0].name is None:
        single = jobs[0]
        config["HyperParameterTuningJobObjective"] = single.pop("TuningObjective")
        config["ParameterRanges"] = single.pop("HyperParameterRanges")
        request["TrainingJobDefinition"] = single
    else:
        request["TrainingJobDefinitions"] = jobs
    if tuner.warm_start_config is not None:
        request["WarmStartConfig"] = to_request(tuner.warm_start_config)
    if tuner.tags:
        request["Tags"] = [to_request(t) if hasattr(t, "to_request") else t for t in tuner.tags]
    if tuner.autotune:
        request["Autotune"] = {"Mode": "Enabled"}
    return request
