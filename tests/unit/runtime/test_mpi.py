"""The MPI agents (``runtime/mpi.py``) as real processes: an agent runs what an rsh request
with the job's secret asks, relays its output and exit code, refuses anyone without the
secret, and ends when algo-1 says the job is done."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sageyard.runtime import mpi

SECRET = "s3cr3t"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def agent_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {mpi.PORT_ENV: str(_free_port()), mpi.TOKEN_ENV: SECRET, "SM_CURRENT_HOST": "localhost"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return {**os.environ, **env, "ON_THE_HOST": "yes"}


@pytest.fixture
def agent(agent_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(tmp_path / "agent.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sageyard.runtime.mpi", "serve"],
            env=agent_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 20
    while not mpi.ping("localhost"):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    yield process
    process.kill()
    process.wait()


def _rsh(env: dict[str, str], *words: str) -> subprocess.CompletedProcess[bytes]:
    argv = [sys.executable, "-m", "sageyard.runtime.mpi", "rsh", *words]
    return subprocess.run(argv, env=env, capture_output=True, timeout=30)


def test_a_command_runs_with_the_hosts_environment_and_its_exit_code_comes_back(
    agent: subprocess.Popen[bytes], agent_env: dict[str, str]
) -> None:
    done = _rsh(agent_env, "-x", "localhost", "echo", "$ON_THE_HOST;", "exit", "3")
    assert (done.returncode, done.stdout) == (3, b"yes\n")
    # the job's secret is the agents' alone: the commands they run do not see it
    secret = _rsh(agent_env, "localhost", "echo ${SAGEYARD_MPI_TOKEN:-none}")
    assert secret.stdout == b"none\n"


def test_a_request_without_the_jobs_secret_is_refused(
    agent: subprocess.Popen[bytes],
    agent_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(mpi.TOKEN_ENV, "guessed")
    assert not mpi.ping("localhost")
    other_job = _rsh({**agent_env, mpi.TOKEN_ENV: "guessed"}, "localhost", "echo ran")
    assert other_job.returncode == 255 and b"ran" not in other_job.stdout
    monkeypatch.setenv(mpi.TOKEN_ENV, SECRET)
    assert mpi.ping("localhost")  # still serving the job
    said = (tmp_path / "agent.log").read_text()
    assert said.count("refused a request without the job's secret") == 2


def test_the_agent_ends_when_algo_1_says_the_job_is_done(
    agent: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    mpi.finish("localhost", 3)
    assert agent.wait(timeout=10) == 0  # the job's outcome is algo-1's to report
    assert not mpi.ping("localhost")
    said = (tmp_path / "agent.log").read_text()
    assert "mpirun on algo-1 ended (exit code 3); localhost is done" in said


def test_rsh_to_a_host_without_an_agent_fails_as_ssh_does(
    agent_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(mpi, "WAIT_SECONDS", 0.3)
    assert mpi.rsh(["localhost", "true"]) == 255
    assert "cannot reach the MPI agent of localhost" in capsys.readouterr().err


def test_a_ranks_line_written_in_pieces_is_mended_whole() -> None:
    lines = mpi.RankLines()
    stream = b"[1,3]<stdout>:up[1,0]<stderr>:Trace\n[1,3]<stdout>:\n[1,0]<std"
    out = [line for byte in stream for line in lines.feed(bytes([byte]))]  # any chunking
    assert out == [b"[1,0]<stderr>:Trace\n", b"[1,3]<stdout>:up\n"]
    out = lines.feed(b"out>:partial") + lines.close()
    assert out == [b"[1,0]<stdout>:partial\n"]


def test_mpiruns_own_output_and_a_line_left_unfinished_at_the_end_are_kept() -> None:
    lines = mpi.RankLines()
    assert lines.feed(b"-----\nMPI_ABORT was invoked\n[1,2]<stdout>:no newline") == [
        b"-----\n",
        b"MPI_ABORT was invoked\n",
    ]
    assert lines.close() == [b"[1,2]<stdout>:no newline\n"]
