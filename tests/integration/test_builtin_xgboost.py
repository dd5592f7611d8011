"""The built-in XGBoost algorithm as a SageMaker user meets it: real jobs on breast cancer data.

Each test writes scikit-learn's breast cancer data (569 rows, 30 features, label 0/1) in
the container's formats — CSV with the label first and no header, libsvm, parquet — and
runs real jobs of ``python -m sageyard.programs.xgboost``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sageyard.core.exceptions import TrainingJobFailedError
from sageyard.core.parameter import ContinuousParameter
from sageyard.core.resources import TrainingJob
from sageyard.train import ModelTrainer
from sageyard.train.configs import CheckpointConfig, Compute, InputData
from sageyard.train.tuner import HyperparameterTuner
from tests.integration.conftest import tar_members

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
BINARY = {"objective": "binary:logistic", "num_round": 5, "max_depth": 3}


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    features, labels = load_breast_cancer(return_X_y=True)
    return features, labels.astype(float)


def write_csv(folder: Path, features: np.ndarray, labels: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.savetxt(folder / "data.csv", np.column_stack([labels, features]), delimiter=",", fmt="%.10g")
    return folder


def write_libsvm(folder: Path, features: np.ndarray, labels: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{label:g} " + " ".join(f"{i + 1}:{v:.10g}" for i, v in enumerate(row) if v)
        for label, row in zip(labels, features, strict=True)
    ]
    (folder / "data.libsvm").write_text("\n".join(lines) + "\n")
    return folder


def write_parquet(folder: Path, features: np.ndarray, labels: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(np.column_stack([labels, features]))
    frame.columns = ["label"] + [f"f{i}" for i in range(features.shape[1])]
    frame.to_parquet(folder / "data.parquet")
    return folder


WRITERS = {
    "text/csv": write_csv,
    "text/libsvm": write_libsvm,
    "application/x-parquet": write_parquet,
}


def channels(
    tmp_path: Path, cancer: tuple[np.ndarray, np.ndarray], kind: str = "text/csv"
) -> list[InputData]:
    """train (first 400 rows) and validation (the rest), as ``kind``."""
    features, labels = cancer
    write = WRITERS[kind]
    train = write(tmp_path / kind.replace("/", "-") / "train", features[:400], labels[:400])
    validation = write(tmp_path / kind.replace("/", "-") / "val", features[400:], labels[400:])
    content = None if kind == "text/libsvm" else kind  # libsvm is the default
    return [
        InputData(channel_name="train", data_source=str(train), content_type=content),
        InputData(channel_name="validation", data_source=str(validation), content_type=content),
    ]


def trained(trainer: ModelTrainer, inputs: list[InputData]) -> TrainingJob:
    trainer.train(input_data_config=inputs, logs=False)
    job = trainer._latest_training_job
    assert job is not None
    assert job.training_job_status == "Completed", job.failure_reason
    return job


def load_model(job: TrainingJob, tmp_path: Path) -> Any:
    import xgboost

    assert job.model_artifacts is not None
    members = tar_members(job.model_artifacts.s3_model_artifacts, tmp_path)
    assert set(members) == {"xgboost-model"}
    path = tmp_path / "xgboost-model"
    path.write_bytes(members["xgboost-model"])
    with warnings.catch_warnings():  # XGBoost warns that the name has no format suffix
        warnings.simplefilter("ignore", UserWarning)
        return xgboost.Booster(model_file=str(path))


def final(job: TrainingJob) -> dict[str, float]:
    return {m.metric_name: m.value for m in job.final_metric_data_list or []}


def round_lines(job: TrainingJob) -> list[str]:
    return [line for line in job.logs() if line.startswith("[") and "]#011" in line]


def test_a_csv_job_logs_like_the_container_and_its_model_predicts(
    tmp_path: Path, cancer: tuple[np.ndarray, np.ndarray]
) -> None:
    import xgboost

    trainer = ModelTrainer(
        algorithm_name="xgboost", hyperparameters={**BINARY, "eval_metric": "logloss,auc"}
    )
    job = trained(trainer, channels(tmp_path, cancer))

    lines = round_lines(job)
    assert len(lines) == 5
    assert lines[0].startswith("[0]#011train-logloss:")
    assert "#011validation-auc:" in lines[-1]
    metrics = final(job)
    assert metrics["validation:auc"] > 0.95
    assert 0 < metrics["train:logloss"] < metrics["validation:logloss"] + 0.2
    assert {"train:auc", "validation:logloss"} <= set(metrics)

    booster = load_model(job, tmp_path)
    features, labels = cancer
    predicted = booster.predict(xgboost.DMatrix(features[400:]))
    assert np.mean((predicted > 0.5) == labels[400:]) > 0.9


@pytest.mark.parametrize("kind", ["text/libsvm", "application/x-parquet"])
def test_libsvm_and_parquet_data_train_the_image_uri_way(
    tmp_path: Path, cancer: tuple[np.ndarray, np.ndarray], kind: str
) -> None:
    trainer = ModelTrainer(training_image=IMAGE, hyperparameters=BINARY)
    job = trained(trainer, channels(tmp_path, cancer, kind))
    described = job.describe()["AlgorithmSpecification"]
    assert described["TrainingImage"] == IMAGE
    assert any(d["Name"] == "validation:auc" for d in described["MetricDefinitions"])
    metrics = final(job)
    assert set(metrics) == {"train:logloss", "validation:logloss"}  # the objective's default
    assert metrics["validation:logloss"] < 0.4
    assert load_model(job, tmp_path).num_boosted_rounds() == 5


def test_tuning_on_validation_auc_needs_no_metric_definitions(
    tmp_path: Path, cancer: tuple[np.ndarray, np.ndarray]
) -> None:
    trainer = ModelTrainer(
        algorithm_name="xgboost",
        hyperparameters=BINARY,
        input_data_config=channels(tmp_path, cancer),
    )
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name="validation:auc",
        hyperparameter_ranges={"eta": ContinuousParameter(0.1, 0.5)},
        max_jobs=3,
        max_parallel_jobs=3,
    )
    tuner.tune()

    described = tuner.describe()
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == 3
    best = described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    assert best["MetricName"] == "validation:auc"
    assert best["Value"] > 0.95


def test_a_job_resumes_from_its_checkpoints_and_ends_as_an_uninterrupted_one(
    tmp_path: Path, cancer: tuple[np.ndarray, np.ndarray]
) -> None:
    import xgboost

    inputs = channels(tmp_path, cancer)
    # No row/column sampling: XGBoost reseeds its samplers in a new process, so only
    # deterministic training can end bit-for-bit where an uninterrupted run does.
    hyperparameters = {**BINARY, "eta": 0.5}
    checkpoints = CheckpointConfig(s3_uri="s3://checkpoints/xgboost")

    first = ModelTrainer(
        algorithm_name="xgboost",
        hyperparameters={**hyperparameters, "num_round": 3},
        checkpoint_config=checkpoints,
    )
    trained(first, inputs)
    second = ModelTrainer(
        algorithm_name="xgboost", hyperparameters=hyperparameters, checkpoint_config=checkpoints
    )
    resumed = trained(second, inputs)
    whole = trained(ModelTrainer(algorithm_name="xgboost", hyperparameters=hyperparameters), inputs)

    logs = "\n".join(resumed.logs())
    assert "Resuming from checkpoint xgboost-checkpoint.2: 3 of 5 rounds done" in logs
    assert [line.split("#", 1)[0] for line in round_lines(resumed)] == ["[3]", "[4]"]
    data = xgboost.DMatrix(cancer[0])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    resumed_model = load_model(resumed, tmp_path / "a")
    whole_model = load_model(whole, tmp_path / "b")
    assert resumed_model.num_boosted_rounds() == 5
    np.testing.assert_allclose(resumed_model.predict(data), whole_model.predict(data), rtol=1e-6)


def test_two_hosts_train_one_model_on_their_shares_with_xgboosts_collective(
    tmp_path: Path, cancer: tuple[np.ndarray, np.ndarray]
) -> None:
    from sageyard.core.helper.session_helper import Session
    from sageyard.train.configs import Channel, DataSource, S3DataSource

    features, labels = cancer
    folder = tmp_path / "shards"
    for index, rows in enumerate((slice(0, 200), slice(200, 400))):  # one file per host
        write_csv(folder / str(index), features[rows], labels[rows])
        (folder / str(index) / "data.csv").rename(folder / f"part-{index}.csv")
    prefix = Session().upload_data(str(folder), key_prefix=f"shards-{tmp_path.name}")
    sharded = Channel(
        channel_name="train",
        content_type="text/csv",
        data_source=DataSource(
            s3_data_source=S3DataSource(s3_uri=prefix, s3_data_distribution_type="ShardedByS3Key")
        ),
    )
    hyperparameters = {**BINARY, "eval_metric": "logloss"}
    trainer = ModelTrainer(
        algorithm_name="xgboost",
        hyperparameters=hyperparameters,
        compute=Compute(instance_count=2),
    )
    job = trained(trainer, [sharded])
    logs = job.logs()
    assert sum("with XGBoost's collective" in line for line in logs) == 2  # each host joined
    assert [line.split("]", 1)[0] for line in logs if "Train matrix has" in line] == [
        "[algo-1",
        "[algo-2",
    ]
    assert all("Train matrix has 200 rows" in x for x in logs if "Train matrix has" in x)
    assert len(round_lines(job)) == 5  # algo-1 logs the rounds (each host's would repeat)
    # one model of both shares: what one host trains on all 400 rows
    whole = trained(
        ModelTrainer(algorithm_name="xgboost", hyperparameters=hyperparameters),
        [channels(tmp_path, cancer)[0]],
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    together, alone = load_model(job, tmp_path / "a"), load_model(whole, tmp_path / "b")
    import xgboost

    data = xgboost.DMatrix(features)
    np.testing.assert_allclose(together.predict(data), alone.predict(data), rtol=1e-5)
    assert final(job)["train:logloss"] == pytest.approx(final(whole)["train:logloss"], rel=1e-5)


def _bad_csv(tmp_path: Path, text: str) -> list[InputData]:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "data.csv").write_text(text)
    return [InputData(channel_name="train", data_source=str(folder), content_type="text/csv")]


def _bad_libsvm(tmp_path: Path, text: str) -> list[InputData]:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "data.libsvm").write_text(text)
    return [InputData(channel_name="train", data_source=str(folder))]


FAILURES = {
    "ragged rows": (
        lambda p, c: _bad_csv(p, "1,0.5,0.25\n0,0.5\n"),
        {},
        ["data.csv, line 2", "2 columns where the data has 3"],
    ),
    "a header row": (
        lambda p, c: _bad_csv(p, "label,a,b\n1,0.5,0.25\n"),
        {},
        ["data.csv, line 1", "'label' is not a number", "no header row"],
    ),
    "a non-numeric cell": (
        lambda p, c: _bad_csv(p, "1,0.5,0.25\n0,abc,0.1\n"),
        {},
        ["line 2, column 2", "'abc' is not a number"],
    ),
    "libsvm with bad indices": (
        lambda p, c: _bad_libsvm(p, "1 1:0.5 2:0.3\n0 x:0.1\n"),
        {},
        ["data.libsvm, line 2", "'x:0.1' is not 'index:value'"],
    ),
    "CSV data without a content type": (
        lambda p, c: _bad_libsvm(p, "1,0.5,0.25\n"),
        {},
        ["'1,0.5,0.25' is not a number", "read as text/libsvm", "content_type='text/csv'"],
    ),
    "no train channel": (
        lambda p, c: channels(p, c)[1:],
        {},
        ["needs a 'train' channel", "channels given: validation"],
    ),
    "num_round=0": (
        lambda p, c: channels(p, c),
        {"num_round": 0},
        ["num_round=0", "must be >= 1"],
    ),
    "an unknown hyperparameter": (
        lambda p, c: channels(p, c),
        {"max_dept": 3},
        ["'max_dept' is not a hyperparameter of the XGBoost algorithm"],
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_mistakes_fail_the_job_with_a_reason_that_says_what_is_wrong(
    tmp_path: Path, cancer: tuple[np.ndarray, np.ndarray], case: str
) -> None:
    make_inputs, hyperparameters, expected = FAILURES[case]
    trainer = ModelTrainer(algorithm_name="xgboost", hyperparameters={**BINARY, **hyperparameters})

    with pytest.raises(TrainingJobFailedError) as failed:
        trainer.train(input_data_config=make_inputs(tmp_path, cancer), logs=False)

    reason = failed.value.failure_reason or ""
    assert failed.value.status == "Failed"
    for part in expected:
        assert part in reason
    assert reason.startswith("ClientError: ")
    assert "Traceback" not in reason
