"""SageMaker's built-in XGBoost on the breast-cancer data set, then tuned on validation:auc.

    python examples/builtin/xgboost_breast_cancer.py

As SageMaker's XGBoost tutorial, with `sagemaker` → `sageyard` and local data: the data set
ships with scikit-learn and is written to CSV (label first, no header) by this example.
"""

import tempfile
from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from sageyard.core.parameter import ContinuousParameter, IntegerParameter
from sageyard.train import ModelTrainer
from sageyard.train.configs import Compute, InputData
from sageyard.train.tuner import HyperparameterTuner

# The image URI of SageMaker's XGBoost 1.7-1 container: sageyard runs its built-in program.
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def write_csv(folder: Path, features, labels) -> Path:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "data.csv", "w") as out:
        for label, row in zip(labels, features, strict=True):
            out.write(",".join([str(int(label)), *(f"{v:.6g}" for v in row)]) + "\n")
    return folder


def main() -> None:
    data = load_breast_cancer()
    x_train, x_val, y_train, y_val = train_test_split(
        data.data, data.target, test_size=0.3, random_state=42, stratify=data.target
    )
    root = Path(tempfile.mkdtemp(prefix="sageyard-xgboost-"))
    train = InputData(
        channel_name="train",
        data_source=str(write_csv(root / "train", x_train, y_train)),
        content_type="text/csv",
    )
    validation = InputData(
        channel_name="validation",
        data_source=str(write_csv(root / "validation", x_val, y_val)),
        content_type="text/csv",
    )

    xgb = ModelTrainer(
        training_image=XGBOOST_IMAGE,
        compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
        hyperparameters={
            "max_depth": 5,
            "eta": 0.2,
            "gamma": 4,
            "min_child_weight": 6,
            "subsample": 0.7,
            "objective": "binary:logistic",
            "eval_metric": "auc",
            "num_round": 50,
        },
        base_job_name="xgboost-breast-cancer",
    )
    xgb.train(input_data_config=[train, validation], logs=False)
    job = xgb._latest_training_job
    print(f"Training job: {job.training_job_name} ({job.training_job_status})")
    for metric in job.final_metric_data_list:
        print(f"  {metric.metric_name}: {metric.value:.4f}")
    print(f"Model artifacts: {job.model_artifacts}")

    # For tuning, the trainer keeps as static only what is not tuned (a tuned name that is also
    # a static hyperparameter is refused, so nothing is overridden by surprise).
    static = {
        k: v
        for k, v in xgb.hyperparameters.items()
        if k not in ("eta", "max_depth", "min_child_weight")
    }
    tuner = HyperparameterTuner(
        model_trainer=xgb.model_copy(update={"hyperparameters": static}),
        objective_metric_name="validation:auc",  # a metric the built-in algorithm defines
        hyperparameter_ranges={
            "eta": ContinuousParameter(0.05, 0.5),
            "max_depth": IntegerParameter(2, 8),
            "min_child_weight": ContinuousParameter(1, 10),
        },
        strategy="Bayesian",
        max_jobs=8,
        max_parallel_jobs=2,
        random_seed=7,
    )
    tuner.tune(inputs=[train, validation])
    best = tuner.describe()["BestTrainingJob"]
    print(f"Best training job: {best['TrainingJobName']}")
    print(f"  validation:auc = {best['FinalHyperParameterTuningJobObjectiveMetric']['Value']:.4f}")
    print(f"  hyperparameters: {best['TunedHyperParameters']}")


if __name__ == "__main__":
    main()
