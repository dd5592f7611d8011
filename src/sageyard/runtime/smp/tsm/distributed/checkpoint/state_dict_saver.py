"""``torch.sagemaker.distributed.checkpoint.state_dict_saver``: save a sharded state dict.

``async_save`` writes in the background (DCP's ``async_save``); its futures wait in a
queue until ``maybe_finalize_async_calls`` (or the next ``async_save``) collects them.
SMP's S3 and strategy arguments are accepted; a ``checkpoint_id`` is a folder here.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import torch.distributed as dist
import torch.distributed.checkpoint as dcp

#: The pending ``async_save`` calls of this process, oldest first.
DEFAULT_ASYNC_REQUEST_QUEUE: list[Future[Any]] = []


def save(
    state_dict: dict[str, Any],
    *,
    checkpoint_id: Any = None,
    storage_writer: Any = None,
    planner: Any = None,
    process_group: dist.ProcessGroup | None = None,
    coordinator_rank: int = 0,
    wait_error_handling: bool = True,
    force_check_all_plans: bool = True,
    s3_region: str | None = None,
    s3client_config: Any = None,
) -> None:
    """Write ``state_dict`` (every rank its shards) to ``checkpoint_id``, and wait."""
    dcp.save(
        state_dict,
        checkpoint_id=checkpoint_id,
        storage_writer=storage_writer,
        planner=planner,
        process_group=process_group,
    )


def async_save(
    state_dict: dict[str, Any],
    *,
    checkpoint_id: Any = None,
    storage_writer: Any = None,
    planner: Any = None,
    process_group: dist.ProcessGroup | None = None,
    coordinator_rank: int = 0,
    queue: list[Future[Any]] | None = None,
    sharded_strategy: Any = None,
    wait_error_handling: bool = True,
    force_check_all_plans: bool = True,
    s3_region: str | None = None,
    s3client_config: Any = None,
) -> None:
    """Start writing ``state_dict`` in the background; the call returns once the tensors
    are staged (copied), so training can go on changing them."""
    pending = DEFAULT_ASYNC_REQUEST_QUEUE if queue is None else queue
    future = dcp.async_save(
        state_dict,
        checkpoint_id=checkpoint_id,
        storage_writer=storage_writer,
        planner=planner,
        process_group=process_group,
    )
    pending.append(future)  # type: ignore[arg-type]


def maybe_finalize_async_calls(
    blocking: bool = True, process_group: dist.ProcessGroup | None = None
) -> list[int]:
    """Collect finished ``async_save`` calls (all of them, waiting, when ``blocking``);
    their indices in the queue. An error of a save is raised here."""
    finished: list[int] = []
    for index, future in enumerate(list(DEFAULT_ASYNC_REQUEST_QUEUE)):
        if blocking or future.done():
            future.result()
            finished.append(index)
    for index in reversed(finished):
        del DEFAULT_ASYNC_REQUEST_QUEUE[index]
    return finished
