"""The Executor contract (``sageyard.testing.ExecutorSuite``) on every executor shipped:
the local one (in a mount namespace where this machine allows it, and without), the
scripted test double, and the container one (against the stand-in ``docker``).
"""

from __future__ import annotations

import dataclasses
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.settings import Settings
from sageyard.executors import Executor, HostPlan, HostSetupError
from sageyard.executors.container import ContainerExecutor
from sageyard.executors.local import LocalExecutor, LocalHost
from sageyard.executors.scripted import NoProgress, Script, ScriptedExecutor
from sageyard.runtime.sandbox import isolation_available, sandbox_kind
from sageyard.testing import BEHAVIOURS, ExecutorSuite, plan_of
from sageyard.testing._executor import HOSTS, wait_for_exit
from tests.fake_docker import stand_in_docker


class TestLocalExecutor(ExecutorSuite):
    """In a private mount namespace when this machine allows it (root on Linux)."""

    @pytest.fixture
    def executor_factory(self, sageyard_home: Path) -> Callable[[], Executor]:
        settings = Settings.from_env()
        return lambda: LocalExecutor(settings, "suite-job")

    def test_hosts_get_a_namespace_where_the_machine_allows(
        self, executor_factory: Callable[[], Executor]
    ) -> None:
        executor = executor_factory()
        assert isinstance(executor, LocalExecutor)
        plan = _plan()
        executor.reserve([plan], None, NoProgress())
        placement = executor.placement(plan)
        assert placement.isolate is isolation_available()
        executor.close()

    @pytest.mark.skipif(sandbox_kind() != "bwrap", reason="needs bubblewrap")
    def test_a_sandbox_that_cannot_be_built_is_a_retryable_setup_error(
        self, executor_factory: Callable[[], Executor], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from sageyard.executors import local

        def broken(*args: Any, **kwargs: Any) -> list[str]:
            argv = real(*args, **kwargs)
            return [argv[0], "--ro-bind", "/no/such/folder", "/x", *argv[1:]]

        real = local.bwrap_argv
        monkeypatch.setattr(local, "bwrap_argv", broken)
        executor = executor_factory()
        plan = _plan()
        executor.reserve([plan], None, NoProgress())
        with pytest.raises(HostSetupError, match="sandbox of algo-1 could not start: bwrap") as e:
            executor.start(plan)
        assert e.value.retryable
        executor.close()

    def test_a_sigkill_while_the_oom_killer_worked_is_out_of_memory(
        self, executor_factory: Callable[[], Executor], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from sageyard.executors import local
        from sageyard.runtime import host as runtime_host

        executor = executor_factory()
        plan = plan_of("waits")
        executor.reserve([plan], None, NoProgress())
        handle = executor.start(plan)
        kills = local.oom_kills()
        monkeypatch.setattr(runtime_host, "oom_kills", lambda: kills + 1)
        handle.signal(signal.SIGKILL)  # as the out-of-memory killer would
        ended = wait_for_exit(handle)
        assert (ended.code, ended.out_of_memory) == (-signal.SIGKILL, True)
        executor.close()


@pytest.mark.skipif(sandbox_kind() != "bwrap", reason="needs bubblewrap")
class TestLocalExecutorWithThePythonShim(ExecutorSuite):
    """Under bubblewrap where ``env --default-signal`` is missing (an older coreutils): the
    command starts through the Python shim, and every rule still holds."""

    @pytest.fixture
    def executor_factory(
        self, sageyard_home: Path, monkeypatch: pytest.MonkeyPatch
    ) -> Callable[[], Executor]:
        from sageyard.runtime import sandbox

        monkeypatch.setattr(sandbox, "_env_resets_signals", lambda: False)
        settings = Settings.from_env()
        return lambda: LocalExecutor(settings, "suite-job")

    def test_the_command_starts_through_the_python_shim(
        self, executor_factory: Callable[[], Executor]
    ) -> None:
        from sageyard.runtime import sandbox

        executor_factory()
        assert sandbox._command(["true"])[:2] == [sys.executable, "-S"]


class TestLocalExecutorWithoutNamespace(ExecutorSuite):
    """``SAGEYARD_ISOLATION=off``: plain process groups, inputs copied."""

    @pytest.fixture
    def executor_factory(
        self, sageyard_home: Path, monkeypatch: pytest.MonkeyPatch
    ) -> Callable[[], Executor]:
        monkeypatch.setenv("SAGEYARD_ISOLATION", "off")
        settings = Settings.from_env()
        return lambda: LocalExecutor(settings, "suite-job")


def _scripted(plan: HostPlan) -> Script:
    """Each behaviour of the suite, as a script (the double runs no command)."""
    scripts = {
        "succeeds": Script(lines=(f"hello from {plan.host}",)),
        "fails": Script(lines=("about to fail",), code=3),
        "writes_failure": Script(code=2, failure_text="Bad input: column x"),
        "waits": Script(lines=("waiting",), seconds=60),
        "ignores_sigterm": Script(lines=("stubborn",), seconds=60, on_sigterm=None),
        "writes_model": Script(model_files={"model.txt": "weights\n"}),
    }
    behaviour = next(name for name, command in BEHAVIOURS.items() if command == plan.command)
    return scripts[behaviour]


class TestScriptedExecutor(ExecutorSuite):
    @pytest.fixture
    def executor_factory(self, tmp_path: Path) -> Callable[[], Executor]:
        return lambda: ScriptedExecutor(_scripted, tmp_path / "scripted")

    def test_it_records_the_signals_each_host_got(self, tmp_path: Path) -> None:
        executor = ScriptedExecutor(Script(seconds=60, on_sigterm=None), tmp_path)
        executor.reserve([_plan()], None, NoProgress())
        host = executor.start(_plan())
        host.signal(signal.SIGTERM)
        host.signal(signal.SIGKILL)
        host.signal(signal.SIGTERM)  # after its end: not delivered
        assert host.signals == [signal.SIGTERM, signal.SIGKILL]


@pytest.mark.skipif(not isolation_available(), reason="the stand-in docker needs namespaces")
class TestContainerExecutor(ExecutorSuite):
    """Against the stand-in ``docker`` of ``tests/fake_docker.py``."""

    @pytest.fixture
    def executor_factory(
        self, sageyard_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[Callable[[], Executor]]:
        settings = Settings.from_env()
        with stand_in_docker(tmp_path, monkeypatch):
            yield lambda: _ImageExecutor(settings, "suite-job")


class _ImageExecutor(ContainerExecutor):
    """The suite's plans name no image; the stand-in runs any."""

    def start(self, plan: HostPlan) -> LocalHost:
        return super().start(dataclasses.replace(plan, training_image="suite-image:1"))


def _plan() -> HostPlan:
    from sageyard.testing import plan_of

    return plan_of("succeeds")


class TestRayExecutor(ExecutorSuite):
    """On a local Ray cluster of two nodes, the object store a moto S3 server: each host in
    an actor on its node, staged and sandboxed by the local executor's node-side code."""

    @pytest.fixture
    def executor_factory(
        self, sageyard_home: Path, ray_cluster: Any, moto_endpoint: str
    ) -> Callable[[], Executor]:
        from sageyard.executors.ray import RayExecutor

        settings = Settings.from_env().with_overrides(
            s3_endpoint_url=moto_endpoint,
            executor="ray",
            ray_address=ray_cluster.address,
            ray_resources='{"ml.m5.large": {"CPU": 1}}',
        )
        return lambda: RayExecutor(settings, "suite-job")

    def test_the_hosts_of_a_job_run_on_different_nodes(
        self, executor_factory: Callable[[], Executor]
    ) -> None:
        import ray

        executor = executor_factory()
        command = 'echo "node=$SAGEYARD_RAY_NODE_ID"'
        try:
            plans = [
                dataclasses.replace(plan_of("succeeds", h, HOSTS), command=command) for h in HOSTS
            ]
            handles = self._start(executor, *plans)
            assert executor.strategy == "STRICT_SPREAD"  # type: ignore[attr-defined]
            nodes = [handle.node["NodeId"] for handle in handles]  # type: ignore[attr-defined]
            assert len(set(nodes)) == 2
            assert set(nodes) <= {node["NodeID"] for node in ray.nodes()}
            for handle, node in zip(handles, nodes, strict=True):
                assert wait_for_exit(handle).code == 0
                assert f"node={node}".encode() in handle.read_log(0)
        finally:
            executor.close()
