"""The fine-tuning datasets: the row rules the techniques share, and reading rows in a job.

Each technique's ``spec.py`` builds its :class:`~sageyard.models.datasets.DatasetFormat`
from :func:`check_strings` and :func:`check_messages`; :func:`read_dataset` reads a job's
channel with it, so the rows are checked the same way before the job and in it.

Example:
    >>> check_strings({"prompt": "2+2?"}, ("prompt", "completion"), "SFT rows need")
    "missing field 'completion'; SFT rows need 'prompt', 'completion'."
    >>> check_messages([{"role": "user", "content": "hi"}])
    "the last of 'messages' must be the assistant's answer (role 'assistant')."
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sageyard.programs._common import AlgorithmError, ProgramContext
from sageyard.programs._spec import TRAIN_CHANNELS

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from sageyard.programs._spec import ProgramSpec

__all__ = [
    "ROLES",
    "chat_template_of",
    "check_messages",
    "check_prompt_row",
    "check_strings",
    "plain_text",
    "read_dataset",
]

log = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant")


# -- row rules --------------------------------------------------------------------------------


def check_strings(
    row: dict[str, Any], fields: tuple[str, ...], need: str, alternative: str = ""
) -> str | None:
    """The problem with ``row``'s string ``fields`` (each but ``prompt`` non-empty), or None.

    ``need`` starts the hint (``"SFT rows need"``); ``alternative`` ends it when a field is
    missing (``" (or chat 'messages')"``).
    """
    wanted = ", ".join(repr(f) for f in fields)
    for field in fields:
        if field not in row:
            return f"missing field {field!r}; {need} {wanted}{alternative}."
        value = row[field]
        if not isinstance(value, str):
            return f"field {field!r} must be a string, got {type(value).__name__} ({value!r:.60})."
        if field != "prompt" and not value.strip():
            return f"field {field!r} is empty."
    return None


def check_messages(messages: Any) -> str | None:
    """The problem with chat ``messages`` (ending with the assistant's answer), or None."""
    problem = _check_chat(messages, "messages")
    if problem:
        return problem
    if messages[-1]["role"] != "assistant":
        return "the last of 'messages' must be the assistant's answer (role 'assistant')."
    if len(messages) < 2:
        return "'messages' needs at least one message before the assistant's answer."
    return None


def check_prompt_row(row: dict[str, Any], need: str) -> str | None:
    """The problem with a prompt-only row of reinforcement fine-tuning, or None.

    The prompt is ``prompt`` (text, or chat messages as verl writes them) or chat
    ``messages`` (a last assistant message is the reference answer, not part of the
    prompt); ``reward_model`` (verl's, with ``ground_truth``) must be an object. Other
    fields go to the reward function as they are. ``need`` starts the hint.

    Example:
        >>> check_prompt_row({"prompt": [{"role": "user", "content": "2+2?"}]}, "RLVR rows need")
        >>> check_prompt_row({"question": "2+2?"}, "RLVR rows need")
        "missing field 'prompt'; RLVR rows need 'prompt' (text or chat messages) or 'messages'."
    """
    if "prompt" in row:
        prompt = row["prompt"]
        if isinstance(prompt, str):
            if not prompt.strip():
                return "field 'prompt' is empty."
        elif isinstance(prompt, list):
            problem = _check_chat(prompt, "prompt")
            if problem:
                return problem
        else:
            return (
                f"field 'prompt' must be a string or a list of {{'role', 'content'}} messages, "
                f"got {type(prompt).__name__} ({prompt!r:.60})."
            )
    elif "messages" in row:
        messages = row["messages"]
        problem = _check_chat(messages, "messages")
        if problem:
            return problem
        if all(message["role"] == "assistant" for message in messages):
            return "'messages' needs a user message: the prompt the model answers."
    else:
        return f"missing field 'prompt'; {need} 'prompt' (text or chat messages) or 'messages'."
    if "reward_model" in row and not isinstance(row["reward_model"], dict):
        return (
            'field \'reward_model\' must be an object such as {"ground_truth": "42"}, got '
            f"{type(row['reward_model']).__name__}."
        )
    return None


def _check_chat(messages: Any, name: str) -> str | None:
    """The problem with a list of chat messages in field ``name``, or None."""
    if not isinstance(messages, list) or not messages:
        return f"field {name!r} must be a non-empty list of {{'role', 'content'}} objects."
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not {"role", "content"} <= set(message):
            return f"{name}[{index}] must be an object with 'role' and 'content'."
        if message["role"] not in ROLES:
            return f"{name}[{index}] has role {message['role']!r}; use one of {', '.join(ROLES)}."
        if not isinstance(message["content"], str):
            return f"{name}[{index}].content must be a string."
    return None


# -- in the job -------------------------------------------------------------------------------


def read_dataset(
    ctx: ProgramContext, channel: str, program: ProgramSpec, required: bool = False
) -> list[dict[str, Any]] | None:
    """The checked rows of a channel's JSONL files, or None for a missing optional channel.

    The ``train`` channel may also be named ``training``, as SageMaker's JumpStart and
    recipes name it.
    """
    assert program.dataset is not None, f"{program.name} declares no dataset format"
    names = TRAIN_CHANNELS if channel in TRAIN_CHANNELS else (channel,)
    found = next((name for name in names if name in ctx.input_data_config), None)
    if found is None:
        if required:
            given = ", ".join(sorted(ctx.input_data_config)) or "none"
            raise AlgorithmError(
                f"ClientError: {program.display_name} fine-tuning needs a {channel!r} channel "
                f"(channels given: {given}); pass InputData(channel_name={channel!r}, ...)."
            )
        return None
    try:
        rows = program.dataset.read(ctx.input_data_dir / found)
    except ValueError as error:
        raise AlgorithmError(f"ClientError: In the {found!r} channel: {error}") from None
    log.info("Read %d rows from the %r channel", len(rows), found)
    return rows


def chat_template_of(tokenizer: PreTrainedTokenizerBase) -> bool:
    """Whether the tokenizer renders chat messages (then rows are given as messages)."""
    return bool(getattr(tokenizer, "chat_template", None))


def plain_text(messages: list[dict[str, str]]) -> str:
    """Chat messages as plain text for a tokenizer with no chat template."""
    return "".join(f"{m['role']}: {m['content']}\n" for m in messages)
