"""Local inputs uploaded for a cluster's nodes: once per content, whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

from sageyard.core.settings import Settings
from sageyard.jobs.inputs import fingerprint, upload_once
from sageyard.storage import object_store_for


def test_the_fingerprint_follows_the_files(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("1\n")
    first = fingerprint(tmp_path / "data")
    assert fingerprint(tmp_path / "data") == first
    (tmp_path / "data" / "b.csv").write_text("2\n")
    second = fingerprint(tmp_path / "data")
    assert second != first
    os.utime(tmp_path / "data" / "a.csv", ns=(1, 1))  # rewritten: a new modification time
    assert fingerprint(tmp_path / "data") != second
    assert fingerprint(tmp_path / "data" / "a.csv") != fingerprint(tmp_path / "data")


def test_an_upload_is_made_once_and_a_partial_one_again(
    sageyard_home: Path, tmp_path: Path
) -> None:
    objects = object_store_for(Settings.from_env())
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1\n")
    uri = upload_once(objects, data, "bucket")
    assert objects.list(uri + "/") == [uri + "/a.csv"] and objects.exists(uri + ".uploaded")
    objects.delete(uri + "/a.csv")
    assert upload_once(objects, data, "bucket") == uri  # whole once: not uploaded again
    assert objects.list(uri + "/") == []
    objects.delete(uri + ".uploaded")  # no marker: an upload that did not finish
    upload_once(objects, data, "bucket")
    assert objects.list(uri + "/") == [uri + "/a.csv"]
