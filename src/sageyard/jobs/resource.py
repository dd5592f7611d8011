"""``TrainingJob``: a handle on one job in the job store, readable from any process.

Like the real SDK's resource (``sagemaker.core.resources.TrainingJob``) it is created with
:meth:`TrainingJob.create` (CreateTrainingJob's fields in snake_case), read with ``get``,
``get_all`` and ``refresh``, followed with ``wait``, and ended with ``stop``/``delete``.

Example:
    >>> from sageyard.core.resources import TrainingJob
    >>> job = TrainingJob.get("my-job-20261128-000000-000")  # doctest: +SKIP
    >>> job.training_job_status, job.model_artifacts.s3_model_artifacts  # doctest: +SKIP
    ('Completed', 's3://sagemaker-us-west-2-000000000000/my-job/…/output/model.tar.gz')
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from sageyard.core._resource_args import (
    api_arguments,
    api_mapping,
    check_fields,
    one_of,
    wait_for_delete,
)
from sageyard.core.exceptions import (
    ConfigurationError,
    ResourceInUse,
    ResourceNotFound,
    TrainingJobFailedError,
    ValidationException,
)
from sageyard.core.settings import Settings, settings_of
from sageyard.core.shapes import pascal_case
from sageyard.core.shapes._described import described
from sageyard.jobs.remote import RemoteTrainingJobs, TrainingJobs, training_jobs_for
from sageyard.jobs.service import TrainingJobService, default_bucket
from sageyard.jobs.states import ACTIVE, JOB_STATUSES, TERMINAL
from sageyard.jobs.warm_pools import update_keep_alive
from sageyard.store import JobRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelArtifacts:
    s3_model_artifacts: str

    def __str__(self) -> str:
        return self.s3_model_artifacts


@dataclass(frozen=True)
class MetricData:
    metric_name: str
    value: float
    timestamp: datetime | None = None


@dataclass(frozen=True)
class SecondaryStatusTransition:
    status: str
    start_time: datetime | None
    end_time: datetime | None
    status_message: str


#: The real SDK's TrainingJob attributes (sagemaker.core.resources), in its order. Those
#: without a typed attribute below hold the description's value (a dict answers its keys
#: as attributes too), or None when the job has none.
TRAINING_JOB_FIELDS = (
    "training_job_name",
    "training_job_arn",
    "tuning_job_arn",
    "labeling_job_arn",
    "auto_ml_job_arn",
    "model_artifacts",
    "training_job_status",
    "secondary_status",
    "failure_reason",
    "hyper_parameters",
    "algorithm_specification",
    "role_arn",
    "input_data_config",
    "output_data_config",
    "resource_config",
    "warm_pool_status",
    "vpc_config",
    "stopping_condition",
    "creation_time",
    "training_start_time",
    "training_end_time",
    "last_modified_time",
    "secondary_status_transitions",
    "final_metric_data_list",
    "enable_network_isolation",
    "enable_inter_container_traffic_encryption",
    "enable_managed_spot_training",
    "checkpoint_config",
    "training_time_in_seconds",
    "billable_time_in_seconds",
    "billable_token_count",
    "debug_hook_config",
    "experiment_config",
    "debug_rule_configurations",
    "tensor_board_output_config",
    "debug_rule_evaluation_statuses",
    "profiler_config",
    "profiler_rule_configurations",
    "profiler_rule_evaluation_statuses",
    "profiling_status",
    "environment",
    "retry_strategy",
    "remote_debug_config",
    "infra_check_config",
    "serverless_job_config",
    "mlflow_config",
    "model_package_config",
    "mlflow_details",
    "progress_info",
    "output_model_package_arn",
)


#: The attributes refresh() sets with types of their own (the rest come from the description).
_TYPED = frozenset(
    {
        "training_job_name",
        "training_job_arn",
        "training_job_status",
        "secondary_status",
        "failure_reason",
        "model_artifacts",
        "final_metric_data_list",
        "hyper_parameters",
        "secondary_status_transitions",
        "creation_time",
        "training_start_time",
        "training_end_time",
        "last_modified_time",
        "training_time_in_seconds",
        "billable_time_in_seconds",
        "role_arn",
        "output_model_package_arn",
    }
)


#: ListTrainingJobs' WarmPoolStatusEquals values.
WARM_POOL_STATUSES = ("Available", "Terminated", "Reused", "InUse")
#: UpdateTrainingJob's RemoteDebugConfig may change while the job is in these phases.
_REMOTE_DEBUG_PHASES = frozenset({"Downloading", "Training"})


class TrainingJob:
    """A training job, as DescribeTrainingJob shows it, with create/refresh/wait/stop/delete.

    Every attribute of the real SDK's ``TrainingJob`` is there after :meth:`refresh`
    (:data:`TRAINING_JOB_FIELDS`), in snake_case, and each is a keyword of the constructor
    (``TrainingJob(training_job_name="my-job").refresh()``); what a job does not have is
    ``None``.
    """

    training_job_name: str
    training_job_arn: str | None
    training_job_status: str | None
    secondary_status: str | None
    failure_reason: str | None
    model_artifacts: ModelArtifacts | None
    final_metric_data_list: list[MetricData]
    hyper_parameters: dict[str, str]
    secondary_status_transitions: list[SecondaryStatusTransition]
    creation_time: datetime | None
    training_start_time: datetime | None
    training_end_time: datetime | None
    last_modified_time: datetime | None
    training_time_in_seconds: int | None
    billable_time_in_seconds: int | None
    role_arn: str | None
    warnings: list[str]
    output_model_package_arn: str | None

    def __init__(
        self, training_job_name: str, service: TrainingJobs | None = None, **fields: Any
    ) -> None:
        check_fields("TrainingJob", fields, TRAINING_JOB_FIELDS)
        self.training_job_name = training_job_name
        self._service = service or training_jobs_for(Settings.from_env())
        self._description: dict[str, Any] = {}
        self.warnings = []
        for field in TRAINING_JOB_FIELDS[1:]:
            setattr(self, field, None)
        self.final_metric_data_list, self.secondary_status_transitions = [], []
        self.hyper_parameters = {}
        for field, value in fields.items():
            setattr(self, field, _given(field, value))

    # -- create and read ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        training_job_name: str,
        role_arn: str,
        output_data_config: Any,
        hyper_parameters: Mapping[str, str] | None = None,
        algorithm_specification: Any = None,
        input_data_config: list[Any] | None = None,
        resource_config: Any = None,
        vpc_config: Any = None,
        stopping_condition: Any = None,
        tags: list[Any] | None = None,
        enable_network_isolation: bool | None = None,
        enable_inter_container_traffic_encryption: bool | None = None,
        enable_managed_spot_training: bool | None = None,
        checkpoint_config: Any = None,
        debug_hook_config: Any = None,
        debug_rule_configurations: list[Any] | None = None,
        tensor_board_output_config: Any = None,
        experiment_config: Any = None,
        profiler_config: Any = None,
        profiler_rule_configurations: list[Any] | None = None,
        environment: Mapping[str, str] | None = None,
        retry_strategy: Any = None,
        remote_debug_config: Any = None,
        infra_check_config: Any = None,
        session_chaining_config: Any = None,
        serverless_job_config: Any = None,
        mlflow_config: Any = None,
        model_package_config: Any = None,
        session: Any = None,
        region: Any = None,
    ) -> TrainingJob:
        """CreateTrainingJob, then the new job (as the real ``TrainingJob.create``).

        Each argument is a shape, or a dict of its fields in snake_case (or the API's
        PascalCase); together they are the CreateTrainingJob request that the job service
        validates (``sageyard/jobs/request.py``) before anything is written. A built-in
        algorithm runs by its image URI (``image_uris.retrieve("xgboost", ...)``), and any
        image runs in Docker with ``SAGEYARD_EXECUTOR=container``; to run your own script
        on this machine, use ``ModelTrainer(source_code=...)``, which sends the code along.

        Example:
            >>> job = TrainingJob.create(  # doctest: +SKIP
            ...     training_job_name="xgb-1",
            ...     role_arn="arn:aws:iam::000000000000:role/SageMakerRole",
            ...     algorithm_specification={"training_image": image_uri},
            ...     input_data_config=[{"channel_name": "train", "data_source": {
            ...         "s3_data_source": {"s3_data_type": "S3Prefix", "s3_uri": train}}}],
            ...     output_data_config={"s3_output_path": "s3://bucket/out"},
            ...     resource_config={"instance_type": "ml.m5.xlarge", "instance_count": 1},
            ...     hyper_parameters={"num_round": "10", "objective": "binary:logistic"},
            ... )
            >>> job.wait()  # doctest: +SKIP

        Raises:
            ValueError: The request breaks a rule (a ConfigurationError; nothing is written).
            botocore.exceptions.ClientError: ResourceInUse (the name is taken) or
                ResourceLimitExceeded.
        """
        arguments = {k: v for k, v in locals().items() if k not in ("cls", "session", "region")}
        service = training_jobs_for(settings_of(session))
        service.create_training_job(api_arguments(arguments))
        return cls.get(training_job_name, session=session, region=region)

    @classmethod
    def get(cls, training_job_name: str, session: Any = None, region: Any = None) -> TrainingJob:
        """Load a job by name. Raises ResourceNotFound (a ClientError) if there is none.

        ``session`` is a sageyard Session (a boto3 session, as the real SDK takes, is
        ignored: the jobs are this store's); ``region`` is accepted and not used.
        """
        return cls(training_job_name, training_jobs_for(settings_of(session))).refresh()

    @classmethod
    def get_all(
        cls,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        last_modified_time_after: datetime | None = None,
        last_modified_time_before: datetime | None = None,
        name_contains: str | None = None,
        status_equals: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        warm_pool_status_equals: str | None = None,
        training_plan_arn_equals: str | None = None,
        session: Any = None,
        region: Any = None,
    ) -> Iterator[TrainingJob]:
        """Every training job that matches every filter, as ListTrainingJobs has them.

        Times are strict (``creation_time_after=t``: created after t; a naive datetime is
        UTC). ``sort_by`` is ``CreationTime`` (the default), ``Name`` or ``Status``; with no
        ``sort_order`` the newest come first (by name or status: ascending).
        ``warm_pool_status_equals`` matches the jobs whose WarmPoolStatus has that status
        (``jobs/warm_pools.py``); sageyard runs no training plans, so
        ``training_plan_arn_equals`` matches none.

        Raises:
            ValueError: A filter has a value the real API refuses (ConfigurationError).
        """
        one_of(warm_pool_status_equals, WARM_POOL_STATUSES, "warm_pool_status_equals")
        one_of(status_equals, JOB_STATUSES, "status_equals")
        service = training_jobs_for(settings_of(session))
        names = service.list_names(
            creation_time_after=creation_time_after,
            creation_time_before=creation_time_before,
            last_modified_time_after=last_modified_time_after,
            last_modified_time_before=last_modified_time_before,
            name_contains=name_contains,
            status_equals=status_equals,
            sort_by=sort_by,
            sort_order=sort_order,
            warm_pool_status_equals=warm_pool_status_equals,
            training_plan_arn_equals=training_plan_arn_equals,
        )

        def jobs() -> Iterator[TrainingJob]:
            for name in names:
                with contextlib.suppress(ResourceNotFound):  # deleted since it was listed
                    yield cls(name, service).refresh()

        return jobs()

    def refresh(self) -> TrainingJob:
        d = self._service.describe(self.training_job_name)
        self._description = d
        self.training_job_arn = d["TrainingJobArn"]
        self.training_job_status = d["TrainingJobStatus"]
        self.secondary_status = d.get("SecondaryStatus")
        self.failure_reason = d.get("FailureReason")
        artifacts = d.get("ModelArtifacts")
        self.model_artifacts = ModelArtifacts(artifacts["S3ModelArtifacts"]) if artifacts else None
        self.final_metric_data_list = [
            MetricData(m["MetricName"], m["Value"], m.get("Timestamp"))
            for m in d.get("FinalMetricDataList", [])
        ]
        self.hyper_parameters = dict(d.get("HyperParameters", {}))
        self.secondary_status_transitions = [
            SecondaryStatusTransition(
                t["Status"], t.get("StartTime"), t.get("EndTime"), t.get("StatusMessage", "")
            )
            for t in d.get("SecondaryStatusTransitions", [])
        ]
        self.creation_time = d.get("CreationTime")
        self.training_start_time = d.get("TrainingStartTime")
        self.training_end_time = d.get("TrainingEndTime")
        self.last_modified_time = d.get("LastModifiedTime")
        self.training_time_in_seconds = d.get("TrainingTimeInSeconds")
        self.billable_time_in_seconds = d.get("BillableTimeInSeconds")
        self.role_arn = d.get("RoleArn")
        self.warnings = list(d.get("Warnings", []))
        self.output_model_package_arn = d.get("OutputModelPackageArn")
        for field in TRAINING_JOB_FIELDS:  # the rest of the real resource's attributes
            if field not in _TYPED:
                setattr(self, field, described(d.get(pascal_case(field))))
        return self

    def describe(self) -> dict[str, Any]:
        """The DescribeTrainingJob-shaped dict (secrets in Environment masked)."""
        return dict(self.refresh()._description)

    def get_name(self) -> str:
        return self.training_job_name

    def metrics(self, metric_name: str | None = None) -> list[MetricData]:
        """The whole time series of the job's metrics (every match, in order)."""
        return [
            MetricData(p.metric_name, p.value, datetime.fromtimestamp(p.at, UTC))
            for p in self._service.metrics(self.training_job_name, metric_name)
        ]

    # -- change ------------------------------------------------------------------------------

    def update(
        self,
        profiler_config: Any = None,
        profiler_rule_configurations: list[Any] | None = None,
        resource_config: Any = None,
        remote_debug_config: Any = None,
    ) -> TrainingJob:
        """UpdateTrainingJob, as far as a local engine has something to change.

        ``remote_debug_config`` (``{"enable_remote_debug": bool}``) is recorded while the
        job is Downloading or Training, as on SageMaker (sageyard's hosts are processes of
        this machine: there is no SSM session to open, so it is shown, not acted on).
        ``resource_config`` (``{"keep_alive_period_in_seconds": n}``) changes how long the
        warm pool the job left waits, counted from the job's end (0 ends it now), while its
        WarmPoolStatus is Available. sageyard runs no SageMaker Debugger profiling, so
        ``profiler_config`` and ``profiler_rule_configurations`` have nothing to change and
        are refused.

        Raises:
            ValueError: An argument sageyard cannot apply (ConfigurationError; nothing is
                changed).
            botocore.exceptions.ClientError: ValidationException when the job is not in a
                phase that allows the change; ResourceNotFound.
        """
        if isinstance(self._service, RemoteTrainingJobs):
            changes = {k: v for k, v in locals().items() if k not in ("self", "changes")}
            self._service.update(self.training_job_name, api_arguments(changes))
            return self.refresh()
        if profiler_config is not None or profiler_rule_configurations is not None:
            raise ConfigurationError(
                "profiler_config and profiler_rule_configurations configure SageMaker "
                "Debugger profiling, which sageyard does not run, so there is nothing to "
                "update; leave them out (read the job's metrics with job.metrics())."
            )
        if resource_config is not None:
            self._update_keep_alive(
                api_mapping(resource_config, "resource_config", {"KeepAlivePeriodInSeconds"})
            )
        if remote_debug_config is not None:
            debug = api_mapping(remote_debug_config, "remote_debug_config", {"EnableRemoteDebug"})
            if not isinstance(debug.get("EnableRemoteDebug", False), bool):
                raise ConfigurationError(
                    "remote_debug_config.enable_remote_debug must be True or False, but got "
                    f"{debug['EnableRemoteDebug']!r}."
                )
            self._record_remote_debug(debug)
        return self.refresh()

    def _update_keep_alive(self, config: dict[str, Any]) -> None:
        assert isinstance(self._service, TrainingJobService)
        name = self.training_job_name
        seconds = config.get("KeepAlivePeriodInSeconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= 3600:
            raise ConfigurationError(
                "resource_config.keep_alive_period_in_seconds must be a whole number of "
                f"seconds from 0 to 3600, but got {seconds!r}."
            )
        if not update_keep_alive(self._service.store, name, seconds):
            pool = (self._service.describe(name).get("WarmPoolStatus") or {}).get("Status")
            raise ValidationException(
                f"Training job {name!r} has no Available warm pool (its WarmPoolStatus is "
                f"{pool or 'none'}), so its keep-alive period cannot change; set "
                "keep_alive_period_in_seconds in the Compute of the jobs that should keep one.",
                "UpdateTrainingJob",
            )

    def _record_remote_debug(self, debug: dict[str, Any]) -> None:
        assert isinstance(self._service, TrainingJobService)
        name = self.training_job_name
        record = self._service.get(name)
        if record.status != "InProgress" or record.secondary_status not in _REMOTE_DEBUG_PHASES:
            raise ValidationException(
                f"Training job {name!r} is {record.status} ({record.secondary_status}); its "
                "remote debug configuration can change only while it is Downloading or "
                "Training.",
                "UpdateTrainingJob",
            )
        spec = dict(record.document["spec"])
        spec["request"] = {**spec["request"], "RemoteDebugConfig": debug}
        if (
            self._service.store.update(name, document_patch={"spec": spec}, expect_status=ACTIVE)
            is None
        ):
            raise ValidationException(
                f"Training job {name!r} ended while its remote debug configuration was being "
                "updated; it can change only while the job runs.",
                "UpdateTrainingJob",
            )

    def stop(self) -> None:
        """Stop the job: SIGTERM to its processes, then SIGKILL after the grace period."""
        self._service.stop(self.training_job_name)

    def delete(self) -> None:
        """DeleteTrainingJob: forget a job that has ended (Completed, Failed or Stopped).

        The job's record, status history, metrics and logs go, and its name is free for a
        new job, as on SageMaker; what it wrote to ``output_data_config`` (its model
        artifacts) stays. sageyard's own copy of its local code goes too, so a new job of
        the same name starts from its own code only.

        Raises:
            botocore.exceptions.ClientError: ResourceInUse for a job that is still
                InProgress or Stopping (stop it and wait for it first); ResourceNotFound.
        """
        name = self.training_job_name
        if isinstance(self._service, RemoteTrainingJobs):
            self._service.delete(name)
            return
        record = self._service.get(name)
        if record.status not in TERMINAL:
            raise _in_use(name, record.status)
        removed = self._service.store.delete(name, expect_status=TERMINAL)
        if removed is None:  # it can only have been deleted meanwhile: a settled job stays so
            raise _in_use(name, "changing")
        shutil.rmtree(self._service.paths(name).root, ignore_errors=True)
        self._forget_code_snapshot(removed)
        logger.info("Deleted training job %s", name)

    def _forget_code_snapshot(self, record: JobRecord) -> None:
        """Remove the code the service snapshotted for this job (its ``input/code``)."""
        assert isinstance(self._service, TrainingJobService)
        settings = self._service.settings
        snapshot = f"s3://{default_bucket(settings)}/{record.name}/input/code"
        if record.document.get("spec", {}).get("code_uri") != snapshot:
            return  # code in the user's own S3 prefix, or a tuning job's shared snapshot
        objects = self._service.objects
        for uri in objects.list(snapshot + "/"):
            objects.delete(uri)

    # -- follow ------------------------------------------------------------------------------

    def logs(self, follow: bool = False) -> list[str]:
        """The job's log lines so far (``follow=True`` waits for the job to end)."""
        return list(self._service.log_lines(self.training_job_name, follow=follow))

    def wait(
        self,
        poll: float = 0.2,
        timeout: float | None = None,
        logs: bool = False,
        out: TextIO | None = None,
    ) -> None:
        """Block until the job ends; stream its logs when ``logs`` is true.

        Raises:
            TrainingJobFailedError: The job ended Failed (also a RuntimeError).
            TimeoutExceededError: ``timeout`` seconds passed first (also a TimeoutError).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        self._service.follow(
            self.training_job_name, logs=logs, out=out or sys.stdout, deadline=deadline, poll=poll
        )
        self.refresh()
        if self.training_job_status == "Failed":
            raise TrainingJobFailedError(
                self.training_job_name, self.training_job_status, self.failure_reason
            )

    def wait_for_delete(self, poll: float = 5, timeout: float | None = None) -> None:
        """Block until the job is gone (``delete()`` removes it at once).

        Raises:
            TimeoutExceededError: ``timeout`` seconds passed first (also a TimeoutError).
        """
        wait_for_delete(
            "TrainingJob", lambda: self._service.status(self.training_job_name), poll, timeout
        )

    @property
    def is_active(self) -> bool:
        return self.training_job_status in ACTIVE

    def __repr__(self) -> str:
        status = getattr(self, "training_job_status", "?")
        return f"TrainingJob(training_job_name={self.training_job_name!r}, status={status!r})"


def _in_use(name: str, status: str) -> ResourceInUse:
    return ResourceInUse(
        f"Training job {name!r} is {status}; only a Completed, Failed or Stopped job can be "
        "deleted. Stop it with job.stop(), wait for it with job.wait(), then delete it.",
        "DeleteTrainingJob",
    )


def _given(field: str, value: Any) -> Any:
    """A constructor keyword as the attribute holds it (what ``refresh`` would set)."""
    if field == "model_artifacts" and isinstance(value, Mapping):
        uri = value.get("s3_model_artifacts", value.get("S3ModelArtifacts"))
        return ModelArtifacts(str(uri))
    if field == "final_metric_data_list" and isinstance(value, list):
        return [_metric(item) for item in value]
    if field == "hyper_parameters" and isinstance(value, Mapping):
        return dict(value)
    return described(value)


def _metric(item: Any) -> Any:
    if not isinstance(item, Mapping):
        return item
    get = lambda key: item.get(key, item.get(pascal_case(key)))  # noqa: E731
    return MetricData(get("metric_name"), get("value"), get("timestamp"))
