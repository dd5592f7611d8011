"""``sagemaker.train.distributed``: the launchers build with the real SDK's fields and name
their drivers; Torchrun, MPI and SMP jobs validate (SMP's settings also as the real SDK's
``mp_parameters`` hyperparameter). (And the request carries a channel's ShuffleConfig.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sageyard.train import ModelTrainer
from sageyard.train._request import training_job_request
from sageyard.train.configs import (
    BaseConfig,
    Channel,
    DataSource,
    S3DataSource,
    ShuffleConfig,
    SourceCode,
)
from sageyard.train.distributed import DRIVER_DIR, MPI, SMP, DistributedConfig, Torchrun


def test_the_launchers_take_the_real_fields() -> None:
    smp = SMP(hybrid_shard_degree=2, tensor_parallel_degree=2, sm_activation_offloading=True)
    assert Torchrun(process_count_per_node=4, smp=smp).smp == smp
    assert MPI(mpi_additional_options=["-x", "NCCL_DEBUG"]).process_count_per_node is None
    with pytest.raises(ValidationError):
        Torchrun(process_count_per_node=0)
    assert SMP(hybrid_shard_degree=0).hybrid_shard_degree == 0  # SMP's "largest that fits"
    for bad in ({"hybrid_shard_degree": -1}, {"random_seed": 2**31}):
        with pytest.raises(ValidationError):
            SMP(**bad)


def test_torchrun_and_mpi_jobs_validate_and_the_rest_is_refused_before_anything_is_written(
    sageyard_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")

    def trainer(distributed: object, **source: str) -> ModelTrainer:
        code = SourceCode(source_dir=str(tmp_path), **(source or {"entry_script": "train.py"}))
        return ModelTrainer(
            training_image="pytorch-training:2.0-cpu-py310",
            source_code=code,
            distributed=distributed,
        )

    torchrun = trainer(Torchrun(process_count_per_node=2))
    request = training_job_request(torchrun, torchrun._session())
    assert request["Sageyard"]["Distributed"] == {"Torchrun": {"ProcessCountPerNode": 2}}
    torchrun.train(dry_run=True)  # runs
    mpi = trainer(MPI(process_count_per_node=2, mpi_additional_options=["-x", "A=1"]))
    assert training_job_request(mpi, mpi._session())["Sageyard"]["Distributed"] == {
        "MPI": {"ProcessCountPerNode": 2, "MpiAdditionalOptions": ["-x", "A=1"]}
    }
    mpi.train(dry_run=True)
    smp = trainer(
        Torchrun(process_count_per_node=2, smp=SMP(tensor_parallel_degree=2, random_seed=7))
    )
    request = training_job_request(smp, smp._session())
    assert request["Sageyard"]["Distributed"] == {
        "Torchrun": {"ProcessCountPerNode": 2, "Smp": {"TensorParallelDegree": 2, "RandomSeed": 7}}
    }
    assert request["HyperParameters"]["mp_parameters"] == (
        '{"tensor_parallel_degree": 2, "random_seed": 7}'  # as the real SDK adds it
    )
    smp.train(dry_run=True)
    refused = [
        (trainer(MPI(), command="mpirun python train.py"), "entry_script"),
        (
            trainer(Torchrun(process_count_per_node=2, smp=SMP(context_parallel_degree=2))),
            r"must divide hybrid_shard_degree \(1\)",
        ),
        (
            trainer(Torchrun(process_count_per_node=1, smp=SMP(tensor_parallel_degree=2))),
            r"must divide the world size \(1 rank:",
        ),
        # no count: 1 process per host on a machine without GPUs (the executor's check)
        (trainer(Torchrun(smp=SMP(tensor_parallel_degree=2))), r"world size \(1 rank:"),
        (trainer(Torchrun(), command="python train.py"), "entry_script"),
    ]
    for job, said in refused:
        with pytest.raises(ValueError, match=said):
            job.train(dry_run=True)
    assert not (sageyard_home / "jobs").exists() or not any((sageyard_home / "jobs").iterdir())


def test_the_launchers_name_their_drivers() -> None:
    # sageyard ships no driver scripts yet: the folder is where a job finds them (its
    # SM_DISTRIBUTED_DRIVER_DIR), the file names are the real SDK's
    assert DRIVER_DIR == "/opt/ml/input/data/sm_drivers/distributed_drivers"
    assert (Torchrun().driver_dir, Torchrun().driver_script) == (DRIVER_DIR, "torchrun_driver.py")
    assert (MPI().driver_dir, MPI().driver_script) == (DRIVER_DIR, "mpi_driver.py")
    assert Torchrun(process_count_per_node=2).to_request() == {"ProcessCountPerNode": 2}


def test_distributed_config_is_abstract_as_in_the_real_sdk() -> None:
    assert isinstance(Torchrun(), DistributedConfig) and isinstance(MPI(), BaseConfig)
    with pytest.raises(TypeError, match="abstract"):
        DistributedConfig()  # type: ignore[abstract]

    class Custom(DistributedConfig):
        @property
        def driver_dir(self) -> str:
            return "/opt/ml/code/drivers"

        @property
        def driver_script(self) -> str:
            return "custom_driver.py"

    assert Custom(process_count_per_node=1).driver_script == "custom_driver.py"


def test_a_channel_shuffle_config_goes_into_the_request(
    sageyard_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    channel = Channel(
        channel_name="train",
        data_source=DataSource(s3_data_source=S3DataSource(s3_uri="s3://bucket/train")),
        shuffle_config=ShuffleConfig(seed=5),
    )
    trainer = ModelTrainer(
        training_image="pytorch-training:2.0-cpu-py310",
        source_code=SourceCode(source_dir=str(tmp_path), entry_script="train.py"),
        input_data_config=[channel],
    )
    request = training_job_request(trainer, trainer._session())
    assert request["InputDataConfig"][0]["ShuffleConfig"] == {"Seed": 5}
