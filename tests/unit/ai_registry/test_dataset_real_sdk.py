"""DataSet's full method set, as the real SDK's: versions, listing, delete, split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from sageyard.ai_registry.dataset import DataSet
from sageyard.core.enums import CustomizationTechnique
from sageyard.core.exceptions import ConfigurationError


def _jsonl(path: Path, count: int) -> str:
    path.write_text(
        "".join(json.dumps({"prompt": f"q{i}", "completion": f"a{i}"}) + "\n" for i in range(count))
    )
    return str(path)


def test_versions_listing_and_delete(sageyard_home: Path, tmp_path: Path) -> None:
    first = DataSet.create("support", _jsonl(tmp_path / "a.jsonl", 3), CustomizationTechnique.SFT)
    assert first.create_version(_jsonl(tmp_path / "b.jsonl", 4)) is True
    assert [d.version for d in first.get_versions()] == ["2", "1"]
    assert DataSet.get("support").version == "2"
    DataSet.create("other", _jsonl(tmp_path / "c.jsonl", 2), CustomizationTechnique.SFT)
    assert sorted(d.name for d in DataSet.get_all()) == ["other", "support"]
    assert [d.name for d in DataSet.list(max_results=1)] == ["other"]
    first.wait()
    assert first.refresh().status == "Available"
    assert DataSet.get("support").delete() is True  # the latest version
    assert DataSet.get("support").version == "1"
    assert DataSet.delete_by_name("support", version="all") is True
    with pytest.raises(ClientError):
        DataSet.get("support")
    assert [d.name for d in DataSet.get_all()] == ["other"]


def test_split_a_jsonl_file_in_two_datasets(sageyard_home: Path, tmp_path: Path) -> None:
    train, validation = DataSet.split(_jsonl(tmp_path / "chats.jsonl", 10), 0.8)
    assert (train.name, validation.name) == ("chats-train", "chats-validation")
    assert len((tmp_path / "chats_train.jsonl").read_text().splitlines()) == 8
    assert len((tmp_path / "chats_validation.jsonl").read_text().splitlines()) == 2
    with pytest.raises(ConfigurationError, match=r"between 0\.0 and 1\.0"):
        DataSet.split(str(tmp_path / "chats.jsonl"), 1.5)
