"""``sagemaker.train.distributed``: the launchers build with the real SDK's fields; a job
with one is refused with a message until distributed training runs here."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sageyard.train import ModelTrainer
from sageyard.train._request import training_job_request
from sageyard.train.configs import SourceCode
from sageyard.train.distributed import MPI, SMP, Torchrun


def test_the_launchers_take_the_real_fields() -> None:
    smp = SMP(hybrid_shard_degree=2, tensor_parallel_degree=2, sm_activation_offloading=True)
    assert Torchrun(process_count_per_node=4, smp=smp).smp == smp
    assert MPI(mpi_additional_options=["-x", "NCCL_DEBUG"]).process_count_per_node is None
    with pytest.raises(ValidationError):
        Torchrun(process_count_per_node=0)


def test_a_job_with_a_launcher_is_refused_before_anything_is_written(
    sageyard_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    trainer = ModelTrainer(
        training_image="pytorch-training:2.0-cpu-py310",
        source_code=SourceCode(source_dir=str(tmp_path), entry_script="train.py"),
        distributed=Torchrun(process_count_per_node=2),
    )
    request = training_job_request(trainer, trainer._session())
    assert request["Sageyard"]["Distributed"] == {"Torchrun": {"ProcessCountPerNode": 2}}
    with pytest.raises(ValueError, match="not supported by this version"):
        trainer.train(dry_run=True)
