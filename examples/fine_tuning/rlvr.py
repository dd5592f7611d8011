"""RLVR on SmolLM2-135M-Instruct: GRPO rewarded by a ``lambda_handler`` file, on small sums.

    python examples/fine_tuning/rlvr.py       # ~10 minutes on a 2-core CPU

The example builds its task (``arithmetic_task.py``: ``What is a + b?``, replies ending
``Answer: N``) and writes the reward function the reference's way (per sample:
``event["prompt"]``, ``event["response"]`` → ``{"reward": float}``). ``train()`` first
verifies the function on three rows in a sandboxed worker; the job then runs it in
sandboxed reward workers. It prints the held-out mean reward (greedy replies to sums never
seen in training) before and after.
"""

import tempfile
from pathlib import Path

from arithmetic_task import MODEL_ID, mean_reward, write_rlvr_data
from sentiment_task import base_model_folder, model_from_job

from sageyard.train.rlvr_trainer import RLVRTrainer


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sageyard-rlvr-"))
    train_path, validation_path, reward_file, held_out = write_rlvr_data(work / "data")
    before = mean_reward(base_model_folder(), held_out, reward_file)

    trainer = RLVRTrainer(
        model=MODEL_ID,
        custom_reward_function=str(reward_file),
        training_dataset=str(train_path),
        validation_dataset=str(validation_path),
        accept_eula=True,
    )
    # Scaled to a CPU: 2 prompts x 4 completions a step, short replies.
    trainer.hyperparameters.learning_rate = 5e-4
    trainer.hyperparameters.num_generations = 4
    trainer.hyperparameters.per_device_train_batch_size = 8
    trainer.hyperparameters.per_device_eval_batch_size = 8
    trainer.hyperparameters.max_response_length = 16
    trainer.hyperparameters.max_prompt_length = 64
    trainer.hyperparameters.target_modules = ["all-linear"]
    trainer.hyperparameters.max_steps = 32
    trainer.hyperparameters.logging_steps = 4
    trainer.hyperparameters.eval_steps = 16
    trainer.hyperparameters.save_steps = 100

    try:
        job = trainer.train(wait=True)
        print(f"RLVR training completed: {job.training_job_name}")
    except ValueError as e:
        print(f"Reward function error: {e}")
        raise

    metrics = {m.metric_name: m.value for m in job.final_metric_data_list}
    print(f"train:reward={metrics.get('train:reward')}")
    print(f"validation:reward={metrics.get('validation:reward')}")
    after = mean_reward(model_from_job(job, work / "output"), held_out, reward_file)
    print(f"Held-out mean reward: before {before:.3f}, after {after:.3f} ({len(held_out)} sums)")


if __name__ == "__main__":
    main()
