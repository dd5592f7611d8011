"""The caller's side of a ``sageyard server``: local code and channels uploaded (once, by
content) and named by URI, every path checked before anything is uploaded; the server's
error codes raised as the error tree's; the endpoint setting checked and bringing S3."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sageyard.core.exceptions import (
    ConfigurationError,
    ResourceInUse,
    ResourceLimitExceeded,
    ResourceNotFound,
)
from sageyard.core.session import Session
from sageyard.core.settings import Settings
from sageyard.jobs.remote import _raise_from, upload_local_files
from sageyard.storage import ObjectStore, object_store_for

BUCKET = "sagemaker-us-west-2-000000000000"


@pytest.fixture
def objects(sageyard_home: Path) -> ObjectStore:
    return object_store_for(Settings.from_env())


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    (folder / "pkg").mkdir(parents=True)
    (folder / "train.py").write_text("print('hi')\n")
    (folder / "pkg" / "util.py").write_text("X = 1\n")
    (folder / "notes.log").write_text("not sent\n")
    return folder


def request(code: Path | str, *channels: dict[str, Any], **extension: Any) -> dict[str, Any]:
    return {
        "RoleArn": "arn:aws:iam::000000000000:role/R",
        "InputDataConfig": list(channels),
        "Sageyard": {
            "SourceCode": {
                "SourceDir": str(code),
                "EntryScript": "train.py",
                "IgnorePatterns": ["*.log"],
            },
            **extension,
        },
    }


def local(name: str, path: Path) -> dict[str, Any]:
    return {"ChannelName": name, "DataSource": {"LocalPath": str(path)}}


def files(objects: ObjectStore, uri: str) -> list[str]:
    return sorted(u.removeprefix(uri + "/") for u in objects.list(uri + "/"))


def test_local_code_and_channels_are_uploaded_and_named_by_uri(
    objects: ObjectStore, code: Path, tmp_path: Path
) -> None:
    (tmp_path / "rows.jsonl").write_text("{}\n")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w.bin").write_bytes(b"w")
    s3 = {"ChannelName": "test", "DataSource": {"S3DataSource": {"S3Uri": "s3://b/t"}}}
    given = request(
        code,
        local("train", tmp_path / "rows.jsonl"),
        s3,
        ModelChannel=local("model", tmp_path / "model"),
        BaseJobName="j",
    )
    sent = upload_local_files(given, objects, BUCKET)
    source = sent["Sageyard"]["SourceCode"]
    assert source["SourceDir"].startswith(f"s3://{BUCKET}/sageyard-inputs/code-")
    assert files(objects, source["SourceDir"]) == ["pkg/util.py", "train.py"]  # *.log ignored
    assert source["EntryScript"] == "train.py" and sent["Sageyard"]["BaseJobName"] == "j"
    train, test = sent["InputDataConfig"]
    uri = train["DataSource"]["S3DataSource"]["S3Uri"]
    assert train["DataSource"]["S3DataSource"]["S3DataType"] == "S3Prefix"
    assert files(objects, uri) == ["rows.jsonl"]  # a file channel: its folder
    assert test == s3  # S3 channels as they were
    model = sent["Sageyard"]["ModelChannel"]["DataSource"]["S3DataSource"]["S3Uri"]
    assert files(objects, model) == ["w.bin"]
    assert given["InputDataConfig"][0]["DataSource"] == {"LocalPath": str(tmp_path / "rows.jsonl")}
    # the same files again: the same URIs, nothing uploaded anew
    before = objects.list(f"s3://{BUCKET}/")
    assert upload_local_files(given, objects, BUCKET) == sent
    assert objects.list(f"s3://{BUCKET}/") == before


def test_other_ignore_patterns_make_another_snapshot(objects: ObjectStore, code: Path) -> None:
    first = upload_local_files(request(code), objects, BUCKET)["Sageyard"]["SourceCode"]
    given = request(code)
    given["Sageyard"]["SourceCode"]["IgnorePatterns"] = ["pkg"]
    second = upload_local_files(given, objects, BUCKET)["Sageyard"]["SourceCode"]
    assert second["SourceDir"] != first["SourceDir"]
    assert files(objects, second["SourceDir"]) == ["notes.log", "train.py"]


def test_a_source_archive_is_uploaded_as_it_is(
    objects: ObjectStore, code: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(code / "train.py", arcname="train.py")
    sent = upload_local_files(request(archive), objects, BUCKET)
    uri = sent["Sageyard"]["SourceCode"]["SourceDir"]
    assert uri.endswith("/sourcedir.tar.gz") and objects.exists(uri)


def test_a_missing_path_is_refused_before_anything_is_uploaded(
    objects: ObjectStore, code: Path, tmp_path: Path
) -> None:
    given = request(code, local("train", tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match=r"missing does not exist on this machine"):
        upload_local_files(given, objects, BUCKET)
    with pytest.raises(ConfigurationError, match=r"'nope\.py' is not in source_dir"):
        bad = request(code)
        bad["Sageyard"]["SourceCode"]["EntryScript"] = "nope.py"
        upload_local_files(bad, objects, BUCKET)
    assert objects.list(f"s3://{BUCKET}/") == []


def test_a_request_without_local_files_is_sent_as_it_is(objects: ObjectStore) -> None:
    given = {"RoleArn": "r", "AlgorithmSpecification": {"TrainingImage": "i"}}
    assert upload_local_files(given, objects, BUCKET) == given


def _client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeTrainingJob")


@pytest.mark.parametrize(
    ("code", "message", "raised"),
    [
        ("ValidationException", "Requested resource not found: Training job 'x'", ResourceNotFound),
        ("ResourceNotFound", "Tuning job 't' does not exist", ResourceNotFound),
        ("ResourceInUse", "taken", ResourceInUse),
        ("ResourceLimitExceeded", "quota", ResourceLimitExceeded),
        ("ValidationException", "MaxRuntimeInSeconds must be", ConfigurationError),
    ],
)
def test_the_servers_errors_are_the_error_trees(
    code: str, message: str, raised: type[Exception]
) -> None:
    with pytest.raises(raised) as caught:
        _raise_from(_client_error(code, message))
    assert message.removeprefix("Requested resource not found: ") in str(caught.value)


def test_other_errors_stay_as_the_server_sent_them() -> None:
    error = _client_error("ServiceUnavailable", "the store is down")
    with pytest.raises(ClientError) as caught:
        _raise_from(error)
    assert caught.value is error


def test_the_endpoint_is_checked_and_brings_the_servers_s3() -> None:
    settings = Settings.from_env({"SAGEYARD_ENDPOINT_URL": "http://127.0.0.1:8080/"})
    assert settings.endpoint_url == "http://127.0.0.1:8080"
    assert settings.s3_endpoint_url == "http://127.0.0.1:8080/"
    own = Settings.from_env(
        {"SAGEYARD_ENDPOINT_URL": "http://h:1", "SAGEYARD_S3_ENDPOINT_URL": "http://s3:9000"}
    )
    assert own.s3_endpoint_url == "http://s3:9000"
    session = Session(endpoint_url="https://sageyard.example:8443")
    assert session.settings.endpoint_url == "https://sageyard.example:8443"
    assert session.settings.s3_endpoint_url == "https://sageyard.example:8443"
    for bad in ("127.0.0.1:8080", "ftp://h", "http://h:1/api"):
        with pytest.raises(ConfigurationError, match="is not a server's address"):
            Settings.from_env({"SAGEYARD_ENDPOINT_URL": bad})
    with pytest.raises(ConfigurationError, match="endpoint_url='nowhere'"):
        _ = Session(endpoint_url="nowhere").settings
