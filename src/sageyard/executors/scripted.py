"""A scripted executor: hosts that do what a test says, in milliseconds, with no process.

The test double of the executor interface (as httpx's ``MockTransport`` is of its
transports): each host follows a :class:`Script` (what it prints, how long it runs, how it
exits, what it does on SIGTERM), so the supervisor's handling of stop requests, max
runtime, a failing host, a host killed by a signal and retries is tested without staging
or processes. It passes the same conformance suite as the real executors
(``sageyard.testing.ExecutorSuite``).

Example:
    >>> import signal, tempfile
    >>> from sageyard.runtime.plan import HostGroup, HostPlan
    >>> executor = ScriptedExecutor(Script(lines=("loss=0.5",), seconds=60), tempfile.mkdtemp())
    >>> plan = HostPlan("job", "algo-1", ("algo-1",), (HostGroup("g", "ml.m5.large",
    ...     ("algo-1",)),), command="train")
    >>> executor.reserve([plan], None, NoProgress())
    True
    >>> host = executor.start(plan)
    >>> host.poll() is None, host.read_log(0)
    (True, b'loss=0.5\\n')
    >>> host.signal(signal.SIGTERM); host.poll()
    HostExit(code=-15, failure_text=None)
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sageyard.core.exceptions import CapacityError
from sageyard.core.settings import Settings
from sageyard.executors._base import Executor, HostHandle, Progress
from sageyard.runtime.host import HostExit, HostOutputs, HostSetupError
from sageyard.runtime.plan import HostPlan

__all__ = ["NoProgress", "Script", "ScriptedExecutor", "ScriptedHost"]


@dataclass(frozen=True)
class Script:
    """What one scripted host does in one attempt.

    It prints ``lines`` spread over ``seconds``, then exits with ``code``; a failing exit
    reports ``failure_text`` (by default the AlgorithmError a script's exit code gives).
    On SIGTERM it exits with ``on_sigterm`` (``None``: it ignores SIGTERM, and only
    SIGKILL ends it). ``out_of_memory``: its end (a SIGKILL ``code``) came from the kernel's
    out-of-memory killer. ``setup_error`` makes :meth:`ScriptedExecutor.start` fail instead.
    ``model_files`` are written to its model folder (name → text) before it exits.
    """

    lines: tuple[str, ...] = ()
    seconds: float = 0.0
    code: int = 0
    failure_text: str | None = None
    on_sigterm: int | None = -signal.SIGTERM
    out_of_memory: bool = False
    setup_error: HostSetupError | None = None
    model_files: Mapping[str, str] = field(default_factory=dict)


class NoProgress:
    """A :class:`~sageyard.executors.Progress` that shows nothing and never asks to stop."""

    def note(self, message: str) -> None:
        pass

    def waiting(self, message: str) -> None:
        pass

    def stop_requested(self) -> bool:
        return False


class ScriptedHost:
    """One scripted host: its output and exit follow its script and the clock."""

    pid = None

    def __init__(self, plan: HostPlan, script: Script, folder: Path) -> None:
        self.host = plan.host
        self.script = script
        self.signals: list[int] = []  # every signal it was sent, in order
        self.finished = False
        self._started = time.time()
        self._exit: HostExit | None = None
        self._model_dir = folder / "model"
        self._output_dir = folder / "output" / "data"
        for path in (self._model_dir, self._output_dir):
            path.mkdir(parents=True, exist_ok=True)

    def _end(self, code: int, failure_text: str | None = None) -> None:
        if self._exit is None:
            for name, text in self.script.model_files.items():
                (self._model_dir / name).write_text(text)
            self._exit = HostExit(code, failure_text, out_of_memory=self.script.out_of_memory)

    def poll(self) -> HostExit | None:
        if self._exit is None and time.time() >= self._started + self.script.seconds:
            code = self.script.code
            text = self.script.failure_text
            if code > 0 and text is None:
                text = f"AlgorithmError: the script exited with code {code}."
            self._end(code, text if code else None)
        return self._exit

    def signal(self, signum: int) -> None:
        if self._exit is not None:
            return
        self.signals.append(signum)
        if signum == signal.SIGKILL:
            self._end(-signal.SIGKILL)
        elif signum == signal.SIGTERM and self.script.on_sigterm is not None:
            self._end(self.script.on_sigterm)

    def read_log(self, offset: int) -> bytes:
        lines = self.script.lines
        if self._exit is not None or not self.script.seconds:
            shown = len(lines)
        else:
            elapsed = (time.time() - self._started) / self.script.seconds
            shown = min(len(lines), int(elapsed * len(lines)) + 1)
        return "".join(line + "\n" for line in lines[:shown]).encode()[offset:]

    def finish(self) -> HostOutputs:
        self.finished = True
        return HostOutputs(self._model_dir, self._output_dir)


Scripts = Script | Mapping[str, Script | Sequence[Script]] | Callable[[HostPlan], Script]


class ScriptedExecutor:
    """Runs scripted hosts. ``scripts``: one script for every host; host name → script, or
    → a script per attempt (the last one repeats); or a function of the host's plan.

    ``capacity_after``: seconds until :meth:`reserve` gets capacity (``None``: never).
    """

    def __init__(
        self,
        scripts: Scripts,
        folder: Path | str,
        *,
        capacity_after: float | None = 0.0,
    ) -> None:
        self.scripts = scripts
        self.folder = Path(folder)
        self.capacity_after = capacity_after
        self.reserved = False
        self.closed = False
        self.hosts: list[ScriptedHost] = []  # every host started, over every attempt
        self.jobs: list[str] = []  # the jobs it ran after the first (a warm pool's)
        self._starts: dict[str, int] = {}

    @classmethod
    def check_job(cls, settings: Settings, plans: Sequence[HostPlan]) -> None:
        """Every job can run on scripted hosts."""

    def reserve(
        self, plans: Sequence[HostPlan], max_pending_seconds: float | None, progress: Progress
    ) -> bool:
        if self.reserved and not self.closed:  # a warm pool's capacity
            return True
        began = time.time()
        waited = False
        while self.capacity_after is None or time.time() < began + self.capacity_after:
            if not waited:
                progress.waiting(f"Waiting for capacity: {len(plans)} scripted host(s).")
                waited = True
            if progress.stop_requested():
                return False
            if max_pending_seconds is not None and time.time() >= began + max_pending_seconds:
                raise CapacityError(
                    f"no capacity within MaxPendingTimeInSeconds ({max_pending_seconds} s); "
                    "the scripted executor was told to have none."
                )
            time.sleep(0.005)
        self.reserved = True
        return True

    def park(self) -> None:
        """Scripted hosts leave no files to move."""

    def warm_up(self) -> None:
        """Scripted hosts are always ready."""

    def reuse(self, job_name: str) -> None:
        """Run ``job_name`` next on the capacity held (a warm pool's next job)."""
        self.jobs.append(job_name)

    def script_for(self, plan: HostPlan, attempt: int) -> Script:
        scripts = self.scripts
        if isinstance(scripts, Script):
            return scripts
        if callable(scripts):
            return scripts(plan)
        chosen = scripts.get(plan.host, Script())
        if isinstance(chosen, Script):
            return chosen
        return chosen[min(attempt, len(chosen) - 1)]

    def start(self, plan: HostPlan) -> ScriptedHost:
        if not self.reserved:
            raise RuntimeError("reserve() capacity before starting hosts")
        attempt = self._starts.get(plan.host, 0)
        self._starts[plan.host] = attempt + 1
        script = self.script_for(plan, attempt)
        if script.setup_error is not None:
            raise script.setup_error
        host = ScriptedHost(plan, script, self.folder / f"{plan.host}-{attempt}")
        self.hosts.append(host)
        return host

    def close(self) -> None:
        self.reserved = False
        self.closed = True


if TYPE_CHECKING:  # mypy checks that both keep their interface
    _executor: type[Executor] = ScriptedExecutor
    _host: type[HostHandle] = ScriptedHost
