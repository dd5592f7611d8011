"""``Session.sagemaker_client``: the SageMaker operations of training and tuning, as boto3's
``sagemaker`` client takes and answers them, served by sageyard's job services.

Code written for the real SDK reaches past the resources to the client
(``session.sagemaker_client.describe_training_job(TrainingJobName=...)``); these calls
answer from this machine's job store with the real response shapes, by the same
operations ``sageyard server`` answers (``sagemaker_api.py``). Operations outside
training and tuning raise a ClientError that says so.

Example:
    >>> from sageyard.core.session import Session
    >>> client = Session().sagemaker_client
    >>> client.list_training_jobs(MaxResults=1)["TrainingJobSummaries"]  # doctest: +SKIP
    [{'TrainingJobName': 'my-job-…', 'TrainingJobStatus': 'Completed', ...}]
"""

from __future__ import annotations

from typing import Any

from sageyard.core.exceptions import ConfigurationError, ValidationException
from sageyard.core.settings import HasSettings
from sageyard.train.client import LocalClient
from sageyard.train.sagemaker_api import OPERATIONS

__all__ = ["SageMakerClient"]


class SageMakerClient:
    """boto3's ``sagemaker`` client, for what sageyard runs: training and tuning jobs (the
    services of this process; with a server, ``Session.sagemaker_client`` is boto3's own
    client pointed at it)."""

    def __init__(self, session: HasSettings) -> None:
        self._client = LocalClient(session.settings)
        self.meta = _Meta(session.settings.region)

    def __getattr__(self, name: str) -> Any:
        """Each of :data:`~sageyard.train.sagemaker_api.OPERATIONS` by boto3's snake_case
        name (``describe_training_job``), taking the request as keyword arguments; any
        other operation raises a ClientError that says sageyard does not serve it."""
        if name.startswith("_") or name in _BOTO_MACHINERY:
            raise AttributeError(
                f"sageyard's sagemaker_client has no {name!r} (boto3's paginators, waiters and "
                "exception classes are not served); call the operations themselves."
            )
        operation = "".join(part.capitalize() for part in name.split("_"))
        served = OPERATIONS.get(operation)

        def call(**request: Any) -> dict[str, Any]:
            if served is None:
                raise ValidationException(
                    f"sageyard's sagemaker_client serves training and tuning jobs; {name} is "
                    "not among them (sageyard trains; it does not host endpoints or run other "
                    "SageMaker services).",
                    operation,
                )
            try:  # a request to change: a ValidationException, as boto3 raises it
                return served(self._client, request)
            except ConfigurationError as error:
                raise ValidationException(str(error), operation) from None

        call.__name__ = name
        return call


#: boto3 client attributes that are not operations: asking for them is an AttributeError.
_BOTO_MACHINERY = frozenset({"exceptions", "get_paginator", "can_paginate", "get_waiter"})


class _Meta:
    """``client.meta.region_name``, as boto3 clients have it."""

    def __init__(self, region_name: str) -> None:
        self.region_name = region_name
