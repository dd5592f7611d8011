"""Preset ``prime_math``: reward 1 when the response's answer equals the reference, by
``math-verify`` (LaTeX or plain expressions; ``\\frac{1}{2}`` equals ``0.5``).

The answer is the response's last ``\\boxed{}`` or LaTeX expression or plain number, as
math-verify extracts it; ``answer_found`` reports whether it found one.
"""

from __future__ import annotations

from typing import Any

from sageyard.programs._rewards.presets._answers import output, reference_of, response_of


def _gold(reference: str) -> list[Any]:
    from math_verify import parse

    text = reference.strip()
    if "\\" in text and "$" not in text:
        text = f"${text}$"  # bare LaTeX, as verl's ground truths are written
    return parse(text)


def lambda_handler(event: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
    from math_verify import parse, verify

    results = []
    for item in event:
        reference = reference_of(item)
        answer = parse(response_of(item))
        correct = bool(reference is not None and answer and verify(_gold(reference), answer))
        results.append(output(item, float(correct), answer_found=float(bool(answer))))
    return results
