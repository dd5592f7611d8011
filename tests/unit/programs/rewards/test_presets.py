"""The preset reward functions, called as the reward workers call them (batch contract)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.programs._rewards import Sample, load_handler, score
from sageyard.programs._rewards.presets import PRESET_METRICS, PRESETS, preset_path


def rewards(preset: str, *pairs: tuple[str, Any]) -> list[float | None]:
    """The preset's reward of each (response, reference answer)."""
    samples = [
        Sample(str(i), "Q", response, reference) for i, (response, reference) in enumerate(pairs)
    ]
    contract, scores = score(load_handler(preset_path(preset)), samples)
    assert contract == "batch"
    assert all(set(s.metrics) == set(PRESET_METRICS[preset]) for s in scores)
    return [s.reward for s in scores]


def test_gsm8k_compares_final_numbers() -> None:
    assert rewards(
        "gsm8k",
        ("so 3 + 4 = 7\n#### 7", "7"),
        ("I think it is 1,200.", "#### 1200"),
        ("it is 8", "#### 7"),
        ("no idea", "7"),
    ) == [1.0, 1.0, 0.0, 0.0]


def test_prime_math_finds_equivalent_answers() -> None:
    assert rewards(
        "prime_math",
        ("The answer is $\\frac{1}{2}$", "0.5"),
        ("so \\boxed{4}", "4"),
        ("so \\boxed{5}", "4"),
    ) == [1.0, 1.0, 0.0]


def test_prime_code_runs_the_rows_tests() -> None:
    add = "```python\ndef add(a, b):\n    return a + b\n```"
    echo = "```python\nprint(int(input()) * 2)\n```"
    asserts = "assert add(1, 2) == 3\nassert add(2, 2) == 5"
    calls = {"fn_name": "add", "inputs": [[1, 2], [3, 4]], "outputs": [3, 7]}
    stdin = {"inputs": ["2\n", "5\n"], "outputs": ["4\n", "10\n"]}
    assert rewards(
        "prime_code",
        (add, json.dumps(calls)),
        (echo, stdin),
        (add, asserts),
        ("while True: pass", {"inputs": ["1\n"], "outputs": ["2\n"]}),  # stopped after 3 s
    ) == [1.0, 1.0, 0.5, 0.0]


def test_every_preset_is_a_reward_file_and_others_are_refused() -> None:
    assert all(preset_path(name).is_file() for name in PRESETS)
    with pytest.raises(ConfigurationError, match="'gsm9k' is not a preset; choose one of gsm8k"):
        preset_path("gsm9k")
