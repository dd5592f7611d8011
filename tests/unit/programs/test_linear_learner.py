"""The linear learner program: its light spec, configuration, losses, metrics and log lines."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sageyard.jobs.metrics import MetricExtractor
from sageyard.programs import program, program_for_image
from sageyard.programs._common import AlgorithmError, ProgramContext
from sageyard.programs.linear_learner import spec
from sageyard.programs.linear_learner.config import AUTO_NUM_MODELS, parse_config
from sageyard.tuning.autotune import autotune_ranges

HEAVY = ["numpy", "scipy", "sklearn", "pandas", "pyarrow", "torch"]
BINARY = {"predictor_type": "binary_classifier"}


def test_the_spec_and_config_import_no_heavy_library() -> None:
    code = (
        "import json, sys\n"
        "import sageyard.programs.linear_learner.spec, sageyard.programs.linear_learner.config\n"
        "from sageyard.programs import program\n"
        "assert program('linear-learner').metric_definitions\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_algorithm_is_shipped_under_its_name_and_image() -> None:
    assert program("linear-learner") is spec.PROGRAM
    image = "174872318107.dkr.ecr.us-west-2.amazonaws.com/linear-learner:1"
    assert program_for_image(image) is spec.PROGRAM
    names = [d.name for d in spec.PROGRAM.metric_definitions]
    assert len(names) == len(set(names))
    for channel in ("validation", "test"):
        for metric in (
            "binary_classification_accuracy",
            "objective_loss",
            "rmse",
            "mse",
            "absolute_loss",
            "multiclass_accuracy",
            "precision",
            "recall",
            "binary_f_beta",
            "roc_auc_score",
        ):
            assert f"{channel}:{metric}" in names


# -- configuration --------------------------------------------------------------------------------


def test_defaults_follow_the_container() -> None:
    config, notes = parse_config(dict(BINARY))
    assert (config.loss, config.optimizer, config.epochs, config.mini_batch_size) == (
        "logistic",
        "adam",
        15,
        1000,
    )
    assert config.num_models == AUTO_NUM_MODELS
    assert config.normalize_data and not config.normalize_label and config.use_bias
    assert config.binary_classifier_model_selection_criteria == "accuracy"
    assert config.positive_example_weight_mult == 1.0 and config.l1 == 0.0 and config.wd == 0.0
    assert notes == []
    regressor, _ = parse_config({"predictor_type": "regressor"})
    assert regressor.loss == "squared_loss" and regressor.normalize_label
    multiclass, _ = parse_config({"predictor_type": "multiclass_classifier", "num_classes": "4"})
    assert multiclass.loss == "softmax_loss" and multiclass.outputs == 4


def test_one_model_when_the_rate_is_given_or_tuned() -> None:
    assert parse_config({**BINARY, "learning_rate": "0.05"})[0].num_models == 1
    assert parse_config({**BINARY, "_tuning_objective_metric": "x"})[0].num_models == 1
    assert parse_config({**BINARY, "num_models": "3"})[0].num_models == 3


def test_auto_and_numbers_are_read() -> None:
    config, notes = parse_config(
        {
            "predictor_type": "regressor",
            "learning_rate": "0.2",
            "l1": "0.001",
            "wd": "auto",
            "optimizer": "sgd",
            "momentum": "0.9",
            "feature_dim": "8",
            "lr_scheduler_step": "10",
            "positive_example_weight_mult": "balanced",
            "normalize_label": "false",
            "use_bias": "false",
            "force_dense": "true",
        }
    )
    assert (config.learning_rate, config.l1, config.wd, config.momentum) == (0.2, 0.001, 0.0, 0.9)
    assert (config.feature_dim, config.lr_scheduler_step) == (8, 10)
    assert not config.normalize_label and not config.unbias_data and not config.use_bias
    # accepted, but said to have no effect
    assert any("positive_example_weight_mult" in n and "regressor" in n for n in notes)
    assert any("force_dense" in n for n in notes)
    balanced, _ = parse_config({**BINARY, "positive_example_weight_mult": "balanced"})
    assert balanced.positive_example_weight_mult is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, "Hyperparameter predictor_type is required"),
        ({"predictor_type": "classifier"}, "choose from binary_classifier, multiclass_classifier"),
        ({"predictor_type": "multiclass_classifier"}, "num_classes is required"),
        ({"predictor_type": "multiclass_classifier", "num_classes": "2"}, "must be >= 3"),
        ({**BINARY, "loss": "squared_loss"}, "does not fit predictor_type=binary_classifier"),
        ({**BINARY, "loss": "made_up"}, "is not valid; choose from"),
        ({**BINARY, "learning_rate": "0"}, "'auto' or a number > 0"),
        ({**BINARY, "learning_rate": "fast"}, "'auto' or a number > 0"),
        ({**BINARY, "beta_1": "1.5"}, "'auto' or a number in [0, 1)"),
        ({**BINARY, "wd": "-1"}, "'auto' or a number >= 0"),
        ({**BINARY, "feature_dim": "2.5"}, "'auto' or a positive integer"),
        ({**BINARY, "positive_example_weight_mult": "heavy"}, "'auto', 'balanced' or a number"),
        ({**BINARY, "epochs": "0"}, "must be >= 1"),
        ({**BINARY, "use_bias": "maybe"}, "must be true or false"),
        ({**BINARY, "num_round": "10"}, "'num_round' is not a hyperparameter"),
    ],
)
def test_bad_hyperparameters_are_named(raw: dict[str, str], expected: str) -> None:
    with pytest.raises(AlgorithmError, match=r"^ClientError: ") as caught:
        parse_config(raw)
    assert expected in str(caught.value)


def test_tunable_ranges_are_sagemakers_and_every_value_is_accepted() -> None:
    ranges = autotune_ranges(dict(BINARY), [], spec.PROGRAM.tunable_ranges)
    assert set(ranges) == {
        "wd",
        "l1",
        "learning_rate",
        "mini_batch_size",
        "use_bias",
        "positive_example_weight_mult",
    }
    assert ranges["learning_rate"].scaling_type == "Logarithmic"
    for predictor in spec.PREDICTOR_TYPES:
        base = {"predictor_type": predictor, "num_classes": "3"}
        for name, parameter in spec.PROGRAM.tunable_ranges.items():
            values = getattr(parameter, "values", None) or [
                parameter.min_value,
                parameter.max_value,
            ]
            for value in values:
                parse_config({**base, name: str(value)})


# -- losses and metrics ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss",
    [
        "logistic",
        "hinge_loss",
        "softmax_loss",
        "squared_loss",
        "absolute_loss",
        "eps_insensitive_squared_loss",
        "eps_insensitive_absolute_loss",
        "quantile_loss",
        "huber_loss",
    ],
)
def test_each_gradient_matches_its_loss(loss: str) -> None:
    from sageyard.programs.linear_learner.losses import LossSettings, loss_and_gradient

    random = np.random.default_rng(0)
    outputs = 3 if loss == "softmax_loss" else 1
    scores = random.normal(0, 2, (2, 40, outputs))
    if loss == "softmax_loss":
        labels = random.integers(0, 3, 40).astype(float)
    elif loss in ("logistic", "hinge_loss"):
        labels = random.integers(0, 2, 40).astype(float)
    else:
        labels = random.normal(0, 2, 40)
    settings = LossSettings(margin=1.0, quantile=0.3, insensitivity=0.1, huber_delta=0.7)
    value, grad = loss_and_gradient(loss, scores, labels, settings)
    assert value.shape == (2, 40) and grad.shape == scores.shape
    step = 1e-6
    for output in range(outputs):
        moved = scores.copy()
        moved[..., output] += step
        numeric = (loss_and_gradient(loss, moved, labels, settings)[0] - value) / step
        # kinks (hinge, absolute, …) are measure zero for random scores
        np.testing.assert_allclose(numeric, grad[..., output], atol=1e-4)


def test_thresholds_follow_the_selection_criterion() -> None:
    from sageyard.programs.linear_learner.metrics import binary_metrics, choose_threshold

    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05])
    labels = np.array([1, 1, 1, 0, 1, 0, 1, 0, 0, 0])
    threshold, accuracy = choose_threshold(scores, labels, "accuracy", 0.8, 0.8, 1.0)
    assert accuracy == 0.8 and 0.4 < threshold < 0.8
    threshold, recall = choose_threshold(
        scores, labels, "recall_at_target_precision", 1.0, 0.8, 1.0
    )
    assert recall == 0.6 and 0.7 < threshold < 0.8  # the three highest are all positive
    threshold, precision = choose_threshold(
        scores, labels, "precision_at_target_recall", 0.8, 1.0, 1.0
    )
    assert precision == pytest.approx(5 / 7) and 0.2 < threshold < 0.3
    assert choose_threshold(scores, labels, "loss_function", 0.8, 0.8, 1.0)[0] == 0.5
    metrics = {name: value for name, _, value in binary_metrics(scores, labels, 0.5, 1.0)}
    assert metrics["binary_classification_accuracy"] == 0.8
    assert metrics["precision"] == 0.8 and metrics["recall"] == 0.8
    assert metrics["binary_f_1.000"] == pytest.approx(0.8)
    assert 0.5 < metrics["roc_auc_score"] <= 1.0


def test_the_saved_model_scores_raw_rows_like_the_normalised_model(tmp_path: Path) -> None:
    from sageyard.programs.linear_learner.model import LinearModel, Scaler

    config, _ = parse_config({"predictor_type": "regressor"})
    random = np.random.default_rng(0)
    rows = random.normal(3, 2, (20, 4))
    scaler = Scaler(rows.mean(0), rows.std(0), label_mean=7.0, label_scale=3.0)
    weights, bias = random.normal(size=(4, 1)), np.array([0.5])
    model = LinearModel.from_normalized(config, weights, bias, scaler, None, {"x": 1})
    expected = (scaler.features(rows) @ weights + bias) * 3.0 + 7.0
    np.testing.assert_allclose(model.scores(rows), expected)
    model.save(tmp_path / "model_algo-1")
    loaded = LinearModel.load(tmp_path / "model_algo-1")
    np.testing.assert_allclose(loaded.scores(rows), expected)
    raw = json.loads((tmp_path / "model_algo-1").read_text())
    assert raw["format"] == "sageyard/linear-learner/1" and raw["predictor_type"] == "regressor"
    assert np.asarray(raw["weights"]).shape == (4, 1) and raw["hyperparameters"] == {"x": 1}


def test_learning_rates_spread_around_the_first() -> None:
    from sageyard.programs.linear_learner.model import learning_rates

    config, _ = parse_config({**BINARY, "learning_rate": "0.01", "num_models": "5"})
    np.testing.assert_allclose(
        learning_rates(config), [0.01, 0.01 / 10**0.5, 0.01 * 10**0.5, 0.001, 0.1]
    )


# -- the program, in process ----------------------------------------------------------------------


def _context(
    tmp_path: Path, hyperparameters: dict[str, str], channels: dict[str, str]
) -> ProgramContext:
    data = tmp_path / "data"
    for name, text in channels.items():
        (data / name).mkdir(parents=True)
        (data / name / "part.csv").write_text(text)
    return ProgramContext(
        hyperparameters=hyperparameters,
        input_data_config={name: {"ContentType": "text/csv"} for name in channels},
        input_data_dir=data,
        model_dir=tmp_path / "model",
        output_data_dir=tmp_path / "output",
        failure_file=tmp_path / "failure",
        checkpoint_dir=tmp_path / "checkpoints",
        current_host="algo-1",
        hosts=["algo-1"],
    )


def _csv(labels: np.ndarray, rows: np.ndarray) -> str:
    return (
        "\n".join(
            ",".join(f"{v:.6g}" for v in (label, *row))
            for label, row in zip(labels, rows, strict=True)
        )
        + "\n"
    )


def _problem(predictor: str, rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    random = np.random.default_rng(seed)
    features = random.normal(size=(rows, 3))
    if predictor == "regressor":
        return 2.0 * features[:, 0] - features[:, 1] + 4.0 + random.normal(0, 0.1, rows), features
    if predictor == "binary_classifier":
        return (features[:, 0] + features[:, 1] > 0).astype(float), features
    return np.argmax(features, axis=1).astype(float), features


EXPECTED = {
    "binary_classifier": [
        "binary_classification_accuracy",
        "binary_f_beta",
        "precision",
        "recall",
        "roc_auc_score",
    ],
    "multiclass_classifier": [
        "multiclass_accuracy",
        "multiclass_top_k_accuracy",
        "dcg",
        "macro_precision",
        "macro_recall",
        "macro_f_beta",
    ],
    "regressor": ["mse", "rmse", "absolute_loss"],
}


LOGGED_AS = {
    "binary_f_beta": "binary_f_1.000",
    "macro_f_beta": "macro_f_1.000",
    "multiclass_top_k_accuracy": "multiclass_top_k_accuracy_3",
}


@pytest.mark.parametrize("predictor", spec.PREDICTOR_TYPES)
def test_the_program_logs_lines_its_metric_definitions_read(
    predictor: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sageyard.programs.linear_learner.__main__ import MODEL_FILE, main

    channels = {
        name: _csv(*_problem(predictor, rows, seed))
        for name, rows, seed in (("train", 400, 1), ("validation", 100, 2), ("test", 100, 3))
    }
    hyperparameters = {"predictor_type": predictor, "mini_batch_size": "50", "epochs": "10"}
    if predictor == "multiclass_classifier":
        hyperparameters["num_classes"] = "3"
    caplog.set_level(logging.INFO, logger="sageyard.programs.linear_learner")
    main(_context(tmp_path, hyperparameters, channels))

    assert (tmp_path / "model" / MODEL_FILE).is_file()
    points = MetricExtractor(spec.PROGRAM.metric_definitions).feed(caplog.messages)
    final = {p.metric_name: p.value for p in points}
    epochs = [p.value for p in points if p.metric_name == "validation:objective_loss"]
    assert len(epochs) >= 2
    assert "train:objective_loss" in final and final["train:progress"] > 0
    for channel in ("train", "validation", "test"):
        assert f"{channel}:objective_loss:final" in final or channel == "test"
    expected = {f"{c}:{m}" for c in ("validation", "test") for m in EXPECTED[predictor]}
    assert expected <= set(final)
    others = {m for p, names in EXPECTED.items() if p != predictor for m in names}
    assert not {n for n in final if n.split(":")[1] in others}
    # each definition reads its own line: rmse is not mse, precision is not macro_precision
    logged = {}
    for message in caplog.messages:
        if message.startswith("#quality_metric") and "epoch=" not in message:
            head, value = message.rsplit("=", 1)  # "…, validation mse <loss>", "3.2"
            logged[head.split(", ", 1)[1].rsplit(" ", 1)[0]] = float(value)
    for name in expected:
        channel, metric = name.split(":")
        assert final[name] == logged[f"{channel} {LOGGED_AS.get(metric, metric)}"], name
    if predictor == "regressor":
        assert final["test:rmse"] == pytest.approx(final["test:mse"] ** 0.5)
        assert final["test:rmse"] < 0.3
    elif predictor == "binary_classifier":
        assert final["test:binary_classification_accuracy"] > 0.9
    else:
        assert final["test:multiclass_accuracy"] > 0.85


@pytest.mark.parametrize(
    ("hyperparameters", "train", "expected"),
    [
        (BINARY, "2,1,1\n0,1,2\n", "row 1 has label 2; a binary_classifier needs labels 0 and 1"),
        (
            {"predictor_type": "multiclass_classifier", "num_classes": "3"},
            "0,1\n3,2\n",
            "row 2 has label 3; with num_classes=3",
        ),
        (BINARY, "yes,1\n0,2\n", "'yes' is not a number"),
        ({**BINARY, "feature_dim": "4"}, "1,1,1\n0,1,2\n", "has 2 feature columns"),
        (BINARY, "1,1,\n0,1,2\n", "row 1, feature column 2 is empty"),
    ],
)
def test_bad_data_is_a_client_error(
    tmp_path: Path, hyperparameters: dict[str, str], train: str, expected: str
) -> None:
    from sageyard.programs.linear_learner.__main__ import main

    with pytest.raises(AlgorithmError, match=r"^ClientError: ") as caught:
        main(_context(tmp_path, hyperparameters, {"train": train}))
    assert expected in str(caught.value)


def test_a_validation_channel_must_have_the_training_columns(tmp_path: Path) -> None:
    from sageyard.programs.linear_learner.__main__ import main

    ctx = _context(tmp_path, BINARY, {"train": "1,1,1\n0,1,2\n", "validation": "1,1\n0,2\n"})
    with pytest.raises(AlgorithmError, match="'validation' channel has 1 feature columns"):
        main(ctx)


def test_pipe_mode_is_refused(tmp_path: Path) -> None:
    from sageyard.programs.linear_learner.__main__ import main

    ctx = _context(tmp_path, BINARY, {"train": "1,1,1\n0,1,2\n"})
    ctx.input_data_config["train"]["TrainingInputMode"] = "Pipe"
    with pytest.raises(AlgorithmError, match="'train' channel uses Pipe input mode"):
        main(ctx)


def test_parquet_is_read_with_the_label_first_and_needs_features(tmp_path: Path) -> None:
    import pandas as pd

    from sageyard.programs.linear_learner.__main__ import MODEL_FILE, main

    labels, features = _problem("regressor", 200, 4)
    folder = tmp_path / "data" / "train"
    folder.mkdir(parents=True)
    frame = pd.DataFrame({"y": labels, **{f"x{i}": features[:, i] for i in range(3)}})
    frame.to_parquet(folder / "part.parquet")
    ctx = ProgramContext(
        hyperparameters={"predictor_type": "regressor", "mini_batch_size": "20"},
        input_data_config={"train": {}},  # no ContentType: .parquet files are parquet
        input_data_dir=tmp_path / "data",
        model_dir=tmp_path / "model",
        output_data_dir=tmp_path / "output",
        failure_file=tmp_path / "failure",
        checkpoint_dir=tmp_path / "checkpoints",
        current_host="algo-1",
        hosts=["algo-1"],
    )
    main(ctx)
    model = json.loads((tmp_path / "model" / MODEL_FILE).read_text())
    np.testing.assert_allclose(np.asarray(model["weights"])[:, 0], [2.0, -1.0, 0.0], atol=0.1)

    frame[["y"]].to_parquet(folder / "part.parquet")
    with pytest.raises(AlgorithmError, match="no feature columns"):
        main(ctx)
