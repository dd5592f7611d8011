"""JSON as the AWS JSON protocols write it: timestamps as epoch seconds."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import PurePath
from typing import Any

__all__ = ["dumps"]


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(document: Any) -> bytes:
    """``document`` as the body of a JSON 1.1 answer.

    Example:
        >>> from datetime import UTC, datetime
        >>> dumps({"CreationTime": datetime(2026, 12, 4, tzinfo=UTC)})
        b'{"CreationTime": 1796342400.0}'
    """
    return json.dumps(document, default=_default).encode()
