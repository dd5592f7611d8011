"""``SFTTrainer``: supervised fine-tuning of a foundation model, as a training job.

Example:
    >>> from sageyard.train.sft_trainer import SFTTrainer
    >>> from sageyard.train.common import TrainingType
    >>> trainer = SFTTrainer(
    ...     model="HuggingFaceTB/SmolLM2-135M-Instruct",
    ...     training_type=TrainingType.LORA,
    ...     training_dataset="train.jsonl",
    ... )
    >>> trainer.hyperparameters.lora_r = 16
    >>> job = trainer.train()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.session import Session
from sageyard.core.shapes import (
    Channel,
    CheckpointConfig,
    Compute,
    InputData,
    Networking,
    OutputDataConfig,
    StoppingCondition,
    Tag,
)
from sageyard.models.registry import ModelPackage, ModelPackageGroup
from sageyard.train._fine_tuning import FineTuningTrainer
from sageyard.train.common import CustomizationTechnique, TrainingType

__all__ = ["SFTTrainer"]


class SFTTrainer(FineTuningTrainer):
    """Supervised fine-tuning (LoRA or full) with Hugging Face TRL, run as a training job.

    The parameters are the real SDK's, in its order (see
    :class:`~sageyard.train._fine_tuning.FineTuningTrainer` for each one); SFT's own is
    ``data_mixing_config``, after ``is_multimodal``, refused when set (sageyard's program
    trains on one dataset).

    Args:
        model: A model id (e.g. ``"HuggingFaceTB/SmolLM2-135M-Instruct"``, from the catalog
            or the Hugging Face cache), a local model folder, a ``ModelPackage`` or its
            name/ARN (continue from an earlier fine-tune), or an ``s3://…/model.tar.gz``.
        training_type: ``TrainingType.LORA`` (default) or ``TrainingType.FULL``.
        training_dataset: JSONL rows ``{"prompt", "completion"}`` or chat ``{"messages"}``:
            a local path, an ``s3://`` URI or a ``DataSet``.
        validation_dataset: The same, evaluated every ``eval_steps``.

    The hyperparameters are ``trainer.hyperparameters`` (a FineTuningOptions); the loss
    covers completions only, and chat templates are applied for models that have one.
    """

    TECHNIQUE = CustomizationTechnique.SFT

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
        data_mixing_config: Any = None,
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
        if data_mixing_config is not None:
            raise ConfigurationError(
                f"data_mixing_config={data_mixing_config!r} is not supported by sageyard's SFT "
                "program (it trains on one dataset, no HyperPod data mixing); leave it out and "
                "mix the rows into training_dataset yourself."
            )
        self.data_mixing_config = data_mixing_config
        super().__init__(
            model,
            training_type,
            model_package_group,
            compute,
            mlflow_resource_arn,
            mlflow_experiment_name,
            mlflow_run_name,
            training_dataset,
            validation_dataset,
            s3_output_path,
            kms_key_id,
            networking,
            accept_eula,
            stopping_condition,
            sequence_length,
            recipe,
            overrides,
            is_multimodal,
            base_model_name,
            disable_output_compression,
            notifications,
            sagemaker_session=sagemaker_session,
            role=role,
            base_job_name=base_job_name,
            tags=tags,
            hyperparameters=hyperparameters,
            output_data_config=output_data_config,
            input_data_config=input_data_config,
            environment=environment,
            training_image=training_image,
            checkpoint_config=checkpoint_config,
        )
