"""``sagemaker.core.utils.exceptions``: the real SDK's waiter errors, in sageyard's tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import WaiterError as BotocoreWaiterError

from sageyard.core.exceptions import SageyardError, TrainingJobFailedError, TuningJobFailedError
from sageyard.core.settings import Settings
from sageyard.core.utils.exceptions import (
    FailedStatusError,
    SageMakerCoreError,
    TimeoutExceededError,
    WaiterError,
)
from sageyard.jobs.resource import TrainingJob
from sageyard.jobs.service import TrainingJobService


def test_messages_read_as_the_real_sdks() -> None:
    assert str(FailedStatusError(resource_type="TrainingJob", status="Failed", reason="OOM")) == (
        "Encountered unexpected failed state while waiting for TrainingJob. "
        "Final Resource State: Failed. Failure Reason: OOM"
    )
    assert str(TimeoutExceededError(resource_type="TrainingJob", status="InProgress")) == (
        "Timeout exceeded while waiting for TrainingJob. Final Resource State: InProgress. "
        "Increase the timeout and try again."
    )
    assert str(WaiterError()) == (
        "An error occurred while waiting for (Unkown). Final Resource State: (Unkown)."
    )
    assert str(SageMakerCoreError()) == "An unspecified error occurred."


def test_the_hierarchy_holds_both_sdks_and_sageyards_own() -> None:
    assert issubclass(FailedStatusError, WaiterError)
    assert issubclass(WaiterError, SageMakerCoreError)
    assert issubclass(SageMakerCoreError, SageyardError)
    assert issubclass(TimeoutExceededError, TimeoutError)
    failed = TrainingJobFailedError("job", "Failed", "AlgorithmError: boom")
    assert isinstance(failed, FailedStatusError) and isinstance(failed, RuntimeError)
    assert (failed.status, failed.reason, failed.failure_reason) == (
        "Failed",
        "AlgorithmError: boom",
        "AlgorithmError: boom",
    )
    tuning = TuningJobFailedError("tuning", "Failed", None)
    assert isinstance(tuning, FailedStatusError) and isinstance(tuning, BotocoreWaiterError)
    assert tuning.last_response["HyperParameterTuningJobStatus"] == "Failed"


def test_a_wait_that_runs_out_raises_timeout_exceeded(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    service = TrainingJobService(settings, launcher=lambda settings, name, log: None)
    record = service.create_training_job(
        {
            "TrainingJobName": "waits",
            "AlgorithmSpecification": {"TrainingImage": "pytorch-training:2.0-cpu-py310"},
            "RoleArn": "arn:aws:iam::000000000000:role/SageMakerRole",
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
            "Sageyard": {"SourceCode": {"SourceDir": str(tmp_path), "EntryScript": "train.py"}},
        }
    )  # no supervisor runs it: it stays InProgress
    with pytest.raises(TimeoutExceededError, match="Final Resource State: InProgress"):
        TrainingJob(record.name, service).wait(timeout=0.05)
