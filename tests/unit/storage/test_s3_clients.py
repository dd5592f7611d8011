"""One boto3 S3 client per process for the same endpoint, region and credentials: making
one loads botocore's service models (~0.1 s), and a supervisor opens several stores per job."""

from __future__ import annotations

import os

import pytest

from sageyard.storage.s3 import S3ObjectStore, preload


def test_stores_of_one_endpoint_share_a_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    first = S3ObjectStore("http://127.0.0.1:1", "us-west-2")
    second = S3ObjectStore("http://127.0.0.1:1", "us-west-2")
    assert first.client is second.client
    assert S3ObjectStore("http://127.0.0.1:2", "us-west-2").client is not first.client
    assert S3ObjectStore("http://127.0.0.1:1", "eu-west-1").client is not first.client


def test_other_credentials_get_a_client_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    before = S3ObjectStore("http://127.0.0.1:1", "us-west-2").client
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "other")
    after = S3ObjectStore("http://127.0.0.1:1", "us-west-2").client
    assert after is not before
    assert after._request_signer._credentials.access_key == "other"


def test_a_forked_child_never_uses_its_parents_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    parent = S3ObjectStore("http://127.0.0.1:1", "us-west-2").client
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a client of its own
        child = S3ObjectStore("http://127.0.0.1:1", "us-west-2").client
        os.write(write, b"own" if child is not parent else b"shared")
        os._exit(0)
    os.close(write)
    said = os.read(read, 16)
    os.waitpid(pid, 0)
    assert said == b"own"


def test_a_forked_child_makes_its_client_from_the_models_its_parent_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    preload("http://127.0.0.1:1", "us-west-2")  # what a fork server does while idle
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a client of its own, no model read again
        from botocore import loaders

        def refuse(*args: object) -> None:
            raise AssertionError("a model was read again")

        loaders.JSONFileLoader.load_file = refuse  # type: ignore[method-assign]
        try:
            client = S3ObjectStore("http://127.0.0.1:1", "us-west-2").client
            said = b"ok" if client.meta.region_name == "us-west-2" else b"region"
        except AssertionError:
            said = b"read again"
        os.write(write, said)
        os._exit(0)
    os.close(write)
    said = os.read(read, 16)
    os.waitpid(pid, 0)
    assert said == b"ok"


def test_sessions_on_the_shared_loader_keep_its_search_path_short() -> None:
    for _ in range(3):
        S3ObjectStore("http://127.0.0.1:3", "us-west-2").client  # noqa: B018
        preload()
    from sageyard.storage import s3

    paths = s3._loader.search_paths
    assert len(paths) == len(set(paths))
