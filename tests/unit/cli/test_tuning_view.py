"""The tuning-job renderings of the CLI (``sageyard.cli._tuning_view``)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console

from sageyard.cli import _render, _tuning_view
from tests.unit.cli.console import text_of

T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
CREATED = _render.local_time(T0)
ARN = "arn:aws:sagemaker:us-west-2:0:hyper-parameter-tuning-job/tune"


def squashed(text: str) -> str:
    """Each line with its runs of spaces made one (for grids whose label width varies)."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def trial(
    number: int,
    status: str,
    value: float | None,
    *,
    x: str = "0.123456789",
    objective_status: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    start = T0 + timedelta(seconds=number)
    item: dict[str, Any] = {
        "TrainingJobName": f"tune-{number:03d}",
        "CreationTime": start,
        "TrainingStartTime": start,
        "TrainingEndTime": start + timedelta(seconds=12) if status != "InProgress" else None,
        "TrainingJobStatus": status,
        "TunedHyperParameters": {"x": x, "y": str(number)},
        "ObjectiveStatus": objective_status
        or {"Completed": "Succeeded", "InProgress": "Pending"}.get(status, "Failed"),
        **extra,
    }
    if value is not None:
        item["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": "Maximize",
            "MetricName": "val:acc",
            "Value": value,
        }
    return item


def described(**changes: Any) -> dict[str, Any]:
    best = trial(2, "Completed", 0.875, x="0.5")
    description: dict[str, Any] = {
        "HyperParameterTuningJobName": "tune",
        "HyperParameterTuningJobArn": ARN,
        "HyperParameterTuningJobStatus": "Completed",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "val:acc"},
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": 4,
                "MaxParallelTrainingJobs": 2,
                "MaxRuntimeInSeconds": 3600,
            },
            "ParameterRanges": {
                "ContinuousParameterRanges": [
                    {"Name": "x", "MinValue": "0.0", "MaxValue": "1.0", "ScalingType": "Auto"}
                ],
                "IntegerParameterRanges": [
                    {"Name": "y", "MinValue": "1", "MaxValue": "10", "ScalingType": "Linear"}
                ],
                "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd"]}],
            },
            "TrainingJobEarlyStoppingType": "Off",
            "RandomSeed": 7,
        },
        "TrainingJobStatusCounters": {
            "Completed": 2,
            "InProgress": 1,
            "RetryableError": 0,
            "NonRetryableError": 1,
            "Stopped": 0,
        },
        "ObjectiveStatusCounters": {"Succeeded": 2, "Pending": 1, "Failed": 1},
        "BestTrainingJob": best,
        "CreationTime": T0,
        "HyperParameterTuningEndTime": T0 + timedelta(seconds=125),
        "ConsumedResources": {"RuntimeInSeconds": 125},
        "TuningJobCompletionDetails": {"NumberOfTrainingJobsObjectiveNotImproving": 1},
    }
    description.update(changes)
    return description


TRIALS = [
    trial(3, "Failed", None, FailureReason="AlgorithmError: exit 1:\nline\nboom: bad y\n"),
    trial(1, "Completed", 0.5),
    trial(2, "Completed", 0.875, x="0.5"),
    trial(4, "InProgress", None),
]


# -- small helpers -----------------------------------------------------------------------


def test_tuning_progress_and_best_objective() -> None:
    assert _tuning_view.tuning_progress(described()) == (3, 4, 1)
    assert _tuning_view.tuning_progress({}) == (0, None, 0)
    assert _tuning_view.best_objective(described()) == 0.875
    assert _tuning_view.best_objective(described(BestTrainingJob=None)) is None


def test_tuning_objective_single_and_multi_trainer() -> None:
    assert _tuning_view.tuning_objective(described()) == "Maximize val:acc"
    multi = {
        "TrainingJobDefinitions": [
            {"DefinitionName": "a", "TuningObjective": {"Type": "Minimize", "MetricName": "l1"}},
            {"DefinitionName": "b", "TuningObjective": {"Type": "Minimize", "MetricName": "l2"}},
        ]
    }
    assert _tuning_view.tuning_objective(multi) == "Minimize a: l1, b: l2"
    assert _tuning_view.tuning_objective({}) == "-"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("0.417022004702574", "0.417022"),
        ("8", "8"),
        ("-3", "-3"),
        ("1e-05", "1e-05"),
        ("adam", "adam"),
        (2, "2"),
        (0.5, "0.5"),
    ],
)
def test_format_tuned(value: Any, text: str) -> None:
    assert _tuning_view.format_tuned(value) == text


def test_short_reason() -> None:
    assert _tuning_view.short_reason(None) == ""
    assert _tuning_view.short_reason("ClientError: bad") == "ClientError: bad"
    assert _tuning_view.short_reason("A: exit 1:\nx\n\nboom\n") == "A: exit 1: … boom"


# -- list --------------------------------------------------------------------------------


def test_tuning_table() -> None:
    running = described(
        HyperParameterTuningJobName="tune-running-with-a-long-name",
        HyperParameterTuningJobStatus="InProgress",
        BestTrainingJob=None,
        HyperParameterTuningJobConfig={"Strategy": "Random"},
    )
    lines = text_of(_tuning_view.tuning_table([running, described()])).splitlines()
    assert lines[0].split() == [
        "Name",
        "Status",
        "Strategy",
        "Trials",
        "Running",
        "Best",
        "Created",
    ]
    assert lines[1].split() == [
        "tune-running-with-a-long-name",
        "InProgress",
        "Random",
        "3/-",
        "1",
        "-",
        *CREATED.split(),
    ]
    assert lines[2].split() == [
        "tune",
        "Completed",
        "Bayesian",
        "3/4",
        "1",
        "0.875",
        *CREATED.split(),
    ]


def test_tuning_table_keeps_names_whole_when_narrow() -> None:
    name = "a-tuning-job-name-of-32-chars-xx"
    text = text_of(
        _tuning_view.tuning_table([described(HyperParameterTuningJobName=name)]), width=60
    )
    assert name in text


# -- describe ----------------------------------------------------------------------------


def test_tuning_view() -> None:
    text = text_of(_tuning_view.tuning_view(described(), TRIALS))
    lines = text.splitlines()
    assert lines[0] == "tune"
    for expected in (
        "Status          Completed",
        "ARN             arn:aws:sagemaker:us-west-2:0:hyper-parameter-tuning-job/tune",
        "Strategy        Bayesian",
        "Objective       Maximize val:acc",
        "Limits          4 trials, 2 in parallel, 1h00m (3600 s) runtime",
        "Trials          3/4 done, 1 running",
        "Training jobs   2 completed, 1 in progress, 1 failed",
        "Objectives      2 succeeded, 1 pending, 1 failed",
        "Early stopping  Off",
        "Random seed     7",
        f"Created         {CREATED}",
        "Runtime         2m05s (125 s)",
        "Parameter ranges",
        "x     Continuous   0 .. 1     Auto",
        "y     Integer      1 .. 10    Linear",
        "opt   Categorical  adam, sgd  -",
        "Best training job",
        "Name       tune-002",
        "Objective  val:acc = 0.875",
        "x               0.5",
        "Completion details",
        "Trials not improving  1",
    ):
        assert expected in text, expected
    assert "Failure reason    " not in text.split("Trials\n")[0]
    trials = text.split("\nTrials\n")[1].splitlines()
    assert trials[0].split() == [
        "#",
        "Training",
        "job",
        "x",
        "y",
        "Status",
        "Objective",
        "Duration",
        "Failure",
        "reason",
    ]
    assert trials[1].split() == ["1", "tune-001", "0.123457", "1", "Completed", "0.5", "12s"]
    assert trials[2].split() == ["2", "★", "tune-002", "0.5", "2", "Completed", "0.875", "12s"]
    assert trials[3].split()[:6] == ["3", "tune-003", "0.123457", "3", "Failed", "-"]
    assert trials[3].endswith("12s  AlgorithmError: exit 1: … boom: bad y")
    assert trials[4].split() == ["4", "tune-004", "0.123457", "4", "InProgress", "-", "-"]


def test_tuning_view_of_a_failed_job_without_trials() -> None:
    failed = described(
        HyperParameterTuningJobStatus="Failed",
        FailureReason="All 2 training jobs failed; the first: AlgorithmError: boom",
        BestTrainingJob=None,
        TuningJobCompletionDetails=None,
    )
    text = text_of(_tuning_view.tuning_view(failed, []))
    assert "Status          Failed" in text
    assert "Failure reason  All 2 training jobs failed; the first: AlgorithmError: boom" in text
    assert "Best training job" not in text
    assert "Completion details" not in text
    assert text.endswith("Trials\nNo trials yet.")
    assert "Trials\n" not in text_of(_tuning_view.tuning_view(failed))


def test_tuning_view_of_a_multi_trainer_job_with_warm_start() -> None:
    description = described(
        HyperParameterTuningJobConfig={"Strategy": "Random"},
        TrainingJobDefinitions=[
            {
                "DefinitionName": "small",
                "TuningObjective": {"Type": "Maximize", "MetricName": "acc"},
                "HyperParameterRanges": {
                    "IntegerParameterRanges": [{"Name": "y", "MinValue": "1", "MaxValue": "3"}]
                },
            }
        ],
        WarmStartConfig={
            "WarmStartType": "TransferLearning",
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "parent"}],
        },
        BestTrainingJob={**TRIALS[2], "TrainingJobDefinitionName": "small"},
    )
    trials = [{**t, "TrainingJobDefinitionName": "small"} for t in TRIALS[1:3]]
    text = squashed(text_of(_tuning_view.tuning_view(description, trials)))
    assert "Objective Maximize small: acc" in text
    assert "Warm start TransferLearning from parent" in text
    assert "small y Integer 1 .. 3 -" in text
    assert "Trainer small" in text
    assert text.split("\nTrials\n")[1].splitlines()[0].split()[:5] == [
        "#",
        "Training",
        "job",
        "Trainer",
        "x",
    ]


def test_completion_details_with_convergence() -> None:
    details = {
        "NumberOfTrainingJobsObjectiveNotImproving": 3,
        "ConvergenceDetectedTime": T0,
        "Reason": "ConvergenceDetected",
    }
    text = text_of(_tuning_view.tuning_view(described(TuningJobCompletionDetails=details)))
    assert "Trials not improving  3" in text
    assert f"Convergence detected  {CREATED}" in text
    assert "Reason                ConvergenceDetected" in text


def test_trials_table_last_keeps_numbers() -> None:
    lines = text_of(_tuning_view.trials_table(TRIALS, "tune-002", last=2)).splitlines()
    assert lines[1].split() == ["…", "2", "earlier", "trials"]
    assert [line.split()[0] for line in lines[2:]] == ["3", "4"]


def test_failed_objective_is_dim_and_best_is_green() -> None:
    table = _tuning_view.trials_table(
        [trial(1, "Failed", 0.9), trial(2, "Completed", 0.5)], best_name="tune-002"
    )
    console = Console(file=io.StringIO(), width=200, color_system="standard")
    console.print(table)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert re.search(r"\x1b\[2m *0\.9\x1b", out)  # dim: its objective failed, not counted
    assert re.search(r"\x1b\[1;32m *0\.5\x1b", out)


def test_watch_view() -> None:
    running = described(HyperParameterTuningJobStatus="InProgress")
    text = text_of(_tuning_view.tuning_watch_view(running, TRIALS, interval=0.5, last=3))
    lines = text.splitlines()
    assert lines[0].startswith("tune  3/4 trials done, 1 running, best 0.875  ━")
    assert "Status         InProgress" in text
    assert "ARN" not in text  # the live view keeps what changes
    assert "Best training job" in text
    assert "… 1 earlier trials" in text
    assert lines[-1] == (
        "Refreshing every 0.5 s until the tuning job ends; Ctrl-C stops watching "
        "(the tuning job goes on)."
    )
