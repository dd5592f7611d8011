"""ModelPackageGroup and ModelPackage with the real SDK's classmethods."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from sageyard.core.resources import ModelPackage, ModelPackageGroup


def test_create_get_and_list_groups(sageyard_home: Path) -> None:
    group = ModelPackageGroup.create("support-models", model_package_group_description="v3")
    assert group.model_package_group_arn.endswith(":model-package-group/support-models")
    assert ModelPackageGroup.get("support-models") == group
    assert ModelPackageGroup.get(group.model_package_group_arn) == group
    assert [g.model_package_group_name for g in ModelPackageGroup.get_all()] == ["support-models"]
    with pytest.raises(ClientError) as taken:
        ModelPackageGroup.create("support-models")
    assert taken.value.response["Error"]["Code"] == "ResourceInUse"
    assert ModelPackage.get_all(model_package_group_name="support-models") == []
    with pytest.raises(ClientError):
        ModelPackage.get("support-models/1", included_data=None)
