"""CustomScorerEvaluator before any job: its scorers (built-in, a registered Evaluator, its
ARN, a file) and its checks, in the real SDK's words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sageyard.ai_registry.evaluator import Evaluator
from sageyard.train import CustomScorerEvaluator, get_builtin_metrics
from tests.evaluation_fixtures import scripted_model

OUT = "s3://bucket/evals/"
REWARD = "def lambda_handler(event, context):\n    return {'reward': 1.0}\n"


def test_the_built_in_metrics_are_the_real_sdks() -> None:
    assert [m.value for m in get_builtin_metrics()] == ["prime_math", "prime_code"]
    given = CustomScorerEvaluator(
        evaluator="prime_code", dataset="s3://b/d", model="m", s3_output_path=OUT
    )
    assert given.evaluator is get_builtin_metrics().PRIME_CODE
    with pytest.raises(ValueError, match="Available built-in metrics: prime_math, prime_code"):
        CustomScorerEvaluator(evaluator="bleu", dataset="s3://b/d", model="m", s3_output_path=OUT)
    with pytest.raises(ValueError, match="Invalid evaluator type: int"):
        CustomScorerEvaluator(evaluator=3, dataset="s3://b/d", model="m", s3_output_path=OUT)


def test_a_registered_evaluator_or_its_arn_is_the_scorer(tmp_path: Path) -> None:
    source = tmp_path / "reward.py"
    source.write_text(REWARD)
    registered = Evaluator.create(name="always-one", type="RewardFunction", source=str(source))
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text(json.dumps({"query": "q", "response": "r"}) + "\n")
    model = str(scripted_model(tmp_path / "model", {}))
    for evaluator in (registered, registered.arn):
        given = CustomScorerEvaluator(
            evaluator=evaluator, dataset=str(dataset), model=model, s3_output_path=OUT
        )
        assert given.evaluator == registered.arn
        assert given.evaluate(dry_run=True) is None
    prompt = Evaluator.create(name="judge", type="RewardPrompt", source=_template(tmp_path))
    with pytest.raises(ValueError, match="A custom scorer needs a 'RewardFunction' evaluator"):
        CustomScorerEvaluator(
            evaluator=prompt, dataset=str(dataset), model=model, s3_output_path=OUT
        ).evaluate(dry_run=True)


def _template(folder: Path) -> str:
    path = folder / "judge.jinja"
    path.write_text("Rate {{ response }} for {{ prompt }}. Score: N")
    return str(path)
