"""``sagemaker.core.analytics``: a job's results as pandas DataFrames, as the real SDK has them.

- :class:`TrainingJobAnalytics` — one training job's metric series (``timestamp``,
  ``metric_name``, ``value``), from sageyard's metric store where the real SDK reads
  CloudWatch;
- :class:`HyperparameterTuningJobAnalytics` — one row per trial of a tuning job
  (``sageyard.train.tuner`` re-exports it too);
- :class:`AnalyticsMetricsBase` — their base: a cached frame, ``export_csv``.

pandas is imported when a frame is made.

Example:
    >>> from sageyard.core.analytics import TrainingJobAnalytics
    >>> analytics = TrainingJobAnalytics("my-job-2025-01-01-00-00-00-000")  # doctest: +SKIP
    >>> analytics.dataframe()  # doctest: +SKIP
       timestamp metric_name  value
    0        0.0  train:loss  0.611
    >>> analytics.export_csv("metrics.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sageyard.core.settings import HasSettings, settings_of
from sageyard.jobs.remote import training_jobs_for
from sageyard.tuning.analytics import (
    AnalyticsMetricsBase,
    HyperparameterTuningJobAnalytics,
    import_pandas,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "METRICS_PERIOD_DEFAULT",
    "AnalyticsMetricsBase",
    "HyperparameterTuningJobAnalytics",
    "TrainingJobAnalytics",
]

logger = logging.getLogger(__name__)

#: Seconds per datapoint when ``period`` is not given (the real SDK's CloudWatch period).
METRICS_PERIOD_DEFAULT = 60

#: The columns of :meth:`TrainingJobAnalytics.dataframe`, as the real SDK's.
METRIC_COLUMNS = ("timestamp", "metric_name", "value")


class TrainingJobAnalytics(AnalyticsMetricsBase):
    """The metric series of one training job, as the real SDK's ``TrainingJobAnalytics``.

    The real SDK asks CloudWatch for the ``Average`` of each metric per ``period`` seconds
    over the job's run; sageyard computes the same from the values its metric store holds
    (every match of the job's metric definitions, with the time it was logged). Each
    period's datapoint is stamped with the seconds since the metric's first datapoint.

    Args:
        training_job_name: The job to analyse (any job in the store; it must exist).
        metric_names: The metrics to read (default: those the job's ``MetricDefinitions``
            name, else every metric it logged).
        sagemaker_session: A Session (its settings pick the stores).
        start_time, end_time: The window read (default: the job's training start, and its
            end plus one minute, as the real SDK; naive datetimes are UTC).
        period: Seconds averaged into one datapoint (default 60, as CloudWatch's). Periods
            start on multiples of ``period`` since the epoch, as CloudWatch's do.

    Raises:
        botocore.exceptions.ClientError: ResourceNotFound when the job does not exist.

    Example:
        >>> analytics = TrainingJobAnalytics("my-job", period=1)  # doctest: +SKIP
        >>> analytics.dataframe().groupby("metric_name")["value"].last()  # doctest: +SKIP
    """

    CLOUDWATCH_NAMESPACE = "/aws/sagemaker/TrainingJobs"  # the real SDK's; not used here

    def __init__(
        self,
        training_job_name: str,
        metric_names: list[str] | None = None,
        sagemaker_session: HasSettings | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        period: int | None = None,
    ) -> None:
        super().__init__()
        self._service = training_jobs_for(settings_of(sagemaker_session))
        self._training_job_name = training_job_name
        self._start_time = start_time
        self._end_time = end_time
        self._period = period or METRICS_PERIOD_DEFAULT
        self._metric_names = list(metric_names or self._metric_names_for_training_job())
        self.clear_cache()

    @property
    def name(self) -> str:
        """The name of the training job analysed."""
        return self._training_job_name

    def __repr__(self) -> str:
        return f"<TrainingJobAnalytics for {self.name}>"

    def clear_cache(self) -> None:
        """Forget the frame and read the job's window again (its end may have come)."""
        super().clear_cache()
        self._data: dict[str, list[Any]] = defaultdict(list)
        self._time_interval = self._determine_timeinterval()

    def dataframe(self, force_refresh: bool = False) -> pd.DataFrame:
        """One row per metric and period: ``timestamp`` (seconds since the metric's first
        datapoint), ``metric_name`` and ``value`` (the period's average), each metric's
        rows in time order, the metrics in the order of ``metric_names``."""
        return super().dataframe(force_refresh)

    def _determine_timeinterval(self) -> dict[str, datetime]:
        description = self._service.describe(self.name)
        start = self._start_time or description.get(
            "TrainingStartTime", description["CreationTime"]
        )
        end = self._end_time or description.get("TrainingEndTime", datetime.now(UTC)) + timedelta(
            minutes=1
        )
        return {"start_time": _utc(start), "end_time": _utc(end)}

    def _fetch_dataframe(self) -> pd.DataFrame:
        pd = import_pandas("TrainingJobAnalytics.dataframe()")
        for metric_name in self._metric_names:
            self._fetch_metric(metric_name)
        return pd.DataFrame(self._data, columns=list(METRIC_COLUMNS))

    def _fetch_metric(self, metric_name: str) -> None:
        """Average ``metric_name``'s values per period inside the window and add them."""
        start = self._time_interval["start_time"].timestamp()
        end = self._time_interval["end_time"].timestamp()
        periods: dict[float, list[float]] = defaultdict(list)
        for point in self._service.metrics(self.name, metric_name):
            if start <= point.at <= end:
                periods[math.floor(point.at / self._period) * self._period].append(point.value)
        if not periods:
            logger.warning("No metrics called %s found", metric_name)
            return
        base = min(periods)
        for begin in sorted(periods):
            values = periods[begin]
            self._add_single_metric(float(begin - base), metric_name, sum(values) / len(values))

    def _add_single_metric(self, timestamp: float, metric_name: str, value: float) -> None:
        self._data["timestamp"].append(timestamp)
        self._data["metric_name"].append(metric_name)
        self._data["value"].append(value)

    def _metric_names_for_training_job(self) -> list[str]:
        """The names the job's metric definitions give, else the metrics it logged."""
        description = self._service.describe(self.name)
        definitions = description.get("AlgorithmSpecification", {}).get("MetricDefinitions")
        if definitions:
            return [definition["Name"] for definition in definitions]
        logged = self._service.metrics(self.name)
        return list(dict.fromkeys(point.metric_name for point in logged))


def _utc(moment: datetime) -> datetime:
    """An aware datetime; a naive one is taken as UTC (as boto3 sends it to AWS)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
