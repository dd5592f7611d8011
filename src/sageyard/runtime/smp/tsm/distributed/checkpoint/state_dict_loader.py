"""``torch.sagemaker.distributed.checkpoint.state_dict_loader``: load a sharded state dict
in place (DCP's ``load``)."""

from __future__ import annotations

from typing import Any

import torch.distributed as dist
import torch.distributed.checkpoint as dcp

from sageyard.core.exceptions import ConfigurationError


def load(
    state_dict: dict[str, Any],
    *,
    checkpoint_id: Any = None,
    storage_reader: Any = None,
    planner: Any = None,
    process_group: dist.ProcessGroup | None = None,
    check_keys_matched: bool = True,
    coordinator_rank: int = 0,
    s3_region: str | None = None,
    s3client_config: Any = None,
) -> None:
    """Fill ``state_dict``'s tensors from the checkpoint ``checkpoint_id`` (or
    ``storage_reader``)."""
    if checkpoint_id is None and storage_reader is None:
        raise ConfigurationError(
            "state_dict_loader.load needs checkpoint_id=... (the checkpoint's folder) or "
            "storage_reader=..."
        )
    dcp.load(
        state_dict,
        checkpoint_id=checkpoint_id,
        storage_reader=storage_reader,
        planner=planner,
        process_group=process_group,
    )
