"""What the fine-tuning trainers share: from their parameters to an ordinary training job.

``train()`` checks everything first — the model reference and its licence, every line of
each dataset, the hyperparameters — then builds a :class:`ModelTrainer` whose algorithm is
the technique's program (``sageyard.programs.program(technique)``: its options, dataset
rows and checks) and starts it. The model travels as the job's ``model`` channel (a local
folder, or an ``s3://`` artifact), the datasets as ``train`` and ``validation``. A
``model_package_group`` is recorded on the job; its supervisor registers the model when the
job completes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.session import Session
from sageyard.core.shapes import CheckpointConfig, Compute, Networking, StoppingCondition
from sageyard.jobs.resource import TrainingJob
from sageyard.models.registry import ModelPackage, ModelPackageGroup, check_group_name
from sageyard.train.common import CustomizationTechnique, FineTuningOptions, TrainingType

if TYPE_CHECKING:
    from sageyard.programs import ProgramSpec
    from sageyard.train.model_trainer import ModelTrainer

_PACKAGE_ARN = re.compile(r"^arn:aws:sagemaker:[^:]*:[^:]*:model-package/")


class FineTuningTrainer:
    """The parameters and ``train()`` of SFTTrainer and DPOTrainer (see those classes).

    Beyond the reference's parameters, sageyard takes the job settings a self-hosted run
    needs: ``compute`` (default: a GPU instance type when this machine has a GPU, else
    ``ml.m5.2xlarge``), ``base_job_name``, ``checkpoint_config`` (checkpoints synced with a
    URI, so a new job with the same URI resumes), ``stopping_condition``, ``role`` and
    ``sagemaker_session``.
    """

    TECHNIQUE: ClassVar[CustomizationTechnique]

    def __init__(
        self,
        model: str | ModelPackage,
        training_type: TrainingType | str = TrainingType.LORA,
        model_package_group: str | ModelPackageGroup | None = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        training_dataset: Any = None,
        validation_dataset: Any = None,
        s3_output_path: str | None = None,
        kms_key_id: str | None = None,
        networking: Networking | None = None,
        accept_eula: bool = False,
        *,
        compute: Compute | None = None,
        base_job_name: str | None = None,
        checkpoint_config: CheckpointConfig | None = None,
        stopping_condition: StoppingCondition | None = None,
        role: str | None = None,
        sagemaker_session: Session | None = None,
        sequence_length: int | str | None = None,
        recipe: str | None = None,
        overrides: dict[str, Any] | None = None,
        hyperparameters: dict[str, Any] | None = None,
        environment: dict[str, str] | None = None,
        tags: list[Any] | None = None,
        base_model_name: str | None = None,
        disable_output_compression: bool = False,
        is_multimodal: bool | None = None,
        data_mixing_config: Any = None,
        notifications: dict[str, Any] | None = None,
    ) -> None:
        """The reference's parameters, then the real SDK's keywords: ``sequence_length``
        (the ceiling ``hyperparameters.validate_length_constraints()`` checks),
        ``recipe`` (a shipped recipe's name: its hyperparameters), ``overrides`` and
        ``hyperparameters`` (option values), ``environment``, ``tags``,
        ``base_model_name`` (the registered package's base model), and
        ``disable_output_compression`` (model files uncompressed). ``is_multimodal``,
        ``data_mixing_config`` and ``notifications`` are refused when set: sageyard's
        programs have no such mode.
        """
        from sageyard.models.catalog import check_eula

        for name, value in (
            ("is_multimodal", is_multimodal),
            ("data_mixing_config", data_mixing_config),
            ("notifications", notifications),
        ):
            if value:
                raise ConfigurationError(
                    f"{name}={value!r} is not supported by sageyard's fine-tuning programs "
                    "(text models, one dataset, no SNS notifications); leave it out."
                )

        if not isinstance(model, str | ModelPackage) or (isinstance(model, str) and not model):
            raise ConfigurationError(
                f"model must be a model id (e.g. 'HuggingFaceTB/SmolLM2-135M-Instruct'), a "
                f"local model folder, a model package, or an s3:// model artifact; got {model!r}."
            )
        self.model = model
        self.training_type = _training_type(training_type)
        if isinstance(model_package_group, ModelPackageGroup):
            model_package_group = model_package_group.model_package_group_name
        elif model_package_group is not None:
            model_package_group = model_package_group.rsplit("model-package-group/", 1)[-1]
            check_group_name(model_package_group)
        self.model_package_group = model_package_group
        self.mlflow_resource_arn = mlflow_resource_arn
        self.mlflow_experiment_name = mlflow_experiment_name
        self.mlflow_run_name = mlflow_run_name
        self.training_dataset = training_dataset
        self.validation_dataset = validation_dataset
        self.s3_output_path = s3_output_path
        self.kms_key_id = kms_key_id
        self.networking = networking
        self.accept_eula = accept_eula
        self.compute = compute
        self.base_job_name = base_job_name
        self.checkpoint_config = checkpoint_config
        self.stopping_condition = stopping_condition
        self.role = role
        self.sagemaker_session = sagemaker_session
        if isinstance(model, str):
            check_eula(model, accept_eula)
        elif model.base_model:
            check_eula(model.base_model, accept_eula)
        if mlflow_resource_arn is not None:
            _mlflow_uri(mlflow_resource_arn)  # fail now on an ARN we cannot reach
        ceiling = int(sequence_length) if sequence_length is not None else None
        self.hyperparameters = FineTuningOptions(
            self._program().option_specs(self.training_type.value), sequence_length=ceiling
        )
        self.recipe = recipe
        if recipe is not None:
            self._apply_recipe(recipe)
        for name, value in {**(overrides or {}), **(hyperparameters or {})}.items():
            setattr(self.hyperparameters, name, value)
        self.environment = dict(environment or {})
        self.tags = list(tags or [])
        self.base_model_name = base_model_name
        self.disable_output_compression = disable_output_compression
        self._latest_training_job: TrainingJob | None = None

    def train(
        self,
        training_dataset: Any = None,
        validation_dataset: Any = None,
        wait: bool = True,
        wait_timeout: int | None = None,
        poll: int = 5,
        dry_run: bool = False,
    ) -> TrainingJob | None:
        """Fine-tune as a training job; returns it (Completed when ``wait``).

        ``wait_timeout``: seconds to wait at most (then TimeoutExceededError); ``poll``:
        seconds between the real SDK's status checks (sageyard follows the log as it
        grows, so it only caps the interval); ``dry_run``: every check, no job (None).

        Raises:
            ValueError: No training dataset, a bad dataset line (file, line and field are
                named), a model that cannot be found, or a gated model without
                ``accept_eula=True``. Nothing is created then.
            botocore.exceptions.ClientError: The job service refused the job.
            RuntimeError: The job failed (a TrainingJobFailedError with its reason).
        """
        from sageyard.train._request import create_training_job, training_job_request

        trainer, registration = self._model_trainer(training_dataset, validation_dataset)
        session = trainer._session()
        request = training_job_request(trainer, session)
        if registration is not None:
            request["Sageyard"]["ModelPackageRegistration"] = registration
        if dry_run:
            from sageyard.train.client import client_for

            client_for(session).validate_training_job(request)
            return None
        job = create_training_job(session, request)
        self._latest_training_job = job
        if wait:
            job.wait(poll=min(float(poll), 0.2), timeout=wait_timeout, logs=True)
        return job

    @property
    def latest_training_job(self) -> TrainingJob | None:
        """The job the last ``train()`` created (the real SDK's name for it)."""
        return self._latest_training_job

    def stream_logs(
        self, poll: int = 5, start_time: Any = None, tail_lines: int | None = None
    ) -> None:
        """Print the last job's log until it ends (``tail_lines``: only the last lines first)."""
        job = self._require_job("stream_logs")
        lines = job.logs()
        if tail_lines is not None:
            lines = lines[-tail_lines:]
        for line in lines:
            print(line)
        if job.refresh().is_active:
            shown = len(job.logs())
            for line in job.logs(follow=True)[shown:]:
                print(line)

    def show_metrics(
        self,
        metrics: list[str] | None = None,
        starting_step: int | None = None,
        ending_step: int | None = None,
        start_time: Any = None,
        end_time: Any = None,
    ) -> dict[str, list[float]]:
        """The last job's metric series (name → values by step), printed as a table; the
        real SDK plots them (from MLflow or CloudWatch)."""
        job = self._require_job("show_metrics")
        series: dict[str, list[float]] = {}
        for point in job.metrics():
            if metrics is None or point.metric_name in metrics:
                series.setdefault(point.metric_name, []).append(point.value)
        first = starting_step or 0
        for name, values in series.items():
            series[name] = values[first : ending_step + 1 if ending_step is not None else None]
            print(f"{name}: {', '.join(f'{v:.4g}' for v in series[name])}")
        return series

    def _require_job(self, what: str) -> TrainingJob:
        if self._latest_training_job is None:
            raise ConfigurationError(f"{what}() shows the job train() started; call train() first.")
        return self._latest_training_job

    def _apply_recipe(self, recipe: str) -> None:
        """Take a recipe's options (a shipped recipe's name, or a YAML file's path)."""
        from sageyard.train._recipes import fine_tuning_settings, load_recipe

        settings = fine_tuning_settings(load_recipe(recipe))
        for name, value in settings["options"].items():
            setattr(self.hyperparameters, name, value)

    def to_model_trainer(
        self,
        training_dataset: Any = None,
        validation_dataset: Any = None,
        *,
        require_dataset: bool = True,
    ) -> ModelTrainer:
        """The :class:`ModelTrainer` that ``train()`` runs (checked, not started).

        ``HyperparameterTuner`` uses it to run this fine-tuning as its trials. Without
        ``require_dataset``, the data may come later, to ``ModelTrainer.train()``.
        """
        trainer, _ = self._model_trainer(
            training_dataset, validation_dataset, require_dataset=require_dataset
        )
        return trainer

    def _model_trainer(
        self,
        training_dataset: Any = None,
        validation_dataset: Any = None,
        *,
        require_dataset: bool = True,
    ) -> tuple[ModelTrainer, dict[str, Any] | None]:
        """The ModelTrainer, and the ModelPackageRegistration of the request (or None)."""
        from sageyard.ai_registry.dataset import dataset_uri
        from sageyard.train.configs import InputData, OutputDataConfig
        from sageyard.train.model_trainer import ModelTrainer

        session = self._session()
        sources = {
            "train": training_dataset if training_dataset is not None else self.training_dataset,
            "validation": (
                validation_dataset if validation_dataset is not None else self.validation_dataset
            ),
        }
        if sources["train"] is None and require_dataset:
            raise ConfigurationError(
                f"{type(self).__name__} needs a training dataset: pass training_dataset= to "
                "the constructor or to train() (a JSONL path, an s3:// URI or a DataSet)."
            )
        # Every line of each dataset is checked by the service, before the job exists.
        datasets = {name: dataset_uri(src) for name, src in sources.items() if src is not None}
        model_source, base_model = self._model_source(session)
        model_channel = InputData(channel_name="model", data_source=model_source)
        data_channels = [InputData(channel_name=n, data_source=u) for n, u in datasets.items()]
        self.hyperparameters.validate_length_constraints()
        output = None
        if self.s3_output_path or self.kms_key_id or self.disable_output_compression:
            output = OutputDataConfig(
                s3_output_path=self.s3_output_path,
                kms_key_id=self.kms_key_id,
                compression_type="NONE" if self.disable_output_compression else None,
            )
        trainer = ModelTrainer(
            algorithm_name=self.TECHNIQUE.value,
            sagemaker_session=session,
            role=self.role,
            base_job_name=self.base_job_name or _job_base(self.TECHNIQUE.value, base_model),
            compute=self.compute or Compute(instance_type=_default_instance_type()),
            networking=self.networking,
            stopping_condition=self.stopping_condition,
            checkpoint_config=self.checkpoint_config,
            output_data_config=output,
            input_data_config=[model_channel, *data_channels],
            hyperparameters=self._job_hyperparameters(base_model, session),
            environment=self.environment,
            tags=self.tags or None,
        )
        trainer._model_channel = model_channel
        if self.model_package_group is None:
            return trainer, None
        registration = {
            "Group": self.model_package_group,
            "BaseModel": self.base_model_name or base_model,
            "CustomizationTechnique": self.TECHNIQUE.value,
            "TrainingType": self.training_type.value,
            "DatasetUris": datasets,
        }
        return trainer, registration

    # -- helpers -----------------------------------------------------------------------------

    def _program(self) -> ProgramSpec:
        from sageyard.programs import program

        return program(self.TECHNIQUE.value)

    def _job_hyperparameters(self, base_model: str, session: Session) -> dict[str, str]:
        values = self.hyperparameters.to_dict()
        values["training_type"] = self.training_type.value
        values["base_model"] = base_model
        if self.mlflow_experiment_name or self.mlflow_run_name or self.mlflow_resource_arn:
            values["mlflow_tracking_uri"] = (
                _mlflow_uri(self.mlflow_resource_arn)
                if self.mlflow_resource_arn
                else local_mlflow_uri(session.settings.home)
            )
            values["mlflow_experiment_name"] = self.mlflow_experiment_name or _job_base(
                self.TECHNIQUE.value, base_model
            )
            if self.mlflow_run_name:
                values["mlflow_run_name"] = self.mlflow_run_name
        return values

    def _model_source(self, session: Session) -> tuple[str, str]:
        """Where the job reads the model (folder or s3:// artifact), and the base model id."""
        from sageyard.models.hub import resolve_model_path
        from sageyard.models.registry import ModelRegistry

        model = self.model
        if isinstance(model, ModelPackage):
            return model.model_artifact_uri, model.base_model
        if model.startswith("s3://"):
            if not session.objects.list(model):
                raise ConfigurationError(
                    f"The model artifact {model} does not exist: give the model.tar.gz of a "
                    "completed job (TrainingJob.model_artifacts)."
                )
            return model, model
        if Path(model).expanduser().is_dir():
            folder = resolve_model_path(model, session.settings.home)
            return str(folder), folder.name
        if _PACKAGE_ARN.match(model) or model.count("/") <= 1:
            package = ModelRegistry(session.settings).find_package(model)
            if package is not None:
                return package.model_artifact_uri, package.base_model
        if model.startswith("arn:"):
            raise ConfigurationError(
                f"model {model!r} names no model package in this registry. List them with "
                "`sageyard models packages`."
            )
        return str(resolve_model_path(model, session.settings.home)), model

    def _session(self) -> Session:
        if self.sagemaker_session is None:
            self.sagemaker_session = Session()
        return self.sagemaker_session

    def __repr__(self) -> str:
        model = self.model if isinstance(self.model, str) else self.model.model_package_arn
        return f"{type(self).__name__}(model={model!r}, training_type={self.training_type.value!r})"


def local_mlflow_uri(home: Path) -> str:
    """The MLflow store used when a run is named but no tracking server is given."""
    folder = home / "mlflow"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def _mlflow_uri(value: str) -> str:
    if value.startswith(("http://", "https://", "file:", "sqlite:", "postgresql", "mysql")):
        return value
    if value.startswith("arn:"):
        raise ConfigurationError(
            f"mlflow_resource_arn {value!r} is a SageMaker MLflow ARN, which sageyard cannot "
            "reach. Give the tracking URI of your MLflow server (http://host:5000) or a local "
            "store (sqlite:///path/mlflow.db), or leave it out to log under SAGEYARD_HOME."
        )
    return Path(value).expanduser().resolve().as_uri()


def _training_type(value: TrainingType | str) -> TrainingType:
    if isinstance(value, TrainingType):
        return value
    try:
        return TrainingType(str(value).lower())
    except ValueError:
        raise ConfigurationError(
            f"training_type must be TrainingType.LORA or TrainingType.FULL ('lora'/'full'), "
            f"got {value!r}."
        ) from None


def _job_base(technique: str, model: str) -> str:
    """``<model name>-<technique>`` (ModelTrainer makes it a valid job name)."""
    return f"{model.rstrip('/').rsplit('/', 1)[-1].removesuffix('.tar.gz')}-{technique}"


def _default_instance_type() -> str:
    from sageyard.executors.local_slots import machine_gpus

    return "ml.g5.2xlarge" if machine_gpus() else "ml.m5.2xlarge"


# -- checks and starting points used by ModelTrainer ------------------------------------------


def tuning_trainer(
    fine_tuning: FineTuningTrainer,
    ranges: dict[str, Any] | None,
    autotune: bool,
    keep_static: list[str] | None,
) -> ModelTrainer:
    """The ModelTrainer of a fine-tuning trainer whose jobs are a tuner's trials: the
    options the tuner sets (its ranges, or with autotune the program's tunable ones) are
    left out of the static hyperparameters."""
    trainer = fine_tuning.to_model_trainer()
    tuned = set(ranges or {})
    if autotune:
        tuned |= set(fine_tuning._program().tunable_ranges) - set(keep_static or [])
    assert isinstance(trainer.hyperparameters, dict)
    trainer.hyperparameters = {
        name: value for name, value in trainer.hyperparameters.items() if name not in tuned
    }
    return trainer


def trainer_from_recipe(
    training_recipe: str,
    overrides: dict[str, Any] | None,
    compute: Compute | None,
    session: Session | None,
    role: str | None,
    base_job_name: str | None,
) -> ModelTrainer:
    """``ModelTrainer.from_recipe``: the recipe's fine-tuning as a ModelTrainer."""
    from sageyard.train._recipes import fine_tuning_settings, load_recipe

    recipe = load_recipe(training_recipe, overrides)
    settings = fine_tuning_settings(recipe)
    fine_tuning = trainer_class(settings["technique"])(
        settings["model"],
        training_type=settings["training_type"],
        training_dataset=settings["train"],
        validation_dataset=settings["validation"],
        accept_eula=settings["accept_eula"],
        compute=compute,
        base_job_name=base_job_name or settings["base_job_name"],
        role=role,
        sagemaker_session=session,
    )
    _set_options(fine_tuning.hyperparameters, settings["options"], "the recipe")
    trainer = fine_tuning.to_model_trainer(require_dataset=False)
    trainer._resolved_recipe = recipe
    return trainer


def trainer_from_jumpstart(
    config: Any,
    compute: Compute | None,
    hyperparameters: dict[str, Any] | str | None,
    session: Session | None,
    role: str | None,
    base_job_name: str | None,
) -> ModelTrainer:
    """``ModelTrainer.from_jumpstart_config``: a catalog model's default fine-tuning."""
    from sageyard.core.jumpstart import JumpStartConfig
    from sageyard.models.catalog import catalog_model
    from sageyard.train._request import load_hyperparameters

    config = JumpStartConfig.model_validate(config)
    entry = catalog_model(config.model_id)
    if entry is None:
        raise ConfigurationError(
            f"{config.model_id!r} is not in sageyard's model catalog; see `sageyard models "
            "list`. To fine-tune another model, use SFTTrainer(model=<hub id or folder>)."
        )
    technique = (config.training_config_name or entry.default_technique).lower()
    fine_tuning = trainer_class(technique)(
        entry.model_id,
        training_type=entry.default_training_type,
        accept_eula=config.accept_eula,
        compute=compute,
        base_job_name=base_job_name,
        role=role,
        sagemaker_session=session,
    )
    _set_options(
        fine_tuning.hyperparameters, load_hyperparameters(hyperparameters), "hyperparameters"
    )
    return fine_tuning.to_model_trainer(require_dataset=False)


def trainer_class(technique: str) -> type[FineTuningTrainer]:
    """The fine-tuning trainer of ``technique`` (its program's facade class).

    Raises:
        ValueError: No fine-tuning program of that name; the message lists them.
    """
    from sageyard.programs import fine_tuning_program

    found = fine_tuning_program(technique)
    cls = found.trainer_class()
    if not issubclass(cls, FineTuningTrainer):
        raise TypeError(f"{found.facade} is not a FineTuningTrainer.")
    return cls


def _set_options(options: FineTuningOptions, values: dict[str, Any], where: str) -> None:
    for name, value in values.items():
        try:
            setattr(options, name, value)
        except ValueError as error:
            raise ConfigurationError(f"In {where}: {error}") from None
