"""ModelTrainer as the real SDK's behaves: defaults when built, argument-less builders,
checkpoint and TensorBoard configs without URIs, ``train(dry_run=True)``,
``create_input_data_channel`` and local mode's instance types."""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.core.session import Session
from sageyard.train import ModelTrainer
from sageyard.train._request import training_job_request
from sageyard.train.configs import (
    CheckpointConfig,
    Compute,
    InputData,
    SourceCode,
    StoppingCondition,
    TensorBoardOutputConfig,
)
from tests.unit.train.test_request_validation import IMAGE, assert_nothing_written


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "train.py").write_text("print('hi')\n")
    return folder


def _trainer(code_dir: Path, **kwargs: object) -> ModelTrainer:
    return ModelTrainer(
        training_image=IMAGE,
        source_code=SourceCode(source_dir=str(code_dir), entry_script="train.py"),
        **kwargs,  # type: ignore[arg-type]
    )


def test_defaults_are_filled_in_when_built(sageyard_home: Path, code_dir: Path) -> None:
    trainer = _trainer(code_dir)
    assert trainer.compute == Compute(instance_type="ml.m5.xlarge", instance_count=1)
    assert trainer.compute.volume_size_in_gb == 30
    assert trainer.stopping_condition == StoppingCondition(max_runtime_in_seconds=86400)
    assert trainer.base_job_name == "pytorch-training-job"
    assert trainer.output_data_config is not None
    assert trainer.output_data_config.s3_output_path == (
        f"s3://{Session().default_bucket()}/pytorch-training-job"
    )
    assert trainer.role and trainer.role.startswith("arn:aws:iam::")
    assert (trainer.hyperparameters, trainer.environment) == ({}, {})


def test_given_values_are_kept_and_only_gaps_filled(sageyard_home: Path, code_dir: Path) -> None:
    trainer = _trainer(
        code_dir,
        compute=Compute(instance_count=2),
        stopping_condition=StoppingCondition(max_pending_time_in_seconds=60),
        base_job_name="mine",
    )
    assert (trainer.compute.instance_type, trainer.compute.instance_count) == ("ml.m5.xlarge", 2)
    assert trainer.stopping_condition.max_runtime_in_seconds == 86400
    assert trainer.stopping_condition.max_pending_time_in_seconds == 60
    assert trainer.base_job_name == "mine"


def test_a_hyperparameters_file_is_read_when_built(
    sageyard_home: Path, code_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "hps.yaml"
    path.write_text("epochs: 3\nlr: 0.1\n")
    assert _trainer(code_dir, hyperparameters=str(path)).hyperparameters == {"epochs": 3, "lr": 0.1}


def test_argument_less_builders(sageyard_home: Path, code_dir: Path) -> None:
    trainer = _trainer(code_dir).with_infra_check_config().with_session_chaining_config()
    trainer.with_checkpoint_config().with_tensorboard_output_config()
    request = training_job_request(trainer, trainer._session())
    bucket = Session().default_bucket()
    assert request["InfraCheckConfig"] == {"EnableInfraCheck": True}
    assert request["SessionChainingConfig"] == {"EnableSessionTagChaining": True}
    assert request["CheckpointConfig"] == {
        "S3Uri": f"s3://{bucket}/pytorch-training-job/checkpoints",
        "LocalPath": "/opt/ml/checkpoints",
    }
    assert request["TensorBoardOutputConfig"]["S3OutputPath"] == (
        f"s3://{bucket}/pytorch-training-job"
    )


def test_configs_without_uris_get_the_defaults(sageyard_home: Path, code_dir: Path) -> None:
    trainer = _trainer(code_dir, checkpoint_config=CheckpointConfig(local_path="/tmp/ckpt"))
    trainer.with_tensorboard_output_config(TensorBoardOutputConfig(local_path="/tmp/tb"))
    request = training_job_request(trainer, trainer._session())
    assert request["CheckpointConfig"]["LocalPath"] == "/tmp/ckpt"
    assert request["CheckpointConfig"]["S3Uri"].endswith("/pytorch-training-job/checkpoints")
    assert request["TensorBoardOutputConfig"]["LocalPath"] == "/tmp/tb"


def test_dry_run_checks_everything_and_creates_nothing(
    sageyard_home: Path, code_dir: Path, tmp_path: Path
) -> None:
    assert _trainer(code_dir).train(dry_run=True) is None
    missing = InputData(channel_name="train", data_source=str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="nowhere"):
        _trainer(code_dir).train(input_data_config=[missing], dry_run=True)
    assert_nothing_written(sageyard_home)


def test_create_input_data_channel_as_the_real_sdk(
    sageyard_home: Path, code_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("1,2\n")
    trainer = _trainer(code_dir, sagemaker_session=Session(default_bucket_prefix="team"))
    bucket = trainer._session().default_bucket()
    default = trainer.create_input_data_channel("train", str(data))
    assert isinstance(default, InputData)
    assert default.data_source == f"s3://{bucket}/team/pytorch-training-job/input/train"
    keyed = trainer.create_input_data_channel("train", str(data), key_prefix="datasets/v1")
    assert keyed.data_source == f"s3://{bucket}/team/datasets/v1/train"  # + channel_name
    grouped = trainer.create_input_data_channel(
        "lookup", "s3://bucket/lookup", instance_group_names=["readers"], kms_key="alias/k"
    )
    s3 = grouped.data_source.s3_data_source  # type: ignore[union-attr]
    assert (s3.s3_uri, s3.instance_group_names) == ("s3://bucket/lookup", ["readers"])


@pytest.mark.parametrize("instance_type", ["local", "local_cpu", "local_gpu"])
def test_local_modes_instance_types(instance_type: str) -> None:
    assert Compute(instance_type=instance_type).instance_type == instance_type


def test_tags_in_every_spelling(sageyard_home: Path, code_dir: Path) -> None:
    from sageyard.core.parameter import ContinuousParameter
    from sageyard.train import _tuning_request
    from sageyard.train.configs import Tag
    from sageyard.train.tuner import HyperparameterTuner

    spellings = [Tag(key="a", value="1"), {"key": "b", "value": "2"}, {"Key": "c", "Value": "3"}]
    expected = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}, {"Key": "c", "Value": "3"}]
    trainer = _trainer(code_dir, tags=spellings)
    assert training_job_request(trainer, trainer._session())["Tags"] == expected
    tuner = HyperparameterTuner(
        _trainer(code_dir),
        objective_metric_name="loss",
        hyperparameter_ranges={"lr": ContinuousParameter(0.1, 1.0)},
        metric_definitions=[{"Name": "loss", "Regex": "loss=([0-9.]+)"}],
        objective_type="Minimize",
        tags=spellings,
    )
    request = _tuning_request.tuning_job_request(tuner, tuner._session(), None)
    assert request["Tags"] == expected


def test_the_tuners_session_is_its_trainers(sageyard_home: Path, code_dir: Path) -> None:
    from sageyard.core.parameter import ContinuousParameter
    from sageyard.train.tuner import HyperparameterTuner

    session = Session()
    tuner = HyperparameterTuner(
        _trainer(code_dir, sagemaker_session=session),
        objective_metric_name="loss",
        hyperparameter_ranges={"lr": ContinuousParameter(0.1, 1.0)},
        metric_definitions=[{"Name": "loss", "Regex": "loss=([0-9.]+)"}],
    )
    assert tuner.sagemaker_session is session


def test_a_local_tar_gz_source_dir(sageyard_home: Path, code_dir: Path, tmp_path: Path) -> None:
    import tarfile

    archive = tmp_path / "code.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(code_dir / "train.py", arcname="train.py")
    trainer = ModelTrainer(
        training_image=IMAGE,
        source_code=SourceCode(source_dir=str(archive), entry_script="train.py"),
    )
    assert trainer.train(dry_run=True) is None
    missing = ModelTrainer(
        training_image=IMAGE, source_code=SourceCode(source_dir=str(archive), entry_script="x.py")
    )
    with pytest.raises(ValueError, match=r"'x\.py' is not in the source_dir archive"):
        missing.train(dry_run=True)


def test_input_s3_key_prefix_and_output_data(
    sageyard_home: Path, code_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("1\n")
    trainer = _trainer(code_dir, input_s3_key_prefix="pipelines/p1")
    channel = trainer.create_input_data_channel("train", str(data))
    assert channel.data_source.endswith("/pipelines/p1/input/train")  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="Call train"):
        _ = trainer.output_data
    with pytest.raises(AttributeError, match="from_recipe"):
        trainer.get_resolved_recipe()
