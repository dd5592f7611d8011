"""The conformance suite of the :class:`~sageyard.executors.Executor` interface."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator

import pytest

from sageyard.executors import Executor, HostExit, HostHandle
from sageyard.executors.scripted import NoProgress
from sageyard.runtime.plan import HostGroup, HostPlan

#: What each test needs a host to do, as the shell command of its plan. An executor that
#: runs no real code (a test double) maps each command to the same behaviour itself.
BEHAVIOURS: dict[str, str] = {
    "succeeds": 'echo "hello from $SM_CURRENT_HOST"',
    "fails": "echo about to fail; exit 3",
    "writes_failure": 'printf "Bad input: column x" > "$SM_OUTPUT_FAILURE"; exit 2',
    "waits": "echo waiting; sleep 60",
    "ignores_sigterm": "trap '' TERM; echo stubborn; sleep 60",
    "writes_model": 'echo weights > "$SM_MODEL_DIR/model.txt"',
}

HOSTS = ("algo-1", "algo-2")


def plan_of(behaviour: str, host: str = "algo-1", hosts: tuple[str, ...] = ("algo-1",)) -> HostPlan:
    """A host plan whose command does ``behaviour`` (a key of :data:`BEHAVIOURS`)."""
    return HostPlan(
        job_name="suite-job",
        host=host,
        hosts=hosts,
        groups=(HostGroup("main", "ml.m5.large", hosts),),
        command=BEHAVIOURS[behaviour],
    )


def wait_for_exit(handle: HostHandle, timeout: float = 30.0) -> HostExit:
    deadline = time.time() + timeout
    while time.time() < deadline:
        ended = handle.poll()
        if ended is not None:
            return ended
        time.sleep(0.01)
    raise AssertionError(f"host {handle.host} did not end within {timeout} s")


def stays_running(handle: HostHandle, seconds: float = 0.3) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if handle.poll() is not None:
            return False
        time.sleep(0.02)
    return True


class ExecutorSuite:
    """Every rule an :class:`~sageyard.executors.Executor` and its host handles keep.

    Subclass it in a ``Test*`` class and override the ``executor_factory`` fixture with a
    callable that makes a new executor (for one job, nothing reserved). The hosts' plans
    run the shell commands of :data:`BEHAVIOURS`; a test double that runs no command
    makes each behaviour out of the plan's ``command`` itself.

    Example:
        >>> class TestMyExecutor(ExecutorSuite):  # doctest: +SKIP
        ...     @pytest.fixture
        ...     def executor_factory(self, settings):
        ...         return lambda: MyExecutor(settings, "suite-job")
    """

    @pytest.fixture
    def executor_factory(self) -> Callable[[], Executor]:
        raise NotImplementedError("override executor_factory with one that makes executors")

    @pytest.fixture
    def executor(self, executor_factory: Callable[[], Executor]) -> Iterator[Executor]:
        executor = executor_factory()
        try:
            yield executor
        finally:
            executor.close()

    def _start(self, executor: Executor, *plans: HostPlan) -> list[HostHandle]:
        assert executor.reserve(list(plans), None, NoProgress()) is True
        return [executor.start(plan) for plan in plans]

    def test_a_host_that_succeeds_exits_0_with_no_failure(self, executor: Executor) -> None:
        (host,) = self._start(executor, plan_of("succeeds"))
        assert host.host == "algo-1"
        assert wait_for_exit(host) == HostExit(0, None)
        assert b"hello from algo-1" in host.read_log(0)

    def test_a_failing_host_reports_its_exit_code_and_output(self, executor: Executor) -> None:
        (host,) = self._start(executor, plan_of("fails"))
        ended = wait_for_exit(host)
        assert ended.code == 3
        assert ended.failure_text is not None
        assert ended.failure_text.startswith("AlgorithmError: the script exited with code 3")

    def test_the_failure_file_is_the_failure_text(self, executor: Executor) -> None:
        (host,) = self._start(executor, plan_of("writes_failure"))
        assert wait_for_exit(host) == HostExit(2, "Bad input: column x")

    def test_sigterm_ends_a_running_host(self, executor: Executor) -> None:
        (host,) = self._start(executor, plan_of("waits"))
        assert host.poll() is None
        host.signal(signal.SIGTERM)
        assert wait_for_exit(host) == HostExit(-signal.SIGTERM, None)

    def test_sigkill_ends_a_host_that_ignores_sigterm(self, executor: Executor) -> None:
        (host,) = self._start(executor, plan_of("ignores_sigterm"))
        _wait_for_output(host, b"stubborn")
        host.signal(signal.SIGTERM)
        assert stays_running(host)
        host.signal(signal.SIGKILL)
        assert wait_for_exit(host) == HostExit(-signal.SIGKILL, None)

    def test_signals_after_the_end_change_nothing(self, executor: Executor) -> None:
        (host,) = self._start(executor, plan_of("succeeds"))
        ended = wait_for_exit(host)
        host.signal(signal.SIGKILL)
        assert host.poll() == ended

    def test_read_log_reads_from_an_offset(self, executor: Executor) -> None:
        (host,) = self._start(executor, plan_of("succeeds"))
        wait_for_exit(host)
        output = host.read_log(0)
        assert output.endswith(b"\n")
        assert host.read_log(3) == output[3:]
        assert host.read_log(len(output)) == b""

    def test_finish_names_the_model_folder_the_host_wrote(self, executor: Executor) -> None:
        (host,) = self._start(executor, plan_of("writes_model"))
        assert wait_for_exit(host).code == 0
        outputs = host.finish()
        assert (outputs.model_dir / "model.txt").read_text().strip() == "weights"
        assert outputs.output_data_dir.is_dir()

    def test_each_host_of_a_job_runs_its_own_plan(self, executor: Executor) -> None:
        handles = self._start(executor, *(plan_of("succeeds", h, HOSTS) for h in HOSTS))
        assert [handle.host for handle in handles] == list(HOSTS)
        for handle in handles:
            assert wait_for_exit(handle).code == 0
            assert f"hello from {handle.host}".encode() in handle.read_log(0)

    def test_a_host_may_start_again_for_a_retry(self, executor: Executor) -> None:
        (first,) = self._start(executor, plan_of("succeeds"))
        wait_for_exit(first)
        again = executor.start(plan_of("succeeds"))
        assert wait_for_exit(again).code == 0
        assert again.read_log(0).count(b"hello from algo-1") == 1  # this start's output only

    def test_start_before_reserve_is_an_error(
        self, executor_factory: Callable[[], Executor]
    ) -> None:
        executor = executor_factory()
        with pytest.raises(RuntimeError, match="reserve"):
            executor.start(plan_of("succeeds"))
        executor.close()

    def test_close_gives_the_capacity_back(self, executor_factory: Callable[[], Executor]) -> None:
        plans = [plan_of("succeeds", h, HOSTS) for h in HOSTS]
        for _ in range(3):  # each round would wait forever if the last one kept its capacity
            executor = executor_factory()
            assert executor.reserve(plans, 5, NoProgress()) is True
            executor.close()
            executor.close()  # a second close is harmless


def _wait_for_output(handle: HostHandle, text: bytes, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while text not in handle.read_log(0):
        if time.time() > deadline:
            raise AssertionError(f"host {handle.host} did not print {text!r}")
        time.sleep(0.01)
