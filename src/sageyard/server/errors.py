"""Errors as the AWS protocols answer them: a code, an HTTP status and a message.

sageyard's one error tree carries the codes (``SageyardClientError.code``:
``ValidationException``, ``ResourceNotFound``, ``ResourceInUse``,
``ResourceLimitExceeded``); a ``ConfigurationError`` is what the caller must change, so a
``ValidationException``; a store or storage failure is the server's
(``ServiceUnavailable``); anything else an ``InternalFailure`` whose details stay in the
server's log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sageyard.core.exceptions import (
    ConfigurationError,
    ResourceNotFound,
    SageyardClientError,
    StorageError,
    StoreError,
)
from sageyard.server.sigv4 import SignatureError

__all__ = ["WireError", "wire_error"]

logger = logging.getLogger(__name__)

#: The HTTP status of each code (SageMaker's client errors are all 400).
STATUS = {
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
    "MissingAuthenticationTokenException": 403,
    "IncompleteSignatureException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "RequestEntityTooLarge": 413,
}

#: Operations on which SageMaker calls a missing job a ValidationException (its
#: DescribeTrainingJob answers "Requested resource not found."), not ResourceNotFound.
_NOT_FOUND_IS_VALIDATION = {"DescribeTrainingJob", "StopTrainingJob"}


@dataclass(frozen=True)
class WireError:
    code: str
    message: str

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 400)


def wire_error(error: BaseException, operation: str) -> WireError:
    """The protocol error for an exception raised while answering ``operation``."""
    if isinstance(error, SignatureError):
        return WireError(f"{error.code}Exception", error.message)
    if isinstance(error, ResourceNotFound) and operation in _NOT_FOUND_IS_VALIDATION:
        return WireError("ValidationException", f"Requested resource not found: {error.message}")
    if isinstance(error, SageyardClientError):
        return WireError(error.code, error.message)
    if isinstance(error, ConfigurationError):
        return WireError("ValidationException", str(error))
    if isinstance(error, StoreError | StorageError):
        logger.warning("%s failed: %s", operation, error)
        return WireError("ServiceUnavailable", str(error))
    logger.exception("%s failed", operation)
    return WireError(
        "InternalFailure",
        f"The server could not answer {operation}: {type(error).__name__}; its log has the "
        "details.",
    )
