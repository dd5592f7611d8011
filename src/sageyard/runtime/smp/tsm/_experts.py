"""Expert parallelism: a mixture-of-experts layer's experts spread over an expert-parallel
group of data-parallel ranks.

Each rank of a group of ``expert_parallel_degree`` ranks keeps ``1/ep`` of every MoE layer's
experts (Hugging Face's fused expert weights, ``[experts, ...]``: Mixtral, Qwen-MoE style).
The router stays whole on every rank. In the forward pass each expert layer gathers the
group's tokens with their routing, runs its own experts on the tokens routed to them, and
sums the results back to the ranks the tokens came from; the backward pass sends the
gradients the same way. The experts' weights are then sharded by FSDP2 over the ranks that
hold the same experts, their gradients averaged over the whole data-parallel world.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from sageyard.core.exceptions import ConfigurationError
from sageyard.runtime.smp.tsm._context import gather

#: Set on an expert layer this module has split: FSDP2 shards it over its own mesh.
MARK = "_sageyard_expert_parallel"


class _SumToOwners(torch.autograd.Function):
    """Every rank's partial outputs for the group's tokens, summed, and each rank's own
    tokens' share (a reduce-scatter, as an all-reduce gloo has); backward all-gathers."""

    @staticmethod
    def forward(ctx: Any, partial: torch.Tensor, group: dist.ProcessGroup) -> Any:
        ctx.group, ctx.size = group, dist.get_world_size(group)
        ctx.rank = dist.get_rank(group)
        total = partial.contiguous().clone()
        dist.all_reduce(total, group=group)
        return total.chunk(ctx.size, dim=0)[ctx.rank].contiguous()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        parts = [torch.empty_like(grad) for _ in range(ctx.size)]
        dist.all_gather(parts, grad.contiguous(), group=ctx.group)
        return torch.cat(parts, dim=0), None


def is_experts(module: nn.Module) -> bool:
    """A Hugging Face fused expert layer: ``num_experts`` and 3-D expert weights."""
    weights = [p for p in module.parameters(recurse=False) if p.dim() == 3]
    return isinstance(getattr(module, "num_experts", None), int) and len(weights) >= 1


def apply(model: nn.Module, group: dist.ProcessGroup, rank: int, size: int) -> int:
    """Keep rank ``rank``'s ``1/size`` of each expert layer of ``model``; how many layers."""
    layers = [m for m in model.modules() if is_experts(m)]
    if not layers:
        raise ConfigurationError(
            f"tsm.transform: expert_parallel_degree > 1 spreads mixture-of-experts layers, "
            f"and {type(model).__name__} has none (Hugging Face MoE models such as Mixtral "
            "have them)."
        )
    for layer in layers:
        count: int = getattr(layer, "num_experts")  # noqa: B009 - an int, which mypy cannot see
        if count % size:
            raise ConfigurationError(
                f"tsm.transform: {count} experts do not divide over expert_parallel_degree "
                f"({size}) ranks; use a degree that divides {count}."
            )
        _split(layer, group, rank, size)
    return len(layers)


def _split(layer: nn.Module, group: dist.ProcessGroup, rank: int, size: int) -> None:
    local = getattr(layer, "num_experts") // size  # noqa: B009 - an int
    first = rank * local
    for name, weight in list(layer.named_parameters(recurse=False)):
        if weight.dim() == 3:
            setattr(layer, name, nn.Parameter(weight.detach()[first : first + local].clone()))
    setattr(layer, "num_experts", local)  # noqa: B010 - the layer's own attribute
    # the layer's own (eager) computation: it skips the "no expert" slot, which Hugging
    # Face's other expert implementations need not
    eager = getattr(type(layer).forward, "__wrapped__", None)
    own_forward = functools.partial(eager, layer) if eager is not None else layer.forward

    def forward(
        hidden_states: torch.Tensor, top_k_index: torch.Tensor, top_k_weights: torch.Tensor
    ) -> torch.Tensor:
        tokens = hidden_states.shape[0]
        counts = [torch.zeros(1, dtype=torch.long) for _ in range(size)]
        dist.all_gather(counts, torch.tensor([tokens]), group=group)
        if len({int(c) for c in counts}) != 1:
            raise ConfigurationError(
                "expert parallelism needs the same number of tokens on every rank of an "
                f"expert-parallel group, and they have {[int(c) for c in counts]}: give "
                "every data-parallel rank batches of one shape."
            )
        states = gather(hidden_states, group, dim=0)
        weights = gather(top_k_weights, group, dim=0)
        indices = [torch.empty_like(top_k_index) for _ in range(size)]
        dist.all_gather(indices, top_k_index.contiguous(), group=group)
        index = torch.cat(indices) - first
        # another rank's experts: the "no expert" slot, which the layer skips
        index = torch.where((index >= 0) & (index < local), index, torch.full_like(index, local))
        partial = own_forward(states, index, weights)
        return _SumToOwners.apply(partial, group)

    layer.forward = forward
    setattr(layer, MARK, True)
