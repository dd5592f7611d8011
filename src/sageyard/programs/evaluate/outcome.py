"""What one evaluation step found, before it is written as ``results_<time>.json``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcome"]


@dataclass
class Outcome:
    """The overall metrics (``results.all``; None: nothing scored), per task entry, and
    every example's record."""

    overall: Mapping[str, float | None]
    entries: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
