"""The enums every layer may name, and their re-export under the reference's path."""

from __future__ import annotations

import pytest

from sageyard.core import enums
from sageyard.train import common


def test_values_are_the_references() -> None:
    assert [t.value for t in enums.TrainingType] == ["lora", "full"]
    assert [t.value for t in enums.CustomizationTechnique] == ["sft", "dpo", "rlaif", "rlvr", "cpt"]


@pytest.mark.parametrize("name", ["TrainingType", "CustomizationTechnique"])
def test_train_common_reexports_the_same_objects(name: str) -> None:
    assert getattr(common, name) is getattr(enums, name)  # __all__: test_exported_members


def test_the_real_sdks_spellings_find_the_same_members() -> None:
    from sageyard.core.enums import CustomizationTechnique, TrainingType
    from sageyard.train.configs import Mode

    assert TrainingType("LORA") is TrainingType("lora") is TrainingType.LORA
    assert CustomizationTechnique("SFT") is CustomizationTechnique.SFT
    assert Mode("LOCAL_CONTAINER") is Mode(1) is Mode.LOCAL_CONTAINER
    assert TrainingType.LORA.value == "lora"  # the reference's value is the one kept
    with pytest.raises(ValueError, match="not a valid TrainingType"):
        TrainingType("QLORA")
