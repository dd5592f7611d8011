"""Dataset files are checked line by line; errors name the file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sageyard.models.datasets import DatasetError, read_rows


def write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def row(**fields: object) -> str:
    return json.dumps(fields)


def test_sft_rows_prompt_completion_and_chat(tmp_path: Path) -> None:
    file = write(
        tmp_path / "train.jsonl",
        row(prompt="Q: 2+2?", completion="4"),
        "",
        row(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]),
    )
    assert len(read_rows(file, "sft")) == 2


def test_a_folder_reads_every_jsonl_file(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", row(prompt="a", completion="b"))
    write(tmp_path / "b.jsonl", row(prompt="c", completion="d"))
    assert [r["prompt"] for r in read_rows(tmp_path, "sft")] == ["a", "c"]


@pytest.mark.parametrize(
    ("lines", "technique", "message"),
    [
        ([], "sft", r"train.jsonl is empty"),
        (
            [row(prompt="a", completion="b")] * 6 + ["{not json"],
            "sft",
            r"train.jsonl, line 7: not valid JSON",
        ),
        ([row(prompt="a")], "sft", r"line 1: missing field 'completion'"),
        ([row(prompt="a", completion=3)], "sft", r"field 'completion' must be a string, got int"),
        (["[1, 2]"], "sft", r"line 1: expected a JSON object, got list"),
        (
            [row(messages=[{"role": "user", "content": "hi"}])],
            "sft",
            "last of 'messages' must be the assistant",
        ),
        ([row(prompt="a", chosen="b")], "dpo", r"line 1: missing field 'rejected'"),
        (
            [row(prompt="a", chosen="b", rejected="b")] * 3,
            "dpo",
            r"'chosen' equals 'rejected' on every line",
        ),
    ],
)
def test_bad_datasets_name_file_line_and_field(
    tmp_path: Path, lines: list[str], technique: str, message: str
) -> None:
    file = write(tmp_path / "train.jsonl", *lines)
    with pytest.raises(DatasetError, match=message) as error:
        read_rows(file, technique)
    assert isinstance(error.value, ValueError)
    assert str(file) in str(error.value)


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        read_rows(tmp_path / "nope.jsonl", "sft")
    with pytest.raises(DatasetError, match=r"holds no \.jsonl file"):
        read_rows(tmp_path, "sft")
