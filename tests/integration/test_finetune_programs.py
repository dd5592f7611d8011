"""The fine-tuning programs as real jobs: ``ModelTrainer(algorithm_name="sft" | "dpo")``.

Every job trains the tiny Llama of :mod:`tests.llm` (made offline in a second) on a task it
learns in a few steps: whatever the question, answer "yes yes yes" (SFT) or prefer "yes"
to "no" (DPO). Jobs run with one CPU thread: the model is too small to gain from two, and
the tests stay quick on a busy machine.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.exceptions import TrainingJobFailedError
from sageyard.core.settings import Settings
from sageyard.jobs.resource import TrainingJob
from sageyard.jobs.service import TrainingJobService
from sageyard.train import ModelTrainer
from sageyard.train.configs import CheckpointConfig, InputData
from tests.integration.conftest import read_object
from tests.llm import make_tiny_model, write_jsonl

WORDS = [
    "apple",
    "banana",
    "cherry",
    "grape",
    "lemon",
    "mango",
    "melon",
    "peach",
    "pear",
    "plum",
    "berry",
    "olive",
]
ANSWER = "yes yes yes"
ENVIRONMENT = {"OMP_NUM_THREADS": "1"}
QUICK = {"max_steps": 20, "logging_steps": 5, "eval_steps": 10, "save_steps": 100}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


def sft_rows(words: list[str]) -> list[dict[str, Any]]:
    return [{"prompt": f"Q: {word}", "completion": ANSWER} for word in words]


def chat_rows(words: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "system", "content": "Answer yes."},
                {"role": "user", "content": f"Q: {word}"},
                {"role": "assistant", "content": ANSWER},
            ]
        }
        for word in words
    ]


def dpo_rows(words: list[str]) -> list[dict[str, Any]]:
    return [{"prompt": f"Q: {word}", "chosen": "yes", "rejected": "no"} for word in words]


def channels(
    tmp_path: Path, model: Path, train: list[dict[str, Any]], validation: list[dict[str, Any]]
) -> list[InputData]:
    write_jsonl(tmp_path / "train" / "train.jsonl", train)
    write_jsonl(tmp_path / "validation" / "validation.jsonl", validation)
    return [
        InputData(channel_name="model", data_source=str(model)),
        InputData(channel_name="train", data_source=str(tmp_path / "train")),
        InputData(channel_name="validation", data_source=str(tmp_path / "validation")),
    ]


def trained(technique: str, data: list[InputData], **hyperparameters: Any) -> TrainingJob:
    return trained_with(trainer_for(technique, hyperparameters), data)


def trainer_for(technique: str, hyperparameters: dict[str, Any], **kwargs: Any) -> ModelTrainer:
    return ModelTrainer(
        algorithm_name=technique,
        hyperparameters=hyperparameters,
        environment=ENVIRONMENT,
        **kwargs,
    )


def trained_with(trainer: ModelTrainer, data: list[InputData]) -> TrainingJob:
    trainer.train(data, logs=False)
    job = trainer._latest_training_job
    assert job is not None
    assert job.training_job_status == "Completed", job.failure_reason
    return job


def series(job: TrainingJob, name: str) -> list[float]:
    return [point.value for point in job.metrics(name)]


def final(job: TrainingJob) -> dict[str, float]:
    return {m.metric_name: m.value for m in job.final_metric_data_list}


def extracted(job: TrainingJob, folder: Path) -> Path:
    """The job's model.tar.gz, extracted into ``folder``."""
    assert job.model_artifacts is not None
    archive = folder.with_suffix(".tar.gz")
    archive.write_bytes(read_object(job.model_artifacts.s3_model_artifacts))
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


def weights(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


def metric_steps(job: TrainingJob) -> list[int]:
    return [int(m.group(1)) for m in re.finditer(r"#metrics step=(\d+)", "\n".join(job.logs()))]


def test_sft_lora_learns_the_completions_and_saves_merged_model_and_adapter(
    tmp_path: Path, tiny_model: Path
) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    data = channels(tmp_path, tiny_model, sft_rows(WORDS[:9]), sft_rows(WORDS[9:]))
    job = trained(
        "sft", data, **{**QUICK, "max_steps": 30}, learning_rate=0.02, base_model="tiny/llama"
    )

    losses = series(job, "train:loss")
    assert losses[0] > 6 and losses[-1] < losses[0] - 3, losses
    validation = series(job, "validation:loss")
    assert len(validation) == 4 and validation[-1] < validation[0], validation  # 10, 20, 30, final
    assert all(value > 0 for value in series(job, "train:tokens_per_second"))
    assert series(job, "train:learning_rate")[0] == pytest.approx(0.02)
    metrics = final(job)
    assert metrics["train:loss"] == losses[-1]
    assert metrics["validation:loss"] == validation[-1]
    lines = [line for line in job.logs() if line.startswith("#metrics step=5 ")]
    assert re.fullmatch(
        r"#metrics step=5 epoch=1\.67 train:loss=\S+ train:learning_rate=\S+ "
        r"train:grad_norm=\S+ train:token_accuracy=\S+ train:tokens_per_second=\S+",
        lines[0],
    ), lines

    model_dir = extracted(job, tmp_path / "model")
    assert {p.name for p in (model_dir / "adapter").iterdir()} == {
        "adapter_config.json",
        "adapter_model.safetensors",
    }
    assert {"config.json", "model.safetensors", "tokenizer.json", "sageyard-fine-tuning.json"} <= {
        p.name for p in model_dir.iterdir()
    }
    assert not list(model_dir.rglob("checkpoint-*"))
    metadata = json.loads((model_dir / "sageyard-fine-tuning.json").read_text())
    assert metadata["base_model"] == "tiny/llama"
    assert (metadata["technique"], metadata["training_type"]) == ("sft", "lora")
    assert metadata["hyperparameters"]["learning_rate"] == 0.02
    assert metadata["hyperparameters"]["target_modules"] == ["q_proj", "v_proj"]
    assert metadata["final_metrics"]["train:loss"] == pytest.approx(losses[-1], rel=1e-5)

    # the merged model is the base with the adapter merged into its targeted weights
    base, merged = weights(tiny_model), weights(model_dir)
    name = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(base[name], merged[name])
    assert torch.equal(
        base["model.layers.0.mlp.up_proj.weight"], merged["model.layers.0.mlp.up_proj.weight"]
    )
    adapted = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model), model_dir / "adapter"
    ).merge_and_unload()
    torch.testing.assert_close(adapted.state_dict()[name], merged[name])

    # and it answers the task, through the chat template the tokenizer still carries
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Q: lemon"}], add_generation_prompt=True, return_tensors="pt"
    )
    output = model.generate(**prompt, max_new_tokens=6, do_sample=False)
    answer = tokenizer.decode(output[0, prompt["input_ids"].shape[1] :], skip_special_tokens=True)
    assert answer.startswith(ANSWER)


def test_full_sft_on_chat_messages_resumes_from_its_checkpoint_as_if_uninterrupted(
    tmp_path: Path, tiny_model: Path
) -> None:
    data = channels(tmp_path, tiny_model, chat_rows(WORDS), chat_rows(WORDS[:4]))
    settings = {
        "training_type": "full",
        "learning_rate": 0.002,
        "lr_scheduler_type": "constant",
        "logging_steps": 1,
        "eval_steps": 100,
        "save_steps": 3,
    }
    checkpoints = CheckpointConfig(s3_uri="s3://checkpoints/sft-chat")
    first = trained_with(
        trainer_for("sft", {**settings, "max_steps": 6}, checkpoint_config=checkpoints), data
    )
    resumed = trained_with(
        trainer_for("sft", {**settings, "max_steps": 10}, checkpoint_config=checkpoints), data
    )
    whole = trained("sft", data, **settings, max_steps=10)

    assert "Resuming from checkpoint checkpoint-6: 6 steps done" in "\n".join(resumed.logs())
    assert metric_steps(first) == [1, 2, 3, 4, 5, 6, 6, 6]  # train, validation at the end, final
    assert metric_steps(resumed)[:4] == [7, 8, 9, 10]
    losses = series(first, "train:loss")[:6] + series(resumed, "train:loss")[:4]
    assert losses[-1] < losses[0] - 1, losses
    assert series(resumed, "train:loss")[:4] == pytest.approx(series(whole, "train:loss")[6:10])

    import torch

    resumed_model = extracted(resumed, tmp_path / "resumed")
    assert not (resumed_model / "adapter").exists()
    after, before = weights(resumed_model), weights(tiny_model)
    changed = [name for name in before if not torch.equal(before[name], after[name])]
    assert "model.embed_tokens.weight" in changed and "lm_head.weight" in changed
    whole_weights = weights(extracted(whole, tmp_path / "whole"))
    for name, value in after.items():
        torch.testing.assert_close(value, whole_weights[name], rtol=1e-5, atol=1e-6)


def test_dpo_lora_raises_the_reward_margin(tmp_path: Path, tiny_model: Path) -> None:
    data = channels(tmp_path, tiny_model, dpo_rows(WORDS[:8]), dpo_rows(WORDS[8:]))
    job = trained("dpo", data, **QUICK, learning_rate=0.01)

    losses = series(job, "train:loss")
    assert losses[0] == pytest.approx(0.6931, abs=1e-3)  # log 2: the policy is the reference
    assert losses[-1] < 0.4, losses
    margins = series(job, "validation:reward_margin")
    assert margins[-1] > margins[0] > 0, margins
    assert series(job, "validation:reward_accuracy")[-1] == 1.0
    assert series(job, "train:reward_margin")[-1] > 0
    assert {"validation:loss", "validation:reward_margin", "train:tokens_per_second"} <= set(
        final(job)
    )
    model_dir = extracted(job, tmp_path / "model")
    assert (model_dir / "adapter" / "adapter_model.safetensors").is_file()
    metadata = json.loads((model_dir / "sageyard-fine-tuning.json").read_text())
    assert metadata["technique"] == "dpo" and metadata["hyperparameters"]["beta"] == 0.1
    assert metadata["final_metrics"]["validation:reward_margin"] == pytest.approx(
        margins[-1], rel=1e-5
    )


def test_full_dpo_of_an_archived_model_logs_params_metrics_and_model_to_mlflow(
    tmp_path: Path, tiny_model: Path
) -> None:
    import mlflow

    archive = tmp_path / "model.tar.gz"  # as an earlier job leaves its model
    with tarfile.open(archive, "w:gz") as tar:
        for file in tiny_model.iterdir():
            tar.add(file, arcname=file.name)
    uri = f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    (tmp_path / "mlflow").mkdir()
    data = channels(tmp_path, archive, dpo_rows(WORDS[:8]), dpo_rows(WORDS[8:]))
    job = trained(
        "dpo",
        data,
        **QUICK,
        training_type="full",
        learning_rate=0.001,
        beta=0.2,
        mlflow_tracking_uri=uri,
        mlflow_experiment_name="tiny-dpo",
        mlflow_run_name="first-try",
    )
    assert series(job, "validation:reward_margin")[-1] > 0
    assert "Extracting model.tar.gz" in "\n".join(job.logs())

    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("tiny-dpo")
    assert experiment is not None
    assert experiment.artifact_location == (tmp_path / "mlflow" / "artifacts").as_uri()
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "first-try" and run.info.status == "FINISHED"
    params = run.data.params
    assert (params["training_type"], params["technique"], params["beta"]) == ("full", "dpo", "0.2")
    assert params["learning_rate"] == "0.001" and "lora_r" not in params
    history = client.get_metric_history(run.info.run_id, "train:loss")
    assert [m.step for m in history][:3] == [1, 5, 10]
    assert history[-1].value < history[0].value
    assert {"validation:reward_margin", "train:tokens_per_second"} <= set(run.data.metrics)
    logged = {a.path for a in client.list_artifacts(run.info.run_id, "model")}
    assert {"model/config.json", "model/model.safetensors", "model/tokenizer.json"} <= logged


@pytest.mark.parametrize(
    ("technique", "hyperparameters", "expected"),
    [
        (
            "sft",
            {"learning_rat": 0.1},
            "'learning_rat' is not a hyperparameter of SFT lora fine-tuning. Valid names: "
            "base_model, epochs, eval_steps, gradient_accumulation_steps, learning_rate,",
        ),
        (
            "dpo",
            {"training_type": "full", "lora_r": 4, "beta": 0.1},
            "'lora_r' is not a hyperparameter of DPO full fine-tuning (lora_r: only with "
            "training_type='lora')",
        ),
        ("sft", {"epochs": 0}, "Hyperparameter epochs=0 is out of range"),
        ("sft", {"training_type": "qlora"}, "training_type='qlora' is not valid"),
    ],
)
def test_bad_hyperparameters_fail_before_any_job_with_a_clear_reason(
    tmp_path: Path, tiny_model: Path, technique: str, hyperparameters: dict[str, Any], expected: str
) -> None:
    rows = sft_rows(WORDS) if technique == "sft" else dpo_rows(WORDS)
    trainer = trainer_for(technique, hyperparameters)
    with pytest.raises(ValueError, match=re.escape(expected)):
        trainer.train(channels(tmp_path, tiny_model, rows, rows), logs=False)
    assert trainer._latest_training_job is None
    assert TrainingJobService(Settings.from_env()).list_jobs() == []


def test_bad_rows_are_refused_before_the_job_and_bad_models_fail_it(
    tmp_path: Path, tiny_model: Path
) -> None:
    rows: list[dict[str, Any]] = [*sft_rows(WORDS[:2]), {"prompt": "Q: plum"}]
    with pytest.raises(
        ValueError, match=re.escape("train.jsonl, line 3: missing field 'completion'")
    ):
        trainer_for("sft", {}).train(channels(tmp_path / "a", tiny_model, rows, rows), logs=False)
    assert TrainingJobService(Settings.from_env()).list_jobs() == []

    not_a_model = tmp_path / "not-a-model"
    write_jsonl(not_a_model / "notes.jsonl", [{"a": 1}])
    data = channels(tmp_path / "b", not_a_model, dpo_rows(WORDS), dpo_rows(WORDS))
    reason = failure(trainer_for("dpo", {}), data)
    assert "The 'model' channel holds no Hugging Face model" in reason
    assert "(it holds: notes.jsonl)" in reason


def failure(trainer: ModelTrainer, data: list[InputData]) -> str:
    with pytest.raises(TrainingJobFailedError) as caught:
        trainer.train(data, logs=False)
    reason = caught.value.failure_reason or ""
    assert "Traceback" not in reason
    return reason


@pytest.mark.parametrize(("technique", "rows"), [("sft", sft_rows), ("dpo", dpo_rows)])
def test_two_hosts_fine_tune_data_parallel_as_one_process_on_the_global_batch(
    tmp_path: Path, tiny_model: Path, technique: str, rows: Any
) -> None:
    import torch

    from sageyard.train.configs import Compute

    # every step sees all 8 rows (2 hosts x 4, or 1 x 8), so the order of the rows does not
    # matter, and rows weigh alike (SFT: completions of as many tokens), so per-rank means
    # average to the mean
    data = channels(tmp_path, tiny_model, rows(WORDS[:8]), rows(WORDS[8:10]))
    options = {"epochs": 2, "logging_steps": 1, "save_steps": 100, "lora_dropout": 0.0}
    options |= {"learning_rate": 0.02, "eval_steps": 100}
    two = trained_with(
        trainer_for(
            technique,
            {**options, "per_device_train_batch_size": 4},
            compute=Compute(instance_count=2),
        ),
        data,
    )
    one = trained(technique, data, **options, per_device_train_batch_size=8)
    logs = two.logs()
    assert any("Fine-tuning data-parallel over 2 processes on 2 host(s)" in x for x in logs)
    assert metric_steps(two) == metric_steps(one) == [1, 2, 2, 2]  # 2 steps, eval, final
    assert series(two, "train:loss") == pytest.approx(series(one, "train:loss"), rel=1e-4)
    assert final(two)["validation:loss"] == pytest.approx(final(one)["validation:loss"], rel=1e-4)
    both = weights(extracted(two, tmp_path / "two")), weights(extracted(one, tmp_path / "one"))
    name = "model.layers.0.self_attn.q_proj.weight"
    torch.testing.assert_close(both[0][name], both[1][name], rtol=1e-4, atol=1e-5)
