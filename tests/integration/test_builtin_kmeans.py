"""The built-in k-means algorithm as real jobs: ``algorithm_name="kmeans"`` and its image."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score

from sageyard.core.exceptions import TrainingJobFailedError
from sageyard.train import ModelTrainer
from sageyard.train.configs import InputData
from sageyard.train.tuner import HyperparameterTuner
from tests.integration.conftest import tar_members

IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1"


@pytest.fixture
def digits(tmp_path: Path) -> dict[str, tuple[Path, np.ndarray, np.ndarray]]:
    """The digits as CSV (no header, 64 feature columns): 1500 train rows, 297 test rows."""
    features, labels = load_digits(return_X_y=True)
    parts = {}
    for name, rows in (("train", slice(0, 1500)), ("test", slice(1500, None))):
        folder = tmp_path / "digits" / name
        folder.mkdir(parents=True)
        np.savetxt(folder / "digits.csv", features[rows], delimiter=",", fmt="%g")
        parts[name] = (folder, features[rows], labels[rows])
    return parts


def channels(**folders: Path) -> list[InputData]:
    return [InputData(channel_name=name, data_source=str(path)) for name, path in folders.items()]


def test_kmeans_on_digits_reports_test_metrics_and_saves_loadable_centers(
    digits: dict[str, tuple[Path, np.ndarray, np.ndarray]], tmp_path: Path
) -> None:
    trainer = ModelTrainer(
        algorithm_name="kmeans",
        hyperparameters={"k": 10, "feature_dim": 64, "eval_metrics": ["msd", "ssd"]},
    )
    trainer.train(channels(train=digits["train"][0], test=digits["test"][0]), logs=False)

    job = trainer._latest_training_job
    assert job is not None
    assert job.training_job_status == "Completed", job.failure_reason
    metrics = {m.metric_name: m.value for m in job.final_metric_data_list}
    assert {"test:msd", "test:ssd", "train:msd", "train:progress"} <= set(metrics)
    assert metrics["train:progress"] == 100.0
    definitions = job.describe()["AlgorithmSpecification"]["MetricDefinitions"]
    assert {"Name": "test:msd", "Regex": r"#quality_metric: host=\S+, test msd <loss>=(\S+)"} in (
        definitions
    )

    model = tar_members(str(job.model_artifacts), tmp_path)
    centers = np.load(io.BytesIO(model["model_algo-1"]))
    assert centers.shape == (10, 64)
    _, test, labels = digits["test"]
    distances = ((test[:, None, :] - centers[None].astype(np.float64)) ** 2).sum(-1)
    assert metrics["test:msd"] == pytest.approx(distances.min(1).mean(), rel=1e-4)
    assert metrics["test:ssd"] == pytest.approx(distances.min(1).sum(), rel=1e-4)
    # the clusters are the digits, more or less
    assert adjusted_rand_score(labels, distances.argmin(1)) > 0.4


def test_the_kmeans_image_reads_parquet_with_kmeans_plus_plus(
    digits: dict[str, tuple[Path, np.ndarray, np.ndarray]], tmp_path: Path
) -> None:
    folder = tmp_path / "parquet"
    folder.mkdir()
    frame = pd.DataFrame(digits["train"][1], columns=[f"pixel{i}" for i in range(64)])
    frame.to_parquet(folder / "train.parquet")
    trainer = ModelTrainer(
        training_image=IMAGE,
        hyperparameters={
            "k": 8,
            "feature_dim": 64,
            "init_method": "kmeans++",
            "epochs": 3,
            "mini_batch_size": 200,
            "extra_center_factor": 4,
        },
    )
    trainer.train(channels(train=folder), logs=False)

    job = trainer._latest_training_job
    assert job is not None
    assert job.training_job_status == "Completed", job.failure_reason
    logs = "\n".join(job.logs())
    assert "shrinking 32 centers into 8" in logs
    assert "Test data is not provided." in logs
    metrics = {m.metric_name: m.value for m in job.final_metric_data_list}
    assert "train:msd" in metrics and "test:msd" not in metrics
    centers = np.load(io.BytesIO(tar_members(str(job.model_artifacts), tmp_path)["model_algo-1"]))
    assert centers.shape == (8, 64)


def _fail(trainer: ModelTrainer, data: list[InputData]) -> str:
    with pytest.raises(TrainingJobFailedError) as caught:
        trainer.train(data, logs=False)
    reason = caught.value.failure_reason or ""
    assert "Traceback" not in reason
    return reason


@pytest.mark.parametrize(
    ("hyperparameters", "expected"),
    [
        ({"k": 10, "feature_dim": 10}, "has 64 feature columns, but feature_dim=10"),
        ({"feature_dim": 64}, "Hyperparameter k is required"),
        ({"k": 10, "feature_dim": 64, "init_method": "best"}, "choose from random, kmeans++"),
    ],
)
def test_bad_requests_fail_with_a_clear_reason(
    digits: dict[str, tuple[Path, np.ndarray, np.ndarray]],
    hyperparameters: dict[str, object],
    expected: str,
) -> None:
    trainer = ModelTrainer(algorithm_name="kmeans", hyperparameters=hyperparameters)
    reason = _fail(trainer, channels(train=digits["train"][0]))
    assert reason.startswith("ClientError: ")
    assert expected in reason


def test_non_numeric_csv_fails_naming_the_file_and_cell(tmp_path: Path) -> None:
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "data.csv").write_text("x,y\n1,2\n3,4\n")
    trainer = ModelTrainer(algorithm_name="kmeans", hyperparameters={"k": 1, "feature_dim": 2})
    reason = _fail(trainer, channels(train=folder))
    assert "data.csv, line 1, column 1: 'x' is not a number" in reason
    assert "no header" in reason


def test_a_missing_train_channel_fails_naming_it(
    digits: dict[str, tuple[Path, np.ndarray, np.ndarray]],
) -> None:
    trainer = ModelTrainer(algorithm_name="kmeans", hyperparameters={"k": 10, "feature_dim": 64})
    reason = _fail(trainer, channels(test=digits["test"][0]))
    assert "needs a 'train' channel (channels given: test)" in reason


def test_recordio_protobuf_is_refused_clearly(
    digits: dict[str, tuple[Path, np.ndarray, np.ndarray]],
) -> None:
    trainer = ModelTrainer(algorithm_name="kmeans", hyperparameters={"k": 10, "feature_dim": 64})
    data = [
        InputData(
            channel_name="train",
            data_source=str(digits["train"][0]),
            content_type="application/x-recordio-protobuf",
        )
    ]
    reason = _fail(trainer, data)
    assert "'application/x-recordio-protobuf' of the 'train' channel is not supported" in reason
    assert "text/csv" in reason


def test_autotune_tunes_sagemakers_kmeans_hyperparameters_on_test_msd(
    digits: dict[str, tuple[Path, np.ndarray, np.ndarray]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_SLOTS", "2")
    trainer = ModelTrainer(algorithm_name="kmeans", hyperparameters={"k": 10, "feature_dim": 64})
    tuner = HyperparameterTuner(
        trainer,
        "test:msd",
        {},
        objective_type="Minimize",
        strategy="Random",
        autotune=True,
        max_jobs=2,
        max_parallel_jobs=2,
        random_seed=3,
    )
    tuner.tune(inputs=channels(train=digits["train"][0], test=digits["test"][0]))

    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TrainingJobStatusCounters"]["Completed"] == 2
    frame = tuner.analytics().dataframe()
    assert {"extra_center_factor", "init_method", "mini_batch_size", "epochs"} <= set(frame.columns)
    assert frame["mini_batch_size"].between(3000, 15000).all()
    assert (frame["FinalObjectiveValue"] > 0).all()
