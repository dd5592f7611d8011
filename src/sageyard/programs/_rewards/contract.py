"""Reward functions: the two contracts a ``lambda_handler`` may follow, told apart by calling it.

A reward function is a Python file defining ``lambda_handler(event, context)``, in one of two
contracts, detected (never configured):

- **per sample** (the reference's): ``event`` is one dict with ``prompt`` and ``response``
  (and the row's ``reference_answer`` and other fields); it returns ``{"reward": float}``,
  any other numbers in it being extra metrics;
- **batch** (the real SDK's): ``event`` is a list of ``{"id", "messages",
  "reference_answer"?, ...}``, the model's answer being the last, assistant, message; it
  returns a list of ``{"id", "aggregate_reward_score", "metrics_list"?}``, bare or as the
  ``body`` (JSON text or the list) of ``{"statusCode": 200, "body": ...}``.

:func:`score` tries the batch contract first, then the per-sample one, and keeps what worked
(:class:`Contract`) for the calls after. A sample whose call raised or whose answer is
malformed gets no reward (``Score.reward`` is None, ``Score.error`` says why): the training
counts it as a reward error and gives it 0. :func:`verify` is the check before a job is
created, with the real SDK's message.

Example:
    >>> def handler(event, context):
    ...     return {"reward": float(event["response"] == "4"), "length": len(event["response"])}
    >>> contract, scores = score(handler, [Sample("0", "2+2?", "4"), Sample("1", "2+2?", "5")])
    >>> contract, [s.reward for s in scores], scores[0].metrics
    ('per_sample', [1.0, 0.0], {'length': 1.0})
"""

from __future__ import annotations

import json
import math
import runpy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sageyard.core.exceptions import ConfigurationError

__all__ = [
    "Contract",
    "Sample",
    "Score",
    "batch_event",
    "in_process",
    "load_handler",
    "per_sample_event",
    "sample_of_row",
    "score",
    "verify",
]

Contract = Literal["batch", "per_sample"]
Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Sample:
    """One completion to reward: its row's prompt (text or chat messages), the response,
    and what else the row holds (``reference_answer``, verl's ``reward_model``, ...)."""

    id: str
    prompt: str | list[dict[str, Any]]
    response: str
    reference_answer: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def prompt_text(self) -> str:
        if isinstance(self.prompt, str):
            return self.prompt
        return "\n".join(str(message.get("content", "")) for message in self.prompt)

    @property
    def messages(self) -> list[dict[str, Any]]:
        prompt = self.prompt
        asked = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        return [*asked, {"role": "assistant", "content": self.response}]


@dataclass(frozen=True)
class Score:
    """A sample's reward (None: the call failed, ``error`` says how) and extra metrics."""

    reward: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None


def load_handler(path: str | Path) -> Handler:
    """The ``lambda_handler`` the file at ``path`` defines (ValueError if it does not)."""
    file = Path(path)
    if not file.is_file():
        raise ConfigurationError(f"Python file not found: {file}")
    try:
        namespace = runpy.run_path(str(file), run_name="reward_function")
    except Exception as error:
        raise ConfigurationError(f"Failed to load Python file: {error}") from error
    handler = namespace.get("lambda_handler")
    if not callable(handler):
        raise ConfigurationError(
            f"Local Python file must contain a 'lambda_handler' function ({file} defines "
            "none); define lambda_handler(event, context)."
        )
    return handler


def per_sample_event(sample: Sample) -> dict[str, Any]:
    """The event of the per-sample contract.

    Example:
        >>> per_sample_event(Sample("7", "2+2?", "4", reference_answer="4"))
        {'prompt': '2+2?', 'response': '4', 'reference_answer': '4'}
    """
    event: dict[str, Any] = {**sample.extra, "prompt": sample.prompt_text}
    event["response"] = sample.response
    if sample.reference_answer is not None:
        event["reference_answer"] = sample.reference_answer
    return event


def batch_event(samples: Sequence[Sample]) -> list[dict[str, Any]]:
    """The event of the batch contract.

    Example:
        >>> batch_event([Sample("7", "2+2?", "4")])
        [{'id': '7', 'messages': [{'role': 'user', 'content': '2+2?'}, {'role': 'assistant', \
'content': '4'}]}]
    """
    events = []
    for sample in samples:
        event: dict[str, Any] = {**sample.extra, "id": sample.id, "messages": sample.messages}
        if sample.reference_answer is not None:
            event["reference_answer"] = sample.reference_answer
        events.append(event)
    return events


def score(
    handler: Handler, samples: Sequence[Sample], contract: Contract | None = None
) -> tuple[Contract | None, list[Score]]:
    """Reward ``samples`` with ``handler`` under ``contract`` (None: find it out).

    Returns the contract that worked (None if neither did) and a score per sample.
    """
    if contract in (None, "batch"):
        scores = _batch(handler, samples)
        if contract == "batch" or any(s.reward is not None for s in scores):
            return "batch", scores
        batch_scores = scores
    scores = [_one(handler, sample) for sample in samples]
    if contract == "per_sample" or any(s.reward is not None for s in scores):
        return "per_sample", scores
    # neither worked: say what each contract found, so either author can tell
    return None, [
        Score(None, error=f"as a batch: {b.error}; as one sample: {o.error}")
        for b, o in zip(batch_scores, scores, strict=True)
    ]


def _one(handler: Handler, sample: Sample) -> Score:
    try:
        result = handler(per_sample_event(sample), {})
    except Exception as error:
        return Score(None, error=f"Handler execution failed: {type(error).__name__}: {error}")
    if not isinstance(result, Mapping) or "reward" not in result:
        return Score(None, error=f"expected {{'reward': float}}, got {_short(result)}")
    reward = _number(result["reward"])
    if reward is None:
        return Score(None, error=f"'reward' must be a number, got {_short(result['reward'])}")
    metrics = {
        str(name): number
        for name, value in result.items()
        if name != "reward" and (number := _number(value)) is not None
    }
    return Score(reward, metrics)


def _batch(handler: Handler, samples: Sequence[Sample]) -> list[Score]:
    def failed(error: str) -> list[Score]:
        return [Score(None, error=error) for _ in samples]

    try:
        result = handler(batch_event(samples), {})
    except Exception as error:
        return failed(f"Handler execution failed: {type(error).__name__}: {error}")
    if isinstance(result, Mapping) and "statusCode" in result:
        if result["statusCode"] != 200:
            return failed(
                f"reward function returned non-200 status code: {result['statusCode']}. "
                f"Body: {_short(result.get('body'))}"
            )
        if "body" not in result:
            return failed("reward function response missing 'body' field")
        result = result["body"]
        if isinstance(result, str | bytes):
            try:
                result = json.loads(result)
            except ValueError as error:
                return failed(f"reward function 'body' is not valid JSON: {error}")
    if not isinstance(result, list):
        return failed(f"expected a list of outputs, got {_short(result)}")
    by_id = {str(item["id"]): item for item in result if isinstance(item, Mapping) and "id" in item}
    scores = []
    for index, sample in enumerate(samples):
        item = by_id.get(sample.id, result[index] if index < len(result) else None)
        scores.append(_output(index, item))
    return scores


def _output(index: int, item: Any) -> Score:
    if not isinstance(item, Mapping):
        return Score(None, error=f"Output {index}: Expected dict, got {type(item).__name__}")
    if "id" not in item:
        return Score(None, error=f"Output {index}: id - Field required")
    reward = _number(item.get("aggregate_reward_score"))
    if reward is None:
        return Score(
            None,
            error=f"Output {index}: aggregate_reward_score - Input should be a valid number, "
            f"got {_short(item.get('aggregate_reward_score'))}",
        )
    metrics = {}
    for entry in item.get("metrics_list") or []:
        value = _number(entry.get("value")) if isinstance(entry, Mapping) else None
        if value is None or not isinstance(entry.get("name"), str):
            return Score(
                None,
                error=f"Output {index}: metrics_list - each needs a 'name' and a numeric "
                f"'value', got {_short(entry)}",
            )
        metrics[entry["name"]] = value
    return Score(reward, metrics)


def _number(value: Any) -> float | None:
    """``value`` as a finite float (as pydantic's lax mode reads a score), else None."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def verify(
    scorer: Callable[[Sequence[Sample]], Sequence[Score]],
    rows: Sequence[Mapping[str, Any]],
    count: int = 3,
) -> list[str]:
    """Check a reward function on the first ``count`` dataset rows before a job is created.

    ``scorer`` rewards samples (:func:`in_process`, or a sandboxed ``RewardPool.score``);
    each row is rewarded with its reference answer as the response (an empty one where it
    has none). Raises ValueError listing every error, in the real SDK's words, when a
    sample fails; returns the names of the extra metrics the function reported, sorted.
    """
    samples = [sample_of_row(index, row, None) for index, row in enumerate(rows[:count])]
    if not samples:
        raise ConfigurationError(
            "No samples found in the training dataset to verify the reward on."
        )
    scores = scorer(samples)
    failed = [s for s in scores if s.reward is None]
    if failed:
        total, passed = len(scores), len(scores) - len(failed)
        lines = [
            f"Reward function verification failed: {len(failed)}/{total} sample(s) failed "
            "validation.",
            f"Only {passed}/{total} sample(s) passed.",
            "",
            "Validation errors:",
            *(f"  - sample {i}: {s.error}" for i, s in enumerate(scores) if s.error),
            "",
            "Please check your reward function output format. Each output must include:",
            "  - 'id': string identifier",
            "  - 'aggregate_reward_score': numeric reward value",
            "(or, one sample per call, return {'reward': float} for event['prompt'] and "
            "event['response']).",
        ]
        raise ConfigurationError("\n".join(lines))
    return sorted({name for s in scores for name in s.metrics})


def in_process(handler: Handler) -> Callable[[Sequence[Sample]], list[Score]]:
    """A scorer calling ``handler`` in this process (the contract found on the first call)."""
    found: list[Contract] = []

    def scorer(samples: Sequence[Sample]) -> list[Score]:
        contract, scores = score(handler, samples, found[0] if found else None)
        if contract is not None and not found:
            found.append(contract)
        return scores

    return scorer


def sample_of_row(index: int, row: Mapping[str, Any], response: str | None) -> Sample:
    """The sample of a dataset row (``prompt``; chat ``messages``; verl's ``prompt`` and
    ``reward_model.ground_truth``; ``reference_answer``) with ``response`` (None: the
    row's reference answer, or its last assistant message, as a stand-in).

    Example:
        >>> row = {"prompt": "2+2?", "reward_model": {"ground_truth": "4"}, "level": 1}
        >>> sample = sample_of_row(0, row, "4")
        >>> sample.reference_answer, dict(sample.extra)
        ('4', {'reward_model': {'ground_truth': '4'}, 'level': 1})
    """
    messages = row.get("messages")
    prompt: str | list[dict[str, Any]]
    answer = None
    if isinstance(messages, list) and "prompt" not in row:
        asked = list(messages)
        if asked and isinstance(asked[-1], Mapping) and asked[-1].get("role") == "assistant":
            answer = asked.pop()["content"]
        prompt = asked
    else:
        prompt = row.get("prompt", "")
    reference = row.get("reference_answer")
    if reference is None and isinstance(row.get("reward_model"), Mapping):
        reference = row["reward_model"].get("ground_truth")
    if response is None:
        response = str(reference if reference is not None else answer or "")
    extra = {
        key: value
        for key, value in row.items()
        if key not in ("id", "prompt", "messages", "reference_answer")
    }
    return Sample(str(row.get("id", index)), prompt, response, reference, extra)
