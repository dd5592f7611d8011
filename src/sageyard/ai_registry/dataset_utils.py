"""``sagemaker.ai_registry.dataset_utils``: the enum of how a dataset was made.

Example:
    >>> from sageyard.ai_registry.dataset_utils import DataSetMethod
    >>> DataSetMethod("uploaded")
    <DataSetMethod.UPLOADED: 'uploaded'>
"""

from __future__ import annotations

from enum import Enum

__all__ = ["DataSetMethod"]


class DataSetMethod(Enum):
    """How a dataset came to be, as the real SDK records it: a local file ``UPLOADED`` by
    ``DataSet.create``, or an ``s3://`` object registered where it is (``GENERATED``)."""

    UPLOADED = "uploaded"
    GENERATED = "generated"
