"""The tuning examples, run as a user runs them: ``python examples/tuning/<x>.py``.

Each example runs real tuning jobs (real training jobs of ``examples/tuning/code/train.py``)
in the test's SAGEYARD_HOME, so the tests read the results back from the store as well.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sageyard.core.resources import TrainingJob
from sageyard.train.tuner import HyperparameterTuningJobAnalytics
from sageyard.tuning.resource import HyperParameterTuningJob

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "tuning"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_example(name: str, cwd: Path, *args: str) -> str:
    """Run one example in a fresh interpreter (SAGEYARD_HOME is the test's); its output."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output, output
    assert "Status: Completed" in output, output
    return output


def value_of(label: str, output: str) -> str:
    """The first word after ``<label>: `` at the start of a line."""
    match = re.search(rf"^\s*{re.escape(label)}: (\S+)", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def tuning_job(name: str) -> dict:
    description = HyperParameterTuningJob.get(name).describe()
    assert description["HyperParameterTuningJobStatus"] == "Completed", description
    return description


def trials(name: str) -> list[TrainingJob]:
    frame = HyperparameterTuningJobAnalytics(name).dataframe()
    return [TrainingJob.get(job) for job in frame["TrainingJobName"]]


def test_training_script_learns_and_depends_on_its_hyperparameters(tmp_path: Path) -> None:
    def final_accuracy(*args: str) -> float:
        argv = [sys.executable, str(EXAMPLES / "code" / "train.py"), "--epochs", "5"]
        argv += ["--_tuning_objective_metric", "validation:accuracy"]  # ignored, as in a trial
        result = subprocess.run(
            [*argv, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "SM_MODEL_DIR": str(tmp_path / "model")},
        )
        assert result.returncode == 0, result.stderr
        epochs = re.findall(
            r"^Epoch (\d)/5 - Train Loss: [0-9.]+ - Val Acc: ([0-9.]+) - Val F1: [0-9.]+$",
            result.stdout,
            re.MULTILINE,
        )
        assert [int(epoch) for epoch, _ in epochs] == [1, 2, 3, 4, 5], result.stdout
        return float(epochs[-1][1])

    good = final_accuracy("--learning_rate", "0.05", "--batch_size", "32")
    slow = final_accuracy("--learning_rate", "0.0001", "--batch_size", "256", "--optimizer", "sgd")
    assert good >= 0.9 and good - slow >= 0.05, (good, slow)
    assert (tmp_path / "model" / "model.json").is_file()


def test_bayesian_example_tunes_with_early_stopping_auto(tmp_path: Path) -> None:
    output = run_example("bayesian.py", tmp_path)

    name = value_of("Tuning job", output)
    description = tuning_job(name)
    config = description["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian"
    assert config["TrainingJobEarlyStoppingType"] == "Auto"
    assert sum(description["TrainingJobStatusCounters"].values()) == 10
    best = description["BestTrainingJob"]
    assert value_of("Best training job", output) == best["TrainingJobName"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] >= 0.85
    assert "FinalObjectiveValue" in output and "Invalid configuration" not in output
    jobs = trials(name)
    assert {job.hyper_parameters["_tuning_objective_metric"] for job in jobs} == {
        "validation:accuracy"
    }
    for job in jobs:  # the sampled values, within the ranges
        assert 0.001 - 1e-12 <= float(job.hyper_parameters["learning_rate"]) <= 0.1 + 1e-12
        assert 32 <= int(job.hyper_parameters["batch_size"]) <= 256
        assert job.hyper_parameters["optimizer"] in {"adam", "sgd", "rmsprop"}


def test_hyperband_example_gives_each_job_at_most_max_resource_epochs(tmp_path: Path) -> None:
    output = run_example("hyperband.py", tmp_path)

    name = value_of("Tuning job", output)
    description = tuning_job(name)
    config = description["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Hyperband"
    assert config["StrategyConfig"]["HyperbandStrategyConfig"]["MaxResource"] == 27
    jobs = trials(name)
    assert len(jobs) == 12
    epochs = [len(job.metrics("validation:accuracy")) for job in jobs]
    assert all(1 <= count <= 27 for count in epochs), epochs
    assert f"Epochs in all: {sum(epochs)} of 324 without early stopping" in output
    assert (
        value_of("Best training job", output) == description["BestTrainingJob"]["TrainingJobName"]
    )


def test_warm_start_example_seeds_from_its_parents(tmp_path: Path) -> None:
    output = run_example("warm_start.py", tmp_path)

    parents = re.findall(r"^Parent tuning job: (\S+)", output, re.MULTILINE)
    assert len(parents) == 3 and all(p.startswith("parent-job-") for p in parents), output
    first = value_of("Warm-started tuning job", output)
    second = value_of("Transfer learning tuning job", output)
    warm = tuning_job(first)["WarmStartConfig"]
    assert warm["WarmStartType"] == "TransferLearning"
    assert [p["HyperParameterTuningJobName"] for p in warm["ParentHyperParameterTuningJobs"]] == [
        parents[0]
    ]
    warm = tuning_job(second)["WarmStartConfig"]
    assert warm["WarmStartType"] == "TransferLearning"
    assert {p["HyperParameterTuningJobName"] for p in warm["ParentHyperParameterTuningJobs"]} == {
        first,
        parents[1],
        parents[2],
    }
    # TransferLearning: the parents trained 5 epochs, the warm-started jobs 10.
    assert {job.hyper_parameters["epochs"] for job in trials(parents[0])} == {"5"}
    assert {job.hyper_parameters["epochs"] for job in trials(second)} == {"10"}


def test_completion_criteria_example_ends_before_max_jobs(tmp_path: Path) -> None:
    output = run_example("completion_criteria.py", tmp_path)

    description = tuning_job(value_of("Tuning job", output))
    run = sum(description["TrainingJobStatusCounters"].values())
    assert run < 100
    assert f"Training jobs run: {run} of max_jobs=100" in output
    reason = description["CompletionReason"]  # sageyard's field: why it ended early
    assert reason in {
        "TargetObjectiveMetricValueReached",
        "BestObjectiveNotImproving",
        "ConvergenceDetected",
    }
    assert f"Why it ended: {reason}" in output
    details = description["TuningJobCompletionDetails"]
    assert f"Completion details: {details}" in output
    best = description["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    if reason == "TargetObjectiveMetricValueReached":
        assert best >= 0.95
    if reason == "BestObjectiveNotImproving":
        assert details["NumberOfTrainingJobsObjectiveNotImproving"] >= 10


def test_multi_trainer_example_spreads_jobs_over_both_trainers(tmp_path: Path) -> None:
    output = run_example("multi_trainer.py", tmp_path)

    name = value_of("Tuning job", output)
    description = tuning_job(name)
    definitions = {d["DefinitionName"]: d for d in description["TrainingJobDefinitions"]}
    assert definitions["trainer1"]["TuningObjective"]["MetricName"] == "val:accuracy"
    assert definitions["trainer2"]["TuningObjective"]["MetricName"] == "val:f1"
    frame = HyperparameterTuningJobAnalytics(name).dataframe()
    assert sorted(frame["TrainingJobDefinitionName"]) == ["trainer1"] * 4 + ["trainer2"] * 4
    for _, row in frame.iterrows():
        job = TrainingJob.get(row["TrainingJobName"])
        expected = {"trainer1": ("16", "val:accuracy"), "trainer2": ("0", "val:f1")}
        hidden, metric = expected[row["TrainingJobDefinitionName"]]
        assert job.hyper_parameters["hidden_size"] == hidden
        assert job.hyper_parameters["_tuning_objective_metric"] == metric
        low = 0.001 if row["TrainingJobDefinitionName"] == "trainer1" else 0.0001
        assert low * (1 - 1e-9) <= row["learning_rate"] <= low * 100 * (1 + 1e-9)
    assert re.search(r"^trainer1\s+0\.\d+$", output, re.MULTILINE), output
    assert re.search(r"^trainer2\s+0\.\d+$", output, re.MULTILINE), output


def test_autotune_example_tunes_known_hyperparameters_except_static(tmp_path: Path) -> None:
    output = run_example("autotune.py", tmp_path)

    description = tuning_job(value_of("Tuning job", output))
    ranges = description["HyperParameterTuningJobConfig"]["ParameterRanges"]
    tuned = {item["Name"] for items in ranges.values() for item in items}
    assert tuned == {"learning_rate", "dropout", "optimizer"}
    for name in sorted(tuned):
        assert f"Autotuned range: {name} " in output
    static = description["TrainingJobDefinition"]["StaticHyperParameters"]
    assert static["epochs"] == "10" and static["batch_size"] == "64"
    assert "learning_rate" not in static
    assert sum(description["TrainingJobStatusCounters"].values()) == 8


def test_analytics_example_prints_results_and_saves_the_plot(tmp_path: Path) -> None:
    output = run_example("analytics.py", tmp_path, str(tmp_path / "plots"))

    name = value_of("Tuning job", output)
    frame = HyperparameterTuningJobAnalytics(name).dataframe()
    assert len(frame) == 12
    assert "Best 5 configurations:" in output
    assert "Learning rate vs Accuracy:" in output
    for rate in frame["learning_rate"].unique():  # the groupby's rows
        assert re.search(rf"^{rate:.3f}\s+0\.\d+$", output, re.MULTILINE), output
    best = frame.loc[frame["FinalObjectiveValue"].idxmax()]
    line = re.search(r"^Best hyperparameters: (.*)$", output, re.MULTILINE)
    assert line, output
    for column in ("learning_rate", "batch_size", "dropout"):
        assert f"'{column}': " in line.group(1), line.group(0)
    batch_size = rf"'batch_size': (np\.int64\()?{best['batch_size']}\b"  # numpy 2 or 1
    assert re.search(batch_size, line.group(1)), (line.group(0), best)
    plot = tmp_path / "plots" / "tuning_progress.png"
    assert f"Saved the plot to {plot}" in output
    assert plot.read_bytes().startswith(PNG_MAGIC)
