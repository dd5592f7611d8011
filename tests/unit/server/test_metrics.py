"""SageMaker Metrics' BatchGetMetrics over a job's series: buckets by period, each reduced
by its statistic, x values as iterations or seconds; a query that cannot be answered gets
ValidationError while the others are answered."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from sageyard.core.exceptions import ResourceNotFound, ValidationException
from sageyard.server.metrics import MAX_QUERIES, batch_get_metrics
from sageyard.store import MetricPoint

ARN = "arn:aws:sagemaker:us-west-2:000000000000:training-job/job-1"
#: loss at 10.5 s, 20.2 s, 70 s and 130 s (steps 0-3)
POINTS = [
    MetricPoint("loss", value, at, step)
    for step, (at, value) in enumerate([(10.5, 4.0), (20.2, 2.0), (70.0, 3.0), (130.0, 1.0)])
]


def client(points: list[MetricPoint] = POINTS) -> Any:
    def metrics(name: str, metric: str | None) -> list[MetricPoint]:
        if name != "job-1":
            raise ResourceNotFound(f"Training job {name!r} does not exist.", "DescribeTrainingJob")
        return [p for p in points if p.metric_name == metric]

    return SimpleNamespace(training_jobs=SimpleNamespace(metrics=metrics))


def query(**fields: Any) -> dict[str, Any]:
    base = {
        "MetricName": "loss",
        "ResourceArn": ARN,
        "MetricStat": "Last",
        "Period": "IterationNumber",
        "XAxisType": "Timestamp",
    }
    return {**base, **fields}


def answer(**fields: Any) -> dict[str, Any]:
    (result,) = batch_get_metrics(client(), {"MetricQueries": [query(**fields)]})[
        "MetricQueryResults"
    ]
    return result


def test_by_iteration_each_value_is_its_own_point() -> None:
    assert answer() == {
        "Status": "Complete",
        "XAxisValues": [10, 20, 70, 130],
        "MetricValues": [4.0, 2.0, 3.0, 1.0],
    }
    assert answer(XAxisType="IterationNumber")["XAxisValues"] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("stat", "values"),
    [
        ("Last", [2.0, 3.0, 1.0]),
        ("Min", [2.0, 3.0, 1.0]),
        ("Max", [4.0, 3.0, 1.0]),
        ("Avg", [3.0, 3.0, 1.0]),
        ("Count", [2.0, 1.0, 1.0]),
        ("StdDev", [1.0, 0.0, 0.0]),
    ],
)
def test_a_period_groups_values_by_minute_reduced_by_the_statistic(
    stat: str, values: list[float]
) -> None:
    result = answer(MetricStat=stat, Period="OneMinute")
    assert result["XAxisValues"] == [0, 60, 120]  # each window's start
    assert result["MetricValues"] == values
    assert answer(MetricStat=stat, Period="OneHour")["XAxisValues"] == [0]


def test_start_and_end_bound_the_times() -> None:
    assert answer(Start=20, End=100)["MetricValues"] == [2.0, 3.0]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ResourceArn": "arn:aws:sagemaker:us-west-2:0:processing-job/p"}, "training job's ARN"),
        ({"ResourceArn": ARN.replace("job-1", "job-2")}, "does not exist"),
        ({"MetricStat": "Median"}, "MetricStat must be one of"),
        ({"Period": "OneDay"}, "Period must be one of"),
        ({"XAxisType": "Epoch"}, "XAxisType must be one of"),
        ({"MetricName": ""}, "MetricName must be"),
    ],
)
def test_a_bad_query_is_a_validation_error_and_the_others_are_answered(
    fields: dict[str, Any], message: str
) -> None:
    bad, good = batch_get_metrics(client(), {"MetricQueries": [query(**fields), query()]})[
        "MetricQueryResults"
    ]
    assert bad["Status"] == "ValidationError" and message in bad["Message"]
    assert good["Status"] == "Complete"


@pytest.mark.parametrize("queries", [None, [], [query()] * (MAX_QUERIES + 1), "loss"])
def test_the_queries_must_be_a_list_of_1_to_100(queries: Any) -> None:
    with pytest.raises(ValidationException, match="MetricQueries must be a list of 1 to 100"):
        batch_get_metrics(client(), {"MetricQueries": queries})
