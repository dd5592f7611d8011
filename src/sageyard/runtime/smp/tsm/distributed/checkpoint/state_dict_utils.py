"""``torch.sagemaker.distributed.checkpoint.state_dict_utils``: which state dict a model
gives, and an optimizer's state made ready to be loaded into."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator

import torch
from torch import nn

from sageyard.core.exceptions import ConfigurationError


class SMStateDictType(enum.Enum):
    """SMP's state dict types: ``SM_LOCAL_STATE_DICT`` (each rank its own shards)."""

    SM_LOCAL_STATE_DICT = enum.auto()


@contextlib.contextmanager
def sm_state_dict_type(module: nn.Module, state_dict_type: SMStateDictType) -> Iterator[None]:
    """Within the block, ``module.state_dict()`` is the rank's local shards. A model
    sharded by FSDP2 gives those already (DTensors), so nothing changes."""
    if not isinstance(state_dict_type, SMStateDictType):
        raise ConfigurationError(
            f"sm_state_dict_type takes an SMStateDictType, got {state_dict_type!r}"
        )
    yield


def init_optim_state(optimizer: torch.optim.Optimizer, skip_empty_param: bool = True) -> None:
    """Give ``optimizer`` its state tensors (as after a step) without changing any
    parameter, so that a checkpoint's optimizer state can be loaded into them."""
    from torch.distributed.checkpoint.state_dict import _init_optim_state

    _init_optim_state(optimizer)
