# Run: python examples/model_trainer/basic.py
# The reference's "Create trainer with basic configuration" example, on sageyard.
import os
from pathlib import Path

from botocore.exceptions import ClientError
from prepare_data import prepare

from sageyard.train import ModelTrainer
from sageyard.train.configs import Compute, InputData, SourceCode

os.chdir(Path(__file__).parent)  # the reference's source_dir="./code" is next to this file
prepare()  # uploads the data set to s3://my-bucket/train and s3://my-bucket/val

# Create trainer with basic configuration
trainer = ModelTrainer(
    training_image="763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0-gpu-py310",
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    compute=Compute(instance_type="ml.p3.2xlarge", instance_count=1, volume_size_in_gb=50),
    source_code=SourceCode(
        source_dir="./code", entry_script="train.py", requirements="requirements.txt"
    ),
    hyperparameters={"epochs": 10, "learning_rate": 0.001, "batch_size": 32},
)

# Configure training data
train_data = InputData(
    channel_name="training", data_source="s3://my-bucket/train", content_type="application/json"
)
val_data = InputData(
    channel_name="validation", data_source="s3://my-bucket/val", content_type="application/json"
)

# Train model with error handling
try:
    trainer.train(input_data_config=[train_data, val_data], wait=True, logs=True)

    # Access training job details
    job = trainer._latest_training_job
    print(f"Training job: {job.training_job_name}")
    print(f"Status: {job.training_job_status}")
    # Empty here: this configuration has no MetricDefinitions (advanced.py adds them)
    print(f"Final metrics: { {m.metric_name: m.value for m in job.final_metric_data_list} }")
    print(f"Model artifacts: {job.model_artifacts}")
except ClientError as e:
    error_code = e.response["Error"]["Code"]
    if error_code == "ResourceLimitExceeded":
        print("Exceeded instance limit. Request quota increase.")
    elif error_code == "ValidationException":
        print(f"Invalid configuration: {e}")
    else:
        raise
except RuntimeError as e:
    print(f"Training failed: {e}")
    # Check CloudWatch logs for details
