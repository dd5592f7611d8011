"""Resources readable from any process (``sagemaker.core.resources`` in the reference)."""

from sageyard.jobs.resource import MetricData, ModelArtifacts, TrainingJob
from sageyard.models.registry import ModelPackage, ModelPackageGroup
from sageyard.tuning.resource import HyperParameterTuningJob

__all__ = [
    "HyperParameterTuningJob",
    "MetricData",
    "ModelArtifacts",
    "ModelPackage",
    "ModelPackageGroup",
    "TrainingJob",
]
