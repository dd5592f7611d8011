"""The conformance suite of the :class:`~sageyard.storage.ObjectStore` interface."""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.core.exceptions import ConfigurationError, StorageError
from sageyard.storage import ObjectStore, download_prefix, resolve_local_source, upload_path

_DATASET_KEYS = [
    "data/train/part-0.csv",
    "data/train/nested/part-1.csv",
    "data/train.csv",
    "data/train-extra.csv",
    "data/validation/v.csv",
]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _put_text(store: ObjectStore, tmp_path: Path, uri: str, text: str | None = None) -> None:
    src = _write(tmp_path / "src" / "payload", uri if text is None else text)
    store.put_file(src, uri)


def _files_in(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class ObjectStoreSuite:
    """Every rule an :class:`~sageyard.storage.ObjectStore` keeps, as pytest tests.

    Subclass it in a ``Test*`` class and override the ``object_store`` fixture with an
    empty store of your backend; the transfer helpers of :mod:`sageyard.storage`
    (``upload_path``, ``download_prefix``, ``resolve_local_source``) are checked against
    it too, since they are written once over the interface.

    Example:
        >>> class TestLocalObjectStore(ObjectStoreSuite):  # doctest: +SKIP
        ...     @pytest.fixture
        ...     def object_store(self, tmp_path: Path) -> ObjectStore:
        ...         return LocalObjectStore(tmp_path / "objects")
    """

    @pytest.fixture
    def object_store(self) -> ObjectStore:
        """An empty store of the backend under test. Subclasses must override it."""
        raise NotImplementedError(
            f"{type(self).__name__} must override the `object_store` fixture with an empty "
            "ObjectStore of the backend under test."
        )

    @pytest.fixture
    def dataset(self, object_store: ObjectStore, tmp_path: Path) -> ObjectStore:
        """The store holding a few objects under ``s3://bkt/data/``, each holding its key."""
        for key in _DATASET_KEYS:
            _put_text(object_store, tmp_path, f"s3://bkt/{key}", key)
        return object_store

    # -- stat / buckets ------------------------------------------------------------------

    def test_stat_gives_the_size_time_and_an_etag_that_follows_the_content(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        import time

        before = time.time() - 5  # S3 servers keep whole seconds
        _put_text(object_store, tmp_path, "s3://bkt/a/b.txt", "hello")
        info = object_store.stat("s3://bkt/a/b.txt")
        assert info is not None
        assert info.size == 5 and before <= info.modified <= time.time() + 5
        time.sleep(0.01)
        _put_text(object_store, tmp_path, "s3://bkt/a/b.txt", "hello, again")
        again = object_store.stat("s3://bkt/a/b.txt")
        assert again is not None and again.size == 12 and again.etag != info.etag

    def test_stat_of_no_object_is_none(self, object_store: ObjectStore, tmp_path: Path) -> None:
        _put_text(object_store, tmp_path, "s3://bkt/a/b.txt")
        for uri in ("s3://bkt/a/missing", "s3://bkt/a", "s3://bkt/a/", "s3://none-such/x"):
            assert object_store.stat(uri) is None, uri

    def test_buckets_are_listed_sorted(self, object_store: ObjectStore, tmp_path: Path) -> None:
        object_store.ensure_bucket("zeta")
        _put_text(object_store, tmp_path, "s3://alpha/k")
        assert {"alpha", "zeta"} <= set(object_store.buckets())
        assert object_store.buckets() == sorted(object_store.buckets())

    # -- put / get -----------------------------------------------------------------------

    def test_put_then_get_roundtrips_nested_keys(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        uri = "s3://data-bucket/a/b/c/train.csv"
        _put_text(object_store, tmp_path, uri, "x,y\n1,2\n")

        out = tmp_path / "out" / "deep" / "train.csv"
        object_store.get_file(uri, out)

        assert out.read_text() == "x,y\n1,2\n"
        assert [p.name for p in out.parent.iterdir()] == ["train.csv"]  # no temp files left

    def test_put_creates_the_bucket(self, object_store: ObjectStore, tmp_path: Path) -> None:
        _put_text(object_store, tmp_path, "s3://fresh-bucket/k")
        assert object_store.exists("s3://fresh-bucket/k")

    def test_put_overwrites(self, object_store: ObjectStore, tmp_path: Path) -> None:
        uri = "s3://bkt/model/weights.bin"
        _put_text(object_store, tmp_path, uri, "old")
        _put_text(object_store, tmp_path, uri, "new")

        object_store.get_file(uri, tmp_path / "w.bin")
        assert (tmp_path / "w.bin").read_text() == "new"
        assert object_store.list("s3://bkt/model/") == [uri]

    def test_get_overwrites_an_existing_file(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        _put_text(object_store, tmp_path, "s3://bkt/f", "fresh")
        target = _write(tmp_path / "out" / "f", "stale")
        object_store.get_file("s3://bkt/f", target)
        assert target.read_text() == "fresh"

    def test_binary_content_survives(self, object_store: ObjectStore, tmp_path: Path) -> None:
        payload = bytes(range(256)) * 4096
        src = tmp_path / "blob.bin"
        src.write_bytes(payload)
        object_store.put_file(src, "s3://bkt/blob.bin")
        object_store.get_file("s3://bkt/blob.bin", tmp_path / "back.bin")
        assert (tmp_path / "back.bin").read_bytes() == payload

    def test_get_missing_key_names_the_uri(self, object_store: ObjectStore, tmp_path: Path) -> None:
        object_store.ensure_bucket("bkt")
        with pytest.raises(StorageError, match=r"Could not download s3://bkt/nope\.csv: NoSuchKey"):
            object_store.get_file("s3://bkt/nope.csv", tmp_path / "nope.csv")
        assert not (tmp_path / "nope.csv").exists()

    def test_get_from_missing_bucket_names_the_uri(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        with pytest.raises(StorageError, match=r"s3://no-such-bucket/k"):
            object_store.get_file("s3://no-such-bucket/k", tmp_path / "k")

    def test_put_missing_local_file_names_both(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        missing = tmp_path / "missing.txt"
        with pytest.raises(StorageError, match=r"s3://bkt/k.*missing\.txt"):
            object_store.put_file(missing, "s3://bkt/k")

    @pytest.mark.parametrize("uri", ["s3://bkt", "s3://bkt/", "s3://bkt/folder/"])
    def test_object_operations_need_an_object_key(
        self, object_store: ObjectStore, uri: str
    ) -> None:
        with pytest.raises(ConfigurationError, match="not an object"):
            object_store.get_file(uri, Path("unused"))
        with pytest.raises(ConfigurationError, match="not an object"):
            object_store.put_file(Path(__file__), uri)
        with pytest.raises(ConfigurationError, match="not an object"):
            object_store.delete(uri)

    def test_bad_uri_is_a_configuration_error(self, object_store: ObjectStore) -> None:
        with pytest.raises(ConfigurationError, match="s3://bucket/prefix"):
            object_store.list("/local/path")
        with pytest.raises(ConfigurationError, match="Invalid bucket name 'Upper'"):
            object_store.exists("s3://Upper/key")

    # -- list ----------------------------------------------------------------------------

    def test_list_returns_sorted_full_uris_by_key_prefix(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        keys = ["data/train/b.csv", "data/train/a.csv", "data/train2.csv", "data/val/x.csv", "top"]
        for key in keys:
            _put_text(object_store, tmp_path, f"s3://bkt/{key}")

        assert object_store.list("s3://bkt/data/train/") == [
            "s3://bkt/data/train/a.csv",
            "s3://bkt/data/train/b.csv",
        ]
        assert object_store.list("s3://bkt/data/tr") == [
            "s3://bkt/data/train/a.csv",
            "s3://bkt/data/train/b.csv",
            "s3://bkt/data/train2.csv",
        ]
        assert object_store.list("s3://bkt") == sorted(f"s3://bkt/{k}" for k in keys)
        assert object_store.list("s3://bkt/") == sorted(f"s3://bkt/{k}" for k in keys)
        assert object_store.list("s3://bkt/data/train/a.csv") == ["s3://bkt/data/train/a.csv"]
        assert object_store.list("s3://bkt/nothing") == []

    def test_list_of_a_missing_bucket_is_empty(self, object_store: ObjectStore) -> None:
        assert object_store.list("s3://no-such-bucket/prefix") == []
        assert object_store.list("s3://no-such-bucket") == []

    def test_list_pages_through_many_objects(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        folder = tmp_path / "many"
        for i in range(1001):  # S3 returns at most 1000 keys a page
            _write(folder / f"{i:04d}", "1")
        upload_path(object_store, folder, "s3://bkt/many")
        uris = [f"s3://bkt/many/{i:04d}" for i in range(1001)]
        assert object_store.list("s3://bkt/many/") == uris

    # -- delete / exists / ensure_bucket / local_path ------------------------------------

    def test_delete_removes_only_that_object(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        _put_text(object_store, tmp_path, "s3://bkt/d/one")
        _put_text(object_store, tmp_path, "s3://bkt/d/two")

        object_store.delete("s3://bkt/d/one")

        assert not object_store.exists("s3://bkt/d/one")
        assert object_store.list("s3://bkt/") == ["s3://bkt/d/two"]

    def test_delete_of_missing_object_or_bucket_is_fine(self, object_store: ObjectStore) -> None:
        object_store.delete("s3://no-such-bucket/k")
        object_store.ensure_bucket("bkt")
        object_store.delete("s3://bkt/never/was")
        assert object_store.list("s3://bkt") == []

    def test_delete_last_object_then_reuse_prefix(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        _put_text(object_store, tmp_path, "s3://bkt/a/b/c")
        object_store.delete("s3://bkt/a/b/c")
        assert object_store.list("s3://bkt/a") == []
        _put_text(object_store, tmp_path, "s3://bkt/a/b/c", "again")
        assert object_store.list("s3://bkt/a") == ["s3://bkt/a/b/c"]

    def test_exists_is_about_exact_objects(self, object_store: ObjectStore, tmp_path: Path) -> None:
        _put_text(object_store, tmp_path, "s3://bkt/dir/file.txt")

        assert object_store.exists("s3://bkt/dir/file.txt")
        assert not object_store.exists("s3://bkt/dir")
        assert not object_store.exists("s3://bkt/dir/")
        assert not object_store.exists("s3://bkt/dir/file")
        assert not object_store.exists("s3://bkt")
        assert not object_store.exists("s3://no-such-bucket/dir/file.txt")

    def test_ensure_bucket_is_idempotent(self, object_store: ObjectStore) -> None:
        object_store.ensure_bucket("made-here")
        object_store.ensure_bucket("made-here")
        assert object_store.list("s3://made-here") == []

    @pytest.mark.parametrize("bucket", ["ab", "Has-Upper", "under_score", "a" * 64, "bkt/key"])
    def test_ensure_bucket_refuses_bad_names(self, object_store: ObjectStore, bucket: str) -> None:
        with pytest.raises(ConfigurationError, match="Invalid bucket name"):
            object_store.ensure_bucket(bucket)

    def test_local_path_is_none_or_the_backing_file(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        _put_text(object_store, tmp_path, "s3://bkt/dir/file.txt", "content")

        path = object_store.local_path("s3://bkt/dir/file.txt")

        assert path is None or path.read_text() == "content"
        assert object_store.local_path("s3://bkt/dir/missing.txt") is None
        assert object_store.local_path("s3://no-such-bucket/k") is None

    # -- upload_path ---------------------------------------------------------------------

    def test_upload_path_file_goes_under_the_uri(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        src = _write(tmp_path / "train.csv", "rows")

        written = upload_path(object_store, src, "s3://bkt/input/train")

        assert written == "s3://bkt/input/train/train.csv"
        assert object_store.list("s3://bkt/") == [written]

    def test_upload_path_folder_with_ignore_patterns(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        src = tmp_path / "source"
        _write(src / "train.py", "print('hi')")
        _write(src / "pkg" / "util.py", "x = 1")
        _write(src / "pkg" / "util.pyc", "bytecode")
        _write(src / "pkg" / "__pycache__" / "util.cpython-311.pyc", "bytecode")
        _write(src / ".git" / "HEAD", "ref")
        _write(src / "data" / ".git", "not a folder here, still ignored")

        written = upload_path(
            object_store, src, "s3://bkt/jobs/j1/source/", ["*.pyc", "__pycache__", ".git"]
        )

        assert written == "s3://bkt/jobs/j1/source"
        assert object_store.list("s3://bkt/") == [
            "s3://bkt/jobs/j1/source/pkg/util.py",
            "s3://bkt/jobs/j1/source/train.py",
        ]

    def test_upload_path_empty_folder_writes_nothing(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        (tmp_path / "empty").mkdir()
        assert upload_path(object_store, tmp_path / "empty", "s3://bkt/e") == "s3://bkt/e"
        assert object_store.list("s3://bkt/") == []

    def test_upload_path_missing_local_path(
        self, object_store: ObjectStore, tmp_path: Path
    ) -> None:
        with pytest.raises(ConfigurationError, match=r"no-such-dir.*no such file or folder"):
            upload_path(object_store, tmp_path / "no-such-dir", "s3://bkt/x")

    # -- download_prefix -----------------------------------------------------------------

    def test_download_prefix_folder(self, dataset: ObjectStore, tmp_path: Path) -> None:
        dest = tmp_path / "channel"
        paths = download_prefix(dataset, "s3://bkt/data/train", dest)

        assert paths == [dest / "nested" / "part-1.csv", dest / "part-0.csv"]
        assert _files_in(dest) == {
            "nested/part-1.csv": "data/train/nested/part-1.csv",
            "part-0.csv": "data/train/part-0.csv",
        }

    def test_download_prefix_folder_with_trailing_slash(
        self, dataset: ObjectStore, tmp_path: Path
    ) -> None:
        dest = tmp_path / "channel"
        download_prefix(dataset, "s3://bkt/data/validation/", dest)
        assert _files_in(dest) == {"v.csv": "data/validation/v.csv"}

    def test_download_prefix_exact_object(self, dataset: ObjectStore, tmp_path: Path) -> None:
        dest = tmp_path / "channel"
        paths = download_prefix(dataset, "s3://bkt/data/train.csv", dest)
        assert paths == [dest / "train.csv"]
        assert _files_in(dest) == {"train.csv": "data/train.csv"}

    def test_download_prefix_raw_key_prefix(self, dataset: ObjectStore, tmp_path: Path) -> None:
        dest = tmp_path / "channel"
        download_prefix(dataset, "s3://bkt/data/train-", dest)
        assert _files_in(dest) == {"train-extra.csv": "data/train-extra.csv"}

        dest2 = tmp_path / "channel2"
        download_prefix(dataset, "s3://bkt/data/val", dest2)
        assert _files_in(dest2) == {"validation/v.csv": "data/validation/v.csv"}

    def test_download_prefix_whole_bucket(self, dataset: ObjectStore, tmp_path: Path) -> None:
        download_prefix(dataset, "s3://bkt", tmp_path / "all")
        assert len(_files_in(tmp_path / "all")) == len(_DATASET_KEYS)

    @pytest.mark.parametrize("uri", ["s3://bkt/data/nothing", "s3://no-such-bucket/data"])
    def test_download_prefix_nothing_found(
        self, dataset: ObjectStore, tmp_path: Path, uri: str
    ) -> None:
        with pytest.raises(StorageError, match=rf"No objects found under {uri} .*upload_data"):
            download_prefix(dataset, uri, tmp_path / "channel")

    # -- zero-copy staging ---------------------------------------------------------------

    def test_resolve_local_source(self, dataset: ObjectStore) -> None:
        folder = resolve_local_source(dataset, "s3://bkt/data/train")
        single = resolve_local_source(dataset, "s3://bkt/data/train.csv")

        assert resolve_local_source(dataset, "s3://bkt/data/tr") is None
        if dataset.local_path("s3://bkt/data/train.csv") is None:  # a remote store
            assert folder is None and single is None
        else:  # objects are files on this disk: staging links them instead of copying
            assert folder is not None and folder.is_dir()
            assert sorted(p.name for p in folder.iterdir()) == ["nested", "part-0.csv"]
            assert single is not None and single.read_text() == "data/train.csv"
