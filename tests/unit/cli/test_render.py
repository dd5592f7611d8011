"""The CLI's shared formatting helpers (``sageyard.cli._render``)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from sageyard.cli import _render

T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (-3, "0.0s"),
        (0, "0.0s"),
        (0.42, "0.4s"),
        (9.94, "9.9s"),
        (12.3, "12s"),
        (59.4, "59s"),
        (60, "1m00s"),
        (125, "2m05s"),
        (3599, "59m59s"),
        (3720, "1h02m"),
        (86399, "23h59m"),
        (273600, "3d04h"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert _render.format_duration(seconds) == text


def test_local_time_of_epoch_and_datetime_agree() -> None:
    epoch = T0.timestamp()
    expected = datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")
    assert _render.local_time(epoch) == expected
    assert _render.local_time(T0) == expected
    assert _render.local_time(None) == "-"


def test_format_value_and_metrics() -> None:
    assert _render.format_value(0.1234567) == "0.123457"
    assert _render.format_value(1234567.0) == "1.23457e+06"
    assert _render.format_value(3) == "3"
    assert _render.format_value("n/a") == "n/a"
    metrics = [
        {"MetricName": "train:loss", "Value": 0.25, "Timestamp": 1.0},
        {"MetricName": "val:acc", "Value": 0.9, "Timestamp": 2.0},
    ]
    assert _render.format_metrics(metrics) == "train:loss=0.25 val:acc=0.9"
    assert _render.format_metrics([]) == "-"
    assert _render.format_metrics(None) == "-"


def test_status_text_styles() -> None:
    assert _render.status_text("Failed").style == "bold red"
    assert _render.status_text("Completed").style == "green"
    assert _render.status_text("Unheard").style == ""
    assert _render.status_text(None).plain == "-"


def test_format_seconds_and_optional_time() -> None:
    assert _render.format_seconds(None) is None
    assert _render.format_seconds(45) == "45 s"
    assert _render.format_seconds(90) == "1m30s (90 s)"
    assert _render.optional_time(None) is None
    assert _render.optional_time(T0) == _render.local_time(T0)


def test_to_json_round_trips_with_iso_datetimes() -> None:
    description = {
        "CreationTime": T0,
        "SecondaryStatusTransitions": [{"EndTime": T0 + timedelta(seconds=92)}],
        "HyperParameters": {"epochs": "2", "lr": "0.1"},
    }
    data = json.loads(_render.to_json(description))
    assert data["CreationTime"] == "2025-03-04T05:06:07+00:00"
    assert data["SecondaryStatusTransitions"][0]["EndTime"] == "2025-03-04T05:07:39+00:00"
    assert data["HyperParameters"] == {"epochs": "2", "lr": "0.1"}


def test_console_is_wide_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert _render.console().width > 80
    monkeypatch.setenv("COLUMNS", "100")
    assert _render.console().width == 100
