"""The ``ObjectStore`` protocol: the narrow interface every storage backend implements.

Rich behaviour (directory uploads, SageMaker ``S3Prefix`` downloads, zero-copy staging)
lives in :mod:`sageyard.storage.transfer`, written once against this protocol.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sageyard.core.exceptions import StorageError


@dataclass(frozen=True)
class ObjectInfo:
    """What :meth:`ObjectStore.stat` knows of an object: its size in bytes, when it was last
    written (epoch seconds) and an ETag that changes whenever its content may have (S3's own;
    the embedded store's comes from the file's size and modification time)."""

    size: int
    modified: float
    etag: str


class ObjectStore(Protocol):
    """Objects addressed by ``s3://bucket/key`` URIs.

    Every failed operation raises :class:`~sageyard.core.exceptions.StorageError` whose
    message names the URI; a malformed URI raises
    :class:`~sageyard.core.exceptions.ConfigurationError`.

    Example:
        >>> store: ObjectStore = object_store_for(Settings.from_env())  # doctest: +SKIP
        >>> store.put_file(Path("train.csv"), "s3://data/train/train.csv")  # doctest: +SKIP
    """

    def put_file(self, path: Path, uri: str) -> None:
        """Upload the local file ``path`` to ``uri``, creating the bucket if missing."""
        ...

    def get_file(self, uri: str, path: Path) -> None:
        """Download ``uri`` to ``path`` atomically, creating parent folders."""
        ...

    def list(self, prefix_uri: str) -> list[str]:
        """Sorted URIs of every object whose key starts with the prefix (``[]`` if none)."""
        ...

    def delete(self, uri: str) -> None:
        """Delete the object at ``uri``; a missing object or bucket is not an error."""
        ...

    def exists(self, uri: str) -> bool:
        """Tell whether an object exists at exactly ``uri``."""
        ...

    def local_path(self, uri: str) -> Path | None:
        """The existing file or folder on this disk that backs ``uri``, else ``None``."""
        ...

    def ensure_bucket(self, bucket: str) -> None:
        """Create ``bucket`` unless it exists."""
        ...

    def stat(self, uri: str) -> ObjectInfo | None:
        """The size, time and ETag of the object at exactly ``uri``; ``None`` if none."""
        ...

    def buckets(self) -> builtins.list[str]:
        """The names of the store's buckets, sorted."""
        ...


def no_such_key(action: str, uri: str) -> StorageError:
    """The error both backends raise when an object is missing.

    Example:
        >>> raise no_such_key("download", "s3://b/k")  # doctest: +SKIP
    """
    return StorageError(
        f"Could not {action} {uri}: NoSuchKey (no object has this key). "
        f"Check the URI, or list what is there with store.list({uri.rsplit('/', 1)[0]!r})."
    )


def storage_error(action: str, uri: str, reason: str) -> StorageError:
    """A :class:`StorageError` for a failed ``action`` on ``uri``, with the reason.

    Example:
        >>> str(storage_error("upload to", "s3://b/k", "disk full"))
        'Could not upload to s3://b/k: disk full'
    """
    return StorageError(f"Could not {action} {uri}: {reason}")
