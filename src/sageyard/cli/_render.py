"""What every CLI rendering shares: the console, status colours, and compact formatting.

Pure: data in, strings or rich renderables out; nothing here reads the store or the
environment (``console()`` aside), so every helper is unit-tested directly. The views
built from these live beside it: training jobs in :mod:`sageyard.cli._job_view`, tuning
jobs in :mod:`sageyard.cli._tuning_view`.

Example:
    >>> format_duration(125)
    '2m05s'
    >>> format_metrics([{"MetricName": "train:loss", "Value": 0.1234567}])
    'train:loss=0.123457'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

#: Rich style of each job status (unknown statuses are unstyled).
STATUS_STYLES: dict[str, str] = {
    "InProgress": "cyan",
    "Completed": "green",
    "Stopping": "yellow",
    "Stopped": "yellow",
    "Failed": "bold red",
}

#: What an empty cell shows.
NONE = "-"


def console(*, stderr: bool = False) -> Console:
    """A console that does not wrap lines at 80 columns when output goes to a pipe or file.

    On a terminal, rich follows the terminal's width. Elsewhere (``sageyard jobs list | grep``)
    it would wrap tables at 80 columns unless ``COLUMNS`` is set; a wide width keeps each row on
    one line instead, and tables only take the width they need.
    """
    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal and out.width == 80:
        out = Console(stderr=stderr, highlight=False, width=240)
    return out


def status_text(status: str | None) -> Text:
    """The status, coloured by :data:`STATUS_STYLES`."""
    if not status:
        return Text(NONE, style="dim")
    return Text(status, style=STATUS_STYLES.get(status, ""))


def local_time(value: datetime | float | None) -> str:
    """A datetime (aware) or epoch seconds as ``YYYY-mm-dd HH:MM:SS`` in local time.

    Example:
        >>> local_time(None)
        '-'
    """
    if value is None:
        return NONE
    when = datetime.fromtimestamp(value) if isinstance(value, int | float) else value
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_duration(seconds: float | None) -> str:
    """Seconds as a compact duration: ``0.4s``, ``12s``, ``2m05s``, ``1h02m``, ``3d04h``.

    Example:
        >>> [format_duration(s) for s in (0.42, 12.3, 125, 3720, 273600)]
        ['0.4s', '12s', '2m05s', '1h02m', '3d04h']
    """
    if seconds is None:
        return NONE
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def format_value(value: Any) -> str:
    """A metric value with at most 6 significant digits (``0.333``, ``1.23457e+06``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.6g}"
    return str(value)


def format_metrics(metrics: Iterable[Mapping[str, Any]] | None, sep: str = " ") -> str:
    """FinalMetricDataList items as ``name=value`` pairs joined by ``sep`` (``-`` if none)."""
    pairs = [f"{m['MetricName']}={format_value(m['Value'])}" for m in metrics or []]
    return sep.join(pairs) or NONE


def fields(rows: Iterable[tuple[str, RenderableType | None]]) -> Table:
    """A two-column grid of labels and values; rows without a value are left out."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        if value is not None and value != "":
            grid.add_row(label, value)
    return grid


def section(title: str, body: RenderableType) -> Group:
    """A titled block, set off by a blank line."""
    return Group(Text(""), Text(title, style="bold underline"), body)


def simple_table(*columns: str) -> Table:
    """A borderless table with bold headers whose columns fold long values."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def optional_time(value: datetime | None) -> str | None:
    """:func:`local_time`, or ``None`` (the row is left out) when there is no time."""
    return None if value is None else local_time(value)


def format_seconds(value: Any) -> str | None:
    """``45 s``, or ``1m30s (90 s)`` from a minute on; ``None`` when there is no value."""
    if value is None:
        return None
    return f"{value} s" if value < 60 else f"{format_duration(value)} ({value} s)"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def to_json(description: Mapping[str, Any]) -> str:
    """The dict as indented JSON; datetimes become ISO 8601 strings.

    Example:
        >>> from datetime import UTC, datetime
        >>> to_json({"CreationTime": datetime(2025, 1, 2, tzinfo=UTC)})
        '{\\n  "CreationTime": "2025-01-02T00:00:00+00:00"\\n}'
    """
    return json.dumps(description, indent=2, default=_json_default)
