# Run: python examples/tuning/bayesian.py
# The reference's Bayesian tuning example (with early_stopping_type="Auto"), on sageyard.
# Early stopping "Auto" is SageMaker's median rule: once three jobs have completed, a job
# whose objective at an epoch is worse than the median of the completed jobs' running averages
# up to that epoch is stopped (status Stopped). It may stop none.
# Changed: the imports, max_jobs/max_parallel_jobs (20/3 -> 10/2, for a 2-core machine),
# and the glue a runnable file needs: the trainer the reference assumes (defined below),
# whole tables in the printout, and a summary of the tuning job at the end.
import os
from pathlib import Path

import pandas as pd
from botocore.exceptions import ClientError

from sageyard.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
from sageyard.train import ModelTrainer
from sageyard.train.configs import SourceCode
from sageyard.train.tuner import HyperparameterTuner

os.chdir(Path(__file__).parent)  # the source_dir="./code" below is next to this file
pd.set_option("display.max_columns", None)  # print whole tables
pd.set_option("display.width", 200)

# The trainer the reference's snippet tunes: code/train.py, a small MLP in pure Python,
# 20 epochs on 2048 points (about 0.04 s an epoch).
trainer = ModelTrainer(
    training_image="763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0-gpu-py310",
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    source_code=SourceCode(source_dir="./code", entry_script="train.py"),
    hyperparameters={"epochs": 20, "train_rows": 2048},
)

# Define parameter ranges with scaling
hyperparameter_ranges = {
    "learning_rate": ContinuousParameter(
        min_value=0.001,
        max_value=0.1,
        scaling_type="Logarithmic",  # Better for learning rates
    ),
    "batch_size": IntegerParameter(min_value=32, max_value=256, scaling_type="Linear"),
    "optimizer": CategoricalParameter(values=["adam", "sgd", "rmsprop"]),
    "dropout": ContinuousParameter(min_value=0.0, max_value=0.5, scaling_type="Linear"),
}

# Create tuner with Bayesian strategy
tuner = HyperparameterTuner(
    model_trainer=trainer,
    objective_metric_name="validation:accuracy",
    hyperparameter_ranges=hyperparameter_ranges,
    metric_definitions=[{"Name": "validation:accuracy", "Regex": "Val Acc: ([0-9\\.]+)"}],
    strategy="Bayesian",
    objective_type="Maximize",
    max_jobs=10,
    max_parallel_jobs=2,
    early_stopping_type="Auto",
)

# Start tuning with error handling
try:
    tuner.tune(wait=True)

    # Get best training job
    best_job = tuner.best_training_job()
    print(f"Best training job: {best_job}")

    # Access analytics
    analytics = tuner.analytics()
    df = analytics.dataframe()  # Pandas DataFrame with all results
    print(df.sort_values("FinalObjectiveValue", ascending=False).head())
except ValueError as e:
    print(f"Invalid configuration: {e}")
except ClientError as e:
    print(f"AWS API error: {e}")

description = tuner.describe()
print(f"Tuning job: {tuner.latest_tuning_job.name}")
print(f"Status: {description['HyperParameterTuningJobStatus']}")
print(f"Training jobs by status: {description['TrainingJobStatusCounters']}")
