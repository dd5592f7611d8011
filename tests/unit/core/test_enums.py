"""The enums every layer may name, and their re-export under the reference's path."""

from __future__ import annotations

import pytest

from sageyard.core import enums
from sageyard.train import common


def test_values_are_the_references() -> None:
    assert [t.value for t in enums.TrainingType] == ["lora", "full"]
    assert [t.value for t in enums.CustomizationTechnique] == ["sft", "dpo", "rlaif", "rlvr"]


@pytest.mark.parametrize("name", ["TrainingType", "CustomizationTechnique"])
def test_train_common_reexports_the_same_objects(name: str) -> None:
    assert getattr(common, name) is getattr(enums, name)  # __all__: test_exported_members
