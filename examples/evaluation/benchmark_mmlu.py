"""Benchmark a catalog model on MMLU, offline, on a small MMLU-format folder written here.

    python examples/evaluation/benchmark_mmlu.py      # a few minutes on a 2-core CPU

The folder holds two of MMLU's subjects in the layout of the Hugging Face dataset
``cais/mmlu`` (``mmlu/<subject>/test.jsonl`` with the fields question, subject, choices,
answer); ``SAGEYARD_BENCHMARK_DATA`` points sageyard at it (put the real dataset there to
run all 57 subjects). The evaluation runs as a sageyard job that scores the model with
lm-evaluation-harness's zero-shot chain-of-thought MMLU task; every example's output,
extracted answer and score is saved, and the accuracy is recomputed from them below.
"""

import json
import os
import tempfile
from pathlib import Path

QUESTIONS = {
    "high_school_geography": [
        ("What is the capital of France?", ["Berlin", "Madrid", "Paris", "Rome"], 2),
        ("Which ocean is the largest?", ["Atlantic", "Pacific", "Indian", "Arctic"], 1),
        ("On which continent is Egypt?", ["Asia", "Europe", "Africa", "Oceania"], 2),
        ("Which river flows through London?", ["Thames", "Seine", "Danube", "Nile"], 0),
        ("What is the capital of Japan?", ["Osaka", "Kyoto", "Seoul", "Tokyo"], 3),
        ("Which country has the most people?", ["India", "Canada", "Chile", "Norway"], 0),
    ],
    "elementary_mathematics": [
        ("What is 7 + 5?", ["10", "11", "12", "13"], 2),
        ("What is 9 x 3?", ["27", "24", "21", "30"], 0),
        ("What is 100 - 45?", ["65", "55", "45", "35"], 1),
        ("What is half of 18?", ["6", "8", "9", "12"], 2),
        ("How many sides does a triangle have?", ["2", "3", "4", "5"], 1),
        ("What is 8 squared?", ["16", "32", "48", "64"], 3),
    ],
}


def write_mmlu(root: Path) -> Path:
    for subject, rows in QUESTIONS.items():
        folder = root / "mmlu" / subject
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "test.jsonl").open("w") as out:
            for question, choices, answer in rows:
                row = {"question": question, "subject": subject, "choices": choices}
                out.write(json.dumps({**row, "answer": answer}) + "\n")
    return root


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sageyard-mmlu-"))
    os.environ["SAGEYARD_BENCHMARK_DATA"] = str(write_mmlu(work / "benchmarks"))

    from sageyard.train import BenchMarkEvaluator, get_benchmarks

    Benchmark = get_benchmarks()
    evaluator = BenchMarkEvaluator(
        benchmark=Benchmark.MMLU,
        subtasks=list(QUESTIONS),
        model="HuggingFaceTB/SmolLM2-135M-Instruct",
        s3_output_path="s3://my-bucket/evaluations/",
    )
    evaluator.hyperparameters.max_new_tokens = 128  # the chain of thought, short
    evaluator.hyperparameters.batch_size = 6

    execution = evaluator.evaluate()
    execution.wait()
    execution.show_results()

    [found] = execution.step_results().values()
    scores = [example["score"] for example in found.examples]
    print(f"MMLU accuracy: {found.metrics['accuracy']:.3f} over {len(scores)} questions")
    print(f"Recomputed from the saved examples: {sum(scores) / len(scores):.3f}")
    example = found.examples[0]
    print(f"First answer: {example['prediction'][:120]!r} -> {example['extracted']}")


if __name__ == "__main__":
    main()
