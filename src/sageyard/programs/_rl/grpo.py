"""GRPO through TRL's ``GRPOTrainer``, with one reward function that asks a :class:`Scorer`.

The scorer is what differs between the techniques: RLVR's sandboxed pool of reward
functions (:class:`~sageyard.programs._rewards.pool.RewardPool`), RLAIF's judge. The reward
function given to TRL turns each completion into a
:class:`~sageyard.programs._rewards.contract.Sample` (its row's prompt, reference answer
and other fields), scores them in one call, gives a sample that failed reward 0 and logs
``reward_errors`` (the failed samples of the step) and every extra metric the scorer
returned (``reward/<name>``, their mean over the step).

Example:
    >>> row = {"messages": [{"role": "user", "content": "2+2?"},
    ...                     {"role": "assistant", "content": "4"}]}
    >>> example(row, chat=True)["prompt"]
    [{'role': 'user', 'content': '2+2?'}]
    >>> metric_name("completions/mean_length"), metric_name("reward_metric/passed tests")
    ('completion_length', 'reward/passed_tests')
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from sageyard.programs._common import AlgorithmError, ProgramContext
from sageyard.programs._llm.data import plain_text
from sageyard.programs._llm.metrics import METRIC_NAMES
from sageyard.programs._rewards.contract import Sample, Score, sample_of_row
from sageyard.programs._rl.spec import RL_METRICS, extra_metric

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import PreTrainedTokenizerBase, Trainer

    from sageyard.programs._spec import ProgramSpec

__all__ = [
    "CONFIG_OPTIONS",
    "ROW",
    "Scorer",
    "example",
    "keep_short_prompts",
    "make_grpo_trainer",
    "metric_name",
    "reward_function",
    "train_grpo",
]

log = logging.getLogger(__name__)

#: The column holding each dataset row as JSON, for the reward (its fields vary by row).
ROW = "sageyard_row"
#: The prefix of the extra metrics a reward function returns, among TRL's logged metrics.
EXTRA = "reward_metric/"
_MAX_ERRORS_SHOWN = 5


class Scorer(Protocol):
    """Scores a batch of samples: a reward per sample (None where it failed, with why)."""

    def score(self, samples: Sequence[Sample]) -> list[Score]: ...


def example(row: dict[str, Any], chat: bool) -> dict[str, Any]:
    """A dataset row as GRPO's prompt row (conversational with a chat template), the whole
    row kept as JSON for the reward.

    The prompt is ``prompt`` (text or verl's chat messages) or the chat ``messages`` less
    a last assistant message (the reference answer).
    """
    prompt: str | list[dict[str, Any]]
    if "prompt" in row:
        prompt = row["prompt"]
    else:
        prompt = list(row["messages"])
        if prompt[-1]["role"] == "assistant":
            prompt.pop()
    if chat and isinstance(prompt, str):
        prompt = [{"role": "user", "content": prompt}]
    elif not chat and isinstance(prompt, list):
        prompt = plain_text(prompt) + "assistant: "
    return {"prompt": prompt, ROW: json.dumps(row)}


def metric_name(key: str) -> str | None:
    """The metric name of a log key of GRPO (None: not reported)."""
    if key.startswith(EXTRA):
        return extra_metric(key.removeprefix(EXTRA))
    return RL_METRICS.get(key) or METRIC_NAMES.get(key)


def reward_function(scorer: Scorer) -> Callable[..., list[float]]:
    """TRL's reward function over ``scorer``: a sample that failed gets 0 and counts in
    ``reward_errors``; the first few distinct failures are logged."""
    shown: set[str] = set()

    def reward(
        prompts: list[Any],
        completions: list[Any],
        log_metric: Callable[[str, float], None] | None = None,
        **columns: Any,
    ) -> list[float]:
        samples = [
            replace(sample_of_row(index, json.loads(row), _text(completion)), id=str(index))
            for index, (row, completion) in enumerate(zip(columns[ROW], completions, strict=True))
        ]
        scores = scorer.score(samples)
        failed = [score.error or "no reward" for score in scores if score.reward is None]
        for error in failed:
            if error not in shown and len(shown) < _MAX_ERRORS_SHOWN:
                shown.add(error)
                log.warning("A sample got no reward (it counts as 0): %s", error)
        if log_metric is not None:
            log_metric("reward_errors", float(len(failed)))
            for name, value in _extra_means(scores).items():
                log_metric(EXTRA + name, value)
        return [score.reward if score.reward is not None else 0.0 for score in scores]

    return reward


def _text(completion: Any) -> str:
    """A completion's text: TRL gives a string, or the assistant's messages in a chat."""
    if isinstance(completion, str):
        return completion
    return "".join(str(message.get("content", "")) for message in completion)


def _extra_means(scores: Sequence[Score]) -> dict[str, float]:
    totals: dict[str, list[float]] = {}
    for score in scores:
        for name, value in score.metrics.items():
            totals.setdefault(name, []).append(value)
    return {name: sum(values) / len(values) for name, values in totals.items()}


def keep_short_prompts(
    dataset: Dataset, tokenizer: PreTrainedTokenizerBase, limit: int, channel: str
) -> Dataset:
    """The rows whose prompt fits in ``limit`` tokens; the others are left out, and said so.

    Raises:
        AlgorithmError: Every prompt is longer than ``limit``.
    """

    def length(row: dict[str, Any]) -> int:
        prompt = row["prompt"]
        if isinstance(prompt, list):
            ids: Any = tokenizer.apply_chat_template(
                prompt, add_generation_prompt=True, tokenize=True
            )
            if hasattr(ids, "keys"):
                ids = ids["input_ids"]
            return len(ids)
        return len(tokenizer(prompt, add_special_tokens=False)["input_ids"])

    keep = [index for index, row in enumerate(dataset) if length(row) <= limit]
    if not keep:
        raise AlgorithmError(
            f"ClientError: Every prompt of the {channel!r} channel is longer than "
            f"max_prompt_length={limit} tokens; raise max_prompt_length or shorten the prompts."
        )
    if len(keep) < len(dataset):
        log.warning(
            "%d of %d prompts of the %r channel are longer than max_prompt_length=%d tokens "
            "and are left out.",
            len(dataset) - len(keep),
            len(dataset),
            channel,
            limit,
        )
        return dataset.select(keep)
    return dataset


def make_grpo_trainer(arguments: dict[str, Any], scorer: Scorer, **parts: Any) -> Trainer:
    """TRL's ``GRPOTrainer`` with the job's arguments and one reward function over
    ``scorer``.

    The options travel under TRL's names (``max_response_length`` as
    ``max_completion_length``); prompts over ``max_prompt_length`` are left out; the
    evaluation batch is rounded up to whole groups of ``num_generations``.
    """
    from trl import GRPOConfig, GRPOTrainer

    arguments = dict(arguments)
    arguments.pop("include_num_input_tokens_seen", None)  # GRPO counts its own tokens
    arguments["max_completion_length"] = arguments.pop("max_response_length")
    limit = arguments.pop("max_prompt_length")
    group = arguments["num_generations"]
    eval_batch = arguments["per_device_eval_batch_size"]
    arguments["per_device_eval_batch_size"] = -(-eval_batch // group) * group
    tokenizer = parts["processing_class"]
    parts["train_dataset"] = keep_short_prompts(parts["train_dataset"], tokenizer, limit, "train")
    if parts.get("eval_dataset") is not None:
        parts["eval_dataset"] = keep_short_prompts(
            parts["eval_dataset"], tokenizer, limit, "validation"
        )
    rewards: list[Any] = [reward_function(scorer)]
    return GRPOTrainer(args=GRPOConfig(**arguments), reward_funcs=rewards, **parts)


# The options GRPOConfig takes (make_grpo_trainer renames the lengths to TRL's).
CONFIG_OPTIONS = (
    "beta",
    "temperature",
    "num_generations",
    "max_prompt_length",
    "max_response_length",
)


def train_grpo(ctx: ProgramContext, program: ProgramSpec, scorer: Scorer) -> None:
    """A reinforcement program's training: :func:`fine_tune` with GRPO rewarded by
    ``scorer``, TRL's log keys named by :func:`metric_name`."""
    from functools import partial

    from sageyard.programs._llm.flow import fine_tune

    fine_tune(
        ctx,
        program,
        example,
        partial(make_grpo_trainer, scorer=scorer),
        config_options=CONFIG_OPTIONS,
        metric_names=metric_name,
    )
