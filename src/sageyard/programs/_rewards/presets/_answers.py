"""What the presets share: the reference answer of a sample, and the batch reply."""

from __future__ import annotations

from typing import Any


def raw_reference(item: dict[str, Any]) -> Any:
    """The sample's reference answer as the row holds it: ``reference_answer``, verl's
    ``reward_model.ground_truth``, or GSM8K's ``answer`` (None: none of them)."""
    reference = item.get("reference_answer")
    if reference is None and isinstance(item.get("reward_model"), dict):
        reference = item["reward_model"].get("ground_truth")
    if reference is None:
        reference = item.get("answer")
    return reference


def reference_of(item: dict[str, Any]) -> str | None:
    """:func:`raw_reference` as text."""
    reference = raw_reference(item)
    return None if reference is None else str(reference)


def response_of(item: dict[str, Any]) -> str:
    """The model's answer: the last, assistant, message."""
    messages = item.get("messages") or [{}]
    return str(messages[-1].get("content", ""))


def output(item: dict[str, Any], reward: float, **metrics: float) -> dict[str, Any]:
    """One item of the batch contract's reply."""
    return {
        "id": item["id"],
        "aggregate_reward_score": reward,
        "metrics_list": [{"name": name, "value": value} for name, value in metrics.items()],
    }
