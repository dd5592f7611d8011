"""A verifiable task for the reinforcement fine-tuning examples: small sums, fixed format.

Prompts ask for ``a + b`` with the reply ending ``Answer: N``. The reward function (the
reference's per-sample contract: ``event["prompt"]``, ``event["response"]``, and the row's
``reference_answer``) gives 0.5 for the format and 0.5 for the right sum as the reply's
last number, so it is dense enough for GRPO's groups to differ. SmolLM2-135M-Instruct
rarely uses the format and is often wrong; held-out sums are ones never seen in training.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"

REWARD_FUNCTION = '''
import re


def lambda_handler(event, context):
    """Reward a sum: 0.5 for ending with 'Answer: N', 0.5 for N (the last number) right."""
    response = event["response"]
    expected = int(event["reference_answer"])
    formatted = re.search(r"Answer:\\s*(-?\\d+)\\s*\\.?\\s*$", response.strip()) is not None
    numbers = re.findall(r"-?\\d+", response)
    correct = bool(numbers) and int(numbers[-1]) == expected
    return {"reward": 0.5 * formatted + 0.5 * correct, "formatted": float(formatted)}
'''


def _rows(pairs: list[tuple[int, int]]) -> list[dict[str, Any]]:
    return [
        {
            "prompt": f"What is {a} + {b}? End your reply with 'Answer: N'.",
            "reference_answer": str(a + b),
        }
        for a, b in pairs
    ]


def write_rlvr_data(folder: Path) -> tuple[Path, Path, Path, list[dict[str, Any]]]:
    """train.jsonl, validation.jsonl, reward_function.py, and the held-out rows."""
    pairs = [(a, b) for a in range(1, 10) for b in range(1, 10)]
    random.Random(0).shuffle(pairs)
    folder.mkdir(parents=True, exist_ok=True)
    train, validation = folder / "train.jsonl", folder / "validation.jsonl"
    _write(train, _rows(pairs[:48]))
    _write(validation, _rows(pairs[48:56]))
    reward = folder / "reward_function.py"
    reward.write_text(REWARD_FUNCTION.lstrip())
    return train, validation, reward, _rows(pairs[56:72])


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def mean_reward(model_dir: Path, rows: list[dict[str, Any]], reward_file: Path) -> float:
    """The reward function's mean over greedy replies to ``rows``."""
    import runpy

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    handler = runpy.run_path(str(reward_file))["lambda_handler"]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    total = 0.0
    for row in rows:
        ids = tokenizer.apply_chat_template(
            [{"role": "user", "content": row["prompt"]}],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        )
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=16, do_sample=False)
        reply = tokenizer.decode(out[0][ids["input_ids"].shape[1] :], skip_special_tokens=True)
        total += handler({**row, "response": reply}, None)["reward"]
    return total / len(rows)
