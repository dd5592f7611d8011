"""The GRPO glue of the reinforcement programs: rows, metric names, the reward function."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.programs._llm.data import check_prompt_row
from sageyard.programs._rewards import Sample, Score
from sageyard.programs._rl.grpo import ROW, example, metric_name, reward_function
from sageyard.programs._rl.spec import check_batch, extra_metric

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}]


def test_a_row_becomes_a_prompt_in_the_models_format_and_keeps_the_row() -> None:
    row = {"prompt": "2+2?", "reference_answer": "4"}
    assert example(row, chat=True)["prompt"] == [{"role": "user", "content": "2+2?"}]
    assert example(row, chat=False)["prompt"] == "2+2?"
    assert json.loads(example(row, chat=True)[ROW]) == row
    messages = {"messages": [*CHAT, {"role": "assistant", "content": "4"}]}
    assert example(messages, chat=True)["prompt"] == CHAT  # the answer is not the prompt
    assert example({"prompt": CHAT}, chat=False)["prompt"].endswith("assistant: ")


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"prompt": "2+2?"}, None),
        ({"prompt": CHAT, "reward_model": {"ground_truth": "4"}}, None),
        ({"messages": CHAT}, None),
        ({"question": "2+2?"}, "missing field 'prompt'"),
        ({"prompt": " "}, "field 'prompt' is empty"),
        ({"prompt": 4}, "must be a string or a list"),
        ({"prompt": "2+2?", "reward_model": "4"}, "reward_model"),
    ],
)
def test_prompt_rows_are_checked(row: dict[str, object], problem: str | None) -> None:
    found = check_prompt_row(row, "RLVR rows need")
    assert found is None if problem is None else (found is not None and problem in found)


def test_log_keys_become_metric_names() -> None:
    assert metric_name("reward") == "reward"
    assert metric_name("completions/mean_length") == "completion_length"
    assert metric_name("reward_metric/pass rate") == "reward/pass_rate" == extra_metric("pass rate")
    assert metric_name("loss") == "loss"
    assert metric_name("completions/clipped_ratio") is None


class Halves:
    """A scorer rewarding every other sample, the others failing with a reason."""

    def score(self, samples: Sequence[Sample]) -> list[Score]:
        return [
            Score(0.5, {"len": float(len(s.response))}) if i % 2 == 0 else Score(None, error="boom")
            for i, s in enumerate(samples)
        ]


def test_the_reward_function_gives_failed_samples_0_and_counts_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logged: dict[str, float] = {}
    reward = reward_function(Halves())
    rows = [json.dumps({"prompt": "Q", "reference_answer": "A"})] * 4
    with caplog.at_level(logging.WARNING):
        got = reward(
            prompts=["Q"] * 4,
            completions=["a", "bb", "ccc", "dddd"],
            log_metric=logged.__setitem__,
            **{ROW: rows},
        )
    assert got == [0.5, 0.0, 0.5, 0.0]
    assert logged == {"reward_errors": 2.0, "reward_metric/len": 2.0}
    assert caplog.text.count("A sample got no reward (it counts as 0): boom") == 1


def test_a_step_holds_whole_groups() -> None:
    check_batch(
        {"per_device_train_batch_size": 2, "gradient_accumulation_steps": 2, "num_generations": 4}
    )
    with pytest.raises(
        ConfigurationError, match=r"= 6 completions per step.*num_generations \(4\)"
    ):
        check_batch(
            {
                "per_device_train_batch_size": 3,
                "gradient_accumulation_steps": 2,
                "num_generations": 4,
            }
        )
