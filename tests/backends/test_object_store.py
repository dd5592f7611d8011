"""The ObjectStore contract (``sageyard.testing.ObjectStoreSuite``) on each backend: the
embedded store and S3 over a moto server; then what only the S3 backend has."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sageyard.core.exceptions import StorageError
from sageyard.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from sageyard.testing import ObjectStoreSuite
from tests.conftest import MOTO_REGION, reset_moto


class TestLocalObjectStore(ObjectStoreSuite):
    @pytest.fixture
    def object_store(self, tmp_path: Path) -> ObjectStore:
        return LocalObjectStore(tmp_path / "objects")


class TestS3ObjectStore(ObjectStoreSuite):
    @pytest.fixture
    def object_store(self, moto_endpoint: str) -> ObjectStore:
        reset_moto(moto_endpoint)
        return S3ObjectStore(moto_endpoint, MOTO_REGION)


# -- S3 specifics ------------------------------------------------------------------------


def test_s3_bucket_in_us_east_1(moto_endpoint: str, tmp_path: Path) -> None:
    store = S3ObjectStore(moto_endpoint, "us-east-1")
    store.ensure_bucket("east-bucket")
    src = tmp_path / "payload"
    src.write_text("v")
    store.put_file(src, "s3://east-bucket/k")
    assert store.list("s3://east-bucket") == ["s3://east-bucket/k"]
    assert store.local_path("s3://east-bucket/k") is None


def test_s3_unreachable_endpoint_names_the_uri(
    moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = S3ObjectStore(f"http://127.0.0.1:{port}", "us-west-2")
    with pytest.raises(StorageError, match=r"Could not list s3://bkt/x: .*SAGEYARD_S3_ENDPOINT"):
        store.list("s3://bkt/x")


def test_s3_store_constructor_does_no_io() -> None:
    store = S3ObjectStore("http://127.0.0.1:1", "us-west-2")
    assert store._client is None
