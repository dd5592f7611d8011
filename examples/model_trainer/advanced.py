# Run: python examples/model_trainer/advanced.py
# The reference's "Advanced Configuration" example, on sageyard: 4 hosts, spot, checkpoints.
import os
from pathlib import Path

from prepare_data import prepare

from sageyard.train import ModelTrainer
from sageyard.train.configs import (
    CheckpointConfig,
    Compute,
    InputData,
    MetricDefinition,
    Networking,
    RetryStrategy,
    SourceCode,
    StoppingCondition,
    Tag,
)

os.chdir(Path(__file__).parent)  # the source_dir="./code" below is next to this file
prepare()  # uploads the data set to s3://my-bucket/train and s3://my-bucket/val

role_arn = "arn:aws:iam::123456789012:role/SageMakerRole"
train_data = InputData(
    channel_name="training", data_source="s3://my-bucket/train", content_type="application/json"
)
val_data = InputData(
    channel_name="validation", data_source="s3://my-bucket/val", content_type="application/json"
)

# Configure with all options
trainer = ModelTrainer(
    training_image="my-training-image",
    role=role_arn,
    source_code=SourceCode(
        source_dir="./code", entry_script="train.py", requirements="requirements.txt"
    ),
    compute=Compute(
        instance_type="ml.p3.8xlarge",
        instance_count=4,
        volume_size_in_gb=100,
        enable_managed_spot_training=True,  # Cost savings
        keep_alive_period_in_seconds=300,  # Warm pool for repeated training
    ),
    networking=Networking(
        subnets=["subnet-xxx", "subnet-yyy"],
        security_group_ids=["sg-xxx"],
        enable_inter_container_traffic_encryption=True,
    ),
    stopping_condition=StoppingCondition(
        max_runtime_in_seconds=86400,  # 24 hours
        max_wait_time_in_seconds=172800,  # 48 hours for spot
    ),
    checkpoint_config=CheckpointConfig(
        s3_uri="s3://my-bucket/checkpoints", local_path="/opt/ml/checkpoints"
    ),
    environment={"MY_ENV_VAR": "value", "LOG_LEVEL": "INFO"},
    tags=[
        Tag(key="Project", value="MyProject"),
        Tag(key="Environment", value="Production"),
    ],
)

# Add metric definitions for custom metrics
trainer.with_metric_definitions(
    [
        MetricDefinition(name="train:loss", regex="Train Loss: ([0-9\\.]+)"),
        MetricDefinition(name="val:accuracy", regex="Validation Accuracy: ([0-9\\.]+)"),
    ]
)

# Add retry strategy for resilience
trainer.with_retry_strategy(RetryStrategy(maximum_retry_attempts=2))

# Train with full configuration
trainer.train(input_data_config=[train_data, val_data])

job = trainer._latest_training_job
print(f"Training job: {job.training_job_name}")
print(f"Status: {job.training_job_status}")
print(f"Final metrics: { {m.metric_name: m.value for m in job.final_metric_data_list} }")
print(f"Model artifacts: {job.model_artifacts}")
