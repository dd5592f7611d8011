"""The CreateTrainingJob request every request test starts from, and the job service the
supervisor tests run scripted jobs with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
OUTPUT = "s3://sagemaker-us-west-2-000000000000/out"


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "train.py").write_text("print('hello')\n")
    return folder


@pytest.fixture
def request_(code_dir: Path) -> dict[str, Any]:
    return {
        "TrainingJobName": "my-job",
        "AlgorithmSpecification": {"TrainingImage": "pytorch-training:2.0-cpu-py310"},
        "RoleArn": ROLE,
        "HyperParameters": {"epochs": "3"},
        "OutputDataConfig": {"S3OutputPath": OUTPUT},
        "Sageyard": {"SourceCode": {"SourceDir": str(code_dir), "EntryScript": "train.py"}},
    }


@pytest.fixture
def service(settings: Settings) -> TrainingJobService:
    """A job service that launches no supervisor: the test runs it (with a scripted executor)."""
    return TrainingJobService(settings, launcher=lambda settings, name, log: None)
