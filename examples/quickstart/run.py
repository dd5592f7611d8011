"""Quickstart: one real training job on the embedded default (no server, no Docker, no cloud).

    python examples/quickstart/run.py

Makes a small synthetic data set, trains a logistic regression as a training job, and
prints a summary of the job. Everything lands under $SAGEYARD_HOME (default ~/.sageyard).
"""

import random
import tempfile
import time
from pathlib import Path

from sageyard.train import ModelTrainer
from sageyard.train.configs import Compute, InputData, MetricDefinition, SourceCode

HERE = Path(__file__).parent


def make_data(folder: Path, rows: int, seed: int) -> Path:
    """Two features; the label is 1 when x1 + 2*x2 > 0 (with a little noise)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "data.csv", "w") as f:
        for _ in range(rows):
            x1, x2 = rng.uniform(-1, 1), rng.uniform(-1, 1)
            label = int(x1 + 2 * x2 + rng.gauss(0, 0.2) > 0)
            f.write(f"{label},{x1:.4f},{x2:.4f}\n")
    return folder


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="sageyard-quickstart-"))
    trainer = ModelTrainer(
        training_image="python:3.11",
        base_job_name="quickstart",
        source_code=SourceCode(source_dir=str(HERE / "code"), entry_script="train.py"),
        compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
        hyperparameters={"epochs": 8, "learning-rate": 0.5},
    ).with_metric_definitions(
        [
            MetricDefinition(name="train:loss", regex="Train Loss: ([0-9\\.]+)"),
            MetricDefinition(name="validation:accuracy", regex="Validation Accuracy: ([0-9\\.]+)"),
        ]
    )
    started = time.perf_counter()
    trainer.train(
        input_data_config=[
            InputData(channel_name="train", data_source=str(make_data(data / "train", 400, 1))),
            InputData(channel_name="validation", data_source=str(make_data(data / "val", 200, 2))),
        ],
        logs=False,
    )
    job = trainer._latest_training_job
    print(f"Training job:        {job.training_job_name}")
    print(f"Status:              {job.training_job_status} ({job.secondary_status})")
    print(f"Wall time:           {time.perf_counter() - started:.2f} s")
    for metric in job.final_metric_data_list:
        print(f"{metric.metric_name + ':':<21}{metric.value}")
    print(f"Model artifacts:     {job.model_artifacts}")
    print(f"Logs:                sageyard jobs logs {job.training_job_name}")


if __name__ == "__main__":
    main()
