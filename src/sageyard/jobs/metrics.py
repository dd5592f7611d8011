"""Metrics read from a job's log lines with its MetricDefinitions."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sageyard.core.shapes import MetricDefinition
from sageyard.store import MetricPoint


class MetricExtractor:
    """Matches every line against every definition; the first capture group is the value.

    Example:
        >>> extractor = MetricExtractor([MetricDefinition(name="loss", regex="loss=([0-9.]+)")])
        >>> [(p.metric_name, p.value) for p in extractor.feed(["step 1 loss=0.5"])]
        [('loss', 0.5)]
    """

    # Longer lines are not searched: SageMaker-style regexes with a leading ``.*`` are
    # quadratic in the line's length, and no metric line is this long.
    MAX_LINE = 16_384

    def __init__(self, definitions: Iterable[MetricDefinition]) -> None:
        self._patterns = [(d.name, re.compile(d.regex)) for d in definitions]
        self._steps: dict[str, int] = {}

    def feed(self, lines: Iterable[str], at: float | None = None) -> list[MetricPoint]:
        if not self._patterns:
            return []
        now = time.time() if at is None else at
        points: list[MetricPoint] = []
        for line in lines:
            if len(line) > self.MAX_LINE:
                continue
            for name, pattern in self._patterns:
                for match in pattern.finditer(line):
                    try:
                        value = float(match.group(1))
                    except (TypeError, ValueError):
                        continue
                    if math.isnan(value) or math.isinf(value):
                        continue
                    step = self._steps.get(name, 0)
                    self._steps[name] = step + 1
                    points.append(MetricPoint(name, value, now, step))
        return points


@dataclass
class LineSplitter:
    """Splits appended bytes into whole lines, keeping a partial last line for later.

    Example:
        >>> lines = LineSplitter()
        >>> lines.split(b"a\\nb"), lines.split(b"c\\n")
        (['a'], ['bc'])
    """

    _partial: bytes = field(default=b"", repr=False)

    def split(self, data: bytes, final: bool = False) -> list[str]:
        """The whole lines so far; with ``final``, the partial last line too."""
        lines = (self._partial + data).split(b"\n")
        self._partial = b"" if final else lines.pop()
        if final and lines and lines[-1] == b"":
            lines.pop()
        return [line.decode("utf-8", errors="replace").rstrip("\r") for line in lines]


@dataclass
class LogTail:
    """Reads whole new lines appended to a log file since the last call."""

    path: Path
    offset: int = 0
    _lines: LineSplitter = field(default_factory=LineSplitter, repr=False)

    def read_lines(self, final: bool = False) -> list[str]:
        try:
            with open(self.path, "rb") as log:
                log.seek(self.offset)
                data = log.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        return self._lines.split(data, final=final)
