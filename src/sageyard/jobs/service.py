"""The training-job service: create, read, stop and follow jobs in the job store.

Every public read goes through :meth:`TrainingJobService.get`, which also notices jobs whose
supervisor has died and marks them Failed, so no job stays InProgress forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sageyard.core.exceptions import ConfigurationError, ValidationException
from sageyard.core.settings import Settings
from sageyard.jobs.artifacts import model_artifacts_uri
from sageyard.jobs.inputs import upload_local_inputs
from sageyard.jobs.launch import launch_supervisor
from sageyard.jobs.liveness import owner_alive
from sageyard.jobs.records import JobRecords
from sageyard.jobs.spec import TrainingJobSpec
from sageyard.jobs.states import KIND
from sageyard.jobs.warm_pools import claim as claim_warm_pool
from sageyard.jobs.warm_pools import warm_status
from sageyard.runtime.environment import mask_secrets, mask_text, secret_values
from sageyard.runtime.layout import JobPaths
from sageyard.runtime.sandbox import kill_process_group
from sageyard.storage import ObjectStore, object_store_for, upload_path
from sageyard.store import JobRecord, JobStore, MetricPoint, final_metrics, open_store

logger = logging.getLogger(__name__)

Launcher = Callable[[Settings, str, Path], None]

_MAX_NAME = 63


def job_arn(settings: Settings, name: str) -> str:
    return f"arn:aws:sagemaker:{settings.region}:{settings.account_id}:training-job/{name}"


def default_bucket(settings: Settings) -> str:
    return settings.default_bucket


def timestamped_name(base: str, now: float) -> str:
    """``<base>-YYYY-mm-dd-HH-MM-SS-mmm`` (as the reference), cut to fit 63 characters."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d-%H-%M-%S")
    suffix = f"-{stamp}-{int(now * 1000) % 1000:03d}"
    return base[: _MAX_NAME - len(suffix)].rstrip("-") + suffix


def _when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


#: The filters of ListTrainingJobs, as :meth:`TrainingJobService.list_names` takes them.
_LIST_FILTERS = frozenset(
    {
        "creation_time_after",
        "creation_time_before",
        "last_modified_time_after",
        "last_modified_time_before",
        "name_contains",
        "status_equals",
        "sort_by",
        "sort_order",
        "warm_pool_status_equals",
        "training_plan_arn_equals",
    }
)


class TrainingJobService(JobRecords):
    """Training jobs over the job store and the object store. Construction does no I/O."""

    KIND = KIND
    NOUN = "Training job"
    DESCRIBE_OPERATION = "DescribeTrainingJob"
    CLI_LIST = "sageyard jobs list"

    def __init__(self, settings: Settings, launcher: Launcher = launch_supervisor) -> None:
        self.settings = settings
        self.launcher = launcher
        self._store: JobStore | None = None
        self._objects: ObjectStore | None = None

    @property
    def store(self) -> JobStore:
        if self._store is None:
            self._store = open_store(self.settings.store_url)
        return self._store

    @property
    def objects(self) -> ObjectStore:
        if self._objects is None:
            self._objects = object_store_for(self.settings)
        return self._objects

    def paths(self, name: str) -> JobPaths:
        return JobPaths(self.settings.jobs_dir / name)

    # -- create ------------------------------------------------------------------------------

    def create_training_job(self, request: Mapping[str, Any]) -> JobRecord:
        """CreateTrainingJob: validate ``request`` (see ``jobs/request.py``), then create it.

        Raises:
            ValueError: The request breaks a rule (a ConfigurationError; nothing is written).
            botocore.exceptions.ClientError: ResourceLimitExceeded, or ResourceInUse for a
                TrainingJobName that is taken.
        """
        from sageyard.jobs.request import validate_training_job  # not a supervisor's import

        job = validate_training_job(request, self.settings, self.objects)
        return self.create(
            job.spec,
            base_name=job.base_name,
            source_dir=job.source_dir,
            ignore_patterns=job.ignore_patterns,
        )

    def validate_training_job(self, request: Mapping[str, Any]) -> TrainingJobSpec:
        """Every check of :meth:`create_training_job`, writing nothing: the job's spec.

        Raises the same errors; the name is not checked against existing jobs (a job that
        takes it later would be refused then).
        """
        from sageyard.jobs.request import validate_training_job

        return validate_training_job(request, self.settings, self.objects).spec

    def create(
        self,
        spec: TrainingJobSpec,
        *,
        base_name: str | None = None,
        source_dir: Path | None = None,
        ignore_patterns: list[str] | None = None,
        parent: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> JobRecord:
        """Persist a validated job, snapshot its code, and start its supervisor.

        For a spec that already passed ``validate_training_job`` (a tuning job's trials).

        With ``base_name``, the name is ``<base>-<timestamp>``, bumped until unique;
        otherwise ``spec.training_job_name`` is used and must be new (ResourceInUse).
        ``parent`` names the tuning job that made it; ``extra`` adds document fields.
        """
        extra = dict(extra or {})
        if spec.keep_alive_seconds:
            extra["warm_pool"] = {"Status": "InUse"}
        spec = upload_local_inputs(spec, self.objects, self.settings)  # for a cluster's nodes
        record = self._insert(spec, base_name, source_dir is not None, parent, extra)
        name = record.name
        try:
            if source_dir is not None:
                code_uri = record.document["spec"]["code_uri"]
                snapshot_code(
                    self.objects, source_dir, code_uri, ignore_patterns, self.settings.home / "tmp"
                )
            # a matching warm pool runs it (warm_pools.py); else a supervisor of its own
            if not (
                spec.keep_alive_seconds and claim_warm_pool(self.store, self.settings, spec, name)
            ):
                self.launcher(self.settings, name, self.paths(name).root / "supervisor.log")
        except Exception as error:
            self.fail_to_start(record, error)
            raise
        return record

    def _insert(
        self,
        spec: TrainingJobSpec,
        base_name: str | None,
        snapshot: bool,
        parent: str | None,
        extra: dict[str, Any],
    ) -> JobRecord:
        def build(name: str, now: float) -> JobRecord:
            named = self._named(spec, name, snapshot)
            return JobRecord(
                name=name,
                kind=KIND,
                status="InProgress",
                secondary_status="Starting",
                parent=parent,
                created_at=now,
                updated_at=now,
                heartbeat_at=now,
                owner=None,
                document={**extra, "spec": named.model_dump(mode="json")},
            )

        starting = {"Status": "Starting", "StatusMessage": "Preparing the instances for training"}
        return self.insert_new(
            spec.training_job_name,
            base_name,
            timestamped_name,
            build,
            "CreateTrainingJob",
            events=[starting],
        )

    def _named(self, spec: TrainingJobSpec, name: str, snapshot: bool) -> TrainingJobSpec:
        code_uri = spec.code_uri
        if snapshot:
            code_uri = f"s3://{default_bucket(self.settings)}/{name}/input/code"
        request = {**spec.request, "TrainingJobName": name}
        return spec.model_copy(
            update={"training_job_name": name, "code_uri": code_uri, "request": request}
        )

    # -- read --------------------------------------------------------------------------------

    def _interruption_advice(self) -> str:
        return " (killed, or the machine restarted)."

    def _final_fields(self, record: JobRecord) -> dict[str, Any]:
        return {"final_metrics": final_metrics(self.store.metrics(record.name))}

    def _after_interrupted(self, record: JobRecord, reason: str, gone: bool) -> None:
        self.store.append_events(record.name, [{"Status": "Interrupted", "StatusMessage": reason}])
        if gone:  # end what the dead supervisor left running on this machine
            for host in record.document.get("host_pids", {}).values():
                # an owner token (pid and start time): never a group that reused the pid
                if isinstance(host, str) and owner_alive(host):
                    kill_process_group(int(host.split(":")[1]))

    def metrics(self, name: str, metric_name: str | None = None) -> list[MetricPoint]:
        return self.store.metrics(name, metric_name)

    def status(self, name: str) -> str:
        return self.get(name).status

    def list_names(self, **filters: Any) -> list[str]:
        """The names ListTrainingJobs gives for ``filters`` (its parameters in snake_case,
        as ``TrainingJob.get_all`` takes them), in its order."""
        from sageyard.core._resource_args import listed_jobs
        from sageyard.jobs.states import JOB_STATUSES

        unknown = set(filters) - _LIST_FILTERS
        if unknown:
            raise ConfigurationError(
                f"ListTrainingJobs has no filter {sorted(unknown)}; it takes "
                f"{sorted(_LIST_FILTERS)}."
            )
        name_contains = filters.pop("name_contains", None)
        pool = filters.pop("warm_pool_status_equals", None)
        plan = filters.pop("training_plan_arn_equals", None)
        records = listed_jobs(self.list_jobs(name_contains=name_contains), JOB_STATUSES, **filters)
        if plan is not None:  # sageyard runs no training plans
            return []
        if pool is None:
            return [record.name for record in records]
        return [r.name for r in records if (warm_status(self.store, r) or {}).get("Status") == pool]

    def follow(
        self,
        name: str,
        *,
        logs: bool,
        out: TextIO,
        deadline: float | None = None,
        poll: float = 0.2,
    ) -> None:
        """Block until the job ends, printing its secondary statuses and (with ``logs``)
        its log lines (``jobs/follow.py``)."""
        from sageyard.jobs.follow import follow_job

        follow_job(self, name, logs=logs, out=out, deadline=deadline, poll=poll)

    def log_lines(self, name: str, *, follow: bool = False, poll: float = 0.2) -> Iterator[str]:
        """The job's log lines; with ``follow``, until it ends (``jobs/follow.py``)."""
        from sageyard.jobs.follow import log_lines

        return log_lines(self, name, follow=follow, poll=poll)

    def describe(self, name: str) -> dict[str, Any]:
        """A DescribeTrainingJob-shaped dict (environment secrets masked)."""
        return self.describe_record(self.get(name))

    def describe_record(self, record: JobRecord) -> dict[str, Any]:
        """The record as DescribeTrainingJob returns it. The values of the job's secret
        environment variables (names with SECRET, PASSWORD, KEY, TOKEN, ...) are masked
        wherever they appear: the Environment, the HyperParameters, FailureReason, the
        status messages and the warnings."""
        doc = record.document
        spec = TrainingJobSpec.model_validate(doc["spec"])
        secrets = secret_values(spec.environment)

        def masked(text: str, *, edges: bool = False) -> str:
            return mask_text(text, secrets, edges=edges)

        request = dict(spec.request)
        if "Environment" in request:
            request["Environment"] = {
                key: masked(value) for key, value in mask_secrets(request["Environment"]).items()
            }
        events = self.store.events(record.name)
        transitions = []
        for index, (at, payload) in enumerate(events):
            item = {
                "Status": payload.get("Status"),
                "StartTime": _when(at),
                "StatusMessage": masked(str(payload.get("StatusMessage", "")), edges=True),
            }
            if index + 1 < len(events):
                item["EndTime"] = _when(events[index + 1][0])
            transitions.append(item)
        start, end = doc.get("training_start_time"), doc.get("training_end_time")
        finished = doc.get("end_time")
        metrics = doc.get("final_metrics")
        if metrics is None:
            metrics = final_metrics(self.store.metrics(record.name))
        description: dict[str, Any] = {
            **request,
            "TrainingJobName": record.name,
            "TrainingJobArn": job_arn(self.settings, record.name),
            "TrainingJobStatus": record.status,
            "SecondaryStatus": record.secondary_status,
            "HyperParameters": {k: masked(v) for k, v in spec.hyperparameters.items()},
            "CreationTime": _when(record.created_at),
            "LastModifiedTime": _when(record.updated_at),
            "SecondaryStatusTransitions": transitions,
            "FinalMetricDataList": [{**m, "Timestamp": _when(m["Timestamp"])} for m in metrics],
        }
        if start is not None:
            description["TrainingStartTime"] = _when(start)
        if end is not None:
            description["TrainingEndTime"] = _when(end)
            seconds = max(1, round(end - start)) if start is not None else 0
            description["TrainingTimeInSeconds"] = doc.get("training_seconds", seconds)
            description["BillableTimeInSeconds"] = doc.get("billable_seconds", seconds)
        if record.status == "Completed" or (record.status == "Stopped" and end is not None):
            description["ModelArtifacts"] = {"S3ModelArtifacts": model_artifacts_uri(spec)}
        if doc.get("failure_reason"):
            description["FailureReason"] = masked(str(doc["failure_reason"]), edges=True)
        if doc.get("output_model_package_arn"):
            description["OutputModelPackageArn"] = doc["output_model_package_arn"]
        if doc.get("notes"):
            description["Warnings"] = [masked(str(note)) for note in doc["notes"]]
        if doc.get("placement"):  # a cluster executor's: the strategy, each host's node
            extension = dict(description.get("Sageyard") or {})
            description["Sageyard"] = {**extension, "Placement": doc["placement"]}
        if (pool := warm_status(self.store, record)) is not None:
            description["WarmPoolStatus"] = pool
        if finished is not None and end is None:
            description["TrainingEndTime"] = _when(finished)
        return description

    # -- act ---------------------------------------------------------------------------------

    def stop(self, name: str) -> None:
        """Ask the supervisor to stop the job (SIGTERM, grace, SIGKILL). No-op once ended."""
        record = self.get(name)
        if record.status == "Stopping":
            return
        if record.status != "InProgress":
            raise ValidationException(
                f"Training job {name!r} has status {record.status}; only an InProgress job "
                "can be stopped.",
                "StopTrainingJob",
            )
        self.store.update(name, status="Stopping", expect_status={"InProgress"})


def snapshot_code(
    objects: ObjectStore,
    source_dir: Path,
    code_uri: str,
    ignore_patterns: list[str] | None,
    scratch_root: Path | None = None,
) -> None:
    """Upload a job's code: a folder as it is, a ``.tar.gz`` unpacked (safely) first, in a
    scratch folder under ``scratch_root`` that a later supervisor collects if this process
    is killed meanwhile (``jobs/artifacts.py``)."""
    if not source_dir.is_file():
        upload_path(objects, source_dir, code_uri, ignore_patterns)
        return
    import tarfile
    import tempfile

    from sageyard.jobs.artifacts import scratch_dir

    root = scratch_root or Path(tempfile.gettempdir())
    with scratch_dir(root, "code") as scratch:
        with tarfile.open(source_dir, "r:gz") as archive:
            archive.extractall(scratch, filter="data")  # no links out, no absolute paths
        upload_path(objects, scratch, code_uri, ignore_patterns)
