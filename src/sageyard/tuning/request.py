"""A CreateHyperParameterTuningJob request → a validated :class:`TuningJobSpec`, every rule.

The request is the dict the SageMaker API takes (PascalCase keys, as boto3's
``create_hyper_parameter_tuning_job`` sends it), plus ``"Sageyard"`` keys for what sageyard
needs beyond it:

.. code-block:: python

    {
        "HyperParameterTuningJobName": "my-tuning",     # or Sageyard.BaseJobName
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",                     # Random | Grid | Hyperband
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "acc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 2,
                               "MaxRuntimeInSeconds": 3600},
            "ParameterRanges": {"ContinuousParameterRanges": [{"Name": "lr",
                "MinValue": "0.001", "MaxValue": "0.1", "ScalingType": "Logarithmic"}]},
            "TrainingJobEarlyStoppingType": "Off",      # Auto: the median rule
            "StrategyConfig": {"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}},
            "TuningJobCompletionCriteria": {"TargetObjectiveMetricValue": 0.95},
            "RandomSeed": 7,
        },
        "TrainingJobDefinition": {                      # or TrainingJobDefinitions: [...],
            "AlgorithmSpecification": {...},            # each with DefinitionName and
            "StaticHyperParameters": {"epochs": "3"},   # TuningObjective/HyperParameterRanges
            "RoleArn": "...", "InputDataConfig": [...], "OutputDataConfig": {...},
            "ResourceConfig": {...},                    # or HyperParameterTuningResourceConfig
            "StoppingCondition": {...}, "Environment": {...},
            "Sageyard": {...},                          # below
        },
        "WarmStartConfig": {"ParentHyperParameterTuningJobs": [...], "WarmStartType": "..."},
        "Tags": [{"Key": "team", "Value": "ml"}],
        "Autotune": {"Mode": "Enabled"},                # choose ranges from the static ones
        "Sageyard": {"BaseJobName": "my-tuning"},       # name it <base>-<timestamp>
    }

A definition's own ``Sageyard`` key holds what its trials' CreateTrainingJob requests take
beyond the API's definition: the ``Sageyard`` fields of :mod:`sageyard.jobs.request`
(``BaseJobName``, ``SourceCode``, ``Executor``, ``ModelPackageRegistration``, ``ModelChannel``,
``Distributed``), the CreateTrainingJob fields a definition has no place for
(:data:`TRAINING_ONLY_FIELDS`), and ``HyperParametersToKeepStatic`` (with Autotune: the
static hyperparameters not to tune).

Each definition's trial template is checked by
:func:`sageyard.jobs.request.validate_training_job` on the CreateTrainingJob request the
definition stands for; the tuning rules are checked here. Nothing is written: a bad request
raises :class:`ConfigurationError` (a ValueError) or the reference's ClientError codes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.parameter import ParameterRange, range_from_request
from sageyard.core.settings import Settings
from sageyard.core.shapes import (
    HyperParameterTuningInstanceConfig,
    HyperParameterTuningJobStrategyConfig,
    HyperParameterTuningJobWarmStartConfig,
    TuningJobCompletionCriteria,
    from_request,
    name_or_base,
    only_known,
    optional_shape,
    request_mapping,
    to_request,
)
from sageyard.core.shapes._fields import (
    MAX_HYPERPARAMETERS,
    hyperparameter_map,
    refuse_nul,
)
from sageyard.jobs.request import EXTENSION_KEYS, check_tags, validate_training_job
from sageyard.jobs.spec import TrainingJobSpec
from sageyard.programs import find_program
from sageyard.runtime.environment import decode_hyperparameter
from sageyard.storage import ObjectStore
from sageyard.store import JobRecord
from sageyard.tuning import search
from sageyard.tuning.autotune import autotune_ranges, known_ranges
from sageyard.tuning.rules import check_settings, max_jobs_of
from sageyard.tuning.spec import RangeSpec, TrainingDefinition, TuningJobSpec

OPERATION = "CreateHyperParameterTuningJob"
EXTENSION = "Sageyard"
MAX_NAME = 32
OBJECTIVE_HYPERPARAMETER = "_tuning_objective_metric"  # set on every trial
#: CreateTrainingJob fields that a training definition carries in its ``Sageyard`` key.
TRAINING_ONLY_FIELDS = (
    "TensorBoardOutputConfig",
    "InfraCheckConfig",
    "RemoteDebugConfig",
    "SessionChainingConfig",
    "TrainingImageConfig",
    "Tags",
)
KEEP_STATIC = "HyperParametersToKeepStatic"

_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
# SageMaker's limits on a tuning job, from its API reference and botocore's service model
# (sagemaker/2017-07-24):
#: ``HyperParameterTrainingJobDefinitionName``: 1-64 letters, digits and hyphens.
_DEFINITION_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}")
#: ``HyperParameterTrainingJobDefinitions``: at most 10 training definitions.
MAX_DEFINITIONS = 10
#: ``ParameterRanges``: at most 30 ranges of each kind, and "the sum of the number of
#: hyperparameters for all the ranges can't exceed the maximum number specified" (30).
MAX_RANGES = 30
#: ``ParameterKey`` (a range's Name): at most 256 characters.
MAX_RANGE_NAME = 256
#: ``HyperParameterTrainingJobEnvironmentMap``: at most 48 variables, summed over every
#: training definition of the tuning job.
MAX_TUNING_ENVIRONMENT = 48
_KEYS = {
    "HyperParameterTuningJobName",
    "HyperParameterTuningJobConfig",
    "TrainingJobDefinition",
    "TrainingJobDefinitions",
    "WarmStartConfig",
    "Tags",
    "Autotune",
    EXTENSION,
}
_CONFIG_KEYS = {
    "Strategy",
    "StrategyConfig",
    "HyperParameterTuningJobObjective",
    "ResourceLimits",
    "ParameterRanges",
    "TrainingJobEarlyStoppingType",
    "TuningJobCompletionCriteria",
    "RandomSeed",
}
_LIMIT_KEYS = {"MaxNumberOfTrainingJobs", "MaxParallelTrainingJobs", "MaxRuntimeInSeconds"}
#: The fields of a definition that its trials' CreateTrainingJob requests take as they are.
_TRAINING_KEYS = {
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "VpcConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "RetryStrategy",
    "Environment",
}
_DEFINITION_KEYS = _TRAINING_KEYS | {
    "DefinitionName",
    "TuningObjective",
    "HyperParameterRanges",
    "StaticHyperParameters",
    "HyperParameterTuningResourceConfig",
    EXTENSION,
}
_DEFINITION_EXTENSION_KEYS = {*EXTENSION_KEYS, KEEP_STATIC, *TRAINING_ONLY_FIELDS}
_RANGE_KINDS = ("Integer", "Continuous", "Categorical")

Parents = Callable[[str], JobRecord]


@dataclass(frozen=True)
class ValidatedTuningJob:
    """A request that passed every rule: the tuning job's spec and how the service names it.

    ``base_name`` set: the job is named ``<base>-<timestamp>``; otherwise
    ``spec.tuning_job_name`` is the name and must be new. ``sources`` maps a definition's
    name to its local ``source_dir`` (and ignore patterns), snapshotted once for every trial.
    """

    spec: TuningJobSpec
    base_name: str | None
    sources: dict[str | None, tuple[Path, list[str] | None]]


@dataclass(frozen=True)
class _Draft:
    """One training definition as given, before its trial template is checked."""

    name: str | None
    item: dict[str, Any]
    objective_type: Any
    metric: str
    ranges: dict[str, ParameterRange]
    static: dict[str, str]
    keep: list[str] | None
    extension: dict[str, Any]
    instance_configs: list[HyperParameterTuningInstanceConfig] | None

    @property
    def label(self) -> str:
        return f" of trainer {self.name!r}" if self.name else ""


def validate_tuning_job(
    request: Mapping[str, Any],
    settings: Settings,
    objects: ObjectStore,
    *,
    parents: Parents | None = None,
) -> ValidatedTuningJob:
    """Check a CreateHyperParameterTuningJob request against every rule and build its spec.

    ``parents`` looks a warm start's parent tuning job up by name (the service passes its
    ``get``, which raises ResourceNotFound); it is needed only with a WarmStartConfig.

    Example:
        >>> job = validate_tuning_job(request, settings, objects)  # doctest: +SKIP
        >>> job.spec.max_jobs
        20
    """
    search.require_optuna()
    request = request_mapping(request, OPERATION)
    refuse_nul(request, OPERATION)
    only_known(request, _KEYS, OPERATION)
    extension = request_mapping(request.get(EXTENSION) or {}, EXTENSION)
    only_known(extension, {"BaseJobName"}, EXTENSION)
    name, base_name = _names(request, extension)
    config = request_mapping(
        request.get("HyperParameterTuningJobConfig") or {}, "HyperParameterTuningJobConfig"
    )
    only_known(config, _CONFIG_KEYS, "HyperParameterTuningJobConfig")
    strategy = config.get("Strategy") or "Bayesian"
    strategy_config = optional_shape(
        HyperParameterTuningJobStrategyConfig, config, "StrategyConfig"
    )
    limits = request_mapping(config.get("ResourceLimits") or {}, "ResourceLimits")
    only_known(limits, _LIMIT_KEYS, "ResourceLimits")
    max_jobs = _optional_int(limits, "MaxNumberOfTrainingJobs", "ResourceLimits")
    max_parallel = _optional_int(limits, "MaxParallelTrainingJobs", "ResourceLimits")
    max_parallel = 1 if max_parallel is None else max_parallel
    max_runtime = _optional_int(limits, "MaxRuntimeInSeconds", "ResourceLimits")
    random_seed = _optional_int(config, "RandomSeed", "HyperParameterTuningJobConfig")
    early_stopping = config.get("TrainingJobEarlyStoppingType") or "Off"
    completion = optional_shape(TuningJobCompletionCriteria, config, "TuningJobCompletionCriteria")
    autotune = _autotune_mode(request.get("Autotune"))
    drafts = _drafts(request, config)
    _environment_limit(drafts)
    objective_type = _objective_type(drafts)
    check_settings(
        strategy=strategy,
        objective_type=objective_type,
        early_stopping_type=early_stopping,
        strategy_config=strategy_config,
        random_seed=random_seed,
        max_jobs=max_jobs,
        max_parallel_jobs=max_parallel,
        max_runtime_in_seconds=max_runtime,
        ranges={draft.name: draft.ranges for draft in drafts},
        autotune=autotune,
        keep_static={draft.name: draft.keep for draft in drafts},
    )
    definitions: list[TrainingDefinition] = []
    sources: dict[str | None, tuple[Path, list[str] | None]] = {}
    for draft in drafts:
        definition, source = _definition(draft, settings, objects, autotune)
        definitions.append(definition)
        if source is not None:
            sources[draft.name] = source
    max_jobs = max_jobs_of(strategy, max_jobs, max_parallel, definitions)
    if max_parallel > max_jobs:
        raise ConfigurationError(
            f"max_parallel_jobs ({max_parallel}) must not exceed max_jobs ({max_jobs})."
        )
    warm_start = _warm_start(request.get("WarmStartConfig"), definitions, parents)
    tags = _tags(request.get("Tags"))
    config_out: dict[str, Any] = {
        "Strategy": strategy,
        "ResourceLimits": {
            "MaxNumberOfTrainingJobs": max_jobs,
            "MaxParallelTrainingJobs": max_parallel,
            **({"MaxRuntimeInSeconds": max_runtime} if max_runtime else {}),
        },
        "TrainingJobEarlyStoppingType": early_stopping,
    }
    if random_seed is not None:
        config_out["RandomSeed"] = random_seed
    if strategy_config is not None:
        config_out["StrategyConfig"] = to_request(strategy_config)
    if completion is not None:
        config_out["TuningJobCompletionCriteria"] = to_request(completion)
    described = _described(config_out, objective_type, drafts, definitions)
    if warm_start is not None:
        described["WarmStartConfig"] = to_request(warm_start)
    if tags:
        described["Tags"] = tags
    if autotune:
        described["Autotune"] = {"Mode": "Enabled"}
    if name is not None:
        described["HyperParameterTuningJobName"] = name
    spec = TuningJobSpec(
        tuning_job_name=name or base_name,
        strategy=strategy,
        objective_type=objective_type,
        definitions=definitions,
        max_jobs=max_jobs,
        max_parallel_jobs=max_parallel,
        max_runtime_in_seconds=max_runtime,
        early_stopping_type=early_stopping,
        completion=completion,
        hyperband=strategy_config.hyperband_strategy_config if strategy_config else None,
        warm_start=warm_start,
        random_seed=random_seed,
        request=described,
    )
    return ValidatedTuningJob(spec=spec, base_name=base_name, sources=sources)


# -- the parts of the request ------------------------------------------------------------------


def _optional_int(value: Mapping[str, Any], key: str, where: str) -> int | None:
    item = value.get(key)
    if item is not None and (isinstance(item, bool) or not isinstance(item, int)):
        raise ConfigurationError(f"{where}.{key} must be an integer, but got {item!r}.")
    return item


def _names(
    request: Mapping[str, Any], extension: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    name, base = name_or_base(request, extension, "HyperParameterTuningJobName", OPERATION)
    if name is not None and (
        not isinstance(name, str) or len(name) > MAX_NAME or not _JOB_NAME.fullmatch(name)
    ):
        raise ConfigurationError(
            f"job_name (HyperParameterTuningJobName) must be 1-{MAX_NAME} letters, digits or "
            f"hyphens (no leading or trailing hyphen), but got {name!r}."
        )
    return name, base


def _autotune_mode(value: Any) -> bool:
    if value is None:
        return False
    mode = request_mapping(value, "Autotune").get("Mode")
    if mode != "Enabled" or set(value) != {"Mode"}:
        raise ConfigurationError(
            f"Autotune must be {{'Mode': 'Enabled'}} (or left out), but got {value!r}."
        )
    return True


def _drafts(request: Mapping[str, Any], config: Mapping[str, Any]) -> list[_Draft]:
    single, several = request.get("TrainingJobDefinition"), request.get("TrainingJobDefinitions")
    if (single is None) == (several is None):
        raise ConfigurationError(
            "A CreateHyperParameterTuningJob request needs exactly one of "
            "TrainingJobDefinition (one trainer) or TrainingJobDefinitions (several, each with "
            f"a DefinitionName), but got {'both' if single is not None else 'neither'}."
        )
    if single is not None:
        return [_draft(single, "TrainingJobDefinition", config, named=False)]
    if not isinstance(several, list) or not several:
        raise ConfigurationError(
            f"TrainingJobDefinitions must be a non-empty list of definitions, but got {several!r}."
        )
    if len(several) > MAX_DEFINITIONS:
        raise ConfigurationError(
            f"TrainingJobDefinitions has {len(several)} training definitions (model_trainer_dict "
            f"entries), but SageMaker allows at most {MAX_DEFINITIONS}; split them over several "
            "tuning jobs."
        )
    if config.get("ParameterRanges") is not None:
        raise ConfigurationError(
            "With TrainingJobDefinitions, each definition has its own HyperParameterRanges; "
            "move HyperParameterTuningJobConfig.ParameterRanges into them."
        )
    drafts = [
        _draft(item, f"TrainingJobDefinitions[{index}]", config, named=True)
        for index, item in enumerate(several)
    ]
    names = [draft.name for draft in drafts]
    repeated = sorted({n for n in names if n is not None and names.count(n) > 1})
    if repeated:
        raise ConfigurationError(
            f"DefinitionName must be unique among TrainingJobDefinitions, but {repeated} "
            "appear more than once."
        )
    return drafts


def _draft(value: Any, where: str, config: Mapping[str, Any], *, named: bool) -> _Draft:
    item = request_mapping(value, where)
    only_known(item, _DEFINITION_KEYS, where)
    name = item.get("DefinitionName")
    if name is not None and (not isinstance(name, str) or not name):
        raise ConfigurationError(
            f"{where}.DefinitionName must be a non-empty string, got {name!r}."
        )
    if name is not None and not _DEFINITION_NAME.fullmatch(name):
        raise ConfigurationError(
            f"{where}.DefinitionName (a model_trainer_dict key) must be 1-64 letters, digits "
            "or hyphens, starting and ending with a letter or digit (SageMaker's rule), but "
            f"got {name[:80]!r}; e.g. 'small-model'."
        )
    if named and name is None:
        raise ConfigurationError(
            f"{where} needs a DefinitionName: each of several training definitions is named, "
            "so that its trials can say which one they ran."
        )
    objective = _one_of(item, "TuningObjective", config, "HyperParameterTuningJobObjective", where)
    objective = request_mapping(objective or {}, f"{where}.TuningObjective")
    only_known(objective, {"Type", "MetricName"}, f"{where}.TuningObjective")
    metric = objective.get("MetricName")
    if not isinstance(metric, str) or not metric:
        raise ConfigurationError(
            f"{where}: the tuning objective needs a MetricName (objective_metric_name, the "
            f"metric to optimise), but got {metric!r}."
        )
    ranges = _ranges(
        _one_of(item, "HyperParameterRanges", config, "ParameterRanges", where),
        f"{where}.HyperParameterRanges",
    )
    static = hyperparameter_map(item.get("StaticHyperParameters"), f"{where}.StaticHyperParameters")
    static.pop(OBJECTIVE_HYPERPARAMETER, None)  # each trial gets it anew
    tuned = [n for n in ranges if n not in static]  # a clash is refused, and named, later
    if len(static) + len(tuned) + 1 > MAX_HYPERPARAMETERS:
        raise ConfigurationError(
            f"{where}: each trial would get {len(static) + len(tuned) + 1} hyperparameters "
            f"({len(static)} static, {len(tuned)} tuned and {OBJECTIVE_HYPERPARAMETER}), but "
            f"SageMaker allows at most {MAX_HYPERPARAMETERS} a training job; pass fewer static "
            "hyperparameters."
        )
    extension = request_mapping(item.get(EXTENSION) or {}, f"{where}.{EXTENSION}")
    only_known(extension, _DEFINITION_EXTENSION_KEYS, f"{where}.{EXTENSION}")
    keep = extension.get(KEEP_STATIC)
    if keep is not None and (
        not isinstance(keep, list) or not all(isinstance(k, str) for k in keep)
    ):
        raise ConfigurationError(
            f"{where}.Sageyard.{KEEP_STATIC} must be a list of hyperparameter names, but got "
            f"{keep!r}."
        )
    if item.get("ResourceConfig") is not None and item.get("HyperParameterTuningResourceConfig"):
        raise ConfigurationError(
            f"{where} gives both ResourceConfig and HyperParameterTuningResourceConfig; give "
            "one (the tuner's override_resource_config() replaces the trainer's compute)."
        )
    return _Draft(
        name=name,
        item=item,
        objective_type=objective.get("Type"),
        metric=metric,
        ranges=ranges,
        static=static,
        keep=keep,
        extension=extension,
        instance_configs=_instance_configs(
            item.get("HyperParameterTuningResourceConfig"),
            f"{where}.HyperParameterTuningResourceConfig",
        ),
    )


def _environment_limit(drafts: list[_Draft]) -> None:
    """SageMaker counts the Environment variables of every training definition together."""
    counts = [
        len(d.item["Environment"]) if isinstance(d.item.get("Environment"), Mapping) else 0
        for d in drafts
    ]
    if sum(counts) > MAX_TUNING_ENVIRONMENT:
        each = f" ({' + '.join(map(str, counts))})" if len(counts) > 1 else ""
        raise ConfigurationError(
            f"The training definitions set {sum(counts)} environment variables{each}, but "
            f"SageMaker allows a tuning job at most {MAX_TUNING_ENVIRONMENT} in all; pass fewer."
        )


def _one_of(
    item: Mapping[str, Any], key: str, config: Mapping[str, Any], config_key: str, where: str
) -> Any:
    """A definition's own ``key``, or the config's ``config_key`` (the single-trainer form)."""
    own, shared = item.get(key), config.get(config_key)
    if own is not None and shared is not None and own != shared:
        raise ConfigurationError(
            f"{where}.{key} and HyperParameterTuningJobConfig.{config_key} differ; give it once."
        )
    return own if own is not None else shared


def _objective_type(drafts: list[_Draft]) -> Any:
    types = list(dict.fromkeys(draft.objective_type for draft in drafts))
    if len(types) > 1:
        raise ConfigurationError(
            f"Every training definition's TuningObjective.Type must be the same (one "
            f"objective_type per tuning job), but got {types}."
        )
    return types[0]


def _ranges(value: Any, where: str) -> dict[str, ParameterRange]:
    """The API's ParameterRanges as ranges by name, in the order given (the kinds in the
    order of their keys): the order of the trials' tuned hyperparameters."""
    given = request_mapping(value or {}, where)
    keys = {f"{kind}ParameterRanges" for kind in _RANGE_KINDS}
    only_known(given, keys, where)
    ranges: dict[str, ParameterRange] = {}
    for key in given:
        kind = key.removesuffix("ParameterRanges")
        items = given[key] or []
        if not isinstance(items, list):
            raise ConfigurationError(
                f"{where}.{kind}ParameterRanges must be a list, but got {items!r}."
            )
        if len(ranges) + len(items) > MAX_RANGES:
            raise ConfigurationError(
                f"{where} has at least {len(ranges) + len(items)} ranges, but SageMaker allows "
                f"at most {MAX_RANGES} tuned hyperparameters in all (of every kind together); "
                "tune fewer, keeping the others static."
            )
        for index, entry in enumerate(items):
            at = f"{where}.{kind}ParameterRanges[{index}]"
            item = request_mapping(entry, at)
            name = item.get("Name")
            if not isinstance(name, str) or not name:
                raise ConfigurationError(f"{at}.Name must be a non-empty string, got {name!r}.")
            if len(name) > MAX_RANGE_NAME:
                raise ConfigurationError(
                    f"{at}.Name is {len(name)} characters long ({name[:40]!r}...), but "
                    f"SageMaker allows at most {MAX_RANGE_NAME}; use a shorter name."
                )
            if name in ranges:
                raise ConfigurationError(f"{where} names {name!r} twice; give each range once.")
            ranges[name] = _range(kind, item, at)
    return ranges


def _range(kind: str, item: dict[str, Any], where: str) -> ParameterRange:
    fields = {"Name", "Values"} if kind == "Categorical" else {"Name", "MinValue", "MaxValue"}
    only_known(item, fields | ({"ScalingType"} if kind != "Categorical" else set()), where)
    missing = sorted(fields - set(item))
    if missing:
        raise ConfigurationError(f"{where} ({item['Name']!r}) needs {missing}.")
    values = item.get("Values", [item.get("MinValue"), item.get("MaxValue")])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigurationError(
            f"{where} ({item['Name']!r}): the API gives range values as strings (e.g. "
            f"'0.1'), but got {values!r}."
        )
    try:
        return range_from_request(kind, item)
    except ConfigurationError as error:
        raise ConfigurationError(f"{where} ({item['Name']!r}): {error}") from None
    except ValueError:
        raise ConfigurationError(
            f"{where} ({item['Name']!r}): MinValue and MaxValue must be {kind.lower()} "
            f"numbers, but got {item.get('MinValue')!r} and {item.get('MaxValue')!r}."
        ) from None


def _instance_configs(value: Any, where: str) -> list[HyperParameterTuningInstanceConfig] | None:
    """HyperParameterTuningResourceConfig's instances (sageyard runs trials on the first)."""
    if value is None:
        return None
    resource = request_mapping(value, where)
    only_known(resource, {"InstanceConfigs", "AllocationStrategy"}, where)
    strategy = resource.get("AllocationStrategy", "Prioritized")
    if strategy != "Prioritized":
        raise ConfigurationError(
            f"{where}.AllocationStrategy must be 'Prioritized', but got {strategy!r}."
        )
    items = resource.get("InstanceConfigs")
    if not isinstance(items, list) or not items:
        raise ConfigurationError(
            f"{where}.InstanceConfigs must list at least one instance configuration, but got "
            f"{items!r}."
        )
    return [
        from_request(HyperParameterTuningInstanceConfig, item, f"{where}.InstanceConfigs[{index}]")
        for index, item in enumerate(items)
    ]


def _training_request(draft: _Draft) -> dict[str, Any]:
    """The CreateTrainingJob request that ``draft`` stands for (its trials' template)."""
    training = {key: value for key, value in draft.item.items() if key in _TRAINING_KEYS}
    extension = {k: v for k, v in draft.extension.items() if k != KEEP_STATIC}
    for key in TRAINING_ONLY_FIELDS:
        if key in extension:
            training[key] = extension.pop(key)
    if draft.instance_configs:
        first = draft.instance_configs[0]
        training["ResourceConfig"] = {
            "InstanceType": first.instance_type,
            "InstanceCount": first.instance_count,
            "VolumeSizeInGB": first.volume_size_in_gb,
        }
    training["HyperParameters"] = dict(draft.static)
    extension.setdefault("BaseJobName", draft.name or "training-job")
    training[EXTENSION] = extension
    return training


def _definition(
    draft: _Draft, settings: Settings, objects: ObjectStore, autotune: bool
) -> tuple[TrainingDefinition, tuple[Path, list[str] | None] | None]:
    """A training definition with its trial template (checked by the training-job rules),
    and the local code folder to snapshot, if any."""
    label = draft.label
    try:
        job = validate_training_job(_training_request(draft), settings, objects)
    except ConfigurationError as error:
        if draft.name is None or type(error) is not ConfigurationError:
            raise
        raise ConfigurationError(f"Training definition {draft.name!r}: {error}") from None
    template = job.spec
    static = template.hyperparameters
    ranges = dict(draft.ranges)
    if autotune:
        keep = list(draft.keep or [])
        unknown = [k for k in keep if k not in static]
        if unknown:
            raise ConfigurationError(
                f"hyperparameters_to_keep_static names {unknown}, which the trainer{label} "
                f"does not set; its hyperparameters are {sorted(static)}."
            )
        chosen = _autotune(template, keep)
        chosen.update(ranges)
        if not chosen:
            raise ConfigurationError(
                f"autotune knows none of the trainer's hyperparameters{label} "
                f"({sorted(static) or 'none are set'}; kept static: {keep}). Give "
                f"hyperparameter_ranges, or set some of: {', '.join(sorted(known_ranges())[:12])}…"
            )
        ranges = chosen
    else:
        clash = sorted(set(ranges) & set(static))
        if clash:
            raise ConfigurationError(
                f"{clash}{label} are both static hyperparameters and tuned ranges; remove them "
                "from the trainer's hyperparameters or from hyperparameter_ranges."
            )
    reserved = [n for n in ranges if n == OBJECTIVE_HYPERPARAMETER or n.startswith("sagemaker_")]
    if reserved:
        raise ConfigurationError(f"{reserved} are reserved names and cannot be tuned.")
    names = [d.name for d in template.metric_definitions]
    if draft.metric not in names:
        raise ConfigurationError(
            f"The objective metric {draft.metric!r}{label} has no metric definition, so its "
            f"value cannot be read from the job's logs; add metric_definitions=[{{'Name': "
            f"{draft.metric!r}, 'Regex': '{draft.metric}: ([0-9\\\\.]+)'}}] (known: {names})."
        )
    template = template.model_copy(
        update={"hyperparameters": {k: v for k, v in static.items() if k not in ranges}}
    )
    definition = TrainingDefinition(
        name=draft.name,
        objective_metric_name=draft.metric,
        ranges=[RangeSpec.of(key, value) for key, value in ranges.items()],
        template=template,
    )
    source = (job.source_dir, job.ignore_patterns) if job.source_dir is not None else None
    return definition, source


def _autotune(template: TrainingJobSpec, keep: list[str]) -> dict[str, ParameterRange]:
    """Ranges for a trainer's known hyperparameters (a built-in algorithm's own, whole)."""
    program = (
        find_program(template.algorithm_name)
        if template.builtin_program and template.algorithm_name
        else None
    )
    values = {k: decode_hyperparameter(v) for k, v in template.hyperparameters.items()}
    return autotune_ranges(values, keep, program.tunable_ranges if program else None)


def _warm_start(
    value: Any, definitions: list[TrainingDefinition], parents: Parents | None
) -> HyperParameterTuningJobWarmStartConfig | None:
    if value is None:
        return None
    config = from_request(HyperParameterTuningJobWarmStartConfig, value, "WarmStartConfig")
    if parents is None:
        raise ConfigurationError(
            "WarmStartConfig names parent tuning jobs, but no job store was given to look them "
            "up in: pass parents= (the tuning-job service's get)."
        )
    for parent in config.parent_hyper_parameter_tuning_jobs:
        record = parents(parent.hyper_parameter_tuning_job_name)  # ResourceNotFound
        if record.status in ("InProgress", "Stopping"):
            raise ConfigurationError(
                f"The parent tuning job {record.name!r} is still {record.status}; warm start "
                "needs parents that have ended (wait for it or stop it)."
            )
        if config.warm_start_type != "IdenticalDataAndAlgorithm":
            continue
        parent_spec = TuningJobSpec.model_validate(record.document["spec"])
        for definition in definitions:
            for theirs in parent_spec.definitions:
                if theirs.name == definition.name and not _same_data_and_algorithm(
                    definition.template, theirs.template
                ):
                    raise ConfigurationError(
                        f"IdenticalDataAndAlgorithm warm start needs the same training image "
                        f"and input data as the parent {record.name!r}, but they differ; use "
                        "WarmStartTypes.TRANSFER_LEARNING instead."
                    )
    return config


def _same_data_and_algorithm(mine: TrainingJobSpec, other: TrainingJobSpec) -> bool:
    return (mine.training_image, mine.algorithm_name) == (
        other.training_image,
        other.algorithm_name,
    ) and [c.model_dump() for c in mine.channels] == [c.model_dump() for c in other.channels]


def _tags(value: Any) -> list[Any]:
    check_tags(value)  # at most 50, no key twice, as for a training job
    return [dict(tag) for tag in value or []]


# -- what describe() returns -------------------------------------------------------------------


def ranges_request(ranges: list[RangeSpec]) -> dict[str, list[dict[str, Any]]]:
    """The ranges in the API's ParameterRanges form."""
    out: dict[str, list[dict[str, Any]]] = {f"{kind}ParameterRanges": [] for kind in _RANGE_KINDS}
    for item in ranges:
        out[f"{item.kind}ParameterRanges"].append(item.to_parameter().as_tuning_range(item.name))
    return out


def _described(
    config: dict[str, Any],
    objective_type: str,
    drafts: list[_Draft],
    definitions: list[TrainingDefinition],
) -> dict[str, Any]:
    """The request as DescribeHyperParameterTuningJob shows it (defaults filled in)."""
    jobs = []
    for draft, definition in zip(drafts, definitions, strict=True):
        template = definition.template.request
        item: dict[str, Any] = {
            "AlgorithmSpecification": template.get("AlgorithmSpecification"),
            "StaticHyperParameters": {
                **definition.static_hyperparameters,
                OBJECTIVE_HYPERPARAMETER: definition.objective_metric_name,
            },
            "HyperParameterRanges": ranges_request(definition.ranges),
            "TuningObjective": {
                "Type": objective_type,
                "MetricName": definition.objective_metric_name,
            },
            "RoleArn": definition.template.role_arn,
        }
        if draft.instance_configs:
            item["HyperParameterTuningResourceConfig"] = {
                "InstanceConfigs": [to_request(c) for c in draft.instance_configs]
            }
        else:
            item["ResourceConfig"] = template.get("ResourceConfig")
        item["OutputDataConfig"] = template.get("OutputDataConfig")
        item["StoppingCondition"] = template.get("StoppingCondition")
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
    return request
