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


def test_the_real_fields_and_attributes(sageyard_home: Path, tmp_path: Path) -> None:
    import inspect

    from sageyard.ai_registry.dataset_utils import DataSetMethod

    assert list(inspect.signature(DataSet).parameters)[:11] == [
        "name",
        "arn",
        "version",
        "status",
        "source",
        "description",
        "customization_technique",
        "method",
        "created_time",
        "updated_time",
        "sagemaker_session",
    ]
    assert "sagemaker_session" in dir(DataSet) and DataSet.sagemaker_session is None
    uploaded = DataSet.create("local", _jsonl(tmp_path / "a.jsonl", 2), CustomizationTechnique.SFT)
    assert uploaded.hub_content_type == "DataSet"
    assert uploaded.method is DataSetMethod.UPLOADED
    assert uploaded.created_time is not None and uploaded.updated_time is not None
    assert uploaded.updated_time >= uploaded.created_time
    assert (uploaded.created, uploaded.updated) == (uploaded.created_time, uploaded.updated_time)
    assert uploaded.sagemaker_session is not None
    assert uploaded.source is not None
    registered = DataSet.create("remote", uploaded.source, CustomizationTechnique.SFT)
    assert registered.method is DataSetMethod.GENERATED  # an s3:// source, as it is
    assert DataSet.get("remote").method is DataSetMethod.GENERATED


def test_domain_id_and_content_metadata_are_kept(sageyard_home: Path, tmp_path: Path) -> None:
    metadata = {"FeatureGroupArns": ["arn:aws:sagemaker:us-west-2:0:feature-group/fg"]}
    csv = tmp_path / "features.csv"
    csv.write_text("a,b\n1,2\n")  # not a fine-tuning format: content metadata skips the check
    dataset = DataSet.create(
        "features", str(csv), domain_id="d-123", content_metadata=metadata, description="fs"
    )
    assert (dataset.domain_id, dataset.content_metadata) == ("d-123", metadata)
    fetched = DataSet.get("features")
    assert (fetched.domain_id, fetched.content_metadata) == ("d-123", metadata)
    assert fetched.refresh().content_metadata == metadata
    with pytest.raises(ValueError, match=r"features\.csv, line 1"):
        DataSet.create("features", str(csv))  # without metadata the file is checked
    with pytest.raises(ConfigurationError, match="content_metadata must be a dict"):
        DataSet.create("features", str(csv), content_metadata="x")  # type: ignore[arg-type]


def test_create_takes_the_real_keywords(sageyard_home: Path) -> None:
    import inspect

    assert list(inspect.signature(DataSet.create).parameters) == [
        "name",
        "source",
        "customization_technique",
        "wait",
        "description",
        "tags",
        "role",
        "domain_id",
        "sagemaker_session",
        "content_metadata",
    ]
