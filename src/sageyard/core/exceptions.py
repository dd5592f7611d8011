"""The one error tree of sageyard.

::

    SageyardError
    ├── ConfigurationError (also ValueError)       invalid request, raised before any write
    │   └── MissingDependencyError (also ImportError) an optional extra is not installed
    ├── SageyardClientError (also botocore ClientError) a service error with a SageMaker code
    │   ├── ValidationException
    │   ├── ResourceLimitExceeded
    │   ├── ResourceNotFound
    │   └── ResourceInUse
    ├── StorageError                                an object-store operation failed; names the URI
    ├── CapacityError                               no capacity came within MaxPendingTimeInSeconds
    ├── TrainingJobFailedError (also RuntimeError)  a job ended Failed; carries job_name, status,
    │                                                failure_reason
    └── TuningJobFailedError (also botocore WaiterError) a tuning job ended Failed

Service errors keep the shape of ``botocore.exceptions.ClientError`` so that code written
for SageMaker (``e.response["Error"]["Code"]``) works unchanged.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, WaiterError


class SageyardError(Exception):
    """Root of every error sageyard raises on purpose."""


class ConfigurationError(SageyardError, ValueError):
    """An invalid request. Raised before anything is written."""


class MissingDependencyError(ConfigurationError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class StorageError(SageyardError):
    """An object-store operation failed. The message names the URI."""


class CapacityError(SageyardError):
    """No capacity for a job's hosts came in time; the message says what is configured."""


class SageyardClientError(SageyardError, ClientError):
    """A service error shaped like botocore's, carrying a SageMaker error code."""

    code = "InternalFailure"

    def __init__(self, message: str, operation_name: str = "CreateTrainingJob") -> None:
        response: Any = {"Error": {"Code": self.code, "Message": message}, "ResponseMetadata": {}}
        super().__init__(response, operation_name)
        self.message = message


class ValidationException(SageyardClientError):
    code = "ValidationException"


class ResourceLimitExceeded(SageyardClientError):
    code = "ResourceLimitExceeded"


class ResourceNotFound(SageyardClientError):
    code = "ResourceNotFound"


class ResourceInUse(SageyardClientError):
    code = "ResourceInUse"


class TrainingJobFailedError(SageyardError, RuntimeError):
    """A training job ended in the Failed status."""

    def __init__(self, job_name: str, status: str, failure_reason: str | None) -> None:
        self.job_name = job_name
        self.status = status
        self.failure_reason = failure_reason
        reason = failure_reason or "no reason was recorded"
        super().__init__(
            f"Training job {job_name} ended with status {status}: {reason}\n"
            f"See its logs with `sageyard jobs logs {job_name}`."
        )


class TuningJobFailedError(SageyardError, WaiterError):
    """A tuning job ended Failed (the reference's ``wait()`` raises a WaiterError)."""

    def __init__(self, job_name: str, status: str, failure_reason: str | None) -> None:
        self.job_name = job_name
        self.status = status
        self.failure_reason = failure_reason
        reason = f"tuning job {job_name} ended {status}: {failure_reason or 'no reason recorded'}"
        response: Any = {"HyperParameterTuningJobStatus": status, "FailureReason": failure_reason}
        super().__init__(
            name="HyperParameterTuningJobCompletedOrStopped", reason=reason, last_response=response
        )
