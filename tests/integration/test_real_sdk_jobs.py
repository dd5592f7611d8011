"""Real jobs from what real-SDK code sends: a ``sourcedir.tar.gz`` in S3, a
``ModelPackageConfig``, and defaults from the SDK's ``config.yaml``."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import yaml

from sageyard.core.resources import ModelPackage
from sageyard.core.session import Session
from sageyard.train.configs import SourceCode
from tests.integration.conftest import MakeTrainer

SCRIPT = """
    import os
    print("HELLO", os.environ.get("TEAM", "-"))
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
        f.write("weights")
"""


def _log(trainer: object) -> str:
    job = trainer._latest_training_job  # type: ignore[attr-defined]
    return "\n".join(job.logs())


def test_a_sourcedir_tar_gz_in_s3_is_unpacked_on_the_host(
    make_trainer: MakeTrainer, code_dir: object, tmp_path: Path
) -> None:
    folder = code_dir(SCRIPT)  # type: ignore[operator]
    archive = tmp_path / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder / "train.py", arcname="train.py")
    uri = Session().upload_data(str(archive), key_prefix="code")
    assert uri.endswith("/code/sourcedir.tar.gz")
    trainer = make_trainer(None, source_code=SourceCode(source_dir=uri, entry_script="train.py"))
    trainer.train(logs=False)
    assert "HELLO -" in _log(trainer)

    missing = make_trainer(
        None, source_code=SourceCode(source_dir=uri + ".nope.tar.gz", entry_script="train.py")
    )
    with pytest.raises(ValueError, match="does not exist in the object store"):
        missing.train(dry_run=True)


def test_model_package_config_registers_the_jobs_model(make_trainer: MakeTrainer) -> None:
    from sageyard.core.shapes import ModelPackageConfig

    arn = "arn:aws:sagemaker:us-west-2:000000000000:model-package-group/my-custom-models"
    trainer = make_trainer(
        SCRIPT, model_package_config=ModelPackageConfig(model_package_group_arn=arn)
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None
    assert job.model_package_config.model_package_group_arn == arn
    package = ModelPackage.get(job.output_model_package_arn)
    assert package.model_package_group_name == "my-custom-models"
    assert package.training_job_name == job.training_job_name


def test_config_yaml_defaults_reach_the_job(
    make_trainer: MakeTrainer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "SchemaVersion": "1.0",
                "SageMaker": {
                    "PythonSDK": {"Modules": {"Session": {"DefaultS3Bucket": "team-bucket"}}},
                    "TrainingJob": {
                        "Environment": {"TEAM": "vision"},
                        "RoleArn": "arn:aws:iam::000000000000:role/TeamRole",
                        "Tags": [{"Key": "team", "Value": "vision"}],
                    },
                },
            }
        )
    )
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(config))
    trainer = make_trainer(SCRIPT)
    assert trainer.role == "arn:aws:iam::000000000000:role/TeamRole"
    trainer.train(logs=False)
    assert "HELLO vision" in _log(trainer)
    job = trainer._latest_training_job
    assert job is not None
    assert job.output_data_config.s3_output_path.startswith("s3://team-bucket/")
    assert job.environment == {"TEAM": "vision"}


def test_a_dataset_source_channel_reads_the_registered_data(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    from sageyard.ai_registry.dataset import DataSet
    from sageyard.train.configs import DatasetSource, InputData

    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"prompt": "a", "completion": "b"}\n')
    dataset = DataSet.create("my-rows", str(rows))
    trainer = make_trainer(
        """
        import os
        print("FILES", sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"])))
        """
    )
    trainer.train(
        input_data_config=[
            InputData(channel_name="train", data_source=DatasetSource(dataset_arn=dataset.arn))
        ],
        logs=False,
    )
    assert "FILES ['rows.jsonl']" in _log(trainer)
