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
    └── SageMakerCoreError                          the real SDK's sagemaker.core.utils.exceptions
        └── CoreWaiterError ("WaiterError" there)   waiting for a resource went wrong
            ├── FailedStatusError                   it reached a failed state
            │   ├── TrainingJobFailedError (also RuntimeError)  a job ended Failed; carries
            │   │                                    job_name, status, failure_reason
            │   └── TuningJobFailedError (also botocore WaiterError) a tuning job ended Failed
            └── TimeoutExceededError (also TimeoutError) wait(timeout=...) ran out

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


_UNKNOWN = "(Unkown)"  # sic: the real SDK's default, kept so messages read the same


class SageMakerCoreError(SageyardError):
    """The real SDK's root error (``sagemaker.core.utils.exceptions``): a message made from
    ``fmt`` and the keyword arguments, which are kept as attributes too."""

    fmt = "An unspecified error occurred."

    def __init__(self, **kwargs: Any) -> None:
        for key, value in kwargs.items():
            setattr(self, key, value)
        Exception.__init__(self, self.fmt.format(**kwargs))


class CoreWaiterError(SageMakerCoreError):
    """The real SDK's ``WaiterError`` (named apart from botocore's, which sageyard also
    raises for tuning jobs)."""

    fmt = "An error occurred while waiting for {resource_type}. Final Resource State: {status}."

    def __init__(self, resource_type: str = _UNKNOWN, status: str = _UNKNOWN, **kwargs: Any):
        super().__init__(resource_type=resource_type, status=status, **kwargs)


class FailedStatusError(CoreWaiterError):
    """A resource reached a failed state while ``wait()`` waited for it."""

    fmt = (
        "Encountered unexpected failed state while waiting for {resource_type}. "
        "Final Resource State: {status}. Failure Reason: {reason}"
    )

    def __init__(
        self, resource_type: str = _UNKNOWN, status: str = _UNKNOWN, reason: str = _UNKNOWN
    ) -> None:
        super().__init__(resource_type=resource_type, status=status, reason=reason)


class TimeoutExceededError(CoreWaiterError, TimeoutError):
    """``wait(timeout=...)`` ran out before the resource ended (also a TimeoutError)."""

    fmt = (
        "Timeout exceeded while waiting for {resource_type}. Final Resource State: {status}. "
        "{message}"
    )

    def __init__(
        self,
        resource_type: str = _UNKNOWN,
        status: str = _UNKNOWN,
        reason: str = _UNKNOWN,
        message: str = "Increase the timeout and try again.",
    ) -> None:
        super().__init__(resource_type=resource_type, status=status, reason=reason, message=message)


class TrainingJobFailedError(FailedStatusError, RuntimeError):
    """A training job ended in the Failed status: the real SDK's FailedStatusError, and the
    reference's RuntimeError. Its message says where the logs are."""

    def __init__(self, job_name: str, status: str, failure_reason: str | None) -> None:
        self.resource_type, self.job_name, self.status = "TrainingJob", job_name, status
        self.failure_reason = failure_reason
        self.reason = failure_reason or "no reason was recorded"
        Exception.__init__(
            self,
            f"Training job {job_name} ended with status {status}: {self.reason}\n"
            f"See its logs with `sageyard jobs logs {job_name}`.",
        )


class TuningJobFailedError(FailedStatusError, WaiterError):
    """A tuning job ended Failed: the real SDK's FailedStatusError, and the botocore
    WaiterError the reference's ``wait()`` raises (``last_response`` holds the status)."""

    def __init__(self, job_name: str, status: str, failure_reason: str | None) -> None:
        self.resource_type, self.job_name, self.status = "HyperParameterTuningJob", job_name, status
        self.failure_reason = failure_reason
        self.reason = (
            f"tuning job {job_name} ended {status}: {failure_reason or 'no reason recorded'}"
        )
        self.name = "HyperParameterTuningJobCompletedOrStopped"
        self.kwargs = {"name": self.name, "reason": self.reason}
        self.last_response: Any = {
            "HyperParameterTuningJobStatus": status,
            "FailureReason": failure_reason,
        }
        Exception.__init__(self, f"Waiter {self.name} failed: {self.reason}")
