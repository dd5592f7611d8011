"""``HyperparameterTuningJobAnalytics.plot`` and its pure helpers, on synthetic trials."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.exceptions import MissingDependencyError
from sageyard.tuning.analytics import (
    HyperparameterTuningJobAnalytics,
    TrialPoint,
    objective_of,
    progress_figure,
    progress_points,
    running_best,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def summary(
    number: int, status: str, value: float | None, objective_status: str | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "TrainingJobName": f"tune-{number:03d}",
        "CreationTime": T0 + timedelta(seconds=number),
        "TrainingJobStatus": status,
        "TunedHyperParameters": {"x": str(number / 10)},
        "ObjectiveStatus": objective_status
        or {"Completed": "Succeeded", "InProgress": "Pending"}.get(status, "Failed"),
    }
    if value is not None:
        item["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": "Maximize",
            "MetricName": "val:acc",
            "Value": value,
        }
    return item


def description(objective_type: str = "Maximize") -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName": "tune",
        "HyperParameterTuningJobStatus": "Completed",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": objective_type, "MetricName": "val:acc"},
        },
    }


# Out of creation order on purpose: trial 3 failed without a value, trial 5 failed with one,
# trial 6 is still running.
SUMMARIES = [
    summary(2, "Completed", 0.5),
    summary(1, "Completed", 0.3),
    summary(4, "Completed", 0.4),
    summary(3, "Failed", None),
    summary(5, "Failed", 0.99),
    summary(6, "InProgress", None),
    summary(7, "Completed", 0.7),
]


class Synthetic(HyperparameterTuningJobAnalytics):
    """Analytics whose description and trials are fixtures: nothing is read from the store."""

    def __init__(self, objective_type: str, summaries: list[dict[str, Any]]) -> None:
        super().__init__("tune")
        self._objective_type = objective_type
        self._fixture = summaries

    def description(self, force_refresh: bool = False) -> dict[str, Any]:
        return description(self._objective_type)

    def training_job_summaries(self, force_refresh: bool = False) -> list[dict[str, Any]]:
        return list(self._fixture)


def analytics(
    objective_type: str = "Maximize", summaries: list[dict[str, Any]] = SUMMARIES
) -> Synthetic:
    return Synthetic(objective_type, summaries)


# -- pure helpers ------------------------------------------------------------------------


def test_running_best_maximize_and_minimize() -> None:
    values = [None, 0.3, 0.5, None, 0.4, 0.7, 0.1]
    assert running_best(values, "Maximize") == [None, 0.3, 0.5, 0.5, 0.5, 0.7, 0.7]
    assert running_best(values, "Minimize") == [None, 0.3, 0.3, 0.3, 0.3, 0.3, 0.1]
    assert running_best([], "Maximize") == []
    assert running_best([None, None], "Minimize") == [None, None]


def test_running_best_rejects_an_unknown_direction() -> None:
    with pytest.raises(ValueError, match="'Maximize' or 'Minimize', but got 'Max'"):
        running_best([1.0], "Max")


def test_progress_points_are_in_creation_order_and_classified() -> None:
    points = progress_points(SUMMARIES)
    assert [p.number for p in points] == [1, 2, 3, 4, 5, 6, 7]
    assert [p.name for p in points] == [f"tune-{n:03d}" for n in range(1, 8)]
    assert [p.value for p in points] == [0.3, 0.5, None, 0.4, 0.99, None, 0.7]
    assert [p.counts for p in points] == [True, True, False, True, False, False, True]
    assert [p.failed for p in points] == [False, False, True, False, True, False, False]


def test_progress_points_keep_the_given_order_for_equal_times() -> None:
    same = [{**summary(n, "Completed", float(n)), "CreationTime": T0} for n in (3, 1, 2)]
    assert [p.value for p in progress_points(same)] == [3.0, 1.0, 2.0]


def test_objective_of_single_and_multi_trainer() -> None:
    assert objective_of(description("Minimize")) == ("Minimize", "val:acc")
    multi = {
        "HyperParameterTuningJobConfig": {},
        "TrainingJobDefinitions": [
            {"DefinitionName": "a", "TuningObjective": {"Type": "Maximize", "MetricName": "m1"}},
            {"DefinitionName": "b", "TuningObjective": {"Type": "Maximize", "MetricName": "m2"}},
        ],
    }
    assert objective_of(multi) == ("Maximize", "m1, m2")
    assert objective_of({}) == ("Maximize", "objective")


@pytest.mark.parametrize(
    ("objective_type", "expected"),
    [
        # trials 1..7; 3 (failed), 5 (failed with a value) and 6 (running) do not count
        ("Maximize", [0.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.7]),
        ("Minimize", [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]),
    ],
)
def test_figure_draws_the_running_best_as_a_step_line(
    objective_type: str, expected: list[float]
) -> None:
    figure = progress_figure("tune", "val:acc", objective_type, progress_points(SUMMARIES))
    (ax,) = figure.axes
    (line,) = [line for line in ax.get_lines() if line.get_gid() == "running-best"]
    assert list(line.get_xdata()) == [1, 2, 3, 4, 5, 6, 7]
    assert list(line.get_ydata()) == expected
    assert line.get_drawstyle() == "steps-post"
    direction = "higher" if objective_type == "Maximize" else "lower"
    assert ax.get_title() == f"tune\nval:acc: {objective_type} ({direction} is better)"
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "failed (2)" in labels
    assert "no objective yet (1)" in labels
    best = "0.7 (trial 7)" if objective_type == "Maximize" else "0.3 (trial 1)"
    assert f"best: {best}" in labels


def test_figure_without_trials() -> None:
    (ax,) = progress_figure("tune", "val:acc", "Maximize", []).axes
    assert [t.get_text() for t in ax.texts] == ["no trials yet"]


def test_trial_point_without_value_never_counts() -> None:
    point = TrialPoint(1, "t", "Completed", "Succeeded", None)
    assert not point.counts


# -- plot() ------------------------------------------------------------------------------


def test_plot_writes_a_png_named_after_the_job_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = analytics().plot()
    assert path == Path("tune-progress.png")
    assert (tmp_path / "tune-progress.png").read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("objective_type", ["Maximize", "Minimize"])
def test_plot_to_a_given_file(tmp_path: Path, objective_type: str) -> None:
    target = tmp_path / "new" / "folder" / "out.png"
    assert analytics(objective_type).plot(target, dpi=50) == target
    assert target.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_into_a_folder(tmp_path: Path) -> None:
    assert analytics().plot(tmp_path) == tmp_path / "tune-progress.png"
    missing = f"{tmp_path}/missing/"
    written = analytics().plot(missing)
    assert written == tmp_path / "missing" / "tune-progress.png"
    assert written.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_of_a_job_without_trials(tmp_path: Path) -> None:
    path = analytics(summaries=[]).plot(tmp_path / "empty.png")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_does_not_import_pyplot(tmp_path: Path) -> None:
    """The figure is drawn on its own Agg canvas: no global pyplot state, no GUI backend."""
    code = (
        "import sys\n"
        "from sageyard.tuning.analytics import progress_figure\n"
        "progress_figure('t', 'm', 'Maximize', []).savefig(sys.argv[1])\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "p.png")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "False"
    assert (tmp_path / "p.png").read_bytes().startswith(PNG_SIGNATURE)


def test_plot_without_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'sageyard\[tuning\]'"):
        analytics().plot()


def test_importing_the_tuner_imports_neither_pandas_nor_matplotlib() -> None:
    code = (
        "import sys, json, sageyard.train.tuner, sageyard.tuning.analytics\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'pandas', 'matplotlib'})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == []
