"""The custom scorer's dataset and scoring: the model answers each row, a reward function
scores the answer.

Rows are the real SDK's gen-QA (``query``, the reference ``response``, optional ``system``
and ``metadata``) or a fine-tuning format: ``prompt`` / ``completion``, or chat
``messages`` whose last (assistant) message is the reference. The model's answers are
scored by the preset reward function or the user's file in the sandboxed reward workers
(``programs/_rewards``: no network, memory and time limits), in the reward contract of the
RLVR program, with the row's reference as ``reference_answer``.

Example:
    >>> question({"query": "2+2?", "system": "Be brief.", "response": "4"})
    ([{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': '2+2?'}], '4')
    >>> question({"messages": [{"role": "user", "content": "hi"},
    ...                        {"role": "assistant", "content": "hello"}]})
    ([{'role': 'user', 'content': 'hi'}], 'hello')
"""

from __future__ import annotations

from typing import Any

from sageyard.models.datasets import DatasetFormat

__all__ = ["GEN_QA", "check_row", "question"]

Messages = list[dict[str, Any]]


def question(row: dict[str, Any]) -> tuple[Messages, str | None]:
    """The chat messages that ask the row's question, and its reference answer (or None)."""
    if isinstance(row.get("messages"), list):
        messages = [dict(m) for m in row["messages"]]
        reference = None
        if messages and messages[-1].get("role") == "assistant":
            reference = str(messages.pop()["content"])
        return messages, reference
    asked: Messages = []
    if isinstance(row.get("system"), str) and row["system"]:
        asked.append({"role": "system", "content": row["system"]})
    if "query" in row:
        asked.append({"role": "user", "content": row["query"]})
        reference = row.get("response")
    else:
        prompt = row.get("prompt")
        if isinstance(prompt, list):
            asked.extend(prompt)
        else:
            asked.append({"role": "user", "content": prompt})
        reference = row.get("completion", row.get("reference_answer"))
    return asked, None if reference is None else str(reference)


def check_row(row: dict[str, Any]) -> str | None:
    """The problem with one evaluation row, or None."""
    if isinstance(row.get("messages"), list):
        if not row["messages"] or not all(
            isinstance(m, dict) and isinstance(m.get("content"), str) for m in row["messages"]
        ):
            return "'messages' must be a non-empty list of {'role', 'content'} objects."
        return None
    key = "query" if "query" in row else "prompt" if "prompt" in row else None
    if key is None:
        return (
            "missing field 'query'; gen-QA rows need 'query' (and the reference 'response'), "
            "or give 'prompt'/'completion' or chat 'messages'."
        )
    value = row[key]
    if not (isinstance(value, str) and value.strip()) and not isinstance(value, list):
        return f"field {key!r} must be a non-empty string."
    for field in ("response", "completion", "system"):
        if field in row and not isinstance(row[field], str):
            return f"field {field!r} must be a string, got {type(row[field]).__name__}."
    return None


#: The rows a custom scorer or LLM judge reads.
GEN_QA = DatasetFormat(
    example='{"query": "What is 2+2?", "response": "4"}',
    check_row=check_row,
)
