# Run: python examples/distributed/model_parallel.py
# The reference's "SageMaker Model Parallelism" example, on sageyard: 2 hosts x 8 processes,
# torchrun on each, SMP v2 with 4-way hybrid sharding and 2-way tensor parallelism (so 2
# replicas of the model). The script imports torch.sagemaker as on SageMaker's SMP
# containers; sageyard runs it on PyTorch's FSDP2 and DTensor. The GPU instance type runs on
# the CPU here (the job's warning says so), with gloo. The reference's snippet leaves out the
# code: source_code is added, as the SDK requires (a small Llama made from its config).
import os
from pathlib import Path

from sageyard.train import ModelTrainer
from sageyard.train.configs import Compute, SourceCode
from sageyard.train.distributed import SMP, Torchrun

os.chdir(Path(__file__).parent)  # source_dir="./code" is next to this file

# Configure distributed training with model parallelism
distributed_config = Torchrun(
    process_count_per_node=8,  # 8 GPUs per node
    smp=SMP(
        hybrid_shard_degree=4,  # Shard model across 4 GPUs
        tensor_parallel_degree=2,  # Additional tensor parallelism
        sm_activation_offloading=True,  # Save memory
        random_seed=42,
    ),
)

# Create trainer with distributed config
trainer = ModelTrainer(
    training_image="pytorch-training-image",
    distributed=distributed_config,
    compute=Compute(
        instance_type="ml.p4d.24xlarge",  # 8 A100 GPUs
        instance_count=2,  # 16 total GPUs
        volume_size_in_gb=500,
    ),
    source_code=SourceCode(source_dir="./code", entry_script="train_smp.py"),
    hyperparameters={"epochs": 3},
)

# Distributed configuration automatically applied
trainer.train(logs=True)
job = trainer._latest_training_job
print(f"Training job: {job.training_job_name}")
print(f"Status: {job.training_job_status}")
print(f"Model artifacts: {job.model_artifacts}")
