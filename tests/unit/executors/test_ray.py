"""RayHost, the supervisor's handle of a host on a Ray node: one round trip per poll brings
the host's end and its new output; reads in between cost none, and nothing is lost."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import ray

from sageyard.core.settings import Settings
from sageyard.executors import ray as ray_executor
from sageyard.executors.ray import RayHost
from sageyard.runtime.host import HostExit


class FakeActor:
    """A host actor's methods, answered at once; what was called is kept."""

    def __init__(self, chunk: int) -> None:
        self.log, self.ended, self.chunk = b"", None, chunk
        self.calls: list[str] = []

    def __getattr__(self, method: str) -> Any:
        def remote(*args: Any) -> Any:
            self.calls.append(method)
            return getattr(self, f"_{method}")(*args)

        return SimpleNamespace(remote=remote)

    def _read_log(self, offset: int) -> bytes:
        return self.log[offset : offset + self.chunk]

    def _progress(self, offset: int) -> tuple[HostExit | None, bytes]:
        return self.ended, self._read_log(offset)


class FakeRay:
    exceptions = ray.exceptions

    @staticmethod
    def get(value: Any, timeout: float | None = None) -> Any:
        return value


def host_of(actor: FakeActor, tmp_path: Path) -> RayHost:
    node = {"NodeId": "n" * 32, "NodeAddress": "127.0.0.1"}
    plan: Any = SimpleNamespace(host="algo-1")
    host = RayHost(plan, actor, node, "s3://b/staging", Settings.from_env(), tmp_path)
    host._ray = FakeRay()
    return host


def next_poll(host: RayHost) -> HostExit | None:
    host._next_poll = 0.0  # as if POLL_SECONDS had passed
    return host.poll()


def read_to_the_end(host: RayHost) -> bytes:
    """What the watch's drain reads of an ended host: chunks until an empty one."""
    read = b""
    while data := host.read_log(len(read)):
        read += data
    return read


def test_a_poll_brings_the_new_output_and_reads_until_the_next_cost_no_round_trip(
    tmp_path: Path,
) -> None:
    actor = FakeActor(chunk=1 << 20)
    host = host_of(actor, tmp_path)
    actor.log = b"epoch 1\n"
    assert host.poll() is None
    assert host.read_log(0) == b"epoch 1\n"
    assert host.read_log(8) == b""  # nothing new was brought: no call of its own
    assert host.poll() is None  # within POLL_SECONDS: no call either
    assert actor.calls == ["progress"]
    actor.log += b"epoch 2\n"
    assert next_poll(host) is None
    assert host.read_log(8) == b"epoch 2\n"
    assert actor.calls == ["progress", "progress"]


def test_an_ended_host_is_read_to_its_last_byte(tmp_path: Path) -> None:
    actor = FakeActor(chunk=1 << 20)
    host = host_of(actor, tmp_path)
    actor.log, actor.ended = b"last words\n", HostExit(0)
    assert host.poll() == HostExit(0)
    assert read_to_the_end(host) == b"last words\n"
    # the poll that found the end read after it: all there is, and no more round trips
    assert actor.calls == ["progress"]


def test_an_ended_host_with_more_than_a_chunk_is_read_on_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ray_executor, "LOG_CHUNK", 4)
    actor = FakeActor(chunk=4)
    host = host_of(actor, tmp_path)
    actor.log, actor.ended = b"0123456789", HostExit(1)
    assert host.poll() == HostExit(1)
    assert read_to_the_end(host) == b"0123456789"
    assert actor.calls == ["progress", "read_log", "read_log"]


def test_a_whole_chunk_means_more_is_waiting_and_is_read_on_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ray_executor, "LOG_CHUNK", 4)
    actor = FakeActor(chunk=4)
    host = host_of(actor, tmp_path)
    actor.log = b"abcdefghij"
    assert host.poll() is None
    assert host.read_log(0) == b"abcd"
    assert host.read_log(4) == b"efgh"  # a round trip of its own: the last was full
    assert host.read_log(8) == b"ij"
    assert host.read_log(10) == b""  # not full: wait for the next poll
    assert actor.calls == ["progress", "read_log", "read_log"]


def test_reads_without_polls_see_new_output_once_poll_seconds_pass(tmp_path: Path) -> None:
    actor = FakeActor(chunk=1 << 20)
    host = host_of(actor, tmp_path)
    actor.log = b"first\n"
    assert host.read_log(0) == b"first\n"
    actor.log += b"second\n"
    assert host.read_log(6) == b""  # within POLL_SECONDS of the last round trip
    host._fresh_until = 0.0  # as if they had passed
    assert host.read_log(6) == b"second\n"
    assert actor.calls == ["read_log", "read_log"]


def test_a_read_from_another_offset_asks_the_node(tmp_path: Path) -> None:
    actor = FakeActor(chunk=1 << 20)
    host = host_of(actor, tmp_path)
    actor.log = b"0123456789"
    assert host.poll() is None
    assert host.read_log(5) == b"56789"
    assert actor.calls == ["progress", "read_log"]
