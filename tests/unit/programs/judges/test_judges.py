"""Reward prompts and judges: rendering, parsing scores, the endpoint judge over HTTP."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.programs._judges.judges import EndpointJudge, JudgeScorer
from sageyard.programs._judges.prompts import (
    PRESET_PROMPTS,
    check_template,
    parse_score,
    preset_name,
    render,
)
from sageyard.programs._rewards import Sample
from tests.fake_judge import judge_server


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("Builtin.Helpfulness", "helpfulness"),
        ("helpfulness", "helpfulness"),
        ("Builtin.Summarize", "summarize"),
        ("/opt/ml/code/verl/conciseness.jinja", "conciseness"),
        ("Builtin.Wit", "wit"),  # no preset: the trainer says so
    ],
)
def test_preset_spellings_normalise(spelling: str, name: str) -> None:
    assert preset_name(spelling) == name


@pytest.mark.parametrize(
    ("answer", "reward"),
    [
        ("Score: 7", 0.7),
        ("score=10", 1.0),
        ("**Score:** 0", 0.0),
        ("It deserves 3/4", 0.75),
        ("8", 0.8),
        ("Score: 11", None),
        ("Score: -1", None),
        ("a fine answer", None),
    ],
)
def test_a_judges_answer_becomes_a_reward_in_0_1(answer: str, reward: float | None) -> None:
    assert parse_score(answer) == reward


def test_every_preset_shows_the_judge_the_prompt_and_the_response() -> None:
    for template in PRESET_PROMPTS.values():
        check_template(template, "preset")
        text = render(template, "What is 2+2?", "4", {})
        assert "What is 2+2?" in text and "[Assistant]\n4" in text and "Score: N" in text


def test_a_template_sees_the_rows_fields_and_bad_ones_are_refused() -> None:
    text = render(
        "{{ prompt }} / {{ response }} / {{ reference_answer }}",
        "Q",
        "A",
        {"reference_answer": "R"},
    )
    assert text == "Q / A / R"
    with pytest.raises(ConfigurationError, match="not a valid Jinja template"):
        check_template("{{ prompt ", "judge.jinja")
    with pytest.raises(ConfigurationError, match="uses neither"):
        check_template("Rate it.", "judge.jinja")


def test_the_endpoint_judge_scores_over_http() -> None:
    def answer(prompt: str) -> str:
        return "Score: 9" if "[Assistant]\ngood" in prompt else "no idea"

    with judge_server(answer) as server:
        judge = EndpointJudge(server.url, "judge-model", max_tokens=8)
        scorer = JudgeScorer(judge, PRESET_PROMPTS["helpfulness"])
        scores = scorer.score([Sample("0", "Q", "good"), Sample("1", "Q", "bad")])
    assert scores[0].reward == 0.9
    assert scores[1].reward is None and "gave no score: 'no idea'" in (scores[1].error or "")
    assert {r["model"] for r in server.requests} == {"judge-model"}
    assert {r["max_tokens"] for r in server.requests} == {8}


def test_a_failing_or_slow_endpoint_is_a_reward_error_not_a_crash() -> None:
    with judge_server(lambda prompt: time.sleep(2) or "Score: 5") as server:
        slow = EndpointJudge(server.url, "m", timeout=0.2).answer(["x"])
    assert isinstance(slow[0], Exception) and "failed" in str(slow[0])
    with judge_server(lambda prompt: "Score: 5") as server:
        wrong = EndpointJudge(server.url.removesuffix("/v1"), "m").answer(["x"])
    assert isinstance(wrong[0], Exception) and "HTTP 404" in str(wrong[0])


class Broken:
    def answer(self, prompts: Sequence[str]) -> list[str | Exception]:
        return [RuntimeError("down")] * len(prompts)


def test_a_template_that_fails_to_render_or_a_judge_that_fails_gives_no_reward() -> None:
    scores = JudgeScorer(Broken(), "{{ prompt }} {{ response }}").score([Sample("0", "Q", "A")])
    assert scores[0].reward is None and scores[0].error == "down"
    bad = JudgeScorer(Broken(), "{{ response.nope() }}").score([Sample("0", "Q", "A")])
    assert bad[0].error == "the reward prompt failed to render"
