"""``DPOTrainer``: direct preference optimisation of a foundation model, as a training job.

Example:
    >>> from sageyard.train.dpo_trainer import DPOTrainer
    >>> trainer = DPOTrainer(
    ...     model="HuggingFaceTB/SmolLM2-135M-Instruct", training_dataset="pairs.jsonl"
    ... )
    >>> trainer.hyperparameters.beta = 0.1
    >>> job = trainer.train()  # doctest: +SKIP
"""

from __future__ import annotations

from sageyard.train._fine_tuning import FineTuningTrainer
from sageyard.train.common import CustomizationTechnique

__all__ = ["DPOTrainer"]


class DPOTrainer(FineTuningTrainer):
    """Direct Preference Optimization (LoRA or full) with Hugging Face TRL, as a training job.

    Takes the same arguments as :class:`~sageyard.train.sft_trainer.SFTTrainer`, in the real
    SDK's order, less ``data_mixing_config`` (see
    :class:`~sageyard.train._fine_tuning.FineTuningTrainer` for each one); its dataset
    rows are ``{"prompt", "chosen", "rejected"}``, and ``hyperparameters.beta`` (default
    0.1) sets how far the policy may move from the reference model. The job reports
    ``train:reward_margin`` and, with a validation dataset, ``validation:reward_margin`` and
    ``validation:reward_accuracy``.
    """

    TECHNIQUE = CustomizationTechnique.DPO
