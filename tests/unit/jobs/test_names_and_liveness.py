"""Job names with timestamps, and whether a job's supervisor process is alive."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from datetime import UTC, datetime

from sageyard.jobs.liveness import owner_alive, owner_token
from sageyard.jobs.service import timestamped_name

STAMP = re.compile(r"-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}$")


def test_timestamped_name_format() -> None:
    now = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC).timestamp()
    assert timestamped_name("my-job", now) == "my-job-2024-01-02-03-04-05-678"


def test_timestamped_name_pads_milliseconds() -> None:
    now = datetime(2024, 12, 31, 23, 59, 59, 7000, tzinfo=UTC).timestamp()
    assert timestamped_name("job", now) == "job-2024-12-31-23-59-59-007"


def test_long_base_is_cut_to_63_characters() -> None:
    name = timestamped_name("a" * 100, 1_700_000_000.5)
    assert len(name) <= 63
    assert STAMP.search(name)
    assert name.startswith("a" * 30)


def test_cut_never_ends_the_base_with_a_hyphen() -> None:
    now = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    name = timestamped_name("a" * 38 + "-" + "b" * 30, now)  # the cut falls on the hyphen
    assert name == "a" * 38 + "-2024-01-02-03-04-05-000"


def test_owner_of_this_process_is_alive() -> None:
    token = owner_token()
    host, pid, _ = token.split(":")
    assert host == socket.gethostname()
    assert int(pid) == os.getpid()
    assert owner_alive(token) is True


def test_owner_of_an_ended_process_is_dead() -> None:
    process = subprocess.Popen(["true"])
    token = owner_token(process.pid)
    process.wait()
    assert owner_alive(token) is False


def test_reused_pid_is_not_the_owner() -> None:
    host, pid, _ = owner_token().split(":")
    assert owner_alive(f"{host}:{pid}:1") is False  # same pid, another start time


def test_owner_elsewhere_is_unknown() -> None:
    assert owner_alive(f"not-{socket.gethostname()}:1:1") is None
    assert owner_alive("garbage") is None
