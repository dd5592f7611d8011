"""``HyperparameterTuner``: the reference's tuner, searching over real training jobs.

Example:
    >>> from sageyard.train.tuner import HyperparameterTuner
    >>> from sageyard.core.parameter import ContinuousParameter
    >>> tuner = HyperparameterTuner(
    ...     model_trainer=trainer,
    ...     objective_metric_name="validation:accuracy",
    ...     hyperparameter_ranges={"learning_rate": ContinuousParameter(1e-4, 1e-1)},
    ...     metric_definitions=[{"Name": "validation:accuracy", "Regex": "acc=([0-9.]+)"}],
    ...     max_jobs=20,
    ...     max_parallel_jobs=2,
    ... )  # doctest: +SKIP
    >>> tuner.tune()  # doctest: +SKIP
    >>> tuner.best_training_job()  # doctest: +SKIP
"""

from __future__ import annotations

import copy
from enum import Enum
from typing import TYPE_CHECKING, Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.parameter import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
)
from sageyard.core.session import Session
from sageyard.core.shapes import (
    Channel,
    HyperParameterTuningInstanceConfig,
    HyperParameterTuningJobStrategyConfig,
    HyperParameterTuningJobWarmStartConfig,
    InputData,
    MetricDefinition,
    ParentHyperParameterTuningJob,
    Tag,
    TuningJobCompletionCriteria,
)
from sageyard.core.shapes._described import Described
from sageyard.train import _tuning_request
from sageyard.train._fine_tuning import FineTuningTrainer, tuning_trainer
from sageyard.train.client import client_for
from sageyard.train.model_trainer import ModelTrainer
from sageyard.tuning import request as tuning_request
from sageyard.tuning.resource import TUNING_JOB_FIELDS, HyperParameterTuningJob

if TYPE_CHECKING:
    from sageyard.tuning.analytics import HyperparameterTuningJobAnalytics

__all__ = [
    "CategoricalParameter",
    "Channel",
    "ContinuousParameter",
    "HyperParameterTuningInstanceConfig",
    "HyperParameterTuningJob",
    "HyperParameterTuningJobStrategyConfig",
    "HyperParameterTuningJobWarmStartConfig",
    "HyperparameterTuner",
    "HyperparameterTuningJobAnalytics",
    "InputData",
    "IntegerParameter",
    "ParameterRange",
    "TuningJobCompletionCriteria",
    "WarmStartTypes",
]


class WarmStartTypes(Enum):
    """How a tuning job starts from its parents' results."""

    IDENTICAL_DATA_AND_ALGORITHM = "IdenticalDataAndAlgorithm"
    TRANSFER_LEARNING = "TransferLearning"


class HyperparameterTuner:
    """Tune a ModelTrainer's hyperparameters with real training jobs.

    Args:
        model_trainer: The trainer whose jobs are the trials: a ModelTrainer, or a
            fine-tuning trainer (SFTTrainer, DPOTrainer), whose model and datasets are then
            resolved and checked here.
        objective_metric_name: The metric to optimise (read with a metric definition).
        hyperparameter_ranges: Name → ContinuousParameter / IntegerParameter /
            CategoricalParameter (may be empty with ``autotune=True``).
        metric_definitions: Extra ``{"Name": ..., "Regex": ...}`` definitions.
        strategy: ``Bayesian`` (default), ``Random``, ``Grid`` or ``Hyperband``.
        objective_type: ``Maximize`` (default) or ``Minimize``.
        max_jobs: How many trials at most (default 1, as the real tuner; Grid: every
            combination when unset).
        max_parallel_jobs: How many trials at once (default 1).
        max_runtime_in_seconds: Limit for the whole tuning job.
        tags: Tags recorded on the tuning job (a dict is turned into Key/Value pairs).
        base_tuning_job_name: Names are ``<base>-<timestamp>`` (at most 32 characters).
        warm_start_config: Start from the results of parent tuning jobs.
        strategy_config: Hyperband's settings (required for Hyperband).
        completion_criteria_config: When the tuning job may end early.
        early_stopping_type: ``Off`` (default) or ``Auto`` (the median rule).
        model_trainer_name: Names the trainer: as in the real tuner, it is then the one
            entry of ``model_trainer_dict`` (and of the other ``*_dict`` attributes), its
            trials carry ``TrainingJobDefinitionName``, and ``model_trainer`` is None.
        random_seed: Makes the sequence of sampled hyperparameters reproducible.
        autotune: Choose ranges for the trainer's known hyperparameters.
        hyperparameters_to_keep_static: With autotune, names not to tune.
    """

    #: The longest tuning-job name SageMaker takes (``<base>-<timestamp>`` is cut to fit).
    TUNING_JOB_NAME_MAX_LENGTH = 32

    def __init__(
        self,
        model_trainer: ModelTrainer | FineTuningTrainer | None,
        objective_metric_name: str | None,
        hyperparameter_ranges: dict[str, ParameterRange] | None = None,
        metric_definitions: list[dict[str, str] | MetricDefinition] | None = None,
        strategy: str = "Bayesian",
        objective_type: str = "Maximize",
        max_jobs: int | None = None,
        max_parallel_jobs: int = 1,
        max_runtime_in_seconds: int | None = None,
        tags: list[Tag | dict[str, str]] | dict[str, str] | None = None,
        base_tuning_job_name: str | None = None,
        warm_start_config: HyperParameterTuningJobWarmStartConfig | None = None,
        strategy_config: HyperParameterTuningJobStrategyConfig | None = None,
        completion_criteria_config: TuningJobCompletionCriteria | None = None,
        early_stopping_type: str = "Off",
        model_trainer_name: str | None = None,
        random_seed: int | None = None,
        autotune: bool = False,
        hyperparameters_to_keep_static: list[str] | None = None,
    ) -> None:
        if isinstance(model_trainer, FineTuningTrainer):
            model_trainer = tuning_trainer(
                model_trainer, hyperparameter_ranges, autotune, hyperparameters_to_keep_static
            )
        if model_trainer is not None:
            if not isinstance(model_trainer, ModelTrainer):
                raise ConfigurationError(
                    f"model_trainer must be a ModelTrainer, but got {type(model_trainer)!r}."
                )
            if not objective_metric_name:
                raise ConfigurationError("objective_metric_name is required.")
        elif model_trainer_name is not None:
            raise ConfigurationError(
                f"model_trainer_name={model_trainer_name!r} names a trainer, but model_trainer is "
                "None; pass the ModelTrainer it names."
            )
        self.model_trainer: ModelTrainer | None
        self.objective_metric_name: str | None
        self._hyperparameter_ranges: dict[str, ParameterRange] | None
        self.metric_definitions: list[dict[str, str] | MetricDefinition] | None
        self.model_trainer_dict: dict[str, ModelTrainer] | None
        self.objective_metric_name_dict: dict[str, str] | None
        self._hyperparameter_ranges_dict: dict[str, dict[str, ParameterRange]] | None
        self.metric_definitions_dict: dict[str, Any] | None
        self.hyperparameters_to_keep_static: list[str] | None
        self.hyperparameters_to_keep_static_dict: dict[str, Any] | None
        if model_trainer_name is not None and model_trainer is not None:
            # a named trainer is one entry of the multi-trainer dicts, as in the real tuner
            self.model_trainer = None
            self.objective_metric_name = None
            self._hyperparameter_ranges = None
            self.metric_definitions = None
            self.model_trainer_dict = {model_trainer_name: model_trainer}
            self.objective_metric_name_dict = {model_trainer_name: str(objective_metric_name)}
            self._hyperparameter_ranges_dict = {
                model_trainer_name: dict(hyperparameter_ranges or {})
            }
            self.metric_definitions_dict = (
                {model_trainer_name: metric_definitions} if metric_definitions is not None else {}
            )
            self.hyperparameters_to_keep_static = None
            self.hyperparameters_to_keep_static_dict = {
                model_trainer_name: hyperparameters_to_keep_static
            }
        else:
            self.model_trainer = model_trainer
            self.objective_metric_name = objective_metric_name
            self._hyperparameter_ranges = dict(hyperparameter_ranges or {})
            self.metric_definitions = metric_definitions
            self.model_trainer_dict = None
            self.objective_metric_name_dict = None
            self._hyperparameter_ranges_dict = None
            self.metric_definitions_dict = None
            self.hyperparameters_to_keep_static = hyperparameters_to_keep_static
            self.hyperparameters_to_keep_static_dict = None
        # what tune() sends as each trial's fixed and autotuned hyperparameters (the real
        # tuner's _prepare_for_tuning sets them; None until then)
        self.static_hyperparameters: dict[str, str] | None = None
        self.static_hyperparameters_dict: dict[str, dict[str, str]] | None = None
        self.auto_parameters: dict[str, str] | None = None
        self.auto_parameters_dict: dict[str, dict[str, str] | None] | None = None
        self.strategy = strategy
        self.objective_type = objective_type
        # as the real tuner: one trial unless max_jobs is given (Grid counts its own)
        self.max_jobs = 1 if max_jobs is None and strategy != "Grid" else max_jobs
        self.max_parallel_jobs = max_parallel_jobs
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.tags: list[Tag | dict[str, str]] | None = (
            [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
            if isinstance(tags, dict)
            else tags
        )
        self.base_tuning_job_name = base_tuning_job_name
        self.warm_start_config = warm_start_config
        self.strategy_config = strategy_config
        self.completion_criteria_config = completion_criteria_config
        self.early_stopping_type = early_stopping_type
        self.model_trainer_name = model_trainer_name
        self.random_seed = random_seed
        self.autotune = autotune
        self.instance_configs: list[HyperParameterTuningInstanceConfig] | None = None
        self.instance_configs_dict: dict[str, list[HyperParameterTuningInstanceConfig]] | None = (
            None
        )
        self._instance_configs: dict[str | None, list[HyperParameterTuningInstanceConfig]] = {}
        self.latest_tuning_job: HyperParameterTuningJob | None = None
        self._current_job_name: str | None = None
        if model_trainer is not None:
            _tuning_request.check_settings(self)

    # -- multi-trainer -----------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        model_trainer_dict: dict[str, ModelTrainer] | dict[str, FineTuningTrainer],
        objective_metric_name_dict: dict[str, str],
        hyperparameter_ranges_dict: dict[str, dict[str, ParameterRange]],
        metric_definitions_dict: dict[str, list[dict[str, str]]] | None = None,
        base_tuning_job_name: str | None = None,
        strategy: str = "Bayesian",
        strategy_config: HyperParameterTuningJobStrategyConfig | None = None,
        completion_criteria_config: TuningJobCompletionCriteria | None = None,
        objective_type: str = "Maximize",
        max_jobs: int | None = None,
        max_parallel_jobs: int = 1,
        max_runtime_in_seconds: int | None = None,
        tags: list[Tag | dict[str, str]] | None = None,
        warm_start_config: HyperParameterTuningJobWarmStartConfig | None = None,
        early_stopping_type: str = "Off",
        random_seed: int | None = None,
        autotune: bool = False,
        hyperparameters_to_keep_static_dict: dict[str, list[str]] | None = None,
    ) -> HyperparameterTuner:
        """A tuner whose trials are spread over several trainers, each with its own
        objective metric and ranges; results carry ``TrainingJobDefinitionName``."""
        if not model_trainer_dict:
            raise ConfigurationError("model_trainer_dict must name at least one ModelTrainer.")
        for label, mapping in (
            ("objective_metric_name_dict", objective_metric_name_dict),
            ("hyperparameter_ranges_dict", hyperparameter_ranges_dict),
        ):
            if set(mapping) != set(model_trainer_dict):
                raise ConfigurationError(
                    f"{label} must have the same keys as model_trainer_dict "
                    f"({sorted(model_trainer_dict)}), but has {sorted(mapping)}."
                )
        model_trainer_dict = {
            name: tuning_trainer(
                t,
                hyperparameter_ranges_dict.get(name),
                autotune,
                (hyperparameters_to_keep_static_dict or {}).get(name),
            )
            if isinstance(t, FineTuningTrainer)
            else t
            for name, t in model_trainer_dict.items()
        }
        for name, trainer in model_trainer_dict.items():
            if not isinstance(trainer, ModelTrainer):
                raise ConfigurationError(
                    f"model_trainer_dict[{name!r}] must be a ModelTrainer, but got "
                    f"{type(trainer)!r}."
                )
        tuner = cls(
            model_trainer=None,
            objective_metric_name=None,
            strategy=strategy,
            objective_type=objective_type,
            max_jobs=max_jobs,
            max_parallel_jobs=max_parallel_jobs,
            max_runtime_in_seconds=max_runtime_in_seconds,
            tags=tags,
            base_tuning_job_name=base_tuning_job_name,
            warm_start_config=warm_start_config,
            strategy_config=strategy_config,
            completion_criteria_config=completion_criteria_config,
            early_stopping_type=early_stopping_type,
            random_seed=random_seed,
            autotune=autotune,
        )
        tuner._hyperparameter_ranges = None  # the dict form holds them, as in the real tuner
        tuner.model_trainer_dict = dict(model_trainer_dict)
        tuner.objective_metric_name_dict = dict(objective_metric_name_dict)
        tuner._hyperparameter_ranges_dict = {
            k: dict(v) for k, v in hyperparameter_ranges_dict.items()
        }
        for label, keyed in (
            ("metric_definitions_dict", metric_definitions_dict),
            ("hyperparameters_to_keep_static_dict", hyperparameters_to_keep_static_dict),
        ):
            unknown = sorted(set(keyed or {}) - set(model_trainer_dict))
            if unknown:
                raise ConfigurationError(
                    f"{label} names {unknown}, which are not in model_trainer_dict "
                    f"({sorted(model_trainer_dict)})."
                )
        tuner.metric_definitions_dict = metric_definitions_dict or {}
        tuner.hyperparameters_to_keep_static_dict = hyperparameters_to_keep_static_dict
        _tuning_request.check_settings(tuner)
        return tuner

    # -- what is tuned -----------------------------------------------------------------------

    def hyperparameter_ranges(self) -> dict[str, list[dict[str, Any]]] | None:
        """The single trainer's ranges as the real tuner gives them: per kind
        (``ContinuousParameterRanges``, ``CategoricalParameterRanges``,
        ``IntegerParameterRanges``), each range with snake_case keys (``name``,
        ``min_value``, ``max_value``, ``scaling_type``; ``values``). ``None`` for a
        multi-trainer tuner (see :meth:`hyperparameter_ranges_dict`)."""
        if self._hyperparameter_ranges is None:
            return None
        return _ranges_for_tuning(self._hyperparameter_ranges)

    def hyperparameter_ranges_dict(self) -> dict[str, dict[str, list[dict[str, Any]]]] | None:
        """Each trainer's ranges, by trainer name in sorted order, in the form of
        :meth:`hyperparameter_ranges`; ``None`` for a single-trainer tuner."""
        if self._hyperparameter_ranges_dict is None or self.model_trainer_dict is None:
            return None
        return {
            name: _ranges_for_tuning(self._hyperparameter_ranges_dict[name])
            for name in sorted(self.model_trainer_dict)
        }

    def _trainers(self) -> dict[str | None, ModelTrainer]:
        if self.model_trainer_dict is not None:
            return {name: trainer for name, trainer in self.model_trainer_dict.items()}
        assert self.model_trainer is not None
        return {None: self.model_trainer}

    def _objectives(self) -> dict[str | None, str]:
        if self.objective_metric_name_dict is not None:
            return {name: value for name, value in self.objective_metric_name_dict.items()}
        assert self.objective_metric_name is not None
        return {None: self.objective_metric_name}

    def _ranges_dict(self) -> dict[str | None, dict[str, ParameterRange]]:
        if self._hyperparameter_ranges_dict is not None:
            return {name: value for name, value in self._hyperparameter_ranges_dict.items()}
        return {None: self._hyperparameter_ranges or {}}

    def _base_name(self) -> str:
        if self.base_tuning_job_name:
            return self.base_tuning_job_name
        first = next(iter(self._trainers().values()))
        return first._base_job_name()

    @property
    def sagemaker_session(self) -> Session:
        """The session the tuning job uses: the trainer's (the real tuner's property)."""
        return self._session()

    def _session(self) -> Session:
        return next(iter(self._trainers().values()))._session()

    # -- run ---------------------------------------------------------------------------------

    def override_resource_config(
        self,
        instance_configs: list[HyperParameterTuningInstanceConfig]
        | dict[str, list[HyperParameterTuningInstanceConfig]],
    ) -> None:
        """Run the trials on these instances instead of the trainers' own compute."""
        if isinstance(instance_configs, dict):
            unknown = set(instance_configs) - set(self._trainers())
            if unknown:
                raise ConfigurationError(
                    f"override_resource_config names unknown trainers {sorted(unknown)}; "
                    f"known: {sorted(k for k in self._trainers() if k)}."
                )
            self._instance_configs = {k: list(v) for k, v in instance_configs.items()}
            self.instance_configs_dict = {k: list(v) for k, v in instance_configs.items()}
        else:
            if not instance_configs:
                raise ConfigurationError("instance_configs must not be empty.")
            self._instance_configs = {name: list(instance_configs) for name in self._trainers()}
            self.instance_configs = list(instance_configs)
            if self.model_trainer_dict is not None:
                self.instance_configs_dict = {
                    name: list(instance_configs) for name in self.model_trainer_dict
                }

    def tune(
        self,
        inputs: Any = None,
        job_name: str | None = None,
        model_trainer_kwargs: dict[str, Any] | None = None,
        wait: bool = True,
        **kwargs: Any,
    ) -> None:
        """Start a tuning job (and with ``wait``, follow it to its end).

        Args:
            inputs: Input data for every trial: an S3 URI or local path (channel
                ``training``), a dict of channel → source, or a list of InputData/Channel.
            job_name: The tuning job's name (default ``<base>-<timestamp>``).
            model_trainer_kwargs: ModelTrainer fields to override for the trials.
            wait: Block until the tuning job ends.

        Raises:
            ValueError: The configuration is invalid (nothing is written): the service
                checks the CreateHyperParameterTuningJob request built here.
            botocore.exceptions.ClientError: The service refused the tuning job (e.g.
                ResourceNotFound for a warm-start parent, ResourceInUse for a taken name).
        """
        if kwargs:
            raise ConfigurationError(
                f"tune() got unexpected arguments {sorted(kwargs)}; it takes inputs, job_name, "
                "model_trainer_kwargs and wait."
            )
        originals = self._apply_trainer_overrides(inputs, model_trainer_kwargs)
        try:
            session = self._session()
            request = _tuning_request.tuning_job_request(self, session, job_name)
        finally:
            self._restore(originals)
        self._prepare_static_and_auto_parameters(request)
        client = client_for(session)
        response = client.create_hyper_parameter_tuning_job(request)
        self._current_job_name = response["HyperParameterTuningJobName"]  # as the real tuner
        self.latest_tuning_job = HyperParameterTuningJob(self._current_job_name, client.tuning_jobs)
        if wait:
            self.wait()

    def _prepare_static_and_auto_parameters(self, request: dict[str, Any]) -> None:
        """Set ``static_hyperparameters`` and ``auto_parameters`` (or their ``_dict`` forms,
        by trainer name) from the request ``tune()`` sends, as the real tuner's
        ``_prepare_for_tuning`` does: the trainer's hyperparameters less the tuned ones;
        with autotune, those kept static apart from those left to autotune."""
        definitions = request.get("TrainingJobDefinitions") or [request["TrainingJobDefinition"]]
        keep = _tuning_request._keep_static(self)
        static: dict[str | None, dict[str, str]] = {}
        auto: dict[str | None, dict[str, str] | None] = {}
        for definition in definitions:
            name = definition.get("DefinitionName")
            values = {
                k: v
                for k, v in definition.get("StaticHyperParameters", {}).items()
                if k != tuning_request.OBJECTIVE_HYPERPARAMETER
            }
            if self.autotune:
                kept = set(keep.get(name) or ())
                static[name] = {k: v for k, v in values.items() if k in kept}
                auto[name] = {k: v for k, v in values.items() if k not in kept}
            else:
                static[name], auto[name] = values, None
        if self.model_trainer_dict is None:
            self.static_hyperparameters, self.auto_parameters = static[None], auto[None]
            self.static_hyperparameters_dict = self.auto_parameters_dict = None
        else:
            self.static_hyperparameters = self.auto_parameters = None
            self.static_hyperparameters_dict = {str(k): v for k, v in sorted(static.items())}
            self.auto_parameters_dict = {str(k): v for k, v in sorted(auto.items())}

    def _apply_trainer_overrides(
        self, inputs: Any, overrides: dict[str, Any] | None
    ) -> dict[str | None, ModelTrainer]:
        """Swap in copies of the trainers with the inputs/overrides; return the originals."""
        originals = self._trainers()
        if inputs is None and not overrides:
            return originals
        channels = _channels(inputs) if inputs is not None else None
        if overrides and self.model_trainer_dict is not None:
            unknown = sorted(set(overrides) - set(self.model_trainer_dict))
            if unknown:
                raise ConfigurationError(
                    "For a multi-trainer tuner, model_trainer_kwargs maps a trainer name to "
                    f"its overrides; {unknown} are not trainer names "
                    f"({sorted(self.model_trainer_dict)})."
                )
        replaced: dict[str | None, ModelTrainer] = {}
        for name, trainer in originals.items():
            copy_ = trainer.model_copy()
            copy_._metric_definitions = copy.copy(trainer._metric_definitions)
            own = (
                (overrides or {}).get(name or "", {})
                if self.model_trainer_dict is not None
                else (overrides or {})
            )
            for key, value in own.items():
                if key not in ModelTrainer.model_fields:
                    raise ConfigurationError(
                        f"model_trainer_kwargs: ModelTrainer has no field {key!r}."
                    )
                setattr(copy_, key, value)
            if channels is not None:
                copy_.input_data_config = channels
            replaced[name] = copy_
        self._set_trainers(replaced)
        return originals

    def _restore(self, originals: dict[str | None, ModelTrainer]) -> None:
        self._set_trainers(originals)

    def _set_trainers(self, trainers: dict[str | None, ModelTrainer]) -> None:
        if self.model_trainer_dict is not None:
            self.model_trainer_dict = {str(name): trainer for name, trainer in trainers.items()}
        else:
            self.model_trainer = next(iter(trainers.values()))

    def _job(self) -> HyperParameterTuningJob:
        if self.latest_tuning_job is None:
            raise RuntimeError("No tuning job has been started yet: call tune() first.")
        return self.latest_tuning_job

    def wait(self) -> None:
        """Block until the latest tuning job ends (WaiterError if it failed)."""
        self._job().wait()

    def stop_tuning_job(self) -> None:
        """Stop the latest tuning job: its running trials are stopped too."""
        self._job().stop()

    def describe(self) -> dict[str, Any]:
        """DescribeHyperParameterTuningJob's dict (the reference), whose keys are also the
        real resource's attributes (``.hyper_parameter_tuning_job_status``,
        ``.best_training_job``)."""
        return Described(self._job().describe(), fields=TUNING_JOB_FIELDS)

    def best_training_job(self) -> str:
        """The name of the best trial so far.

        Raises:
            RuntimeError: No trial has finished with an objective value yet.
        """
        best = self._job().refresh().best_training_job
        if best is None:
            raise RuntimeError(
                f"Tuning job {self._job().name} has no completed training job with an "
                "objective value yet."
            )
        return str(best["TrainingJobName"])

    def analytics(self) -> HyperparameterTuningJobAnalytics:
        from sageyard.tuning.analytics import HyperparameterTuningJobAnalytics

        return HyperparameterTuningJobAnalytics(self._job().name, self._session())

    def transfer_learning_tuner(
        self, additional_parents: set[str] | None = None, model_trainer: ModelTrainer | None = None
    ) -> HyperparameterTuner:
        """A new tuner that warm-starts (TransferLearning) from this one's latest job."""
        return self._warm_start_tuner(
            WarmStartTypes.TRANSFER_LEARNING, additional_parents, model_trainer
        )

    def identical_dataset_and_algorithm_tuner(
        self, additional_parents: set[str] | None = None
    ) -> HyperparameterTuner:
        return self._warm_start_tuner(
            WarmStartTypes.IDENTICAL_DATA_AND_ALGORITHM, additional_parents, None
        )

    def _warm_start_tuner(
        self, kind: WarmStartTypes, additional: set[str] | None, trainer: ModelTrainer | None
    ) -> HyperparameterTuner:
        parents = [self._job().name, *sorted(additional or set())]
        new = copy.copy(self)
        new.latest_tuning_job = None
        if trainer is not None:
            if self.model_trainer_dict is None:
                new.model_trainer = trainer
            elif len(self.model_trainer_dict) == 1:  # a named trainer: replaced, as real
                new.model_trainer_dict = {next(iter(self.model_trainer_dict)): trainer}
            else:
                raise ConfigurationError(
                    "model_trainer= replaces the single trainer; a multi-trainer tuner keeps "
                    "its model_trainer_dict."
                )
        new.warm_start_config = HyperParameterTuningJobWarmStartConfig(
            parent_hyper_parameter_tuning_jobs=[
                ParentHyperParameterTuningJob(hyper_parameter_tuning_job_name=p)
                for p in dict.fromkeys(parents)
            ],
            warm_start_type=kind.value,
        )
        return new


def _ranges_for_tuning(ranges: dict[str, ParameterRange]) -> dict[str, list[dict[str, Any]]]:
    """The real tuner's ``_prepare_parameter_ranges_for_tuning``: per kind, in the order
    Continuous, Categorical, Integer, each range's keys in snake_case."""
    out: dict[str, list[dict[str, Any]]] = {}
    for kind in ("Continuous", "Categorical", "Integer"):
        out[f"{kind}ParameterRanges"] = [
            {_snake(key): value for key, value in parameter.as_tuning_range(name).items()}
            for name, parameter in ranges.items()
            if parameter is not None and parameter.__name__ == kind
        ]
    return out


def _snake(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key).lstrip("_")


def _channels(inputs: Any) -> list[Channel | InputData]:
    if isinstance(inputs, str):
        return [InputData(channel_name="training", data_source=inputs)]
    if isinstance(inputs, InputData | Channel):
        return [inputs]
    if isinstance(inputs, dict):
        return [InputData(channel_name=k, data_source=v) for k, v in inputs.items()]
    if isinstance(inputs, list) and all(isinstance(i, InputData | Channel) for i in inputs):
        return list(inputs)
    raise ConfigurationError(
        "inputs must be an S3 URI or local path, a dict of channel name to source, or a list "
        f"of InputData/Channel, but got {type(inputs).__name__}."
    )


def __getattr__(name: str) -> Any:
    if name == "HyperparameterTuningJobAnalytics":
        from sageyard.tuning.analytics import HyperparameterTuningJobAnalytics

        return HyperparameterTuningJobAnalytics
    raise AttributeError(f"module 'sageyard.train.tuner' has no attribute {name!r}")
