# Run: python examples/tuning/autotune.py
# The reference's autotune example, on sageyard: with autotune=True and no ranges, sageyard
# chooses ranges for the trainer's hyperparameters that it knows (learning_rate, dropout,
# optimizer here), except those kept static.
# Changed: the imports, max_jobs/max_parallel_jobs (50/5 -> 8/2, for a 2-core machine),
# and the glue a runnable file needs: the trainer the reference assumes (defined below,
# with the hyperparameters autotune starts from and the objective's metric definition),
# and a look at the ranges chosen and the best training job.
import os
from pathlib import Path

from sageyard.train import ModelTrainer
from sageyard.train.configs import MetricDefinition, SourceCode
from sageyard.train.tuner import HyperparameterTuner

os.chdir(Path(__file__).parent)  # the source_dir="./code" below is next to this file

trainer = ModelTrainer(
    training_image="763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0-gpu-py310",
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    source_code=SourceCode(source_dir="./code", entry_script="train.py"),
    hyperparameters={
        "epochs": 10,
        "batch_size": 64,
        "learning_rate": 0.01,
        "dropout": 0.1,
        "optimizer": "adam",
    },
)
trainer.with_metric_definitions(
    [MetricDefinition(name="validation:accuracy", regex="Val Acc: ([0-9\\.]+)")]
)

# Enable automatic parameter range selection
tuner = HyperparameterTuner(
    model_trainer=trainer,
    objective_metric_name="validation:accuracy",
    hyperparameter_ranges={},  # Empty when autotune=True
    autotune=True,
    hyperparameters_to_keep_static=["epochs", "batch_size"],  # Don't tune these
    max_jobs=8,
    max_parallel_jobs=2,
)

# SageMaker will automatically determine optimal ranges for tunable hyperparameters
tuner.tune()

description = tuner.describe()
print(f"Tuning job: {tuner.latest_tuning_job.name}")
print(f"Status: {description['HyperParameterTuningJobStatus']}")
ranges = description["HyperParameterTuningJobConfig"]["ParameterRanges"]
for kind, items in ranges.items():
    for item in items:
        bounds = item.get("Values") or [item["MinValue"], item["MaxValue"]]
        print(f"Autotuned range: {item['Name']} ({kind.removesuffix('ParameterRanges')}) {bounds}")
print(f"Static: {description['TrainingJobDefinition']['StaticHyperParameters']}")
best = description["BestTrainingJob"]
print(
    f"Best training job: {best['TrainingJobName']} "
    f"(validation:accuracy {best['FinalHyperParameterTuningJobObjectiveMetric']['Value']:.4f}) "
    f"with {best['TunedHyperParameters']}"
)
