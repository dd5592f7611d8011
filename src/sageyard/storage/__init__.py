"""Object storage: ``s3://bucket/key`` URIs on the embedded store or any S3 endpoint.

Example:
    >>> from sageyard.core.settings import Settings
    >>> from sageyard.storage import object_store_for, upload_path
    >>> store = object_store_for(Settings.from_env())  # doctest: +SKIP
    >>> upload_path(store, Path("data"), "s3://my-bucket/data")  # doctest: +SKIP
    's3://my-bucket/data'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sageyard.storage._base import ObjectInfo, ObjectStore
from sageyard.storage._uri import is_s3_uri, join_uri, parse_s3_uri
from sageyard.storage.local import LocalObjectStore
from sageyard.storage.s3 import S3ObjectStore
from sageyard.storage.transfer import download_prefix, resolve_local_source, upload_path

if TYPE_CHECKING:
    from sageyard.core.settings import Settings

__all__ = [
    "LocalObjectStore",
    "ObjectInfo",
    "ObjectStore",
    "S3ObjectStore",
    "download_prefix",
    "is_s3_uri",
    "join_uri",
    "object_store_for",
    "parse_s3_uri",
    "resolve_local_source",
    "upload_path",
]


def object_store_for(settings: Settings) -> ObjectStore:
    """The object store that ``settings`` selects. Does no I/O.

    Args:
        settings: Resolved settings.

    Returns:
        An :class:`S3ObjectStore` when ``settings.s3_endpoint_url`` is set, else a
        :class:`LocalObjectStore` under ``settings.objects_dir``.

    Example:
        >>> object_store_for(Settings.from_env({"SAGEYARD_HOME": "/tmp/sy"}))  # doctest: +SKIP
        LocalObjectStore('/tmp/sy/s3')
    """
    if settings.s3_endpoint_url:
        return S3ObjectStore(settings.s3_endpoint_url, settings.region)
    return LocalObjectStore(settings.objects_dir)
