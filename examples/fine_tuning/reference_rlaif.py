"""The reference's RLAIF example (built-in metric, then a custom evaluator), on sageyard.

    python examples/fine_tuning/reference_rlaif.py    # a few minutes on a 2-core CPU

Changed from the reference: the imports, the model (SmolLM2-135M-Instruct instead of
Llama-2-7b and CodeLlama-7b), the data paths (prompts written below) and the length of
training, scaled to a CPU. The reference's custom evaluator is a Lambda ARN
(``arn:aws:lambda:...:function:evaluate-code-quality``), which cannot run here; this one
is a reward prompt registered from a template file. No judge endpoint is configured, so a
local stand-in judge scores both runs (the jobs' logs say so).
"""

import json
import os
import tempfile
from pathlib import Path

from sageyard.ai_registry.evaluator import Evaluator
from sageyard.train.rlaif_trainer import RLAIFTrainer

TEMPLATE = """You review code. Rate the quality of this answer to a coding request.
[Request]
{{ prompt }}
[Answer]
{{ response }}
Reply with one line, 'Score: N', N from 0 (worst) to 10 (best)."""


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sageyard-reference-rlaif-"))
    os.chdir(work)
    questions = ["How do I stay safe online?", "How should I store passwords?"]
    code = ["Write a Python function that adds two numbers.", "Reverse a string in Python."]
    Path("prompts.jsonl").write_text(
        "".join(json.dumps({"prompt": q}) + "\n" for q in questions * 2)
    )
    Path("code-prompts.jsonl").write_text(
        "".join(json.dumps({"prompt": c}) + "\n" for c in code * 2)
    )
    Path("code_quality.jinja").write_text(TEMPLATE)

    # Create RLAIF trainer with built-in metric
    trainer = RLAIFTrainer(
        model="HuggingFaceTB/SmolLM2-135M-Instruct",
        model_package_group="rl-models",
        reward_model_id="openai.gpt-oss-120b-1:0",
        reward_prompt="Builtin.Harmlessness",  # Built-in safety metric
        training_dataset="prompts.jsonl",
        accept_eula=True,
    )
    # Configure training
    trainer.hyperparameters.epochs = 3
    trainer.hyperparameters.learning_rate = 1e-5
    trainer.hyperparameters.max_response_length = 24  # CPU scale
    trainer.hyperparameters.judge_max_tokens = 6
    trainer.hyperparameters.max_steps = 2
    # Train with AI feedback
    try:
        job = trainer.train(wait=True)
        print(f"RLAIF training completed: {job.training_job_name}")
    except ValueError as e:
        if "reward_model_id" in str(e):
            print("Invalid reward model ID or not available in your region")
        raise

    # Create custom evaluator
    evaluator = Evaluator.create(
        name="code-quality-evaluator",
        type="RewardPrompt",
        source="code_quality.jinja",
        wait=True,
    )
    # Use custom evaluator for domain-specific rewards
    trainer = RLAIFTrainer(
        model="HuggingFaceTB/SmolLM2-135M-Instruct",
        reward_model_id="openai.gpt-oss-120b-1:0",
        reward_prompt=evaluator,  # Custom evaluator
        training_dataset="code-prompts.jsonl",
        accept_eula=True,
    )
    trainer.hyperparameters.max_response_length = 24  # CPU scale
    trainer.hyperparameters.judge_max_tokens = 6
    trainer.hyperparameters.max_steps = 2
    job = trainer.train()
    print(f"RLAIF training completed: {job.training_job_name}")


if __name__ == "__main__":
    main()
