"""``sagemaker.train.distributed``: the distributed-training settings of ModelTrainer.

``Torchrun`` (torchrun on each host, optionally with SageMaker Model Parallelism v2,
``SMP``) and ``MPI`` (mpirun from the first host), with the real SDK's fields. They build
and validate now; running a job with them comes with the distributed-training issue (until
then the job service refuses ``distributed=...`` with a message, before anything is
written).

Example:
    >>> from sageyard.train.distributed import SMP, Torchrun
    >>> launcher = Torchrun(process_count_per_node=2, smp=SMP(tensor_parallel_degree=2))
    >>> launcher.smp.tensor_parallel_degree
    2
"""

from __future__ import annotations

from pydantic import Field

from sageyard.core.shapes import Shape

__all__ = ["MPI", "SMP", "DistributedConfig", "Torchrun"]


class SMP(Shape):
    """SageMaker Model Parallelism v2 parameters (``torch.sagemaker`` ``tsm.init``)."""

    hybrid_shard_degree: int | None = Field(default=None, ge=1)
    sm_activation_offloading: bool | None = None
    activation_loading_horizon: int | None = Field(default=None, ge=1)
    fsdp_cache_flush_warnings: bool | None = None
    allow_empty_shards: bool | None = None
    tensor_parallel_degree: int | None = Field(default=None, ge=1)
    context_parallel_degree: int | None = Field(default=None, ge=1)
    expert_parallel_degree: int | None = Field(default=None, ge=1)
    random_seed: int | None = None


class DistributedConfig(Shape):
    """What every distributed launcher has: processes per host."""

    process_count_per_node: int | None = Field(default=None, ge=1)


class Torchrun(DistributedConfig):
    """``torchrun`` on every host (``process_count_per_node`` default: the GPUs per host)."""

    smp: SMP | None = None


class MPI(DistributedConfig):
    """``mpirun`` from the first host over every host's processes."""

    mpi_additional_options: list[str] | None = None
