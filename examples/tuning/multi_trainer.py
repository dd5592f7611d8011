# Run: python examples/tuning/multi_trainer.py
# The reference's multi-model-trainer example, on sageyard: one tuning job whose training
# jobs are spread over two trainers, each with its own objective metric and ranges.
# Changed: the imports, max_jobs/max_parallel_jobs (20/4 -> 8/2, for a 2-core machine),
# and the glue a runnable file needs: the two trainers the reference assumes (an MLP and a
# logistic regression, both code/train.py, each with its objective's metric definition),
# and tuner.tune() with a look at the results of each trainer.
import os
from pathlib import Path

import pandas as pd

from sageyard.core.parameter import ContinuousParameter
from sageyard.train import ModelTrainer
from sageyard.train.configs import MetricDefinition, SourceCode
from sageyard.train.tuner import HyperparameterTuner

os.chdir(Path(__file__).parent)  # the source_dir="./code" below is next to this file
pd.set_option("display.max_columns", None)  # print whole tables
pd.set_option("display.width", 200)

image = "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0-gpu-py310"
role = "arn:aws:iam::123456789012:role/SageMakerRole"
trainer1 = ModelTrainer(
    training_image=image,
    role=role,
    source_code=SourceCode(source_dir="./code", entry_script="train.py"),
    hyperparameters={"epochs": 10, "hidden_size": 16},  # an MLP
    base_job_name="mlp",
).with_metric_definitions([MetricDefinition(name="val:accuracy", regex="Val Acc: ([0-9\\.]+)")])
trainer2 = ModelTrainer(
    training_image=image,
    role=role,
    source_code=SourceCode(source_dir="./code", entry_script="train.py"),
    hyperparameters={"epochs": 10, "hidden_size": 0},  # a logistic regression
    base_job_name="logistic",
).with_metric_definitions([MetricDefinition(name="val:f1", regex="Val F1: ([0-9\\.]+)")])

# Create tuner for multiple trainers
tuner = HyperparameterTuner.create(
    model_trainer_dict={"trainer1": trainer1, "trainer2": trainer2},
    objective_metric_name_dict={"trainer1": "val:accuracy", "trainer2": "val:f1"},
    hyperparameter_ranges_dict={
        "trainer1": {"learning_rate": ContinuousParameter(0.001, 0.1)},
        "trainer2": {"learning_rate": ContinuousParameter(0.0001, 0.01)},
    },
    strategy="Bayesian",
    max_jobs=8,
    max_parallel_jobs=2,
)
tuner.tune()

df = tuner.analytics().dataframe()
columns = ["TrainingJobDefinitionName", "learning_rate", "TrainingJobStatus", "FinalObjectiveValue"]
print(df[columns].sort_values(["TrainingJobDefinitionName", "FinalObjectiveValue"]))
print(df.groupby("TrainingJobDefinitionName")["FinalObjectiveValue"].max())
print(f"Tuning job: {tuner.latest_tuning_job.name}")
print(f"Status: {tuner.describe()['HyperParameterTuningJobStatus']}")
print(f"Best training job: {tuner.best_training_job()}")
