"""The reinforcement fine-tuning program as real jobs: ``ModelTrainer(algorithm_name="rlvr")``.

The tiny Llama of :mod:`tests.llm` starts out writing random bytes; the reward it can
learn in a few dozen GRPO steps is the share of its characters that are lowercase letters
or spaces (many tokens qualify, so the signal is dense). Jobs run with one CPU thread and
short completions, ~10 s each.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.settings import Settings
from sageyard.core.shapes import MetricDefinition
from sageyard.jobs.service import TrainingJobService
from sageyard.programs._llm.metrics import metric_regex
from sageyard.train import ModelTrainer
from sageyard.train.configs import InputData
from tests.integration.test_finetune_programs import (
    WORDS,
    extracted,
    failure,
    final,
    series,
    trained_with,
)
from tests.llm import make_tiny_model, write_jsonl

ENVIRONMENT = {"OMP_NUM_THREADS": "1"}
# LoRA on every linear layer: q/v adapters barely move a random model's next-token choice.
LEARNS = {
    "learning_rate": 0.05,
    "target_modules": ["all-linear"],
    "max_response_length": 8,
    "num_generations": 4,
    "per_device_train_batch_size": 4,
    "per_device_eval_batch_size": 4,
    "logging_steps": 5,
    "eval_steps": 10,
    "save_steps": 100,
}

PER_SAMPLE = """
def lambda_handler(event, context):
    text = event["response"]
    letters = sum(c in "abcdefghijklmnopqrstuvwxyz " for c in text)
    return {"reward": letters / max(len(text), 1), "spaces": text.count(" ")}
"""

BATCH = """
import json

def lambda_handler(event, context):
    outputs = []
    for item in event:
        text = item["messages"][-1]["content"]
        letters = sum(c in "abcdefghijklmnopqrstuvwxyz " for c in text)
        outputs.append({
            "id": item["id"],
            "aggregate_reward_score": letters / max(len(text), 1),
            "metrics_list": [{"name": "has_reference", "value": float("reference_answer" in item)}],
        })
    return {"statusCode": 200, "body": json.dumps(outputs)}
"""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


def prompts(words: list[str]) -> list[dict[str, Any]]:
    return [{"prompt": f"Q: {word}", "reference_answer": word} for word in words]


def channels(
    tmp_path: Path, model: Path, reward: str | None, validation: bool = True
) -> list[InputData]:
    write_jsonl(tmp_path / "train" / "train.jsonl", prompts(WORDS[:8]))
    data = [
        InputData(channel_name="model", data_source=str(model)),
        InputData(channel_name="train", data_source=str(tmp_path / "train")),
    ]
    if validation:
        write_jsonl(tmp_path / "validation" / "validation.jsonl", prompts(WORDS[8:]))
        data.append(InputData(channel_name="validation", data_source=str(tmp_path / "validation")))
    if reward is not None:
        (tmp_path / "reward").mkdir()
        (tmp_path / "reward" / "reward_function.py").write_text(textwrap.dedent(reward))
        data.append(InputData(channel_name="reward", data_source=str(tmp_path / "reward")))
    return data


def rlvr(hyperparameters: dict[str, Any]) -> ModelTrainer:
    return ModelTrainer(
        algorithm_name="rlvr", hyperparameters=hyperparameters, environment=ENVIRONMENT
    )


@pytest.mark.parametrize(("reward", "extra"), [(PER_SAMPLE, "spaces"), (BATCH, "has_reference")])
def test_grpo_raises_the_held_out_reward_under_either_contract(
    tmp_path: Path, tiny_model: Path, reward: str, extra: str
) -> None:
    # a reward function's own metrics are in the log; a job reads those it defines
    name = f"train:reward/{extra}"
    trainer = rlvr({**LEARNS, "max_steps": 40}).with_metric_definitions(
        [MetricDefinition(name=name, regex=metric_regex(name))]
    )
    job = trained_with(trainer, channels(tmp_path, tiny_model, reward))

    held_out = series(job, "validation:reward")
    assert held_out[-1] > held_out[0] + 0.1, held_out
    rewards = series(job, "train:reward")
    assert rewards[-1] > rewards[0] + 0.2, rewards
    assert set(series(job, "train:reward_errors")) == {0.0}
    assert series(job, name)
    assert series(job, "train:kl")[-1] > 0  # beta=0.04: the policy moved off the start
    assert series(job, "train:completion_length")
    assert series(job, "train:reward_std")
    assert {"validation:reward", "train:tokens_per_second", "train:runtime"} <= set(final(job))
    if extra == "has_reference":  # the row's fields reach the reward function
        assert series(job, name)[-1] == 1.0
    model_dir = extracted(job, tmp_path / "model")
    assert (model_dir / "adapter" / "adapter_model.safetensors").is_file()


BROKEN = """
import time

def lambda_handler(event, context):
    text = event["response"]
    if text.count(" ") == 0:
        raise ValueError("no spaces")
    if text.count(" ") == 1:
        return {"reward": "lots"}
    if text.count(" ") > 3:
        time.sleep(30)
    return {"reward": 1.0}
"""


def test_failing_calls_count_as_reward_errors_and_the_job_goes_on(
    tmp_path: Path, tiny_model: Path
) -> None:
    hyperparameters = {**LEARNS, "max_steps": 4, "logging_steps": 1, "reward_timeout": 2}
    job = trained_with(
        rlvr(hyperparameters), channels(tmp_path, tiny_model, BROKEN, validation=False)
    )

    errors = series(job, "train:reward_errors")
    assert len(errors) == 4 and sum(errors) > 0, errors
    log = "\n".join(job.logs())
    assert "A sample got no reward (it counts as 0)" in log
    assert "Handler execution failed: ValueError: no spaces" in log


def test_a_preset_rewards_a_final_answer(tmp_path: Path, tiny_model: Path) -> None:
    hyperparameters = {
        **LEARNS,
        "max_steps": 2,
        "logging_steps": 1,
        "preset_reward_function": "gsm8k",
    }
    job = trained_with(rlvr(hyperparameters), channels(tmp_path, tiny_model, None))

    assert series(job, "train:reward") == [0.0, 0.0]  # the references (words) hold no number
    assert re.search(r"train:reward/answer_found=[0-9.]+ ", "\n".join(job.logs()))
    assert "Rewards come from the preset reward function 'gsm8k'" in "\n".join(job.logs())


@pytest.mark.parametrize(
    ("hyperparameters", "expected"),
    [
        ({"num_generations": 3}, "not a multiple of num_generations (3)"),
        ({"preset_reward_function": "gsm9k"}, "preset_reward_function='gsm9k' is not allowed"),
        ({"max_seq_length": 64}, "'max_seq_length' is not a hyperparameter of RLVR"),
        ({"temperature": 0}, "temperature=0.0 is out of range"),
    ],
)
def test_bad_hyperparameters_fail_before_any_job(
    tmp_path: Path, tiny_model: Path, hyperparameters: dict[str, Any], expected: str
) -> None:
    trainer = rlvr(hyperparameters)
    with pytest.raises(ValueError, match=re.escape(expected)):
        trainer.train(channels(tmp_path, tiny_model, PER_SAMPLE), logs=False)
    assert TrainingJobService(Settings.from_env()).list_jobs() == []


def test_a_job_without_a_reward_function_fails_saying_how_to_give_one(
    tmp_path: Path, tiny_model: Path
) -> None:
    reason = failure(rlvr({"max_steps": 1}), channels(tmp_path, tiny_model, None))
    assert "RLVR needs a reward function: a 'reward' channel" in reason


def test_rlvr_trainer_runs_a_reward_file_and_logs_its_metrics(
    tmp_path: Path, tiny_model: Path
) -> None:
    from sageyard.train import RLVRTrainer

    write_jsonl(tmp_path / "prompts.jsonl", prompts(WORDS[:8]))
    (tmp_path / "reward.py").write_text(textwrap.dedent(PER_SAMPLE))
    trainer = RLVRTrainer(
        str(tiny_model),
        custom_reward_function=str(tmp_path / "reward.py"),
        training_dataset=str(tmp_path / "prompts.jsonl"),
        hyperparameters={**LEARNS, "max_steps": 2, "logging_steps": 1},
        environment=ENVIRONMENT,
    )
    job = trainer.train()

    assert job is not None and job.training_job_status == "Completed"
    assert len(series(job, "train:reward")) == 2
    assert len(series(job, "train:reward/spaces")) == 2  # defined by the check before the job
    assert "Rewards come from reward.py" in "\n".join(job.logs())


def lowercase_judge(prompt: str) -> str:
    """A judge of the helpfulness preset that likes lowercase letters and spaces."""
    response = prompt.split("[Assistant]\n", 1)[1].rsplit("\n\nReply with one line", 1)[0]
    letters = sum(c in "abcdefghijklmnopqrstuvwxyz " for c in response)
    return f"Score: {round(10 * letters / max(len(response), 1))}"


def test_rlaif_with_an_endpoint_judge_raises_the_judges_score(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sageyard.train import RLAIFTrainer
    from tests.fake_judge import judge_server

    write_jsonl(tmp_path / "train.jsonl", prompts(WORDS[:8]))
    write_jsonl(tmp_path / "validation.jsonl", prompts(WORDS[8:]))
    with judge_server(lowercase_judge) as server:
        endpoints = {"openai.gpt-oss-20b-1:0": {"url": server.url, "model": "judge"}}
        monkeypatch.setenv("SAGEYARD_JUDGE_ENDPOINTS", json.dumps(endpoints))
        job = RLAIFTrainer(
            str(tiny_model),
            reward_model_id="openai.gpt-oss-20b-1:0",
            reward_prompt="Builtin.Helpfulness",
            training_dataset=str(tmp_path / "train.jsonl"),
            validation_dataset=str(tmp_path / "validation.jsonl"),
            hyperparameters={**LEARNS, "max_steps": 40},
            environment=ENVIRONMENT,
        ).train()

    assert job is not None
    held_out = series(job, "validation:reward")
    assert held_out[-1] > held_out[0] + 0.1, held_out
    assert set(series(job, "train:reward_errors")) == {0.0}
    assert {r["model"] for r in server.requests} == {"judge"}
    assert f"The judge is judge at {server.url}" in "\n".join(job.logs())


def test_rlaif_without_an_endpoint_is_judged_by_a_local_stand_in(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sageyard.train import RLAIFTrainer

    monkeypatch.setenv("SAGEYARD_LOCAL_JUDGE", str(tiny_model))
    write_jsonl(tmp_path / "train.jsonl", prompts(WORDS[:8]))
    (tmp_path / "judge.jinja").write_text("{{ prompt }} -> {{ response }}. Score:")
    job = RLAIFTrainer(
        str(tiny_model),
        reward_model_id="qwen.qwen3-32b-v1:0",
        reward_prompt=str(tmp_path / "judge.jinja"),
        training_dataset=str(tmp_path / "train.jsonl"),
        hyperparameters={**LEARNS, "max_steps": 2, "logging_steps": 1, "judge_max_tokens": 4},
        environment=ENVIRONMENT,
    ).train()

    assert job is not None and job.training_job_status == "Completed"
    log = "\n".join(job.logs())
    assert "No endpoint is configured for bedrock/qwen.qwen3-32b-v1:0: a stand-in judge" in log
    assert "The judge scores with the reward prompt judge.jinja" in log
    assert set(series(job, "train:reward_errors")) == {0.0}  # it reads digit odds: a score
    assert all(0.0 < reward < 1.0 for reward in series(job, "train:reward"))


def test_a_tuner_runs_rlvr_trials_on_the_held_out_reward(tmp_path: Path, tiny_model: Path) -> None:
    from sageyard.core.parameter import ContinuousParameter
    from sageyard.train import RLVRTrainer
    from sageyard.train.tuner import HyperparameterTuner

    write_jsonl(tmp_path / "train.jsonl", prompts(WORDS[:8]))
    write_jsonl(tmp_path / "validation.jsonl", prompts(WORDS[8:]))
    (tmp_path / "reward.py").write_text(textwrap.dedent(PER_SAMPLE))
    rlvr_trainer = RLVRTrainer(
        str(tiny_model),
        custom_reward_function=str(tmp_path / "reward.py"),
        training_dataset=str(tmp_path / "train.jsonl"),
        validation_dataset=str(tmp_path / "validation.jsonl"),
        hyperparameters={**LEARNS, "max_steps": 4, "eval_steps": 2, "logging_steps": 2},
        environment=ENVIRONMENT,
    )
    tuner = HyperparameterTuner(
        model_trainer=rlvr_trainer,
        objective_metric_name="validation:reward",
        objective_type="Maximize",
        hyperparameter_ranges={"beta": ContinuousParameter(0.0, 0.1)},
        strategy="Random",
        max_jobs=2,
        max_parallel_jobs=1,
    )
    tuner.tune(wait=True)

    description = tuner.latest_tuning_job.describe()  # type: ignore[union-attr]
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    best = description["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    assert best["MetricName"] == "validation:reward" and 0.0 <= best["Value"] <= 1.0
    trials = TrainingJobService(Settings.from_env()).list_jobs()
    assert {t.document["spec"]["algorithm_name"] for t in trials} == {"rlvr"}
