"""LoRA GRPO (RLVR) on SmolLM2-135M-Instruct: a sageyard job against a plain TRL script.

    python benchmarks/grpo_throughput.py [--steps 6] [--rounds 2]

Both sides train the same LoRA adapter (r=8, alpha=16, dropout 0.05 on q_proj/v_proj)
with TRL's ``GRPOTrainer`` on the same 32 prompts (chat form, SmolLM2's template), with
the same batch (8 completions a step: 2 prompts x 4 generations), completion length (32),
temperature (1.0), beta (0.04), learning rate (5e-5), seed and number of steps, no
evaluation and no checkpoint, rewarded by the same function (the share of a completion's
characters that are lowercase letters or spaces):

- the job: ``RLVRTrainer(model=<converted SmolLM2 folder>, custom_reward_function=<file>)
  .train()``, as a user runs it — the function verified before the job, then run in two
  sandboxed reward workers;
- the script: ``python script.py``: ``GRPOTrainer`` with the function in-process.

Throughput is TRL's own token count (``num_tokens``: prompt and completion tokens, the
ones generated and trained on) over the Trainer's ``train_runtime``, read the same way on
both sides (the job reports ``train:num_tokens`` and ``train:runtime``). Peak memory is
the training process's peak resident set (``ru_maxrss``), each process reporting its own
(the job's reward workers are processes of their own, not counted). Interleaved
``--rounds`` times, the order flipping each round; medians.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _trl_comparison import JOB, SCRIPT, interleaved, report, run_script

SETTINGS: dict[str, Any] = {
    "per_device_train_batch_size": 8,
    "gradient_accumulation_steps": 1,
    "num_generations": 4,
    "max_response_length": 32,
    "temperature": 1.0,
    "beta": 0.04,
    "learning_rate": 5e-5,
    "lora_r": 8,
    "lora_alpha": 16,
    "lora_dropout": 0.05,
    "target_modules": ["q_proj", "v_proj"],
    "seed": 42,
    "lr_scheduler_type": "linear",
    "warmup_ratio": 0.0,
    "weight_decay": 0.0,
    "max_grad_norm": 1.0,
}

REWARD = """
def lambda_handler(event, context):
    text = event["response"]
    letters = sum(c in "abcdefghijklmnopqrstuvwxyz " for c in text)
    return {"reward": letters / max(len(text), 1)}
"""

SOURCE = """
import json, resource, sys, time
started = time.perf_counter()
import torch
from datasets import Dataset
from peft import LoraConfig
from trl import GRPOConfig, GRPOTrainer

model_dir, data_path, out_dir, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = json.loads(sys.argv[5])
rows = [json.loads(line) for line in open(data_path)]
data = Dataset.from_list([{"prompt": [{"role": "user", "content": r["prompt"]}]} for r in rows])

def lowercase(completions, **kwargs):
    texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
    return [sum(ch in "abcdefghijklmnopqrstuvwxyz " for ch in t) / max(len(t), 1) for t in texts]

cuda = torch.cuda.is_available()
args = GRPOConfig(
    output_dir=out_dir, max_steps=steps,
    per_device_train_batch_size=s["per_device_train_batch_size"],
    gradient_accumulation_steps=s["gradient_accumulation_steps"],
    num_generations=s["num_generations"], max_completion_length=s["max_response_length"],
    temperature=s["temperature"], beta=s["beta"],
    learning_rate=s["learning_rate"], seed=s["seed"],
    lr_scheduler_type=s["lr_scheduler_type"], warmup_steps=s["warmup_ratio"],
    weight_decay=s["weight_decay"], max_grad_norm=s["max_grad_norm"],
    logging_steps=steps, save_strategy="no", eval_strategy="no", report_to="none",
    disable_tqdm=True, optim="adamw_torch", bf16=cuda and torch.cuda.is_bf16_supported(),
)
lora = LoraConfig(r=s["lora_r"], lora_alpha=s["lora_alpha"], lora_dropout=s["lora_dropout"],
                  target_modules=s["target_modules"], task_type="CAUSAL_LM")
trainer = GRPOTrainer(model=model_dir, reward_funcs=lowercase, args=args, train_dataset=data,
                      peft_config=lora)
result = trainer.train()
trainer.save_model(out_dir + "/adapter")
logs = trainer.state.log_history
tokens = max(l.get("num_tokens", 0) for l in logs)
reward = [l["reward"] for l in logs if "reward" in l][-1]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps({"num_tokens": tokens, "runtime": result.metrics["train_runtime"],
      "peak_rss_mb": peak, "reward": reward, "wall": time.perf_counter() - started}))
"""

WORDS = ["river", "lantern", "maple", "harbor", "quartz", "meadow", "falcon", "ember"]


def write_data(path: Path, rows: int) -> None:
    lines = []
    for i in range(rows):
        a, b = WORDS[i % 8], WORDS[(i * 3 + 1) % 8]
        lines.append(json.dumps({"prompt": f"Write one short sentence about a {a} and a {b}."}))
    path.write_text("\n".join(lines) + "\n")


def run_job(model_dir: Path, data: Path, reward: Path, steps: int) -> dict[str, float]:
    from sageyard.train.rlvr_trainer import RLVRTrainer

    trainer = RLVRTrainer(
        model=str(model_dir), custom_reward_function=str(reward), training_dataset=str(data)
    )
    for name, value in SETTINGS.items():
        setattr(trainer.hyperparameters, name, value)
    trainer.hyperparameters.max_steps = steps
    trainer.hyperparameters.logging_steps = steps
    trainer.hyperparameters.save_steps = steps * 10
    started = time.perf_counter()
    job = trainer.train(wait=True)
    wall = time.perf_counter() - started
    metrics = {m.metric_name: m.value for m in job.final_metric_data_list}
    return {
        "num_tokens": metrics["train:num_tokens"],
        "runtime": metrics["train:runtime"],
        "peak_rss_mb": metrics["train:peak_rss_mb"],
        "reward": metrics["train:reward"],
        "end_to_end": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import os

    work = Path(tempfile.mkdtemp(prefix="sageyard-grpo-bench-"))
    os.environ.setdefault("SAGEYARD_HOME", str(work / "home"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sageyard.core.settings import Settings
    from sageyard.models.hub import resolve_model_path

    model_dir = resolve_model_path("HuggingFaceTB/SmolLM2-135M-Instruct", Settings.from_env().home)
    data = work / "prompts.jsonl"
    write_data(data, 32)
    reward = work / "reward.py"
    reward.write_text(REWARD)
    tail = [str(args.steps), json.dumps(SETTINGS)]
    runs = interleaved(
        args.rounds,
        {
            SCRIPT: lambda: run_script(SOURCE, [str(model_dir), str(data), *tail], work),
            JOB: lambda: run_job(model_dir, data, reward, args.steps),
        },
        lambda result: f"reward {result['reward']:.3f}",
    )
    title = f"LoRA GRPO on SmolLM2-135M-Instruct, {args.steps} steps of 8, medians of {args.rounds}"
    report(runs, title)


if __name__ == "__main__":
    main()
