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

from sageyard.train._fine_tuning import FineTuningTrainer
from sageyard.train.common import CustomizationTechnique

__all__ = ["SFTTrainer"]


class SFTTrainer(FineTuningTrainer):
    """Supervised fine-tuning (LoRA or full) with Hugging Face TRL, run as a training job.

    Args:
        model: A model id (e.g. ``"HuggingFaceTB/SmolLM2-135M-Instruct"``, from the catalog
            or the Hugging Face cache), a local model folder, a ``ModelPackage`` or its
            name/ARN (continue from an earlier fine-tune), or an ``s3://…/model.tar.gz``.
        training_type: ``TrainingType.LORA`` (default) or ``TrainingType.FULL``.
        model_package_group: Register the result as a new version of this group.
        mlflow_resource_arn: MLflow tracking URI (``http://…`` server or local store).
        mlflow_experiment_name: Log the run to MLflow under this experiment.
        mlflow_run_name: The MLflow run's name.
        training_dataset: JSONL rows ``{"prompt", "completion"}`` or chat ``{"messages"}``:
            a local path, an ``s3://`` URI or a ``DataSet``.
        validation_dataset: The same, evaluated every ``eval_steps``.
        s3_output_path: Where the model artifact goes.
        kms_key_id: Recorded with the output settings.
        networking: Network settings for the job.
        accept_eula: Must be True for gated models (their licence is named otherwise).

    The hyperparameters are ``trainer.hyperparameters`` (a FineTuningOptions); the loss
    covers completions only, and chat templates are applied for models that have one.
    """

    TECHNIQUE = CustomizationTechnique.SFT
