# Run: python examples/distributed/mpi.py
# The reference's "MPI-Based Training" example, on sageyard: 2 hosts x 8 processes, mpirun
# on algo-1 starting every rank (algo-2's through sageyard's agent, inside its own sandbox).
# The GPU instance type runs on the CPU here (the job's warning says so). The reference's
# snippet leaves out the code: source_code is added, as the SDK requires; the script
# averages gradients with mpi4py's allreduce (a Horovod script runs the same way where
# Horovod is installed).
import os
from pathlib import Path

from sageyard.train import ModelTrainer
from sageyard.train.configs import Compute, SourceCode
from sageyard.train.distributed import MPI

os.chdir(Path(__file__).parent)  # source_dir="./code" is next to this file

# Configure MPI for Horovod
mpi_config = MPI(
    process_count_per_node=8,
    mpi_additional_options=[
        "-x",
        "NCCL_DEBUG=INFO",
        "-x",
        "HOROVOD_TIMELINE=timeline.json",
    ],
)

trainer = ModelTrainer(
    training_image="horovod-training-image",
    distributed=mpi_config,
    compute=Compute(
        instance_type="ml.p3.16xlarge",
        instance_count=2,
    ),
    source_code=SourceCode(source_dir="./code", entry_script="train_mpi.py"),
    hyperparameters={"epochs": 3},
)
trainer.train(logs=True)
job = trainer._latest_training_job
print(f"Training job: {job.training_job_name}")
print(f"Status: {job.training_job_status}")
print(f"Model artifacts: {job.model_artifacts}")
