"""What the fine-tuning trainers share: from their parameters to an ordinary training job.

``train()`` checks everything first — the model reference and its licence, every line of
each dataset, the hyperparameters — then builds a :class:`ModelTrainer` whose algorithm is
the technique's program (``sageyard.programs.program(technique)``: its options, dataset
rows and checks) and starts it. The model travels as the job's ``model`` channel (a local
folder, or an ``s3://`` artifact), the datasets as ``train`` and ``validation``, and any
``input_data_config`` channels beside them. A ``model_package_group`` is recorded on the
job; its supervisor registers the model when the job completes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.session import Session
from sageyard.core.shapes import (
    Channel,
    CheckpointConfig,
    Compute,
    InputData,
    MetricDefinition,
    Networking,
    OutputDataConfig,
    StoppingCondition,
    Tag,
    check_compute,
)
from sageyard.jobs.resource import TrainingJob
from sageyard.models.registry import ModelPackage, ModelPackageGroup, check_group_name
from sageyard.train.common import CustomizationTechnique, FineTuningOptions, TrainingType

if TYPE_CHECKING:
    from sageyard.programs import ProgramSpec
    from sageyard.train.model_trainer import ModelTrainer

_PACKAGE_ARN = re.compile(r"^arn:aws:sagemaker:[^:]*:[^:]*:model-package/")
_NO_NOTIFICATIONS = (
    "sageyard is self-hosted and has no SNS or EventBridge, so it creates no notification rules"
)


class FineTuningTrainer:
    """The parameters and ``train()`` of SFTTrainer and DPOTrainer (see those classes).

    The positional parameters are the real SDK's, in its order; the real base trainer's
    keywords follow ``notifications`` as keyword-only parameters, each kept as the
    attribute of its name. Beyond the reference, sageyard takes ``checkpoint_config``
    (checkpoints synced with a URI, so a new job with the same URI resumes), and
    ``compute`` defaults to a GPU instance type when this machine has a GPU, else
    ``ml.m5.2xlarge``.
    """

    TECHNIQUE: ClassVar[CustomizationTechnique]
    #: The channels the trainer makes itself (the model, the two datasets, a technique's own).
    OWN_CHANNELS: ClassVar[tuple[str, ...]] = ("model", "train", "validation")

    # The real BaseTrainer's class-level attributes (set per instance by __init__).
    sagemaker_session: Session | None = None
    role: str | None = None
    base_job_name: str | None = None
    tags: list[Tag | dict[str, str]] | None = None
    hyperparameters: FineTuningOptions
    output_data_config: OutputDataConfig | None = None
    input_data_config: list[Channel | InputData] | None = None
    environment: dict[str, str] | None = None
    training_image: str | None = None
    notification_rule_arn: str | None = None

    def __init__(
        self,
        model: str | ModelPackage,
        training_type: TrainingType | str = TrainingType.LORA,
        model_package_group: str | ModelPackageGroup | None = None,
        compute: Compute | None = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        training_dataset: Any = None,
        validation_dataset: Any = None,
        s3_output_path: str | None = None,
        kms_key_id: str | None = None,
        networking: Networking | None = None,
        accept_eula: bool = False,
        stopping_condition: StoppingCondition | None = None,
        sequence_length: int | str | None = None,
        recipe: str | None = None,
        overrides: dict[str, Any] | None = None,
        is_multimodal: bool | None = None,
        base_model_name: str | None = None,
        disable_output_compression: bool = False,
        notifications: dict[str, Any] | None = None,
        *,
        sagemaker_session: Session | None = None,
        role: str | None = None,
        base_job_name: str | None = None,
        tags: list[Tag | dict[str, str]] | None = None,
        hyperparameters: dict[str, Any] | None = None,
        output_data_config: OutputDataConfig | dict[str, Any] | None = None,
        input_data_config: list[Channel | InputData] | None = None,
        environment: dict[str, str] | None = None,
        training_image: str | None = None,
        checkpoint_config: CheckpointConfig | None = None,
    ) -> None:
        """Check the parameters and take the program's default hyperparameters.

        Args:
            model: A model id, a local model folder, a ``ModelPackage`` (or its name/ARN),
                or an ``s3://…/model.tar.gz`` of an earlier job.
            training_type: ``TrainingType.LORA`` (default) or ``TrainingType.FULL``.
            model_package_group: Register the result as a new version of this group.
            compute: Instance type and count (a ``Compute``).
            mlflow_resource_arn: MLflow tracking URI (an ``http://`` server or a local store).
            mlflow_experiment_name: Log the run to MLflow under this experiment.
            mlflow_run_name: The MLflow run's name.
            training_dataset: A JSONL path, an ``s3://`` URI or a ``DataSet``.
            validation_dataset: The same, evaluated every ``eval_steps``.
            s3_output_path: Where the model artifact goes.
            kms_key_id: Recorded with the output settings.
            networking: Network settings for the job.
            accept_eula: Must be True for gated models.
            stopping_condition: Time limits of the job.
            sequence_length: The ceiling ``hyperparameters.validate_length_constraints()``
                checks: tokens (``4096``) or the real SDK's spelling (``"4K"``).
            recipe: A shipped recipe's name or a recipe YAML file: its hyperparameters.
            overrides: Option values over the recipe's: ``{"epochs": 2}``, or by section
                as the real SDK nests them (``{"training_config": {"lr": 2e-5}}``).
            is_multimodal: Refused when true (sageyard's programs take text).
            base_model_name: The base model recorded with a registered package.
            disable_output_compression: Model files uncompressed (``CompressionType NONE``).
            notifications: Refused when set: sageyard has no SNS or EventBridge.
            sagemaker_session: A :class:`~sageyard.core.session.Session` (default: a new one).
            role: Execution role ARN.
            base_job_name: Job names are ``<base_job_name>-<timestamp>``.
            tags: Tags recorded on the job.
            hyperparameters: Option values, applied last (over ``recipe`` and ``overrides``).
            output_data_config: An ``OutputDataConfig`` (or its dict): output path, KMS key
                and compression, as ``s3_output_path`` etc. set them; where both are given
                they must agree.
            input_data_config: ``Channel``/``InputData`` channels given to the job beside
                the model and datasets (names other than model, train and validation).
            environment: Environment variables of the job.
            training_image: Recorded on the trainer only: sageyard runs its own fine-tuning
                program in its own environment, so the image is not run (and the job names
                the program, ``AlgorithmName``, instead).
            checkpoint_config: Checkpoints synced with a URI (sageyard's own keyword).

        Raises:
            ValueError: A parameter is invalid (the message says which and what to pass).
            TypeError: ``compute`` is not a ``Compute``, or an unknown keyword was given.
        """
        from sageyard.models.catalog import check_eula

        for name, value in (("is_multimodal", is_multimodal), ("notifications", notifications)):
            if value:
                raise ConfigurationError(_unsupported(name, value))
        if not isinstance(model, str | ModelPackage) or (isinstance(model, str) and not model):
            raise ConfigurationError(
                f"model must be a model id (e.g. 'HuggingFaceTB/SmolLM2-135M-Instruct'), a "
                f"local model folder, a model package, or an s3:// model artifact; got {model!r}."
            )
        check_compute(compute)  # HyperPodCompute: refused with what to pass instead
        if compute is not None and not isinstance(compute, Compute):
            raise TypeError(
                f"compute must be a Compute (sageyard.train.configs.Compute), got "
                f"{type(compute).__name__}."
            )
        self.model = model
        self.training_type = _training_type(training_type)
        if isinstance(model_package_group, ModelPackageGroup):
            model_package_group = model_package_group.model_package_group_name
        elif model_package_group is not None:
            model_package_group = model_package_group.rsplit("model-package-group/", 1)[-1]
            check_group_name(model_package_group)
        self.model_package_group = model_package_group
        self.compute = compute
        self.mlflow_resource_arn = mlflow_resource_arn
        self.mlflow_experiment_name = mlflow_experiment_name
        self.mlflow_run_name = mlflow_run_name
        self.training_dataset = training_dataset
        self.validation_dataset = validation_dataset
        self.s3_output_path = s3_output_path
        self.kms_key_id = kms_key_id
        self.networking = networking
        self.accept_eula = accept_eula
        self.stopping_condition = stopping_condition
        self.sequence_length = sequence_length
        self.recipe = recipe
        self.overrides = overrides
        self.is_multimodal = is_multimodal
        self.base_model_name = base_model_name
        self.disable_output_compression = disable_output_compression
        self.notification_rule_arn = None
        # The real BaseTrainer's keywords.
        self.sagemaker_session = sagemaker_session
        self.role = role
        self.base_job_name = base_job_name
        self.tags = list(tags or [])
        self.output_data_config = _output_data_config(output_data_config)
        self.input_data_config = list(input_data_config) if input_data_config else None
        self.environment = _environment(environment)
        self.training_image = training_image
        self.checkpoint_config = checkpoint_config
        self._output_config()  # s3_output_path & co. must agree with output_data_config
        self._extra_channels()  # input_data_config: channels, none named like our own
        if isinstance(model, str):
            check_eula(model, accept_eula)
        elif model.base_model:
            check_eula(model.base_model, accept_eula)
        if mlflow_resource_arn is not None:
            _mlflow_uri(mlflow_resource_arn)  # fail now on an ARN we cannot reach
        self.hyperparameters = FineTuningOptions(
            self._program().option_specs(self.training_type.value),
            sequence_length=_sequence_length(sequence_length),
        )
        if recipe is not None:
            self._apply_recipe(recipe)
        if hyperparameters is not None and not isinstance(hyperparameters, dict):
            raise ConfigurationError(
                f"hyperparameters must be a dict of option names to values, got "
                f"{type(hyperparameters).__name__}; e.g. hyperparameters={{'epochs': 2}}."
            )
        for name, value in {**_flat_options(overrides), **(hyperparameters or {})}.items():
            setattr(self.hyperparameters, name, value)
        self._latest_training_job: TrainingJob | None = None

    @classmethod
    def list_supported_models(cls, session: Any = None) -> list[str]:
        """The catalog models this technique can fine-tune (``sageyard models list``), sorted.

        Any Hugging Face model or local folder can be fine-tuned too; the catalog lists the
        ones sageyard knows (licence, gated flag, the techniques they suit). ``session`` is
        the real SDK's (a boto3 session for its hub) and is not needed.

        Example:
            >>> from sageyard.train.sft_trainer import SFTTrainer
            >>> "HuggingFaceTB/SmolLM2-135M-Instruct" in SFTTrainer.list_supported_models()
            True
        """
        from sageyard.models import catalog

        technique = getattr(cls, "TECHNIQUE", None)
        if technique is None:
            raise NotImplementedError(
                f"{cls.__name__} names no customization technique; call "
                "list_supported_models() on SFTTrainer or DPOTrainer."
            )
        return sorted(
            model_id
            for model_id, entry in catalog.CATALOG.items()
            if technique.value in entry.techniques
        )

    def list_notification_rules(self, event_bus_arn: str | None = None) -> list[dict[str, str]]:
        """The notification rules sageyard created: none, ever (an empty list).

        The real SDK lists the EventBridge rules its ``notifications`` set up; sageyard
        has no SNS or EventBridge and refuses ``notifications``, so there are none.
        """
        return []

    def delete_notification_rule(self, rule_arn: str, event_bus_arn: str | None = None) -> str:
        """Refused: there is no such rule (sageyard creates none; see
        :meth:`list_notification_rules`).

        Raises:
            ValueError: Always (the real SDK's error for a rule it cannot find).
        """
        bus = event_bus_arn or "default"
        raise ConfigurationError(
            f"Rule {rule_arn!r} not found on event bus {bus!r}: {_NO_NOTIFICATIONS}. Delete "
            "rules made by the real SDK with the AWS console or `aws events delete-rule`."
        )

    def get_resolved_recipe(self) -> dict[str, Any]:
        """The fine-tuning this trainer runs, as a recipe: the ``recipe``'s values with
        ``overrides``, ``hyperparameters=`` and each ``trainer.hyperparameters.x = ...``
        merged in. Callable before or after ``train()``; a new dict each time.

        Its layout is the one :meth:`ModelTrainer.from_recipe` reads (``run``, ``model``,
        ``peft``, ``data``, ``trainer``; see :mod:`sageyard.train._recipes`), so the dict
        saved as YAML runs the same fine-tuning again.

        Example:
            >>> from sageyard.train.sft_trainer import SFTTrainer
            >>> trainer = SFTTrainer(model="HuggingFaceTB/SmolLM2-135M-Instruct")
            >>> trainer.hyperparameters.epochs = 2
            >>> trainer.get_resolved_recipe()["trainer"]["epochs"]
            2

        Raises:
            ValueError: No recipe, overrides or hyperparameter was given (the real SDK's
                NoRecipeError): the trainer runs the program's defaults.
        """
        if self.recipe is None and not self.overrides and not self.hyperparameters.to_user_dict():
            raise ConfigurationError(
                "get_resolved_recipe() needs a recipe=, overrides= or a hyperparameter set "
                "(trainer.hyperparameters.epochs = 2); this trainer has none, so it runs the "
                "program's defaults (see trainer.hyperparameters.get_info())."
            )
        values = self.hyperparameters.values()
        program = self._program()
        lora = self.training_type is TrainingType.LORA
        adapter = set(program.option_specs("lora")) - set(program.option_specs("full"))
        peft: dict[str, Any] = {"peft_type": "lora" if lora else None}
        peft.update({name: values.pop(name) for name in sorted(adapter) if name in values})
        model = self.model if isinstance(self.model, str) else self.model.model_package_arn
        recipe: dict[str, Any] = {}
        if self.base_job_name:
            recipe["run"] = {"name": self.base_job_name}
        recipe["model"] = {"name_or_path": model, "technique": self.TECHNIQUE.value}
        if self.accept_eula:
            recipe["model"]["accept_eula"] = True
        recipe["peft"] = peft
        data = {
            name: source
            for name, source in (
                ("train", self.training_dataset),
                ("validation", self.validation_dataset),
            )
            if isinstance(source, str)
        }
        if data:
            recipe["data"] = data
        recipe["trainer"] = values
        return recipe

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
        extra_channels = self._extra_channels()
        output = self._output_config()
        self.hyperparameters.validate_length_constraints()
        own_channels, metrics = self._technique_inputs(datasets, session)
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
            input_data_config=[model_channel, *data_channels, *own_channels, *extra_channels],
            hyperparameters=self._job_hyperparameters(base_model, session),
            environment=dict(self.environment or {}),
            tags=self.tags or None,
        )
        trainer._model_channel = model_channel
        if metrics:
            trainer.with_metric_definitions(metrics)
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

    def _output_config(self) -> OutputDataConfig | None:
        """``output_data_config`` with ``s3_output_path``, ``kms_key_id`` and
        ``disable_output_compression`` folded in (None when nothing is set).

        Raises:
            ConfigurationError: One of them disagrees with ``output_data_config``.
        """
        config = self.output_data_config or OutputDataConfig()
        path = _agree("s3_output_path", self.s3_output_path, config.s3_output_path)
        kms = _agree("kms_key_id", self.kms_key_id, config.kms_key_id)
        compression = config.compression_type
        if self.disable_output_compression:
            if compression is not None and compression.upper() != "NONE":
                raise ConfigurationError(
                    f"disable_output_compression=True and output_data_config.compression_type="
                    f"{compression!r} disagree; drop one of them (or set compression_type='NONE')."
                )
            compression = "NONE"
        if path is None and kms is None and compression is None:
            return None
        return OutputDataConfig(s3_output_path=path, kms_key_id=kms, compression_type=compression)

    def _extra_channels(self) -> list[Channel | InputData]:
        """The ``input_data_config`` channels, checked: shapes, and no name of our own.

        Raises:
            ConfigurationError: Not a Channel/InputData, or a name the trainer uses (model,
                train, validation) or gives twice.
        """
        channels = list(self.input_data_config or [])
        seen: set[str] = set()
        for index, channel in enumerate(channels):
            if not isinstance(channel, Channel | InputData):
                raise ConfigurationError(
                    f"input_data_config[{index}] must be a Channel or InputData (from "
                    f"sageyard.train.configs), got {type(channel).__name__}."
                )
            name = channel.channel_name
            if name in self.OWN_CHANNELS:
                raise ConfigurationError(
                    f"input_data_config has a channel named {name!r}, which the trainer makes "
                    f"itself ({', '.join(self.OWN_CHANNELS)}); give the model as model= and "
                    "the data as training_dataset=/validation_dataset=, or rename the channel."
                )
            if name in seen:
                raise ConfigurationError(
                    f"input_data_config names the channel {name!r} twice; give each once."
                )
            seen.add(name)
        return channels

    def _technique_inputs(
        self, datasets: dict[str, str], session: Session
    ) -> tuple[list[InputData], list[MetricDefinition]]:
        """A technique's own channels and metrics, checked before the job (none here).

        ``datasets`` are the job's dataset URIs by channel (``train``, ``validation``).
        """
        return [], []

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
        from sageyard.jobs.remote import registry_for
        from sageyard.models.hub import resolve_model_path

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
            package = registry_for(session.settings).find_package(model)
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


def _unsupported(name: str, value: Any) -> str:
    if name == "notifications":
        return (
            f"notifications={value!r} asks for an EventBridge rule that sends job status "
            f"changes to SNS, but {_NO_NOTIFICATIONS}. Leave notifications out and follow the "
            "job with train(wait=True), TrainingJob.wait() or `sageyard jobs logs <name> -f`."
        )
    return (
        f"{name}={value!r} is not supported by sageyard's fine-tuning programs (text models, "
        "one training dataset); leave it out."
    )


def _agree(name: str, given: str | None, configured: str | None) -> str | None:
    """The value both give (either one when only one does), else ConfigurationError."""
    if given is not None and configured is not None and given != configured:
        raise ConfigurationError(
            f"{name}={given!r} and output_data_config.{name}={configured!r} disagree; give "
            "it in one place (or the same value in both)."
        )
    return given if given is not None else configured


def _output_data_config(value: OutputDataConfig | dict[str, Any] | None) -> OutputDataConfig | None:
    if value is None or isinstance(value, OutputDataConfig):
        return value
    if not isinstance(value, dict):
        raise ConfigurationError(
            f"output_data_config must be an OutputDataConfig or its dict, got "
            f"{type(value).__name__}."
        )
    from pydantic import ValidationError

    try:
        return OutputDataConfig.model_validate(value)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()
        )
        raise ConfigurationError(
            f"output_data_config {value!r} is not valid ({problems}); its fields are "
            "s3_output_path, kms_key_id and compression_type."
        ) from None


def _environment(value: dict[str, str] | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigurationError(
            f"environment must be a dict of strings to strings, got {value!r}; e.g. "
            "environment={'MY_FLAG': '1'}."
        )
    return dict(value)


def _sequence_length(value: int | str | None) -> int | None:
    """Tokens: ``4096``, ``"4096"`` or the real SDK's ``"4K"`` (4 * 1024)."""
    if value is None:
        return None
    text = str(value).strip().upper()
    factor = 1024 if text.endswith("K") else 1
    digits = text.removesuffix("K")
    if isinstance(value, bool) or not digits.isdigit() or int(digits) <= 0:
        raise ConfigurationError(
            f"sequence_length must be a positive number of tokens (4096) or the real SDK's "
            f"spelling ('1K', '2K', '4K', ... '128K'), got {value!r}."
        )
    return int(digits) * factor


def _flat_options(overrides: dict[str, Any] | None) -> dict[str, Any]:
    """``overrides`` as option names: a section's dict (``{"training_config": {...}}``, as
    the real SDK nests them) gives its entries."""
    if overrides is None:
        return {}
    if not isinstance(overrides, dict):
        raise ConfigurationError(
            f"overrides must be a dict of option values, got {type(overrides).__name__}; "
            "e.g. overrides={'epochs': 2} or {'training_config': {'epochs': 2}}."
        )
    flat: dict[str, Any] = {}
    for name, value in overrides.items():
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[name] = value
    return flat


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
