"""The SMP v2 parameters: checked, then resolved against a job's world size (pure).

The job service checks a request's ``Smp`` with :func:`check_parameters` and, where it knows
the world size, :func:`resolve`; ``tsm.init()`` resolves them again inside the job, where the
world size is the process group's. Both refuse what SMP refuses, with the same messages.

How the world is laid out (outermost first), as SMP v2 documents it::

    world = replicas x hybrid_shard_degree x tensor_parallel_degree
    hybrid_shard_degree = shards x context_parallel_degree

``hybrid_shard_degree`` ranks share one copy of the model, each holding a shard (FSDP2's
shard dimension; the context-parallel ranks are among them, as in SMP); the replicas are
FSDP2's replicate dimension. Each tensor-parallel group holds one set of shards, split across
its ranks. Data-parallel ranks (distinct batches) are ``world / (tp x cp)``; expert-parallel
groups spread the MoE experts over ``expert_parallel_degree`` data-parallel ranks.

Example:
    >>> degrees = resolve({"hybrid_shard_degree": 4, "tensor_parallel_degree": 2}, 16)
    >>> degrees.replicas, degrees.hybrid_shard, degrees.tensor, degrees.data_parallel
    (2, 4, 2, 8)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sageyard.core.exceptions import ConfigurationError

#: What SMP v2 accepts, with its type and default (the reference's defaults).
#: ``hybrid_shard_degree``: 1 (no sharding); 0 asks for the largest that fits.
DEFAULTS: dict[str, Any] = {
    "hybrid_shard_degree": 1,
    "sm_activation_offloading": False,
    "activation_loading_horizon": 4,
    "fsdp_cache_flush_warnings": False,
    "allow_empty_shards": False,
    "tensor_parallel_degree": 1,
    "context_parallel_degree": 1,
    "expert_parallel_degree": 1,
    "random_seed": 12345,
}

_FLAGS = ("sm_activation_offloading", "fsdp_cache_flush_warnings", "allow_empty_shards")
_MAX_SEED = 2**31 - 1

#: The hyperparameter that carries a job's SMP parameters as JSON, as the real SDK sets it
#: (``SMP._to_mp_hyperparameters``); the script sees it as :data:`ENV`.
MP_PARAMETERS = "mp_parameters"
ENV = "SM_HP_MP_PARAMETERS"


@dataclass(frozen=True)
class Degrees:
    """How a world of ranks is split: sizes of the replicate, shard, context, tensor and
    expert dimensions, and the settings that are not degrees."""

    world_size: int
    replicas: int
    hybrid_shard: int
    context: int
    tensor: int
    expert: int
    random_seed: int
    activation_offloading: bool
    activation_loading_horizon: int

    @property
    def shards(self) -> int:
        """The shard ranks of a context-parallel rank (``hybrid_shard / context``)."""
        return self.hybrid_shard // self.context

    @property
    def data_parallel(self) -> int:
        """How many ranks read distinct batches: ``world / (tensor x context)``."""
        return self.world_size // (self.tensor * self.context)


def check_parameters(value: Any, where: str = "SMP") -> dict[str, Any]:
    """The SMP parameters given (snake_case, as ``SMP.model_dump()`` has them), checked one
    by one; unknown names and wrong types are refused.

    Example:
        >>> check_parameters({"tensor_parallel_degree": 2})
        {'tensor_parallel_degree': 2}
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where} must be a mapping of SMP parameters, got {value!r}.")
    unknown = sorted(set(value) - set(DEFAULTS))
    if unknown:
        raise ConfigurationError(
            f"{where} has unknown parameter(s) {unknown}; SMP v2 takes {sorted(DEFAULTS)}."
        )
    checked: dict[str, Any] = {}
    for name, item in value.items():
        if item is None:
            continue
        if name in _FLAGS:
            if not isinstance(item, bool):
                raise ConfigurationError(f"{where}.{name} must be True or False, got {item!r}.")
        elif isinstance(item, bool) or not isinstance(item, int):
            raise ConfigurationError(f"{where}.{name} must be a whole number, got {item!r}.")
        elif name == "random_seed" and not 0 <= item <= _MAX_SEED:
            raise ConfigurationError(
                f"{where}.random_seed must be between 0 and {_MAX_SEED}, got {item}."
            )
        elif name == "hybrid_shard_degree" and item < 0:
            raise ConfigurationError(
                f"{where}.hybrid_shard_degree must be 0 (the largest that fits) or more, "
                f"got {item}."
            )
        elif name not in ("random_seed", "hybrid_shard_degree") and item < 1:
            raise ConfigurationError(f"{where}.{name} must be at least 1, got {item}.")
        checked[name] = item
    return checked


def resolve(value: Mapping[str, Any] | None, world_size: int, where: str = "SMP") -> Degrees:
    """The degrees of :func:`check_parameters`' ``value`` on ``world_size`` ranks, or a
    :class:`ConfigurationError` that says which degree does not fit and what would.

    Example:
        >>> try:
        ...     resolve({"tensor_parallel_degree": 3}, 4)
        ... except ConfigurationError as error:
        ...     print(str(error)[:60])
        SMP.tensor_parallel_degree (3) must divide the world size (4
    """
    given = {**DEFAULTS, **check_parameters(value, where)}
    tensor, context = given["tensor_parallel_degree"], given["context_parallel_degree"]
    expert = given["expert_parallel_degree"]
    for name, degree in (("tensor_parallel_degree", tensor), ("expert_parallel_degree", expert)):
        _must_divide(where, name, degree, world_size)
    if given["hybrid_shard_degree"] == 0:  # the largest that fits beside tensor parallelism
        given["hybrid_shard_degree"] = world_size // tensor
    shard = given["hybrid_shard_degree"]
    if world_size % (shard * tensor):
        raise ConfigurationError(
            f"{where}: hybrid_shard_degree ({shard}) x tensor_parallel_degree ({tensor}) "
            f"must divide the world size ({_ranks(world_size)}: hosts x processes per host); "
            f"use a hybrid_shard_degree of {_choices(world_size // tensor)} (0: the largest)."
        )
    if context > shard or shard % context:
        raise ConfigurationError(
            f"{where}.context_parallel_degree ({context}) must divide hybrid_shard_degree "
            f"({shard}): the context-parallel ranks shard the model among themselves; set "
            f"hybrid_shard_degree to a multiple of {context}."
        )
    if expert > 1 and tensor > 1:
        raise ConfigurationError(
            f"{where}: expert_parallel_degree ({expert}) cannot be combined with "
            f"tensor_parallel_degree ({tensor}); set one of them to 1."
        )
    if expert > 1 and context > 1:
        raise ConfigurationError(
            f"{where}: expert_parallel_degree ({expert}) with context_parallel_degree "
            f"({context}) is not run by sageyard; set one of them to 1."
        )
    data_parallel = world_size // (tensor * context)
    if data_parallel % expert:
        raise ConfigurationError(
            f"{where}.expert_parallel_degree ({expert}) must divide the data-parallel ranks "
            f"({data_parallel} = world / (tensor x context)); use "
            f"{_choices(data_parallel)}."
        )
    return Degrees(
        world_size=world_size,
        replicas=world_size // (shard * tensor),
        hybrid_shard=shard,
        context=context,
        tensor=tensor,
        expert=expert,
        random_seed=given["random_seed"],
        activation_offloading=given["sm_activation_offloading"],
        activation_loading_horizon=given["activation_loading_horizon"],
    )


def job_parameters(environ: Mapping[str, str], config: Any = None) -> dict[str, Any]:
    """The parameters a job's ``tsm.init(config)`` runs with: ``config`` (a mapping, or the
    path of a JSON file) under the job's own (:data:`ENV`), which take priority as in SMP."""
    if isinstance(config, str):
        try:
            with open(config) as file:
                config = json.load(file)
        except (OSError, ValueError) as error:
            raise ConfigurationError(
                f"tsm.init(config={config!r}): cannot read it as a JSON file of SMP "
                f"parameters ({error})."
            ) from None
    script = check_parameters(config, "tsm.init(config)")
    text = environ.get(ENV)
    try:
        job = json.loads(text) if text else {}
    except ValueError:
        raise ConfigurationError(f"{ENV} is not JSON: {text!r}.") from None
    return {**script, **check_parameters(job, "SMP")}


def _must_divide(where: str, name: str, degree: int, world_size: int) -> None:
    if world_size % degree:
        raise ConfigurationError(
            f"{where}.{name} ({degree}) must divide the world size ({_ranks(world_size)}: "
            f"hosts x processes per host); use {_choices(world_size)}."
        )


def _ranks(number: int) -> str:
    return f"{number} rank" if number == 1 else f"{number} ranks"


def _choices(number: int) -> str:
    """The divisors of ``number``, as ``1, 2 or 4``."""
    divisors = [str(d) for d in range(1, number + 1) if number % d == 0]
    return divisors[0] if len(divisors) == 1 else f"{', '.join(divisors[:-1])} or {divisors[-1]}"
