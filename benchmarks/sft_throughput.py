"""LoRA SFT on SmolLM2-135M-Instruct: a sageyard job against a plain TRL script.

    python benchmarks/sft_throughput.py [--steps 12] [--rounds 2]

Both sides train the same LoRA adapter (r=8, alpha=16, dropout 0.05 on q_proj/v_proj) on
the same 96 prompt/completion rows (in TRL's conversational form, so SmolLM2's chat
template applies and the loss covers completions only), with the same batch size (4),
maximum length (256), learning rate (2e-4), seed and number of optimizer steps, no
evaluation and no checkpoint:

- the job: ``SFTTrainer(model=<converted SmolLM2 folder>).train()``, as a user runs it;
- the script: ``python script.py`` (``subprocess``): TRL's ``SFTTrainer`` with a
  ``peft.LoraConfig``, nothing else.

Throughput is TRL's own token count (``num_tokens``: the non-padding tokens trained on)
over the Trainer's ``train_runtime``, read the same way on both sides (the job reports
them as ``train:num_tokens`` and ``train:runtime``). Peak memory is the training process's
peak resident set (``ru_maxrss``; on a GPU also ``torch.cuda.max_memory_allocated``), each
process reporting its own. The sides run interleaved ``--rounds`` times (the order flips
each round); medians are shown. End-to-end time (start to model saved) is shown as well:
the job's includes staging, its program's start and packaging the model.
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
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 1,
    "learning_rate": 2e-4,
    "max_seq_length": 256,
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

SOURCE = """
import json, resource, sys, time
started = time.perf_counter()
import torch
from datasets import Dataset
from peft import LoraConfig
from trl import SFTConfig, SFTTrainer

model_dir, data_path, out_dir, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = json.loads(sys.argv[5])
rows = [json.loads(line) for line in open(data_path)]
data = Dataset.from_list([
    {"prompt": [{"role": "user", "content": r["prompt"]}],
     "completion": [{"role": "assistant", "content": r["completion"]}]}
    for r in rows
])
cuda = torch.cuda.is_available()
bf16 = cuda and torch.cuda.is_bf16_supported()
args = SFTConfig(
    output_dir=out_dir, max_steps=steps,
    per_device_train_batch_size=s["per_device_train_batch_size"],
    gradient_accumulation_steps=s["gradient_accumulation_steps"],
    learning_rate=s["learning_rate"], max_length=s["max_seq_length"], seed=s["seed"],
    lr_scheduler_type=s["lr_scheduler_type"], warmup_steps=s["warmup_ratio"],
    weight_decay=s["weight_decay"], max_grad_norm=s["max_grad_norm"],
    logging_steps=steps, save_strategy="no", eval_strategy="no", report_to="none",
    disable_tqdm=True, bf16=bf16, optim="adamw_torch",
)
lora = LoraConfig(r=s["lora_r"], lora_alpha=s["lora_alpha"], lora_dropout=s["lora_dropout"],
                  target_modules=s["target_modules"], task_type="CAUSAL_LM")
trainer = SFTTrainer(model=model_dir, args=args, train_dataset=data, peft_config=lora)
result = trainer.train()
trainer.save_model(out_dir + "/adapter")
tokens = max(l.get("num_tokens", 0) for l in trainer.state.log_history)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
gpu = torch.cuda.max_memory_allocated() / 2**20 if cuda else 0.0
print("RESULT " + json.dumps({"num_tokens": tokens, "runtime": result.metrics["train_runtime"],
      "peak_rss_mb": peak, "peak_gpu_mb": gpu, "loss": result.metrics["train_loss"],
      "wall": time.perf_counter() - started}))
"""


def write_data(path: Path, rows: int) -> None:
    words = ["red", "green", "blue", "amber", "violet", "silver", "black", "white"]
    lines = []
    for i in range(rows):
        a, b = words[i % 8], words[(i * 3 + 1) % 8]
        prompt = f"Name the two colours in this list, in order: {a}, {b}."
        lines.append(json.dumps({"prompt": prompt, "completion": f"Colours: {a} and {b}."}))
    path.write_text("\n".join(lines) + "\n")


def run_job(model_dir: Path, data: Path, steps: int) -> dict[str, float]:
    from sageyard.train.sft_trainer import SFTTrainer

    trainer = SFTTrainer(model=str(model_dir), training_dataset=str(data))
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
        "peak_gpu_mb": metrics.get("train:peak_gpu_mb", 0.0),
        "loss": metrics["train:loss"],
        "end_to_end": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import os

    work = Path(tempfile.mkdtemp(prefix="sageyard-sft-bench-"))
    os.environ.setdefault("SAGEYARD_HOME", str(work / "home"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sageyard.core.settings import Settings
    from sageyard.models.hub import resolve_model_path

    model_dir = resolve_model_path("HuggingFaceTB/SmolLM2-135M-Instruct", Settings.from_env().home)
    data = work / "train.jsonl"
    write_data(data, 96)
    tail = [str(args.steps), json.dumps(SETTINGS)]
    runs = interleaved(
        args.rounds,
        {
            SCRIPT: lambda: run_script(SOURCE, [str(model_dir), str(data), *tail], work),
            JOB: lambda: run_job(model_dir, data, args.steps),
        },
        lambda result: f"loss {result['loss']:.4f}",
    )
    title = f"LoRA SFT on SmolLM2-135M-Instruct, {args.steps} steps of 4, medians of {args.rounds}"
    report(runs, title, gpu=True)


if __name__ == "__main__":
    main()
