"""A SageMaker v3 notebook, as it is written for the real SDK, with `sagemaker` renamed to
`sageyard` in the imports: session_helper, image_uris, ModelTrainer with two channels, a
tuner over the argparse script, the job's and tuning job's attributes, analytics.

    python examples/v3_notebook/notebook.py
"""

import csv
import random
import tempfile
from pathlib import Path

from sageyard.core import image_uris
from sageyard.core.helper.session_helper import Session, get_execution_role
from sageyard.core.parameter import ContinuousParameter, IntegerParameter
from sageyard.core.training.configs import Compute, InputData, SourceCode, StoppingCondition
from sageyard.train import ModelTrainer
from sageyard.train.tuner import HyperparameterTuner

# %% Session, role, region, bucket
sagemaker_session = Session()
try:
    role = get_execution_role()
except ValueError:  # outside SageMaker: an explicit role
    role = "arn:aws:iam::123456789012:role/SageMakerRole"
region = sagemaker_session.boto_region_name
bucket = sagemaker_session.default_bucket()
prefix = "v3-notebook"

# %% Data: two channels, uploaded to S3
random.seed(0)
data_dir = Path(tempfile.mkdtemp(prefix="v3-notebook-"))
for channel, count in (("train", 200), ("validation", 60)):
    (data_dir / channel).mkdir()
    with open(data_dir / channel / f"{channel}.csv", "w", newline="") as f:
        writer = csv.writer(f)
        for _ in range(count):
            x1, x2 = random.uniform(-2, 2), random.uniform(-2, 2)
            writer.writerow([f"{x1:.4f}", f"{x2:.4f}", int(x1 + 0.5 * x2 > 0)])
train_s3 = sagemaker_session.upload_data(str(data_dir / "train"), bucket, f"{prefix}/train")
validation_s3 = sagemaker_session.upload_data(
    str(data_dir / "validation"), bucket, f"{prefix}/validation"
)

# %% The training image, as the real SDK names it
image_uri = image_uris.retrieve(
    framework="pytorch",
    region=region,
    version="2.1",
    py_version="py310",
    instance_type="ml.m5.xlarge",
    image_scope="training",
)
print("Image:", image_uri)

# %% Train
model_trainer = ModelTrainer(
    training_image=image_uri,
    source_code=SourceCode(source_dir=str(Path(__file__).parent / "code"), entry_script="train.py"),
    compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
    stopping_condition=StoppingCondition(max_runtime_in_seconds=600),
    hyperparameters={"learning_rate": 0.1, "epochs": 5},
    role=role,
    base_job_name="v3-notebook",
    sagemaker_session=sagemaker_session,
).with_metric_definitions(
    [
        {"Name": "train:loss", "Regex": r"train:loss=([0-9.]+)"},
        {"Name": "validation:accuracy", "Regex": r"validation:accuracy=([0-9.]+)"},
    ]
)
model_trainer.train(
    input_data_config=[
        InputData(channel_name="train", data_source=train_s3),
        InputData(channel_name="validation", data_source=validation_s3),
    ],
    wait=True,
    logs=False,
)
training_job = model_trainer._latest_training_job
print("Training job:", training_job.training_job_name)
print("Status:", training_job.training_job_status)
print("Instance type:", training_job.resource_config.instance_type)
print("Model artifacts:", training_job.model_artifacts.s3_model_artifacts)
for metric in training_job.final_metric_data_list:
    print(f"  {metric.metric_name} = {metric.value}")

# %% Tune the argparse script
tuner = HyperparameterTuner(
    model_trainer=model_trainer,
    objective_metric_name="validation:accuracy",
    hyperparameter_ranges={
        "learning_rate": ContinuousParameter(0.01, 0.5),
        "epochs": IntegerParameter(2, 6),
    },
    metric_definitions=[{"Name": "validation:accuracy", "Regex": r"validation:accuracy=([0-9.]+)"}],
    objective_type="Maximize",
    max_jobs=4,
    max_parallel_jobs=2,
    strategy="Random",
    random_seed=1,
)
tuner.tune(
    inputs=[
        InputData(channel_name="train", data_source=train_s3),
        InputData(channel_name="validation", data_source=validation_s3),
    ],
    wait=True,
)
description = tuner.describe()
print("Tuning job:", tuner._current_job_name)
print("Tuning status:", description.hyper_parameter_tuning_job_status)
print("Best training job:", description.best_training_job.training_job_name)
frame = tuner.analytics().dataframe()
print(frame[["TrainingJobName", "FinalObjectiveValue"]].to_string(index=False))
