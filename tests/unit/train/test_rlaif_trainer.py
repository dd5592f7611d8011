"""RLAIFTrainer before any job: the real SDK's parameters, reward models, prompts, judges.

The real SDK is never imported here: its parameter list is copied below from
``sagemaker/train/rlaif_trainer.py`` (3.27.0).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from sageyard.ai_registry.evaluator import REWARD_FUNCTION, REWARD_PROMPT, Evaluator
from sageyard.core.session import Session
from sageyard.train import RLAIFTrainer
from tests.unit.train.test_fine_tuning_real_sdk import BASE_KEYWORDS
from tests.unit.train.test_rlvr_trainer import no_jobs, request_of

REAL_RLAIF_PARAMETERS = [
    "model",
    "training_type",
    "model_package_group",
    "reward_model_id",
    "reward_prompt",
    "mlflow_resource_arn",
    "mlflow_experiment_name",
    "mlflow_run_name",
    "training_dataset",
    "validation_dataset",
    "s3_output_path",
    "kms_key_id",
    "networking",
    "accept_eula",
    "stopping_condition",
    "sequence_length",
    "is_multimodal",
    "notifications",
]
# sageyard's keywords beyond the real RLAIFTrainer's (which has none of these).
OWN_KEYWORDS = ["compute", "recipe", "overrides", "base_model_name", "disable_output_compression"]
TEMPLATE = "Rate {{ response }} as an answer to {{ prompt }}. Reply 'Score: N' (0-10)."


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    return folder


@pytest.fixture
def prompts(tmp_path: Path) -> str:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"Say {w}"}) + "\n" for w in ("hi", "yo")))
    return str(path)


@pytest.fixture(autouse=True)
def stand_in(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stand-in judge is a local folder (the catalog's would be converted)."""
    monkeypatch.setenv("SAGEYARD_LOCAL_JUDGE", str(model_dir))
    return model_dir


def trainer(model_dir: Path, prompts: str, **given: Any) -> RLAIFTrainer:
    given.setdefault("reward_model_id", "openai.gpt-oss-20b-1:0")
    return RLAIFTrainer(str(model_dir), training_dataset=prompts, **given)


def test_the_parameters_are_the_real_ones_in_the_real_order() -> None:
    parameters = list(inspect.signature(RLAIFTrainer.__init__).parameters.values())[1:]
    assert [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD] == (
        REAL_RLAIF_PARAMETERS
    )
    assert [p.name for p in parameters if p.kind is p.KEYWORD_ONLY] == (
        BASE_KEYWORDS + OWN_KEYWORDS
    )


def test_the_reward_model_is_checked_against_the_allow_list_and_the_region(
    model_dir: Path, prompts: str
) -> None:
    with pytest.raises(ValueError, match=r"Invalid reward_model_id 'gpt-4'\. Available models"):
        trainer(model_dir, prompts, reward_model_id="gpt-4")
    tokyo_only = "qwen.qwen3-coder-480b-a35b-v1:0"
    with pytest.raises(ValueError, match="is not available in region 'us-east-1'"):
        trainer(
            model_dir,
            prompts,
            reward_model_id=tokyo_only,
            sagemaker_session=Session(region_name="us-east-1"),
        )
    chosen = trainer(model_dir, prompts, reward_prompt="Builtin.Honesty")
    assert chosen.hyperparameters.judge_model_id == "bedrock/openai.gpt-oss-20b-1:0"


@pytest.mark.parametrize(
    ("given", "preset"),
    [
        ("Builtin.Helpfulness", "helpfulness"),
        ("Builtin.Harmlessness", "harmlessness"),
        ("honesty", "honesty"),
        ("conciseness.jinja", "conciseness"),
        ("Builtin.Summarize", "summarize"),
    ],
)
def test_a_preset_reward_prompt_sets_the_judges_template(
    model_dir: Path, prompts: str, given: str, preset: str
) -> None:
    chosen = trainer(model_dir, prompts, reward_prompt=given)
    assert chosen.hyperparameters.judge_prompt_template == preset
    request = request_of(chosen)
    assert request["HyperParameters"]["judge_prompt_template"] == preset
    assert request["AlgorithmSpecification"]["AlgorithmName"] == "rlaif"


def test_an_unknown_builtin_lists_the_presets(model_dir: Path, prompts: str) -> None:
    with pytest.raises(ValueError, match=r"'Builtin\.Wit' is not an available preset.*helpful"):
        trainer(model_dir, prompts, reward_prompt="Builtin.Wit")


def test_without_an_endpoint_the_stand_in_judge_travels_as_a_channel(
    model_dir: Path, prompts: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="sageyard.train"):
        request = request_of(trainer(model_dir, prompts, reward_prompt="helpfulness"))
    channels = {c["ChannelName"]: c["DataSource"] for c in request["InputDataConfig"]}
    assert channels["judge"] == {"LocalPath": str(model_dir)}
    assert request["HyperParameters"]["judge_endpoint"] == ""
    assert "a stand-in judge" in caplog.text


def test_a_mapped_reward_model_is_judged_by_its_endpoint(
    model_dir: Path, prompts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoints = {"openai.gpt-oss-20b-1:0": {"url": "http://127.0.0.1:9/v1", "model": "oss"}}
    monkeypatch.setenv("SAGEYARD_JUDGE_ENDPOINTS", json.dumps(endpoints))
    request = request_of(trainer(model_dir, prompts, reward_prompt="helpfulness"))
    assert request["HyperParameters"]["judge_endpoint"] == "http://127.0.0.1:9/v1"
    assert request["HyperParameters"]["judge_served_model"] == "oss"
    assert "judge" not in {c["ChannelName"] for c in request["InputDataConfig"]}
    monkeypatch.setenv("SAGEYARD_JUDGE_ENDPOINTS", "[1]")
    with pytest.raises(ValueError, match="SAGEYARD_JUDGE_ENDPOINTS must be a JSON object"):
        request_of(trainer(model_dir, prompts, reward_prompt="helpfulness"))


def test_a_template_file_or_a_reward_prompt_evaluator_travels_as_a_channel(
    tmp_path: Path, model_dir: Path, prompts: str
) -> None:
    file = tmp_path / "judge.jinja"
    file.write_text(TEMPLATE)
    from_file = request_of(trainer(model_dir, prompts, reward_prompt=str(file)))
    channels = {c["ChannelName"]: c["DataSource"] for c in from_file["InputDataConfig"]}
    assert channels["reward_prompt"] == {"LocalPath": str(file)}
    assert from_file["HyperParameters"]["judge_prompt_template"] == ""
    evaluator = Evaluator.create("judge", REWARD_PROMPT, str(file))
    for given in (evaluator, evaluator.arn, "judge"):
        chosen = trainer(model_dir, prompts, reward_prompt=given)
        assert chosen._evaluator_arn == evaluator.arn
        sources = {c["ChannelName"]: c["DataSource"] for c in request_of(chosen)["InputDataConfig"]}
        assert sources["reward_prompt"]["S3DataSource"]["S3Uri"] == evaluator.source


def test_bad_reward_prompts_are_refused_before_any_job(
    tmp_path: Path, model_dir: Path, prompts: str
) -> None:
    broken = tmp_path / "broken.jinja"
    broken.write_text("{{ prompt ")
    with pytest.raises(ValueError, match="not a valid Jinja template"):
        trainer(model_dir, prompts, reward_prompt=str(broken))
    with pytest.raises(ValueError, match="Custom prompt 'nothing' not found in HubContent"):
        trainer(model_dir, prompts, reward_prompt="nothing")
    reward = tmp_path / "reward.py"
    reward.write_text("def lambda_handler(event, context):\n    return {'reward': 1.0}\n")
    function = Evaluator.create("exact", REWARD_FUNCTION, str(reward))
    with pytest.raises(ValueError, match="RLAIF needs a 'RewardPrompt' evaluator"):
        trainer(model_dir, prompts, reward_prompt=function)
    with pytest.raises(ValueError, match="RLAIF training requires a reward prompt"):
        trainer(model_dir, prompts).train(wait=False)
    assert no_jobs()
