"""What a SageMaker instance type asks of a Ray cluster: CPUs, GPUs and memory per host.

A job's hosts each reserve one placement-group bundle of these resources (``ray.py``).
The table follows the instance families' published sizes: vCPUs by size (``large``: 2,
``xlarge``: 4, … ``48xlarge``: 192), memory by family per vCPU (``c``: 2 GiB, ``m``/``g``/
``t``: 4 GiB, ``r``/``p``: 8 GiB …), GPUs from :func:`gpus_for_instance_type`.
``SAGEYARD_RAY_RESOURCES`` (a JSON object from instance type to ``{"CPU", "GPU",
"memory_gib"}``) replaces an entry or adds one — for a cluster whose nodes are smaller
than the instances a script names, say.

Example:
    >>> resources_for("ml.m5.xlarge")
    {'CPU': 4.0, 'memory': 17179869184}
    >>> resources_for("ml.g5.2xlarge")["GPU"]
    1.0
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.executors.local_slots import gpus_for_instance_type

__all__ = ["parse_resource_table", "resources_for"]

GIB = 1 << 30

#: vCPUs by instance size.
_SIZES = {
    "medium": 1,
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "3xlarge": 12,
    "4xlarge": 16,
    "6xlarge": 24,
    "8xlarge": 32,
    "9xlarge": 36,
    "12xlarge": 48,
    "16xlarge": 64,
    "18xlarge": 72,
    "24xlarge": 96,
    "32xlarge": 128,
    "48xlarge": 192,
}

#: GiB of memory per vCPU, by the family's letter.
_MEMORY_PER_CPU = {"c": 2, "m": 4, "t": 2, "g": 4, "r": 8, "x": 16, "p": 8, "i": 8, "z": 8}

#: Local mode's instance types: one host of this machine's size is not known; one CPU.
_LOCAL = {"CPU": 1.0}


def resources_for(
    instance_type: str, table: Mapping[str, Mapping[str, float]] | None = None
) -> dict[str, Any]:
    """The Ray resources of one host of ``instance_type`` (``table``: the overrides)."""
    if table and instance_type in table:
        entry = table[instance_type]
        found: dict[str, Any] = {"CPU": float(entry.get("CPU", 1))}
        if entry.get("GPU"):
            found["GPU"] = float(entry["GPU"])
        if entry.get("memory_gib"):
            found["memory"] = int(float(entry["memory_gib"]) * GIB)
        return found
    if instance_type.startswith("local"):
        return dict(_LOCAL)
    _, family, size = ([*instance_type.split("."), "", ""])[:3]
    cpus = _SIZES.get(size, 2)
    found = {"CPU": float(cpus)}
    gpus = gpus_for_instance_type(instance_type)
    if gpus:
        found["GPU"] = float(gpus)
    per_cpu = _MEMORY_PER_CPU.get(family[:1], 4)
    found["memory"] = cpus * per_cpu * GIB
    return found


def parse_resource_table(text: str | None) -> dict[str, dict[str, float]]:
    """``SAGEYARD_RAY_RESOURCES``'s value, checked.

    Raises:
        ConfigurationError: It is not a JSON object of ``{"CPU", "GPU", "memory_gib"}``.
    """
    if not text:
        return {}
    example = '{"ml.m5.xlarge": {"CPU": 2, "memory_gib": 4}}'
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ConfigurationError(
            f"SAGEYARD_RAY_RESOURCES must be JSON, e.g. {example}; got {text!r} ({error})."
        ) from error
    if not isinstance(value, dict):
        raise ConfigurationError(
            f"SAGEYARD_RAY_RESOURCES must be a JSON object, e.g. {example}; got {text!r}."
        )
    table: dict[str, dict[str, float]] = {}
    for instance_type, entry in value.items():
        keys = set(entry) if isinstance(entry, dict) else set()
        numbers = isinstance(entry, dict) and all(
            isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
            for v in entry.values()
        )
        if not isinstance(entry, dict) or not keys <= {"CPU", "GPU", "memory_gib"} or not numbers:
            raise ConfigurationError(
                f"SAGEYARD_RAY_RESOURCES[{instance_type!r}] must be an object of CPU, GPU and "
                f"memory_gib (numbers >= 0), e.g. {example}; got {entry!r}."
            )
        if not entry.get("CPU", 1):
            raise ConfigurationError(
                f"SAGEYARD_RAY_RESOURCES[{instance_type!r}] asks for 0 CPUs; each host "
                "needs at least a fraction of one (e.g. 0.5)."
            )
        table[instance_type] = {k: float(v) for k, v in entry.items()}
    return table
