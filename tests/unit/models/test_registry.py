"""Model package groups and numbered versions in the job store."""

from __future__ import annotations

import pytest

from sageyard.core.exceptions import ResourceNotFound
from sageyard.core.resources import ModelPackage
from sageyard.core.settings import Settings
from sageyard.models.registry import ModelRegistry


def details(job: str = "job-1") -> dict[str, object]:
    return {
        "model_artifact_uri": f"s3://bucket/{job}/output/model.tar.gz",
        "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "customization_technique": "sft",
        "training_type": "lora",
        "training_job_name": job,
        "dataset_uris": {"train": "s3://bucket/train.jsonl"},
        "final_metrics": {"train:loss": 0.5},
    }


def test_versions_count_up_within_a_group() -> None:
    registry = ModelRegistry(Settings.from_env())
    first = registry.register("my-models", details("a"))
    second = registry.register("my-models", details("b"))
    other = registry.register("other-models", details("c"))
    assert (first.model_package_version, second.model_package_version) == (1, 2)
    assert other.model_package_version == 1
    assert second.model_package_arn.endswith(":model-package/my-models/2")
    assert [p.training_job_name for p in registry.list_packages("my-models")] == ["a", "b"]
    assert len(registry.list_packages()) == 3
    assert [g.model_package_group_name for g in registry.list_groups()] == [
        "my-models",
        "other-models",
    ]


def test_a_package_is_found_by_name_arn_or_group() -> None:
    registry = ModelRegistry(Settings.from_env())
    registry.register("my-models", details("a"))
    latest = registry.register("my-models", details("b"))
    assert registry.get_package("my-models/1").training_job_name == "a"
    assert registry.get_package(latest.model_package_arn) == latest
    assert registry.get_package("my-models") == latest  # a group: its latest version
    assert ModelPackage.get("my-models/2").final_metrics == {"train:loss": 0.5}
    with pytest.raises(ResourceNotFound, match="sageyard models packages"):
        registry.get_package("my-models/9")
    assert registry.find_package("nothing") is None


def test_bad_group_names_are_refused_before_any_write() -> None:
    registry = ModelRegistry(Settings.from_env())
    with pytest.raises(ValueError, match="not a valid name"):
        registry.register("bad name!", details())
    assert registry.list_packages() == []
