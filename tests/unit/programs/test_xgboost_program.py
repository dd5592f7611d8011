"""The XGBoost program's parts: reading, label checks, metrics, early stopping, checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from sklearn import metrics as sk

from sageyard.programs._common import AlgorithmError
from sageyard.programs._data import CSV, LIBSVM, Dataset, read_csv
from sageyard.programs.xgboost.checkpoints import (
    checkpoint_rounds,
    load_latest,
    save_checkpoint,
)
from sageyard.programs.xgboost.config import XGBoostConfig, parse_config
from sageyard.programs.xgboost.evaluation import EarlyStopping, container_metric, parse_eval
from sageyard.programs.xgboost.reading import check_labels, match_columns, read


def channel(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    folder = tmp_path / "train"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize(
    "text",
    [
        "1,0.5,2\n0,1.5,-3e2\n",  # clean: numpy's fast path
        "1,0.5,2\n\n0,1.5,-3e2\r\n",  # blank line, CRLF: still the fast path
        "1,0.5,\n0,,-3e2\n   \n",  # empty cells (missing values), a whitespace line: shared
    ],
)
def test_csv_reads_as_the_shared_reader_does(tmp_path: Path, text: str) -> None:
    folder = channel(tmp_path, text)
    mine = read(folder, "train", CSV)
    shared = read_csv(sorted(folder.iterdir()))
    np.testing.assert_array_equal(mine.features, shared.features)
    np.testing.assert_array_equal(mine.labels, shared.labels)
    assert mine.weights is None


def test_csv_weights_are_column_1_and_files_are_read_together(tmp_path: Path) -> None:
    folder = channel(tmp_path, "1,2,0.5,0.25\n", "a.csv")
    channel(tmp_path, "0,1,1.5,1.25\n", "b.csv")
    channel(tmp_path, "junk", "_SUCCESS")
    dataset = read(folder, "train", CSV, weights=True)
    np.testing.assert_array_equal(dataset.labels, [1, 0])
    np.testing.assert_array_equal(dataset.weights, [2, 1])
    np.testing.assert_array_equal(dataset.features, [[0.5, 0.25], [1.5, 1.25]])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,c\n1,2,3\n", "data.csv, line 1, column 1: 'a' is not a number"),
        ("1,2,3\n1,2\n", "data.csv, line 2: 2 columns where the data has 3"),
        ("1,2,x3\n", "line 1, column 3: 'x3' is not a number"),
        (",2,3\n", "Row 1 of the CSV data has no label"),
        ("1\n2\n", "no feature columns"),
    ],
)
def test_malformed_csv_gets_the_shared_readers_message(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(AlgorithmError, match=message) as raised:
        read(channel(tmp_path, text), "train", CSV)
    assert str(raised.value).startswith("ClientError: In the 'train' channel: ")


def test_csv_read_as_the_default_libsvm_says_to_set_the_content_type(tmp_path: Path) -> None:
    folder = channel(tmp_path, "1,2,3\n")
    with pytest.raises(AlgorithmError, match="content_type='text/csv'"):
        read(folder, "train", LIBSVM, defaulted=True)
    with pytest.raises(AlgorithmError) as raised:
        read(folder, "train", LIBSVM, defaulted=False)
    assert "content_type" not in str(raised.value)


def config(**values: object) -> XGBoostConfig:
    return parse_config({"num_round": "1", **{k: str(v) for k, v in values.items()}})[0]


def test_labels_are_checked_against_the_objective() -> None:
    features = np.zeros((3, 1))
    binary = config(objective="binary:logistic")
    check_labels(Dataset(features, np.array([0.0, 1.0, 0.5])), "train", binary)
    with pytest.raises(AlgorithmError, match="row 2 has label 2, but objective binary:logistic"):
        check_labels(Dataset(features, np.array([0.0, 2.0, 1.0])), "train", binary)
    multi = config(objective="multi:softmax", num_class=3)
    with pytest.raises(AlgorithmError, match=r"row 3 has label 1\.5.*integer labels 0 … 2"):
        check_labels(Dataset(features, np.array([0.0, 2.0, 1.5])), "validation", multi)
    with pytest.raises(AlgorithmError, match="row 1 has label 0, but objective reg:gamma"):
        check_labels(Dataset(features, np.zeros(3)), "train", config(objective="reg:gamma"))
    weighted = Dataset(features, np.zeros(3), np.array([1.0, -1.0, 1.0]))
    with pytest.raises(AlgorithmError, match="row 2 has instance weight -1; weights must be"):
        check_labels(weighted, "train", config())


def test_sparse_channels_are_widened_and_dense_ones_must_match() -> None:
    train = Dataset(csr_matrix(np.eye(3)), np.zeros(3))
    validation = Dataset(csr_matrix(np.eye(2)), np.zeros(2))
    widened_train, widened_validation = match_columns(train, validation)
    assert widened_train is train
    assert widened_validation.features.shape == (2, 3)
    with pytest.raises(AlgorithmError, match="'validation' channel has 2 feature columns"):
        match_columns(Dataset(np.eye(3), np.zeros(3)), Dataset(np.eye(2), np.zeros(2)))


def test_parse_eval_reads_xgboosts_evaluation_string() -> None:
    text = "[7]\ttrain-logloss:0.25\ttrain-error@0.7:0.1\tvalidation-poisson-nloglik:1.5"
    assert parse_eval(text) == [
        ("train", "logloss", 0.25),
        ("train", "error@0.7", 0.1),
        ("validation", "poisson-nloglik", 1.5),
    ]


def test_container_metrics_agree_with_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200).astype(float)
    probabilities = np.clip(labels * 0.6 + rng.random(200) * 0.5, 0, 1)
    predicted = (probabilities > 0.5).astype(float)
    binary = {
        "accuracy": sk.accuracy_score(labels, predicted),
        "balanced_accuracy": sk.balanced_accuracy_score(labels, predicted),
        "f1": sk.f1_score(labels, predicted),
        "f1_binary": sk.f1_score(labels, predicted),
        "precision": sk.precision_score(labels, predicted),
        "recall": sk.recall_score(labels, predicted),
        "f1_macro": sk.f1_score(labels, predicted, average="macro"),
        "recall_micro": sk.recall_score(labels, predicted, average="micro"),
        "mse": sk.mean_squared_error(labels, probabilities),
        "r2": sk.r2_score(labels, probabilities),
    }
    for metric, expected in binary.items():
        got = container_metric(metric, probabilities, labels, "binary:logistic")
        assert got == pytest.approx(expected), metric

    classes = rng.integers(0, 3, 300).astype(float)
    scores = rng.random((300, 3)) + np.eye(3)[classes.astype(int)] * 0.4
    chosen = scores.argmax(axis=1)
    multi = {
        "accuracy": sk.accuracy_score(classes, chosen),
        "f1": sk.f1_score(classes, chosen, average="macro"),
        "precision_macro": sk.precision_score(classes, chosen, average="macro"),
        "precision_micro": sk.precision_score(classes, chosen, average="micro"),
        "recall_macro": sk.recall_score(classes, chosen, average="macro"),
        "balanced_accuracy": sk.balanced_accuracy_score(classes, chosen),
    }
    for metric, expected in multi.items():
        got = container_metric(metric, scores, classes, "multi:softprob")
        assert got == pytest.approx(expected), metric
    assert (
        container_metric("accuracy", np.array([2.0, 0.0]), np.array([2.0, 1.0]), "multi:softmax")
        == 0.5
    )
    margins = np.array([-1.0, 0.5])
    assert container_metric("accuracy", margins, np.array([0.0, 1.0]), "binary:logitraw") == 1.0


def test_early_stopping_follows_the_metric_direction() -> None:
    stop = EarlyStopping(2, "validation", "auc")
    line = [("train", "auc", 0.99), ("validation", "logloss", 0.5)]
    outcomes = [
        stop.update(i, [*line, ("validation", "auc", value)])
        for i, value in enumerate([0.8, 0.9, 0.85, 0.9, 0.7])
    ]
    assert outcomes == [False, False, False, True, True]
    assert (stop.best_round, stop.best_score) == (1, 0.9)  # ties do not count as better
    last = EarlyStopping(1, "train", None)  # XGBoost's rule: the last metric on the line
    assert not last.update(0, [("train", "rmse", 2.0), ("train", "mae", 1.0)])
    assert last.metric == "mae"
    assert last.update(1, [("train", "rmse", 1.0), ("train", "mae", 1.5)])


def test_checkpoints_keep_the_last_five_and_resume_from_the_newest_loadable(
    tmp_path: Path,
) -> None:
    import xgboost

    data = xgboost.DMatrix(np.arange(20.0).reshape(10, 2), label=np.arange(10.0))
    params = {"objective": "reg:squarederror", "max_depth": 2}
    booster = xgboost.Booster(params, [data])
    folder = tmp_path / "checkpoints"
    for round_ in range(7):
        booster.update(data, round_)
        save_checkpoint(booster, folder, round_)
    assert checkpoint_rounds(folder) == [2, 3, 4, 5, 6]
    assert sorted(p.name for p in folder.iterdir())[0] == "xgboost-checkpoint.2"  # no temp files

    found = load_latest(folder, params, [data])
    assert found is not None
    assert found[1] == "xgboost-checkpoint.6"
    assert found[0].num_boosted_rounds() == 7

    (folder / "xgboost-checkpoint.6").write_bytes(b"torn")
    found = load_latest(folder, params, [data])
    assert found is not None and found[1] == "xgboost-checkpoint.5"
    assert load_latest(tmp_path / "none", params, [data]) is None
