"""What the real SDK's resource methods share: their arguments in the API's spelling, their
list filters, and their ``wait_for_status``/``wait_for_delete`` loops.

The real resources (``TrainingJob.create(...)``, ``ModelPackage.update(...)``) take shapes,
or dicts of their fields in snake_case; the API takes PascalCase. :func:`api_request` turns
either (and PascalCase dicts, which pass unchanged) into the API's spelling, so the services
that validate requests (``jobs/request.py``, ``tuning/request.py``) see one form.

Example:
    >>> api_request({"s3_output_path": "s3://b/out", "kms_key_id": None})
    {'S3OutputPath': 's3://b/out'}
    >>> api_request({"environment": {"my_var": "1"}})
    {'Environment': {'my_var': '1'}}
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from sageyard.core.exceptions import (
    ConfigurationError,
    FailedStatusError,
    ResourceNotFound,
    TimeoutExceededError,
    ValidationException,
)
from sageyard.core.shapes import pascal_case, to_request

T = TypeVar("T")

#: Members whose values map the user's own names (kept exactly as given), and sageyard's
#: own ``Sageyard`` key (PascalCase by definition, with maps of the user's names inside).
FREE_MAPS = frozenset(
    {
        "HyperParameters",
        "StaticHyperParameters",
        "Environment",
        "CustomerMetadataProperties",
        "ProfilingParameters",
        "RuleParameters",
        "HookParameters",
        "CollectionParameters",
        "Sageyard",
    }
)

SORT_ORDERS = ("Ascending", "Descending")


# -- arguments -------------------------------------------------------------------------------


def api_request(value: Any) -> Any:
    """``value`` with every shape rendered and every structure key in PascalCase; ``None``
    members are left out, as the real SDK's ``serialize`` leaves out unassigned ones."""
    if isinstance(value, BaseModel):
        return api_request(to_request(value))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue
            name = pascal_case(key) if isinstance(key, str) else key
            out[name] = _free_map(item) if name in FREE_MAPS else api_request(item)
        return out
    if isinstance(value, list | tuple):
        return [api_request(item) for item in value]
    return value


def api_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments (snake_case) as request members, those left at ``None`` out.

    Example:
        >>> api_arguments({"role_arn": "arn:r", "vpc_config": None})
        {'RoleArn': 'arn:r'}
    """
    rendered: dict[str, Any] = api_request(dict(arguments))
    return rendered


def api_mapping(value: Any, where: str, keys: Collection[str]) -> dict[str, Any]:
    """A shape or dict argument in the API's spelling, refusing members outside ``keys``."""
    rendered = api_request(value)
    if not isinstance(rendered, dict):
        raise ConfigurationError(
            f"{where} must be a shape or a dict of its fields, but got {value!r}."
        )
    unknown = sorted(set(rendered) - set(keys))
    if unknown:
        raise ConfigurationError(
            f"{where} has unknown field(s) {unknown}; known: {', '.join(sorted(keys))}."
        )
    return rendered


def check_fields(resource: str, given: Mapping[str, Any], fields: Collection[str]) -> None:
    """Refuse keyword arguments that are not fields of the real resource (as its pydantic
    model does, ``extra="forbid"``)."""
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise ConfigurationError(
            f"{resource} has no field(s) {unknown}; its fields are the real SDK resource's: "
            f"{', '.join(fields)}."
        )


def one_of(value: T | None, allowed: Sequence[T], where: str) -> T | None:
    """``value`` when it is ``None`` or one of ``allowed``; else a ConfigurationError."""
    if value is not None and value not in allowed:
        raise ConfigurationError(
            f"{where} must be one of {', '.join(map(str, allowed))}, but got {value!r}."
        )
    return value


def user_context() -> dict[str, Any]:
    """``CreatedBy``/``LastModifiedBy`` (a UserContext): the user this process runs as."""
    try:
        return {"UserProfileName": getpass.getuser()}
    except (KeyError, OSError):  # no user name for this uid (a bare container)
        return {}


def when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


# -- list filters ----------------------------------------------------------------------------


def epoch_of(moment: Any, where: str) -> float | None:
    """A time filter as epoch seconds: a datetime (naive means UTC, as botocore sends it)
    or a number of epoch seconds."""
    if moment is None:
        return None
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return aware.timestamp()
    if isinstance(moment, int | float) and not isinstance(moment, bool):
        return float(moment)
    raise ConfigurationError(f"{where} must be a datetime (or epoch seconds), but got {moment!r}.")


class TimeWindow:
    """``*_after``/``*_before`` filters: strictly after and strictly before, as ListX."""

    def __init__(self, after: Any, before: Any, where: str) -> None:
        self.after = epoch_of(after, f"{where}_after")
        self.before = epoch_of(before, f"{where}_before")

    def __contains__(self, epoch: float) -> bool:
        seen = datetime.fromtimestamp(epoch, UTC).timestamp()  # to the µs, as described
        return (self.after is None or seen > self.after) and (
            self.before is None or seen < self.before
        )


def ordered(
    items: Iterable[T],
    sort_by: str | None,
    sort_order: str | None,
    keys: Mapping[str, Callable[[T], Any]],
    default_by: str,
    default_order: str,
) -> list[T]:
    """``items`` sorted by the key ``sort_by`` names, in ``sort_order``; both are checked
    against what the real API accepts."""
    by = one_of(sort_by, list(keys), "sort_by") or default_by
    order = one_of(sort_order, SORT_ORDERS, "sort_order") or default_order
    return sorted(items, key=keys[by], reverse=order == "Descending")


#: How ListTrainingJobs and ListHyperParameterTuningJobs sort (ties by name).
JOB_SORT_KEYS: dict[str, Callable[[Any], Any]] = {
    "CreationTime": lambda r: (r.created_at, r.name),
    "Name": lambda r: r.name,
    "Status": lambda r: (r.status, r.created_at, r.name),
}


def listed_jobs(
    records: Iterable[Any],
    statuses: Sequence[str],
    *,
    creation_time_after: Any = None,
    creation_time_before: Any = None,
    last_modified_time_after: Any = None,
    last_modified_time_before: Any = None,
    status_equals: str | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
) -> list[Any]:
    """The job records (``created_at``, ``updated_at``, ``status``, ``name``) that pass a
    List*Jobs call's filters, in its order: by creation time, newest first, unless
    ``sort_by``/``sort_order`` say otherwise (by name or status: ascending)."""
    created = TimeWindow(creation_time_after, creation_time_before, "creation_time")
    modified = TimeWindow(last_modified_time_after, last_modified_time_before, "last_modified_time")
    one_of(status_equals, statuses, "status_equals")
    kept = [
        r
        for r in records
        if r.created_at in created
        and r.updated_at in modified
        and status_equals in (None, r.status)
    ]
    default_order = "Descending" if sort_by in (None, "CreationTime") else "Ascending"
    return ordered(kept, sort_by, sort_order, JOB_SORT_KEYS, "CreationTime", default_order)


# -- waiting ---------------------------------------------------------------------------------


def wait_for_status(
    resource_type: str,
    target_status: str,
    statuses: Sequence[str],
    current: Callable[[], str | None],
    poll: float,
    timeout: float | None,
    settled: Collection[str] = ("Completed",),
) -> None:
    """Poll ``current()`` until it is ``target_status``, as the real ``wait_for_status``.

    ``settled``: statuses this engine never leaves. Waiting from one of them for another
    status without a timeout would never end, so it is refused at once.

    Raises:
        ConfigurationError: ``target_status`` is not a status of the resource, or could
            never be reached.
        FailedStatusError: The resource reached a failed status.
        TimeoutExceededError: ``timeout`` seconds passed first.
    """
    one_of(target_status, statuses, "target_status")
    start = time.monotonic()
    while True:
        status = current() or ""
        if status == target_status:
            return
        if "failed" in status.lower():
            raise FailedStatusError(resource_type=resource_type, status=status, reason="(Unknown)")
        if timeout is None and status in settled:
            raise ConfigurationError(
                f"The {resource_type} is {status}, which it never leaves in sageyard, so "
                f"waiting for {target_status!r} would never end; wait for {status!r}, or "
                "pass timeout=..."
            )
        if timeout is not None and time.monotonic() - start >= timeout:
            raise TimeoutExceededError(resource_type=resource_type, status=status)
        time.sleep(poll)


def wait_for_delete(
    resource_type: str, current: Callable[[], str | None], poll: float, timeout: float | None
) -> None:
    """Poll ``current()`` until it raises ResourceNotFound, as the real ``wait_for_delete``.

    Raises:
        TimeoutExceededError: ``timeout`` seconds passed first.
    """
    start = time.monotonic()
    while True:
        try:
            status = current()
        except (ResourceNotFound, ValidationException):
            return
        if timeout is not None and time.monotonic() - start >= timeout:
            raise TimeoutExceededError(resource_type=resource_type, status=str(status))
        time.sleep(poll)


def _free_map(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return to_request(value)
    if isinstance(value, Mapping):
        return {key: item.value if isinstance(item, Enum) else item for key, item in value.items()}
    return value
