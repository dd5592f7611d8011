"""``sagemaker.core.utils.exceptions``: the errors the real SDK's ``wait()`` raises.

They are part of sageyard's one error tree (:mod:`sageyard.core.exceptions`): a training
job that ends Failed raises :class:`~sageyard.core.exceptions.TrainingJobFailedError`,
which is a :class:`FailedStatusError` (and the reference's RuntimeError); a ``wait`` that
runs out of time raises :class:`TimeoutExceededError` (also a TimeoutError).

Example:
    >>> from sageyard.core.utils.exceptions import FailedStatusError
    >>> error = FailedStatusError(resource_type="TrainingJob", status="Failed", reason="OOM")
    >>> str(error).endswith("Final Resource State: Failed. Failure Reason: OOM")
    True
"""

from sageyard.core.exceptions import CoreWaiterError as WaiterError
from sageyard.core.exceptions import (
    FailedStatusError,
    SageMakerCoreError,
    TimeoutExceededError,
)

__all__ = ["FailedStatusError", "SageMakerCoreError", "TimeoutExceededError", "WaiterError"]
