"""``tsm.transform(model)`` (tensor parallelism on DTensor) and the FSDP wrap (FSDP2).

``transform`` splits a Hugging Face-style model's attention and MLP projections over the
tensor-parallel group with DTensor (``parallelize_module``): the query/key/value and
gate/up projections column-wise, the output and down projections row-wise, using the
model's own tensor-parallel plan (``config.base_model_tp_plan``) where it has one. Each
rank of a tensor-parallel group then holds ``1/tp`` of those weights and heads.

The script then wraps the model with PyTorch FSDP as it would on SageMaker. In a job with
SMP, ``FullyShardedDataParallel(model, ...)`` shards with FSDP2 (:func:`shard`:
``fully_shard`` on each transformer block and the root, over the (replicate, shard) mesh
of ``tsm.state``), so ``hybrid_shard_degree`` ranks share one copy of the model.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.distributed.fsdp import (
    CPUOffloadPolicy,
    FSDPModule,
    FullyShardedDataParallel,
    MixedPrecisionPolicy,
    ShardingStrategy,
    fully_shard,
)
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    ParallelStyle,
    RowwiseParallel,
    parallelize_module,
)

from sageyard.core.exceptions import ConfigurationError
from sageyard.runtime.smp.tsm import _context, _experts
from sageyard.runtime.smp.tsm._state import is_initialized, state

logger = logging.getLogger("torch.sagemaker")

_STYLES: dict[str, Callable[[], ParallelStyle]] = {
    "colwise": ColwiseParallel,
    "rowwise": RowwiseParallel,
}

#: The plan of models without one of their own: Llama-style projection names.
DEFAULT_PLAN = {
    "*.q_proj": "colwise",
    "*.k_proj": "colwise",
    "*.v_proj": "colwise",
    "*.o_proj": "rowwise",
    "*.gate_proj": "colwise",
    "*.up_proj": "colwise",
    "*.down_proj": "rowwise",
}


def transform(
    model: nn.Module,
    device: torch.device | None = None,
    dtype: torch.dtype | None = None,
    config: Any = None,
    load_state_dict_from_rank0: bool = False,
    cp_comm_type: str = "p2p",
) -> nn.Module:
    """``tsm.transform``: ``model`` with its attention and MLP split over the
    tensor-parallel group (unchanged when ``tensor_parallel_degree`` is 1).

    Every rank builds the model from the same seed, so each holds the same full weights
    before the split: ``load_state_dict_from_rank0`` (rank 0's weights to the others, as
    SMP does) is honoured by broadcasting rank 0's tensors first.
    """
    degrees = state.degrees
    if cp_comm_type not in ("p2p", "all_gather"):
        raise ConfigurationError(
            f"tsm.transform(cp_comm_type={cp_comm_type!r}): use 'p2p' or 'all_gather'."
        )
    if device is not None or dtype is not None:
        model = model.to(device=device, dtype=dtype)
    if load_state_dict_from_rank0:
        _broadcast_from_rank0(model)
    if degrees.context > 1:
        _context.apply(model)
    if degrees.expert > 1 and getattr(config, "smp_moe", True):
        _experts.apply(model, state.ep_process_group, state.ep_rank, degrees.expert)
    if degrees.tensor == 1:
        return model
    _check_heads(model, degrees.tensor)
    base = getattr(model, "base_model", model)
    plan = getattr(getattr(model, "config", None), "base_model_tp_plan", None) or DEFAULT_PLAN
    styles = _styles_of(base, plan)
    if not styles:
        raise ConfigurationError(
            f"tsm.transform: no layer of {type(model).__name__} matches a tensor-parallel "
            f"plan ({sorted(plan)}); SMP splits Hugging Face-style attention and MLP "
            "projections (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)."
        )
    parallelize_module(base, state.tp_mesh, styles)
    return model


def _styles_of(base: nn.Module, plan: dict[str, str]) -> dict[str, ParallelStyle]:
    """The plan's styles for ``base``'s linear layers, by their full module names."""
    styles: dict[str, ParallelStyle] = {}
    for name, module in base.named_modules():
        for pattern, style in plan.items():
            if not (fnmatch.fnmatchcase(name, pattern) and isinstance(module, nn.Linear)):
                continue
            if style not in _STYLES:
                raise ConfigurationError(
                    f"tsm.transform: layer {name!r} is planned as {style!r}, which sageyard's "
                    f"SMP does not split yet (it splits {sorted(_STYLES)} linear layers); set "
                    "tensor_parallel_degree=1 for this model."
                )
            styles[name] = _STYLES[style]()
    return styles


def _check_heads(model: nn.Module, degree: int) -> None:
    config = getattr(model, "config", None)
    for field in ("num_attention_heads", "num_key_value_heads", "intermediate_size"):
        value = getattr(config, field, None)
        if isinstance(value, int) and value % degree:
            raise ConfigurationError(
                f"tsm.transform: {type(model).__name__}'s {field} ({value}) does not divide "
                f"into tensor_parallel_degree ({degree}) parts; use a degree that divides it."
            )


def _broadcast_from_rank0(model: nn.Module) -> None:
    import torch.distributed as dist

    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            dist.broadcast(tensor.data, src=0)


# -- the FSDP wrap ----------------------------------------------------------------------------


def shard(
    model: nn.Module,
    *,
    blocks: set[type[nn.Module]] | None = None,
    reshard_after_forward: bool = True,
    mp_policy: MixedPrecisionPolicy | None = None,
    offload_policy: CPUOffloadPolicy | None = None,
) -> nn.Module:
    """``model`` sharded with FSDP2 over ``tsm.state``'s (replicate, shard) mesh: each of
    its transformer blocks (``blocks``, else the model's ``_no_split_modules``), then the
    root."""
    mesh = state.fsdp_mesh
    options: dict[str, Any] = {"mesh": mesh, "reshard_after_forward": reshard_after_forward}
    if mp_policy is not None:
        options["mp_policy"] = mp_policy
    if offload_policy is not None:
        options["offload_policy"] = offload_policy
    for module in list(model.modules()):  # experts first: FSDP2 shards them on their own
        if getattr(module, _experts.MARK, False) and not isinstance(module, FSDPModule):
            fully_shard(module, **{**options, "mesh": state.expert_fsdp_mesh})
            # their gradients come summed over the expert-parallel group: the mean is
            # over every data-parallel rank
            module.set_gradient_divide_factor(float(state.dp_size))  # type: ignore[operator]
            module.set_force_sum_reduction_for_comms(True)  # type: ignore[operator] # gloo
    names = set(getattr(model, "_no_split_modules", None) or ())
    for module in list(model.modules()):
        if module is model or isinstance(module, FSDPModule):
            continue
        if (blocks and isinstance(module, tuple(blocks))) or type(module).__name__ in names:
            fully_shard(module, **options)
    fully_shard(model, **options)
    return model


def _fsdp_in_smp(cls: type, module: nn.Module, *args: Any, **kwargs: Any) -> Any:
    """``FullyShardedDataParallel.__new__`` in a job with SMP: the model sharded by FSDP2
    (:func:`shard`) once ``tsm.init()`` has run; PyTorch's own FSDP otherwise."""
    if not is_initialized():
        return object.__new__(cls)
    if isinstance(module, FSDPModule):  # sharded already
        return module
    strategy = kwargs.get("sharding_strategy") or ShardingStrategy.FULL_SHARD
    precision = kwargs.get("mixed_precision")
    offload = kwargs.get("cpu_offload")
    logger.info(
        "torch.sagemaker: FSDP over %d replica(s) of %d shard(s) each (FSDP2 fully_shard)",
        state.degrees.replicas,
        state.degrees.hybrid_shard,
    )
    sharded = shard(
        module,
        blocks=_wrapped_classes(kwargs.get("auto_wrap_policy")),
        reshard_after_forward=strategy
        not in (ShardingStrategy.SHARD_GRAD_OP, ShardingStrategy._HYBRID_SHARD_ZERO2),
        mp_policy=MixedPrecisionPolicy(
            param_dtype=precision.param_dtype, reduce_dtype=precision.reduce_dtype
        )
        if precision is not None
        else None,
        offload_policy=CPUOffloadPolicy()
        if offload is not None and getattr(offload, "offload_params", False)
        else None,
    )
    _initialise(sharded, kwargs.get("param_init_fn"), kwargs.get("post_param_init_fn"))
    return sharded


def _initialise(
    model: nn.Module,
    param_init_fn: Callable[[nn.Module], None] | None,
    post_param_init_fn: Callable[[nn.Module], None] | None,
) -> None:
    """A model built on the meta device, now sharded: each rank's shards get memory
    (FSDP2's ``to_empty`` on the root), then ``param_init_fn`` runs on every module."""
    from sageyard.runtime.smp.tsm.delayed_param import meta_tensors

    if not meta_tensors(model):
        return
    if param_init_fn is None:
        raise ConfigurationError(
            "FSDP(model): the model is on the meta device and no param_init_fn says how to "
            "initialise it; pass param_init_fn=DelayedParamIniter(model).get_param_init_fn() "
            "(torch.sagemaker.delayed_param), or build the model on the CPU."
        )
    model.to_empty(device=torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    for module in model.modules():
        param_init_fn(module)
    if post_param_init_fn is not None:
        for module in model.modules():
            post_param_init_fn(module)


def _wrapped_classes(policy: Any) -> set[type[nn.Module]] | None:
    """The block classes of an FSDP ``auto_wrap_policy``: ``ModuleWrapPolicy(classes)`` or
    ``partial(transformer_auto_wrap_policy, transformer_layer_cls=classes)``."""
    if policy is None:
        return None
    classes = getattr(policy, "_module_classes", None)
    if classes is None and isinstance(policy, functools.partial):
        classes = policy.keywords.get("transformer_layer_cls")
    return set(classes) if classes else None


def install_fsdp() -> None:
    """Make ``FullyShardedDataParallel(model, ...)`` shard with FSDP2 in this process."""
    FullyShardedDataParallel.__new__ = staticmethod(_fsdp_in_smp)  # type: ignore[assignment,method-assign]
