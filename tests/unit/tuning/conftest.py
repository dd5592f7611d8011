"""The CreateHyperParameterTuningJob request every tuning request test starts from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
SCORE = {"Name": "score", "Regex": "score=([0-9.]+)"}
LR = {"Name": "lr", "MinValue": "0.001", "MaxValue": "0.1", "ScalingType": "Logarithmic"}


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "train.py").write_text("print('score=1.0')\n")
    return folder


@pytest.fixture
def definition(code_dir: Path) -> dict[str, Any]:
    """A HyperParameterTrainingJobDefinition of a script run on python:3.11."""
    return {
        "AlgorithmSpecification": {"TrainingImage": "python:3.11", "MetricDefinitions": [SCORE]},
        "StaticHyperParameters": {"epochs": "3"},
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "Sageyard": {
            "BaseJobName": "script",
            "SourceCode": {"SourceDir": str(code_dir), "EntryScript": "train.py"},
        },
    }


@pytest.fixture
def request_(definition: dict[str, Any]) -> dict[str, Any]:
    """A valid single-definition request (with a name prefix, not an exact name)."""
    return {
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "score"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {"ContinuousParameterRanges": [dict(LR)]},
        },
        "TrainingJobDefinition": definition,
        "Sageyard": {"BaseJobName": "my-tuning"},
    }
