"""``sagemaker.core.helper.session_helper``: the path nearly every SageMaker v3 notebook
imports ``Session`` and ``get_execution_role`` from.

Example:
    >>> from sageyard.core.helper.session_helper import Session, get_execution_role
    >>> s3_path_join("s3://", "//bucket/", "/data///train")
    's3://bucket/data/train'
"""

from __future__ import annotations

from sageyard.core.session import Session, get_execution_role

__all__ = ["Session", "get_execution_role", "s3_path_join"]


def s3_path_join(*args: str | None, with_end_slash: bool = False) -> str:
    """Join parts of an S3 path with ``/`` as the real SDK does: a leading ``s3://`` kept,
    repeated slashes collapsed, empty or ``None`` parts skipped."""
    scheme = ""
    parts = [str(a) for a in args if a]
    if parts and parts[0].startswith("s3://"):
        scheme, parts[0] = "s3://", parts[0][len("s3://") :]
    pieces = [piece for part in parts for piece in part.split("/") if piece]
    joined = scheme + "/".join(pieces)
    if with_end_slash and not joined.endswith("/"):
        joined += "/"
    return joined
