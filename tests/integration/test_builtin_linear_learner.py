"""The built-in linear learner as real jobs: ``algorithm_name="linear-learner"`` and its image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.model_selection import train_test_split

from sageyard.core.exceptions import TrainingJobFailedError
from sageyard.core.parameter import ContinuousParameter
from sageyard.train import ModelTrainer
from sageyard.train.configs import InputData
from sageyard.train.tuner import HyperparameterTuner
from tests.integration.conftest import tar_members

IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/linear-learner:1"
Splits = dict[str, tuple[np.ndarray, np.ndarray]]


def write_channels(root: Path, splits: Splits) -> list[InputData]:
    """Each split as CSV, the label in column 0, no header."""
    data = []
    for name, (features, labels) in splits.items():
        folder = root / name
        folder.mkdir(parents=True)
        np.savetxt(folder / "data.csv", np.column_stack([labels, features]), delimiter=",")
        data.append(InputData(channel_name=name, data_source=str(folder)))
    return data


def three_ways(features: np.ndarray, labels: np.ndarray, stratify: bool = True) -> Splits:
    """60% train, 20% validation, 20% test."""
    train_x, rest_x, train_y, rest_y = train_test_split(
        features, labels, test_size=0.4, random_state=0, stratify=labels if stratify else None
    )
    valid_x, test_x, valid_y, test_y = train_test_split(
        rest_x, rest_y, test_size=0.5, random_state=0, stratify=rest_y if stratify else None
    )
    return {"train": (train_x, train_y), "validation": (valid_x, valid_y), "test": (test_x, test_y)}


@pytest.fixture
def cancer(tmp_path: Path) -> tuple[Splits, list[InputData]]:
    splits = three_ways(*load_breast_cancer(return_X_y=True))
    return splits, write_channels(tmp_path / "cancer", splits)


def metrics_of(trainer: ModelTrainer) -> dict[str, float]:
    job = trainer._latest_training_job
    assert job is not None
    assert job.training_job_status == "Completed", job.failure_reason
    return {m.metric_name: m.value for m in job.final_metric_data_list}


def model_of(trainer: ModelTrainer, tmp_path: Path) -> dict[str, Any]:
    job = trainer._latest_training_job
    assert job is not None and job.model_artifacts is not None
    loaded: dict[str, Any] = json.loads(
        tar_members(str(job.model_artifacts), tmp_path)["model_algo-1"]
    )
    return loaded


def test_a_binary_classifier_on_breast_cancer(
    cancer: tuple[Splits, list[InputData]], tmp_path: Path
) -> None:
    splits, data = cancer
    trainer = ModelTrainer(
        algorithm_name="linear-learner",
        hyperparameters={"predictor_type": "binary_classifier", "feature_dim": 30},
    )
    trainer.train(data, logs=False)

    metrics = metrics_of(trainer)
    assert metrics["validation:binary_classification_accuracy"] > 0.9
    assert metrics["test:binary_classification_accuracy"] > 0.9
    assert metrics["test:roc_auc_score"] > 0.95
    assert 0 < metrics["validation:objective_loss"] < 0.5
    assert {"validation:binary_f_beta", "validation:precision", "validation:recall"} <= set(metrics)
    assert {"test:objective_loss", "train:objective_loss", "train:progress"} <= set(metrics)

    # the saved model predicts the test rows as the job scored them
    model = model_of(trainer, tmp_path)
    assert model["predictor_type"] == "binary_classifier" and model["score"] == "sigmoid"
    features, labels = splits["test"]
    scores = features @ np.asarray(model["weights"]) + np.asarray(model["bias"])
    predicted = 1 / (1 + np.exp(-scores[:, 0])) >= model["threshold"]
    accuracy = float((predicted == labels).mean())
    assert accuracy == pytest.approx(metrics["test:binary_classification_accuracy"])


def test_a_multiclass_classifier_on_iris(tmp_path: Path) -> None:
    data = write_channels(tmp_path / "iris", three_ways(*load_iris(return_X_y=True)))
    trainer = ModelTrainer(
        algorithm_name="linear-learner",
        hyperparameters={
            "predictor_type": "multiclass_classifier",
            "num_classes": 3,
            "mini_batch_size": 16,
            "epochs": 20,
        },
    )
    trainer.train(data, logs=False)

    metrics = metrics_of(trainer)
    assert metrics["validation:multiclass_accuracy"] > 0.85
    assert metrics["test:multiclass_accuracy"] > 0.85
    assert metrics["test:multiclass_top_k_accuracy"] == 1.0  # top 3 of 3 classes
    assert {"validation:macro_f_beta", "validation:dcg", "test:objective_loss"} <= set(metrics)
    assert not {name for name in metrics if "binary" in name or "rmse" in name}
    model = model_of(trainer, tmp_path)
    assert np.asarray(model["weights"]).shape == (4, 3)


def test_a_regressor_from_the_image_finds_a_line(tmp_path: Path) -> None:
    random = np.random.default_rng(0)
    features = random.uniform(-5, 5, (600, 2))
    labels = 3.0 * features[:, 0] - 2.0 * features[:, 1] + 5.0 + random.normal(0, 0.1, 600)
    data = write_channels(tmp_path / "line", three_ways(features, labels, stratify=False))
    trainer = ModelTrainer(
        training_image=IMAGE,
        hyperparameters={
            "predictor_type": "regressor",
            "mini_batch_size": 32,
            "learning_rate": 0.05,
            "epochs": 20,
        },
    )
    trainer.train(data, logs=False)

    metrics = metrics_of(trainer)
    assert metrics["validation:rmse"] < 0.3
    assert metrics["test:mse"] == pytest.approx(metrics["test:rmse"] ** 2)
    assert {"validation:objective_loss", "validation:absolute_loss", "test:rmse"} <= set(metrics)
    model = model_of(trainer, tmp_path)
    np.testing.assert_allclose(np.asarray(model["weights"])[:, 0], [3.0, -2.0], atol=0.1)
    np.testing.assert_allclose(model["bias"], [5.0], atol=0.1)


def test_tuning_the_learning_rate_needs_no_metric_definitions(
    cancer: tuple[Splits, list[InputData]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_SLOTS", "3")
    trainer = ModelTrainer(
        algorithm_name="linear-learner",
        hyperparameters={"predictor_type": "binary_classifier", "mini_batch_size": 64},
    )
    tuner = HyperparameterTuner(
        trainer,
        "validation:binary_classification_accuracy",
        {"learning_rate": ContinuousParameter(0.001, 0.1, "Logarithmic")},
        strategy="Random",
        max_jobs=3,
        max_parallel_jobs=3,
        random_seed=1,
    )
    tuner.tune(inputs=cancer[1])

    description = tuner.describe()
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TrainingJobStatusCounters"]["Completed"] == 3
    best = description["BestTrainingJob"]
    objective = best["FinalHyperParameterTuningJobObjectiveMetric"]
    assert objective["MetricName"] == "validation:binary_classification_accuracy"
    assert objective["Value"] > 0.9
    frame = tuner.analytics().dataframe()
    assert frame["learning_rate"].between(0.001, 0.1).all()


def _fail(hyperparameters: dict[str, object], data: list[InputData]) -> str:
    trainer = ModelTrainer(algorithm_name="linear-learner", hyperparameters=hyperparameters)
    with pytest.raises(TrainingJobFailedError) as caught:
        trainer.train(data, logs=False)
    reason = caught.value.failure_reason or ""
    assert reason.startswith("ClientError: ") and "Traceback" not in reason
    return reason


@pytest.mark.parametrize(
    ("hyperparameters", "expected"),
    [
        (
            {"predictor_type": "binary"},
            "predictor_type='binary' of the linear-learner algorithm is not valid; choose from "
            "binary_classifier, multiclass_classifier, regressor",
        ),
        ({"predictor_type": "multiclass_classifier"}, "num_classes is required"),
        ({"predictor_type": "binary_classifier", "learning_rate": "-1"}, "'auto' or a number > 0"),
        ({"predictor_type": "regressor", "loss": "logistic"}, "does not fit predictor_type"),
        ({"predictor_type": "regressor", "seed": 1}, "'seed' is not a hyperparameter"),
    ],
)
def test_bad_hyperparameters_fail_with_a_clear_reason(
    cancer: tuple[Splits, list[InputData]], hyperparameters: dict[str, object], expected: str
) -> None:
    assert expected in _fail(hyperparameters, cancer[1])


def test_labels_that_are_not_numbers_or_classes_fail_clearly(tmp_path: Path) -> None:
    folder = tmp_path / "words"
    folder.mkdir()
    (folder / "data.csv").write_text("0,1.5,2\nmalignant,0.5,1\n")
    data = [InputData(channel_name="train", data_source=str(folder))]
    reason = _fail({"predictor_type": "binary_classifier"}, data)
    assert "data.csv, line 2, column 1: 'malignant' is not a number" in reason

    (folder / "data.csv").write_text("0,1.5,2\n5,0.5,1\n")
    reason = _fail({"predictor_type": "multiclass_classifier", "num_classes": 3}, data)
    assert "row 2 has label 5; with num_classes=3 the labels are the integers 0 … 2" in reason
