"""The simulated spot market that managed spot jobs run in (``EnableManagedSpotTraining``).

SageMaker runs such a job on spare EC2 capacity: it may wait for capacity before each
start, and EC2 may reclaim the instances at any time, with a notice. SageMaker then sends
the script SIGTERM, uploads its checkpoints, waits for capacity again and restarts the job,
which resumes from the checkpoints it finds in its checkpoint folder; the whole job,
waits included, must end within ``MaxWaitTimeInSeconds``. Billing counts the training
seconds at the spot price, which describe shows as ``BillableTimeInSeconds`` below
``TrainingTimeInSeconds`` (the savings).

Here the market is a setting (:meth:`SpotMarket.from_settings`): interruptions at given
seconds of training (a schedule, for tests and demos), or at random at a rate per hour of
training (seeded, so a job meets the same market each time), a capacity wait before each
start, the notice (SIGTERM → SIGKILL) and the savings. The supervisor carries it out
(``supervisor.py``); the watch ends an attempt at the interruption (``watch.py``).
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass

from sageyard.core.settings import Settings


@dataclass(frozen=True)
class SpotMarket:
    """When a managed spot job is interrupted, how long it waits for capacity, and what it
    saves.

    Example:
        >>> market = SpotMarket(interruptions=(3.0, 8.0))
        >>> market.next_interruption(0.0), market.next_interruption(3.0)
        (3.0, 8.0)
        >>> market.next_interruption(8.0) is None
        True
        >>> SpotMarket(savings=0.7).billable_seconds(100)
        30
    """

    interruptions: tuple[float, ...] = ()  # seconds of training at which capacity is reclaimed
    rate_per_hour: float = 0.0  # random interruptions per hour of training
    capacity_wait_seconds: float = 0.0  # before each start
    notice_seconds: float = 10.0  # SIGTERM → SIGKILL at an interruption
    savings: float = 0.7  # share of the on-demand price that spot capacity saves
    seed: int = 0

    @classmethod
    def from_settings(cls, settings: Settings, job_name: str) -> SpotMarket:
        """The market of ``SAGEYARD_SPOT_*`` settings; random interruptions are seeded by
        ``SAGEYARD_SPOT_SEED`` and the job's name (the same job meets the same market)."""
        return cls(
            interruptions=settings.spot_interruptions,
            rate_per_hour=settings.spot_interruption_rate,
            capacity_wait_seconds=settings.spot_capacity_wait_seconds,
            notice_seconds=(
                settings.spot_notice_seconds
                if settings.spot_notice_seconds is not None
                else settings.stop_grace_seconds
            ),
            savings=settings.spot_savings,
            seed=settings.spot_seed ^ zlib.crc32(job_name.encode()),
        )

    def next_interruption(self, trained: float, count: int = 0) -> float | None:
        """The training seconds (of the whole job) at which the next interruption comes,
        after ``trained`` seconds and ``count`` interruptions so far; ``None``: none comes."""
        scheduled = [at for at in self.interruptions if at > trained]
        if scheduled:
            return scheduled[0]
        if self.rate_per_hour <= 0:
            return None
        # a Poisson process over training time: exponential gaps, the same draws each run
        draw = random.Random(self.seed * 1_000_003 + count).expovariate(self.rate_per_hour)
        return trained + max(draw * 3600.0, 1.0)

    def billable_seconds(self, training_seconds: float) -> int:
        """The training seconds billed at the on-demand price that cost the same (≥ 1)."""
        return max(1, math.ceil(round(training_seconds * (1.0 - self.savings), 6)))
