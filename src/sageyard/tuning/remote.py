"""Tuning jobs of a remote ``sageyard server``, over its SageMaker-compatible API.

The tuning counterpart of :mod:`sageyard.jobs.remote`: what the tuning job resource
(``HyperParameterTuningJob``), the tuner's analytics and ``sageyard tuning`` call on
:class:`~sageyard.tuning.service.TuningJobService`, answered by a server's
Describe/Stop/ListHyperParameterTuningJobs and ListTrainingJobsForHyperParameterTuningJob.

Example:
    >>> jobs = tuning_jobs_for(Settings.from_env())  # doctest: +SKIP
    >>> jobs.describe("my-tuning-261204050000")["HyperParameterTuningJobStatus"]  # doctest: +SKIP
    'Completed'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sageyard.core.settings import Settings
from sageyard.jobs.doorbell import Doorbell
from sageyard.jobs.remote import Remote, upload_local_files
from sageyard.storage import ObjectStore
from sageyard.tuning.service import TuningJobService

__all__ = ["RemoteTuningJobs", "TuningJobs", "tuning_jobs_for"]


class RemoteTuningJobs:
    """The tuning jobs of a ``sageyard server``."""

    NOUN = "Tuning job"

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    @property
    def settings(self) -> Settings:
        return self.remote.settings

    @property
    def objects(self) -> ObjectStore:
        return self.remote.objects

    def create_hyper_parameter_tuning_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """CreateHyperParameterTuningJob, each trainer's local files uploaded first."""
        sent = dict(request)
        bucket = self.settings.default_bucket
        if "TrainingJobDefinition" in sent:
            sent["TrainingJobDefinition"] = upload_local_files(
                sent["TrainingJobDefinition"], self.objects, bucket
            )
        if "TrainingJobDefinitions" in sent:
            sent["TrainingJobDefinitions"] = [
                upload_local_files(definition, self.objects, bucket)
                for definition in sent["TrainingJobDefinitions"]
            ]
        answer = self.remote.send("SageMaker.CreateHyperParameterTuningJob", sent)
        arn = answer["HyperParameterTuningJobArn"]
        return {
            "HyperParameterTuningJobArn": arn,
            "HyperParameterTuningJobName": arn.rpartition("/")[2],
        }

    def describe(self, name: str) -> dict[str, Any]:
        return self.remote.call(
            "sagemaker", "describe_hyper_parameter_tuning_job", HyperParameterTuningJobName=name
        )

    def status(self, name: str) -> str:
        return str(self.describe(name)["HyperParameterTuningJobStatus"])

    def stop(self, name: str) -> None:
        self.remote.call(
            "sagemaker", "stop_hyper_parameter_tuning_job", HyperParameterTuningJobName=name
        )

    def delete(self, name: str) -> None:
        self.remote.call(
            "sagemaker", "delete_hyper_parameter_tuning_job", HyperParameterTuningJobName=name
        )

    def summaries(
        self,
        name: str,
        status: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> list[dict[str, Any]]:
        """ListTrainingJobsForHyperParameterTuningJob, every page."""
        given = {"StatusEquals": status, "SortBy": sort_by, "SortOrder": sort_order}
        return list(
            self.remote.pages(
                "sagemaker",
                "list_training_jobs_for_hyper_parameter_tuning_job",
                "TrainingJobSummaries",
                HyperParameterTuningJobName=name,
                **{k: v for k, v in given.items() if v is not None},
            )
        )

    def list_names(self, **filters: Any) -> list[str]:
        """The names ListHyperParameterTuningJobs gives for ``filters`` (snake_case)."""
        params = {
            "".join(p[:1].upper() + p[1:] for p in k.split("_")): v
            for k, v in filters.items()
            if v is not None
        }
        items = self.remote.pages(
            "sagemaker",
            "list_hyper_parameter_tuning_jobs",
            "HyperParameterTuningJobSummaries",
            **params,
        )
        return [item["HyperParameterTuningJobName"] for item in items]

    def doorbell(self, name: str) -> Doorbell:
        """None rings here: the server's supervisors run on another machine."""
        return Doorbell(None)


#: The tuning jobs the facade and CLI reach: this machine's service or a server's.
TuningJobs = TuningJobService | RemoteTuningJobs


def tuning_jobs_for(settings: Settings) -> TuningJobs:
    """The server's tuning jobs with ``settings.endpoint_url``, else this machine's."""
    if settings.endpoint_url:
        return RemoteTuningJobs(Remote(settings))
    return TuningJobService(settings)
