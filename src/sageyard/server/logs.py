"""CloudWatch Logs' two reads over the jobs' logs: DescribeLogStreams and GetLogEvents.

SageMaker writes each host's output to the log group ``/aws/sagemaker/TrainingJobs``, one
stream per host, ``<job>/algo-N-<epoch>``; the real SDK's ``wait(logs=True)`` finds the
streams by the ``<job>/`` prefix and pages through each with ``nextForwardToken`` until
the token stops changing. Here the events are the lines of the hosts' logs (from the job's
folder, or from the job store when the hosts ran on other machines), secrets masked as in
``sageyard jobs logs``; an event's time is when its line was written, as far as it is
known (the log file's last change, or the stored chunk's time).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

from sageyard.core.exceptions import ResourceNotFound, SageyardClientError
from sageyard.train.client import LocalClient

__all__ = [
    "LOG_GROUP",
    "LOG_OPERATIONS",
    "InvalidParameterException",
    "ResourceNotFoundException",
    "describe_log_streams",
    "get_log_events",
]

LOG_GROUP = "/aws/sagemaker/TrainingJobs"

#: GetLogEvents' largest answer: CloudWatch's own (10,000 events or 1 MB).
MAX_EVENTS, MAX_BYTES = 10_000, 1 << 20


class InvalidParameterException(SageyardClientError):
    code = "InvalidParameterException"


class ResourceNotFoundException(SageyardClientError):
    code = "ResourceNotFoundException"


def _group(request: Mapping[str, Any]) -> None:
    group = request.get("logGroupName")
    if group != LOG_GROUP:
        raise ResourceNotFoundException(
            f"The specified log group does not exist: {group!r} (this server keeps "
            f"{LOG_GROUP} only).",
            "DescribeLogStreams",
        )


def _streams_of(client: LocalClient, record: Any) -> list[dict[str, Any]]:
    from sageyard.jobs.spec import TrainingJobSpec

    spec = TrainingJobSpec.model_validate(record.document["spec"])
    created = int(record.created_at)
    streams = []
    for host, _ in spec.hosts:
        events = _events(client, record.name, host)
        name = f"{record.name}/{host}-{created}"
        stream: dict[str, Any] = {
            "logStreamName": name,
            "creationTime": created * 1000,
            "arn": f"arn:aws:logs:{client.settings.region}:{client.settings.account_id}:"
            f"log-group:{LOG_GROUP}:log-stream:{name}",
            "storedBytes": sum(len(message) for _, message in events),
        }
        if events:
            stream["firstEventTimestamp"] = events[0][0]
            stream["lastEventTimestamp"] = stream["lastIngestionTime"] = events[-1][0]
        streams.append(stream)
    return streams


def _events(client: LocalClient, job: str, host: str) -> list[tuple[int, str]]:
    """The host's log lines as (milliseconds, message), oldest first."""
    from sageyard.executors import executor_class
    from sageyard.jobs.spec import TrainingJobSpec
    from sageyard.runtime.environment import mask_text, secret_values

    service = client.training_jobs
    record = service.get(job)
    spec = TrainingJobSpec.model_validate(record.document["spec"])
    secrets = secret_values(spec.environment)
    found: list[tuple[int, str]] = []
    if getattr(executor_class(spec.executor), "shares_no_disk", False):
        for chunk in service.store.logs(job, after=0):
            if chunk.host == host:
                at = int(chunk.at * 1000)
                found += [(at, mask_text(line, secrets)) for line in chunk.text.splitlines()]
        return found
    path = service.paths(job).log(host)
    try:
        text = path.read_text(errors="replace")
        at = int(path.stat().st_mtime * 1000)
    except FileNotFoundError:
        return []
    lines = text.split("\n")
    if record.status == "InProgress" and lines:
        lines = lines[:-1]  # the last line may still be written
    return [(at, mask_text(line.rstrip("\r"), secrets)) for line in lines if line]


def describe_log_streams(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    _group(request)
    prefix = request.get("logStreamNamePrefix") or ""
    if request.get("orderBy") == "LastEventTime" and prefix:
        raise InvalidParameterException(
            "Cannot order by LastEventTime with a logStreamNamePrefix.", "DescribeLogStreams"
        )
    job = prefix.split("/", 1)[0] if "/" in prefix else None
    service = client.training_jobs
    if job is not None:
        try:
            records = [service.get(job)]
        except ResourceNotFound:
            records = []
    else:
        records = service.list_jobs(name_contains=prefix or None)
    streams = [
        stream
        for record in records
        for stream in _streams_of(client, record)
        if stream["logStreamName"].startswith(prefix)
    ]
    key = "lastEventTimestamp" if request.get("orderBy") == "LastEventTime" else "logStreamName"
    streams.sort(key=lambda s: s.get(key, 0), reverse=bool(request.get("descending")))
    limit = request.get("limit") or 50
    start = _offset(request.get("nextToken"))
    answer: dict[str, Any] = {"logStreams": streams[start : start + limit]}
    if start + limit < len(streams):
        answer["nextToken"] = _token(start + limit)
    return answer


def get_log_events(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    """A page of one stream's events, from the head (or the tail); the tokens say where the
    next and the previous pages begin (``f/<n>``, ``b/<n>``)."""
    _group(request)
    name = str(request.get("logStreamName") or "")
    job, _, rest = name.partition("/")
    host = rest.rsplit("-", 1)[0]
    try:
        record = client.training_jobs.get(job)
    except ResourceNotFound:
        raise ResourceNotFoundException(
            f"The specified log stream does not exist: {name!r}.", "GetLogEvents"
        ) from None
    if not any(s["logStreamName"] == name for s in _streams_of(client, record)):
        raise ResourceNotFoundException(
            f"The specified log stream does not exist: {name!r}.", "GetLogEvents"
        )
    events = _events(client, job, host)
    start_ms, end_ms = request.get("startTime"), request.get("endTime")
    if start_ms is not None or end_ms is not None:
        events = [
            e
            for e in events
            if (start_ms is None or e[0] >= start_ms) and (end_ms is None or e[0] < end_ms)
        ]
    limit = min(int(request.get("limit") or MAX_EVENTS), MAX_EVENTS)
    token = request.get("nextToken")
    if token:
        direction, _, position = str(token).partition("/")
        if direction not in ("f", "b") or not position.isdigit():
            raise InvalidParameterException(
                f"nextToken {token!r} is not one this server gave.", "GetLogEvents"
            )
        at = int(position)
        first, last = (at, at + limit) if direction == "f" else (max(0, at - limit), at)
    elif request.get("startFromHead"):
        first, last = 0, limit
    else:  # the newest events, as CloudWatch gives without startFromHead
        first, last = max(0, len(events) - limit), len(events)
    page: list[dict[str, Any]] = []
    size = 0
    for timestamp, message in events[first:last]:
        size += len(message.encode()) + 26  # CloudWatch counts 26 bytes per event
        if size > MAX_BYTES and page:
            break
        page.append({"timestamp": timestamp, "message": message, "ingestionTime": timestamp})
    following = first + len(page)
    return {
        "events": page,
        "nextForwardToken": f"f/{following}",
        "nextBackwardToken": f"b/{first}",
    }


def _offset(token: Any) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(str(token)))["offset"])
    except (ValueError, KeyError, TypeError):
        raise InvalidParameterException(
            f"nextToken {token!r} is not one this server gave.", "DescribeLogStreams"
        ) from None


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


#: CloudWatch Logs' operations this server answers (``X-Amz-Target: Logs_20140328.<name>``).
LOG_OPERATIONS: dict[str, Callable[[LocalClient, Mapping[str, Any]], dict[str, Any]]] = {
    "DescribeLogStreams": describe_log_streams,
    "GetLogEvents": get_log_events,
}
