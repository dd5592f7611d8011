"""``sagemaker.core.training.configs``: the real SDK's canonical config module (what
``sagemaker.train.configs`` re-exports). The same classes as :mod:`sageyard.train.configs`.

Example:
    >>> from sageyard.core.training.configs import Compute, InputData, SourceCode
    >>> Compute(instance_type="ml.m5.xlarge").volume_size_in_gb
    30
"""

from sageyard.train import configs as _configs
from sageyard.train.configs import *  # noqa: F403  the same names, listed once there

__all__ = list(_configs.__all__)
