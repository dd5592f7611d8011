"""``torch.sagemaker`` in a sageyard job: SMP v2's programming interface on PyTorch.

A script written for SageMaker's SMP containers runs unchanged::

    import torch.sagemaker as tsm
    tsm.init()                                  # the job's SMP parameters
    model = tsm.transform(model)                # tensor parallelism (DTensor)
    model = FSDP(model, ...)                    # hybrid sharding (FSDP2 fully_shard)
    sampler = DistributedSampler(data, num_replicas=tsm.state.dp_size,
                                 rank=tsm.state.dp_rank)

Context and expert parallelism (``context_parallel_degree``, ``expert_parallel_degree``
above 1) are refused when the job is created: sageyard does not run them yet.
"""

from sageyard.runtime.smp.tsm._state import State, init, is_initialized, state
from sageyard.runtime.smp.tsm._transform import install_fsdp, shard, transform

__all__ = ["State", "init", "is_initialized", "shard", "state", "transform"]

install_fsdp()
