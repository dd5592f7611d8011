# Run: python examples/tuning/hyperband.py
# The reference's Hyperband example, on sageyard. Each value of the objective metric a
# training job prints (one per epoch here) is one unit of resource: a job gets between
# min_resource and max_resource epochs, and the weaker ones are stopped early.
# Changed: the imports, max_jobs/max_parallel_jobs (100/5 -> 12/2, for a 2-core machine),
# a random_seed, and the trainer and ranges the reference assumes, defined below.
import os
from pathlib import Path

import pandas as pd

from sageyard.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
from sageyard.core.resources import TrainingJob
from sageyard.core.shapes import HyperbandStrategyConfig, HyperParameterTuningJobStrategyConfig
from sageyard.train import ModelTrainer
from sageyard.train.configs import MetricDefinition, SourceCode
from sageyard.train.tuner import HyperparameterTuner

os.chdir(Path(__file__).parent)  # the source_dir="./code" below is next to this file
pd.set_option("display.max_columns", None)  # print whole tables
pd.set_option("display.width", 200)

# The trainer the reference's snippet tunes: code/train.py, a small MLP in pure Python, on
# 4096 points (about 0.1 s an epoch) for max_resource epochs, with the objective's metric
# definition.
trainer = ModelTrainer(
    training_image="763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0-gpu-py310",
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    source_code=SourceCode(source_dir="./code", entry_script="train.py"),
    hyperparameters={"epochs": 27, "train_rows": 4096},
)
trainer.with_metric_definitions(
    [MetricDefinition(name="validation:accuracy", regex="Val Acc: ([0-9\\.]+)")]
)
hyperparameter_ranges = {
    "learning_rate": ContinuousParameter(0.001, 0.1, scaling_type="Logarithmic"),
    "batch_size": IntegerParameter(32, 256),
    "optimizer": CategoricalParameter(["adam", "sgd", "rmsprop"]),
    "dropout": ContinuousParameter(0.0, 0.5),
}

# Configure Hyperband strategy
hyperband_config = HyperbandStrategyConfig(
    min_resource=1,  # Minimum epochs/resources for training jobs
    max_resource=27,  # Maximum epochs/resources
    reduction_factor=3,  # Factor for reducing configurations (typically 2-4)
    number_of_brackets=4,  # Number of bracket levels (more brackets = more exploration)
)
strategy_config = HyperParameterTuningJobStrategyConfig(hyperband_strategy_config=hyperband_config)

# Create tuner with Hyperband
tuner = HyperparameterTuner(
    model_trainer=trainer,
    objective_metric_name="validation:accuracy",
    hyperparameter_ranges=hyperparameter_ranges,
    strategy="Hyperband",
    strategy_config=strategy_config,
    early_stopping_type="Off",  # Required for Hyperband
    max_jobs=12,
    max_parallel_jobs=2,
    random_seed=7,
)
tuner.tune()

# What Hyperband did: how many epochs (values of the objective metric) each job got.
df = tuner.analytics().dataframe()
df["Epochs"] = [
    len(TrainingJob.get(name).metrics("validation:accuracy")) for name in df["TrainingJobName"]
]
print(df[["TrainingJobName", "TrainingJobStatus", "Epochs", "FinalObjectiveValue"]])
print(f"Tuning job: {tuner.latest_tuning_job.name}")
print(f"Status: {tuner.describe()['HyperParameterTuningJobStatus']}")
print(f"Epochs in all: {df['Epochs'].sum()} of {len(df) * 27} without early stopping")
print(f"Best training job: {tuner.best_training_job()}")
