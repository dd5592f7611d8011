"""How the facade reaches the services: the one seam between ``sageyard.train`` and the engine.

The facade builds request dicts in the SageMaker API's shapes (``train/_request.py``,
``train/_tuning_request.py``) and hands them to a :class:`Client`. :class:`LocalClient`
calls the services in this process; :class:`RemoteClient` calls a ``sageyard server``
over its SageMaker-compatible API (``SAGEYARD_ENDPOINT_URL``, or
``Session(endpoint_url=...)``), uploading the local code and data a request names to the
server's S3 first. The facade never knows which one it has.

Example:
    >>> from sageyard.core.session import Session
    >>> client = client_for(Session())
    >>> response = client.create_training_job(request)  # doctest: +SKIP
    >>> client.training_jobs.describe(response["TrainingJobName"])["TrainingJobStatus"]
    'InProgress'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from sageyard.core.settings import HasSettings, Settings

if TYPE_CHECKING:
    from sageyard.evaluation.remote import Evaluations
    from sageyard.evaluation.service import EvaluationService
    from sageyard.jobs.remote import Remote, TrainingJobs
    from sageyard.jobs.service import TrainingJobService
    from sageyard.tuning.remote import TuningJobs
    from sageyard.tuning.service import TuningJobService

__all__ = ["Client", "LocalClient", "RemoteClient", "client_for"]


class Client(Protocol):
    """What the facade calls: SageMaker's create operations, and the services that the
    job resources (``TrainingJob``, ``HyperParameterTuningJob``) read and stop jobs through.
    """

    @property
    def training_jobs(self) -> TrainingJobs: ...

    @property
    def tuning_jobs(self) -> TuningJobs: ...

    @property
    def evaluations(self) -> Evaluations:
        """Evaluations (pipeline executions of evaluation steps): start, read, stop."""
        ...

    def create_training_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """CreateTrainingJob; returns ``TrainingJobArn`` and the ``TrainingJobName`` given."""
        ...

    def create_hyper_parameter_tuning_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """CreateHyperParameterTuningJob; returns the ARN and the name given."""
        ...

    def validate_training_job(self, request: Mapping[str, Any]) -> None:
        """Every check CreateTrainingJob makes, creating nothing (``train(dry_run=True)``)."""
        ...


class LocalClient:
    """The services of this process, over the job store and object store of ``settings``.

    Construction does no I/O; the services open their stores on first use.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._training: TrainingJobService | None = None
        self._tuning: TuningJobService | None = None
        self._evaluations: EvaluationService | None = None

    @property
    def training_jobs(self) -> TrainingJobService:
        if self._training is None:
            from sageyard.jobs.service import TrainingJobService

            self._training = TrainingJobService(self.settings)
        return self._training

    @property
    def tuning_jobs(self) -> TuningJobService:
        if self._tuning is None:
            from sageyard.tuning.service import TuningJobService

            self._tuning = TuningJobService(self.settings)
        return self._tuning

    @property
    def evaluations(self) -> EvaluationService:
        if self._evaluations is None:
            from sageyard.evaluation.service import EvaluationService

            self._evaluations = EvaluationService(self.settings)
        return self._evaluations

    def create_training_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        from sageyard.jobs.service import job_arn

        record = self.training_jobs.create_training_job(request)
        return {
            "TrainingJobArn": job_arn(self.settings, record.name),
            "TrainingJobName": record.name,
        }

    def validate_training_job(self, request: Mapping[str, Any]) -> None:
        self.training_jobs.validate_training_job(request)

    def create_hyper_parameter_tuning_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        from sageyard.tuning.service import tuning_arn

        record = self.tuning_jobs.create_hyper_parameter_tuning_job(request)
        return {
            "HyperParameterTuningJobArn": tuning_arn(self.settings, record.name),
            "HyperParameterTuningJobName": record.name,
        }


class RemoteClient:
    """A ``sageyard server`` at ``settings.endpoint_url``; construction does no I/O.

    Jobs, trials and their logs live on the server; what a request names on this machine
    (a ``source_dir``, a local channel) is uploaded to the server's S3 first.
    """

    def __init__(self, settings: Settings) -> None:
        from sageyard.jobs.remote import Remote

        self.settings = settings
        self.remote: Remote = Remote(settings)

    @property
    def training_jobs(self) -> TrainingJobs:
        from sageyard.jobs.remote import RemoteTrainingJobs

        return RemoteTrainingJobs(self.remote)

    @property
    def tuning_jobs(self) -> TuningJobs:
        from sageyard.tuning.remote import RemoteTuningJobs

        return RemoteTuningJobs(self.remote)

    @property
    def evaluations(self) -> Evaluations:
        from sageyard.evaluation.remote import RemoteEvaluations

        return RemoteEvaluations(self.remote)

    def create_training_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        from sageyard.jobs.remote import RemoteTrainingJobs

        return RemoteTrainingJobs(self.remote).create_training_job(request)

    def validate_training_job(self, request: Mapping[str, Any]) -> None:
        from sageyard.jobs.remote import RemoteTrainingJobs

        RemoteTrainingJobs(self.remote).validate_training_job(request)

    def create_hyper_parameter_tuning_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        from sageyard.tuning.remote import RemoteTuningJobs

        return RemoteTuningJobs(self.remote).create_hyper_parameter_tuning_job(request)


def client_for(session: HasSettings) -> Client:
    """The client of ``session``: a server's with ``endpoint_url`` set, else the services
    in this process, on its settings."""
    if session.settings.endpoint_url:
        return RemoteClient(session.settings)
    return LocalClient(session.settings)
