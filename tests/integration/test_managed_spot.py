"""Managed spot training for real: a deterministic script that checkpoints as it goes is
interrupted by the simulated spot market (SIGTERM, checkpoints uploaded, restart) and ends
with the same model as an uninterrupted run."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sageyard.train.configs import CheckpointConfig, Compute, StoppingCondition
from tests.integration.conftest import MakeTrainer, tar_members

#: 20 steps of a toy model, 0.1 s each; the state is checkpointed atomically after each step
#: and read back at the start, so a restart resumes where the last checkpoint left it.
RESUMABLE = """
    import json, os, sys, time
    folder = os.environ["SM_CHECKPOINT_DIR"]
    path = os.path.join(folder, "state.json")
    state = {"step": 0, "w": 1.0}
    if os.path.exists(path):
        state = json.load(open(path))
        print(f"resumed at step {state['step']}", flush=True)
    while state["step"] < 20:
        time.sleep(0.1)
        state["w"] = round(state["w"] * 0.9 + state["step"] * 0.01, 12)
        state["step"] += 1
        with open(path + ".tmp", "w") as f:
            json.dump(state, f)
        os.replace(path + ".tmp", path)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
        json.dump(state, f)
"""


def _train(make_trainer: MakeTrainer, spot: bool) -> tuple[dict, dict, list[str]]:
    trainer = make_trainer(
        RESUMABLE,
        compute=Compute(enable_managed_spot_training=spot),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=60, max_wait_time_in_seconds=120 if spot else None
        ),
        checkpoint_config=CheckpointConfig(s3_uri=f"s3://spot/ckpt-{time.time_ns()}"),
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None
    description = job.describe()
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    archive = tar_members(description["ModelArtifacts"]["S3ModelArtifacts"], Path(os.getcwd()))
    return description, json.loads(archive["model.json"]), job.logs()


def test_an_interrupted_deterministic_job_ends_with_the_uninterrupted_model(
    make_trainer: MakeTrainer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    _, expected, _ = _train(make_trainer, spot=False)
    monkeypatch.setenv("SAGEYARD_SPOT_INTERRUPTIONS", "0.6,1.3")
    monkeypatch.setenv("SAGEYARD_SPOT_NOTICE_SECONDS", "1")
    monkeypatch.setenv("SAGEYARD_SPOT_CAPACITY_WAIT_SECONDS", "0.2")
    description, model, logs = _train(make_trainer, spot=True)
    assert model == expected == {"step": 20, "w": expected["w"]}
    statuses = [t["Status"] for t in description["SecondaryStatusTransitions"]]
    assert statuses.count("Interrupted") == 2
    assert "Restarting" not in statuses
    assert sum(1 for line in logs if line.startswith("resumed at step")) == 2
    assert description["EnableManagedSpotTraining"] is True
    trained = description["TrainingTimeInSeconds"]
    assert trained >= 2  # 0.6 + 0.7 s interrupted, then the last 0.7 s and more: 2 s at least
    assert 1 <= description["BillableTimeInSeconds"] < trained  # 70 % saved by default
