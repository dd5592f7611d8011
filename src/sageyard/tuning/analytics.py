"""``HyperparameterTuningJobAnalytics``: a tuning job's results as a pandas DataFrame.

Works for any tuning job in the store, including one made by another process.

Example:
    >>> analytics = HyperparameterTuningJobAnalytics("my-tuning-261128003912123")  # doctest: +SKIP
    >>> analytics.dataframe().sort_values("FinalObjectiveValue").head()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sageyard.core.exceptions import MissingDependencyError
from sageyard.core.parameter import ParameterRange, range_from_request
from sageyard.core.settings import Settings
from sageyard.tuning.service import TuningJobService

if TYPE_CHECKING:
    import pandas as pd

    from sageyard.core.session import Session

COLUMNS = (
    "TrainingJobName",
    "TrainingJobStatus",
    "FinalObjectiveValue",
    "TrainingStartTime",
    "TrainingEndTime",
    "TrainingElapsedTimeSeconds",
    "TrainingJobDefinitionName",
)


class HyperparameterTuningJobAnalytics:
    """Results of one tuning job: description, trial summaries, DataFrame."""

    def __init__(self, tuning_job_name: str, sagemaker_session: Session | None = None) -> None:
        self.name = tuning_job_name
        settings = sagemaker_session.settings if sagemaker_session else Settings.from_env()
        self._service = TuningJobService(settings)
        self._description: dict[str, Any] | None = None
        self._summaries: list[dict[str, Any]] | None = None

    def clear_cache(self) -> None:
        self._description = None
        self._summaries = None

    def description(self, force_refresh: bool = False) -> dict[str, Any]:
        if force_refresh or self._description is None:
            self._description = self._service.describe(self.name)
        return self._description

    def training_job_summaries(self, force_refresh: bool = False) -> list[dict[str, Any]]:
        if force_refresh or self._summaries is None:
            self._summaries = self._service.summaries(self.name)
        return self._summaries

    @property
    def tuning_ranges(self) -> dict[str, ParameterRange]:
        """Name → range of every tuned hyperparameter (over all training definitions)."""
        description = self.description()
        configs = [description.get("HyperParameterTuningJobConfig", {}).get("ParameterRanges")]
        configs += [
            d.get("HyperParameterRanges") for d in description.get("TrainingJobDefinitions", [])
        ]
        ranges: dict[str, ParameterRange] = {}
        for config in filter(None, configs):
            for kind in ("Continuous", "Integer", "Categorical"):
                for item in config.get(f"{kind}ParameterRanges", []):
                    ranges[item["Name"]] = range_from_request(kind, item)
        return ranges

    def dataframe(self, force_refresh: bool = False) -> pd.DataFrame:
        """One row per trial: the tuned values, then the reference's columns."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError(
                "analytics().dataframe() needs pandas; install it with "
                "`pip install 'sageyard[tuning]'`."
            ) from None
        ranges = self.tuning_ranges
        rows = []
        for summary in self.training_job_summaries(force_refresh):
            row: dict[str, Any] = {}
            for name, value in summary.get("TunedHyperParameters", {}).items():
                row[name] = _typed(ranges.get(name), value)
            start, end = summary.get("TrainingStartTime"), summary.get("TrainingEndTime")
            objective = summary.get("FinalHyperParameterTuningJobObjectiveMetric", {})
            row.update(
                TrainingJobName=summary["TrainingJobName"],
                TrainingJobStatus=summary["TrainingJobStatus"],
                FinalObjectiveValue=objective.get("Value"),
                TrainingStartTime=start,
                TrainingEndTime=end,
                TrainingElapsedTimeSeconds=(end - start).total_seconds() if start and end else None,
                TrainingJobDefinitionName=summary.get("TrainingJobDefinitionName"),
            )
            rows.append(row)
        tuned = list(dict.fromkeys(k for row in rows for k in row if k not in COLUMNS))
        return pd.DataFrame(rows, columns=[*tuned, *COLUMNS])

    def __repr__(self) -> str:
        return f"<HyperparameterTuningJobAnalytics for {self.name}>"


def _typed(parameter: ParameterRange | None, value: str) -> Any:
    """A tuned value as the range's type (the API keeps them as strings)."""
    from sageyard.core.parameter import CategoricalParameter, IntegerParameter

    if parameter is None:
        return value
    if isinstance(parameter, CategoricalParameter):
        for option in parameter.values:
            if (option if isinstance(option, str) else str(option)) == value or (
                not isinstance(option, str) and _number(value) == option
            ):
                return option
        return value
    number = _number(value)
    if number is None:
        return value
    return int(number) if isinstance(parameter, IntegerParameter) else number


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None
