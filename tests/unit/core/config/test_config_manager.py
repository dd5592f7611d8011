"""``sageyard.core.config``: the real SDK's config.yaml, found, merged, checked and resolved."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sageyard.core.config import (
    TRAINING_JOB_ROLE_ARN_PATH,
    SageMakerConfig,
    load_sagemaker_config,
    validate_sagemaker_config,
)
from sageyard.core.exceptions import ConfigurationError


def _write(path: Path, document: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(autouse=True)
def _no_machine_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "etc"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SAGEMAKER_ADMIN_CONFIG_OVERRIDE", raising=False)
    monkeypatch.delenv("SAGEMAKER_USER_CONFIG_OVERRIDE", raising=False)


def test_no_files_is_an_empty_configuration() -> None:
    assert load_sagemaker_config() == {}


def test_admin_then_user_then_additional_merged_key_by_key(tmp_path: Path) -> None:
    _write(
        tmp_path / "etc" / "sagemaker" / "config.yaml",
        {
            "SchemaVersion": "1.0",
            "SageMaker": {"TrainingJob": {"RoleArn": "arn:admin", "Environment": {"A": "1"}}},
        },
    )
    _write(
        tmp_path / "home" / "sagemaker" / "config.yaml",
        {"SchemaVersion": "1.0", "SageMaker": {"TrainingJob": {"Environment": {"B": "2"}}}},
    )
    extra = _write(
        tmp_path / "extra" / "config.yaml",
        {"SchemaVersion": "1.0", "SageMaker": {"TrainingJob": {"RoleArn": "arn:extra"}}},
    )
    config = load_sagemaker_config([str(extra.parent)])  # a folder holding config.yaml
    job = config["SageMaker"]["TrainingJob"]
    assert job == {"RoleArn": "arn:extra", "Environment": {"A": "1", "B": "2"}}


def test_the_override_variables_win_and_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = _write(
        tmp_path / "mine.yaml",
        {"SchemaVersion": "1.0", "SageMaker": {"TrainingJob": {"RoleArn": "arn:mine"}}},
    )
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(user))
    config = load_sagemaker_config()
    assert SageMakerConfig.get_config_value(TRAINING_JOB_ROLE_ARN_PATH, config) == "arn:mine"
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigurationError, match=r"No SageMaker configuration file at .*missing"):
        load_sagemaker_config()


def test_an_s3_configuration_is_read_through_the_resource_given() -> None:
    class Body:
        def read(self) -> bytes:
            return b"SchemaVersion: '1.0'\nSageMaker:\n  TrainingJob:\n    RoleArn: arn:s3\n"

    class Resource:
        asked: list[tuple[str, str]] = []

        def Object(self, bucket: str, key: str) -> object:  # boto3's name
            self.asked.append((bucket, key))
            if not key.endswith("config.yaml"):
                raise KeyError(key)
            return type("O", (), {"get": lambda _self: {"Body": Body()}})()

    resource = Resource()
    config = load_sagemaker_config(["s3://bucket/team"], s3_resource=resource)
    assert config["SageMaker"]["TrainingJob"]["RoleArn"] == "arn:s3"
    assert resource.asked == [("bucket", "team"), ("bucket", "team/config.yaml")]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"SageMaker": {}}, "SchemaVersion None"),
        ({"SchemaVersion": "1.0", "SageMaker": {"TrainingJob": {"RoleArn": 3}}}, "RoleArn must"),
        (
            {"SchemaVersion": "1.0", "SageMaker": {"TrainingJob": {"Tags": [{"K": "v"}]}}},
            "Key: ..., Value",
        ),
    ],
)
def test_a_bad_configuration_names_its_file_and_key(
    tmp_path: Path, document: dict, message: str
) -> None:
    bad = _write(tmp_path / "bad.yaml", document)
    with pytest.raises(ConfigurationError, match=message) as error:
        load_sagemaker_config([str(bad)])
    assert str(bad) in str(error.value)
    with pytest.raises(ConfigurationError):
        validate_sagemaker_config(document)


def test_resolve_prefers_the_direct_input_then_the_configuration_then_the_default() -> None:
    config = {"SchemaVersion": "1.0", "SageMaker": {"TrainingJob": {"RoleArn": "arn:conf"}}}
    manager = SageMakerConfig()
    path = TRAINING_JOB_ROLE_ARN_PATH
    assert manager.resolve_value_from_config("arn:mine", path, "d", sagemaker_config=config) == (
        "arn:mine"
    )
    assert manager.resolve_value_from_config(None, path, "d", sagemaker_config=config) == (
        "arn:conf"
    )
    assert manager.resolve_value_from_config(None, "SageMaker.Nope", "d", None, config) == "d"
    session = type("S", (), {"sagemaker_config": config})()
    assert manager.resolve_value_from_config(config_path=path, sagemaker_session=session) == (
        "arn:conf"
    )
