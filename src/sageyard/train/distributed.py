"""``sagemaker.train.distributed``: the distributed-training settings of ModelTrainer.

``Torchrun`` (torchrun on each host, optionally with SageMaker Model Parallelism v2,
``SMP``) and ``MPI`` (mpirun from the first host), with the real SDK's fields. A job with
``Torchrun`` runs its entry script under torchrun on every host (``runtime/host.py``); one
with ``MPI`` under mpirun on algo-1, whose remote ranks start through sageyard's agent in
the other hosts (``runtime/mpi.py``). With ``Torchrun(smp=SMP(...))`` the ranks also get
``torch.sagemaker`` (SMP v2 on FSDP2 and DTensor, ``runtime/smp/``).

Example:
    >>> from sageyard.train.distributed import SMP, Torchrun
    >>> launcher = Torchrun(process_count_per_node=2, smp=SMP(tensor_parallel_degree=2))
    >>> launcher.smp.tensor_parallel_degree
    2
    >>> launcher.driver_dir, launcher.driver_script
    ('/opt/ml/input/data/sm_drivers/distributed_drivers', 'torchrun_driver.py')
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

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
    """SageMaker Model Parallelism v2 parameters: what the job's ``tsm.init()`` runs with.

    Unset fields take SMP's defaults (``runtime/smp/config.DEFAULTS``). The degrees must fit
    the job's world size (hosts x processes per host), which the job service checks before
    the job starts. ``hybrid_shard_degree=0`` asks for the largest that fits.
    """

    hybrid_shard_degree: int | None = Field(default=None, ge=0)
    sm_activation_offloading: bool | None = None
    activation_loading_horizon: int | None = Field(default=None, ge=1)
    fsdp_cache_flush_warnings: bool | None = None
    allow_empty_shards: bool | None = None
    tensor_parallel_degree: int | None = Field(default=None, ge=1)
    context_parallel_degree: int | None = Field(default=None, ge=1)
    expert_parallel_degree: int | None = Field(default=None, ge=1)
    random_seed: int | None = Field(default=None, ge=0, le=2**31 - 1)

    def _to_mp_hyperparameters(self) -> dict[str, Any]:
        """``{"mp_parameters": "<json>"}``: the set fields as the job's hyperparameter (the
        real SDK's method, which ModelTrainer calls for ``Torchrun(smp=...)``).

        Example:
            >>> SMP(tensor_parallel_degree=2)._to_mp_hyperparameters()
            {'mp_parameters': '{"tensor_parallel_degree": 2}'}
        """
        return {"mp_parameters": json.dumps(self.model_dump(exclude_none=True))}


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
