# Run: python examples/tuning/warm_start.py
# The reference's warm start (transfer learning) example, on sageyard. A warm-started
# tuning job begins with the results of its parent tuning jobs, so its search starts where
# theirs ended.
# Changed: the imports; the parents, which are run first (three small tuning jobs, whose
# names replace "my-previous-tuning-job", "parent-job-1" and "parent-job-2");
# max_jobs/max_parallel_jobs (20/3 -> 6/2, for a 2-core machine); the trainer and ranges
# the reference assumes, defined below; and tuner.tune() before transfer_learning_tuner(),
# which warm-starts from the tuner's latest tuning job, so that job must exist.
import os
from pathlib import Path

from sageyard.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
from sageyard.core.shapes import (
    HyperParameterTuningJobWarmStartConfig,
    ParentHyperParameterTuningJob,
)
from sageyard.train import ModelTrainer
from sageyard.train.configs import MetricDefinition, SourceCode
from sageyard.train.tuner import HyperparameterTuner, WarmStartTypes

os.chdir(Path(__file__).parent)  # the source_dir="./code" below is next to this file


def make_trainer(epochs: int) -> ModelTrainer:
    """The trainer the reference assumes: code/train.py, a small MLP in pure Python."""
    trainer = ModelTrainer(
        training_image="763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0-gpu-py310",
        role="arn:aws:iam::123456789012:role/SageMakerRole",
        source_code=SourceCode(source_dir="./code", entry_script="train.py"),
        hyperparameters={"epochs": epochs},
    )
    return trainer.with_metric_definitions(
        [MetricDefinition(name="validation:accuracy", regex="Val Acc: ([0-9\\.]+)")]
    )


hyperparameter_ranges = {
    "learning_rate": ContinuousParameter(0.001, 0.1, scaling_type="Logarithmic"),
    "batch_size": IntegerParameter(32, 256),
    "optimizer": CategoricalParameter(["adam", "sgd", "rmsprop"]),
    "dropout": ContinuousParameter(0.0, 0.5),
}


def run_parent(seed: int) -> str:
    """A small earlier tuning job, on a shorter training schedule (5 epochs); its name."""
    parent = HyperparameterTuner(
        model_trainer=make_trainer(epochs=5),
        objective_metric_name="validation:accuracy",
        hyperparameter_ranges=hyperparameter_ranges,
        strategy="Random",
        max_jobs=4,
        max_parallel_jobs=2,
        random_seed=seed,
        base_tuning_job_name="parent-job",
    )
    parent.tune()
    name = parent.latest_tuning_job.name
    best = parent.describe()["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    print(f"Parent tuning job: {name} (best validation:accuracy {best['Value']:.4f})")
    return name


def show(title: str, tuner: HyperparameterTuner) -> None:
    """A warm-started tuning job's parents, type and best training job."""
    description = tuner.describe()
    warm_start = description["WarmStartConfig"]
    parents = [
        p["HyperParameterTuningJobName"] for p in warm_start["ParentHyperParameterTuningJobs"]
    ]
    best = description["BestTrainingJob"]
    value = best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    print(f"{title}: {tuner.latest_tuning_job.name} ({warm_start['WarmStartType']})")
    print(f"  Parents: {', '.join(parents)}")
    print(f"  Best training job: {best['TrainingJobName']} (validation:accuracy {value:.4f})")


previous_tuning_job, parent_job_1, parent_job_2 = run_parent(1), run_parent(2), run_parent(3)
trainer = make_trainer(epochs=10)  # TransferLearning: the training configuration may change

# Configure warm start from parent tuning job
warm_start_config = HyperParameterTuningJobWarmStartConfig(
    parent_hyper_parameter_tuning_jobs=[
        ParentHyperParameterTuningJob(hyper_parameter_tuning_job_name=previous_tuning_job)
    ],
    warm_start_type=WarmStartTypes.TRANSFER_LEARNING.value,
)

# Create tuner with warm start
tuner = HyperparameterTuner(
    model_trainer=trainer,
    objective_metric_name="validation:accuracy",
    hyperparameter_ranges=hyperparameter_ranges,
    warm_start_config=warm_start_config,
    max_jobs=6,
    max_parallel_jobs=2,
)
tuner.tune()
show("Warm-started tuning job", tuner)

# Or use transfer_learning_tuner helper
new_tuner = tuner.transfer_learning_tuner(additional_parents={parent_job_1, parent_job_2})
new_tuner.tune()
show("Transfer learning tuning job", new_tuner)
print(f"Status: {new_tuner.describe()['HyperParameterTuningJobStatus']}")
