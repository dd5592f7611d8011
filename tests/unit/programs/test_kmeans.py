"""The k-means program: its light spec, its configuration, and its log lines read back."""

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
from sageyard.programs.kmeans import spec
from sageyard.programs.kmeans.config import KMeansConfig, parse_config
from sageyard.tuning.autotune import autotune_ranges

HEAVY = ["numpy", "scipy", "sklearn", "pandas", "pyarrow", "torch"]


def test_the_spec_and_config_import_no_heavy_library() -> None:
    code = (
        "import json, sys\n"
        "import sageyard.programs.kmeans.spec, sageyard.programs.kmeans.config\n"
        "from sageyard.programs import program\n"
        "assert program('kmeans').metric_definitions\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_algorithm_is_shipped_under_its_name_and_image() -> None:
    assert program("kmeans") is spec.PROGRAM
    assert (
        program_for_image("174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1") is spec.PROGRAM
    )
    names = [d.name for d in spec.PROGRAM.metric_definitions]
    assert {"test:msd", "test:ssd", "train:msd", "train:progress"} <= set(names)
    assert len(names) == len(set(names))


def test_defaults_follow_the_container() -> None:
    config, notes = parse_config({"k": "10", "feature_dim": "64"})
    assert config == KMeansConfig(k=10, feature_dim=64)
    assert (config.epochs, config.init_method, config.mini_batch_size) == (1, "random", 5000)
    assert config.extra_center_factor is None and config.local_lloyd_num_trials is None
    assert config.eval_metrics == ("msd",)
    assert notes == []


def test_every_hyperparameter_is_read() -> None:
    config, notes = parse_config(
        {
            "k": "3",
            "feature_dim": "2",
            "epochs": "4",
            "init_method": "kmeans++",
            "mini_batch_size": "100",
            "extra_center_factor": "5",
            "local_lloyd_max_iter": "50",
            "local_lloyd_tol": "0.01",
            "local_lloyd_init_method": "random",
            "local_lloyd_num_trials": "2",
            "half_life_time_size": "10",
            "eval_metrics": '["msd", "ssd"]',
            "force_dense": "True",
            "_tuning_objective_metric": "test:msd",
        }
    )
    assert config == KMeansConfig(
        k=3,
        feature_dim=2,
        epochs=4,
        init_method="kmeans++",
        mini_batch_size=100,
        extra_center_factor=5,
        local_lloyd_max_iter=50,
        local_lloyd_tol=0.01,
        local_lloyd_init_method="random",
        local_lloyd_num_trials=2,
        half_life_time_size=10,
        eval_metrics=("msd", "ssd"),
    )
    assert any("force_dense" in note for note in notes)
    assert any("half_life_time_size" in note for note in notes)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"feature_dim": "64"}, "Hyperparameter k is required"),
        ({"k": "10"}, "Hyperparameter feature_dim is required"),
        ({"k": "0", "feature_dim": "2"}, "k=0 of the k-means algorithm must be >= 1"),
        ({"k": "two", "feature_dim": "2"}, "must be an integer"),
        ({"k": "2", "feature_dim": "2", "init_method": "kmeans"}, "choose from random, kmeans++"),
        ({"k": "2", "feature_dim": "2", "extra_center_factor": "0"}, "'auto' or a positive"),
        ({"k": "2", "feature_dim": "2", "local_lloyd_num_trials": "x"}, "'auto' or a positive"),
        ({"k": "2", "feature_dim": "2", "eval_metrics": '["mse"]'}, "choose from msd, ssd"),
        ({"k": "2", "feature_dim": "2", "eval_metrics": "[]"}, "names no metric"),
        ({"k": "2", "feature_dim": "2", "num_round": "3"}, "'num_round' is not a hyperparameter"),
    ],
)
def test_bad_hyperparameters_are_named(raw: dict[str, str], expected: str) -> None:
    with pytest.raises(AlgorithmError, match=r"^ClientError: ") as caught:
        parse_config(raw)
    assert expected in str(caught.value)


def test_tunable_ranges_are_sagemakers_and_autotune_uses_them() -> None:
    ranges = autotune_ranges({"k": 10, "feature_dim": 64}, [], spec.PROGRAM.tunable_ranges)
    assert set(ranges) == {"extra_center_factor", "init_method", "mini_batch_size", "epochs"}
    assert ranges["mini_batch_size"].is_valid(3000) and ranges["mini_batch_size"].is_valid(15000)
    assert ranges["extra_center_factor"].is_valid(4) and ranges["extra_center_factor"].is_valid(10)
    assert ranges["epochs"].is_valid(1) and ranges["epochs"].is_valid(10)
    assert set(ranges["init_method"].values) == {"random", "kmeans++"}
    for name in spec.PROGRAM.tunable_ranges:
        parse_config(
            {"k": "2", "feature_dim": "2", name: "5" if name != "init_method" else "random"}
        )


def test_sagemakers_documented_regexes_read_the_test_lines() -> None:
    prefix = "[05/16/2021 12:27:47 INFO 1401] "
    lines = [
        prefix + "#quality_metric: host=algo-1, test msd <loss>=0.0641",
        prefix + "#quality_metric: host=algo-1, test ssd <loss>=206.3",
        prefix + "#quality_metric: host=algo-1, train msd <loss>=0.0640",
        prefix + "#progress_metric: host=algo-1, completed 100.0 % of epochs",
    ]
    points = MetricExtractor(spec.PROGRAM.metric_definitions).feed(lines)
    assert {p.metric_name: p.value for p in points} == {
        "test:msd": 0.0641,
        "test:ssd": 206.3,
        "train:msd": 0.064,
        "train:progress": 100.0,
    }


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


def _blobs(rows: int, seed: int) -> np.ndarray:
    random = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    return centers[random.integers(0, 3, rows)] + random.normal(0, 0.5, (rows, 2))


def _csv(rows: np.ndarray) -> str:
    return "\n".join(",".join(f"{v:.6f}" for v in row) for row in rows) + "\n"


def test_the_program_logs_lines_its_metric_definitions_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sageyard.programs.kmeans.__main__ import MODEL_FILE, main

    train, test = _blobs(300, 1), _blobs(60, 2)
    ctx = _context(
        tmp_path,
        {"k": "3", "feature_dim": "2", "eval_metrics": '["msd","ssd"]', "mini_batch_size": "50"},
        {"train": _csv(train), "test": _csv(test)},
    )
    caplog.set_level(logging.INFO, logger="sageyard.programs.kmeans")
    main(ctx)

    centers = np.load(ctx.model_dir / MODEL_FILE)
    assert centers.shape == (3, 2) and centers.dtype == np.float32
    found = sorted(map(tuple, np.round(centers[np.lexsort(centers.T)] / 10)))
    assert found == [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0)]
    points = MetricExtractor(spec.PROGRAM.metric_definitions).feed(caplog.messages)
    metrics = {p.metric_name: p.value for p in points}
    distances = ((test[:, None, :] - centers[None].astype(np.float64)) ** 2).sum(-1).min(1)
    assert metrics["test:msd"] == pytest.approx(distances.mean(), rel=1e-4)
    assert metrics["test:ssd"] == pytest.approx(distances.sum(), rel=1e-4)
    assert metrics["train:msd"] < 1.0 and metrics["train:progress"] == 100.0
    assert "train:throughput" in metrics


def test_the_same_job_gives_the_same_centers(tmp_path: Path) -> None:
    from sageyard.programs.kmeans.__main__ import fit

    data = _blobs(500, 3)
    config = KMeansConfig(k=3, feature_dim=2, epochs=3, init_method="kmeans++", mini_batch_size=64)
    np.testing.assert_array_equal(fit(data, config), fit(data, config))


@pytest.mark.parametrize(
    ("hyperparameters", "train", "expected"),
    [
        (
            {"k": "3", "feature_dim": "5"},
            "1,2\n3,4\n5,6\n",
            "has 2 feature columns, but feature_dim=5",
        ),
        ({"k": "9", "feature_dim": "2"}, "1,2\n3,4\n5,6\n", "k=9 is more than the 3 rows"),
        ({"k": "1", "feature_dim": "2"}, "a,b\n1,2\n", "is not a number"),
        ({"k": "1", "feature_dim": "2"}, "1,2\n3,\n", "row 2, column 2 is empty"),
    ],
)
def test_bad_data_is_a_client_error(
    tmp_path: Path, hyperparameters: dict[str, str], train: str, expected: str
) -> None:
    from sageyard.programs.kmeans.__main__ import main

    with pytest.raises(AlgorithmError, match=r"^ClientError: ") as caught:
        main(_context(tmp_path, hyperparameters, {"train": train}))
    assert expected in str(caught.value)


def test_pipe_mode_is_refused_and_unknown_channels_are_noted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sageyard.programs.kmeans.__main__ import main

    ctx = _context(tmp_path, {"k": "1", "feature_dim": "2"}, {"train": "1,2\n", "extra": "1\n"})
    caplog.set_level(logging.INFO, logger="sageyard.programs.kmeans")
    main(ctx)
    assert "Channel 'extra' is not used: k-means reads 'train' and 'test'." in caplog.messages
    ctx.input_data_config["train"]["TrainingInputMode"] = "Pipe"
    with pytest.raises(AlgorithmError, match="'train' channel uses Pipe input mode"):
        main(ctx)
