"""``s3://bucket/key`` URIs: parse, join, recognise.

The same URIs address the embedded store and any S3-compatible endpoint, so these helpers
know nothing about backends.
"""

from __future__ import annotations

import re

from sageyard.core.exceptions import ConfigurationError

_SCHEME = "s3://"
# Loose S3 rules: 3 to 63 lowercase letters, digits, dots and hyphens.
_BUCKET_RE = re.compile(r"[a-z0-9.\-]{3,63}")
_EXPECTED = "Expected the form s3://bucket/prefix, e.g. s3://my-bucket/data/train."


def is_s3_uri(s: object) -> bool:
    """Tell whether ``s`` is a string that starts with ``s3://``.

    Example:
        >>> is_s3_uri("s3://bucket/data")
        True
        >>> is_s3_uri("/tmp/data")
        False
    """
    return isinstance(s, str) and s.startswith(_SCHEME)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split an ``s3://`` URI into its bucket and key.

    The key is everything after the first ``/`` following the bucket, kept as given
    (a trailing ``/`` is kept); it is ``""`` for a bare bucket.

    Args:
        uri: A URI of the form ``s3://bucket/key``.

    Returns:
        ``(bucket, key)``.

    Raises:
        ConfigurationError: ``uri`` is not an ``s3://`` URI, names an invalid bucket, or
            its key has a ``..`` component or a NUL byte.

    Example:
        >>> parse_s3_uri("s3://my-bucket/data/train.csv")
        ('my-bucket', 'data/train.csv')
        >>> parse_s3_uri("s3://my-bucket")
        ('my-bucket', '')
    """
    if not is_s3_uri(uri):
        raise ConfigurationError(f"Not an S3 URI: {uri!r}. {_EXPECTED}")
    bucket, _, key = uri[len(_SCHEME) :].partition("/")
    if not _BUCKET_RE.fullmatch(bucket):
        raise ConfigurationError(
            f"Invalid bucket name {bucket!r} in {uri!r}: a bucket name has 3 to 63 "
            f"lowercase letters, digits, dots or hyphens. {_EXPECTED}"
        )
    check_key(uri, key)
    return bucket, key


def check_key(uri: str, key: str) -> None:
    """Refuse a key with a ``..`` component or a NUL byte.

    Keys are folder-like paths here: a store on a disk (the embedded one, a job's staged
    input) would climb out of its bucket or folder through ``..``, so no job could use such
    a URI safely.

    Example:
        >>> check_key("s3://my-bucket/a/b", "a/b")
    """
    if "\x00" in uri:
        raise ConfigurationError(
            f"The S3 URI {uri.replace(chr(0), '')!r} contains a NUL byte (\\x00); remove it."
        )
    if ".." in key.split("/"):
        raise ConfigurationError(
            f"sageyard refuses {uri!r}: its key has a '..' component, which would climb out "
            "of its bucket or folder; give the key without it, e.g. s3://my-bucket/data/train."
        )


def join_uri(base: str, *parts: str) -> str:
    """Join key parts onto an ``s3://`` URI with single slashes.

    Leading and trailing slashes of ``base``'s key and of each part are dropped, empty
    parts are skipped, and the result has no trailing slash.

    Args:
        base: An ``s3://`` URI (a bucket or a prefix).
        *parts: Key segments; each may itself contain ``/``.

    Returns:
        The joined URI.

    Raises:
        ConfigurationError: ``base`` is not a valid ``s3://`` URI.

    Example:
        >>> join_uri("s3://my-bucket/jobs/", "job-1", "/output/model.tar.gz")
        's3://my-bucket/jobs/job-1/output/model.tar.gz'
        >>> join_uri("s3://my-bucket")
        's3://my-bucket'
    """
    bucket, key = parse_s3_uri(base)
    segments = [s for s in (p.strip("/") for p in (key, *parts)) if s]
    if not segments:
        return f"{_SCHEME}{bucket}"
    return f"{_SCHEME}{bucket}/{'/'.join(segments)}"


def check_bucket(bucket: str) -> str:
    """Return ``bucket`` if it is a valid bucket name, else raise ConfigurationError.

    Example:
        >>> check_bucket("my-bucket")
        'my-bucket'
    """
    if not isinstance(bucket, str) or not _BUCKET_RE.fullmatch(bucket):
        raise ConfigurationError(
            f"Invalid bucket name {bucket!r}: a bucket name has 3 to 63 lowercase letters, "
            "digits, dots or hyphens, e.g. 'my-bucket'."
        )
    return bucket


def parse_object_uri(uri: str) -> tuple[str, str]:
    """Like :func:`parse_s3_uri`, but the URI must name an object (a non-empty key).

    Example:
        >>> parse_object_uri("s3://my-bucket/data/train.csv")
        ('my-bucket', 'data/train.csv')
    """
    bucket, key = parse_s3_uri(uri)
    if not key or key.endswith("/"):
        raise ConfigurationError(
            f"{uri!r} names a bucket or a folder, not an object. Give the full key of an "
            "object, e.g. s3://my-bucket/data/train.csv."
        )
    return bucket, key
