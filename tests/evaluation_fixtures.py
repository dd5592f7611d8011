"""Small evaluation fixtures written for the tests: MMLU-format data and scripted models.

A scripted model (``config.json`` with ``model_type: sageyard-scripted``) answers from its
``script.json``: the first rule whose ``contains`` is in the prompt gives the response,
else ``default``; so every accuracy in a test is known by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The choices of every fixture question (words no answer text contains by chance).
CHOICES = ("Paris", "Berlin", "Madrid", "Rome")


def write_mmlu(root: Path, subtasks: dict[str, list[int]]) -> Path:
    """``root/mmlu/<subtask>/test.jsonl`` with ``cais/mmlu``'s fields: one question per
    answer index given, ``"<subtask> q<i>?"`` with the choices of ``CHOICES``. Returns ``root``."""
    for subtask, answers in subtasks.items():
        folder = root / "mmlu" / subtask
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "test.jsonl").open("w") as out:
            for index, answer in enumerate(answers):
                row = {
                    "question": f"{subtask} q{index}?",
                    "subject": subtask,
                    "choices": list(CHOICES),
                    "answer": answer,
                }
                out.write(json.dumps(row) + "\n")
    return root


def scripted_model(
    folder: Path, rules: dict[str, str], default: str = "", delay: float = 0.0, **extra: Any
) -> Path:
    """A scripted model folder answering ``rules`` (prompt substring → response)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "sageyard-scripted"}))
    script = {
        "rules": [{"contains": c, "response": r} for c, r in rules.items()],
        "default": default,
        "delay": delay,
        **extra,
    }
    (folder / "script.json").write_text(json.dumps(script))
    return folder
