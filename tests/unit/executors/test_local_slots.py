"""GPU counts of instance types, and the slot pool (exclusive flocks under a folder)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sageyard.executors.local_slots import Reservation, SlotPool, gpus_for_instance_type


@pytest.mark.parametrize(
    ("instance_type", "gpus"),
    [
        ("ml.p3.2xlarge", 1),
        ("ml.p3.8xlarge", 4),
        ("ml.p3.16xlarge", 8),
        ("ml.p4d.24xlarge", 8),
        ("ml.g5.xlarge", 1),
        ("ml.g5.12xlarge", 4),
        ("ml.g5.48xlarge", 8),
        ("ml.m5.xlarge", 0),
        ("ml.c5.18xlarge", 0),
        ("ml.t3.medium", 0),
    ],
)
def test_gpus_for_instance_type(instance_type: str, gpus: int) -> None:
    assert gpus_for_instance_type(instance_type) == gpus


class Pool:
    """A SlotPool whose reservations are all released at the end of the test."""

    def __init__(self, folder: Path, cpu_slots: int, gpu_ids: list[str]) -> None:
        self.pool = SlotPool(folder, cpu_slots, gpu_ids)
        self.held: list[Reservation] = []
        self.waits = 0

    def acquire(
        self, hosts: int, gpus: int = 0, deadline: float | None = None
    ) -> Reservation | None:
        def on_wait() -> None:
            self.waits += 1

        reservation = self.pool.acquire(
            hosts, gpus, deadline=deadline, should_stop=lambda: False, on_wait=on_wait
        )
        if reservation is not None:
            self.held.append(reservation)
        return reservation


@pytest.fixture
def pools(tmp_path: Path) -> Iterator[list[Pool]]:
    made: list[Pool] = []
    yield made
    for pool in made:
        for reservation in pool.held:
            reservation.release()


def make_pool(pools: list[Pool], tmp_path: Path, cpu: int, gpus: list[str] | None = None) -> Pool:
    pool = Pool(tmp_path / "slots", cpu, gpus or [])
    pools.append(pool)
    return pool


def past() -> float:
    return time.time() - 1


def test_take_all_slots_then_wait_then_release(pools: list[Pool], tmp_path: Path) -> None:
    pool = make_pool(pools, tmp_path, cpu=2)
    first = pool.acquire(2)
    assert first is not None
    assert first.cpu_slots == [0, 1]
    assert pool.acquire(1, deadline=past()) is None
    assert pool.waits == 1
    first.release()
    again = pool.acquire(1, deadline=past())
    assert again is not None
    assert again.cpu_slots == [0]


def test_slots_are_shared_by_pools_on_the_same_folder(pools: list[Pool], tmp_path: Path) -> None:
    one = make_pool(pools, tmp_path, cpu=2)
    other = make_pool(pools, tmp_path, cpu=2)
    assert one.acquire(1) is not None
    taken = other.acquire(1)
    assert taken is not None
    assert taken.cpu_slots == [1]
    assert other.acquire(1, deadline=past()) is None


def test_more_hosts_than_slots_takes_every_slot(pools: list[Pool], tmp_path: Path) -> None:
    pool = make_pool(pools, tmp_path, cpu=2)
    whole = pool.acquire(5)
    assert whole is not None
    assert whole.cpu_slots == [0, 1]
    assert pool.acquire(1, deadline=past()) is None


def test_gpu_slots(pools: list[Pool], tmp_path: Path) -> None:
    pool = make_pool(pools, tmp_path, cpu=4, gpus=["0", "1"])
    one = pool.acquire(1, gpus=1)
    assert one is not None
    assert one.gpus == ["0"]
    assert pool.acquire(1, gpus=2, deadline=past()) is None
    one.release()
    both = pool.acquire(1, gpus=2)
    assert both is not None
    assert both.gpus == ["0", "1"]


def test_should_stop_ends_the_wait(tmp_path: Path) -> None:
    pool = SlotPool(tmp_path / "slots", 1, [])
    held = pool.acquire(1, 0, deadline=None, should_stop=lambda: False, on_wait=lambda: None)
    assert held is not None
    try:
        stopped = pool.acquire(1, 0, deadline=None, should_stop=lambda: True, on_wait=lambda: None)
        assert stopped is None
    finally:
        held.release()


def test_release_is_idempotent(tmp_path: Path) -> None:
    pool = SlotPool(tmp_path / "slots", 1, [])
    held = pool.acquire(1, 0, deadline=None, should_stop=lambda: False, on_wait=lambda: None)
    assert held is not None
    held.release()
    held.release()
    assert held.fds == []


def test_reserved_gpus_are_dealt_to_every_host() -> None:
    from sageyard.executors.local import _split

    assert _split(["0"], 2) == [["0"], []]
    assert _split(["0", "1", "2"], 2) == [["0", "2"], ["1"]]
    assert _split([], 3) == [[], [], []]
