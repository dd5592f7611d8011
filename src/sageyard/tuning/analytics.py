"""``HyperparameterTuningJobAnalytics``: a tuning job's results as a pandas DataFrame, on
the real SDK's ``AnalyticsMetricsBase`` (a cached frame, ``export_csv``).

Works for any tuning job in the store, including one made by another process. pandas
(``dataframe()``) and matplotlib (``plot()``) are imported only when those are called.

Example:
    >>> analytics = HyperparameterTuningJobAnalytics("my-tuning-261128003912123")  # doctest: +SKIP
    >>> analytics.dataframe().sort_values("FinalObjectiveValue").head()  # doctest: +SKIP
    >>> analytics.plot()  # doctest: +SKIP
    PosixPath('my-tuning-261128003912123-progress.png')
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.core.exceptions import ConfigurationError, MissingDependencyError
from sageyard.core.parameter import ParameterRange, range_from_request
from sageyard.core.settings import HasSettings, settings_of
from sageyard.tuning.remote import tuning_jobs_for

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

COLUMNS = (
    "TrainingJobName",
    "TrainingJobStatus",
    "FinalObjectiveValue",
    "TrainingStartTime",
    "TrainingEndTime",
    "TrainingElapsedTimeSeconds",
    "TrainingJobDefinitionName",
)


class AnalyticsMetricsBase(ABC):
    """The real SDK's base of the analytics classes: a cached DataFrame, refreshed on
    demand, and written to CSV.

    A subclass says how to compute its frame (:meth:`_fetch_dataframe`); ``clear_cache``
    drops every cached answer, so the next read asks the stores again.
    """

    def __init__(self) -> None:
        self._dataframe: pd.DataFrame | None = None

    def export_csv(self, filename: str | os.PathLike[str]) -> None:
        """Write :meth:`dataframe` to ``filename`` as CSV (pandas' ``to_csv``, index kept
        as the real SDK writes it)."""
        self.dataframe().to_csv(filename)

    def dataframe(self, force_refresh: bool = False) -> pd.DataFrame:
        """The results as a pandas DataFrame, computed once and cached.

        Args:
            force_refresh: Drop the cache first (:meth:`clear_cache`) and read again.

        Raises:
            MissingDependencyError: pandas is not installed.
        """
        if force_refresh:
            self.clear_cache()
        if self._dataframe is None:
            self._dataframe = self._fetch_dataframe()
        return self._dataframe

    @abstractmethod
    def _fetch_dataframe(self) -> pd.DataFrame:
        """Compute the DataFrame (a subclass's one job)."""

    def clear_cache(self) -> None:
        """Forget what was read, so the next call reads the stores again."""
        self._dataframe = None


def import_pandas(what: str) -> Any:
    """pandas, or a MissingDependencyError naming the extra that installs it."""
    try:
        import pandas
    except ImportError:
        raise MissingDependencyError(
            f"{what} needs pandas; install it with `pip install 'sageyard[tuning]'`."
        ) from None
    return pandas


class HyperparameterTuningJobAnalytics(AnalyticsMetricsBase):
    """Results of one tuning job: description, trial summaries, DataFrame.

    The job is named by ``hyperparameter_tuning_job_name`` (the real SDK) or
    ``tuning_job_name`` (the reference), or positionally.
    """

    def __init__(
        self,
        hyperparameter_tuning_job_name: str | None = None,
        sagemaker_session: HasSettings | None = None,
        *,
        tuning_job_name: str | None = None,
    ) -> None:
        given = {n for n in (hyperparameter_tuning_job_name, tuning_job_name) if n is not None}
        if len(given) != 1:
            raise ConfigurationError(
                "HyperparameterTuningJobAnalytics needs the tuning job's name, as "
                "hyperparameter_tuning_job_name=... or tuning_job_name=... (one name), but got "
                f"{sorted(given) or 'none'}."
            )
        super().__init__()
        self._tuning_job_name = given.pop()
        self._service = tuning_jobs_for(settings_of(sagemaker_session))
        self._description: dict[str, Any] | None = None
        self._summaries: list[dict[str, Any]] | None = None

    @property
    def name(self) -> str:
        """The name of the tuning job analysed."""
        return self._tuning_job_name

    def clear_cache(self) -> None:
        super().clear_cache()
        self._description = None
        self._summaries = None

    def description(self, force_refresh: bool = False) -> dict[str, Any]:
        if force_refresh:
            self.clear_cache()
        if self._description is None:
            self._description = self._service.describe(self.name)
        return self._description

    def training_job_summaries(self, force_refresh: bool = False) -> list[dict[str, Any]]:
        if force_refresh:
            self.clear_cache()
        if self._summaries is None:
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
        return super().dataframe(force_refresh)

    def _fetch_dataframe(self) -> pd.DataFrame:
        pd = import_pandas("analytics().dataframe()")
        ranges = self.tuning_ranges
        rows = []
        for summary in self.training_job_summaries():
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

    def plot(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        force_refresh: bool = False,
        figsize: tuple[float, float] = (8.0, 4.5),
        dpi: int = 120,
    ) -> Path:
        """Write a PNG of the tuning progress: each trial's objective and the best so far.

        The x axis is the trial number (creation order); each trial with an objective is
        a dot, the running best (cummax when maximizing, cummin when minimizing, over
        the trials whose objective succeeded) a step line; failed trials are red crosses
        (at their value if they reported one, else on the x axis).

        Args:
            path: Where to write; a folder (existing, or ending in ``/``) gets
                ``<name>-progress.png`` inside it. Default:
                ``<name>-progress.png`` in the current folder. Missing folders are made.
            force_refresh: Read the trials again instead of using the cached ones.
            figsize: Figure size in inches.
            dpi: Resolution of the PNG.

        Returns:
            The path written.

        Raises:
            MissingDependencyError: matplotlib is not installed.

        Example:
            >>> HyperparameterTuningJobAnalytics("my-tuning-261128003912123").plot(
            ...     "progress.png"
            ... )  # doctest: +SKIP
            PosixPath('progress.png')
        """
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise MissingDependencyError(
                "analytics().plot() needs matplotlib; install it with "
                "`pip install 'sageyard[tuning]'`."
            ) from None
        description = self.description(force_refresh)
        points = progress_points(self.training_job_summaries())
        objective_type, metric = objective_of(description)
        figure = progress_figure(
            self.name, metric, objective_type, points, figsize=figsize, dpi=dpi
        )
        default = f"{self.name}-progress.png"
        target = Path(default if path is None else path)
        if target.is_dir() or str(path).endswith(("/", os.sep)):
            target = target / default
        target.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(target, format="png")
        return target

    def __repr__(self) -> str:
        return f"<HyperparameterTuningJobAnalytics for {self.name}>"


@dataclass(frozen=True)
class TrialPoint:
    """One trial as the progress plot draws it.

    ``value`` is the final objective, if the trial reported one; ``counts`` says whether
    it may be the best (its objective succeeded, as for ``BestTrainingJob``).
    """

    number: int
    name: str
    status: str
    objective_status: str
    value: float | None

    @property
    def counts(self) -> bool:
        return self.objective_status == "Succeeded" and self.value is not None

    @property
    def failed(self) -> bool:
        return self.objective_status == "Failed" or self.status == "Failed"


def progress_points(summaries: Iterable[Mapping[str, Any]]) -> list[TrialPoint]:
    """The trials in creation order (ties keep their order), numbered from 1.

    Example:
        >>> first = {"TrainingJobName": "a", "CreationTime": 2.0, "ObjectiveStatus": "Failed"}
        >>> second = {"TrainingJobName": "b", "CreationTime": 1.0}
        >>> [p.name for p in progress_points([first, second])]
        ['b', 'a']
    """
    items = list(summaries)
    order = sorted(range(len(items)), key=lambda i: (_created(items[i]), i))
    points = []
    for number, index in enumerate(order, start=1):
        item = items[index]
        objective = item.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
        value = objective.get("Value")
        points.append(
            TrialPoint(
                number=number,
                name=str(item.get("TrainingJobName")),
                status=str(item.get("TrainingJobStatus")),
                objective_status=str(item.get("ObjectiveStatus", "Pending")),
                value=None if value is None else float(value),
            )
        )
    return points


def _created(summary: Mapping[str, Any]) -> float:
    created = summary.get("CreationTime")
    if isinstance(created, datetime):
        return created.timestamp()
    return float(created) if isinstance(created, int | float) else 0.0


def running_best(values: Sequence[float | None], objective_type: str) -> list[float | None]:
    """The best value so far at each position: cummax for Maximize, cummin for Minimize.

    ``None`` (a trial without a counted objective) keeps the best so far; positions before
    the first value are ``None``.

    Example:
        >>> running_best([None, 0.2, 0.1, None, 0.4], "Maximize")
        [None, 0.2, 0.2, 0.2, 0.4]
        >>> running_best([3.0, None, 1.0, 2.0], "Minimize")
        [3.0, 3.0, 1.0, 1.0]
    """
    if objective_type not in ("Maximize", "Minimize"):
        raise ConfigurationError(
            f"objective_type must be 'Maximize' or 'Minimize', but got {objective_type!r}."
        )
    pick = max if objective_type == "Maximize" else min
    best: float | None = None
    out: list[float | None] = []
    for value in values:
        if value is not None:
            best = value if best is None else pick(best, value)
        out.append(best)
    return out


def objective_of(description: Mapping[str, Any]) -> tuple[str, str]:
    """``(objective type, metric name)`` of a DescribeHyperParameterTuningJob dict.

    A multi-trainer tuning job names each trainer's metric, joined with ``", "``.

    Example:
        >>> objective_of({"HyperParameterTuningJobConfig": {"HyperParameterTuningJobObjective":
        ...     {"Type": "Minimize", "MetricName": "val:loss"}}})
        ('Minimize', 'val:loss')
    """
    config = description.get("HyperParameterTuningJobConfig") or {}
    objectives = [config.get("HyperParameterTuningJobObjective")]
    objectives += [d.get("TuningObjective") for d in description.get("TrainingJobDefinitions", [])]
    found = [o for o in objectives if o]
    kind = str(found[0].get("Type", "Maximize")) if found else "Maximize"
    names = dict.fromkeys(str(o.get("MetricName")) for o in found)
    return kind, ", ".join(names) or "objective"


def progress_figure(
    name: str,
    metric: str,
    objective_type: str,
    points: Sequence[TrialPoint],
    *,
    figsize: tuple[float, float] = (8.0, 4.5),
    dpi: int = 120,
) -> Figure:
    """The progress plot as a matplotlib Figure on the Agg canvas (pyplot is not used)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    direction = "higher is better" if objective_type == "Maximize" else "lower is better"
    ax.set_title(f"{name}\n{metric}: {objective_type} ({direction})", fontsize=11)
    ax.set_xlabel("Trial (creation order)")
    ax.set_ylabel(metric)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)

    counted = [p for p in points if p.counts]
    if counted:
        ax.scatter(
            *_xy(counted),
            color="tab:blue",
            s=28,
            zorder=3,
            label="trial objective",
        )
    best = running_best([p.value if p.counts else None for p in points], objective_type)
    steps: list[tuple[int, float]] = [
        (p.number, b) for p, b in zip(points, best, strict=True) if b is not None
    ]
    if steps:
        ax.step(
            [x for x, _ in steps],
            [y for _, y in steps],
            where="post",
            gid="running-best",
            color="tab:orange",
            linewidth=2,
            zorder=2,
            label=f"best so far ({'max' if objective_type == 'Maximize' else 'min'})",
        )
        top = steps[-1][1]
        winner = next(p.number for p in counted if p.value == top)
        ax.scatter(
            [winner],
            [top],
            marker="*",
            s=180,
            color="tab:orange",
            zorder=4,
            edgecolors="black",
            linewidths=0.6,
            label=f"best: {top:.6g} (trial {winner})",
        )
    failed = [p for p in points if p.failed]
    _mark(ax, failed, f"failed ({len(failed)})", marker="x", color="tab:red", s=40)
    pending = [p for p in points if not p.counts and not p.failed]
    _mark(
        ax,
        pending,
        f"no objective yet ({len(pending)})",
        marker="o",
        facecolors="none",
        edgecolors="grey",
        s=28,
    )
    if points:
        ax.set_xlim(0.5, max(p.number for p in points) + 0.5)
        handles, labels = ax.get_legend_handles_labels()
        figure.legend(
            handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize=8
        )
    else:
        ax.text(0.5, 0.5, "no trials yet", ha="center", va="center", transform=ax.transAxes)
    return figure


def _xy(points: Iterable[TrialPoint]) -> tuple[list[int], list[float]]:
    """Trial numbers and values of the trials that have a value."""
    pairs = [(p.number, p.value) for p in points if p.value is not None]
    return [x for x, _ in pairs], [y for _, y in pairs]


def _mark(ax: Any, points: Sequence[TrialPoint], label: str, **style: Any) -> None:
    """Trials that do not count for the best: at their value if any, else on the x axis."""
    if not points:
        return
    xs, ys = _xy(points)
    if xs:
        ax.scatter(xs, ys, zorder=3, **style)
    bare = [p.number for p in points if p.value is None]
    if bare:  # x in data coordinates, y just above the x axis
        ax.scatter(bare, [0.03] * len(bare), transform=ax.get_xaxis_transform(), zorder=3, **style)
    ax.scatter([], [], label=label, **style)


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
