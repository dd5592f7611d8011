"""HyperparameterTuningJobAnalytics takes the reference's and the real SDK's argument name,
and has the real SDK's base: ``name``, a cached ``dataframe`` and ``export_csv``."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.tuning.analytics import AnalyticsMetricsBase, HyperparameterTuningJobAnalytics

T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_either_name_or_position_names_the_tuning_job(sageyard_home: object) -> None:
    assert HyperparameterTuningJobAnalytics("t-1").name == "t-1"
    assert HyperparameterTuningJobAnalytics(tuning_job_name="t-2").name == "t-2"
    real = HyperparameterTuningJobAnalytics(hyperparameter_tuning_job_name="t-3")
    assert real.name == "t-3"
    assert list(inspect.signature(HyperparameterTuningJobAnalytics).parameters)[:2] == [
        "hyperparameter_tuning_job_name",
        "sagemaker_session",
    ]


def test_no_name_or_two_names_are_refused(sageyard_home: object) -> None:
    with pytest.raises(ConfigurationError, match="needs the tuning job's name"):
        HyperparameterTuningJobAnalytics()
    with pytest.raises(ConfigurationError, match=r"\['a', 'b'\]"):
        HyperparameterTuningJobAnalytics("a", tuning_job_name="b")


def test_name_is_read_only(sageyard_home: object) -> None:
    analytics = HyperparameterTuningJobAnalytics("t-1")
    with pytest.raises(AttributeError):
        analytics.name = "other"  # type: ignore[misc]


class Counting(HyperparameterTuningJobAnalytics):
    """Trials from a fixture; counts how often the store would have been read."""

    reads = 0

    def description(self, force_refresh: bool = False) -> dict[str, Any]:
        return {
            "HyperParameterTuningJobConfig": {
                "ParameterRanges": {
                    "IntegerParameterRanges": [{"Name": "n", "MinValue": "1", "MaxValue": "4"}]
                }
            }
        }

    def training_job_summaries(self, force_refresh: bool = False) -> list[dict[str, Any]]:
        self.reads += 1
        return [
            {
                "TrainingJobName": f"tune-{n:03d}",
                "TrainingJobStatus": "Completed",
                "TunedHyperParameters": {"n": str(n)},
                "FinalHyperParameterTuningJobObjectiveMetric": {"Value": n / 10},
                "TrainingStartTime": T0,
                "TrainingEndTime": T0 + timedelta(seconds=n),
            }
            for n in (1, 2)
        ]


def test_the_frame_is_cached_until_refreshed_and_exports_as_csv(
    sageyard_home: object, tmp_path: Path
) -> None:
    analytics = Counting("tune")
    assert isinstance(analytics, AnalyticsMetricsBase)
    frame = analytics.dataframe()
    assert analytics.dataframe() is frame and analytics.reads == 1
    assert analytics.dataframe(force_refresh=True) is not frame and analytics.reads == 2
    analytics.clear_cache()
    analytics.dataframe()
    assert analytics.reads == 3
    assert frame["n"].tolist() == [1, 2]
    assert frame["TrainingElapsedTimeSeconds"].tolist() == [1.0, 2.0]

    csv = tmp_path / "trials.csv"
    analytics.export_csv(csv)
    written = pd.read_csv(csv, index_col=0)
    assert written["TrainingJobName"].tolist() == ["tune-001", "tune-002"]
    assert written["FinalObjectiveValue"].tolist() == [0.1, 0.2]
