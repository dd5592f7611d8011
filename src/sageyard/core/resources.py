"""Resources readable from any process (``sagemaker.core.resources`` in the reference)."""

from sageyard.jobs.resource import MetricData, ModelArtifacts, TrainingJob

__all__ = ["MetricData", "ModelArtifacts", "TrainingJob"]
