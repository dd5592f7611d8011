"""``torch.sagemaker`` in a sageyard job: SMP v2's programming interface on PyTorch.

A script written for SageMaker's SMP containers runs unchanged::

    import torch.sagemaker as tsm
    tsm.init()                                  # the job's SMP parameters
    model = tsm.transform(model)                # tensor, context, expert parallelism
    model = FSDP(model, ...)                    # hybrid sharding (FSDP2 fully_shard)
    share = batch[tsm.state.dp_rank :: tsm.state.dp_size]   # this rank's data

What runs each degree:

- ``hybrid_shard_degree``: FSDP2 ``fully_shard`` over the (replicate, shard) mesh, which
  PyTorch's ``FullyShardedDataParallel(...)`` calls reach in a job with SMP (``_transform``);
- ``tensor_parallel_degree``: DTensor ``parallelize_module`` on the attention and MLP
  projections (``_transform``);
- ``context_parallel_degree``: attention over the whole sequence from each rank's share of
  it, which the script gives as SMP's examples split it (``_context``);
- ``expert_parallel_degree``: each MoE layer's experts spread over the group (``_experts``);
- ``sm_activation_offloading``: ``tsm.state.sm_activation_offloading`` for the script, which
  applies PyTorch's activation checkpointing and ``offload_wrapper``, as SMP documents;
- a model built on the meta device: ``delayed_param.DelayedParamIniter``, whose
  ``param_init_fn`` the FSDP wrapper runs once each rank's shards have memory;
- ``random_seed``: ``tsm.state.get_rng_state_tracker()``, seeded ``random_seed`` + tp or ep rank.
"""

from sageyard.runtime.smp.tsm._state import State, init, is_initialized, state
from sageyard.runtime.smp.tsm._transform import install_fsdp, shard, transform

__all__ = ["State", "init", "is_initialized", "shard", "state", "transform"]

install_fsdp()
