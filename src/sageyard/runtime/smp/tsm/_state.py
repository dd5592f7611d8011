"""``tsm.init()`` and ``tsm.state``: the job's SMP degrees laid out as a device mesh.

The world's ranks form a :class:`~torch.distributed.device_mesh.DeviceMesh` with the
tensor-parallel dimension innermost, as SMP ranks them (a tensor-parallel group is
consecutive global ranks, and ``global_rank // (tp x cp)`` is the data-parallel rank)::

    ("dp_replicate", "dp_shard_cp", "tp")     the mesh FSDP2 and DTensor use
    ("dp_replicate", "dp_shard", "cp", "tp")  its shard dimension unflattened (MESH_DIMS)

FSDP2 shards over ``dp_shard_cp`` (``hybrid_shard_degree`` ranks, the context-parallel
ones among them) and replicates over ``dp_replicate``; DTensor tensor parallelism splits
over ``tp``; context parallelism gathers keys and values over ``cp``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import DeviceMesh, init_device_mesh

from sageyard.core.exceptions import ConfigurationError
from sageyard.runtime.smp.config import Degrees, job_parameters, resolve

MESH_DIMS = ("dp_replicate", "dp_shard", "cp", "tp")


class Ranker:
    """Which global ranks replicate one another (``state.ranker``, as SMP's checkpoint
    examples use it): ranks with the same tensor-, context- and shard-rank."""

    def __init__(self, degrees: Degrees) -> None:
        self._degrees = degrees

    def get_rep_groups(self) -> list[list[int]]:
        """The replication groups: lists of global ranks holding the same shard."""
        stride = self._degrees.world_size // self._degrees.replicas
        return [list(range(start, self._degrees.world_size, stride)) for start in range(stride)]

    def get_rep_rank(self, rank: int) -> int:
        """``rank``'s index in its replication group (0: the replica that saves)."""
        return rank // (self._degrees.world_size // self._degrees.replicas)


class RNGStateTracker:
    """``state.get_rng_state_tracker()``: random numbers for tensor- or expert-parallel
    regions, from ``random_seed`` plus the tensor- (else expert-) parallel rank as SMP
    documents, without disturbing the default generator.

    Example (inside a job): ``with tsm.state.get_rng_state_tracker().fork(): x = dropout(x)``.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._generator = torch.Generator().manual_seed(seed)

    @contextlib.contextmanager
    def fork(self, name: str = "model-parallel-rng") -> Iterator[None]:
        """Run the block with this tracker's generator as the default CPU generator."""
        saved = torch.random.get_rng_state()
        torch.random.set_rng_state(self._generator.get_state())
        try:
            yield
        finally:
            self._generator.set_state(torch.random.get_rng_state())
            torch.random.set_rng_state(saved)


@dataclass(frozen=True)
class _Layout:
    """What ``tsm.init()`` builds: the degrees and the meshes cut from the root mesh (kept,
    as PyTorch wants, rather than sliced again on every read)."""

    degrees: Degrees
    root: DeviceMesh  # ("dp_replicate", "dp_shard_cp", "tp"): FSDP2's and DTensor's
    mesh: DeviceMesh  # MESH_DIMS: the shard dimension unflattened into (dp_shard, cp)
    data: DeviceMesh  # the data-parallel ranks, flattened
    experts: DeviceMesh | None  # ("ep_replicate", "ep") when experts are split

    @classmethod
    def build(cls, degrees: Degrees, root: DeviceMesh) -> _Layout:
        mesh = root._unflatten("dp_shard_cp", (degrees.shards, degrees.context), ("dp_shard", "cp"))
        experts = None
        if degrees.expert > 1:  # consecutive data-parallel ranks (tp = cp = 1 with experts)
            experts = init_device_mesh(
                root.device_type,
                (degrees.data_parallel // degrees.expert, degrees.expert),
                mesh_dim_names=("ep_replicate", "ep"),
            )
        data = mesh["dp_replicate", "dp_shard"]._flatten("dp")
        return cls(degrees, root, mesh, data, experts)


class State:
    """``torch.sagemaker.state``: the ranks, sizes and process groups of SMP's dimensions,
    valid after :func:`init`. Reading one before ``tsm.init()`` says so."""

    def __init__(self) -> None:
        self._layout: _Layout | None = None
        self._tracker: RNGStateTracker | None = None

    def _set(self, layout: _Layout) -> None:
        self._layout = layout
        # SMP adds the tensor- or expert-parallel rank (the two do not go together)
        offset = self.tp_rank if layout.degrees.tensor > 1 else self.ep_rank
        self._tracker = RNGStateTracker(layout.degrees.random_seed + offset)

    def _ready(self) -> _Layout:
        if self._layout is None:
            raise RuntimeError(
                "torch.sagemaker.state is read before tsm.init(): call tsm.init() first (after "
                "torch.distributed.init_process_group, or let tsm.init() start it)."
            )
        return self._layout

    @property
    def degrees(self) -> Degrees:
        """The resolved SMP degrees (sageyard's own)."""
        return self._ready().degrees

    @property
    def device_mesh(self) -> DeviceMesh:
        """The world mesh, dimensions :data:`MESH_DIMS` (sageyard's own)."""
        return self._ready().mesh

    @property
    def fsdp_mesh(self) -> DeviceMesh:
        """The 2-D (replicate, shard) mesh FSDP2 shards over (sageyard's own)."""
        return self._ready().root["dp_replicate", "dp_shard_cp"]

    @property
    def tp_mesh(self) -> DeviceMesh:
        """The tensor-parallel mesh, cut from the root mesh FSDP2 shards over (sageyard's)."""
        return self._ready().root["tp"]

    # -- SMP's documented properties ----------------------------------------------------------

    @property
    def rank(self) -> int:
        self._ready()
        return dist.get_rank()

    @property
    def world_size(self) -> int:
        return self.degrees.world_size

    @property
    def local_rank(self) -> int:
        return int(os.environ.get("LOCAL_RANK", "0"))

    @property
    def hybrid_shard_degree(self) -> int:
        return self.degrees.hybrid_shard

    @property
    def tensor_parallel_degree(self) -> int:
        return self.degrees.tensor

    tp_size = tensor_parallel_degree

    @property
    def tp_rank(self) -> int:
        return self.device_mesh.get_local_rank("tp")

    @property
    def tp_process_group(self) -> dist.ProcessGroup:
        return self.device_mesh.get_group("tp")

    @property
    def context_parallel_degree(self) -> int:
        return self.degrees.context

    cp_size = context_parallel_degree

    @property
    def cp_rank(self) -> int:
        return self.device_mesh.get_local_rank("cp")

    @property
    def cp_process_group(self) -> dist.ProcessGroup:
        return self.device_mesh.get_group("cp")

    @property
    def expert_parallel_degree(self) -> int:
        return self.degrees.expert

    ep_size = expert_parallel_degree

    @property
    def ep_rank(self) -> int:
        """The expert-parallel rank: the data-parallel rank among ``expert_parallel_degree``."""
        return self.dp_rank % self.degrees.expert

    @property
    def ep_process_group(self) -> dist.ProcessGroup:
        """The ranks that share one set of experts among themselves."""
        return self._expert_mesh()["ep"].get_group()

    @property
    def expert_fsdp_mesh(self) -> DeviceMesh:
        """The ranks that hold the same experts: FSDP2 shards those over it (sageyard's)."""
        return self._expert_mesh()["ep_replicate"]

    def _expert_mesh(self) -> DeviceMesh:
        experts = self._ready().experts
        if experts is None:
            raise RuntimeError("expert_parallel_degree is 1: there is no expert-parallel group")
        return experts

    @property
    def dp_size(self) -> int:
        """Ranks that read distinct batches: ``world / (tp x cp)``."""
        return self.degrees.data_parallel

    @property
    def dp_rank(self) -> int:
        """This rank's data-parallel rank (``global_rank // (tp x cp)``): the rank to give a
        ``DistributedSampler``, whose ``num_replicas`` is :attr:`dp_size`."""
        return self.rank // (self.degrees.tensor * self.degrees.context)

    @property
    def dp_process_group(self) -> dist.ProcessGroup:
        """The ranks that hold the same tensor- and context-parallel part."""
        return self._ready().data.get_group()

    @property
    def rep_rank_process_group(self) -> dist.ProcessGroup:
        """The ranks with the same shard (one per replica): the replication group."""
        return self.device_mesh.get_group("dp_replicate")

    @property
    def world_process_group(self) -> dist.ProcessGroup:
        return dist.group.WORLD  # type: ignore[return-value]

    @property
    def ranker(self) -> Ranker:
        return Ranker(self.degrees)

    @property
    def sm_activation_offloading(self) -> bool:
        return self.degrees.activation_offloading

    @property
    def activation_loading_horizon(self) -> int:
        return self.degrees.activation_loading_horizon

    @property
    def random_seed(self) -> int:
        return self.degrees.random_seed

    def get_rng_state_tracker(self) -> RNGStateTracker:
        """The generator of model-parallel regions, seeded ``random_seed`` + tp (or ep) rank."""
        self._ready()
        assert self._tracker is not None  # set with the layout
        return self._tracker


#: ``torch.sagemaker.state``.
state = State()


def init(config: str | dict[str, Any] | None = None) -> None:
    """``tsm.init(config)``: start SMP with the job's parameters (``mp_parameters``, which
    take priority) over ``config`` (a dict, or a JSON file's path).

    Starts the default process group when the script has not (gloo on CPU, NCCL on GPU),
    checks the degrees against its world size, and builds the mesh. Calling it again with
    the same parameters does nothing.
    """
    parameters = job_parameters(os.environ, config)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    try:
        degrees = resolve(parameters, dist.get_world_size())
    except ConfigurationError as error:
        raise ConfigurationError(f"tsm.init(): {error}") from None
    if state._layout is not None:
        if state._layout.degrees != degrees:
            raise RuntimeError("tsm.init() ran already, with other SMP parameters.")
        return
    device = "cuda" if torch.cuda.is_available() else "cpu"
    root = init_device_mesh(
        device,
        (degrees.replicas, degrees.hybrid_shard, degrees.tensor),
        mesh_dim_names=("dp_replicate", "dp_shard_cp", "tp"),
    )
    state._set(_Layout.build(degrees, root))


def is_initialized() -> bool:
    """Whether ``tsm.init()`` has run in this process."""
    return state._layout is not None
