"""The real SDK's evaluation constants: ``EvalType`` and the pipelines' names.

Example:
    >>> EvalType("customscorer")
    <EvalType.CUSTOM_SCORER: 'customscorer'>
"""

from __future__ import annotations

from enum import Enum

__all__ = ["EvalType"]


class EvalType(Enum):
    """The kinds of evaluation (each runs as a pipeline of its own)."""

    BENCHMARK = "benchmark"
    CUSTOM_SCORER = "customscorer"
    LLM_AS_JUDGE = "llmasjudge"
