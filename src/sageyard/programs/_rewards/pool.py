"""The reward runtime: reward functions run in a pool of sandboxed worker processes.

A reward function runs code the model wrote (a code-correctness reward executes it), so it
never runs in the training process: each :class:`RewardPool` worker (``worker.py``) has no
network, an address-space limit and a scratch folder of its own, and each call a time
limit. A call that raises, runs out of time, or dies (over its memory, say) gives its
samples no reward, with the reason; the worker is started again and training goes on.

Example:
    >>> with RewardPool("reward.py", workers=2, timeout=5) as pool:  # doctest: +SKIP
    ...     scores = pool.score(samples)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from types import TracebackType

from sageyard.programs._rewards.contract import Contract, Sample, Score

__all__ = ["RewardPool"]

log = logging.getLogger(__name__)

WORKER = "sageyard.programs._rewards.worker"


class _Worker:
    def __init__(self, handler: Path, memory_mb: int, scratch: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="reward-", dir=scratch))
        self.process = subprocess.Popen(
            [sys.executable, "-m", WORKER, str(handler), str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=self.folder,
            start_new_session=True,  # its own group: killed with whatever it started
        )
        self._pending = b""

    def send(self, request: dict[str, object]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()

    def fileno(self) -> int:
        assert self.process.stdout is not None
        return self.process.stdout.fileno()

    def buffered_line(self) -> bytes | None:
        """A whole line already read, if there is one."""
        if b"\n" not in self._pending:
            return None
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def read_line(self) -> bytes | None:
        """A whole line if one has arrived (after a ready select); b"" at the end."""
        chunk = os.read(self.fileno(), 1 << 20)
        if not chunk:
            return b""
        self._pending += chunk
        return self.buffered_line()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class RewardPool:
    """``workers`` sandboxed processes running the ``lambda_handler`` of ``handler``.

    ``timeout`` bounds each call (seconds), ``memory_mb`` each worker's address space;
    the workers' scratch folders are made under ``scratch`` (a temporary folder by
    default). :meth:`score` rewards a batch, split across the workers.
    """

    def __init__(
        self,
        handler: str | Path,
        workers: int = 2,
        timeout: float = 10.0,
        memory_mb: int = 1024,
        scratch: str | Path | None = None,
    ) -> None:
        self.handler = Path(handler).resolve()
        self.size = max(1, workers)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.scratch = Path(scratch) if scratch is not None else None
        self.contract: Contract | None = None
        self.isolated: bool | None = None
        self._workers: list[_Worker] = []
        self._folder: Path | None = None

    def __enter__(self) -> RewardPool:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> RewardPool:
        self._folder = Path(tempfile.mkdtemp(prefix="rewards-", dir=self.scratch))
        try:
            for _ in range(self.size):
                self._workers.append(self._start_worker())
        except BaseException:
            self.close()  # the workers already started, and the scratch folder
            raise
        return self

    def _start_worker(self) -> _Worker:
        assert self._folder is not None
        worker = _Worker(self.handler, self.memory_mb, self._folder)
        hello = self._read(worker, time.monotonic() + 60)
        if not hello:
            code = worker.process.poll()
            worker.kill()
            raise RuntimeError(
                f"The reward function {self.handler} could not be loaded in a reward worker "
                f"(exit code {code}); its error is in the job's log above."
            )
        state = json.loads(hello)
        if self.isolated is None:
            self.isolated = bool(state["isolated"])
            if not self.isolated:
                log.warning(
                    "Reward workers run with the network of the job: %s. They still have "
                    "their own scratch folder, memory limit and time limit.",
                    state["why"],
                )
        return worker

    def _read(self, worker: _Worker, deadline: float) -> bytes | None:
        """The worker's next line by ``deadline``; None if it timed out, b"" if it died."""
        if (line := worker.buffered_line()) is not None:
            return line
        while True:  # past the deadline still takes what has arrived
            left = max(0.0, deadline - time.monotonic())
            if select.select([worker], [], [], left)[0]:
                line = worker.read_line()
                if line is not None:
                    return line
            elif left == 0:
                return None

    def score(self, samples: Sequence[Sample]) -> list[Score]:
        """A score per sample (``reward`` None and ``error`` for those that failed)."""
        if not samples:
            return []
        count = min(len(self._workers), len(samples))
        size = -(-len(samples) // count)
        chunks = [samples[i * size : (i + 1) * size] for i in range(count)]
        busy = []
        for worker, chunk in zip(self._workers, chunks, strict=False):
            if not chunk:
                continue
            worker.send({"samples": [asdict(s) for s in chunk], "contract": self.contract})
            busy.append((worker, chunk))
        deadline = time.monotonic() + self.timeout
        scores: list[Score] = []
        for worker, chunk in busy:
            line = self._read(worker, deadline)
            if line:
                reply = json.loads(line)
                self.contract = self.contract or reply["contract"]
                scores += [Score(**score) for score in reply["scores"]]
                continue
            if line is None:
                why = f"the reward function took longer than {self.timeout:g} s"
            else:
                code = worker.process.wait()
                why = f"the reward worker died (exit code {code}; over its memory limit?)"
            scores += [Score(None, error=why) for _ in chunk]
            self._replace(worker)
        return scores

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._workers[self._workers.index(worker)] = self._start_worker()

    def close(self) -> None:
        for worker in self._workers:
            worker.kill()
        self._workers = []
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
