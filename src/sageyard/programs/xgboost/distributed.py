"""Training across hosts with XGBoost's own collective (Rabit), as SageMaker's container does.

With several hosts, every host trains one model together: algo-1 runs XGBoost's tracker at
``SM_MASTER_ADDR:SM_MASTER_PORT``, every host (algo-1 too) joins it as a worker ranked by its
place in ``SM_HOSTS``, and each round XGBoost sums the hosts' gradient statistics and
metrics (its allreduce), so each host's trees are the same. Each host trains on the data it
sees: its share of the files with ``ShardedByS3Key``, all of them with ``FullyReplicated``
(as in SageMaker's container, every host then adds the same rows). algo-1 (rank 0) speaks
for the job: it logs the rounds, saves checkpoints and the model.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sageyard.programs._common import AlgorithmError, ProgramContext

log = logging.getLogger("sageyard.programs.xgboost")

#: How long a host waits for the others to join (the tracker's bootstrap timeout).
JOIN_SECONDS = 300


@dataclass(frozen=True)
class Hosts:
    """This host's place among the job's hosts."""

    rank: int
    count: int

    @property
    def primary(self) -> bool:
        """Whether this host speaks for the job (algo-1: logs, checkpoints, the model)."""
        return self.rank == 0

    def broadcast(self, value: Any) -> Any:
        """``value`` from algo-1, on every host (the value itself on one host)."""
        if self.count == 1:
            return value
        from xgboost import collective

        return collective.broadcast([value], 0)[0]  # in a list: None is a value too


@contextmanager
def collective_of(ctx: ProgramContext) -> Iterator[Hosts]:
    """This host's :class:`Hosts`, joined to the others' collective for the block."""
    hosts = list(ctx.hosts) or [ctx.current_host]
    place = Hosts(hosts.index(ctx.current_host), len(hosts))
    if place.count == 1:
        yield place
        return
    from xgboost import collective
    from xgboost.tracker import RabitTracker

    address = _resolve(os.environ.get("SM_MASTER_ADDR") or hosts[0])
    port = int(os.environ["SM_MASTER_PORT"])
    tracker = None
    if place.primary:
        tracker = RabitTracker(
            n_workers=place.count, host_ip=address, port=port, sortby="task", timeout=JOIN_SECONDS
        )
        tracker.start()
    log.info(
        "Training across %d hosts with XGBoost's collective (tracker at %s:%d); this host is "
        "rank %d",
        place.count,
        address,
        port,
        place.rank,
    )
    arguments: dict[str, int | str | None] = {
        "dmlc_tracker_uri": address,
        "dmlc_tracker_port": port,
        "dmlc_task_id": f"{place.rank:05d}",  # sorted as text: algo-1 is rank 0
        "dmlc_retry": JOIN_SECONDS,
        "dmlc_timeout": JOIN_SECONDS,
    }
    with collective.CommunicatorContext(**arguments):
        yield place
    if tracker is not None:
        tracker.wait_for(JOIN_SECONDS)


def _resolve(name: str) -> str:
    """``name``'s address, waiting (as SageMaker's container does) until it resolves."""
    deadline = time.monotonic() + JOIN_SECONDS
    while True:
        try:
            return socket.gethostbyname(name)
        except OSError:
            if time.monotonic() > deadline:
                raise AlgorithmError(
                    f"The first host, {name!r}, did not resolve within {JOIN_SECONDS} s."
                ) from None
            time.sleep(0.5)
