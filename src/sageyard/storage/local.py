"""The embedded object store: one folder per bucket under a root folder.

``s3://bucket/a/b.csv`` is the file ``<root>/bucket/a/b.csv``. Writes go to a temporary file
in the destination folder and are renamed into place, so readers never see half a file.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from sageyard.core.exceptions import ConfigurationError
from sageyard.storage._base import ObjectInfo, no_such_key, storage_error
from sageyard.storage._uri import check_bucket, parse_object_uri, parse_s3_uri

logger = logging.getLogger(__name__)

_TMP_PREFIX = ".sageyard-tmp-"


def _write_atomically(target: Path, fill: Callable[[Path], object]) -> None:
    """Create ``target``'s folder, fill a temporary file beside it, rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        fill(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


class LocalObjectStore:
    """Buckets as folders under ``root``; the default store, under ``Settings.objects_dir``.

    Args:
        root: The folder that holds one sub-folder per bucket. Nothing is created until
            the first write.

    Example:
        >>> store = LocalObjectStore(Path("/tmp/objects"))
        >>> store.put_file(Path("train.csv"), "s3://data/train/train.csv")  # doctest: +SKIP
        >>> store.list("s3://data/train/")  # doctest: +SKIP
        ['s3://data/train/train.csv']
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    # -- mapping URIs to paths -------------------------------------------------------

    def _resolve(self, uri: str, *, prefix: bool = False) -> tuple[str, str, Path]:
        """``(bucket, key, path)`` for ``uri``; refuses keys that would escape the bucket.

        With ``prefix=True`` the key may be empty or end with ``/``.
        """
        bucket, key = parse_s3_uri(uri) if prefix else parse_object_uri(uri)
        body = key[:-1] if key.endswith("/") else key
        parts = body.split("/") if body else []
        for part in parts:
            if part in {"", ".", ".."} or part.startswith(_TMP_PREFIX):
                raise ConfigurationError(
                    f"The key of {uri!r} has an empty, '.', '..' or reserved component "
                    f"({part!r}), which the embedded object store refuses: it would not map "
                    f"to one file under the bucket. Use a key like 'data/train/file.csv'."
                )
        return bucket, key, self.root.joinpath(bucket, *parts)

    # -- ObjectStore ------------------------------------------------------------------

    def ensure_bucket(self, bucket: str) -> None:
        uri = f"s3://{check_bucket(bucket)}"
        try:
            (self.root / bucket).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise storage_error("create bucket", uri, f"{e} (root {self.root})") from e

    def put_file(self, path: Path, uri: str) -> None:
        bucket, _, target = self._resolve(uri)
        path = Path(path)
        if not path.is_file():
            raise storage_error(
                "upload to", uri, f"{str(path)!r} is not a file. Pass the path of a file."
            )
        self.ensure_bucket(bucket)
        for attempt in range(3):
            try:
                _write_atomically(target, lambda tmp: shutil.copyfile(path, tmp))
                return
            except FileNotFoundError:
                # A concurrent delete pruned the empty folder between mkdir and write.
                if attempt == 2 or not path.is_file():
                    raise storage_error("upload to", uri, f"{str(path)!r} vanished") from None
            except (IsADirectoryError, NotADirectoryError, FileExistsError) as e:
                raise storage_error(
                    "upload to",
                    uri,
                    "the embedded store keeps objects as files, so a key cannot be both an "
                    "object and a folder of other objects (here one of "
                    f"{uri!r} and its parent keys already is the other). Use another key.",
                ) from e
            except OSError as e:
                raise storage_error("upload to", uri, f"{e}") from e

    def get_file(self, uri: str, path: Path) -> None:
        _, _, source = self._resolve(uri)
        if not source.is_file():
            raise no_such_key("download", uri)
        try:
            _write_atomically(Path(path), lambda tmp: shutil.copyfile(source, tmp))
        except FileNotFoundError as e:
            if not source.is_file():
                raise no_such_key("download", uri) from e
            raise storage_error("download", uri, f"{e}") from e
        except OSError as e:
            raise storage_error("download", uri, f"{e}") from e

    def list(self, prefix_uri: str) -> list[str]:
        bucket, key, _ = self._resolve(prefix_uri, prefix=True)
        bucket_dir = self.root / bucket
        folder, _, _ = key.rpartition("/")
        start = bucket_dir.joinpath(*folder.split("/")) if folder else bucket_dir
        if not start.is_dir():
            return []
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            rel_dir = Path(dirpath).relative_to(bucket_dir).as_posix()
            base = "" if rel_dir == "." else rel_dir + "/"
            # Descend only into folders whose keys can start with the prefix.
            dirnames[:] = [
                d
                for d in dirnames
                if (base + d + "/").startswith(key) or key.startswith(base + d + "/")
            ]
            for name in filenames:
                k = base + name
                if k.startswith(key) and not name.startswith(_TMP_PREFIX):
                    found.append(f"s3://{bucket}/{k}")
        return sorted(found)

    def delete(self, uri: str) -> None:
        bucket, _, target = self._resolve(uri)
        if target.is_dir():
            return  # a folder of other objects, not an object
        try:
            target.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as e:
            raise storage_error("delete", uri, f"{e}") from e
        # Prune folders left empty, as S3 has no folders of its own.
        bucket_dir = self.root / bucket
        parent = target.parent
        while parent != bucket_dir:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def exists(self, uri: str) -> bool:
        _, key, target = self._resolve(uri, prefix=True)
        return bool(key) and not key.endswith("/") and target.is_file()

    def local_path(self, uri: str) -> Path | None:
        _, _, target = self._resolve(uri, prefix=True)
        return target if target.exists() else None

    def stat(self, uri: str) -> ObjectInfo | None:
        _, key, target = self._resolve(uri, prefix=True)
        if not key or key.endswith("/"):
            return None
        try:
            info = target.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise storage_error("check", uri, f"{e}") from e
        if not stat.S_ISREG(info.st_mode):
            return None
        etag = hashlib.md5(f"{info.st_size}:{info.st_mtime_ns}".encode()).hexdigest()
        return ObjectInfo(info.st_size, info.st_mtime, etag)

    def buckets(self) -> builtins.list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())
