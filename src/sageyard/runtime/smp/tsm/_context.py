"""Context parallelism: each rank of a context-parallel group holds a share of every sequence.

As in SMP's examples, the sequence is cut into ``2 x cp`` chunks and rank ``r`` takes chunks
``r`` and ``2 x cp - 1 - r`` (:func:`split_for_cp_rank`), which balances the work of causal
attention. The script gives each rank its share (``input_ids`` and ``labels`` alike); the
transformed model then:

- gives the tokens their positions in the whole sequence (the rotary embeddings' input);
- attends over the whole sequence: each attention layer gathers the group's keys and values
  (``cp_comm_type`` ``"all_gather"``; ``"p2p"`` is run the same way here) and masks them
  causally by position, so every rank's output is the unsplit model's for its tokens;
- shifts the labels across the whole sequence, so the token after a chunk's last one is its
  label even when another rank holds it, and divides each rank's summed loss by the group's
  mean token count (``num_items_in_batch``), so the group's average is the whole batch's mean.

FSDP averages the gradients over the group (its ranks are among the shard ranks), so
training follows the unsplit model's.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from sageyard.core.exceptions import ConfigurationError

ATTENTION = "sageyard_context_parallel"


def split_for_cp_rank(tensor: torch.Tensor, rank: int, size: int, dim: int = 1) -> torch.Tensor:
    """``tensor``'s share for context-parallel ``rank`` of ``size``: chunks ``rank`` and
    ``2 x size - 1 - rank`` of ``2 x size`` along ``dim`` (the sequence).

    Example:
        >>> split_for_cp_rank(torch.arange(8)[None], rank=0, size=2).tolist()
        [[0, 1, 6, 7]]
    """
    length = tensor.shape[dim]
    if length % (2 * size):
        raise ConfigurationError(
            f"context parallelism over {size} ranks cuts a sequence into {2 * size} equal "
            f"chunks, and {length} tokens do not divide so: pad sequences to a multiple of "
            f"{2 * size}."
        )
    chunks = tensor.chunk(2 * size, dim=dim)
    return torch.cat([chunks[rank], chunks[2 * size - 1 - rank]], dim=dim)


def positions(local_length: int, rank: int, size: int, device: torch.device) -> torch.Tensor:
    """The whole-sequence positions of rank ``rank``'s ``local_length`` tokens."""
    chunk = local_length // 2
    first = torch.arange(rank * chunk, (rank + 1) * chunk, device=device)
    second = torch.arange((2 * size - 1 - rank) * chunk, (2 * size - rank) * chunk, device=device)
    return torch.cat([first, second])


class _Gather(torch.autograd.Function):
    """All-gather along a dimension whose backward hands each rank the sum of the gradients
    for its part (an all-reduce, which gloo has, where NCCL would reduce-scatter)."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor, group: dist.ProcessGroup, dim: int) -> Any:
        ctx.group, ctx.dim = group, dim
        ctx.rank, ctx.size = dist.get_rank(group), dist.get_world_size(group)
        parts = [torch.empty_like(tensor) for _ in range(ctx.size)]
        dist.all_gather(parts, tensor.contiguous(), group=group)
        return torch.cat(parts, dim=dim)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        grad = grad.contiguous()
        dist.all_reduce(grad, group=ctx.group)
        return grad.chunk(ctx.size, dim=ctx.dim)[ctx.rank], None, None


def gather(tensor: torch.Tensor, group: dist.ProcessGroup, dim: int) -> torch.Tensor:
    """``tensor`` of every rank of ``group``, joined along ``dim`` in rank order."""
    return _Gather.apply(tensor, group, dim)


def attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Causal attention of this rank's queries over the whole sequence's keys and values
    (a Hugging Face attention function: ``query`` is ``[batch, heads, tokens, dim]``)."""
    from sageyard.runtime.smp.tsm._state import state

    group, rank, size = state.cp_process_group, state.cp_rank, state.cp_size
    local = query.shape[2]
    keys, values = gather(key, group, dim=2), gather(value, group, dim=2)
    if keys.shape[1] != query.shape[1]:  # grouped-query attention: share the key heads
        repeat = query.shape[1] // keys.shape[1]
        keys, values = keys.repeat_interleave(repeat, dim=1), values.repeat_interleave(repeat, 1)
    mine = positions(local, rank, size, query.device)
    every = torch.cat([positions(local, r, size, query.device) for r in range(size)])
    causal = every[None, :] <= mine[:, None]
    output = F.scaled_dot_product_attention(
        query, keys, values, attn_mask=causal, dropout_p=dropout, scale=scaling
    )
    return output.transpose(1, 2).contiguous(), None


def _before_forward(module: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The model's inputs on a context-parallel rank: whole-sequence positions and labels
    shifted across the whole sequence (``shift_labels``, which the loss takes as they are)."""
    from sageyard.runtime.smp.tsm._state import state

    tokens = kwargs.get("input_ids", args[0] if args else None)
    if tokens is None:
        tokens = kwargs["inputs_embeds"]
    mask = kwargs.get("attention_mask")
    if mask is not None and not bool(mask.all()):
        raise ConfigurationError(
            "context parallelism here takes whole, unpadded sequences (an attention_mask of "
            "ones, or none): pack the batch to full length instead of padding it."
        )
    kwargs["attention_mask"] = None
    rank, size, local = state.cp_rank, state.cp_size, tokens.shape[1]
    if kwargs.get("position_ids") is None:
        kwargs["position_ids"] = positions(local, rank, size, tokens.device)[None].expand(
            tokens.shape[0], -1
        )
    labels = kwargs.get("labels")
    if labels is not None and kwargs.get("shift_labels") is None:
        every = gather(labels, state.cp_process_group, dim=1)  # [batch, size x local]
        order = torch.cat([positions(local, r, size, labels.device) for r in range(size)])
        whole = torch.empty_like(every)
        whole[:, order] = every
        shifted = F.pad(whole[:, 1:], (0, 1), value=-100)
        kwargs["shift_labels"] = shifted[:, positions(local, rank, size, labels.device)]
        if kwargs.get("num_items_in_batch") is None:
            # each rank's loss: its tokens' sum over the group's mean count, so that FSDP's
            # average over the group is the mean over the whole sequences' tokens
            kwargs["num_items_in_batch"] = (shifted != -100).sum() / size
    return args, kwargs


def apply(model: nn.Module) -> None:
    """Make ``model`` (a Hugging Face causal LM) context-parallel over ``tsm.state``'s group."""
    from transformers import AttentionInterface

    if not hasattr(model, "set_attn_implementation"):
        raise ConfigurationError(
            f"tsm.transform: context parallelism splits Hugging Face causal language models "
            f"(Llama, Mistral, GPT-NeoX style); {type(model).__name__} is not one."
        )
    AttentionInterface.register(ATTENTION, attention)
    model.set_attn_implementation(ATTENTION)  # type: ignore[operator]
    model.register_forward_pre_hook(_before_forward, with_kwargs=True)
