"""``ModelTrainer``: the reference's unified trainer, running jobs on sageyard's engine.

Example:
    >>> from sageyard.train import ModelTrainer
    >>> from sageyard.train.configs import SourceCode, Compute
    >>> trainer = ModelTrainer(
    ...     training_image="pytorch-training:2.0-cpu-py310",
    ...     source_code=SourceCode(source_dir="./code", entry_script="train.py"),
    ...     compute=Compute(instance_type="ml.m5.xlarge"),
    ...     hyperparameters={"epochs": 3},
    ... )
    >>> trainer.train()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator

from sageyard.core.config import (
    MODEL_TRAINER_PATH,
    TRAINING_JOB_ENABLE_NETWORK_ISOLATION_PATH,
    TRAINING_JOB_ENVIRONMENT_PATH,
    TRAINING_JOB_ROLE_ARN_PATH,
    TRAINING_JOB_SECURITY_GROUP_IDS_PATH,
    TRAINING_JOB_SUBNETS_PATH,
    TRAINING_JOB_TAGS_PATH,
    SageMakerConfig,
)
from sageyard.core.exceptions import ConfigurationError
from sageyard.core.session import Session, get_execution_role
from sageyard.core.shapes import (
    Channel,
    CheckpointConfig,
    Compute,
    DataSource,
    InfraCheckConfig,
    InputData,
    MetricDefinition,
    Mode,
    ModelPackageConfig,
    Networking,
    OutputDataConfig,
    RemoteDebugConfig,
    RetryStrategy,
    S3DataSource,
    SessionChainingConfig,
    SourceCode,
    StoppingCondition,
    Tag,
    TensorBoardOutputConfig,
    TrainingImageConfig,
    pascal_case,
)
from sageyard.jobs.request import DEFAULT_INSTANCE_TYPE, DEFAULT_MAX_RUNTIME
from sageyard.jobs.resource import TrainingJob
from sageyard.train import _request
from sageyard.train.client import client_for

logger = logging.getLogger(__name__)


class ModelTrainer(BaseModel):
    """Train a model as a job on sageyard's engine, with the reference's parameters.

    Args:
        training_mode: ``Mode.SAGEMAKER_TRAINING_JOB`` (default) runs the job on sageyard's
            job service; ``Mode.LOCAL_CONTAINER`` runs it in Docker (needs a Docker engine).
        sagemaker_session: A :class:`~sageyard.core.session.Session` (default: a new one).
        role: Execution role ARN (default: the configured role, else a local placeholder).
        base_job_name: Job names are ``<base_job_name>-<timestamp>``.
        source_code: The code folder and the script or command to run.
        distributed: ``Torchrun(...)``: the entry script under torchrun on every host;
            ``MPI(...)``: under mpirun from the first host. ``Torchrun(smp=SMP(...))`` gives
            the script ``torch.sagemaker`` (SMP v2 on FSDP2 and DTensor).
        compute: Instance type and count (default ``ml.m5.xlarge``, one instance).
        networking: Network settings; ``enable_network_isolation`` runs the job offline.
        stopping_condition: Time limits (default: 1 day of runtime).
        algorithm_name: A built-in algorithm, instead of ``training_image``.
        training_image: The training image; locally it names the job's environment.
        training_image_config: How the image is pulled (recorded).
        output_data_config: Where model.tar.gz and output.tar.gz go.
        input_data_config: Input channels.
        checkpoint_config: Checkpoints synced with an S3 URI.
        training_input_mode: ``File`` (default), ``Pipe`` or ``FastFile``.
        environment: Environment variables for the job (secrets masked in logs/describe).
        hyperparameters: A dict, or the path of a JSON or YAML file holding one.
        tags: Tags recorded on the job.
        local_container_root: Working folder for ``Mode.LOCAL_CONTAINER``.
        model_package_config: The model package group the job's model is registered in when
            it completes (``model_package_group_arn``), and the package it starts from
            (``source_model_package_arn``, recorded as the new version's base model).
        config_mgr: Reads defaults from the real SDK's ``config.yaml`` (the session's
            ``sagemaker_config``); applied when ``train()`` builds the job, to what is unset.
    """

    model_config = ConfigDict(
        arbitrary_types_allowed=True, validate_assignment=True, extra="forbid"
    )

    training_mode: Mode = Mode.SAGEMAKER_TRAINING_JOB
    sagemaker_session: Session | None = None
    role: str | None = None
    base_job_name: str | None = None
    input_s3_key_prefix: str | None = None  # where local inputs go: <prefix>/input/<channel>
    source_code: SourceCode | None = None
    distributed: Any | None = None
    compute: Compute | None = None
    networking: Networking | None = None
    stopping_condition: StoppingCondition | None = None
    training_image: str | None = None
    training_image_config: TrainingImageConfig | None = None
    algorithm_name: str | None = None
    output_data_config: OutputDataConfig | None = None
    input_data_config: list[Channel | InputData] | None = None
    checkpoint_config: CheckpointConfig | None = None
    training_input_mode: str | None = "File"
    environment: dict[str, str] | None = None
    hyperparameters: dict[str, Any] | str | None = None
    tags: list[Tag] | None = None
    local_container_root: str | None = None
    model_package_config: ModelPackageConfig | None = None
    config_mgr: SageMakerConfig = SageMakerConfig()

    #: Attributes a ``config.yaml`` may default (``SageMaker.PythonSDK.Modules.ModelTrainer``
    #: ``.<CamelCaseName>``), as the real ModelTrainer lists them.
    CONFIGURABLE_ATTRIBUTES: ClassVar[list[str]] = [
        "role",
        "base_job_name",
        "input_s3_key_prefix",
        "source_code",
        "compute",
        "networking",
        "stopping_condition",
        "training_image",
        "training_image_config",
        "algorithm_name",
        "output_data_config",
        "checkpoint_config",
        "training_input_mode",
        "environment",
        "hyperparameters",
    ]
    #: The configurable attributes whose configured value is a config object's fields.
    SERIALIZABLE_CONFIG_ATTRIBUTES: ClassVar[dict[str, type[Any]]] = {
        "source_code": SourceCode,
        "compute": Compute,
        "networking": Networking,
        "stopping_condition": StoppingCondition,
        "training_image_config": TrainingImageConfig,
        "output_data_config": OutputDataConfig,
        "checkpoint_config": CheckpointConfig,
    }

    _latest_training_job: TrainingJob | None = PrivateAttr(default=None)
    _tensorboard_output_config: TensorBoardOutputConfig | None = PrivateAttr(default=None)
    _retry_strategy: RetryStrategy | None = PrivateAttr(default=None)
    _infra_check_config: InfraCheckConfig | None = PrivateAttr(default=None)
    _session_chaining_config: SessionChainingConfig | None = PrivateAttr(default=None)
    _remote_debug_config: RemoteDebugConfig | None = PrivateAttr(default=None)
    _metric_definitions: list[MetricDefinition] | None = PrivateAttr(default=None)
    # Set by the fine-tuning trainers, from_recipe and from_jumpstart_config: the channel of
    # the model the program starts from. Requests carry it as Sageyard.ModelChannel, and the
    # service keeps it in every job, whatever input_data_config train() gets.
    _model_channel: InputData | None = PrivateAttr(default=None)
    # Set by from_recipe: the recipe with its overrides merged (get_resolved_recipe()).
    _resolved_recipe: dict[str, Any] | None = PrivateAttr(default=None)

    @field_validator("training_input_mode")
    @classmethod
    def _input_mode(cls, value: str | None) -> str | None:
        if value is not None and value not in ("File", "Pipe", "FastFile"):
            raise ValueError(
                f"training_input_mode must be 'File', 'Pipe' or 'FastFile', but got {value!r}."
            )
        return value

    @field_validator("base_job_name")
    @classmethod
    def _base_name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip("-"):
            raise ValueError(f"base_job_name must contain letters or digits, got {value!r}.")
        return value

    def model_post_init(self, context: Any) -> None:
        if (self.training_image is None) == (self.algorithm_name is None):
            given = "both" if self.training_image else "neither"
            raise ConfigurationError(
                f"ModelTrainer needs exactly one of training_image or algorithm_name, but got "
                f"{given}. Pass training_image='<image uri>' to run your own code, or "
                "algorithm_name='xgboost' for a built-in algorithm."
            )
        self._fill_defaults()

    def _fill_defaults(self) -> None:
        """What the real ModelTrainer fills in when it is built (its ``TrainDefaults``):
        hyperparameters (a JSON/YAML path is read now), environment, base job name,
        compute, stopping condition and, for a training job, role and output path."""
        self.hyperparameters = _request.load_hyperparameters(self.hyperparameters)
        if self.environment is None:
            self.environment = {}
        self.base_job_name = self.base_job_name or _request.base_job_name(self)
        if self.compute is None:
            self.compute = Compute(instance_type=DEFAULT_INSTANCE_TYPE)
        elif (
            not self.compute.instance_groups
            and not self.compute.instance_preferences
            and self.compute.instance_type is None
        ):
            self.compute = self.compute.model_copy(update={"instance_type": DEFAULT_INSTANCE_TYPE})
        if self.stopping_condition is None:
            self.stopping_condition = StoppingCondition(max_runtime_in_seconds=DEFAULT_MAX_RUNTIME)
        elif self.stopping_condition.max_runtime_in_seconds is None:
            self.stopping_condition = self.stopping_condition.model_copy(
                update={"max_runtime_in_seconds": DEFAULT_MAX_RUNTIME}
            )
        if self.training_mode != Mode.SAGEMAKER_TRAINING_JOB:
            return
        session = self._session()
        self.role = (
            self.role
            or self.config_mgr.resolve_value_from_config(
                config_path=f"{MODEL_TRAINER_PATH}.Role", sagemaker_session=session
            )
            or self.config_mgr.resolve_value_from_config(
                config_path=TRAINING_JOB_ROLE_ARN_PATH, sagemaker_session=session
            )
            or get_execution_role(session, use_default=True)
        )
        default_path = f"s3://{session.default_bucket()}/{self.base_job_name}"
        if self.output_data_config is None:
            self.output_data_config = OutputDataConfig(s3_output_path=default_path)
        elif self.output_data_config.s3_output_path is None:
            self.output_data_config = self.output_data_config.model_copy(
                update={"s3_output_path": default_path}
            )

    # -- builders ----------------------------------------------------------------------------

    def with_tensorboard_output_config(
        self, tensorboard_output_config: TensorBoardOutputConfig | None = None
    ) -> ModelTrainer:
        """Upload TensorBoard files written to its ``local_path`` when the job ends (without
        an ``s3_output_path``: to ``s3://<default bucket>/<base job name>``)."""
        self._tensorboard_output_config = tensorboard_output_config or TensorBoardOutputConfig()
        return self

    def with_retry_strategy(self, retry_strategy: RetryStrategy) -> ModelTrainer:
        """Retry after infrastructure failures (not after errors in the script)."""
        self._retry_strategy = RetryStrategy.model_validate(retry_strategy)
        return self

    def with_infra_check_config(
        self, infra_check_config: InfraCheckConfig | None = None
    ) -> ModelTrainer:
        """Check the job root and volume before the script runs (default: enabled)."""
        self._infra_check_config = InfraCheckConfig.model_validate(
            infra_check_config or InfraCheckConfig(enable_infra_check=True)
        )
        return self

    def with_session_chaining_config(
        self, session_chaining_config: SessionChainingConfig | None = None
    ) -> ModelTrainer:
        """Recorded on the job (default: session tag chaining enabled)."""
        self._session_chaining_config = SessionChainingConfig.model_validate(
            session_chaining_config or SessionChainingConfig(enable_session_tag_chaining=True)
        )
        return self

    def with_remote_debug_config(self, remote_debug_config: RemoteDebugConfig) -> ModelTrainer:
        self._remote_debug_config = RemoteDebugConfig.model_validate(remote_debug_config)
        return self

    def with_checkpoint_config(
        self, checkpoint_config: CheckpointConfig | None = None
    ) -> ModelTrainer:
        """Restore and upload checkpoints (without an ``s3_uri``: under
        ``s3://<default bucket>/<base job name>/checkpoints``)."""
        self.checkpoint_config = checkpoint_config or CheckpointConfig()
        return self

    def with_metric_definitions(self, metric_definitions: list[MetricDefinition]) -> ModelTrainer:
        """Metrics to read from the job's log lines (one capture group per regex)."""
        self._metric_definitions = [MetricDefinition.model_validate(m) for m in metric_definitions]
        return self

    # -- data --------------------------------------------------------------------------------

    def create_input_data_channel(
        self,
        channel_name: str,
        data_source: str,
        key_prefix: str | None = None,
        ignore_patterns: list[str] | None = None,
        instance_group_names: list[str] | None = None,
        kms_key: str | None = None,
    ) -> InputData | Channel:
        """A channel for local files or an S3 URI.

        A local path is uploaded to the default bucket (under the session's
        ``default_bucket_prefix``), to ``<key_prefix>/<channel_name>`` or, without
        ``key_prefix``, to ``<base_job_name>/input/<channel_name>``, as the real SDK does.
        With ``instance_group_names``, a :class:`Channel` whose data only those instance
        groups' hosts get. ``kms_key`` is accepted and not used (no server-side encryption).
        """
        from sageyard.storage import is_s3_uri, upload_path

        InputData(channel_name=channel_name, data_source=data_source)  # validate the name
        uri = data_source
        if not is_s3_uri(data_source):
            path = Path(data_source).expanduser()
            if not path.exists():
                raise ConfigurationError(
                    f"data_source {data_source!r} is neither an S3 URI nor an existing local path."
                )
            session = self._session()
            prefix = "/".join(
                part.strip("/")
                for part in (
                    session.default_bucket_prefix,
                    key_prefix or f"{self.input_s3_key_prefix or self._base_job_name()}/input",
                    channel_name,
                )
                if part and part.strip("/")
            )
            uri = upload_path(
                session.objects,
                path.resolve(),
                f"s3://{session.default_bucket()}/{prefix}",
                ignore_patterns,
            )
            if path.is_file():
                uri = uri.rsplit("/", 1)[0]
        if instance_group_names is None:
            return InputData(channel_name=channel_name, data_source=uri)
        source = S3DataSource(s3_uri=uri, instance_group_names=list(instance_group_names))
        return Channel(channel_name=channel_name, data_source=DataSource(s3_data_source=source))

    # -- train -------------------------------------------------------------------------------

    def train(
        self,
        input_data_config: list[Channel | InputData] | None = None,
        wait: bool = True,
        logs: bool = True,
        dry_run: bool = False,
    ) -> None:
        """Create a training job and (with ``wait``) follow it to its end.

        With ``dry_run``, run every check the job would get (configuration, inputs,
        hyperparameters, the service's rules) and create nothing.

        Raises:
            ValueError: The configuration is invalid (nothing is written).
            botocore.exceptions.ClientError: The service refused the job (e.g.
                ResourceLimitExceeded).
            RuntimeError: The job failed (a TrainingJobFailedError with the reason).
        """
        if input_data_config is not None:
            self.input_data_config = input_data_config
        session = self._session()
        self._populate_intelligent_defaults(session)
        request = _request.training_job_request(self, session)
        if dry_run:
            client_for(session).validate_training_job(request)
            logger.info("Dry run: the training job would be created; nothing was submitted.")
            return
        job = _request.create_training_job(session, request)
        self._latest_training_job = job
        if wait:
            job.wait(logs=logs)

    def _populate_intelligent_defaults(self, session: Session) -> None:
        """Unset attributes from the session's ``config.yaml``: first the ModelTrainer section,
        then the TrainingJob section (environment, network isolation, VPC, tags). The role is
        resolved when the trainer is built, the configured one before the session's."""
        config = self.config_mgr
        for name in self.CONFIGURABLE_ATTRIBUTES:
            if getattr(self, name) not in (None, {}):
                continue
            path = f"{MODEL_TRAINER_PATH}.{pascal_case(name)}"
            value = config.resolve_value_from_config(config_path=path, sagemaker_session=session)
            if value is None:
                continue
            shape = self.SERIALIZABLE_CONFIG_ATTRIBUTES.get(name)
            setattr(self, name, shape.model_validate(value) if shape else value)
        if not self.environment:
            self.environment = config.resolve_value_from_config(
                config_path=TRAINING_JOB_ENVIRONMENT_PATH,
                default_value={},
                sagemaker_session=session,
            )
        isolation = config.resolve_value_from_config(
            config_path=TRAINING_JOB_ENABLE_NETWORK_ISOLATION_PATH, sagemaker_session=session
        )
        subnets, groups = (
            config.resolve_value_from_config(config_path=path, sagemaker_session=session)
            for path in (TRAINING_JOB_SUBNETS_PATH, TRAINING_JOB_SECURITY_GROUP_IDS_PATH)
        )
        networking = self.networking or Networking()
        updates = {
            key: value
            for key, value in (
                ("enable_network_isolation", isolation),
                ("subnets", subnets),
                ("security_group_ids", groups),
            )
            if value is not None and getattr(networking, key) is None
        }
        if updates:
            self.networking = networking.model_copy(update=updates)
        if not self.tags:
            tags = config.resolve_value_from_config(
                config_path=TRAINING_JOB_TAGS_PATH, sagemaker_session=session
            )
            self.tags = [Tag.model_validate(tag) for tag in tags] if tags else self.tags

    # -- fine-tuning starting points --------------------------------------------------------

    @classmethod
    def from_recipe(
        cls,
        training_recipe: str,
        compute: Compute | None = None,
        recipe_overrides: dict[str, Any] | None = None,
        networking: Networking | None = None,
        stopping_condition: StoppingCondition | None = None,
        requirements: str | None = None,
        training_image: str | None = None,
        training_image_config: TrainingImageConfig | None = None,
        output_data_config: OutputDataConfig | None = None,
        input_data_config: list[Channel | InputData] | None = None,
        checkpoint_config: CheckpointConfig | None = None,
        training_input_mode: str | None = "File",
        environment: dict[str, str] | None = None,
        hyperparameters: dict[str, Any] | str | None = None,
        tags: list[Tag] | None = None,
        sagemaker_session: Session | None = None,
        role: str | None = None,
        base_job_name: str | None = None,
        model_package_config: ModelPackageConfig | None = None,
    ) -> ModelTrainer:
        """A trainer that runs the fine-tuning a recipe YAML describes.

        ``training_recipe`` is a YAML file or a shipped recipe's name (e.g.
        ``fine-tuning/smollm2/smollm2_135m_sft_lora``); see :mod:`sageyard.train._recipes`
        for its sections. Data comes from the recipe's ``data`` section, ``input_data_config``
        or ``train(input_data_config=...)``; it is checked line by line before a job starts.
        ``hyperparameters`` (a dict, or a JSON/YAML file) override the recipe's, name by name.

        Raises:
            ValueError: A bad recipe, override, hyperparameter, model or dataset.
        """
        from sageyard.train._fine_tuning import trainer_from_recipe

        if training_image is not None or training_image_config is not None:
            logger.warning(
                "from_recipe: training_image and training_image_config are ignored; recipes "
                "run sageyard's fine-tuning "
                "programs in this environment."
            )
        if requirements is not None:
            logger.warning("from_recipe: requirements are ignored (the program needs none).")
        trainer = trainer_from_recipe(
            training_recipe, recipe_overrides, compute, sagemaker_session, role, base_job_name
        )
        if hyperparameters:
            trainer.hyperparameters = {
                **_request.load_hyperparameters(trainer.hyperparameters),
                **_request.load_hyperparameters(hyperparameters),
            }
        return trainer._with_job_settings(
            model_package_config=model_package_config,
            networking=networking,
            stopping_condition=stopping_condition,
            output_data_config=output_data_config,
            input_data_config=input_data_config,
            checkpoint_config=checkpoint_config,
            training_input_mode=training_input_mode,
            environment=environment,
            tags=tags,
        )

    @classmethod
    def from_jumpstart_config(
        cls,
        jumpstart_config: Any,
        source_code: SourceCode | None = None,
        compute: Compute | None = None,
        networking: Networking | None = None,
        stopping_condition: StoppingCondition | None = None,
        training_image: str | None = None,
        training_image_config: TrainingImageConfig | None = None,
        output_data_config: OutputDataConfig | None = None,
        input_data_config: list[Channel | InputData] | None = None,
        checkpoint_config: CheckpointConfig | None = None,
        training_input_mode: str | None = "File",
        environment: dict[str, str] | None = None,
        hyperparameters: dict[str, Any] | str | None = None,
        tags: list[Tag] | None = None,
        sagemaker_session: Session | None = None,
        role: str | None = None,
        base_job_name: str | None = None,
    ) -> ModelTrainer:
        """A trainer that fine-tunes a catalog model with its default program (SFT, LoRA).

        Give the data to ``train(input_data_config=[InputData("training", ...)])``.

        Raises:
            ValueError: The model is not in the catalog (``sageyard models list``), or is
                gated and ``jumpstart_config.accept_eula`` is False.
        """
        from sageyard.train._fine_tuning import trainer_from_jumpstart

        if source_code is not None or training_image is not None:
            raise ConfigurationError(
                "from_jumpstart_config runs the model's default fine-tuning program; to run "
                "your own script, build ModelTrainer(training_image=..., source_code=...)."
            )
        trainer = trainer_from_jumpstart(
            jumpstart_config, compute, hyperparameters, sagemaker_session, role, base_job_name
        )
        return trainer._with_job_settings(
            networking=networking,
            stopping_condition=stopping_condition,
            output_data_config=output_data_config,
            input_data_config=input_data_config,
            checkpoint_config=checkpoint_config,
            training_input_mode=training_input_mode,
            environment=environment,
            tags=tags,
        )

    def _with_job_settings(self, **settings: Any) -> ModelTrainer:
        for name, value in settings.items():
            if value is not None:
                setattr(self, name, value)
        return self

    @property
    def output_data(self) -> str:
        """The S3 URI of the last job's ``output.tar.gz`` (what ``/opt/ml/output/data``
        held), computed from its output path; present once the job has ended.

        Raises:
            ConfigurationError: No job yet (call ``train()`` first).
        """
        job = self._latest_training_job
        if job is None:
            raise ConfigurationError(
                "No training job is associated with this ModelTrainer. Call train() before "
                "accessing output_data."
            )
        config = self.output_data_config
        path = config.s3_output_path if config is not None else None
        return f"{str(path).rstrip('/')}/{job.training_job_name}/output/output.tar.gz"

    def get_resolved_recipe(self) -> dict[str, Any]:
        """The recipe of a ModelTrainer made by :meth:`from_recipe`, its overrides merged.

        Raises:
            AttributeError: This ModelTrainer was not made by ``from_recipe`` (the real
                SDK's error).
        """
        if self._resolved_recipe is None:
            raise AttributeError(
                "get_resolved_recipe() is only available on ModelTrainer instances created "
                "via ModelTrainer.from_recipe()."
            )
        import copy

        return copy.deepcopy(self._resolved_recipe)

    # -- helpers -----------------------------------------------------------------------------

    def _session(self) -> Session:
        if self.sagemaker_session is None:
            self.sagemaker_session = Session()
        return self.sagemaker_session

    def _base_job_name(self) -> str:
        return _request.base_job_name(self)

    def __repr__(self) -> str:
        image = self.training_image or f"algorithm:{self.algorithm_name}"
        return f"ModelTrainer({image}, base_job_name={self._base_job_name()!r})"
