"""Preset ``gsm8k``: reward 1 when the response's final number equals the reference's.

The final number is the one after ``####`` (GSM8K's own answers end so), else the last
number in the text; ``1,000``, ``$12`` and ``3.50`` read as numbers. ``answer_found``
reports whether the response held a number at all.
"""

from __future__ import annotations

import re
from typing import Any

from sageyard.programs._rewards.presets._answers import output, reference_of, response_of

_NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?")


def final_number(text: str) -> float | None:
    """The final number of ``text`` (after ``####`` if it has one), or None."""
    marked = text.rsplit("####", 1)[1] if "####" in text else text
    found = _NUMBER.findall(marked)
    if not found:
        return None
    try:
        return float(found[-1 if "####" not in text else 0].replace(",", "").replace("$", ""))
    except ValueError:
        return None


def lambda_handler(event: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
    results = []
    for item in event:
        reference = reference_of(item)
        expected = final_number(reference) if reference is not None else None
        answer = final_number(response_of(item))
        correct = expected is not None and answer is not None and abs(answer - expected) < 1e-6
        results.append(output(item, float(correct), answer_found=float(answer is not None)))
    return results
