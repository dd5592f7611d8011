"""CloudWatch Logs' two reads over the jobs' logs: DescribeLogStreams and GetLogEvents.

SageMaker writes each host's output to the log group ``/aws/sagemaker/TrainingJobs``, one
stream per host, ``<job>/algo-N-<epoch>``; the real SDK's ``wait(logs=True)`` finds the
streams by the ``<job>/`` prefix and pages through each with ``nextForwardToken`` until
the token stops changing. Here the events are the lines of the hosts' logs (from the job's
folder, or from the job store when the hosts ran on other machines), secrets masked as in
``sageyard jobs logs``; an event's time is when its line was written, as far as it is
known (the log file's last change, or the stored chunk's time). Forward tokens are
positions in the host's log (:class:`Line`), so following a stream reads only what is new.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sageyard.core.exceptions import ResourceNotFound, SageyardClientError
from sageyard.train.client import LocalClient

__all__ = [
    "LOG_GROUP",
    "LOG_OPERATIONS",
    "InvalidParameterException",
    "Line",
    "ResourceNotFoundException",
    "describe_log_streams",
    "get_log_events",
    "read_host_log",
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


@dataclass(frozen=True)
class Line:
    """One line of a host's log: its time (ms), its text (secrets masked), and where it
    begins and where the next begins: byte offsets in the host's log file, or, where the
    hosts ran on other machines, the ids of the stored chunks before and after it."""

    at: int
    message: str
    start: int
    end: int


def read_host_log(
    client: LocalClient, job: str, host: str, after: int = 0, max_bytes: int | None = None
) -> list[Line]:
    """The host's whole lines from position ``after`` on (at most ``max_bytes`` of its log
    file read; a line still being written waits for its end), oldest first. A long log is
    read on from where the last read ended, never again from its start."""
    from sageyard.executors import executor_class
    from sageyard.jobs.spec import TrainingJobSpec
    from sageyard.runtime.environment import mask_text, secret_values

    service = client.training_jobs
    record = service.get(job)
    spec = TrainingJobSpec.model_validate(record.document["spec"])
    secrets = secret_values(spec.environment)
    if getattr(executor_class(spec.executor), "shares_no_disk", False):
        lines, before = [], after
        for chunk in service.store.logs(job, after=after):
            if chunk.host == host:
                at = int(chunk.at * 1000)
                lines += [
                    Line(at, mask_text(text, secrets), before, chunk.id)
                    for text in chunk.text.splitlines()
                ]
            before = chunk.id
        return lines
    path = service.paths(job).log(host)
    try:
        with open(path, "rb") as log:
            at = int(os.fstat(log.fileno()).st_mtime * 1000)
            log.seek(after)
            data = log.read(-1 if max_bytes is None else max_bytes)
    except FileNotFoundError:
        return []
    whole = data[: data.rfind(b"\n") + 1]
    if record.status not in ("InProgress", "Stopping") or (
        not whole and max_bytes is not None and len(data) == max_bytes
    ):
        whole = data  # the job ended (its last line is whole), or a line longer than a read
    lines, position = [], after
    for raw in whole.splitlines(keepends=True):
        text = raw.decode(errors="replace").rstrip("\r\n")
        lines.append(Line(at, mask_text(text, secrets), position, position + len(raw)))
        position += len(raw)
    return lines


def _stream_names(client: LocalClient, record: Any) -> dict[str, str]:
    """Each host's stream name → the host."""
    from sageyard.jobs.spec import TrainingJobSpec

    spec = TrainingJobSpec.model_validate(record.document["spec"])
    return {f"{record.name}/{host}-{int(record.created_at)}": host for host, _ in spec.hosts}


def _streams_of(client: LocalClient, record: Any) -> list[dict[str, Any]]:
    from sageyard.executors import executor_class
    from sageyard.jobs.spec import TrainingJobSpec

    spec = TrainingJobSpec.model_validate(record.document["spec"])
    remote = getattr(executor_class(spec.executor), "shares_no_disk", False)
    service = client.training_jobs
    created = int(record.created_at)
    streams = []
    for name, host in _stream_names(client, record).items():
        stream: dict[str, Any] = {
            "logStreamName": name,
            "creationTime": created * 1000,
            "arn": f"arn:aws:logs:{client.settings.region}:{client.settings.account_id}:"
            f"log-group:{LOG_GROUP}:log-stream:{name}",
            "storedBytes": 0,
        }
        times: list[int] = []
        if remote:
            lines = read_host_log(client, record.name, host)
            stream["storedBytes"] = sum(len(line.message) for line in lines)
            times = [lines[0].at, lines[-1].at] if lines else []
        else:  # the file's size and last change: no need to read it
            with contextlib.suppress(FileNotFoundError):
                stat = service.paths(record.name).log(host).stat()
                stream["storedBytes"] = stat.st_size
                times = [int(stat.st_mtime * 1000)] * 2 if stat.st_size else []
        if times:
            stream["firstEventTimestamp"] = times[0]
            stream["lastEventTimestamp"] = stream["lastIngestionTime"] = times[-1]
        streams.append(stream)
    return streams


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
    next and the previous pages begin (``f/<position>``, ``b/<position>``: see
    :class:`Line`). Reading on with a forward token reads the log from there only."""
    _group(request)
    name = str(request.get("logStreamName") or "")
    job = name.partition("/")[0]
    try:
        record = client.training_jobs.get(job)
    except ResourceNotFound:
        record = None
    host = _stream_names(client, record).get(name) if record is not None else None
    if host is None:
        raise ResourceNotFoundException(
            f"The specified log stream does not exist: {name!r}.", "GetLogEvents"
        )
    limit = min(int(request.get("limit") or MAX_EVENTS), MAX_EVENTS)
    direction, position = _position(request.get("nextToken"))
    if direction == "f" or (direction is None and request.get("startFromHead")):
        lines = read_host_log(client, job, host, position or 0, MAX_BYTES)
        chosen = _forward(lines, limit)
    elif direction == "b" and position is not None:  # the page before ``position``
        lines = [line for line in read_host_log(client, job, host) if line.end <= position]
        chosen = lines[-limit:]
    else:  # the newest events, as CloudWatch gives without startFromHead
        chosen = read_host_log(client, job, host)[-limit:]
    start_ms, end_ms = request.get("startTime"), request.get("endTime")
    events = [
        {"timestamp": line.at, "message": line.message, "ingestionTime": line.at}
        for line in chosen
        if line.message
        and (start_ms is None or line.at >= start_ms)
        and (end_ms is None or line.at < end_ms)
    ]
    here = position or 0
    return {
        "events": events,
        "nextForwardToken": f"f/{chosen[-1].end if chosen else here}",
        "nextBackwardToken": f"b/{chosen[0].start if chosen else here}",
    }


def _forward(lines: list[Line], limit: int) -> list[Line]:
    """The first ``limit`` lines within CloudWatch's 1 MB (26 bytes counted per event),
    never ending inside a stored chunk (its lines share one position)."""
    chosen: list[Line] = []
    size = 0
    for line in lines:
        size += len(line.message.encode()) + 26
        whole = not chosen or line.start != chosen[-1].start
        if (len(chosen) >= limit or (size > MAX_BYTES and chosen)) and whole:
            break
        chosen.append(line)
    return chosen


def _position(token: Any) -> tuple[str | None, int | None]:
    if not token:
        return None, None
    direction, _, position = str(token).partition("/")
    if direction not in ("f", "b") or not position.isdigit():
        raise InvalidParameterException(
            f"nextToken {token!r} is not one this server gave.", "GetLogEvents"
        )
    return direction, int(position)


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
