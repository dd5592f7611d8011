# Run: python examples/tuning/analytics.py [OUTPUT_DIR]
# The reference's analytics example, on sageyard: a tuning job's results as a pandas
# DataFrame, the best configurations, the effect of the learning rate, and a plot of the
# best objective value over the training jobs, saved as tuning_progress.png in OUTPUT_DIR
# (default: the current directory).
# Changed: the imports; the tuning job to analyse, which is run first (its name replaces
# "my-tuning-job-2024-01-01-12-00-00"; its learning rate takes three values, so the
# groupby below has something to average); and the plot: the reference draws it with
# matplotlib and shows it in a window; here sageyard's analytics.plot(path) saves it as a
# PNG (the running best objective over the training jobs, and each job's value).
import os
import sys
from pathlib import Path

import pandas as pd

from sageyard.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
from sageyard.train import ModelTrainer
from sageyard.train.configs import MetricDefinition, SourceCode
from sageyard.train.tuner import HyperparameterTuner, HyperparameterTuningJobAnalytics

plot_path = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve() / "tuning_progress.png"
os.chdir(Path(__file__).parent)  # the source_dir="./code" below is next to this file
pd.set_option("display.max_columns", None)  # print whole tables
pd.set_option("display.width", 200)

# The tuning job to analyse: 12 training jobs of code/train.py, a small MLP in pure Python.
trainer = ModelTrainer(
    training_image="763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0-gpu-py310",
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    source_code=SourceCode(source_dir="./code", entry_script="train.py"),
    hyperparameters={"epochs": 10},
)
trainer.with_metric_definitions(
    [MetricDefinition(name="validation:accuracy", regex="Val Acc: ([0-9\\.]+)")]
)
tuner = HyperparameterTuner(
    model_trainer=trainer,
    objective_metric_name="validation:accuracy",
    hyperparameter_ranges={
        "learning_rate": CategoricalParameter([0.001, 0.01, 0.1]),
        "batch_size": IntegerParameter(32, 256),
        "dropout": ContinuousParameter(0.0, 0.5),
    },
    strategy="Random",
    max_jobs=12,
    max_parallel_jobs=2,
    random_seed=42,
)
tuner.tune()
print(f"Tuning job: {tuner.latest_tuning_job.name}")
print(f"Status: {tuner.describe()['HyperParameterTuningJobStatus']}")

# Create analytics instance
analytics = HyperparameterTuningJobAnalytics(tuning_job_name=tuner.latest_tuning_job.name)

# Get results as DataFrame
df = analytics.dataframe()

# Analyze results
print("Best 5 configurations:")
print(df.sort_values("FinalObjectiveValue", ascending=False).head())

# Analyze parameter impact
print("\nLearning rate vs Accuracy:")
print(df.groupby("learning_rate")["FinalObjectiveValue"].mean())

# Visualize search progress
saved = analytics.plot(plot_path)
print(f"\nSaved the plot to {saved}")

# Export best configuration
best_job = df.loc[df["FinalObjectiveValue"].idxmax()]
best_params = {
    col: best_job[col]
    for col in df.columns
    if col in analytics.tuning_ranges.keys()  # noqa: SIM118 (as the reference writes it)
}
print(f"\nBest hyperparameters: {best_params}")
