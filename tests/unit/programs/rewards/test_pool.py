"""The reward runtime with real worker processes: limits hold and the pool goes on."""

from __future__ import annotations

import socket
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sageyard.programs._rewards import Sample
from sageyard.programs._rewards.pool import RewardPool

SAMPLES = [Sample(str(i), f"{i}+1?", str(i + 1)) for i in range(4)]


def pool_for(tmp_path: Path, body: str, **kwargs: object) -> RewardPool:
    handler = tmp_path / "reward.py"
    handler.write_text(textwrap.dedent(body))
    return RewardPool(handler, scratch=tmp_path, **kwargs)  # type: ignore[arg-type]


def test_samples_are_rewarded_across_the_workers(tmp_path: Path) -> None:
    body = """
        import os
        def lambda_handler(event, context):
            return {"reward": float(event["response"]), "worker": os.getpid()}
    """
    with pool_for(tmp_path, body, workers=2) as pool:
        scores = pool.score(SAMPLES)
    assert [s.reward for s in scores] == [1.0, 2.0, 3.0, 4.0]
    assert pool.contract == "per_sample"
    assert len({s.metrics["worker"] for s in scores}) == 2  # both workers took a share


def test_a_slow_call_times_out_and_the_pool_goes_on(tmp_path: Path) -> None:
    body = """
        import time
        def lambda_handler(event, context):
            if event["response"] == "1":
                time.sleep(60)
            return {"reward": 1.0}
    """
    with pool_for(tmp_path, body, workers=2, timeout=2) as pool:
        scores = pool.score(SAMPLES)
        assert scores[0].reward is None and "longer than 2 s" in (scores[0].error or "")
        assert [s.reward for s in scores[2:]] == [1.0, 1.0]  # the other worker's share
        assert [s.reward for s in pool.score(SAMPLES[2:])] == [1.0, 1.0]  # a new worker


def test_a_call_over_its_memory_gets_no_reward(tmp_path: Path) -> None:
    body = """
        def lambda_handler(event, context):
            block = bytearray(2 * 2**30)
            return {"reward": 1.0}
    """
    with pool_for(tmp_path, body, workers=1, memory_mb=512) as pool:
        scores = pool.score(SAMPLES[:1])
    assert scores[0].reward is None and "MemoryError" in (scores[0].error or "")


@pytest.fixture
def listening() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    thread = threading.Thread(target=lambda: server.accept(), daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()


def test_a_reward_function_has_no_network(tmp_path: Path, listening: int) -> None:
    body = f"""
        import socket
        def lambda_handler(event, context):
            try:
                socket.create_connection(("127.0.0.1", {listening}), timeout=2).close()
                return {{"reward": 1.0}}
            except OSError as error:
                return {{"reward": 0.0, "errno": error.errno or -1}}
    """
    with pool_for(tmp_path, body, workers=1) as pool:
        scores = pool.score(SAMPLES[:1])
    assert pool.isolated
    assert scores[0].reward == 0.0  # the machine's 127.0.0.1 is out of reach


def test_each_worker_has_its_own_scratch_folder(tmp_path: Path) -> None:
    body = """
        import os, tempfile
        def lambda_handler(event, context):
            with open("note.txt", "w") as out:
                out.write(event["response"])
            return {"reward": float(tempfile.gettempdir() == os.getcwd())}
    """
    with pool_for(tmp_path, body, workers=2) as pool:
        scores = pool.score(SAMPLES[:2])
        notes = sorted(p.read_text() for p in tmp_path.glob("rewards-*/reward-*/note.txt"))
    assert [s.reward for s in scores] == [1.0, 1.0]
    assert notes == ["1", "2"]
    assert not list(tmp_path.glob("rewards-*"))  # closing removes them


def test_a_function_that_cannot_load_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="could not be loaded in a reward worker"):
        pool_for(tmp_path, "raise SystemExit(3)\n", workers=1).start()
