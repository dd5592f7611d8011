"""MMLU on SmolLM2-135M-Instruct: a sageyard evaluation against lm-evaluation-harness's CLI.

    python benchmarks/eval_throughput.py [--questions 48] [--max-new-tokens 64] [--batch 8]

Both sides score the same local MMLU-format questions (``cais/mmlu``'s fields, written
here: sums with four choices, in two subjects) with the same task, lm-eval's zero-shot
chain-of-thought MMLU (``mmlu_flan_cot_zeroshot``), on the same model folder, with the same
generation settings (greedy, SmolLM2's chat template, ``--max-new-tokens``, ``--batch``
prompts at a time, the task's stop strings):

- sageyard: ``BenchMarkEvaluator(benchmark=MMLU, subtasks=[...]).evaluate().wait()``, as a
  user runs it — a pipeline whose step is a job of the evaluate program;
- lm-eval: ``python -m lm_eval --model hf ... --apply_chat_template`` on a task YAML that
  includes lm-eval's own MMLU template and reads the same files.

Each side's wall time runs from its start to its results (model loading, lm-eval's task
set-up and, for sageyard, the job's start included); questions per second is the number
scored over it. Both accuracies are printed with the number of questions on which the
two extracted answers differ; they must agree.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SUBJECTS = ("elementary_mathematics", "high_school_mathematics")
MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def write_questions(root: Path, count: int) -> dict[str, Path]:
    """``root/mmlu/<subject>/test.jsonl``: ``count`` sums split over the subjects."""
    rng = random.Random(0)
    files = {}
    for index, subject in enumerate(SUBJECTS):
        folder = root / "mmlu" / subject
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for _ in range(count // len(SUBJECTS) + (index < count % len(SUBJECTS))):
            a, b = rng.randint(2, 60), rng.randint(2, 60)
            right = a + b
            wrong = rng.sample([right - 2, right - 1, right + 1, right + 2, right + 10], 3)
            choices = [str(v) for v in [right, *wrong]]
            rng.shuffle(choices)
            rows.append(
                {
                    "question": f"What is {a} + {b}?",
                    "subject": subject,
                    "choices": choices,
                    "answer": choices.index(str(right)),
                }
            )
        files[subject] = folder / "test.jsonl"
        files[subject].write_text("".join(json.dumps(row) + "\n" for row in rows))
    return files


def run_sageyard(root: Path, max_new_tokens: int, batch: int) -> dict[str, Any]:
    os.environ["SAGEYARD_BENCHMARK_DATA"] = str(root)
    from sageyard.train import BenchMarkEvaluator, get_benchmarks

    evaluator = BenchMarkEvaluator(
        benchmark=get_benchmarks().MMLU,
        subtasks=list(SUBJECTS),
        model=MODEL_ID,
        s3_output_path="s3://benchmarks/eval-throughput/",
    )
    evaluator.hyperparameters.max_new_tokens = max_new_tokens
    evaluator.hyperparameters.batch_size = batch
    started = time.perf_counter()
    execution = evaluator.evaluate()
    assert execution is not None
    execution.wait(poll=1)
    wall = time.perf_counter() - started
    [found] = execution.step_results().values()
    answers = {(e["subtask"], e["doc_id"]): e["extracted"] for e in found.examples}
    return {"wall": wall, "accuracy": found.metrics["accuracy"], "answers": answers}


def run_lm_eval(
    files: dict[str, Path], model: Path, work: Path, max_new_tokens: int, batch: int
) -> dict[str, Any]:
    import lm_eval.tasks

    template = (
        Path(lm_eval.tasks.__file__).parent
        / "mmlu/flan_cot_zeroshot/_mmlu_flan_cot_zeroshot_template_yaml"
    )
    tasks = work / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    names = []
    for subject, path in files.items():
        name = f"bench_mmlu_{subject}"
        names.append(name)
        description = (
            "The following are multiple choice questions (with answers) about "
            f"{subject.replace('_', ' ')}.\n\n"
        )
        config = {
            "include": str(template),
            "task": name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"test": str(path)}},
            "test_split": "test",
            "validation_split": None,
            "fewshot_split": None,
            "description": description,
        }
        (tasks / f"{name}.yaml").write_text(json.dumps(config))  # JSON is YAML
    output = work / "lm-eval-output"
    command = [
        sys.executable,
        "-m",
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model},dtype=float32",
        "--tasks",
        ",".join(names),
        "--include_path",
        str(tasks),
        "--apply_chat_template",
        "--gen_kwargs",
        f"max_gen_toks={max_new_tokens}",
        "--batch_size",
        str(batch),
        "--device",
        "cpu",
        "--log_samples",
        "--output_path",
        str(output),
    ]
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    env["HF_DATASETS_CACHE"] = str(work / "hf-datasets")
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"lm_eval failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    answers: dict[tuple[str, int], str] = {}
    scores = []
    for path in output.rglob("samples_*.jsonl"):
        subject = next(s for s in SUBJECTS if path.name.startswith(f"samples_bench_mmlu_{s}_"))
        for line in path.read_text().splitlines():
            sample = json.loads(line)
            if sample.get("filter") != "flexible-extract":
                continue
            answers[(subject, sample["doc_id"])] = sample["filtered_resps"][0]
            scores.append(float(sample["exact_match"]))
    return {"wall": wall, "accuracy": sum(scores) / len(scores), "answers": answers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=48)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sageyard-eval-bench-"))
    os.environ.setdefault("SAGEYARD_HOME", str(work / "home"))
    files = write_questions(work / "benchmarks", args.questions)

    from sageyard.core.settings import Settings
    from sageyard.models.hub import resolve_model_path

    model = resolve_model_path(MODEL_ID, Settings.from_env().home)  # converted once
    ours = run_sageyard(work / "benchmarks", args.max_new_tokens, args.batch)
    theirs = run_lm_eval(files, model, work, args.max_new_tokens, args.batch)
    differ = sum(1 for key, value in ours["answers"].items() if theirs["answers"].get(key) != value)
    n = len(ours["answers"])
    print(f"questions: {n}, max_new_tokens: {args.max_new_tokens}, batch: {args.batch}")
    for label, found in (("sageyard", ours), ("lm-eval CLI", theirs)):
        print(
            f"{label:12s} accuracy {found['accuracy']:.4f}  wall {found['wall']:.1f} s  "
            f"{n / found['wall']:.3f} questions/s"
        )
    print(f"answers that differ: {differ} of {n}")
    print(f"throughput ratio (sageyard / lm-eval): {theirs['wall'] / ours['wall']:.3f}")
    if abs(ours["accuracy"] - theirs["accuracy"]) > 1e-9:
        raise SystemExit("the accuracies disagree")


if __name__ == "__main__":
    main()
