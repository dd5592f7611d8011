"""Reward functions in both contracts, from real files, and the check before a job."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from sageyard.programs._rewards import (
    Sample,
    in_process,
    load_handler,
    sample_of_row,
    score,
    verify,
)

# The reference's contract: one sample an event, {"reward": float} back.
PER_SAMPLE = """
    def lambda_handler(event, context):
        prompt = event['prompt']
        response = event['response']
        return {'reward': float(response.strip() == '4'), 'length': len(response)}
"""

# The real SDK's: a list of rows, items with aggregate_reward_score (and metrics) back.
BATCH = """
    import json

    def lambda_handler(event, context):
        out = []
        for item in event:
            answer = item['messages'][-1]['content']
            good = float(answer.strip() == str(item.get('reference_answer')))
            out.append({
                'id': item['id'],
                'aggregate_reward_score': good,
                'metrics_list': [{'name': 'exact', 'value': good, 'type': 'Metric'}],
            })
        return %s
"""


def handler_file(tmp_path: Path, body: str, name: str = "reward.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


SAMPLES = [
    Sample("a", "2+2?", "4", reference_answer="4"),
    Sample("b", [{"role": "user", "content": "2+2?"}], "5", reference_answer="4"),
]


def test_the_per_sample_contract_is_detected(tmp_path: Path) -> None:
    handler = load_handler(handler_file(tmp_path, PER_SAMPLE))
    contract, scores = score(handler, SAMPLES)
    assert contract == "per_sample"
    assert [s.reward for s in scores] == [1.0, 0.0]
    assert scores[0].metrics == {"length": 1.0}  # every extra number is a metric


@pytest.mark.parametrize(
    "returned",
    ["out", "{'statusCode': 200, 'body': json.dumps(out)}", "{'statusCode': 200, 'body': out}"],
    ids=["bare", "envelope-json", "envelope-list"],
)
def test_the_batch_contract_is_detected_bare_or_enveloped(tmp_path: Path, returned: str) -> None:
    handler = load_handler(handler_file(tmp_path, BATCH % returned))
    contract, scores = score(handler, SAMPLES)
    assert contract == "batch"
    assert [s.reward for s in scores] == [1.0, 0.0]
    assert [s.metrics for s in scores] == [{"exact": 1.0}, {"exact": 0.0}]


def test_a_known_contract_is_not_guessed_again(tmp_path: Path) -> None:
    handler = load_handler(handler_file(tmp_path, BATCH % "out"))
    contract, scores = score(handler, SAMPLES, contract="per_sample")
    assert contract == "per_sample"
    assert all(s.reward is None and s.error for s in scores)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("def lambda_handler(event, context):\n    raise RuntimeError('boom')\n", "boom"),
        ("def lambda_handler(event, context):\n    return 'garbage'\n", "got 'garbage'"),
        (
            "def lambda_handler(event, context):\n    return {'reward': 'high'}\n",
            "'reward' must be a number",
        ),
        (
            "def lambda_handler(event, context):\n    return {'statusCode': 500, 'body': 'x'}\n",
            "non-200 status code: 500",
        ),
        (
            "def lambda_handler(event, context):\n"
            "    return [{'id': e['id'], 'aggregate_reward_score': float('nan')} for e in event]\n",
            "aggregate_reward_score",
        ),
    ],
    ids=["raises", "garbage", "not-a-number", "status-500", "nan"],
)
def test_a_broken_reward_gives_no_score_and_says_why(tmp_path: Path, body: str, error: str) -> None:
    contract, scores = score(load_handler(handler_file(tmp_path, body)), SAMPLES)
    assert contract is None
    assert all(s.reward is None for s in scores)
    assert all(error in (s.error or "") for s in scores), scores


def test_load_handler_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Python file not found"):
        load_handler(tmp_path / "missing.py")
    with pytest.raises(ValueError, match="must contain a 'lambda_handler' function"):
        load_handler(handler_file(tmp_path, "def reward(event, context):\n    return 1\n"))
    with pytest.raises(ValueError, match=r"Failed to load Python file: .*division by zero"):
        load_handler(handler_file(tmp_path, "1 / 0\n"))


ROWS: list[dict[str, Any]] = [
    {"prompt": "2+2?", "reward_model": {"style": "rule", "ground_truth": "4"}},  # verl
    {"messages": [{"role": "user", "content": "3+1?"}], "reference_answer": "4"},  # chat
    {"id": "x", "prompt": "1+3?", "reference_answer": "4", "level": 2},  # extra fields
]


def test_rows_of_every_format_become_samples() -> None:
    samples = [sample_of_row(i, row, "4") for i, row in enumerate(ROWS)]
    assert [s.id for s in samples] == ["0", "1", "x"]
    assert [s.reference_answer for s in samples] == ["4", "4", "4"]
    assert samples[1].messages[-1] == {"role": "assistant", "content": "4"}
    assert samples[2].extra == {"level": 2}
    assert samples[0].extra == {"reward_model": {"style": "rule", "ground_truth": "4"}}


@pytest.mark.parametrize(
    ("body", "metrics"),
    [(PER_SAMPLE, ["length"]), (BATCH % "out", ["exact"])],
    ids=["per-sample", "batch"],
)
def test_verify_passes_a_working_function_and_names_its_metrics(
    tmp_path: Path, body: str, metrics: list[str]
) -> None:
    assert verify(in_process(load_handler(handler_file(tmp_path, body))), ROWS) == metrics


def test_verify_lists_each_error_in_the_real_sdks_words(tmp_path: Path) -> None:
    body = "def lambda_handler(event, context):\n    return [{'score': 1}]\n"
    with pytest.raises(ValueError) as raised:
        verify(in_process(load_handler(handler_file(tmp_path, body))), ROWS)
    message = str(raised.value)
    assert message.startswith(
        "Reward function verification failed: 3/3 sample(s) failed validation.\n"
        "Only 0/3 sample(s) passed."
    )
    assert "  - sample 0: " in message and "  - sample 2: " in message
    assert "'aggregate_reward_score': numeric reward value" in message
