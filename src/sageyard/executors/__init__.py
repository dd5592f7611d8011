"""Where a job's hosts run: place them, run each host's plan, report how each ended.

An :class:`Executor` serves one job: ``reserve`` takes capacity for its hosts, ``start``
runs one host's :class:`~sageyard.runtime.plan.HostPlan` on its node and hands back a
:class:`HostHandle`, ``close`` gives the capacity back; the job's supervisor watches the
handles. Executors are known by name (``SAGEYARD_EXECUTOR``, or ``container`` for
``Mode.LOCAL_CONTAINER``), each resolved lazily from a ``"module:Class"`` string by
:func:`executor_for`; an unknown or unimplemented name is an error, never a fallback.
"""

from __future__ import annotations

import importlib

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.settings import Settings
from sageyard.executors._base import Executor, HostHandle, Progress, WarmExecutor
from sageyard.runtime.host import HostExit, HostOutputs, HostSetupError
from sageyard.runtime.plan import HostPlan

__all__ = [
    "EXECUTORS",
    "Executor",
    "HostExit",
    "HostHandle",
    "HostOutputs",
    "HostPlan",
    "HostSetupError",
    "Progress",
    "WarmExecutor",
    "check_executor_name",
    "executor_class",
    "executor_for",
]

# name → "module:Class", or None for a name that is planned but not implemented yet. The
# class is constructed as ``Class(settings, job_name)``, without I/O; a new executor is one
# module and one line here.
EXECUTORS: dict[str, str | None] = {
    "local": "sageyard.executors.local:LocalExecutor",
    "container": "sageyard.executors.container:ContainerExecutor",
    "ray": "sageyard.executors.ray:RayExecutor",
}


def check_executor_name(name: str) -> str:
    """``name`` if an executor of that name runs jobs here; else a ConfigurationError.

    Example:
        >>> check_executor_name("local")
        'local'
    """
    if name not in EXECUTORS:
        raise ConfigurationError(
            f"There is no executor named {name!r}; known: {', '.join(sorted(EXECUTORS))}. "
            "Set SAGEYARD_EXECUTOR to one of them, or unset it for 'local'."
        )
    if EXECUTORS[name] is None:
        raise ConfigurationError(
            f"The {name!r} executor is not implemented in this version of sageyard yet, so "
            f"jobs cannot run on it; unset SAGEYARD_EXECUTOR (or set it to 'local') to run "
            "them on this machine."
        )
    return name


def executor_class(name: str) -> type[Executor]:
    """The class of the executor called ``name``, imported now.

    Raises:
        ConfigurationError: No executor of that name runs jobs here.
    """
    target = EXECUTORS[check_executor_name(name)]
    assert target is not None
    module, _, attribute = target.partition(":")
    found: type[Executor] = getattr(importlib.import_module(module), attribute)
    return found


def executor_for(name: str, settings: Settings, job_name: str) -> Executor:
    """A new executor of kind ``name`` for the job ``job_name`` (nothing started yet)."""
    return executor_class(name)(settings, job_name)
