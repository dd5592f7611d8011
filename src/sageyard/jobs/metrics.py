"""Metrics read from a job's log lines with its MetricDefinitions.

Whatever a job prints, reading it stays bounded, so a job cannot stall its supervisor:

- :class:`LineSplitter` ends lines at ``\\n``, ``\\r\\n`` and a lone ``\\r`` (progress bars
  redraw themselves with ``\\r``), and keeps at most :data:`MAX_LINE_BYTES` of a line: the
  rest of a longer line is dropped as it arrives, so a line of hundreds of MB never sits in
  memory.
- :class:`MetricExtractor` searches with the ``regex`` module (Python ``re`` syntax,
  lookarounds included) and a time bound on every search. A regex whose search of one line
  takes over ``SEARCH_SECONDS`` (a catastrophic pattern such as ``(a+)+$``) is disabled for
  the job with one warning; one that takes over ``FEED_SECONDS`` for a batch of lines skips
  the rest of the batch. The ``regex`` module releases the GIL while it matches, so the
  supervisor's heartbeat thread beats on meanwhile.
- With ``per_second``, at most that many points of each metric are kept each second: the
  first ones, and the last (so a metric's final value is never lost); the others are
  dropped and counted.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import regex

from sageyard.core.shapes import MetricDefinition
from sageyard.store import MetricPoint

__all__ = [
    "MAX_LINE_BYTES",
    "POINTS_PER_SECOND",
    "LineSplitter",
    "LogTail",
    "MetricExtractor",
    "required_literal",
]

# A log line is kept to its first 256 KB: the largest log event CloudWatch Logs takes
# (PutLogEvents), where SageMaker's training logs live.
MAX_LINE_BYTES = 256 * 1024

# Points of one metric kept each second. CloudWatch's finest resolution for training metrics
# is 1 second, and SageMaker points to Debugger for finer, 100 ms granularity
# (https://docs.aws.amazon.com/sagemaker/latest/dg/training-metrics.html): sageyard keeps
# that 100 ms granularity, 10 points a second, the first 9 and the last of each second.
POINTS_PER_SECOND = 10

# How much of a log file LogTail reads at a time.
_READ_BYTES = 1 << 20

_CR_AFTER_EOL = re.compile(rb"(?<=[\r\n])\r+")  # each ends an empty line: no line
_META = frozenset(".^$*+?{}[]()|\\")
# Flags under which a pattern's leading text is not literal text to look for.
_NOT_LITERAL = regex.IGNORECASE | regex.VERBOSE | regex.V1


def required_literal(source: str) -> str:
    """Text that every match of the regex ``source`` contains ('' when none is known).

    It is the leading literal text, after a leading ``^`` and ``.*``; a pattern with a
    top-level ``|`` has none. Lines without it cannot match, and are not searched.

    Example:
        >>> required_literal(r"Train Loss: ([0-9.]+)"), required_literal(r".*\\[epoch\\] acc=(.*)")
        ('Train Loss: ', '[epoch] acc=')
        >>> required_literal(r"loss=(\\S+)|cost=(\\S+)"), required_literal(r"ab?c=(\\d+)")
        ('', 'a')
    """
    if _alternates(source):
        return ""
    i = 1 if source.startswith("^") else 0
    while source.startswith((".*", ".+"), i):
        i += 2
        if source.startswith(("?", "+"), i):  # lazy or possessive: still any text
            i += 1
    text: list[str] = []
    while i < len(source):
        char = source[i]
        if char == "\\":
            escaped = source[i + 1 : i + 2]
            if not escaped or (escaped.isascii() and escaped.isalnum()):
                break  # \d, \n, \1, ...: not a plain character
            char, width = escaped, 2
        elif char in _META:
            break
        else:
            width = 1
        after = source[i + width : i + width + 1]
        if after in ("?", "*", "{"):  # optional, or counted: not certainly there
            break
        text.append(char)
        i += width
        if after == "+":
            break
    return "".join(text)


def _alternates(source: str) -> bool:
    """Whether ``source`` has a ``|`` outside every group and character class."""
    depth, i, n = 0, 0, len(source)
    while i < n:
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i += 1
            if source.startswith("^", i):
                i += 1
            if source.startswith("]", i):  # a leading ] is a member of the class
                i += 1
            while i < n and source[i] != "]":
                i += 2 if source[i] == "\\" else 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth <= 0:
            return True
        i += 1
    return False


class _Slow(Exception):
    """A pattern spent its time budget for this batch of lines."""


class _Disabled(Exception):
    """A pattern was just disabled."""


@dataclass
class _Pattern:
    name: str
    source: str
    compiled: regex.Pattern[str]
    literal: str


@dataclass
class _Window:
    second: int = -1
    kept: int = 0  # points kept at once in this second (the last one is held back)


class MetricExtractor:
    """Matches every line against every definition; the first capture group is the value.

    Each search has a time bound (see the module's docstring); ``warnings`` collects what
    the user should be told (a regex disabled or too slow), for :meth:`take_warnings`. With
    ``per_second``, at most that many points of each metric are kept each second (the first
    ones and the last, held back until the second is over: :meth:`release`, :meth:`drain`);
    ``dropped`` counts the others, per metric.

    Example:
        >>> extractor = MetricExtractor([MetricDefinition(name="loss", regex="loss=([0-9.]+)")])
        >>> [(p.metric_name, p.value) for p in extractor.feed(["step 1 loss=0.5"])]
        [('loss', 0.5)]
    """

    MAX_LINE = MAX_LINE_BYTES  # longer lines are searched up to here
    SEARCH_SECONDS = 0.25  # one search of one line: longer disables the regex for the job
    FEED_SECONDS = 0.5  # one regex over one batch of lines: the rest of the batch is skipped

    def __init__(
        self, definitions: Iterable[MetricDefinition], per_second: int | None = None
    ) -> None:
        if per_second is not None and per_second < 1:
            raise ValueError(f"per_second must be at least 1, but got {per_second}.")
        self.per_second = per_second
        self.warnings: list[str] = []
        self.dropped: dict[str, int] = {}
        self.unsearched: dict[str, int] = {}  # lines a too slow regex skipped
        self._patterns: list[_Pattern] = []
        for definition in definitions:
            try:
                compiled = regex.compile(definition.regex)
            except regex.error as error:
                self.warnings.append(
                    f"Metric {definition.name!r} is not read: its regex {definition.regex!r} "
                    f"does not compile ({error}); write it in Python's re syntax."
                )
                continue
            literal = "" if compiled.flags & _NOT_LITERAL else required_literal(definition.regex)
            self._patterns.append(_Pattern(definition.name, definition.regex, compiled, literal))
        self._steps: dict[str, int] = {}
        self._windows: dict[str, _Window] = {}
        self._held: dict[str, tuple[float, float]] = {}  # metric → (value, at) past the cap

    def take_warnings(self) -> list[str]:
        """The warnings collected since the last call."""
        warnings, self.warnings = self.warnings, []
        return warnings

    def feed(self, lines: Iterable[str], at: float | None = None) -> list[MetricPoint]:
        """The points in ``lines``, read at ``at`` (now); first the held ones now due."""
        now = time.time() if at is None else at
        points = self.release(now)
        if not self._patterns:
            return points
        lines = lines if isinstance(lines, Sequence) else list(lines)
        found: list[tuple[int, str, float]] = []
        for pattern in list(self._patterns):
            found += self._scan(pattern, lines, now)
        found.sort(key=lambda item: item[0])  # in line order; stable: a line's own order too
        points += [self._point(name, value, now) for _, name, value in found]
        return points

    def release(self, now: float) -> list[MetricPoint]:
        """The held points of the seconds before ``now``'s (with ``per_second``)."""
        due = [name for name, (_, at) in self._held.items() if int(at) < int(now)]
        return [self._unhold(name) for name in due]

    def drain(self) -> list[MetricPoint]:
        """Every held point: the output is over."""
        return [self._unhold(name) for name in list(self._held)]

    def _unhold(self, name: str) -> MetricPoint:
        value, at = self._held.pop(name)
        return self._point(name, value, at)

    def _point(self, name: str, value: float, at: float) -> MetricPoint:
        step = self._steps.get(name, 0)
        self._steps[name] = step + 1
        return MetricPoint(name, value, at, step)

    def _scan(
        self, pattern: _Pattern, lines: Sequence[str], now: float
    ) -> list[tuple[int, str, float]]:
        """The points of one pattern in ``lines``, within the cap and the time budget."""
        name = pattern.name
        window: _Window | None = None
        room: int | None = None
        if self.per_second is not None:
            window = self._windows.setdefault(name, _Window())
            if window.second != int(now):
                window.second, window.kept = int(now), 0
            room = self.per_second - 1 - window.kept
        deadline = time.perf_counter() + self.FEED_SECONDS
        found: list[tuple[int, str, float]] = []
        literal = pattern.literal
        # the lines that may match: those without the pattern's literal text cannot
        candidates = [i for i, line in enumerate(lines) if literal in line] if literal else None
        indices: Sequence[int] = range(len(lines)) if candidates is None else candidates
        done = 0  # how many of indices were searched
        try:
            for index in indices:
                if room is not None and room <= 0:
                    break
                values = self._search(pattern, lines[index], deadline)
                done += 1
                if room is not None and window is not None:
                    taken, past = values[:room], values[room:]
                    room -= len(taken)
                    window.kept += len(taken)
                    if past:
                        self._hold(name, past, now)
                    values = taken
                found += [(index, name, value) for value in values]
            if done < len(indices):  # past the cap: only the batch's last point matters
                self._last(pattern, lines, indices[done:], now, deadline)
        except _Slow:
            skipped = len(indices) - done
            self.unsearched[name] = self.unsearched.get(name, 0) + skipped
            if self.unsearched[name] == skipped:  # the first time: say so once
                self.warnings.append(
                    f"Metric {name!r}: its regex {pattern.source!r} took over "
                    f"{self.FEED_SECONDS} s to search {len(lines):,} log lines, so some lines "
                    "were not searched for it. Simplify the regex (no nested repeats such as "
                    "(a+)+, no leading .*), or print less."
                )
        except _Disabled:
            pass
        return found

    def _last(
        self,
        pattern: _Pattern,
        lines: Sequence[str],
        indices: Sequence[int],
        now: float,
        deadline: float,
    ) -> None:
        """Hold the last point of the lines at ``indices``; the candidate lines before it
        count as dropped points (they are not searched)."""
        for position in range(len(indices) - 1, -1, -1):
            values = self._search(pattern, lines[indices[position]], deadline)
            if values:
                self._count_drop(pattern.name, position)
                self._hold(pattern.name, values, now)
                return

    def _hold(self, name: str, values: list[float], now: float) -> None:
        """Hold the last of ``values`` as this second's last point; drop the others."""
        self._count_drop(name, len(values) - 1 + (name in self._held))
        self._held[name] = (values[-1], now)

    def _count_drop(self, name: str, count: int) -> None:
        if count:
            self.dropped[name] = self.dropped.get(name, 0) + count

    def _search(self, pattern: _Pattern, line: str, deadline: float) -> list[float]:
        """The values ``pattern`` finds in ``line``, in a time bound."""
        if len(line) > self.MAX_LINE:
            line = line[: self.MAX_LINE]
        left = deadline - time.perf_counter()
        if left <= 0:
            raise _Slow
        timeout = min(self.SEARCH_SECONDS, left)
        try:
            captures = pattern.compiled.findall(line, timeout=timeout)
        except TimeoutError:
            if timeout < self.SEARCH_SECONDS:
                raise _Slow from None
            self._disable(pattern, line)
            raise _Disabled from None
        values = []
        for capture in captures:
            text = capture[0] if isinstance(capture, tuple) else capture
            try:
                value = float(text)
            except ValueError:
                continue
            if not (math.isnan(value) or math.isinf(value)):
                values.append(value)
        return values

    def _disable(self, pattern: _Pattern, line: str) -> None:
        self._patterns.remove(pattern)
        self.warnings.append(
            f"Metric {pattern.name!r} is no longer read: its regex {pattern.source!r} took "
            f"over {self.SEARCH_SECONDS} s to search one log line of {len(line):,} "
            "characters, so it was disabled for this job. Rewrite it without nested repeats "
            "such as (a+)+ or (a|aa)+ and without a leading .*, e.g. 'loss=([0-9.]+)'."
        )


@dataclass
class LineSplitter:
    """Splits appended bytes into lines, keeping a partial last line for later.

    Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (a ``\\r`` that ends an empty line
    gives none); a line longer than ``max_line`` bytes gives its first ``max_line`` bytes
    at once, and the rest of it is dropped (``cut`` counts such lines).

    Example:
        >>> lines = LineSplitter()
        >>> lines.split(b"a\\nb"), lines.split(b"c\\n"), lines.split(b"\\r 10%\\r 20%\\n")
        (['a'], ['bc'], [' 10%', ' 20%'])
    """

    max_line: int = MAX_LINE_BYTES
    cut: int = 0
    _partial: bytearray = field(default_factory=bytearray, repr=False)
    _cutting: bool = field(default=False, repr=False)  # dropping the rest of a long line
    _after_cr: bool = field(default=False, repr=False)  # a \n next ends no further line

    def split(self, data: bytes, final: bool = False) -> list[str]:
        """The whole lines so far; with ``final``, the partial last line too."""
        if self._after_cr and data.startswith(b"\n"):  # the \r\n began in the last data
            data = data[1:]
        if data:
            self._after_cr = data.endswith(b"\r")
        if b"\r" in data:  # every line end becomes \n; a \r that ends an empty line goes
            data = _CR_AFTER_EOL.sub(b"", data.replace(b"\r\n", b"\n"))
            if not self._partial and not self._cutting:
                data = data.lstrip(b"\r")
            data = data.replace(b"\r", b"\n")
        out: list[bytes] = []
        first = data.find(b"\n")
        if first < 0:
            self._add(data, 0, len(data), out)
        else:
            self._add(data, 0, first, out)
            if not self._cutting:
                out.append(bytes(self._partial))
            self._partial.clear()
            self._cutting = False
            last = data.rfind(b"\n")
            if last > first:
                for line in data[first + 1 : last].split(b"\n"):
                    if len(line) > self.max_line:
                        line = line[: self.max_line]
                        self.cut += 1
                    out.append(line)
            self._add(data, last + 1, len(data), out)
        if final:
            if self._partial:
                out.append(bytes(self._partial))
            self._partial.clear()
            self._cutting = self._after_cr = False
        return [line.decode("utf-8", errors="replace") for line in out]

    @property
    def buffered(self) -> int:
        """Bytes of the partial last line held (never more than ``max_line``)."""
        return len(self._partial)

    def _add(self, data: bytes, start: int, end: int, out: list[bytes]) -> None:
        if self._cutting or start >= end:
            return
        room = self.max_line - len(self._partial)
        if end - start <= room:
            self._partial += memoryview(data)[start:end]
            return
        self._partial += memoryview(data)[start : start + room]
        out.append(bytes(self._partial))
        self._partial.clear()
        self._cutting = True
        self.cut += 1


@dataclass
class LogTail:
    """Reads whole new lines appended to a log file since the last call."""

    path: Path
    offset: int = 0
    _lines: LineSplitter = field(default_factory=LineSplitter, repr=False)

    def read_lines(self, final: bool = False) -> list[str]:
        lines: list[str] = []
        try:
            with open(self.path, "rb") as log:
                log.seek(self.offset)
                while data := log.read(_READ_BYTES):  # a chunk at a time: long lines are cut
                    self.offset += len(data)
                    lines += self._lines.split(data)
        except FileNotFoundError:
            return []
        if final:
            lines += self._lines.split(b"", final=True)
        return lines
