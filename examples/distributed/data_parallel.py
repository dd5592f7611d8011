# Run: python examples/distributed/data_parallel.py
# The reference's "Data Parallel Only" example, on sageyard: 4 hosts x 8 processes, torchrun
# on each. The GPU instance type runs on the CPU here (the job's warning says so), with gloo.
# The reference's snippet leaves out the code: source_code is added, as the SDK requires.
import os
from pathlib import Path

from sageyard.train import ModelTrainer
from sageyard.train.configs import Compute, SourceCode
from sageyard.train.distributed import Torchrun

os.chdir(Path(__file__).parent)  # source_dir="./code" is next to this file

# Simple data parallel (no model parallelism)
distributed_config = Torchrun(
    process_count_per_node=8  # 8-way data parallelism
)

trainer = ModelTrainer(
    training_image="pytorch-image",
    distributed=distributed_config,
    compute=Compute(
        instance_type="ml.p3.16xlarge",
        instance_count=4,  # 32 total GPUs for data parallelism
    ),
    source_code=SourceCode(source_dir="./code", entry_script="train_ddp.py"),
    hyperparameters={"epochs": 3},
)
trainer.train(logs=True)
job = trainer._latest_training_job
print(f"Training job: {job.training_job_name}")
print(f"Status: {job.training_job_status}")
print(f"Model artifacts: {job.model_artifacts}")
