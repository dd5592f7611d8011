"""Dataset files are checked line by line; errors name the file, line and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sageyard.models.datasets import DatasetError, DatasetFormat, read_dataset


def write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def row(**fields: object) -> str:
    return json.dumps(fields)


def _text_row(row: dict[str, Any]) -> str | None:
    return None if isinstance(row.get("text"), str) else "missing field 'text'."


def _not_all_the_same(path: Path, rows: list[dict[str, Any]]) -> None:
    if len({r["text"] for r in rows}) == 1:
        raise DatasetError(f"In the dataset {path}, every 'text' is the same.")


TEXT = DatasetFormat(example='{"text": "..."}', check_row=_text_row, check_rows=_not_all_the_same)


def test_a_file_reads_every_row_and_skips_blank_lines(tmp_path: Path) -> None:
    file = write(tmp_path / "train.jsonl", row(text="a"), "", row(text="b", extra=1))
    assert TEXT.read(file) == [{"text": "a"}, {"text": "b", "extra": 1}]


def test_a_folder_reads_every_jsonl_file(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", row(text="a"))
    write(tmp_path / "b.jsonl", row(text="c"))
    (tmp_path / "notes.txt").write_text("not a dataset")
    assert [r["text"] for r in TEXT.read(tmp_path)] == ["a", "c"]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], r"train.jsonl is empty. It needs one JSON object per line: \{\"text\""),
        ([row(text="a")] * 6 + ["{not json"], r"train.jsonl, line 7: not valid JSON"),
        (["[1, 2]"], r"line 1: expected a JSON object, got list"),
        ([row(text="a"), row(other="b")], r"line 2: missing field 'text'"),
        ([row(text="a")] * 3, r"every 'text' is the same"),
    ],
)
def test_bad_datasets_name_file_line_and_field(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    file = write(tmp_path / "train.jsonl", *lines)
    with pytest.raises(DatasetError, match=message) as error:
        TEXT.read(file)
    assert isinstance(error.value, ValueError)
    assert str(file) in str(error.value)


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        TEXT.read(tmp_path / "nope.jsonl")
    with pytest.raises(DatasetError, match=r"holds no \.jsonl file"):
        TEXT.read(tmp_path)


def test_read_dataset_reads_local_and_stored_datasets(tmp_path: Path) -> None:
    from sageyard.core.settings import Settings
    from sageyard.storage import object_store_for

    objects = object_store_for(Settings.from_env())
    file = write(tmp_path / "train.jsonl", row(text="Paris"), row(text="Rome"))
    rows = [{"text": "Paris"}, {"text": "Rome"}]
    assert read_dataset(str(file), TEXT, objects) == rows
    objects.put_file(file, "s3://bucket-x/data/train.jsonl")
    assert read_dataset("s3://bucket-x/data", TEXT, objects) == rows
    with pytest.raises(
        DatasetError, match="s3://bucket-x/nothing cannot be read: No objects found"
    ):
        read_dataset("s3://bucket-x/nothing", TEXT, objects)


def test_a_technique_without_a_dataset_format_is_refused(tmp_path: Path) -> None:
    from sageyard.ai_registry.dataset import check_dataset
    from sageyard.core.session import Session

    file = write(tmp_path / "train.jsonl", row(prompt="Q: 2+2?", completion="4"))
    check_dataset(str(file), "sft", Session())
    with pytest.raises(DatasetError, match="missing field 'chosen'"):
        check_dataset(str(file), "dpo", Session())
    check_dataset(str(file), "rlvr", Session())  # a prompt is all an RLVR row needs
    check_dataset(str(file), "rlaif", Session())
    with pytest.raises(
        ValueError, match=r"customization_technique must be .*'rlvr' or 'rlaif'.*'cpt'"
    ):
        check_dataset(str(file), "cpt", Session())
