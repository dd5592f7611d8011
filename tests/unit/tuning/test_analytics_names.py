"""HyperparameterTuningJobAnalytics takes the reference's and the real SDK's argument name."""

from __future__ import annotations

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.tuning.analytics import HyperparameterTuningJobAnalytics


def test_either_name_or_position_names_the_tuning_job(sageyard_home: object) -> None:
    assert HyperparameterTuningJobAnalytics("t-1").name == "t-1"
    assert HyperparameterTuningJobAnalytics(tuning_job_name="t-2").name == "t-2"
    real = HyperparameterTuningJobAnalytics(hyperparameter_tuning_job_name="t-3")
    assert real.name == "t-3"


def test_no_name_or_two_names_are_refused(sageyard_home: object) -> None:
    with pytest.raises(ConfigurationError, match="needs the tuning job's name"):
        HyperparameterTuningJobAnalytics()
    with pytest.raises(ConfigurationError, match=r"\['a', 'b'\]"):
        HyperparameterTuningJobAnalytics("a", hyperparameter_tuning_job_name="b")
