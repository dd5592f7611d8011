"""Folder-level transfers written once against :class:`~sageyard.storage.ObjectStore`.

The job engine uploads source folders and artifacts with :func:`upload_path`, stages input
channels with :func:`download_prefix` (SageMaker ``S3Prefix`` rules), and skips the copy
altogether when :func:`resolve_local_source` finds the data already on this disk.
"""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import TypeVar

from sageyard.core.exceptions import ConfigurationError, StorageError
from sageyard.storage._base import ObjectStore
from sageyard.storage._uri import join_uri, parse_s3_uri

logger = logging.getLogger(__name__)

_WORKERS = 8
_T = TypeVar("_T")


def _ignored(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def _files_under(root: Path, patterns: list[str]) -> list[Path]:
    """Files under ``root`` (following folder links once), skipping ignored names."""
    files: list[Path] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:  # a link cycle
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not _ignored(d, patterns))
        files.extend(Path(dirpath, f) for f in sorted(filenames) if not _ignored(f, patterns))
    return files


def upload_path(
    store: ObjectStore, local: Path, uri: str, ignore_patterns: list[str] | None = None
) -> str:
    """Upload a file or a folder under ``uri``.

    A file goes to ``uri/<file name>``; a folder's files go to ``uri/<path relative to the
    folder>``. Files and folders whose name matches any ``fnmatch`` pattern in
    ``ignore_patterns`` are skipped (a matching folder is skipped with all it holds). The
    bucket is created if missing.

    Args:
        store: Where to upload.
        local: A file or folder on this machine.
        uri: The ``s3://`` prefix to upload under.
        ignore_patterns: Names to skip, e.g. ``["__pycache__", "*.pyc", ".git"]``.

    Returns:
        The URI of the uploaded object for a file, the prefix for a folder (as SageMaker's
        ``Session.upload_data`` does).

    Raises:
        ConfigurationError: ``local`` does not exist or ``uri`` is not an ``s3://`` URI.
        StorageError: An upload failed.

    Example:
        >>> upload_path(store, Path("src"), "s3://jobs/job-1/source", ["*.pyc"])  # doctest: +SKIP
        's3://jobs/job-1/source'
    """
    local = Path(local)
    bucket, _ = parse_s3_uri(uri)
    patterns = list(ignore_patterns or [])
    if local.is_file():
        target = join_uri(uri, local.name)
        store.put_file(local, target)
        return target
    if not local.is_dir():
        raise ConfigurationError(
            f"Cannot upload {str(local)!r}: no such file or folder. Pass an existing path."
        )
    prefix = join_uri(uri)
    files = _files_under(local, patterns)
    if files:
        store.ensure_bucket(bucket)
    jobs = [(f, join_uri(prefix, f.relative_to(local).as_posix())) for f in files]
    _run_all(lambda job: store.put_file(*job), jobs)
    logger.debug("Uploaded %d files from %s to %s", len(jobs), local, prefix)
    return prefix


def _run_all(fn: Callable[[_T], object], items: Sequence[_T]) -> None:
    """Call ``fn`` on every item, a few at a time; the first error propagates."""
    if len(items) <= 1:
        for item in items:
            fn(item)
        return
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(items))) as pool:
        for _ in pool.map(fn, items):
            pass


def _plan(store: ObjectStore, uri: str) -> list[tuple[str, str]]:
    """``(object URI, relative destination)`` pairs for ``uri`` under ``S3Prefix`` rules."""
    bucket, key = parse_s3_uri(uri)
    root = f"s3://{bucket}/"

    def relative(objects: list[str], base: str) -> list[tuple[str, str]]:
        return [(o, o[len(root) + len(base) :]) for o in objects]

    if key == "" or key.endswith("/"):
        return relative(store.list(uri), key)
    folder = store.list(uri + "/")
    if folder:
        return relative(folder, key + "/")
    if store.exists(uri):
        return [(uri, key.rsplit("/", 1)[-1])]
    base = key[: key.rfind("/") + 1]
    return relative(store.list(uri), base)


def download_prefix(store: ObjectStore, uri: str, dest: Path) -> list[Path]:
    """Download what ``uri`` names into the folder ``dest``, as SageMaker stages ``S3Prefix``.

    - objects exist under ``uri/``: ``uri`` is a folder; each object goes to
      ``dest/<key relative to the folder>``;
    - else an object exists at exactly ``uri``: it goes to ``dest/<its base name>``;
    - else ``uri`` is a raw key prefix: each object whose key starts with it goes to
      ``dest/<key relative to the prefix's last '/'>``.

    Keys ending with ``/`` (folder markers some tools write) are skipped.

    Args:
        store: Where to download from.
        uri: An ``s3://`` folder, object or key prefix.
        dest: The folder to write into (created if missing).

    Returns:
        The files written, in key order.

    Raises:
        StorageError: Nothing matches ``uri``, a download failed, or a key would land
            outside ``dest``.

    Example:
        >>> download_prefix(store, "s3://data/train", Path("/job/train"))  # doctest: +SKIP
        [PosixPath('/job/train/train.csv')]
    """
    dest = Path(dest)
    plan = [(o, rel) for o, rel in _plan(store, uri) if rel and not rel.endswith("/")]
    if not plan:
        raise StorageError(
            f"No objects found under {uri} — upload data there first, e.g. with "
            f"Session().upload_data(path, bucket=..., key_prefix=...), or check the URI."
        )
    jobs: list[tuple[str, Path]] = []
    for obj, rel in plan:
        parts = PurePosixPath(rel).parts
        if ".." in parts or rel.startswith("/"):
            raise StorageError(
                f"Refusing to download {obj}: its key would be written outside {dest} "
                f"(relative path {rel!r}). Rename the object without '..' components."
            )
        jobs.append((obj, dest.joinpath(*parts)))
    _run_all(lambda job: store.get_file(*job), jobs)
    logger.debug("Downloaded %d objects from %s to %s", len(jobs), uri, dest)
    return [path for _, path in jobs]


def resolve_local_source(store: ObjectStore, uri: str) -> Path | None:
    """The file or folder on this disk that already holds ``uri``, for zero-copy staging.

    Args:
        store: The store ``uri`` lives in.
        uri: An ``s3://`` object or folder.

    Returns:
        An existing path for the embedded store, ``None`` when the data must be downloaded
        (a remote store, or nothing at that exact key or folder).

    Example:
        >>> resolve_local_source(LocalObjectStore(root), "s3://data/train")  # doctest: +SKIP
        PosixPath('/home/me/.sageyard/s3/data/train')
    """
    path = store.local_path(uri)
    if path is not None and (path.is_dir() or path.is_file()):
        return path
    return None
