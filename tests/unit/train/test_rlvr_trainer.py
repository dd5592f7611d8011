"""RLVRTrainer before any job: the real SDK's parameters, the reward function and its check.

The real SDK is never imported here: its parameter list is copied below from
``sagemaker/train/rlvr_trainer.py`` (3.27.0). The reward function really runs, in a
sandboxed reward worker, when train() verifies it.
"""

from __future__ import annotations

import inspect
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.models.datasets import DatasetError
from sageyard.train import RLVRTrainer
from sageyard.train._request import training_job_request
from tests.unit.train.test_fine_tuning_real_sdk import BASE_KEYWORDS, REAL_DPO_PARAMETERS

REAL_RLVR_PARAMETERS = [
    *REAL_DPO_PARAMETERS[:3],
    "custom_reward_function",
    *REAL_DPO_PARAMETERS[3:-3],
    "skip_reward_validation",
    *REAL_DPO_PARAMETERS[-3:],
]

PER_SAMPLE = """
def lambda_handler(event, context):
    return {"reward": float(event["response"] == event["reference_answer"]), "chars": 1.0}
"""


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A folder that looks like a Hugging Face model (only what is checked before a job)."""
    folder = tmp_path / "tiny-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    return folder


@pytest.fixture
def prompts(tmp_path: Path) -> str:
    path = tmp_path / "prompts.jsonl"
    rows = [{"prompt": f"{n}+{n}=", "reference_answer": str(2 * n)} for n in range(5)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def reward_file(tmp_path: Path, body: str = PER_SAMPLE) -> str:
    path = tmp_path / "reward.py"
    path.write_text(textwrap.dedent(body))
    return str(path)


def request_of(trainer: RLVRTrainer) -> dict[str, Any]:
    """The CreateTrainingJob request train() sends (nothing is created)."""
    built = trainer.to_model_trainer()
    return training_job_request(built, built._session())


def no_jobs() -> bool:
    return TrainingJobService(Settings.from_env()).list_jobs() == []


def test_the_parameters_are_the_real_ones_in_the_real_order() -> None:
    parameters = list(inspect.signature(RLVRTrainer.__init__).parameters.values())[1:]
    assert [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD] == (
        REAL_RLVR_PARAMETERS
    )
    assert [p.name for p in parameters if p.kind is p.KEYWORD_ONLY] == BASE_KEYWORDS
    defaults = {p.name: p.default for p in parameters}
    assert defaults["custom_reward_function"] is None
    assert defaults["skip_reward_validation"] is False


def test_the_options_are_grpos_with_the_rlvr_defaults(model_dir: Path) -> None:
    options = RLVRTrainer(str(model_dir)).hyperparameters
    assert (options.num_generations, options.beta, options.temperature) == (4, 0.04, 1.0)
    assert (options.max_prompt_length, options.max_response_length) == (512, 512)
    assert options.learning_rate == 5e-5
    assert RLVRTrainer(str(model_dir), training_type="full").hyperparameters.learning_rate == 1e-6
    with pytest.raises(ValueError, match="max_seq_length"):
        options.max_seq_length = 64  # the prompt and response lengths bound a sequence


def test_a_reward_function_travels_as_the_reward_channel_with_its_metrics(
    tmp_path: Path, model_dir: Path, prompts: str
) -> None:
    trainer = RLVRTrainer(
        str(model_dir), custom_reward_function=reward_file(tmp_path), training_dataset=prompts
    )
    request = request_of(trainer)
    channels = {c["ChannelName"]: c for c in request["InputDataConfig"]}
    assert set(channels) == {"model", "train", "reward"}
    assert channels["reward"]["DataSource"] == {"LocalPath": str(tmp_path / "reward.py")}
    names = [m["Name"] for m in request["AlgorithmSpecification"]["MetricDefinitions"]]
    assert "train:reward/chars" in names  # found by calling the function
    assert request["AlgorithmSpecification"]["AlgorithmName"] == "rlvr"
    assert no_jobs()


BROKEN = """
def lambda_handler(event, context):
    return {"score": "high"}
"""


def test_a_broken_reward_function_is_refused_before_any_job(
    tmp_path: Path, model_dir: Path, prompts: str
) -> None:
    trainer = RLVRTrainer(
        str(model_dir),
        custom_reward_function=reward_file(tmp_path, BROKEN),
        training_dataset=prompts,
    )
    with pytest.raises(ValueError) as raised:
        trainer.train(wait=False)
    message = str(raised.value)
    assert message.startswith(
        "Reward function verification failed: 3/3 sample(s) failed validation."
    )
    assert message.count("  - sample ") == 3
    assert no_jobs()
    skipped = RLVRTrainer(
        str(model_dir),
        custom_reward_function=reward_file(tmp_path, BROKEN),
        training_dataset=prompts,
        skip_reward_validation=True,
    )
    assert "reward" in {c["ChannelName"] for c in request_of(skipped)["InputDataConfig"]}


def test_a_reward_function_that_hangs_is_stopped_by_its_time_limit(
    tmp_path: Path, model_dir: Path, prompts: str
) -> None:
    hangs = "import time\n\ndef lambda_handler(event, context):\n    time.sleep(60)\n"
    trainer = RLVRTrainer(
        str(model_dir),
        custom_reward_function=reward_file(tmp_path, hangs),
        training_dataset=prompts,
        hyperparameters={"reward_timeout": 0.5},
    )
    with pytest.raises(ValueError, match=r"took longer than 0\.5 s"):
        request_of(trainer)


def test_a_file_that_does_not_load_is_refused(
    tmp_path: Path, model_dir: Path, prompts: str
) -> None:
    trainer = RLVRTrainer(
        str(model_dir),
        custom_reward_function=reward_file(tmp_path, "def lambda_handler(:\n"),
        training_dataset=prompts,
    )
    with pytest.raises(ValueError, match="could not be loaded"):
        request_of(trainer)


def test_a_preset_needs_no_file_and_names_its_metrics(model_dir: Path, prompts: str) -> None:
    trainer = RLVRTrainer(str(model_dir), training_dataset=prompts)
    trainer.hyperparameters.preset_reward_function = "prime_math"
    request = request_of(trainer)
    assert {c["ChannelName"] for c in request["InputDataConfig"]} == {"model", "train"}
    assert request["HyperParameters"]["preset_reward_function"] == "prime_math"
    names = [m["Name"] for m in request["AlgorithmSpecification"]["MetricDefinitions"]]
    assert "train:reward/answer_found" in names
    with pytest.raises(ValueError, match="'gsm9k' is not allowed"):
        trainer.hyperparameters.preset_reward_function = "gsm9k"


@pytest.mark.parametrize(
    ("reward", "preset", "expected"),
    [
        (None, "", "RLVR training requires a reward signal"),
        ("FILE", "gsm8k", "give one reward function"),
        ("missing.py", "", "'missing.py' is not a Python file"),
        ("arn:aws:lambda:us-east-1:123456789012:function:f", "", "cannot invoke AWS Lambda"),
        ("arn:aws:sagemaker:us-east-1:1:hub-content/h/JsonDoc/nope/1.0.0", "", "does not exist"),
    ],
)
def test_the_reward_function_must_be_one_python_file_or_a_preset(
    tmp_path: Path,
    model_dir: Path,
    prompts: str,
    reward: str | None,
    preset: str,
    expected: str,
) -> None:
    given = reward_file(tmp_path) if reward == "FILE" else reward
    trainer = RLVRTrainer(str(model_dir), custom_reward_function=given, training_dataset=prompts)
    trainer.hyperparameters.preset_reward_function = preset
    with pytest.raises(ValueError, match=expected):
        trainer.train(wait=False)
    assert no_jobs()


def test_every_prompt_row_is_checked_with_file_line_and_field(
    tmp_path: Path, model_dir: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "1+1="}\n{"question": "2+2="}\n')
    trainer = RLVRTrainer(
        str(model_dir), custom_reward_function=reward_file(tmp_path), training_dataset=str(bad)
    )
    with pytest.raises(DatasetError, match=r"bad\.jsonl.*line 2"):
        trainer.train(wait=False)
    assert no_jobs()


def test_a_batch_that_splits_a_group_is_refused_by_a_dry_run(
    tmp_path: Path, model_dir: Path, prompts: str
) -> None:
    trainer = RLVRTrainer(
        str(model_dir), custom_reward_function=reward_file(tmp_path), training_dataset=prompts
    )
    trainer.hyperparameters.num_generations = 3
    with pytest.raises(ValueError, match=r"not a multiple of num_generations \(3\)"):
        trainer.train(dry_run=True)
    assert no_jobs()


def test_a_registered_evaluator_its_arn_or_its_lambda_arn_is_the_reward_function(
    tmp_path: Path, model_dir: Path, prompts: str
) -> None:
    from sageyard.ai_registry.evaluator import REWARD_FUNCTION, REWARD_PROMPT, Evaluator

    evaluator = Evaluator.create("exact", REWARD_FUNCTION, reward_file(tmp_path))
    assert evaluator.arn is not None and evaluator.reference is not None
    for given in (evaluator, evaluator.arn, evaluator.reference):
        trainer = RLVRTrainer(
            str(model_dir), custom_reward_function=given, training_dataset=prompts
        )
        request = request_of(trainer)
        channels = {c["ChannelName"]: c["DataSource"] for c in request["InputDataConfig"]}
        assert channels["reward"]["S3DataSource"]["S3Uri"] == evaluator.source
        names = [m["Name"] for m in request["AlgorithmSpecification"]["MetricDefinitions"]]
        assert "train:reward/chars" in names
    prompt = Evaluator.create("judge", REWARD_PROMPT, write_text(tmp_path / "judge.txt", "Rate"))
    trainer = RLVRTrainer(str(model_dir), custom_reward_function=prompt, training_dataset=prompts)
    with pytest.raises(ValueError, match="RLVR needs a 'RewardFunction' evaluator"):
        request_of(trainer)


def write_text(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_the_prompt_and_response_lengths_fit_the_sequence_length(
    tmp_path: Path, model_dir: Path, prompts: str
) -> None:
    trainer = RLVRTrainer(
        str(model_dir),
        custom_reward_function=reward_file(tmp_path),
        training_dataset=prompts,
        sequence_length="1K",
    )
    trainer.hyperparameters.max_response_length = 600
    with pytest.raises(ValueError, match=r"\(512\) \+ max_response_length \(600\) = 1112 exceeds"):
        trainer.train(wait=False)
    assert no_jobs()


def test_the_references_reward_file_as_written_fails_before_any_job(
    tmp_path: Path, model_dir: Path, prompts: str
) -> None:
    import runpy

    example = Path(__file__).parents[3] / "examples" / "fine_tuning" / "reference_rlvr.py"
    reference = runpy.run_path(str(example), run_name="example")["REFERENCE"]
    trainer = RLVRTrainer(
        str(model_dir),
        custom_reward_function=reward_file(tmp_path, reference),
        training_dataset=prompts,
    )
    with pytest.raises(ValueError, match="name 'extract_test_cases' is not defined"):
        trainer.train(wait=False)
    assert no_jobs()
