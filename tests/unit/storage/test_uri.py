"""URI helpers, and how the embedded store maps URIs onto its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.storage import LocalObjectStore, is_s3_uri, join_uri, parse_s3_uri

# -- parse_s3_uri ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://my-bucket/data/train.csv", ("my-bucket", "data/train.csv")),
        ("s3://my-bucket/data/", ("my-bucket", "data/")),
        ("s3://my-bucket/", ("my-bucket", "")),
        ("s3://my-bucket", ("my-bucket", "")),
        ("s3://sagemaker-us-west-2-000000000000/a/b", ("sagemaker-us-west-2-000000000000", "a/b")),
        ("s3://my.dotted.bucket/k", ("my.dotted.bucket", "k")),
        ("s3://abc/key with spaces/ü.txt", ("abc", "key with spaces/ü.txt")),
    ],
)
def test_parse_s3_uri(uri: str, expected: tuple[str, str]) -> None:
    assert parse_s3_uri(uri) == expected


@pytest.mark.parametrize("uri", ["/local/path", "bucket/key", "S3://bucket/key", "s3:/b/k", ""])
def test_parse_rejects_non_s3_uris(uri: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_s3_uri(uri)
    message = str(info.value)
    assert f"Not an S3 URI: {uri!r}" in message
    assert "s3://bucket/prefix" in message


@pytest.mark.parametrize("bucket", ["", "ab", "My-Bucket", "under_score", "a" * 64, "sp ace"])
def test_parse_rejects_bad_bucket_names(bucket: str) -> None:
    uri = f"s3://{bucket}/key"
    with pytest.raises(ConfigurationError) as info:
        parse_s3_uri(uri)
    message = str(info.value)
    assert f"Invalid bucket name {bucket!r} in {uri!r}" in message
    assert "3 to 63 lowercase letters" in message
    assert "s3://bucket/prefix" in message


def test_configuration_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_s3_uri("nope")


# -- join_uri ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "parts", "expected"),
    [
        ("s3://b0b/jobs", ("job-1", "output"), "s3://b0b/jobs/job-1/output"),
        ("s3://b0b/jobs/", ("/job-1/", "/model.tar.gz"), "s3://b0b/jobs/job-1/model.tar.gz"),
        ("s3://b0b", ("a/b", "c"), "s3://b0b/a/b/c"),
        ("s3://b0b/", ("", "k"), "s3://b0b/k"),
        ("s3://b0b/prefix/", (), "s3://b0b/prefix"),
        ("s3://b0b", (), "s3://b0b"),
    ],
)
def test_join_uri(base: str, parts: tuple[str, ...], expected: str) -> None:
    assert join_uri(base, *parts) == expected


def test_join_uri_validates_the_base() -> None:
    with pytest.raises(ConfigurationError, match="s3://bucket/prefix"):
        join_uri("/tmp/x", "y")


# -- is_s3_uri ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("s3://b/k", True),
        ("s3://", True),
        ("file:///tmp", False),
        ("/tmp/s3://x", False),
        ("", False),
        (None, False),
        (Path("s3://b/k"), False),
    ],
)
def test_is_s3_uri(value: object, expected: bool) -> None:
    assert is_s3_uri(value) is expected


# -- LocalObjectStore mapping -----------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bkt/../escape",
        "s3://bkt/a/../../escape",
        "s3://bkt/a/..",
        "s3://bkt//etc/passwd",
        "s3://bkt/a//b",
        "s3://bkt/a/./b",
        "s3://bkt/.sageyard-tmp-x",
    ],
)
def test_local_store_refuses_keys_that_escape_or_alias(tmp_path: Path, uri: str) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    src = tmp_path / "f"
    src.write_text("x")
    with pytest.raises(ConfigurationError, match="refuses"):
        store.put_file(src, uri)
    with pytest.raises(ConfigurationError, match="refuses"):
        store.get_file(uri, tmp_path / "out")
    with pytest.raises(ConfigurationError, match="refuses"):
        store.list(uri)
    with pytest.raises(ConfigurationError, match="refuses"):
        store.local_path(uri)
    assert not (tmp_path / "escape").exists()
    assert not (tmp_path / "objects").exists()


def test_local_store_constructor_does_no_io(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "not" / "yet")
    assert store.list("s3://bkt/") == []
    assert store.local_path("s3://bkt") is None
    assert not (tmp_path / "not").exists()


def test_local_path_maps_objects_folders_and_buckets(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = LocalObjectStore(root)
    src = tmp_path / "f.csv"
    src.write_text("rows")
    store.put_file(src, "s3://bkt/data/train/f.csv")

    assert store.local_path("s3://bkt/data/train/f.csv") == root / "bkt/data/train/f.csv"
    assert store.local_path("s3://bkt/data/train") == root / "bkt/data/train"
    assert store.local_path("s3://bkt/data/train/") == root / "bkt/data/train"
    assert store.local_path("s3://bkt") == root / "bkt"
    assert store.local_path("s3://bkt/data/tr") is None
    assert store.local_path("s3://other/x") is None


def test_local_store_writes_leave_no_temp_files(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = LocalObjectStore(root)
    src = tmp_path / "f"
    src.write_text("x")
    for _ in range(3):
        store.put_file(src, "s3://bkt/k")
    assert [p.name for p in (root / "bkt").iterdir()] == ["k"]


def test_local_store_key_cannot_be_object_and_folder(tmp_path: Path) -> None:
    from sageyard.core.exceptions import StorageError

    store = LocalObjectStore(tmp_path / "objects")
    src = tmp_path / "f"
    src.write_text("x")
    store.put_file(src, "s3://bkt/a/b")
    with pytest.raises(StorageError, match=r"Could not upload to s3://bkt/a:.*both an object"):
        store.put_file(src, "s3://bkt/a")
    with pytest.raises(StorageError, match=r"Could not upload to s3://bkt/a/b/c:.*both an"):
        store.put_file(src, "s3://bkt/a/b/c")
    assert store.list("s3://bkt") == ["s3://bkt/a/b"]


def test_local_store_delete_prunes_empty_folders(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = LocalObjectStore(root)
    src = tmp_path / "f"
    src.write_text("x")
    store.put_file(src, "s3://bkt/a/b/c/d")
    store.delete("s3://bkt/a/b/c/d")
    assert list((root / "bkt").iterdir()) == []
    assert store.local_path("s3://bkt/a") is None
