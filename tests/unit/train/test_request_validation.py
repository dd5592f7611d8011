"""ModelTrainer refuses a bad request before anything is written (no job folder, no record)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sageyard.core.settings import Settings
from sageyard.executors.local_slots import machine_gpus
from sageyard.jobs.service import TrainingJobService
from sageyard.train import ModelTrainer
from sageyard.train._request import load_hyperparameters
from sageyard.train.configs import (
    Channel,
    Compute,
    DataSource,
    FileSystemDataSource,
    InputData,
    InstanceGroup,
    Mode,
    SourceCode,
    StoppingCondition,
)

IMAGE = "pytorch-training:2.0-cpu-py310"


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "train.py").write_text("print('hello')\n")
    return folder


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.csv").write_text("1,2\n")
    return folder


def trainer(code_dir: Path, **kwargs: Any) -> ModelTrainer:
    values: dict[str, Any] = {
        "training_image": IMAGE,
        "source_code": SourceCode(source_dir=str(code_dir), entry_script="train.py"),
    }
    values.update(kwargs)
    return ModelTrainer(**values)


def assert_nothing_written(home: Path) -> None:
    assert not (home / "jobs").exists()
    files = [p for p in home.rglob("*") if p.is_file()] if home.exists() else []
    # An empty default-bucket folder may exist, and the store opened by the check below.
    assert [p for p in files if not p.name.startswith("store.db")] == []
    assert TrainingJobService(Settings.from_env()).list_jobs() == []


def refused(model_trainer: ModelTrainer, home: Path, match: str) -> ValueError:
    """``train()`` raises a ValueError whose message contains ``match`` and writes nothing."""
    with pytest.raises(ValueError, match=re.escape(match)) as excinfo:
        model_trainer.train(wait=False)
    assert_nothing_written(home)
    return excinfo.value


def limit_exceeded(model_trainer: ModelTrainer, home: Path) -> ClientError:
    with pytest.raises(ClientError) as excinfo:
        model_trainer.train(wait=False)
    assert excinfo.value.response["Error"]["Code"] == "ResourceLimitExceeded"
    assert_nothing_written(home)
    return excinfo.value


# -- construction -----------------------------------------------------------------------------


def test_needs_training_image_or_algorithm_name() -> None:
    with pytest.raises(ValueError, match="neither"):
        ModelTrainer()
    with pytest.raises(ValueError, match="both"):
        ModelTrainer(training_image=IMAGE, algorithm_name="xgboost")


@pytest.mark.parametrize("mode", ["file", "Stream", ""])
def test_bad_training_input_mode(code_dir: Path, mode: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(mode))):
        trainer(code_dir, training_input_mode=mode)
    model_trainer = trainer(code_dir)
    with pytest.raises(ValueError, match=re.escape(repr(mode))):
        model_trainer.training_input_mode = mode


# -- train() refuses before writing -----------------------------------------------------------


def test_unknown_algorithm(sageyard_home: Path) -> None:
    refused(ModelTrainer(algorithm_name="no-such-algorithm"), sageyard_home, "'no-such-algorithm'")


def test_missing_source_dir(sageyard_home: Path, tmp_path: Path) -> None:
    code = SourceCode(source_dir=str(tmp_path / "missing"), entry_script="train.py")
    refused(ModelTrainer(training_image=IMAGE, source_code=code), sageyard_home, "missing")


def test_entry_script_not_in_source_dir(sageyard_home: Path, code_dir: Path) -> None:
    code = SourceCode(source_dir=str(code_dir), entry_script="other.py")
    refused(ModelTrainer(training_image=IMAGE, source_code=code), sageyard_home, "'other.py'")


def test_requirements_not_in_source_dir(sageyard_home: Path, code_dir: Path) -> None:
    code = SourceCode(
        source_dir=str(code_dir), entry_script="train.py", requirements="requirements.txt"
    )
    refused(
        ModelTrainer(training_image=IMAGE, source_code=code), sageyard_home, "'requirements.txt'"
    )


def test_custom_image_without_source_code(sageyard_home: Path, code_dir: Path) -> None:
    refused(ModelTrainer(training_image=IMAGE), sageyard_home, "source_code")
    nothing_to_run = SourceCode(source_dir=str(code_dir))
    refused(
        ModelTrainer(training_image=IMAGE, source_code=nothing_to_run),
        sageyard_home,
        "source_code",
    )


def test_local_channel_path_missing(sageyard_home: Path, code_dir: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-data")
    channel = InputData(channel_name="train", data_source=missing)
    refused(trainer(code_dir, input_data_config=[channel]), sageyard_home, "'train'")


def test_file_system_channel_path_missing(
    sageyard_home: Path, code_dir: Path, tmp_path: Path
) -> None:
    source = FileSystemDataSource(
        file_system_id="fs-1",
        file_system_access_mode="ro",
        file_system_type="EFS",
        directory_path=str(tmp_path / "no-data"),
    )
    channel = Channel(channel_name="train", data_source=DataSource(file_system_data_source=source))
    refused(trainer(code_dir, input_data_config=[channel]), sageyard_home, "does not exist")


def test_s3_channel_with_no_data(sageyard_home: Path, code_dir: Path) -> None:
    channel = InputData(channel_name="train", data_source="s3://empty-bucket/train")
    refused(
        trainer(code_dir, input_data_config=[channel]),
        sageyard_home,
        "no data under s3://empty-bucket/train",
    )


def test_duplicate_channel_names(sageyard_home: Path, code_dir: Path, data_dir: Path) -> None:
    channels = [
        InputData(channel_name="train", data_source=str(data_dir)),
        InputData(channel_name="train", data_source=str(data_dir / "train.csv")),
    ]
    refused(trainer(code_dir, input_data_config=channels), sageyard_home, "unique")


def test_channels_given_to_train_are_checked(sageyard_home: Path, code_dir: Path) -> None:
    channel = InputData(channel_name="train", data_source="/no/such/folder")
    with pytest.raises(ValueError, match="does not exist"):
        trainer(code_dir).train(input_data_config=[channel], wait=False)
    assert_nothing_written(sageyard_home)


def refused_at_construction(home: Path, match: str, **kwargs: Any) -> None:
    """Building the trainer raises a ValueError naming ``match`` (the real ModelTrainer
    reads a hyperparameters file when it is built) and writes nothing."""
    with pytest.raises(ValueError, match=re.escape(match)):
        trainer(**kwargs)
    assert_nothing_written(home)


def test_hyperparameters_file_missing(sageyard_home: Path, code_dir: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "hps.json")
    refused_at_construction(sageyard_home, "hps.json", code_dir=code_dir, hyperparameters=missing)


@pytest.mark.parametrize(
    ("filename", "text"),
    [("hps.json", "[1, 2]"), ("hps.yaml", "- 1\n- 2\n"), ("hps.json", '"epochs"')],
)
def test_hyperparameters_file_not_a_mapping(
    sageyard_home: Path, code_dir: Path, tmp_path: Path, filename: str, text: str
) -> None:
    path = tmp_path / filename
    path.write_text(text)
    refused_at_construction(sageyard_home, "mapping", code_dir=code_dir, hyperparameters=str(path))


def test_hyperparameters_file_unreadable(
    sageyard_home: Path, code_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "hps.json"
    path.write_text("{not json")
    refused_at_construction(sageyard_home, "hps.json", code_dir=code_dir, hyperparameters=str(path))


@pytest.mark.parametrize("filename", ["hps.yaml", "hps.yml"])
def test_yaml_hyperparameters_file(tmp_path: Path, filename: str) -> None:
    path = tmp_path / filename
    path.write_text("epochs: 3\nlearning_rate: 0.1\noptimizer: adam\nlayers: [1, 2]\n")
    assert load_hyperparameters(str(path)) == {
        "epochs": 3,
        "learning_rate": 0.1,
        "optimizer": "adam",
        "layers": [1, 2],
    }


def test_json_hyperparameters_file(tmp_path: Path) -> None:
    values = {"epochs": 3, "learning_rate": 0.1, "use_cuda": False}
    path = tmp_path / "hps.json"
    path.write_text(json.dumps(values))
    assert load_hyperparameters(str(path)) == values
    assert load_hyperparameters(values) == values
    assert load_hyperparameters(None) == {}


def test_spot_without_max_wait(sageyard_home: Path, code_dir: Path) -> None:
    compute = Compute(instance_type="ml.m5.xlarge", enable_managed_spot_training=True)
    refused(trainer(code_dir, compute=compute), sageyard_home, "max_wait_time_in_seconds")


def test_max_wait_without_spot(sageyard_home: Path, code_dir: Path) -> None:
    stopping = StoppingCondition(max_runtime_in_seconds=60, max_wait_time_in_seconds=120)
    refused(trainer(code_dir, stopping_condition=stopping), sageyard_home, "spot")


def test_instance_count_above_quota(
    sageyard_home: Path, code_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_INSTANCE_QUOTA", "2")
    compute = Compute(instance_type="ml.m5.xlarge", instance_count=3)
    error = limit_exceeded(trainer(code_dir, compute=compute), sageyard_home)
    assert "3" in str(error)


def test_instance_groups_above_quota(
    sageyard_home: Path, code_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_INSTANCE_QUOTA", "2")
    groups = [
        InstanceGroup(instance_type="ml.m5.xlarge", instance_count=2, instance_group_name=name)
        for name in ("a", "b")
    ]
    limit_exceeded(trainer(code_dir, compute=Compute(instance_groups=groups)), sageyard_home)


@pytest.fixture
def no_gpus(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    machine_gpus.cache_clear()
    yield
    machine_gpus.cache_clear()


@pytest.mark.usefixtures("no_gpus")
def test_strict_gpu_on_a_machine_without_gpus(
    sageyard_home: Path, code_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_STRICT_GPU", "1")
    compute = Compute(instance_type="ml.p3.2xlarge")
    error = limit_exceeded(trainer(code_dir, compute=compute), sageyard_home)
    assert "SAGEYARD_STRICT_GPU" in str(error)


def test_local_container_without_docker(
    sageyard_home: Path, code_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs as local processes with a warning (issue 10); strict container mode refuses."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-docker.sock'}")
    trainer(code_dir, training_mode=Mode.LOCAL_CONTAINER).train(dry_run=True)  # accepted
    monkeypatch.setenv("SAGEYARD_STRICT_CONTAINER", "1")
    refused(trainer(code_dir, training_mode=Mode.LOCAL_CONTAINER), sageyard_home, "Docker")
