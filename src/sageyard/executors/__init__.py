"""Where a job's host processes run.

An :class:`Executor` starts one host of a job and hands back a :class:`HostHandle`; the
job's supervisor does the rest (staging, watching, uploading). Executors are known by name
(``SAGEYARD_EXECUTOR``, or ``container`` for ``Mode.LOCAL_CONTAINER``), each resolved
lazily from a ``"module:Class"`` string; an unknown name is an error, never a fallback.
"""

from __future__ import annotations

from sageyard.core.exceptions import ConfigurationError
from sageyard.executors._base import Executor, HostHandle, HostLaunch, Mount

__all__ = ["EXECUTORS", "Executor", "HostHandle", "HostLaunch", "Mount", "check_executor_name"]

# name → "module:Class", or None for a name that is planned but not implemented yet.
EXECUTORS: dict[str, str | None] = {
    "local": "sageyard.executors.local:LocalExecutor",
    "container": "sageyard.executors.container:ContainerExecutor",
    "ray": None,  # the Ray executor: scale-out to a cluster (not in this version yet)
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
