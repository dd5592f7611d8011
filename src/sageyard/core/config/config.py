"""``sagemaker.core.config.config``: the loading functions, as the real SDK names them."""

from sageyard.core.config.config_manager import (
    load_local_mode_config,
    load_sagemaker_config,
    validate_sagemaker_config,
)

__all__ = ["load_local_mode_config", "load_sagemaker_config", "validate_sagemaker_config"]
