"""Session and get_execution_role, as in the reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.train import Session, get_execution_role

ROLE = "arn:aws:iam::123456789012:role/MyRole"


def test_get_execution_role_without_a_role() -> None:
    with pytest.raises(ValueError, match="SAGEYARD_ROLE"):
        get_execution_role()


def test_get_execution_role_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEYARD_ROLE", ROLE)
    assert get_execution_role() == ROLE
    assert Session().get_execution_role() == ROLE


def test_session_role_override() -> None:
    session = Session(role=ROLE)
    assert get_execution_role(session) == ROLE
    assert session.get_execution_role() == ROLE


def test_session_settings_follow_the_environment(sageyard_home: Path) -> None:
    settings = Session(region_name="eu-west-1").settings
    assert settings.home == sageyard_home
    assert settings.region == "eu-west-1"
    assert Session().boto_region_name == "us-west-2"


def test_unknown_session_setting() -> None:
    session = Session(bogus=1)  # construction does no work
    with pytest.raises(ValueError, match="bogus"):
        _ = session.settings


def test_session_construction_writes_nothing(sageyard_home: Path) -> None:
    Session()
    assert not sageyard_home.exists()


def test_the_real_constructor_keywords_and_order(sageyard_home: Path) -> None:
    import inspect

    names = list(inspect.signature(Session).parameters)
    assert names[:9] == [
        "boto_session",
        "sagemaker_client",
        "sagemaker_runtime_client",
        "sagemaker_featurestore_runtime_client",
        "default_bucket",
        "sagemaker_config",
        "settings",
        "sagemaker_metrics_client",
        "default_bucket_prefix",
    ]

    class BotoSession:
        region_name = "ap-south-1"

    config = {
        "SchemaVersion": "1.0",
        "SageMaker": {
            "PythonSDK": {
                "Modules": {
                    "Session": {
                        "DefaultS3Bucket": "team-bucket",
                        "DefaultS3ObjectKeyPrefix": "team/prefix",
                    }
                }
            }
        },
    }
    session = Session(BotoSession(), sagemaker_config=config)
    assert session.boto_region_name == "ap-south-1"
    assert (session.default_bucket(), session.default_bucket_prefix) == (
        "team-bucket",
        "team/prefix",
    )
    assert session.account_id() == "000000000000"


def test_upload_data_uses_the_default_prefix_and_calls_back(
    sageyard_home: Path, tmp_path: Path
) -> None:
    data = tmp_path / "train.csv"
    data.write_text("1,2\n")
    sizes: list[int] = []
    session = Session(default_bucket_prefix="team")
    uri = session.upload_data(str(data), key_prefix="datasets", callback=sizes.append)
    assert uri == f"s3://{session.default_bucket()}/team/datasets/train.csv"
    assert sizes == [4]
    explicit = session.upload_data(str(data), bucket="other-bucket", key_prefix="raw")
    assert explicit == "s3://other-bucket/raw/train.csv"  # an explicit bucket: no prefix


def test_strings_in_and_out_of_s3(sageyard_home: Path) -> None:
    session = Session()
    uri = session.upload_string_as_file_body("hello ✓", "notes-bucket", "a/b.txt")
    assert uri == "s3://notes-bucket/a/b.txt"
    assert session.read_s3_file("notes-bucket", "a/b.txt") == "hello ✓"
    session.upload_string_as_file_body(b"x", "notes-bucket", "a/c.txt")
    assert session.list_s3_files("notes-bucket", "a/") == ["a/b.txt", "a/c.txt"]


def test_role_and_bucket_helpers_as_the_real_session(sageyard_home: Path) -> None:
    session = Session(default_bucket_prefix="team")
    assert session.expand_role("MyRole") == "arn:aws:iam::000000000000:role/MyRole"
    assert session.expand_role(ROLE) == ROLE
    assert session.get_caller_identity_arn().startswith("arn:aws:iam::000000000000:role/")
    assert session.determine_bucket_and_prefix("given", "data") == ("given", "data")
    assert session.determine_bucket_and_prefix(key_prefix="data") == (
        session.default_bucket(),
        "team/data",
    )
    assert Session().determine_bucket_and_prefix() == (Session().default_bucket(), None)
