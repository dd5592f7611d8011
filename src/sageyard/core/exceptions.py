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
    ├── StoreError                                  the job store failed; names the store (no
    │                                                password) and what it was doing
    ├── DiskFullError (also OSError, ENOSPC)        a write found its disk full; names the disk
    │                                                and the path
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

import errno
import os
import re
from pathlib import Path
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


class DiskFullError(SageyardError, OSError):
    """A write failed because its disk is full (``errno.ENOSPC``).

    The message names the disk (its device and mount point, read from ``/proc/mounts``
    where that can be read) and the path being written, and says how to go on.

    Example:
        >>> error = DiskFullError("/data/job/m.bin", mount="/data", device="/dev/sdb1")
        >>> str(error).split(":")[0]
        'No space left on device on /dev/sdb1 (mounted on /data) while writing /data/job/m.bin'
    """

    def __init__(
        self, path: str | os.PathLike[str], mount: str | None = None, device: str | None = None
    ) -> None:
        path = os.fspath(path)
        if os.path.isabs(path):
            path = os.path.normpath(path)
        if mount is None:
            mount, device = self.disk_of(path)
        OSError.__init__(self, errno.ENOSPC, "No space left on device", path)
        self.path, self.mount, self.device = path, mount, device

    def __str__(self) -> str:
        disk = self.mount if not self.device else f"{self.device} (mounted on {self.mount})"
        return (
            f"No space left on device on {disk} while writing {self.path}: free space on "
            f"{self.mount} and try again."
        )

    def __reduce__(self) -> Any:  # picklable across processes, like any OSError
        return (type(self), (self.path, self.mount, self.device))

    @staticmethod
    def disk_of(path: str | os.PathLike[str]) -> tuple[str, str | None]:
        """The mount point ``path`` is on and its device (None when it cannot be read)."""
        folder = Path(os.path.abspath(path))
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        while not os.path.ismount(folder) and folder != folder.parent:
            folder = folder.parent
        mount, device = str(folder), None
        try:
            with open("/proc/self/mounts", encoding="utf-8", errors="replace") as table:
                for line in table:  # the last entry for a mount point is the one in use
                    fields = line.split()
                    if len(fields) >= 2 and _unescape_mount(fields[1]) == mount:
                        device = _unescape_mount(fields[0])
        except OSError:
            pass
        return mount, device

    @staticmethod
    def caused(error: BaseException) -> bool:
        """Whether ``error`` (or what it was raised from) is a full disk."""
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            if isinstance(current, OSError) and current.errno == errno.ENOSPC:
                return True
            text = str(current)
            if "No space left on device" in text or "database or disk is full" in text:
                return True
            current = current.__cause__ or current.__context__
        return False


def _unescape_mount(field: str) -> str:
    """A /proc/mounts field with its octal escapes (``\\040`` for a space) decoded."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


class StoreError(SageyardError):
    """The job store could not be read or written (a database error, a full disk, a server
    that does not answer). The message names the store, without its password, and what it
    was doing; the database's own error is the ``__cause__``.

    Example:
        >>> error = StoreError.of(RuntimeError("database is locked"), "sqlite:///s.db", "read")
        >>> str(error).split(". ")[0]
        'The job store sqlite:///s.db could not read: database is locked'
    """

    @classmethod
    def of(cls, error: BaseException, url: str, operation: str) -> StoreError:
        """The StoreError for ``error`` (a SQLAlchemy or driver error), raised while doing
        ``operation`` on the store at ``url``; raise it ``from error``."""
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()
        message = detail[0] if detail else type(error).__name__
        shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
        lowered = message.lower()
        if DiskFullError.caused(error):
            path = url.split(":///", 1)[1] if url.startswith("sqlite:///") else shown
            return cls(f"The job store {shown} could not {operation}: {DiskFullError(path)}")
        if "locked" in lowered or "busy" in lowered:
            advice = (
                "Another process holds the database; try again, or stop the process that holds it."
            )
        elif "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
            advice = "Check that its folder exists and is writable (SAGEYARD_HOME)."
        else:
            advice = "Check that the database answers and SAGEYARD_STORE_URL is right."
        return cls(f"The job store {shown} could not {operation}: {message}. {advice}")


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
