"""Fine-tuning datasets: JSONL rows checked line by line, the same way before and in a job.

SFT rows hold ``prompt`` and ``completion`` strings, or chat ``messages`` whose last message
is the assistant's. DPO rows hold ``prompt``, ``chosen`` and ``rejected`` strings. Every
problem names the file, the line and the field, so a bad dataset fails before any job starts.

Example:
    >>> rows = read_rows(Path("train.jsonl"), "sft")  # doctest: +SKIP
    >>> rows[0]["completion"]  # doctest: +SKIP
    'Paris'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROLES = ("system", "user", "assistant")

_FORMATS = {
    "sft": '{"prompt": "...", "completion": "..."} or {"messages": [{"role": "user", ...}, ...]}',
    "dpo": '{"prompt": "...", "chosen": "...", "rejected": "..."}',
}


class DatasetError(ValueError):
    """A dataset file that cannot be used: the message names file, line and field."""


def dataset_files(path: Path) -> list[Path]:
    """The JSONL files of a dataset: the file itself, or the ``*.jsonl`` files of a folder."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.jsonl") if p.is_file())
        if not files:
            raise DatasetError(f"The dataset folder {path} holds no .jsonl file.")
        return files
    if not path.is_file():
        raise DatasetError(f"The dataset {path} does not exist.")
    return [path]


def read_rows(path: Path, technique: str) -> list[dict[str, Any]]:
    """Every row of the dataset at ``path`` (a file or folder), checked for ``technique``.

    Raises:
        DatasetError: (a ValueError) The first problem found, with file and line number.
    """
    if technique not in _FORMATS:
        raise ValueError(f"No dataset format for technique {technique!r}.")
    rows: list[dict[str, Any]] = []
    for file in dataset_files(path):
        rows.extend(_read_file(file, technique))
    if technique == "dpo" and rows and all(row["chosen"] == row["rejected"] for row in rows):
        raise DatasetError(
            f"In the dataset {path}, 'chosen' equals 'rejected' on every line, so there is no "
            "preference to learn. Each row needs a preferred and a worse answer."
        )
    return rows


def _read_file(file: Path, technique: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with file.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(
                    f"{file}, line {number}: not valid JSON ({error.msg} at column "
                    f"{error.colno}). Each line must be one JSON object: {_FORMATS[technique]}."
                ) from None
            if not isinstance(row, dict):
                raise DatasetError(
                    f"{file}, line {number}: expected a JSON object, got "
                    f"{type(row).__name__}. Each line must be: {_FORMATS[technique]}."
                )
            problem = _check_sft(row) if technique == "sft" else _check_dpo(row)
            if problem:
                raise DatasetError(f"{file}, line {number}: {problem}")
            rows.append(row)
    if not rows:
        raise DatasetError(
            f"The dataset file {file} is empty. It needs one JSON object per line: "
            f"{_FORMATS[technique]}."
        )
    return rows


def _check_sft(row: dict[str, Any]) -> str | None:
    if "messages" in row:
        return _check_messages(row["messages"])
    return _check_strings(row, ("prompt", "completion"), "SFT rows need")


def _check_dpo(row: dict[str, Any]) -> str | None:
    return _check_strings(row, ("prompt", "chosen", "rejected"), "DPO rows need")


def _check_strings(row: dict[str, Any], fields: tuple[str, ...], need: str) -> str | None:
    wanted = ", ".join(repr(f) for f in fields)
    for field in fields:
        if field not in row:
            alternative = " (or chat 'messages')" if need.startswith("SFT") else ""
            return f"missing field {field!r}; {need} {wanted}{alternative}."
        value = row[field]
        if not isinstance(value, str):
            return f"field {field!r} must be a string, got {type(value).__name__} ({value!r:.60})."
        if field != "prompt" and not value.strip():
            return f"field {field!r} is empty."
    return None


def _check_messages(messages: Any) -> str | None:
    if not isinstance(messages, list) or not messages:
        return "field 'messages' must be a non-empty list of {'role', 'content'} objects."
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not {"role", "content"} <= set(message):
            return f"messages[{index}] must be an object with 'role' and 'content'."
        if message["role"] not in ROLES:
            return f"messages[{index}] has role {message['role']!r}; use one of {', '.join(ROLES)}."
        if not isinstance(message["content"], str):
            return f"messages[{index}].content must be a string."
    if messages[-1]["role"] != "assistant":
        return "the last of 'messages' must be the assistant's answer (role 'assistant')."
    if len(messages) < 2:
        return "'messages' needs at least one message before the assistant's answer."
    return None
