"""What one evaluation step found, before it is written as ``results_<time>.json``, and the
two statistics every scorer reports: the mean and its standard error.

Example:
    >>> mean([1.0, 0.0, 1.0, 1.0]), round(stderr([1.0, 0.0, 1.0, 1.0]), 4)
    (0.75, 0.25)
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcome", "mean", "stderr"]


@dataclass
class Outcome:
    """The overall metrics (``results.all``; None: nothing scored), per task entry, and
    every example's record."""

    overall: Mapping[str, float | None]
    entries: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)


def mean(values: Sequence[float]) -> float:
    """The mean (0 for no values)."""
    return sum(values) / len(values) if values else 0.0


def stderr(values: Sequence[float]) -> float:
    """The standard error of the mean: the sample standard deviation over sqrt(n), as
    lm-evaluation-harness reports it (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    return float(statistics.stdev(values) / len(values) ** 0.5)
