"""A job's doorbell: a follower wakes when another process rings it, and only then."""

from __future__ import annotations

import multiprocessing
import os
import stat
import time
from pathlib import Path

from sageyard.jobs.doorbell import Doorbell, ring, wait_any


def _ring_later(path: str, delay: float) -> None:
    time.sleep(delay)
    ring(Path(path))


def test_a_ring_from_another_process_wakes_the_follower(tmp_path: Path) -> None:
    path = tmp_path / "job" / "doorbell"
    with Doorbell(path) as bell:
        assert bell.ready and stat.S_ISFIFO(os.stat(path).st_mode)
        ringer = multiprocessing.get_context("fork").Process(
            target=_ring_later, args=(str(path), 0.2)
        )
        started = time.monotonic()
        ringer.start()
        assert bell.wait(10.0)
        assert time.monotonic() - started < 5.0
        ringer.join()


def test_without_a_ring_a_wait_lasts_its_time_even_after_a_ringer_left(tmp_path: Path) -> None:
    with Doorbell(tmp_path / "doorbell") as bell:
        ring(bell.path)
        assert bell.wait(0.0)  # the ring, drained
        # the ringer closed its end: that is no end of file for the follower
        started = time.monotonic()
        assert not bell.wait(0.2)
        assert time.monotonic() - started >= 0.15


def test_ringing_with_nobody_waiting_does_nothing(tmp_path: Path) -> None:
    ring(tmp_path / "missing" / "doorbell")  # no such FIFO
    os.mkfifo(tmp_path / "doorbell")
    ring(tmp_path / "doorbell")  # a FIFO nobody has open
    assert list(tmp_path.iterdir()) == [tmp_path / "doorbell"]


def test_a_follower_that_is_done_leaves_no_fifo(tmp_path: Path) -> None:
    with Doorbell(tmp_path / "job" / "doorbell"):
        pass
    assert list((tmp_path / "job").iterdir()) == []


def test_many_rings_nobody_read_never_block_the_ringer(tmp_path: Path) -> None:
    with Doorbell(tmp_path / "doorbell") as bell:
        started = time.monotonic()
        for _ in range(70_000):  # more than a pipe holds
            ring(bell.path)
        assert time.monotonic() - started < 30
        assert bell.wait(0.0)
        assert not bell.wait(0.0)  # drained at once


def test_wait_any_wakes_for_the_bell_that_rang(tmp_path: Path) -> None:
    quiet, loud = Doorbell(tmp_path / "a").open(), Doorbell(tmp_path / "b").open()
    try:
        ring(loud.path)
        assert wait_any([quiet, loud], 5.0)
        assert not wait_any([quiet, loud], 0.0)
    finally:
        quiet.close()
        loud.close()


def test_where_no_fifo_can_be_made_a_wait_sleeps(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with Doorbell(blocker / "doorbell") as bell:
        assert not bell.ready
        started = time.monotonic()
        assert not bell.wait(0.1)
        assert time.monotonic() - started >= 0.08
        assert not wait_any([bell], -1.0)  # a deadline already passed: no wait, no error
