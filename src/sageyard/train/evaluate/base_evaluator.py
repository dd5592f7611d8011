"""What every evaluator shares: the model to evaluate, where results go, and the steps.

An evaluator's ``evaluate()`` resolves the model (a catalog id, a local or ``s3://``
model, a registered ModelPackage, or a trained fine-tuning trainer), builds one
CreateTrainingJob request per pipeline step for the evaluate program, checks them all,
and starts the evaluation (``sageyard.evaluation``): its supervisor runs the steps as
training jobs. As in the real SDK, a base model (a catalog id) is evaluated alone
(``EvaluateBaseModel``); a fine-tuned model is ``EvaluateCustomModel``, with its base
model beside it (``EvaluateBaseModel``) when ``evaluate_base_model=True``.

Constructors do no I/O: models and data are resolved and checked in ``evaluate()``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from sageyard.core.exceptions import ConfigurationError, FailedStatusError
from sageyard.models.registry import ModelPackage, ModelPackageGroup
from sageyard.train.evaluate.constants import EvalType

if TYPE_CHECKING:
    from sageyard.core.session import Session
    from sageyard.core.shapes import InputData
    from sageyard.evaluation.spec import StepSpec
    from sageyard.train.common import FineTuningOptions
    from sageyard.train.evaluate.execution import EvaluationPipelineExecution

logger = logging.getLogger(__name__)

__all__ = ["BaseEvaluator", "ResolvedModel"]

_MLFLOW_ARN = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:(mlflow-tracking-server|mlflow-app)/.*$"
)
_PACKAGE_ARN = re.compile(r"^arn:aws:sagemaker:[^:]*:[^:]*:model-package/")
#: How long each step may run, as the real SDK's pipeline steps.
MAX_RUNTIME_SECONDS = 86400


@dataclass(frozen=True)
class ResolvedModel:
    """Where the model to evaluate is, and its base model.

    ``custom``: the fine-tuned model's weights (a folder or ``s3://`` URI), None for a
    base model evaluated alone; ``base``: the base model's id or folder (None: unknown).
    """

    custom: str | None
    base: str | None
    package_arn: str | None = None

    @property
    def name(self) -> str:
        return (self.base or self.custom or "model").rstrip("/").rsplit("/", 1)[-1]


class BaseEvaluator(BaseModel):
    """The fields every evaluator takes (the real SDK's ``BaseEvaluator``)."""

    model_config = ConfigDict(
        arbitrary_types_allowed=True, extra="forbid", validate_assignment=True
    )

    region: str | None = None
    role: str | None = None
    sagemaker_session: Any = None
    model: Any
    base_model_name: str | None = None
    base_eval_name: str | None = Field(default=None, validate_default=True)
    s3_output_path: str
    mlflow_resource_arn: str | None = None
    mlflow_experiment_name: str | None = None
    mlflow_run_name: str | None = None
    networking: Any = None
    kms_key_id: str | None = None
    model_package_group: str | ModelPackageGroup | None = None
    tags: list[dict[str, str]] | None = None
    compute: Any = None
    training_image: str | None = None
    recipe: str | None = None
    overrides: dict[str, Any] | None = None

    _latest_execution: Any = PrivateAttr(default=None)
    _hyperparameters: Any = PrivateAttr(default=None)

    # -- field checks (no I/O) ---------------------------------------------------------------

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: Any) -> Any:
        if isinstance(value, str | ModelPackage) or hasattr(value, "latest_training_job"):
            if isinstance(value, str) and not value.strip():
                raise ConfigurationError(
                    "model must not be empty; give a model id, path or package."
                )
            return value
        raise ConfigurationError(
            f"Failed to resolve model: model must be a model id (e.g. "
            f"'HuggingFaceTB/SmolLM2-135M-Instruct'), a local or s3:// model, a ModelPackage "
            f"(object, name or ARN) or a trained SFT/DPO/RLVR/RLAIF trainer; got "
            f"{type(value).__name__}."
        )

    @field_validator("s3_output_path")
    @classmethod
    def _check_output(cls, value: str) -> str:
        if not value.startswith("s3://") or len(value) <= len("s3://"):
            raise ConfigurationError(
                f"s3_output_path must be an s3:// URI where the results go, got {value!r} "
                "(e.g. 's3://my-bucket/evaluations/')."
            )
        return value

    @field_validator("mlflow_resource_arn")
    @classmethod
    def _check_mlflow(cls, value: str | None) -> str | None:
        if value is None or _MLFLOW_ARN.match(value):
            return value
        if value.startswith(("http://", "https://", "file:", "sqlite:")):
            return value  # sageyard: an MLflow tracking URI of your own
        raise ConfigurationError(
            f"Invalid MLFlow resource ARN format: {value}. Expected formats:\n"
            "  - MLflow tracking server: arn:aws[a-z-]*:sagemaker:[region]:[account-id]:"
            "mlflow-tracking-server/[name]\n"
            "  - MLflow app: arn:aws[a-z-]*:sagemaker:[region]:[account-id]:mlflow-app/[app-id]\n"
            "  (or, with sageyard, an MLflow tracking URI such as http://host:5000)"
        )

    @field_validator("base_eval_name")
    @classmethod
    def _default_name(cls, value: str | None, info: Any) -> str:
        """``eval-<model>-<8 hex>`` unless given (the real SDK's rule)."""
        if value is not None:
            if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}", value):
                raise ConfigurationError(
                    f"base_eval_name {value!r} must be letters, digits and hyphens (not at "
                    "either end), at most 256 characters."
                )
            return value
        model = info.data.get("model")
        name = model if isinstance(model, str) else "model"
        name = re.sub(r"[^a-zA-Z0-9-]", "-", name.rstrip("/").rsplit("/", 1)[-1].split("-")[0])
        name = re.sub(r"-+", "-", name).strip("-")[:240] or "model"
        return f"eval-{name}-{str(uuid.uuid4())[:8]}"

    # -- the public surface ------------------------------------------------------------------

    @property
    def hyperparameters(self) -> FineTuningOptions:
        """The generation settings every step gets (``max_new_tokens``, ``temperature``,
        ``top_p``, ``top_k``, ``batch_size``, ``limit``), checked as they are set."""
        if self._hyperparameters is None:
            from sageyard.programs.evaluate.spec import INFERENCE_OPTIONS
            from sageyard.train.common import FineTuningOptions

            options = FineTuningOptions({k: v.as_dict() for k, v in INFERENCE_OPTIONS.items()})
            for name, value in _flat(self.overrides).items():
                setattr(options, name, value)
            self._hyperparameters = options
        return self._hyperparameters

    def get_resolved_recipe(self) -> dict[str, Any]:
        """The inference settings the steps run with (``{"inference": {...}}``)."""
        return {"inference": dict(self.hyperparameters.to_dict())}

    def evaluate(self, dry_run: bool = False) -> EvaluationPipelineExecution | None:
        raise NotImplementedError("Subclasses must implement evaluate method")

    def stream_logs(self, poll: int = 5, start_time: Any = None) -> None:
        """Print the latest evaluation's step logs as they grow, until it ends."""
        execution = self._latest_execution
        if execution is None:
            raise ConfigurationError("No evaluation has been started yet; call evaluate() first.")
        from sageyard.jobs.resource import TrainingJob
        from sageyard.train.client import client_for

        client = client_for(self._session())
        done: set[str] = set()
        while True:
            execution.refresh()
            steps = execution.status.step_details
            pending = [s for s in steps if s.job_arn and s.name not in done]
            for step in pending:
                assert step.job_arn is not None
                job = TrainingJob(step.job_arn.rsplit("/", 1)[-1], client.training_jobs)
                with contextlib.suppress(FailedStatusError):  # the step's status says it
                    job.wait(logs=True, poll=0.2)
                done.add(step.name)
            if not pending:
                if execution.status.overall_status not in ("Executing", "Stopping"):
                    return
                time.sleep(min(max(float(poll), 0.05), 1.0))

    # -- what subclasses build on ------------------------------------------------------------

    def _session(self) -> Session:
        if self.sagemaker_session is None:
            from sageyard.core.session import Session

            self.sagemaker_session = Session(region_name=self.region) if self.region else Session()
        return self.sagemaker_session

    def _resolve_model(self, session: Session) -> ResolvedModel:
        """Where the model is and what its base is.

        Raises:
            ConfigurationError: A trainer that has not trained, a model or package that
                does not exist, an ARN of nothing here.
        """
        model = self.model
        if isinstance(model, ModelPackage):
            return ResolvedModel(
                model.model_artifact_uri, model.base_model, model.model_package_arn
            )
        if not isinstance(model, str):
            return _trained(model, session)
        if model.startswith("s3://"):
            if not session.objects.list(model):
                raise ConfigurationError(
                    f"Failed to resolve model: {model} does not exist; give the model folder "
                    "or model.tar.gz of a completed job (TrainingJob.model_artifacts)."
                )
            return ResolvedModel(model, self.base_model_name)
        folder = Path(model).expanduser()
        if folder.is_dir():
            return ResolvedModel(str(folder.resolve()), self.base_model_name or _base_of(folder))
        from sageyard.jobs.remote import registry_for

        if _PACKAGE_ARN.match(model) or model.count("/") <= 1:
            package = registry_for(session.settings).find_package(model)
            if package is not None:
                return ResolvedModel(
                    package.model_artifact_uri, package.base_model, package.model_package_arn
                )
        if model.startswith("arn:"):
            raise ConfigurationError(
                f"Failed to resolve model: {model!r} names no model package in this registry. "
                "List them with `sageyard models packages`."
            )
        return ResolvedModel(None, model)

    def _base_weights(self, session: Session, resolved: ResolvedModel) -> str:
        """The local folder (or ``s3://`` URI) of the base model's weights.

        Raises:
            ConfigurationError: The base model is unknown or cannot be found.
        """
        base = resolved.base
        if not base:
            raise ConfigurationError(
                "evaluate_base_model=True needs the base model of the model evaluated, which "
                "sageyard cannot tell: pass base_model_name='<model id or folder>'."
            )
        if base.startswith("s3://"):
            return base
        from sageyard.models.hub import resolve_model_path

        return str(resolve_model_path(base, session.settings.home))

    def _step(
        self,
        session: Session,
        *,
        name: str,
        role: str,
        execution_id: str,
        model_source: str | None,
        hyperparameters: dict[str, Any],
        channels: list[InputData],
        depends_on: tuple[str, ...] = (),
        publishes_examples: bool = False,
    ) -> StepSpec:
        """One step: the evaluate program's CreateTrainingJob request for ``model_source``
        (None: a step that reads no model, a judge's)."""
        from sageyard.core.shapes import Compute, InputData, OutputDataConfig, StoppingCondition
        from sageyard.evaluation.spec import StepSpec
        from sageyard.train._fine_tuning import _default_instance_type
        from sageyard.train._request import training_job_request
        from sageyard.train.model_trainer import ModelTrainer

        suffix = re.sub(r"(?<!^)(?=[A-Z])", "-", name.removeprefix("Evaluate")).lower()
        job_name = f"eval-{execution_id}-{suffix}"[:63]
        values = {**self.hyperparameters.to_dict(), **hyperparameters}
        model_channel = []
        if model_source is not None:
            model_channel = [InputData(channel_name="model", data_source=model_source)]
        values.update(self._mlflow(session, suffix))
        trainer = ModelTrainer(
            algorithm_name="evaluate",
            sagemaker_session=session,
            role=self.role,
            base_job_name=job_name,
            compute=self.compute or Compute(instance_type=_default_instance_type()),
            networking=self.networking,
            stopping_condition=StoppingCondition(max_runtime_in_seconds=MAX_RUNTIME_SECONDS),
            output_data_config=OutputDataConfig(
                s3_output_path=self.s3_output_path,
                compression_type="NONE",
                kms_key_id=self.kms_key_id,
            ),
            input_data_config=[*model_channel, *channels],
            hyperparameters=values,
            tags=self.tags or None,
        )
        request = training_job_request(trainer, session)
        request["TrainingJobName"] = job_name  # the exact name: later steps read its output
        request["Sageyard"].pop("BaseJobName", None)
        return StepSpec(
            name=name,
            job_name=job_name,
            request=request,
            depends_on=depends_on,
            model_role=role,
            publishes_examples=publishes_examples,
        )

    def _judge_inputs(self, session: Session, model_id: str) -> tuple[dict[str, Any], list[Any]]:
        """A judge step's hyperparameters and channels: the endpoint
        ``SAGEYARD_JUDGE_ENDPOINTS`` maps ``model_id`` to, else ``model_id`` itself as a
        local judge when it is a model folder or catalog model, else the stand-in
        ``SAGEYARD_LOCAL_JUDGE`` (logged) as the ``judge`` channel."""
        from sageyard.core.shapes import InputData
        from sageyard.models.catalog import catalog_model
        from sageyard.models.hub import resolve_model_path

        endpoints = {m: (url, served) for m, url, served in session.settings.judge_endpoints}
        if model_id in endpoints:
            url, served = endpoints[model_id]
            return {"judge_endpoint": url, "judge_served_model": served}, []
        chosen = model_id
        if not (Path(chosen).expanduser().is_dir() or catalog_model(chosen) is not None):
            chosen = session.settings.local_judge
            logger.info(
                "No judge endpoint for %s: a stand-in judge (%s) will score the answers; map "
                "it with SAGEYARD_JUDGE_ENDPOINTS.",
                model_id,
                chosen,
            )
        folder = resolve_model_path(chosen, session.settings.home)
        channel = InputData(channel_name="judge", data_source=str(folder))
        return {"judge_local_model": chosen}, [channel]

    def _mlflow(self, session: Session, step: str) -> dict[str, str]:
        """The MLflow hyperparameters of a step, when MLflow is asked for: the tracking URI
        (``mlflow_resource_arn``: a tracking URI of yours; else a store under
        ``SAGEYARD_HOME``), the experiment (default: the evaluation's name) and the run
        (``<run name or evaluation name>-<step>``).

        Raises:
            ConfigurationError: ``mlflow_resource_arn`` is a SageMaker ARN (unreachable).
        """
        if not (self.mlflow_resource_arn or self.mlflow_experiment_name or self.mlflow_run_name):
            return {}
        from sageyard.train._fine_tuning import _mlflow_uri, local_mlflow_uri

        uri = (
            _mlflow_uri(self.mlflow_resource_arn)
            if self.mlflow_resource_arn
            else local_mlflow_uri(session.settings.home)
        )
        return {
            "mlflow_tracking_uri": uri,
            "mlflow_experiment_name": self.mlflow_experiment_name or str(self.base_eval_name),
            "mlflow_run_name": f"{self.mlflow_run_name or self.base_eval_name}-{step}",
        }

    def _model_steps(
        self,
        session: Session,
        execution_id: str,
        evaluate_base_model: bool,
        hyperparameters: dict[str, Any],
        channels: list[InputData],
    ) -> tuple[list[StepSpec], ResolvedModel]:
        """``EvaluateBaseModel`` alone for a base model; ``EvaluateCustomModel`` (and
        ``EvaluateBaseModel`` with ``evaluate_base_model``) for a fine-tuned one."""
        models, resolved = self._models(session, evaluate_base_model)
        steps = [
            self._step(
                session,
                name=f"Evaluate{role.title()}Model",
                role=role,
                execution_id=execution_id,
                model_source=weights,
                hyperparameters=hyperparameters,
                channels=channels,
            )
            for role, weights in models
        ]
        return steps, resolved

    def _models(
        self, session: Session, evaluate_base_model: bool
    ) -> tuple[list[tuple[str, str]], ResolvedModel]:
        """The models the steps evaluate, as ``(role, weights)``: the base model alone for a
        base model (the real SDK's base-only pipeline); the fine-tuned one, after its base
        with ``evaluate_base_model``."""
        resolved = self._resolve_model(session)
        models = []
        if resolved.custom is None or evaluate_base_model:
            models.append(("base", self._base_weights(session, resolved)))
        if resolved.custom is not None:
            models.append(("custom", resolved.custom))
        return models, resolved

    @staticmethod
    def _validate_and_resolve_dataset(value: Any) -> Any:
        """A dataset field's check (the real SDK's name): a DataSet (its ARN is read in
        ``evaluate()``), or a non-empty string — an ``s3://`` URI, a local path or a DataSet
        ARN."""
        if hasattr(value, "arn") and not isinstance(value, str):
            return value
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(
                "Dataset must be a string (S3 URI, local path or hub-content DataSet ARN) or "
                f"a DataSet object. Got {type(value).__name__}"
            )
        return value

    def _dataset_rows(self, session: Session, dataset: Any) -> tuple[str, list[dict[str, Any]]]:
        """Where the dataset is, and its rows, each checked as a question (gen-QA or a
        fine-tuning format) before any job.

        Raises:
            ConfigurationError: A row that is not a question (file, line and field).
        """
        from sageyard.ai_registry.dataset import dataset_uri
        from sageyard.models.datasets import read_dataset
        from sageyard.programs.evaluate.genqa import GEN_QA

        source = dataset_uri(dataset)
        return source, read_dataset(source, GEN_QA, session.objects)

    def _start(
        self,
        eval_type: EvalType,
        execution_id: str,
        name: str,
        steps: list[StepSpec],
        summary: dict[str, Any],
        session: Session,
        dry_run: bool,
        prepare: Callable[[], None] | None = None,
    ) -> EvaluationPipelineExecution | None:
        """Check every step, then (unless ``dry_run``) ``prepare`` what the steps read
        (inputs written only once every check passed) and start the evaluation."""
        from sageyard.evaluation.service import pipeline_name
        from sageyard.evaluation.spec import EvaluationSpec
        from sageyard.train.client import client_for
        from sageyard.train.evaluate.execution import EvaluationPipelineExecution

        spec = EvaluationSpec(
            execution_id=execution_id,
            display_name=f"{name}-{execution_id}",
            eval_type=eval_type.value,
            pipeline_name=pipeline_name(session.settings, eval_type.value),
            s3_output_path=self.s3_output_path,
            steps=steps,
            summary=summary,
        )
        client_for(session).evaluations.validate(spec)
        if dry_run:
            logger.info("Dry-run validation passed. No evaluation submitted.")
            return None
        if prepare is not None:
            prepare()
        definition = spec.model_dump(mode="json", exclude={"tags"})
        execution = EvaluationPipelineExecution.start(
            eval_type=eval_type,
            name=spec.display_name,
            pipeline_definition=json.dumps(definition),
            role_arn=self.role or "",
            s3_output_path=self.s3_output_path,
            session=session,
            tags=list(self.tags or []),
        )
        self._latest_execution = execution
        return execution


def _trained(trainer: Any, session: Session) -> ResolvedModel:
    """The output of a fine-tuning trainer's latest job, and the model it started from."""
    job = trainer.latest_training_job
    if job is None:
        raise ConfigurationError(
            f"Failed to resolve model: the {type(trainer).__name__} has not trained yet; call "
            "train() first (or pass the model it produced)."
        )
    job.refresh()
    if job.training_job_status != "Completed" or job.model_artifacts is None:
        raise ConfigurationError(
            f"Failed to resolve model: the {type(trainer).__name__}'s latest job "
            f"{job.training_job_name} is {job.training_job_status}, not Completed; evaluate "
            "a completed job's model."
        )
    _, base = trainer._model_source(session)
    return ResolvedModel(job.model_artifacts.s3_model_artifacts, base)


def _base_of(folder: Path) -> str | None:
    """The base model a fine-tuned model folder names (``sageyard-fine-tuning.json``)."""
    for path in (folder / "sageyard-fine-tuning.json", *folder.glob("*/sageyard-fine-tuning.json")):
        try:
            value = json.loads(path.read_text()).get("base_model")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(value, str) and value:
            return value
    return None


def _flat(overrides: dict[str, Any] | None) -> dict[str, Any]:
    if not overrides:
        return {}
    flat: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return flat
