"""``sagemaker.core.analytics``: where the real SDK defines ``HyperparameterTuningJobAnalytics``
(``sageyard.train.tuner`` re-exports it too). pandas is imported when a frame is made."""

from sageyard.tuning.analytics import HyperparameterTuningJobAnalytics

__all__ = ["HyperparameterTuningJobAnalytics"]
