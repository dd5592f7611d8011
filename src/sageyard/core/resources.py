"""Resources readable from any process (``sagemaker.core.resources`` in the reference)."""

from sageyard.jobs.resource import MetricData, ModelArtifacts, TrainingJob
from sageyard.models.registry import ModelPackage, ModelPackageGroup

__all__ = ["MetricData", "ModelArtifacts", "ModelPackage", "ModelPackageGroup", "TrainingJob"]
