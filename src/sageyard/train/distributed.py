"""``sagemaker.train.distributed``: the distributed-training settings of ModelTrainer.

``Torchrun`` (torchrun on each host, optionally with SageMaker Model Parallelism v2,
``SMP``) and ``MPI`` (mpirun from the first host), with the real SDK's fields. A job with
``Torchrun`` runs its entry script under torchrun on every host (``runtime/host.py``); one
with ``MPI`` under mpirun on algo-1, whose remote ranks start through sageyard's agent in
the other hosts (``runtime/mpi.py``). ``Torchrun(smp=...)`` is refused by the job service
with a message, before anything is written, until it runs.

Example:
    >>> from sageyard.train.distributed import SMP, Torchrun
    >>> launcher = Torchrun(process_count_per_node=2, smp=SMP(tensor_parallel_degree=2))
    >>> launcher.smp.tensor_parallel_degree
    2
    >>> launcher.driver_dir, launcher.driver_script
    ('/opt/ml/input/data/sm_drivers/distributed_drivers', 'torchrun_driver.py')
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from pydantic import Field

from sageyard.core.shapes import Shape

__all__ = ["DRIVER_DIR", "MPI", "SMP", "DistributedConfig", "Torchrun"]

#: Where a job finds the distributed drivers: the job's ``SM_DISTRIBUTED_DRIVER_DIR``
#: (``/opt/ml/input/data/sm_drivers/distributed_drivers``, the ``sm_drivers`` channel).
#: The real SDK's ``driver_dir`` is the folder of its installed package that it uploads
#: there; sageyard's hosts launch torchrun themselves (no driver script), so its
#: ``driver_dir`` is the folder the job sees.
DRIVER_DIR = "/opt/ml/input/data/sm_drivers/distributed_drivers"


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


class DistributedConfig(Shape, ABC):
    """What every distributed launcher has: processes per host, and its driver script.

    Abstract, as in the real SDK: a launcher says where its driver is (``driver_dir``,
    ``driver_script``).
    """

    process_count_per_node: int | None = Field(default=None, ge=1)

    @property
    @abstractmethod
    def driver_dir(self) -> str:
        """The folder of the driver script, as the job sees it (:data:`DRIVER_DIR`)."""

    @property
    @abstractmethod
    def driver_script(self) -> str:
        """The file name of the driver script in :attr:`driver_dir`."""


class Torchrun(DistributedConfig):
    """``torchrun`` on every host (``process_count_per_node`` default: the GPUs per host)."""

    smp: SMP | None = None

    @property
    def driver_dir(self) -> str:
        return DRIVER_DIR

    @property
    def driver_script(self) -> str:
        """``torchrun_driver.py``: the real SDK's name (sageyard's hosts run torchrun
        themselves, ``runtime/drivers.torchrun_argv``)."""
        return "torchrun_driver.py"


class MPI(DistributedConfig):
    """``mpirun`` from the first host over every host's processes."""

    mpi_additional_options: list[str] | None = None

    @property
    def driver_dir(self) -> str:
        return DRIVER_DIR

    @property
    def driver_script(self) -> str:
        """``mpi_driver.py``: the real SDK's name (sageyard's hosts run mpirun and its
        agents themselves, ``runtime/mpi.py``)."""
        return "mpi_driver.py"
