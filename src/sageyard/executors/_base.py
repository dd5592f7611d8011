"""The executor interface: place a job's hosts, run each host's plan, report how it ended.

One :class:`Executor` serves one job: :meth:`~Executor.reserve` takes capacity for all its
hosts (waiting while the machine or cluster is busy) and decides where each runs;
:meth:`~Executor.start` sets up one host from its :class:`~sageyard.runtime.plan.HostPlan`
on its node (``runtime/host.py``) and starts it; :meth:`~Executor.close` gives the
capacity back. A :class:`HostHandle` is all the supervisor knows of a running host.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from sageyard.core.settings import Settings
from sageyard.runtime.host import HostExit, HostOutputs
from sageyard.runtime.plan import HostPlan

#: The most of a host's output one :meth:`HostHandle.read_log` returns: a caller reads on
#: from the new offset, so a job that prints hundreds of MB is never read into memory.
LOG_CHUNK = 1 << 20


class Progress(Protocol):
    """What a job's supervisor lets its executor tell the user while it reserves capacity."""

    def note(self, message: str) -> None:
        """A warning for the user (describe's ``Warnings``), such as a GPU shortfall."""
        ...

    def waiting(self, message: str) -> None:
        """The job waits for capacity; ``message`` says for what."""
        ...

    def stop_requested(self) -> bool:
        """Whether the user asked the job to stop (cheap to call often)."""
        ...


class HostHandle(Protocol):
    """One running host, wherever it runs."""

    host: str

    @property
    def pid(self) -> int | None:
        """The host's process group on this machine, if it runs here (else ``None``)."""
        ...

    def poll(self) -> HostExit | None:
        """How the host ended, once it has; ``None`` while it runs."""
        ...

    def signal(self, signum: int) -> None:
        """Send a signal to the host's whole process tree (nothing once it has ended)."""
        ...

    def read_log(self, offset: int) -> bytes:
        """The host's output from byte ``offset`` on (0: where this start began), at most
        LOG_CHUNK bytes of it."""
        ...

    def finish(self) -> HostOutputs:
        """After the host ended: upload what it alone leaves; name the folders to merge."""
        ...


class Executor(Protocol):
    """Places and runs the hosts of one job; constructed as ``Class(settings, job_name)``."""

    def __init__(self, settings: Settings, job_name: str) -> None: ...

    @classmethod
    def check_job(cls, settings: Settings, plans: Sequence[HostPlan]) -> None:
        """Refuse, when the job is created (before anything is written), a job this
        executor can never run: a ConfigurationError, or ResourceLimitExceeded for capacity
        it cannot have."""
        ...

    def reserve(
        self, plans: Sequence[HostPlan], max_pending_seconds: float | None, progress: Progress
    ) -> bool:
        """Take capacity for every host of the job; ``False`` when stopped while waiting.

        Raises :class:`~sageyard.core.exceptions.CapacityError` when no capacity came
        within ``max_pending_seconds`` (``None``: wait as long as it takes).
        """
        ...

    def start(self, plan: HostPlan) -> HostHandle:
        """Set up and start one host (after :meth:`reserve`).

        Raises :class:`~sageyard.runtime.host.HostSetupError` when the host cannot start.
        """
        ...

    def close(self) -> None:
        """Give back what :meth:`reserve` took (no-op when nothing is held)."""
        ...


@runtime_checkable
class WarmExecutor(Executor, Protocol):
    """An executor that can keep its capacity (and hosts) warm for the next job of a warm pool
    (``jobs/warm_pools.py``): after a job, instead of :meth:`close`, :meth:`reuse` it for the
    next, whose :meth:`reserve` then takes the capacity already held."""

    def park(self) -> None:
        """The job's hosts ended and its capacity stays warm: leave the job's files in its
        own folders (before its end is written)."""
        ...

    def warm_up(self) -> None:
        """Get the held hosts ready for the next job (after the job's end is written)."""
        ...

    def reuse(self, job_name: str) -> None:
        """Run ``job_name`` next, on the capacity this executor holds (its hosts ended)."""
        ...
