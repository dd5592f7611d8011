"""MPI for real: ``distributed=MPI(...)`` runs mpirun on algo-1 over every host's ranks, the
remote ranks start inside their own hosts' sandboxes through sageyard's agent, and a
failing rank or a stop ends every rank on every host."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.runtime.sandbox import sandbox_kind
from sageyard.train.configs import Compute, Networking
from sageyard.train.distributed import MPI
from tests.integration.conftest import MakeTrainer
from tests.integration.test_distributed import (
    _processes_with,
    assert_none_left,
    assert_rank_three_failed_it,
    wait_for_lines,
)

pytest.importorskip("mpi4py")
pytestmark = [
    pytest.mark.skipif(shutil.which("mpirun") is None, reason="needs Open MPI's mpirun"),
    pytest.mark.skipif(sandbox_kind() is None, reason="hosts of an MPI job need the sandbox"),
]

#: Each rank says who it is, where, and what an allreduce of rank+1 gives.
ALLREDUCE = """
    import json, os, socket, sys
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    info = {
        "rank": comm.Get_rank(), "size": comm.Get_size(),
        "sum": comm.allreduce(comm.Get_rank() + 1),
        "hostname": socket.gethostname(), "host": os.environ["SM_CURRENT_HOST"],
        "env_rank": int(os.environ["OMPI_COMM_WORLD_RANK"]),
        "local_rank": int(os.environ["OMPI_COMM_WORLD_LOCAL_RANK"]),
        "local_size": int(os.environ["OMPI_COMM_WORLD_LOCAL_SIZE"]),
        "extra": os.environ.get("EXTRA_SETTING"), "args": sys.argv[1:],
        "config": json.loads(os.environ["SM_DISTRIBUTED_CONFIG"]),
    }
    print("RANKINFO " + json.dumps(info), flush=True)
"""


def _rank_infos(lines: list[str]) -> list[dict]:
    found = []
    for line in lines:
        match = re.match(r"(?:\[algo-1\] )?\[1,(\d+)\]<stdout>:RANKINFO (.*)$", line)
        if match:
            info = json.loads(match.group(2))
            assert int(match.group(1)) == info["rank"]
            found.append(info)
    return sorted(found, key=lambda info: info["rank"])


def test_two_hosts_of_two_ranks_allreduce_and_each_rank_runs_on_its_own_host(
    make_trainer: MakeTrainer,
) -> None:
    trainer = make_trainer(
        ALLREDUCE,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        distributed=MPI(
            process_count_per_node=2, mpi_additional_options=["-x", "EXTRA_SETTING=on"]
        ),
        hyperparameters={"lr": 0.1},
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed", job.failure_reason
    infos = _rank_infos(job.logs())
    assert [(i["rank"], i["hostname"], i["host"], i["local_rank"]) for i in infos] == [
        (0, "algo-1", "algo-1", 0),
        (1, "algo-1", "algo-1", 1),
        (2, "algo-2", "algo-2", 0),
        (3, "algo-2", "algo-2", 1),
    ]
    assert {(i["size"], i["sum"], i["local_size"], i["extra"]) for i in infos} == {(4, 10, 2, "on")}
    assert all(i["env_rank"] == i["rank"] for i in infos)
    assert infos[0]["args"] == ["--lr", "0.1"]
    assert infos[0]["config"] == {
        "process_count_per_node": 2,
        "mpi_additional_options": ["-x", "EXTRA_SETTING=on"],
    }


def test_a_failing_rank_fails_the_job_with_its_own_error_and_ends_every_rank(
    make_trainer: MakeTrainer,
) -> None:
    marker = uuid.uuid4().hex
    trainer = make_trainer(
        """
        import time
        from mpi4py import MPI
        comm = MPI.COMM_WORLD
        comm.Barrier()
        if comm.Get_rank() == 3:
            raise ValueError("rank three cannot go on")
        time.sleep(60)
        """,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        distributed=MPI(process_count_per_node=2),
        hyperparameters={"marker": marker},
    )
    assert_rank_three_failed_it(trainer, marker)


@contextlib.contextmanager
def _running(make_trainer: MakeTrainer, marker: str) -> Iterator[Any]:
    """A 2 x 2 job whose ranks all said "up" and then wait; stopped if the test leaves it
    running (a job left running outlives the test)."""
    trainer = make_trainer(
        """
        import time
        from mpi4py import MPI
        MPI.COMM_WORLD.Barrier()
        print("up", flush=True)
        while True:
            time.sleep(0.1)
        """,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        distributed=MPI(process_count_per_node=2),
        hyperparameters={"marker": marker},
    )
    trainer.train(wait=False)
    job = trainer._latest_training_job
    assert job is not None
    try:
        wait_for_lines(job, ":up", 4)
        yield job
    finally:
        if job.refresh().training_job_status == "InProgress":
            job.stop()


def test_a_stop_ends_every_rank_on_every_host(make_trainer: MakeTrainer) -> None:
    marker = uuid.uuid4().hex
    with _running(make_trainer, marker) as job:
        assert len(_processes_with(marker)) >= 4  # the ranks, mpirun and its launcher
        job.stop()
        job.wait(logs=False)
    assert job.refresh().training_job_status == "Stopped"
    assert_none_left(marker)


def test_one_rank_per_host_on_a_machine_without_gpus_and_it_is_said(
    make_trainer: MakeTrainer,
) -> None:
    trainer = make_trainer(
        ALLREDUCE,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        distributed=MPI(),
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed", job.failure_reason
    infos = _rank_infos(job.logs())
    assert [(i["rank"], i["host"], i["size"], i["sum"]) for i in infos] == [
        (0, "algo-1", 2, 3),
        (1, "algo-2", 2, 3),
    ]
    said = [line for line in job.logs() if "[sageyard] MPI: 1 process on this host" in line]
    assert len(said) == 2  # each host's log


def test_the_hosts_of_an_isolated_job_still_reach_each_other(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer(
        ALLREDUCE,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        distributed=MPI(process_count_per_node=1),
        networking=Networking(enable_network_isolation=True),
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed", job.failure_reason
    assert [i["sum"] for i in _rank_infos(job.logs())] == [3, 3]


def _agent_of(marker: str) -> int | None:
    """The pid of algo-2's agent in the job whose hyperparameters carry ``marker``."""
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit():
                continue
            if b"sageyard.runtime.mpi\x00serve" in (entry / "cmdline").read_bytes() and (
                marker.encode() in (entry / "environ").read_bytes()
            ):
                return int(entry.name)
        except OSError:
            continue
    return None


def test_a_killed_host_ends_every_rank_on_every_host(make_trainer: MakeTrainer) -> None:
    marker = uuid.uuid4().hex
    with _running(make_trainer, marker) as job:
        agent = _agent_of(marker)
        assert agent is not None
        os.kill(agent, signal.SIGKILL)
        with pytest.raises(RuntimeError, match="algo-2 was killed"):
            job.wait(logs=False)
    described = job.refresh()
    assert described.training_job_status == "Failed"
    assert "algo-2" in (described.failure_reason or ""), described.failure_reason
    assert_none_left(marker)


def test_mpi_across_hosts_without_the_sandbox_or_mpirun_is_refused_before_anything_runs(
    make_trainer: MakeTrainer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    two_hosts = Compute(instance_type="ml.m5.large", instance_count=2)
    monkeypatch.setenv("SAGEYARD_ISOLATION", "off")
    trainer = make_trainer(ALLREDUCE, compute=two_hosts, distributed=MPI())
    with pytest.raises(ConfigurationError, match="needs the host sandbox"):
        trainer.train(logs=False)
    assert trainer._latest_training_job is None
    monkeypatch.delenv("SAGEYARD_ISOLATION")
    monkeypatch.setenv("PATH", str(tmp_path))  # no mpirun on it
    trainer = make_trainer(ALLREDUCE, compute=two_hosts, distributed=MPI())
    with pytest.raises(ConfigurationError, match="apt-get install openmpi-bin"):
        trainer.train(logs=False)


def test_one_host_runs_without_the_sandbox(
    make_trainer: MakeTrainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_ISOLATION", "off")
    trainer = make_trainer(ALLREDUCE, distributed=MPI(process_count_per_node=2))
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed", job.failure_reason
    assert [(i["rank"], i["sum"]) for i in _rank_infos(job.logs())] == [(0, 3), (1, 3)]
