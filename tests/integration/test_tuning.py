"""Real tuning jobs: a detached supervisor per tuning job, each trial a real training job.

The scripts are tiny: they read their hyperparameters with ``argparse.parse_known_args`` and
print their objective once per "epoch". ``random_seed`` makes the sampled sequences (and so
the assertions below) deterministic.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from botocore.exceptions import ClientError, WaiterError

from sageyard.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
from sageyard.core.settings import Settings
from sageyard.core.shapes import (
    BestObjectiveNotImproving,
    HyperbandStrategyConfig,
    HyperParameterTuningJobStrategyConfig,
    HyperParameterTuningJobWarmStartConfig,
    ParentHyperParameterTuningJob,
    TuningJobCompletionCriteria,
)
from sageyard.jobs.resource import TrainingJob
from sageyard.jobs.states import ACTIVE
from sageyard.store import JobRecord
from sageyard.train import ModelTrainer
from sageyard.train.configs import SourceCode
from sageyard.train.tuner import HyperparameterTuner, HyperparameterTuningJobAnalytics
from sageyard.tuning.service import TuningJobService
from tests.integration.conftest import MakeTrainer

REFERENCE_COLUMNS = [
    "TrainingJobName",
    "TrainingJobStatus",
    "FinalObjectiveValue",
    "TrainingStartTime",
    "TrainingEndTime",
    "TrainingElapsedTimeSeconds",
    "TrainingJobDefinitionName",
]

# A smooth objective of a float and an integer, best at x=0.3, n=3; reports what it was told.
SMOOTH = """
    import argparse, json, os
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=float)
    p.add_argument("--n", type=int)
    a = p.parse_args()  # strict: _tuning_objective_metric is no argument (CONTRACT.md)
    print("OBJECTIVE", json.loads(os.environ["SM_HPS"])["_tuning_objective_metric"])
    print("CHANNEL", sorted(os.listdir(os.environ["SM_CHANNEL_TRAINING"]))
          if "SM_CHANNEL_TRAINING" in os.environ else None)
    print("MY_VAR", os.environ.get("MY_VAR"))
    score = 1.0 - (a.x - 0.3) ** 2 - 0.01 * (a.n - 3) ** 2
    for epoch in range(3):
        print(f"score={score - 0.1 * (2 - epoch):.6f}")
"""
SCORE = [{"Name": "score", "Regex": "score=([-0-9.]+)"}]
SMOOTH_RANGES = {"x": ContinuousParameter(0.0, 1.0), "n": IntegerParameter(1, 5)}


@pytest.fixture(autouse=True)
def _slots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEYARD_SLOTS", "4")  # tiny trials: more at once than cores


def service() -> TuningJobService:
    return TuningJobService(Settings.from_env())


def trials(name: str) -> list[JobRecord]:
    return service().trials(name)


def summaries(name: str) -> list[dict[str, Any]]:
    return service().summaries(name)


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or condition}")


def lines(trial: str, prefix: str) -> list[str]:
    return [
        line[len(prefix) + 1 :]
        for line in TrainingJob(trial).logs()
        if line.startswith(prefix + " ")
    ]


def values(trial: str, metric: str) -> list[float]:
    return [p.value for p in service().store.metrics(trial, metric)]


def tuner_for(trainer: ModelTrainer, **kwargs: Any) -> HyperparameterTuner:
    settings: dict[str, Any] = {
        "objective_metric_name": "score",
        "hyperparameter_ranges": dict(SMOOTH_RANGES),
        "metric_definitions": SCORE,
        "strategy": "Random",
        "max_jobs": 4,
        "max_parallel_jobs": 2,
        "random_seed": 7,
    }
    settings.update(kwargs)
    return HyperparameterTuner(trainer, **settings)


def max_overlap(records: list[JobRecord]) -> int:
    """The most trials that existed (created, not yet ended) at the same time."""
    events = []
    for record in records:
        events += [(record.created_at, 1), (record.document["end_time"], -1)]
    running = peak = 0
    for _, step in sorted(events):
        running += step
        peak = max(peak, running)
    return peak


# -- 1. Random and Bayesian -------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["Random", "Bayesian"])
def test_a_search_over_a_smooth_function(
    make_trainer: MakeTrainer, strategy: str, tmp_path: Path
) -> None:
    tuner = tuner_for(make_trainer(SMOOTH), strategy=strategy, max_jobs=6, max_parallel_jobs=3)
    tuner.tune()

    job = tuner.latest_tuning_job
    assert job is not None
    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["HyperParameterTuningJobName"] == job.name
    assert description["TrainingJobStatusCounters"] == {
        "Completed": 6,
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": 0,
        "Stopped": 0,
    }
    assert description["ObjectiveStatusCounters"] == {"Succeeded": 6, "Pending": 0, "Failed": 0}
    config = description["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == strategy
    assert config["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 6
    assert "HyperParameterTuningEndTime" in description
    definition = description["TrainingJobDefinition"]
    assert definition["StaticHyperParameters"] == {"_tuning_objective_metric": "score"}

    frame = tuner.analytics().dataframe()
    assert list(frame.columns) == ["x", "n", *REFERENCE_COLUMNS]
    assert len(frame) == 6
    assert set(frame["TrainingJobStatus"]) == {"Completed"}
    assert frame["TrainingJobDefinitionName"].isna().all()
    assert frame["x"].between(0.0, 1.0).all() and frame["n"].between(1, 5).all()
    assert (frame["TrainingElapsedTimeSeconds"] >= 0).all()
    best_row = frame.loc[frame["FinalObjectiveValue"].idxmax()]
    assert tuner.best_training_job() == best_row["TrainingJobName"]
    best = description["BestTrainingJob"]
    assert best["TrainingJobName"] == best_row["TrainingJobName"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"] == {
        "Type": "Maximize",
        "MetricName": "score",
        "Value": pytest.approx(best_row["FinalObjectiveValue"]),
    }

    records = trials(job.name)
    assert max_overlap(records) <= 3
    for record, row in zip(records, frame.itertuples(), strict=True):
        assert row.TrainingJobName == record.name
        # the last value the script printed is the trial's objective
        expected = 1.0 - (row.x - 0.3) ** 2 - 0.01 * (row.n - 3) ** 2
        assert row.FinalObjectiveValue == pytest.approx(expected, abs=1e-5)
        assert TrainingJob.get(record.name).hyper_parameters["_tuning_objective_metric"] == "score"
        assert lines(record.name, "OBJECTIVE") == ["score"]  # in SM_HPS, not in argv

    # 11. another process reads the same results by name
    if strategy == "Random":
        script = (
            "import sys; from sageyard.train.tuner import HyperparameterTuningJobAnalytics as A\n"
            "df = A(sys.argv[1]).dataframe()\n"
            "print(df[['TrainingJobName', 'TrainingJobStatus', 'FinalObjectiveValue', 'x', 'n']]"
            ".to_json(orient='records'))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", script, job.name],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        theirs = json.loads(out.stdout.strip().splitlines()[-1])
        mine = json.loads(
            frame[
                ["TrainingJobName", "TrainingJobStatus", "FinalObjectiveValue", "x", "n"]
            ].to_json(orient="records")
        )
        assert theirs == mine
        again = HyperparameterTuningJobAnalytics(job.name).dataframe()
        pd.testing.assert_frame_equal(again, frame)


def test_a_tuning_jobs_end_is_seen_at_once(make_trainer: MakeTrainer) -> None:
    # trials and the tuning job ring their doorbells when they end (jobs/doorbell.py)
    tuner = tuner_for(make_trainer(SMOOTH), strategy="Random", max_jobs=2, max_parallel_jobs=1)
    started = time.monotonic()
    tuner.tune(wait=False)
    job = tuner.latest_tuning_job
    assert job is not None
    job.wait(poll=60)
    assert job.refresh().hyper_parameter_tuning_job_status == "Completed"
    assert time.monotonic() - started < 30  # not a 60 s poll


def test_the_same_random_seed_gives_the_same_hyperparameters(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer(SMOOTH)
    sequences = []
    for seed in (5, 5, 6):
        tuner = tuner_for(trainer, random_seed=seed, max_jobs=4, max_parallel_jobs=2)
        tuner.tune()
        assert tuner.latest_tuning_job is not None
        sequences.append(
            [r.document["tuning"]["tuned"] for r in trials(tuner.latest_tuning_job.name)]
        )
    assert len(sequences[0]) == 4
    assert sequences[0] == sequences[1]
    assert sequences[0] != sequences[2]


# -- 2. Grid ----------------------------------------------------------------------------------

GRID_SCRIPT = """
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--opt")
    p.add_argument("--width", type=int)
    a, _ = p.parse_known_args()
    print(f"score={a.width / 100 + (0.5 if a.opt == 'sgd' else 0.0)}")
"""
GRID = {"opt": CategoricalParameter(["adam", "sgd"]), "width": CategoricalParameter([16, 32, 64])}


def test_grid_runs_every_combination_once(make_trainer: MakeTrainer) -> None:
    tuner = tuner_for(
        make_trainer(GRID_SCRIPT),
        strategy="Grid",
        hyperparameter_ranges=dict(GRID),
        max_jobs=None,
        max_parallel_jobs=2,
    )
    tuner.tune(wait=False)
    job = tuner.latest_tuning_job
    assert job is not None
    tuner.wait()
    assert tuner.describe()["HyperParameterTuningJobStatus"] == "Completed"
    frame = tuner.analytics().dataframe()
    combinations = sorted(zip(frame["opt"], frame["width"], strict=True))
    assert combinations == sorted((o, w) for o in ("adam", "sgd") for w in (16, 32, 64))
    assert set(frame["TrainingJobStatus"]) == {"Completed"}
    best = frame.loc[frame["TrainingJobName"] == tuner.best_training_job()].iloc[0]
    assert (best["opt"], best["width"]) == ("sgd", 64)


def test_a_multi_trainer_grid_runs_each_trainers_combinations_once(
    code_dir: Callable[..., Path],
) -> None:
    folder = code_dir(GRID_SCRIPT, name="grid.py")
    trainers = {
        name: ModelTrainer(
            training_image="python:3.11",
            source_code=SourceCode(source_dir=str(folder), entry_script="grid.py"),
        )
        for name in ("small", "large")
    }
    grids = {
        "small": {
            "opt": CategoricalParameter(["adam", "sgd"]),
            "width": CategoricalParameter([16]),
        },
        "large": {
            "opt": CategoricalParameter(["adam"]),
            "width": CategoricalParameter([16, 32, 64, 128]),
        },
    }
    tuner = HyperparameterTuner.create(
        model_trainer_dict=trainers,
        objective_metric_name_dict={"small": "score", "large": "score"},
        hyperparameter_ranges_dict=grids,
        metric_definitions_dict={"small": SCORE, "large": SCORE},
        strategy="Grid",
        max_parallel_jobs=2,
    )
    tuner.tune()
    frame = tuner.analytics().dataframe()
    assert len(frame) == 6
    for name, expected in (
        ("small", [("adam", 16), ("sgd", 16)]),
        ("large", [("adam", 16), ("adam", 32), ("adam", 64), ("adam", 128)]),
    ):
        mine = frame[frame["TrainingJobDefinitionName"] == name]
        assert sorted(zip(mine["opt"], mine["width"], strict=True)) == expected


# -- 3. Early stopping "Auto" -----------------------------------------------------------------

# Good configurations print a low loss 6 times; bad ones a high loss 40 times, slowly. The loss
# goes down within a trial, so a trial like the completed ones is never below their median.
EARLY_STOPPING = """
    import argparse, time
    p = argparse.ArgumentParser()
    p.add_argument("--quality")
    a, _ = p.parse_known_args()
    good = a.quality == "good"
    for step in range(6 if good else 40):
        print(f"loss={(1.0 if good else 10.0) - 0.01 * step:.3f}", flush=True)
        time.sleep(0.05)
"""


def test_early_stopping_auto_stops_bad_trials(make_trainer: MakeTrainer) -> None:
    # seed 2 samples: good, good, good, bad, good, good, bad
    tuner = tuner_for(
        make_trainer(EARLY_STOPPING),
        objective_metric_name="loss",
        objective_type="Minimize",
        metric_definitions=[{"Name": "loss", "Regex": "loss=([0-9.]+)"}],
        hyperparameter_ranges={"quality": CategoricalParameter(["good", "bad"])},
        early_stopping_type="Auto",
        max_jobs=7,
        max_parallel_jobs=1,
        random_seed=2,
    )
    tuner.tune()
    assert tuner.latest_tuning_job is not None
    frame = tuner.analytics().dataframe()
    assert list(frame["quality"]) == ["good", "good", "good", "bad", "good", "good", "bad"]
    stopped = frame[frame["TrainingJobStatus"] == "Stopped"]
    assert list(stopped["quality"]) == ["bad", "bad"]
    assert set(frame[frame["quality"] == "good"]["TrainingJobStatus"]) == {"Completed"}
    by_name = {s["TrainingJobName"]: s for s in summaries(tuner.latest_tuning_job.name)}
    for row in stopped.itertuples():
        emitted = values(row.TrainingJobName, "loss")
        assert 1 <= len(emitted) < 40
        assert row.FinalObjectiveValue == pytest.approx(emitted[-1])  # counted with its last value
        assert by_name[row.TrainingJobName]["ObjectiveStatus"] == "Succeeded"
    assert tuner.describe()["HyperParameterTuningJobStatus"] == "Completed"
    assert tuner.describe()["TrainingJobStatusCounters"]["Stopped"] == 2
    assert frame.loc[frame["TrainingJobName"] == tuner.best_training_job(), "quality"].item() == (
        "good"
    )


# -- 4. Hyperband -----------------------------------------------------------------------------

HYPERBAND = """
    import argparse, time
    p = argparse.ArgumentParser()
    p.add_argument("--q", type=float)
    a, _ = p.parse_known_args()
    for epoch in range(1, {epochs} + 1):
        print(f"acc={{a.q * (1 - 0.5 ** epoch):.6f}}", flush=True)
        time.sleep({sleep})
"""


def hyperband(min_resource: int, max_resource: int) -> HyperParameterTuningJobStrategyConfig:
    return HyperParameterTuningJobStrategyConfig(
        hyperband_strategy_config=HyperbandStrategyConfig(
            min_resource=min_resource, max_resource=max_resource, reduction_factor=3
        )
    )


def test_hyperband_stops_trials_between_min_and_max_resource(make_trainer: MakeTrainer) -> None:
    tuner = tuner_for(
        make_trainer(HYPERBAND.format(epochs=9, sleep=0.05)),
        objective_metric_name="acc",
        metric_definitions=[{"Name": "acc", "Regex": "acc=([0-9.]+)"}],
        hyperparameter_ranges={"q": ContinuousParameter(0.0, 1.0)},
        strategy="Hyperband",
        strategy_config=hyperband(1, 9),
        max_jobs=9,
        max_parallel_jobs=3,
        random_seed=1,
    )
    tuner.tune()
    assert tuner.latest_tuning_job is not None
    records = trials(tuner.latest_tuning_job.name)
    assert len(records) == 9
    emitted = {r.name: len(values(r.name, "acc")) for r in records}
    assert max(emitted.values()) <= 9
    stopped_early = [r.name for r in records if r.status == "Stopped" and emitted[r.name] < 9]
    assert stopped_early, emitted
    # A trial that spent the whole budget is stopped there (as SageMaker does at
    # MaxResource) unless it ended by itself first; either way it keeps its value.
    full = [r for r in records if emitted[r.name] == 9]
    assert full and all(r.status in ("Completed", "Stopped") for r in full)
    assert tuner.describe()["HyperParameterTuningJobStatus"] == "Completed"


def test_hyperband_stops_a_trial_that_reaches_max_resource(make_trainer: MakeTrainer) -> None:
    tuner = tuner_for(
        make_trainer(HYPERBAND.format(epochs=30, sleep=0.2)),
        objective_metric_name="acc",
        metric_definitions=[{"Name": "acc", "Regex": "acc=([0-9.]+)"}],
        hyperparameter_ranges={"q": ContinuousParameter(0.5, 1.0)},
        strategy="Hyperband",
        strategy_config=hyperband(9, 9),  # one rung: nothing is stopped before max_resource
        max_jobs=1,
        max_parallel_jobs=1,
        random_seed=1,
    )
    tuner.tune()
    assert tuner.latest_tuning_job is not None
    (record,) = trials(tuner.latest_tuning_job.name)
    # at 0.2 s per value, 4 more values leave 0.8 s to notice the 9th and stop the trial
    assert 9 <= len(values(record.name, "acc")) <= 13


# -- 5. completion criteria ------------------------------------------------------------------

LINEAR = """
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=float)
    a, _ = p.parse_known_args()
    print(f"score={a.x:.6f}")
"""


def test_target_objective_value_completes_the_tuning_job_early(make_trainer: MakeTrainer) -> None:
    # seed 0 samples x = 0.55, 0.72, ...: the second trial reaches the target
    tuner = tuner_for(
        make_trainer(LINEAR),
        hyperparameter_ranges={"x": ContinuousParameter(0.0, 1.0)},
        completion_criteria_config=TuningJobCompletionCriteria(target_objective_metric_value=0.7),
        max_jobs=10,
        max_parallel_jobs=1,
        random_seed=0,
    )
    tuner.tune()
    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert tuner.latest_tuning_job is not None
    assert len(trials(tuner.latest_tuning_job.name)) == 2
    assert "TuningJobCompletionDetails" in description
    best = description["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    assert best["Value"] >= 0.7
    assert description["HyperParameterTuningJobConfig"]["TuningJobCompletionCriteria"] == {
        "TargetObjectiveMetricValue": 0.7
    }


def test_best_objective_not_improving_ends_a_flat_search(make_trainer: MakeTrainer) -> None:
    tuner = tuner_for(
        make_trainer("print('score=1.0')\n"),
        hyperparameter_ranges={"x": ContinuousParameter(0.0, 1.0)},
        completion_criteria_config=TuningJobCompletionCriteria(
            best_objective_not_improving=BestObjectiveNotImproving(
                max_number_of_training_jobs_not_improving=3
            )
        ),
        max_jobs=10,
        max_parallel_jobs=1,
    )
    tuner.tune()
    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert tuner.latest_tuning_job is not None
    assert len(trials(tuner.latest_tuning_job.name)) == 4  # the first, then 3 not improving
    details = description["TuningJobCompletionDetails"]
    assert details["NumberOfTrainingJobsObjectiveNotImproving"] >= 3


# -- 6. failing trials --------------------------------------------------------------------------

FAILS_ABOVE_HALF = """
    import argparse, sys
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=float)
    a, _ = p.parse_known_args()
    if a.x > 0.5:
        sys.exit("x is too large")
    print(f"score={a.x:.6f}")
"""


def test_a_failed_trial_is_recorded_and_the_search_goes_on(make_trainer: MakeTrainer) -> None:
    # seed 0 samples x = 0.55, 0.72, 0.6, 0.54, 0.42, 0.65: only the fifth succeeds
    tuner = tuner_for(
        make_trainer(FAILS_ABOVE_HALF),
        hyperparameter_ranges={"x": ContinuousParameter(0.0, 1.0)},
        max_jobs=6,
        max_parallel_jobs=2,
        random_seed=0,
    )
    tuner.tune()
    assert tuner.latest_tuning_job is not None
    items = summaries(tuner.latest_tuning_job.name)
    assert [s["TrainingJobStatus"] for s in items] == ["Failed"] * 4 + ["Completed", "Failed"]
    assert [s["ObjectiveStatus"] for s in items] == ["Failed"] * 4 + ["Succeeded", "Failed"]
    assert "x is too large" in items[0]["FailureReason"]
    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TrainingJobStatusCounters"]["NonRetryableError"] == 5
    assert description["ObjectiveStatusCounters"] == {"Succeeded": 1, "Pending": 0, "Failed": 5}
    assert tuner.best_training_job() == items[4]["TrainingJobName"]
    frame = tuner.analytics().dataframe()
    assert frame["FinalObjectiveValue"].isna().sum() == 5


def test_all_trials_failing_fails_the_tuning_job(make_trainer: MakeTrainer) -> None:
    tuner = tuner_for(make_trainer("raise SystemExit('broken script')\n"), max_jobs=3)
    tuner.tune(wait=False)
    with pytest.raises(WaiterError) as excinfo:
        tuner.wait()
    assert "broken script" in str(excinfo.value)
    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Failed"
    assert "All 3 training jobs failed" in description["FailureReason"]
    assert description["TrainingJobStatusCounters"]["NonRetryableError"] == 3
    with pytest.raises(RuntimeError, match="no completed training job"):
        tuner.best_training_job()


def test_trials_without_an_objective_value_fail_their_objective(make_trainer: MakeTrainer) -> None:
    tuner = tuner_for(make_trainer("print('nothing to see')\n"), max_jobs=2)
    tuner.tune(wait=False)
    with pytest.raises(WaiterError):
        tuner.wait()
    assert tuner.latest_tuning_job is not None
    items = summaries(tuner.latest_tuning_job.name)
    assert [s["TrainingJobStatus"] for s in items] == ["Completed", "Completed"]
    assert [s["ObjectiveStatus"] for s in items] == ["Failed", "Failed"]
    assert tuner.describe()["HyperParameterTuningJobStatus"] == "Failed"


# -- 7. stop_tuning_job -------------------------------------------------------------------------

SLOW = """
    import time
    print("score=0.5", flush=True)
    time.sleep(60)
"""


def _running(name: str, count: int) -> list[JobRecord]:
    running = [t for t in trials(name) if t.status == "InProgress" and t.owner]
    return running if len(running) >= count else []


def _gone(pid: int) -> bool:
    """The process is dead (a zombie counts: it runs no more)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def _all_ended(name: str) -> list[JobRecord]:
    records = trials(name)
    return records if all(t.status not in ACTIVE for t in records) else []


def test_stop_tuning_job_stops_its_running_trials(make_trainer: MakeTrainer) -> None:
    tuner = tuner_for(make_trainer(SLOW), max_jobs=4, max_parallel_jobs=2)
    tuner.tune(wait=False)
    job = tuner.latest_tuning_job
    assert job is not None
    wait_for(lambda: _running(job.name, 2), what="two running trials")
    with pytest.raises(RuntimeError, match="no completed training job"):
        tuner.best_training_job()
    tuner.stop_tuning_job()
    tuner.wait()
    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Stopped"
    records = trials(job.name)
    assert len(records) == 2  # no trial started after the stop
    assert {r.status for r in records} == {"Stopped"}
    assert description["TrainingJobStatusCounters"]["Stopped"] == 2
    with pytest.raises(ClientError) as excinfo:
        tuner.stop_tuning_job()  # it has ended
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert "Stopped" in str(excinfo.value)


def test_max_runtime_in_seconds_ends_the_tuning_job(make_trainer: MakeTrainer) -> None:
    tuner = tuner_for(make_trainer(SLOW), max_jobs=4, max_parallel_jobs=2, max_runtime_in_seconds=2)
    started = time.monotonic()
    tuner.tune()
    assert time.monotonic() - started < 15
    assert tuner.latest_tuning_job is not None
    records = trials(tuner.latest_tuning_job.name)
    assert len(records) == 2
    assert {r.status for r in records} == {"Stopped"}
    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] in ("Completed", "Stopped")
    assert description["ConsumedResources"]["RuntimeInSeconds"] < 15


# -- 8. warm start ------------------------------------------------------------------------------


def test_transfer_learning_from_finished_parents(make_trainer: MakeTrainer, tmp_path: Path) -> None:
    trainer = make_trainer(SMOOTH)
    first = tuner_for(trainer, max_jobs=2)
    first.tune()
    second = tuner_for(trainer, max_jobs=2, random_seed=8)
    second.tune()
    assert first.latest_tuning_job is not None and second.latest_tuning_job is not None
    parents = [first.latest_tuning_job.name, second.latest_tuning_job.name]

    child = first.transfer_learning_tuner(additional_parents={parents[1]})
    config = child.warm_start_config
    assert config is not None
    assert config.warm_start_type == "TransferLearning"
    assert [
        p.hyper_parameter_tuning_job_name for p in config.parent_hyper_parameter_tuning_jobs
    ] == (parents)
    child.strategy = "Bayesian"
    child.tune()
    assert child.latest_tuning_job is not None
    assert child.latest_tuning_job.name not in parents
    description = child.describe()
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": [
            {"HyperParameterTuningJobName": name} for name in parents
        ],
        "WarmStartType": "TransferLearning",
    }
    assert description["TrainingJobStatusCounters"]["Completed"] == 2
    assert len(trials(parents[0])) == 2  # the parents are left as they were


def test_identical_data_and_algorithm_needs_the_same_inputs(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    first, other = tmp_path / "data-1", tmp_path / "data-2"
    for folder in (first, other):
        folder.mkdir()
        (folder / "train.csv").write_text("1\n")
    parent = tuner_for(make_trainer(SMOOTH), max_jobs=1, max_parallel_jobs=1)
    parent.tune(inputs=str(first))
    assert parent.latest_tuning_job is not None

    child = parent.identical_dataset_and_algorithm_tuner()
    with pytest.raises(ValueError, match="IdenticalDataAndAlgorithm warm start needs the same"):
        child.tune(inputs=str(other))
    assert [r.name for r in service().list_jobs()] == [parent.latest_tuning_job.name]

    child.tune(inputs=str(first))
    assert child.describe()["HyperParameterTuningJobStatus"] == "Completed"


def test_warm_start_config_given_directly(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer(SMOOTH)
    parent = tuner_for(trainer, max_jobs=2)
    parent.tune()
    assert parent.latest_tuning_job is not None
    child = tuner_for(
        trainer,
        strategy="Bayesian",
        max_jobs=1,
        max_parallel_jobs=1,
        warm_start_config=HyperParameterTuningJobWarmStartConfig(
            parent_hyper_parameter_tuning_jobs=[
                ParentHyperParameterTuningJob(
                    hyper_parameter_tuning_job_name=parent.latest_tuning_job.name
                )
            ],
            warm_start_type="IdenticalDataAndAlgorithm",
        ),
    )
    child.tune()
    assert child.describe()["HyperParameterTuningJobStatus"] == "Completed"


# -- 9. multi-trainer ---------------------------------------------------------------------------

TRAINER_A = """
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float)
    a, _ = p.parse_known_args()
    print(f"val_acc={1 - a.lr:.6f}")
"""
TRAINER_B = """
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--depth", type=int)
    a, _ = p.parse_known_args()
    print(f"val_f1={a.depth / 10:.6f}")
"""


def test_a_multi_trainer_tuning_job(code_dir: Callable[..., Path]) -> None:
    folder = code_dir(TRAINER_A, name="a.py")
    code_dir(TRAINER_B, name="b.py")

    def trainer(script: str) -> ModelTrainer:
        return ModelTrainer(
            training_image="python:3.11",
            source_code=SourceCode(source_dir=str(folder), entry_script=script),
        )

    tuner = HyperparameterTuner.create(
        model_trainer_dict={"trainer1": trainer("a.py"), "trainer2": trainer("b.py")},
        objective_metric_name_dict={"trainer1": "val:acc", "trainer2": "val:f1"},
        hyperparameter_ranges_dict={
            "trainer1": {"lr": ContinuousParameter(0.001, 0.1)},
            "trainer2": {"depth": IntegerParameter(1, 9)},
        },
        metric_definitions_dict={
            "trainer1": [{"Name": "val:acc", "Regex": "val_acc=([0-9.]+)"}],
            "trainer2": [{"Name": "val:f1", "Regex": "val_f1=([0-9.]+)"}],
        },
        strategy="Random",
        max_jobs=4,
        max_parallel_jobs=2,
        random_seed=3,
    )
    tuner.tune()
    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert [d["DefinitionName"] for d in description["TrainingJobDefinitions"]] == [
        "trainer1",
        "trainer2",
    ]
    frame = tuner.analytics().dataframe()
    assert list(frame.columns) == ["lr", "depth", *REFERENCE_COLUMNS]
    assert sorted(frame["TrainingJobDefinitionName"]) == ["trainer1"] * 2 + ["trainer2"] * 2
    assert set(frame["TrainingJobStatus"]) == {"Completed"}
    for row in frame.itertuples():
        if row.TrainingJobDefinitionName == "trainer1":
            assert row.FinalObjectiveValue == pytest.approx(1 - row.lr, abs=1e-5)
            assert pd.isna(row.depth)
        else:
            assert row.FinalObjectiveValue == pytest.approx(row.depth / 10)
            assert pd.isna(row.lr)
    assert tuner.latest_tuning_job is not None
    items = summaries(tuner.latest_tuning_job.name)
    metrics = {
        s["TrainingJobDefinitionName"]: s["FinalHyperParameterTuningJobObjectiveMetric"][
            "MetricName"
        ]
        for s in items
    }
    assert metrics == {"trainer1": "val:acc", "trainer2": "val:f1"}
    assert tuner.best_training_job() in set(frame["TrainingJobName"])


# -- 10. autotune -------------------------------------------------------------------------------

AUTOTUNE = """
    import argparse, math
    p = argparse.ArgumentParser()
    p.add_argument("--learning_rate", type=float)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch_size", type=int)
    a, _ = p.parse_known_args()
    print("EPOCHS", a.epochs)
    print(f"score={-abs(math.log10(a.learning_rate) + 2) - a.batch_size / 1000:.6f}")
"""


def test_autotune_tunes_the_known_hyperparameters_that_are_not_static(
    make_trainer: MakeTrainer,
) -> None:
    trainer = make_trainer(
        AUTOTUNE, hyperparameters={"learning_rate": 0.01, "epochs": 3, "batch_size": 32}
    )
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name="score",
        hyperparameter_ranges={},
        metric_definitions=SCORE,
        autotune=True,
        hyperparameters_to_keep_static=["epochs"],
        max_jobs=3,
        max_parallel_jobs=3,
        random_seed=4,
    )
    tuner.tune()
    assert tuner.describe()["HyperParameterTuningJobStatus"] == "Completed"
    frame = tuner.analytics().dataframe()
    assert set(frame.columns) - set(REFERENCE_COLUMNS) == {"learning_rate", "batch_size"}
    assert frame["learning_rate"].between(1e-5, 0.1).all()
    assert set(frame["batch_size"]) <= {16, 32, 64, 128, 256}
    assert tuner.latest_tuning_job is not None
    for record in trials(tuner.latest_tuning_job.name):
        assert set(record.document["tuning"]["tuned"]) == {"learning_rate", "batch_size"}
        assert record.document["spec"]["hyperparameters"]["epochs"] == "3"
        assert lines(record.name, "EPOCHS") == ["3"]


def test_analytics_of_a_tuning_job_with_boolean_like_categories(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer("print('score=1.0')\n", hyperparameters={"use_bias": "true"})
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name="score",
        hyperparameter_ranges={},
        metric_definitions=SCORE,
        strategy="Random",
        autotune=True,
        max_jobs=1,
    )
    tuner.tune()
    frame = tuner.analytics().dataframe()
    assert set(frame["use_bias"]) <= {"true", "false"}


# -- 12. a killed tuning supervisor -------------------------------------------------------------


def test_a_killed_supervisor_fails_the_tuning_job_and_keeps_its_trials(
    make_trainer: MakeTrainer,
) -> None:
    tuner = tuner_for(make_trainer(SLOW), max_jobs=4, max_parallel_jobs=2)
    tuner.tune(wait=False)
    job = tuner.latest_tuning_job
    assert job is not None
    launched = [r.name for r in wait_for(lambda: _running(job.name, 2), what="running trials")]
    owner = wait_for(lambda: service().store.get(job.name).owner, what="the owner")  # type: ignore[union-attr]
    host, pid, started = owner.split(":")
    assert host and started
    os.kill(int(pid), signal.SIGKILL)
    wait_for(lambda: _gone(int(pid)), what="the supervisor to die")

    record = service().get(job.name)  # the next read
    assert record.status == "Failed"
    assert "interrupted" in record.document["failure_reason"]
    with pytest.raises(WaiterError):
        tuner.wait()
    ended = wait_for(lambda: _all_ended(job.name), what="the trials to end")
    assert [t.name for t in ended][: len(launched)] == launched
    assert {t.status for t in ended if t.name in launched} <= {"Stopped", "Completed", "Failed"}
    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Failed"
    assert sum(description["TrainingJobStatusCounters"].values()) == len(ended)


def _held(marker: Path) -> str:
    """A trial that reports a score, then runs while ``marker`` exists."""
    return (
        "import os, time\n"
        "print('score=0.5', flush=True)\n"
        f"while os.path.exists({str(marker)!r}):\n"
        "    time.sleep(0.05)\n"
    )


def _kill_supervisor(name: str) -> None:
    owner = wait_for(lambda: service().store.get(name).owner, what="the owner")  # type: ignore[union-attr]
    pid = int(owner.split(":")[1])
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: _gone(pid), what="the supervisor to die")


def test_resume_goes_on_with_the_same_search_up_to_max_jobs(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    marker = tmp_path / "hold"
    marker.touch()
    tuner = tuner_for(make_trainer(_held(marker)), max_jobs=4, max_parallel_jobs=2)
    tuner.tune(wait=False)
    job = tuner.latest_tuning_job
    assert job is not None
    first = [r.name for r in wait_for(lambda: _running(job.name, 2), what="running trials")]
    _kill_supervisor(job.name)
    assert service().get(job.name).status == "Failed"  # the next read notices
    marker.unlink()
    wait_for(lambda: _all_ended(job.name), what="the interrupted trials to end")

    service().resume(job.name)
    assert service().get(job.name).status == "InProgress"
    tuner.wait()
    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert "FailureReason" not in description
    records = trials(job.name)
    assert len(records) == 4  # the two it had launched count towards max_jobs
    assert [r.name for r in records[:2]] == first
    tuned = [json.dumps(r.document["tuning"]["tuned"], sort_keys=True) for r in records]
    assert len(set(tuned)) == 4  # the resumed search does not repeat its draws
    journal = [p for _, p in service().store.events(job.name) if "optuna" in p]
    assert journal  # the study lives in the store, as Optuna's journal


def test_only_an_interrupted_tuning_job_can_be_resumed(make_trainer: MakeTrainer) -> None:
    tuner = tuner_for(make_trainer("print('score=1.0')\n"), max_jobs=1, max_parallel_jobs=1)
    tuner.tune()
    assert tuner.latest_tuning_job is not None
    described = tuner.describe()  # the reference's dict, with the real resource's attributes
    assert described.hyper_parameter_tuning_job_status == "Completed"  # type: ignore[attr-defined]
    assert described.best_training_job.training_job_name == tuner.best_training_job()  # type: ignore[attr-defined]
    assert described.failure_reason is None  # type: ignore[attr-defined]
    assert tuner._current_job_name == tuner.latest_tuning_job.name
    from sageyard.core.resources import HyperParameterTuningJob

    job = HyperParameterTuningJob.get(hyper_parameter_tuning_job_name=tuner.latest_tuning_job.name)
    assert job.hyper_parameter_tuning_job_status == "Completed"
    assert job.training_job_status_counters["Completed"] == 1
    (summary,) = job.get_all_training_jobs(sort_by="FinalObjectiveMetricValue")
    assert summary.training_job_name == tuner.best_training_job()
    assert summary.final_hyper_parameter_tuning_job_objective_metric.value == 1.0
    assert job.get_all_training_jobs(status_equals="Failed") == []
    assert job.name in [j.name for j in HyperParameterTuningJob.get_all()]
    with pytest.raises(ClientError, match="Only a tuning job whose supervisor was interrupted"):
        service().resume(tuner.latest_tuning_job.name)


def test_the_supervisor_goes_on_from_its_journal_after_an_error_of_its_own(
    make_trainer: MakeTrainer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sageyard.tuning.service as tuning_service
    from sageyard.tuning.supervisor import TuningSupervisor, _Loop

    monkeypatch.setattr(tuning_service, "launch_supervisor", lambda *args, **kwargs: None)
    marker = tmp_path / "hold"
    marker.touch()
    tuner = tuner_for(make_trainer(_held(marker)), max_jobs=3, max_parallel_jobs=2)
    tuner.tune(wait=False)  # the record only: its supervisor runs below, in this process
    job = tuner.latest_tuning_job
    assert job is not None
    launch, failures = _Loop._launch, []

    def launch_then_fail(loop: _Loop) -> bool:
        launched = launch(loop)
        if launched and not failures:
            failures.append(loop.launched)
            marker.unlink()  # the trials may end now
            raise RuntimeError("a bug in the loop")
        return launched

    monkeypatch.setattr(_Loop, "_launch", launch_then_fail)
    TuningSupervisor(Settings.from_env(), job.name).run()
    record = service().get(job.name)
    assert (record.status, record.document.get("failure_reason")) == ("Completed", None)
    assert failures == [2]
    records = trials(job.name)
    assert len(records) == 3  # the two running at the error were followed, not run again
    assert all(r.status == "Completed" for r in records)


# -- 13. inputs and model_trainer_kwargs -------------------------------------------------------


def test_an_explicit_job_name_is_used_once(make_trainer: MakeTrainer) -> None:
    tuner = tuner_for(make_trainer(SMOOTH), max_jobs=1, max_parallel_jobs=1)
    tuner.tune(job_name="my-tuning-job")
    assert tuner.latest_tuning_job is not None
    assert tuner.latest_tuning_job.name == "my-tuning-job"
    assert tuner.describe()["HyperParameterTuningJobName"] == "my-tuning-job"
    with pytest.raises(ClientError) as excinfo:
        tuner.tune(job_name="my-tuning-job")
    assert excinfo.value.response["Error"]["Code"] == "ResourceInUse"
    assert "'my-tuning-job'" in str(excinfo.value)
    assert [r.name for r in service().list_jobs()] == ["my-tuning-job"]
    assert len(trials("my-tuning-job")) == 1


def test_inputs_and_model_trainer_kwargs_reach_the_trials(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("1,2\n")
    tuner = tuner_for(make_trainer(SMOOTH), max_jobs=2, max_parallel_jobs=2)
    tuner.tune(inputs=str(data), model_trainer_kwargs={"environment": {"MY_VAR": "hello"}})
    assert tuner.latest_tuning_job is not None
    for record in trials(tuner.latest_tuning_job.name):
        assert record.status == "Completed"
        assert lines(record.name, "CHANNEL") == ["['train.csv']"]
        assert lines(record.name, "MY_VAR") == ["hello"]
        assert TrainingJob.get(record.name).describe()["InputDataConfig"][0]["ChannelName"] == (
            "training"
        )
