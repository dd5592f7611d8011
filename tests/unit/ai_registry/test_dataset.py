"""DataSet: checked, stored and registered by name with a version per create()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sageyard.ai_registry.dataset import DataSet, dataset_uri
from sageyard.core.exceptions import ResourceNotFound
from sageyard.core.session import Session
from sageyard.train.common import CustomizationTechnique


def jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_create_stores_the_file_and_get_returns_the_latest_version(tmp_path: Path) -> None:
    file = jsonl(tmp_path / "train.jsonl", [{"prompt": "a", "completion": "b"}])
    first = DataSet.create("support", str(file), CustomizationTechnique.SFT)
    second = DataSet.create("support", str(file), CustomizationTechnique.SFT, description="v2")
    assert (first.version, second.version) == ("1", "2")
    assert first.source is not None and first.source.startswith("s3://")
    assert first.source.endswith("/datasets/support/1/train.jsonl")
    copy = tmp_path / "copy.jsonl"
    Session().objects.get_file(first.source, copy)
    assert copy.read_bytes() == file.read_bytes()
    latest = DataSet.get("support")
    assert latest.version == "2" and latest.description == "v2"
    assert latest.customization_technique is CustomizationTechnique.SFT
    assert DataSet.get(first.arn).version == "1"
    assert dataset_uri(latest) == latest.source


def test_a_bad_file_registers_nothing(tmp_path: Path) -> None:
    file = jsonl(tmp_path / "pairs.jsonl", [{"prompt": "a", "chosen": "b"}])
    with pytest.raises(ValueError, match=r"pairs.jsonl, line 1: missing field 'rejected'"):
        DataSet.create("pairs", str(file), CustomizationTechnique.DPO)
    with pytest.raises(ResourceNotFound, match=r"DataSet\.create"):
        DataSet.get("pairs")
    with pytest.raises(ValueError, match="not valid"):
        DataSet.create("bad name", str(file))


def test_a_folder_of_jsonl_files_is_one_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "pairs"
    folder.mkdir()
    jsonl(folder / "a.jsonl", [{"prompt": "p", "chosen": "x", "rejected": "y"}])
    jsonl(folder / "b.jsonl", [{"prompt": "q", "chosen": "x", "rejected": "z"}])
    dataset = DataSet.create("pairs", str(folder), CustomizationTechnique.DPO)
    assert dataset.source is not None and dataset.source.endswith("/datasets/pairs/1")
    assert sorted(Session().objects.list(dataset.source)) == [
        f"{dataset.source}/a.jsonl",
        f"{dataset.source}/b.jsonl",
    ]
