"""``sagemaker.core.analytics``: TrainingJobAnalytics over sageyard's metric store, and the
real SDK's base class under both analytics classes."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from botocore.exceptions import ClientError

from sageyard.core.analytics import (
    AnalyticsMetricsBase,
    HyperparameterTuningJobAnalytics,
    TrainingJobAnalytics,
)
from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.store import MetricPoint
from sageyard.train import ModelTrainer
from sageyard.train.configs import MetricDefinition, SourceCode

SCRIPT = """\
for step, loss in enumerate([0.9, 0.6, 0.3]):
    print(f"step={step} loss={loss}")
print("accuracy=0.75")
"""


@pytest.fixture
def finished_job(tmp_path: Path) -> str:
    """A real job, run to its end: three losses and one accuracy in its log."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(SCRIPT)
    trainer = ModelTrainer(
        training_image="python:3.11",
        source_code=SourceCode(source_dir=str(code), entry_script="train.py"),
        base_job_name="analytics",
    ).with_metric_definitions(
        [
            MetricDefinition(name="train:loss", regex="loss=([0-9.]+)"),
            MetricDefinition(name="accuracy", regex="accuracy=([0-9.]+)"),
        ]
    )
    trainer.train(wait=True, logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed"
    return job.training_job_name


def test_the_signature_is_the_real_one() -> None:
    assert list(inspect.signature(TrainingJobAnalytics).parameters) == [
        "training_job_name",
        "metric_names",
        "sagemaker_session",
        "start_time",
        "end_time",
        "period",
    ]
    assert issubclass(TrainingJobAnalytics, AnalyticsMetricsBase)
    assert issubclass(HyperparameterTuningJobAnalytics, AnalyticsMetricsBase)
    with pytest.raises(TypeError, match="abstract"):
        AnalyticsMetricsBase()  # type: ignore[abstract]


def test_a_real_jobs_metrics_as_the_real_frame(finished_job: str, tmp_path: Path) -> None:
    analytics = TrainingJobAnalytics(finished_job)
    assert analytics.name == finished_job
    frame = analytics.dataframe()
    assert list(frame.columns) == ["timestamp", "metric_name", "value"]
    # the default period is CloudWatch's minute: a job of a second is one average a metric
    per_metric = {row.metric_name: row for row in frame.itertuples()}
    assert set(per_metric) == {"train:loss", "accuracy"}
    assert per_metric["train:loss"].value == pytest.approx(0.6)
    assert per_metric["accuracy"].value == pytest.approx(0.75)
    assert frame["timestamp"].tolist() == [0.0, 0.0]
    assert analytics.dataframe() is frame  # cached
    assert analytics.dataframe(force_refresh=True) is not frame

    only = TrainingJobAnalytics(finished_job, metric_names=["accuracy"]).dataframe()
    assert only["metric_name"].tolist() == ["accuracy"]

    csv = tmp_path / "metrics.csv"
    analytics.export_csv(str(csv))
    again = pd.read_csv(csv, index_col=0)
    assert again["metric_name"].tolist() == frame["metric_name"].tolist()
    assert again["value"].tolist() == pytest.approx(frame["value"].tolist())


def test_periods_average_and_the_window_filters(finished_job: str) -> None:
    service = TrainingJobService(Settings.from_env())
    start = service.describe(finished_job)["TrainingStartTime"].timestamp()
    base = (int(start) // 10 + 1) * 10  # a period boundary after the job's start
    service.store.append_metrics(
        finished_job,
        [
            MetricPoint("val:loss", 4.0, base + 1, 0),
            MetricPoint("val:loss", 2.0, base + 3, 1),  # same 10 s period: averaged to 3.0
            MetricPoint("val:loss", 1.0, base + 25, 2),
        ],
    )
    frame = TrainingJobAnalytics(
        finished_job,
        metric_names=["val:loss"],
        period=10,
        end_time=datetime.fromtimestamp(base + 60, UTC),
    ).dataframe()
    assert frame.to_dict("list") == {
        "timestamp": [0.0, 20.0],
        "metric_name": ["val:loss", "val:loss"],
        "value": [3.0, 1.0],
    }
    naive_end = datetime.fromtimestamp(base + 5, UTC).replace(tzinfo=None)  # taken as UTC
    early = TrainingJobAnalytics(
        finished_job, metric_names=["val:loss"], period=10, end_time=naive_end
    )
    assert early.dataframe()["value"].tolist() == [3.0]
    late = datetime.fromtimestamp(base + 2, UTC)
    assert TrainingJobAnalytics(
        finished_job, ["val:loss"], period=10, start_time=late, end_time=naive_end
    ).dataframe()["value"].tolist() == [2.0]


def test_a_metric_without_values_gives_an_empty_frame_with_the_columns(
    finished_job: str, caplog: pytest.LogCaptureFixture
) -> None:
    frame = TrainingJobAnalytics(finished_job, metric_names=["nothing"]).dataframe()
    assert frame.empty and list(frame.columns) == ["timestamp", "metric_name", "value"]
    assert "No metrics called nothing found" in caplog.text


def test_an_unknown_job_is_resource_not_found(sageyard_home: Path) -> None:
    with pytest.raises(ClientError) as raised:
        TrainingJobAnalytics("no-such-job")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"


def test_repr_and_the_real_class_attribute(finished_job: str) -> None:
    analytics = TrainingJobAnalytics(finished_job)
    assert repr(analytics) == f"<TrainingJobAnalytics for {finished_job}>"
    assert TrainingJobAnalytics.CLOUDWATCH_NAMESPACE == "/aws/sagemaker/TrainingJobs"
