"""``sagemaker.core.training.configs``: the real SDK's canonical config module."""

from __future__ import annotations

import sageyard.core.training.configs as core_configs
import sageyard.train.configs as train_configs


def test_the_same_classes_as_train_configs() -> None:
    assert core_configs.__all__ == train_configs.__all__
    for name in core_configs.__all__:
        assert getattr(core_configs, name) is getattr(train_configs, name)


def test_the_real_defaults() -> None:
    assert core_configs.Compute(instance_type="ml.m5.xlarge").volume_size_in_gb == 30
