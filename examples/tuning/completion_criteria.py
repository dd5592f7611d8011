# Run: python examples/tuning/completion_criteria.py
# The reference's completion criteria example, on sageyard: the tuning job ends before
# max_jobs once the best validation accuracy reaches 0.95, once 10 training jobs in a row
# have not improved it by 1%, or once sageyard detects convergence (see
# sageyard.tuning.criteria for the rule).
# Changed: the imports, and the glue a runnable file needs: the trainer and ranges the
# reference assumes, defined below, and tuner.tune() with a look at why the job ended.
import os
from pathlib import Path

from sageyard.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
from sageyard.core.shapes import (
    BestObjectiveNotImproving,
    ConvergenceDetected,
    TuningJobCompletionCriteria,
)
from sageyard.train import ModelTrainer
from sageyard.train.configs import MetricDefinition, SourceCode
from sageyard.train.tuner import HyperparameterTuner

os.chdir(Path(__file__).parent)  # the source_dir="./code" below is next to this file

# The trainer the reference's snippet tunes: code/train.py, a small MLP in pure Python, with
# the objective's metric definition.
trainer = ModelTrainer(
    training_image="763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0-gpu-py310",
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    source_code=SourceCode(source_dir="./code", entry_script="train.py"),
    hyperparameters={"epochs": 10},
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

# Auto-stop when target metric reached or convergence detected
completion_criteria = TuningJobCompletionCriteria(
    target_objective_metric_value=0.95,  # Stop when metric reaches this value
    best_objective_not_improving=BestObjectiveNotImproving(
        max_number_of_training_jobs_not_improving=10  # Stop if no 1%+ improvement
    ),
    convergence_detected=ConvergenceDetected(
        complete_on_convergence="Enabled"  # Stop if AMT detects convergence
    ),
)

tuner = HyperparameterTuner(
    model_trainer=trainer,
    objective_metric_name="validation:accuracy",
    hyperparameter_ranges=hyperparameter_ranges,
    completion_criteria_config=completion_criteria,
    max_jobs=100,  # May complete with fewer jobs due to criteria
)
tuner.tune()

description = tuner.describe()
counts = description["TrainingJobStatusCounters"]
best = description["BestTrainingJob"]
print(f"Tuning job: {tuner.latest_tuning_job.name}")
print(f"Status: {description['HyperParameterTuningJobStatus']}")
print(f"Training jobs run: {sum(counts.values())} of max_jobs=100")
print(f"Why it ended: {description.get('CompletionReason', 'max_jobs reached')}")
print(f"Completion details: {description.get('TuningJobCompletionDetails')}")
print(
    f"Best training job: {best['TrainingJobName']} "
    f"(validation:accuracy {best['FinalHyperParameterTuningJobObjectiveMetric']['Value']:.4f})"
)
