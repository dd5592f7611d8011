"""The ModelTrainer examples, run as a user runs them: ``python examples/model_trainer/<x>.py``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sageyard.core.resources import TrainingJob
from tests.integration.conftest import tar_members

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "model_trainer"


def run_example(name: str, folder: Path = EXAMPLES, timeout: float = 120) -> str:
    """Run one example of ``folder`` in a fresh interpreter (SAGEYARD_HOME is the test's);
    its output, once it said its job Completed."""
    result = subprocess.run(
        [sys.executable, str(folder / name)],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Status: Completed" in output, output
    assert "Training failed" not in output, output
    return output


def job_of(output: str) -> TrainingJob:
    match = re.search(r"^Training job: (\S+)$", output, re.MULTILINE)
    assert match, output
    return TrainingJob.get(match.group(1))


def test_basic_example_trains_and_prints_its_results(tmp_path: Path) -> None:
    output = run_example("basic.py")

    job = job_of(output)
    assert job.training_job_status == "Completed"
    assert job.hyper_parameters == {"epochs": "10", "learning_rate": "0.001", "batch_size": "32"}
    last = re.search(
        r"^Epoch 10/10 - Train Loss: ([0-9.]+) - Validation Accuracy: ([0-9.]+)$",
        output,
        re.MULTILINE,
    )
    assert last, output  # no MetricDefinitions here: the metrics are in the streamed logs
    assert float(last.group(1)) < 0.6 and float(last.group(2)) >= 0.8
    assert "Final metrics: {}" in output
    assert f"Model artifacts: {job.model_artifacts}" in output
    model = json.loads(tar_members(str(job.model_artifacts), tmp_path)["model.json"])
    assert model["features"] == ["x1", "x2"] and len(model["weights"]) == 2


def test_advanced_example_runs_four_hosts_with_metrics_and_checkpoints(tmp_path: Path) -> None:
    output = run_example("advanced.py")

    job = job_of(output)
    description = job.describe()
    assert description["ResourceConfig"]["InstanceCount"] == 4
    assert description["EnableManagedSpotTraining"] is True
    assert description["CheckpointConfig"]["S3Uri"] == "s3://my-bucket/checkpoints"
    logs = job.logs()
    for host in ("algo-1", "algo-2", "algo-3", "algo-4"):
        assert any(line.startswith(f"[{host}] Epoch 10/10 - Train Loss:") for line in logs), logs
    metrics = {m.metric_name: m.value for m in job.final_metric_data_list}
    assert set(metrics) == {"train:loss", "val:accuracy"}
    assert metrics["train:loss"] < 0.6 and metrics["val:accuracy"] >= 0.8
    assert f"Final metrics: {metrics}" in output
    assert f"Model artifacts: {job.model_artifacts}" in output
    assert "model.json" in tar_members(str(job.model_artifacts), tmp_path)

    # A second run restores the checkpoints of the first and has nothing left to train.
    again = job_of(run_example("advanced.py"))
    assert again.training_job_name != job.training_job_name
    assert any("Resuming from the checkpoint of epoch 10" in line for line in again.logs())
    assert {m.metric_name: m.value for m in again.final_metric_data_list} == metrics
