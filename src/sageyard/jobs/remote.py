"""Training jobs of a remote ``sageyard server``, over its SageMaker-compatible API.

With ``SAGEYARD_ENDPOINT_URL`` (or ``Session(endpoint_url=...)``) the facade and the CLI
talk to a server instead of the services in this process (``train/client.py``).
:class:`Remote` holds one server's clients: boto3's ``sagemaker``, ``logs`` and
``sagemaker-metrics`` clients pointed at it (signed with the caller's AWS credentials, as
any boto3 call), and :meth:`Remote.send` for the calls that carry sageyard's
``"Sageyard"`` extension, which boto3 would strip. The server's errors come back as the
error tree's (a ValidationException is the ConfigurationError the local service raises).

:class:`RemoteTrainingJobs` offers what the job resource (``TrainingJob``) and
``sageyard jobs`` call on :class:`~sageyard.jobs.service.TrainingJobService`: describe,
status, stop, list, metrics (SageMaker Metrics' ``BatchGetMetrics``), update, delete, and
following a job with its CloudWatch log streams, as the real SDK's ``logs=True`` does.

:class:`RemoteModelRegistry` reads the server's model packages (what its fine-tuning jobs
registered) for the facade's ``model=<package>`` and ``sageyard models packages``.

Local files named in a request (a code folder or ``.tar.gz``, a channel's ``LocalPath``)
cannot be read by the server: :func:`upload_local_files` puts them in the server's S3
first, once by content (``jobs/inputs.py``), as the real SDK uploads code and data
before it creates a job.

Example:
    >>> jobs = RemoteTrainingJobs(Remote(Settings.from_env()))  # doctest: +SKIP
    >>> jobs.status("my-job-2026-12-04-05-00-00-000")  # doctest: +SKIP
    'Completed'
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from sageyard.core.exceptions import (
    ConfigurationError,
    ResourceInUse,
    ResourceLimitExceeded,
    ResourceNotFound,
    TimeoutExceededError,
)
from sageyard.core.settings import Settings
from sageyard.jobs.inputs import fingerprint, upload_once
from sageyard.jobs.request import local_source
from sageyard.jobs.service import TrainingJobService
from sageyard.jobs.states import ACTIVE
from sageyard.models.registry import SAGEYARD_FIELDS, ModelPackage, ModelRegistry
from sageyard.storage import ObjectStore, object_store_for
from sageyard.store import MetricPoint

__all__ = [
    "LOG_GROUP",
    "ModelPackages",
    "Remote",
    "RemoteModelRegistry",
    "RemoteTrainingJobs",
    "StreamReader",
    "TrainingJobs",
    "format_transition",
    "package_from_wire",
    "registry_for",
    "training_jobs_for",
    "upload_local_files",
]

#: Where SageMaker (and ``sageyard server``) keeps training jobs' log streams.
LOG_GROUP = "/aws/sagemaker/TrainingJobs"

_ERRORS: dict[str, type[Exception]] = {
    "ResourceNotFound": ResourceNotFound,
    "ResourceInUse": ResourceInUse,
    "ResourceLimitExceeded": ResourceLimitExceeded,
}
_NOT_FOUND = "Requested resource not found: "
#: What a server that checks signatures answers an unsigned request.
_UNSIGNED = frozenset({"MissingAuthenticationTokenException", "IncompleteSignatureException"})

#: Secondary statuses printed after a round's log lines (the rest come before them).
_AFTER = frozenset(
    {"Uploading", "Completed", "Failed", "Stopped", "Stopping", "MaxRuntimeExceeded"}
)


class Remote:
    """One ``sageyard server``: its boto3 clients, made on first use (no I/O before)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.endpoint_url:
            raise ConfigurationError(
                "Remote needs a server: set SAGEYARD_ENDPOINT_URL (or Session(endpoint_url=...))."
            )
        self.settings = settings
        self.url = settings.endpoint_url
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._objects: ObjectStore | None = None

    @property
    def objects(self) -> ObjectStore:
        """The server's S3 (or the S3 endpoint the settings name)."""
        if self._objects is None:
            self._objects = object_store_for(self.settings)
        return self._objects

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                import boto3

                from sageyard.storage.s3 import client_config

                self._clients[service] = boto3.session.Session().client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self.url,
                    region_name=self.settings.region,
                    config=client_config(self.url, retries={"max_attempts": 3, "mode": "standard"}),
                )
            return self._clients[service]

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """``operation`` (boto3's snake_case name) on ``service``; the response less its
        ResponseMetadata."""
        method = getattr(self.client(service), operation)
        with self.translated():
            response: dict[str, Any] = method(**params)
        response.pop("ResponseMetadata", None)
        return response

    def pages(self, service: str, operation: str, key: str, **params: Any) -> Iterator[Any]:
        """Every item under ``key`` of every page of a List operation."""
        paginator = self.client(service).get_paginator(operation)
        with self.translated():
            for page in paginator.paginate(**params):
                yield from page.get(key, [])

    def send(self, target: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """A JSON 1.1 call as it is (``target``: ``SageMaker.CreateTrainingJob``), keeping
        keys boto3 would drop; signed with SigV4 as boto3 signs (unsigned where boto3 finds
        no credentials, as its clients here are: ``storage/s3.client_config``)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.exceptions import ClientError
        from botocore.httpsession import URLLib3Session

        body = json.dumps(request, default=_json_value).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
        http = AWSRequest("POST", self.url + "/", data=body, headers=headers)
        credentials = self._credentials()
        if credentials is not None:
            SigV4Auth(credentials, "sagemaker", self.settings.region).add_auth(http)
        with self.translated():
            response = URLLib3Session().send(http.prepare())
            answer = json.loads(response.content or b"{}")
            if response.status_code != 200:
                code = str(answer.get("__type", "InternalFailure")).rpartition("#")[2]
                error = {"Code": code, "Message": str(answer.get("message", ""))}
                meta = {"HTTPStatusCode": response.status_code}
                raise ClientError(
                    {"Error": error, "ResponseMetadata": meta},  # type: ignore[typeddict-item]
                    target.rpartition(".")[2],
                )
        return dict(answer)

    def _credentials(self) -> Any:
        import boto3

        credentials = boto3.session.Session().get_credentials()
        return None if credentials is None else credentials.get_frozen_credentials()

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        """The server's errors as the error tree's; an unreachable server said so."""
        from botocore.exceptions import ClientError, EndpointConnectionError

        try:
            yield
        except ClientError as error:
            if _code(error) in _UNSIGNED and self._credentials() is None:
                raise ConfigurationError(
                    f"sageyard server at {self.url} checks signatures, and this machine has "
                    "no AWS credentials to sign with: set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY to the server's SAGEYARD_SERVER_ACCESS_KEY_ID "
                    "and SAGEYARD_SERVER_SECRET_ACCESS_KEY."
                ) from None
            _raise_from(error)
        except EndpointConnectionError as error:
            raise ConfigurationError(
                f"sageyard server at {self.url} cannot be reached ({error}). Start it with "
                "`sageyard server`, or point SAGEYARD_ENDPOINT_URL at where it runs."
            ) from None


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _raise_from(error: Any) -> NoReturn:
    """The error tree's exception for a server's ClientError (other codes stay as they are)."""
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    operation = error.operation_name
    if code == "ValidationException" and message.startswith(_NOT_FOUND):
        raise ResourceNotFound(message.removeprefix(_NOT_FOUND), operation) from None
    if code in _ERRORS:
        raise _ERRORS[code](message, operation) from None
    if code == "ValidationException":
        raise ConfigurationError(message) from None
    raise error


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} {value!r} cannot be sent in a request")


# -- local files -----------------------------------------------------------------------------


def upload_local_files(
    request: Mapping[str, Any], objects: ObjectStore, bucket: str
) -> dict[str, Any]:
    """``request`` (a CreateTrainingJob request, or one TrainingJobDefinition of a tuning
    job) with its local code and channels uploaded (once, by content) and given by URI.

    Every local path is checked before anything is uploaded.

    Raises:
        ConfigurationError: A local path that does not exist.
    """
    extension = dict(request.get("Sageyard") or {})
    source = dict(extension.get("SourceCode") or {})
    code, _ = local_source(source)  # a folder that holds the entry script it names
    channels = list(request.get("InputDataConfig") or [])
    model = extension.get("ModelChannel")
    local = [
        (i, Path(c["DataSource"]["LocalPath"]))
        for i, c in enumerate([*channels, model] if model else channels)
        if isinstance(c, Mapping) and isinstance((c.get("DataSource") or {}).get("LocalPath"), str)
    ]
    for path in [path for _, path in local]:
        if not path.exists():
            raise ConfigurationError(
                f"{path} does not exist on this machine, so it cannot be sent to sageyard "
                "server. Give an existing file or folder, or an s3:// URI."
            )
    out = dict(request)
    if code is not None:
        source["SourceDir"] = _upload_code(objects, code, bucket, source.get("IgnorePatterns"))
        extension["SourceCode"] = source
    for index, path in local:
        uri = upload_once(objects, path, bucket)
        s3 = {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
        if index < len(channels):
            channels[index] = {**channels[index], "DataSource": {"S3DataSource": s3}}
        else:
            extension["ModelChannel"] = {**(model or {}), "DataSource": {"S3DataSource": s3}}
    if channels:
        out["InputDataConfig"] = channels
    if extension:
        out["Sageyard"] = extension
    return out


def _upload_code(
    objects: ObjectStore, code: Path, bucket: str, ignore_patterns: list[str] | None
) -> str:
    """A code folder, uploaded as the job's snapshot (less what ``ignore_patterns`` match),
    or a ``.tar.gz``, uploaded as it is for the server to unpack; once by content."""
    from sageyard.storage import upload_path

    digest = fingerprint(code) + "".join(f"\0{p}" for p in ignore_patterns or [])
    uri = f"s3://{bucket}/sageyard-inputs/code-{_short(digest)}"
    if code.is_file():
        uri = f"{uri}/{code.name}"
    marker = f"{uri}.uploaded"
    if not objects.exists(marker):
        if code.is_file():
            objects.put_file(code, uri)
        else:
            upload_path(objects, code, uri, ignore_patterns)
        import tempfile

        with tempfile.NamedTemporaryFile() as empty:
            objects.put_file(Path(empty.name), marker)
    return uri


def _short(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:32]


# -- training jobs ---------------------------------------------------------------------------


def format_transition(transition: Mapping[str, Any]) -> str:
    """A secondary status transition as ``wait(logs=True)`` prints it."""
    start = transition.get("StartTime")
    stamp = start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if start else ""
    return f"{stamp} {transition.get('Status')} - {transition.get('StatusMessage', '')}"


class RemoteTrainingJobs:
    """The training jobs of a ``sageyard server`` (see the module's docstring)."""

    NOUN = "Training job"

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    @property
    def settings(self) -> Settings:
        return self.remote.settings

    @property
    def objects(self) -> ObjectStore:
        return self.remote.objects

    def create_training_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """CreateTrainingJob with the local files uploaded first; ARN and name."""
        sent = upload_local_files(request, self.objects, self.settings.default_bucket)
        answer = self.remote.send("SageMaker.CreateTrainingJob", sent)
        return {
            "TrainingJobArn": answer["TrainingJobArn"],
            "TrainingJobName": answer["TrainingJobArn"].rpartition("/")[2],
        }

    def validate_training_job(self, request: Mapping[str, Any]) -> None:
        """Every check CreateTrainingJob makes (the local files uploaded, as they must be
        for the server to see them), creating no job."""
        sent = upload_local_files(request, self.objects, self.settings.default_bucket)
        self.remote.send("Sageyard.ValidateTrainingJob", sent)

    def describe(self, name: str) -> dict[str, Any]:
        return self.remote.call("sagemaker", "describe_training_job", TrainingJobName=name)

    def status(self, name: str) -> str:
        return str(self.describe(name)["TrainingJobStatus"])

    def stop(self, name: str) -> None:
        self.remote.call("sagemaker", "stop_training_job", TrainingJobName=name)

    def update(self, name: str, request: Mapping[str, Any]) -> None:
        """UpdateTrainingJob with ``request``'s fields (ResourceConfig, RemoteDebugConfig)."""
        self.remote.call("sagemaker", "update_training_job", TrainingJobName=name, **request)

    def delete(self, name: str) -> None:
        self.remote.call("sagemaker", "delete_training_job", TrainingJobName=name)

    def list_names(self, **filters: Any) -> list[str]:
        """The names ListTrainingJobs gives for ``filters`` (its parameters, snake_case
        as ``TrainingJob.get_all`` takes them), in its order."""
        params = {_pascal(k): v for k, v in filters.items() if v is not None}
        items = self.remote.pages(
            "sagemaker", "list_training_jobs", "TrainingJobSummaries", **params
        )
        return [item["TrainingJobName"] for item in items]

    def summaries(self, **filters: Any) -> list[dict[str, Any]]:
        """ListTrainingJobs' summaries (``MaxResults`` at most, newest first)."""
        params = {_pascal(k): v for k, v in filters.items() if v is not None}
        return self.remote.call("sagemaker", "list_training_jobs", **params)["TrainingJobSummaries"]

    def metrics(self, name: str, metric_name: str | None = None) -> list[MetricPoint]:
        """Every value of the job's metrics (or of ``metric_name``), in time order, from
        SageMaker Metrics' BatchGetMetrics (one value per iteration, times in seconds)."""
        description = self.describe(name)
        names = [metric_name] if metric_name else _metric_names(description)
        if not names:
            return []
        queries = [
            {
                "MetricName": metric,
                "ResourceArn": description["TrainingJobArn"],
                "MetricStat": "Last",
                "Period": "IterationNumber",
                "XAxisType": "Timestamp",
            }
            for metric in names
        ]
        results = self.remote.call("sagemaker-metrics", "batch_get_metrics", MetricQueries=queries)
        points = []
        for metric, result in zip(names, results["MetricQueryResults"], strict=True):
            if result["Status"] not in ("Complete", "Truncated"):
                raise ConfigurationError(f"Metric {metric!r} of {name}: {result.get('Message')}")
            times, values = result.get("XAxisValues", []), result.get("MetricValues", [])
            points += [
                MetricPoint(metric_name=metric, value=value, at=float(at), step=step)
                for step, (at, value) in enumerate(zip(times, values, strict=True))
            ]
        return sorted(points, key=lambda p: (p.at, p.metric_name, p.step))

    # -- follow ------------------------------------------------------------------------------

    def log_lines(self, name: str, *, follow: bool = False, poll: float = 1.0) -> Iterator[str]:
        """The job's log lines, from its CloudWatch streams; with ``follow``, until it ends."""
        reader = StreamReader(self.remote, name, _host_count(self.describe(name)))
        while True:
            ended = self.status(name) not in ACTIVE
            yield from reader.read()
            if not follow or ended:
                return
            time.sleep(poll)

    def follow(
        self,
        name: str,
        *,
        logs: bool,
        out: TextIO,
        deadline: float | None = None,
        poll: float = 0.2,
    ) -> None:
        """Poll until the job ends, printing each secondary status and (with ``logs``) its
        log lines, as the local service's ``follow_job`` does. Polls start 50 ms apart
        and slow to ``poll`` or 1 s, whichever is longer (each is a call over the network;
        no doorbell rings across machines)."""
        description = self.describe(name)
        reader = StreamReader(self.remote, name, _host_count(description)) if logs else None
        shown, interval = 0, max(0.01, min(poll, 0.05))  # fast at first: short jobs seen at once
        while True:
            ended = description["TrainingJobStatus"] not in ACTIVE
            if reader is not None:
                transitions = description.get("SecondaryStatusTransitions", [])[shown:]
                shown += len(transitions)
                split = next(
                    (i for i, t in enumerate(transitions) if t.get("Status") in _AFTER),
                    len(transitions),
                )
                lines = [format_transition(t) for t in transitions[:split]]
                lines += reader.read()
                lines += [format_transition(t) for t in transitions[split:]]
                out.writelines(line + "\n" for line in lines)
                out.flush()
            if ended:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutExceededError(
                    "TrainingJob",
                    description["TrainingJobStatus"],
                    message=f"Training job {name} is still running; call .refresh() to check "
                    "its current status, or wait() again.",
                )
            pause = interval if deadline is None else min(interval, deadline - time.monotonic())
            time.sleep(max(0.0, pause))
            interval = min(interval * 1.5, max(poll, 1.0))
            description = self.describe(name)


#: The training jobs the facade and CLI reach: this machine's service or a server's.
TrainingJobs = TrainingJobService | RemoteTrainingJobs


def training_jobs_for(settings: Settings) -> TrainingJobs:
    """The server's training jobs with ``settings.endpoint_url``, else this machine's."""
    if settings.endpoint_url:
        return RemoteTrainingJobs(Remote(settings))
    return TrainingJobService(settings)


class StreamReader:
    """Reads a job's new log events, stream by stream (``<job>/algo-N-<epoch>``), each
    line prefixed with its host when the job has several."""

    def __init__(self, remote: Remote, name: str, hosts: int) -> None:
        self.remote, self.name, self._prefix = remote, name, hosts > 1
        self._tokens: dict[str, str | None] = {}

    def read(self) -> list[str]:
        streams = self.remote.pages(
            "logs",
            "describe_log_streams",
            "logStreams",
            logGroupName=LOG_GROUP,
            logStreamNamePrefix=f"{self.name}/",
        )
        lines = []
        for stream in sorted(s["logStreamName"] for s in streams):
            host = stream.split("/", 1)[1].rsplit("-", 1)[0]
            for message in self._events(stream):
                lines.append(f"[{host}] {message}" if self._prefix else message)
        return lines

    def _events(self, stream: str) -> Iterator[str]:
        while True:
            token = self._tokens.get(stream)
            params: dict[str, Any] = {"nextToken": token} if token else {"startFromHead": True}
            page = self.remote.call(
                "logs", "get_log_events", logGroupName=LOG_GROUP, logStreamName=stream, **params
            )
            events = page.get("events", [])
            self._tokens[stream] = page.get("nextForwardToken") or token
            for event in events:
                yield str(event.get("message", ""))
            if not events or page.get("nextForwardToken") == token:
                return


def _host_count(description: Mapping[str, Any]) -> int:
    resources = description.get("ResourceConfig") or {}
    groups = resources.get("InstanceGroups") or []
    return sum(g.get("InstanceCount", 0) for g in groups) or int(resources.get("InstanceCount", 1))


def _metric_names(description: Mapping[str, Any]) -> list[str]:
    """The metrics a job has values of (its final metrics) or defines."""
    names = [m["MetricName"] for m in description.get("FinalMetricDataList", [])]
    definitions = (description.get("AlgorithmSpecification") or {}).get("MetricDefinitions", [])
    return list(dict.fromkeys(names + [d["Name"] for d in definitions]))


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


# -- model registry --------------------------------------------------------------------------


class RemoteModelRegistry:
    """The model packages of a ``sageyard server``, as :class:`ModelRegistry` gives them
    (DescribeModelPackage's answer as sent, sageyard's own fields under ``Sageyard``)."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    def find_package(self, reference: str) -> ModelPackage | None:
        """A package by ``group/version``, ARN or group name (its latest); None if none."""
        try:
            answer = self.remote.send(
                "SageMaker.DescribeModelPackage", {"ModelPackageName": reference}
            )
        except ResourceNotFound:
            return None
        return package_from_wire(answer)

    def list_packages(self, group: str | None = None) -> list[ModelPackage]:
        """Every package (of ``group``), oldest first."""
        params: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Ascending"}
        if group:
            params["ModelPackageGroupName"] = group
        listed = self.remote.pages(
            "sagemaker", "list_model_packages", "ModelPackageSummaryList", **params
        )
        found = [self.find_package(item["ModelPackageArn"]) for item in listed]
        return [package for package in found if package is not None]


def package_from_wire(answer: Mapping[str, Any]) -> ModelPackage:
    """A DescribeModelPackage answer (as JSON: times in epoch seconds) as a ModelPackage."""
    import dataclasses

    from sageyard.core.shapes import pascal_case
    from sageyard.core.shapes._described import described

    own = dict(answer.get("Sageyard") or {})
    fields: dict[str, Any] = {}
    for item in dataclasses.fields(ModelPackage):
        key = pascal_case(item.name)
        if item.name in SAGEYARD_FIELDS:
            if key in own:
                fields[item.name] = own[key]
        elif item.name.endswith("_time") and isinstance(answer.get(key), int | float):
            fields[item.name] = datetime.fromtimestamp(answer[key], UTC)
        elif key in answer:
            fields[item.name] = described(answer[key])
    return ModelPackage(**fields)


#: The model packages the facade and CLI read: this machine's registry or a server's.
ModelPackages = ModelRegistry | RemoteModelRegistry


def registry_for(settings: Settings) -> ModelPackages:
    """The server's model packages with ``settings.endpoint_url``, else this machine's."""
    if settings.endpoint_url:
        return RemoteModelRegistry(Remote(settings))
    return ModelRegistry(settings)
