"""RLAIF on SmolLM2-135M-Instruct: GRPO rewarded by a judge under ``Builtin.Conciseness``.

    python examples/fine_tuning/rlaif.py      # ~5 minutes on a 2-core CPU

No judge endpoint is configured here, so a stand-in judge scores the run: the local model
``SAGEYARD_LOCAL_JUDGE`` (SmolLM2-135M-Instruct by default), run inside the job — the job's
log says so. For real judgements, serve a judge behind an OpenAI-compatible endpoint (vLLM,
llama.cpp's server, Ollama) and map the reward model to it::

    export SAGEYARD_JUDGE_ENDPOINTS='{"openai.gpt-oss-20b-1:0":
        {"url": "http://127.0.0.1:8000/v1", "model": "openai/gpt-oss-20b"}}'

The example prints the judge's mean score of the first and last logged steps, and how many
answers it could not read as a score (those count as reward 0).
"""

import json
import tempfile
from pathlib import Path

from sageyard.train.rlaif_trainer import RLAIFTrainer

MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
THINGS = ["comet", "violin", "glacier", "compiler", "volcano", "library", "bridge", "tulip"]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sageyard-rlaif-"))
    train = work / "prompts.jsonl"
    rows = [{"prompt": f"In one sentence, what is a {thing}?"} for thing in THINGS]
    train.write_text("".join(json.dumps(row) + "\n" for row in rows))

    trainer = RLAIFTrainer(
        model=MODEL_ID,
        reward_model_id="openai.gpt-oss-20b-1:0",
        reward_prompt="Builtin.Conciseness",
        training_dataset=str(train),
        accept_eula=True,
    )
    trainer.hyperparameters.learning_rate = 1e-4
    trainer.hyperparameters.num_generations = 4
    trainer.hyperparameters.per_device_train_batch_size = 4
    trainer.hyperparameters.max_response_length = 24
    trainer.hyperparameters.max_prompt_length = 64
    trainer.hyperparameters.judge_max_tokens = 6
    trainer.hyperparameters.max_steps = 6
    trainer.hyperparameters.logging_steps = 1
    trainer.hyperparameters.save_steps = 100

    try:
        job = trainer.train(wait=True)
        print(f"RLAIF training completed: {job.training_job_name}")
    except ValueError as e:
        if "reward_model_id" in str(e):
            print("Invalid reward model ID or not available in your region")
        raise

    rewards = [m.value for m in job.metrics() if m.metric_name == "train:reward"]
    errors = [m.value for m in job.metrics() if m.metric_name == "train:reward_errors"]
    print(f"Judge's mean score: first step {rewards[0]:.3f}, last step {rewards[-1]:.3f}")
    print(f"Answers without a score (reward 0): {sum(errors):.0f} over {len(errors)} steps")


if __name__ == "__main__":
    main()
