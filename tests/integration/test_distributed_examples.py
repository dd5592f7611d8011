"""The reference's distributed examples, run as a user runs them:
``python examples/distributed/<x>.py``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.integration.conftest import tar_members
from tests.integration.test_examples import REPO, job_of, run_example


@pytest.mark.slow  # 32 processes importing torch on this machine's cores: about 2 minutes
def test_the_data_parallel_example_trains_over_32_processes_on_4_hosts(tmp_path: Path) -> None:
    output = run_example("data_parallel.py", REPO / "examples" / "distributed", timeout=600)
    assert "running on the CPU" in output  # the GPU instance type's fallback, said
    losses = [float(x) for x in re.findall(r"loss ([0-9.]+) over 32 processes", output)]
    assert len(losses) == 3 and losses[0] > losses[-1], output
    model = job_of(output).describe()["ModelArtifacts"]["S3ModelArtifacts"]
    saved = json.loads(tar_members(model, tmp_path)["model.json"])
    assert saved == {"world_size": 32, "hosts": ["algo-1", "algo-2", "algo-3", "algo-4"]}


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="needs Open MPI's mpirun")
def test_the_mpi_example_trains_over_16_processes_on_2_hosts(tmp_path: Path) -> None:
    pytest.importorskip("mpi4py")
    output = run_example("mpi.py", REPO / "examples" / "distributed", timeout=300)
    assert "running on the CPU" in output
    losses = [float(x) for x in re.findall(r"loss ([0-9.]+) over 16 processes", output)]
    assert len(losses) == 3 and losses[0] > losses[-1], output
    assert "NCCL_DEBUG=INFO" in output  # mpi_additional_options reach mpirun
    model = job_of(output).describe()["ModelArtifacts"]["S3ModelArtifacts"]
    saved = json.loads(tar_members(model, tmp_path)["model.json"])
    assert saved == {"world_size": 16, "hosts": ["algo-1", "algo-2"]}


@pytest.mark.slow  # 16 processes importing torch and transformers here: about 80 s
def test_the_model_parallel_example_trains_over_16_processes_with_smp(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    output = run_example("model_parallel.py", REPO / "examples" / "distributed", timeout=600)
    assert "running on the CPU" in output
    losses = [float(x) for x in re.findall(r"loss ([0-9.]+) over 16 processes", output)]
    assert len(losses) == 3 and losses[0] > losses[-1], output
    model = job_of(output).describe()["ModelArtifacts"]["S3ModelArtifacts"]
    saved = json.loads(tar_members(model, tmp_path)["model.json"])
    # 16 = 2 replicas x 4 shards x 2 tensor-parallel ranks, as SMP(...) in the example says
    assert saved == {
        "world_size": 16,
        "tensor_parallel_degree": 2,
        "hybrid_shard_degree": 4,
        "replicas": 2,
    }
