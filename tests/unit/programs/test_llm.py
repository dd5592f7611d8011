"""The fine-tuning programs' pure parts: request, rows, model folder, metrics lines, specs."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from sageyard.jobs.metrics import MetricExtractor
from sageyard.programs import ProgramSpec, program
from sageyard.programs._common import AlgorithmError, ProgramContext
from sageyard.programs._llm import data, flow, metrics, mlflow, model, request
from sageyard.programs.dpo.__main__ import CONFIG_OPTIONS as DPO_CONFIG_OPTIONS
from sageyard.programs.dpo.__main__ import example as dpo_example
from sageyard.programs.dpo.spec import PROGRAM as DPO
from sageyard.programs.sft.__main__ import example as sft_example
from sageyard.programs.sft.spec import PROGRAM as SFT
from tests.llm import write_jsonl

HEAVY = ["torch", "transformers", "trl", "peft", "datasets", "mlflow", "numpy", "pydantic"]


def test_the_specs_and_programs_import_no_heavy_library() -> None:
    code = (
        "import json, sys\n"
        "import sageyard.programs.sft.spec, sageyard.programs.dpo.spec\n"
        "import sageyard.programs.sft.__main__, sageyard.programs.dpo.__main__\n"
        "from sageyard.programs import program\n"
        "assert program('sft').fine_tuning and program('dpo').fine_tuning\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_algorithms_are_registered_with_their_specs() -> None:
    assert program("sft") is SFT
    assert program("dpo") is DPO
    assert SFT.training_types == DPO.training_types == ("lora", "full")
    assert "beta" in DPO.options["full"] and "beta" not in SFT.options["lora"]
    assert "lora_r" in SFT.options["lora"] and "lora_r" not in SFT.options["full"]
    for spec in (SFT, DPO):
        names = [d.name for d in spec.metric_definitions]
        assert len(names) == len(set(names))
        assert {"train:loss", "validation:loss", "train:tokens_per_second"} <= set(names)


def test_each_technique_has_its_own_default_learning_rates() -> None:
    rates = {
        (spec.name, training_type): spec.option_specs(training_type)["learning_rate"]["default"]
        for spec in (SFT, DPO)
        for training_type in spec.training_types
    }
    assert rates == {
        ("sft", "lora"): 2e-4,
        ("sft", "full"): 2e-5,
        ("dpo", "lora"): 5e-5,
        ("dpo", "full"): 1e-6,
    }


@pytest.mark.parametrize("spec", [SFT, DPO])
def test_tunable_ranges_are_options_of_both_training_types(spec: ProgramSpec) -> None:
    for training_type in ("lora", "full"):
        assert set(spec.tunable_ranges) <= set(spec.options[training_type])


def test_the_job_check_is_the_check_the_program_makes() -> None:
    from sageyard.core.exceptions import ConfigurationError

    SFT.check_hyperparameters({"epochs": "2", "training_type": "full"})
    with pytest.raises(ConfigurationError, match=r"^'beta' is not a hyperparameter of SFT"):
        SFT.check_hyperparameters({"beta": "0.1"})
    DPO.check_hyperparameters({"beta": "0.1"})


def test_the_metric_definitions_read_the_lines_the_programs_print() -> None:
    lines: list[str] = []
    log = metrics.MetricLog(emit=lines.append)
    log.record(5, 0.5, {"loss": 1.5, "learning_rate": 2e-4, "rewards/margins": 0.25}, 0)
    log.record(5, 0.5, {"eval_loss": 1.25, "eval_rewards/accuracies": 0.75, "epoch": 0.5}, 0)
    extractor = MetricExtractor(DPO.metric_definitions)
    points = {(p.metric_name, p.value) for p in extractor.feed(lines)}
    assert points == {
        ("train:loss", 1.5),
        ("train:learning_rate", 2e-4),
        ("train:reward_margin", 0.25),
        ("validation:loss", 1.25),
        ("validation:reward_accuracy", 0.75),
    }


def test_metric_log_counts_tokens_per_second_of_training_steps() -> None:
    now = [0.0]
    lines: list[str] = []
    logged: list[tuple[dict[str, float], int]] = []
    log = metrics.MetricLog(
        emit=lines.append, on_metrics=lambda m, s: logged.append((m, s)), clock=lambda: now[0]
    )
    log.train_begins(tokens_seen=100)  # resumed: 100 tokens were seen before
    for _ in range(2):
        log.step_begins()
        now[0] += 0.5
        log.step_ends()
        now[0] += 10.0  # evaluation, saving: not training time
    log.record(2, 0.25, {"loss": 2.0, "grad_norm": 1.0, "num_tokens": 5.0}, tokens_seen=600)
    log.record(2, 0.25, {"eval_loss": 1.75}, tokens_seen=600)
    log.record(2, 0.25, {"train_runtime": 3.0, "train_loss": 2.2}, tokens_seen=600)
    assert lines == [
        "#metrics step=2 epoch=0.25 train:loss=2 train:grad_norm=1 train:tokens_per_second=500",
        "#metrics step=2 epoch=0.25 validation:loss=1.75",
    ]
    assert logged[0] == (
        {"train:loss": 2.0, "train:grad_norm": 1.0, "train:tokens_per_second": 500.0},
        2,
    )
    final = log.final()
    peak = final.pop("train:peak_rss_mb")
    assert peak > 10  # this process's peak resident set, in MiB
    assert final == {
        "train:loss": 2.0,
        "validation:loss": 1.75,
        "train:num_tokens": 5.0,  # TRL's own count, as a plain TRL script reads it
        "train:runtime": 3.0,
    }
    assert lines[-1].startswith(
        "#metrics step=2 epoch=0.25 train:loss=2 validation:loss=1.75 train:num_tokens=5 "
        "train:runtime=3 train:peak_rss_mb="
    )


def test_a_request_takes_the_options_and_the_extra_hyperparameters() -> None:
    parsed = request.parse_request(
        {
            "epochs": "2",
            "learning_rate": "1e-4",
            "target_modules": '["all-linear"]',
            "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
            "mlflow_tracking_uri": "sqlite:///m.db",
            "mlflow_experiment_name": "exp",
            "_tuning_objective_metric": "validation:loss",
        },
        SFT,
    )
    assert parsed.lora and parsed.training_type == "lora" and parsed.technique == "sft"
    assert parsed.options["epochs"] == 2 and parsed.options["learning_rate"] == 1e-4
    assert parsed.options["target_modules"] == ["all-linear"]
    assert parsed.options["lora_r"] == 8  # the default
    assert parsed.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert parsed.mlflow == request.MlflowSettings("exp", "sqlite:///m.db", None)
    full = request.parse_request({"training_type": "full"}, DPO)
    assert not full.lora and full.options["beta"] == 0.1 and "lora_r" not in full.options
    assert full.mlflow is None and full.base_model is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"epoch": "2"}, "'epoch' is not a hyperparameter of SFT lora fine-tuning. Valid names: "),
        ({"training_type": "full", "lora_alpha": "8"}, "(lora_alpha: only with training_type="),
        ({"training_type": "Qlora"}, "training_type='Qlora' is not valid; choose from lora, full"),
        ({"learning_rate": "fast"}, "learning_rate must be a number between"),
        ({"optimizer": "adam"}, "optimizer='adam' is not allowed"),
    ],
)
def test_a_bad_request_says_what_is_wrong(raw: dict[str, str], message: str) -> None:
    with pytest.raises(AlgorithmError, match=r"^ClientError: ") as caught:
        request.parse_request(raw, SFT)
    assert message in str(caught.value)


def test_training_arguments_follow_the_options() -> None:
    chosen = model.Precision("cpu", "float32", False)
    parsed = request.parse_request(
        {"optimizer": "adamw", "warmup_ratio": "0.1", "beta": "0.3"}, DPO
    )
    arguments = flow.training_arguments(parsed, Path("/ckpt"), True, chosen, DPO_CONFIG_OPTIONS)
    assert arguments["optim"] == "adamw_torch"
    assert arguments["warmup_steps"] == 0.1  # a ratio: transformers 5 has no warmup_ratio
    assert (arguments["eval_strategy"], arguments["eval_steps"]) == ("steps", 100)
    assert (arguments["save_strategy"], arguments["output_dir"]) == ("steps", "/ckpt")
    assert (arguments["max_length"], arguments["beta"]) == (1024, 0.3)
    assert (arguments["report_to"], arguments["disable_tqdm"]) == ("none", True)
    sft = flow.training_arguments(request.parse_request({}, SFT), Path("/c"), False, chosen)
    assert sft["eval_strategy"] == "no" and "eval_steps" not in sft and "beta" not in sft


def test_the_latest_complete_checkpoint_is_resumed(tmp_path: Path) -> None:
    assert flow.latest_checkpoint(tmp_path / "none") is None
    for step in (5, 10, 40):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-50").mkdir()  # being written when the job stopped
    (tmp_path / "tmp-checkpoint-60").mkdir()
    assert flow.latest_checkpoint(tmp_path) == tmp_path / "checkpoint-40"


def _model(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    return folder


def test_the_model_folder_is_found_in_the_channel_or_its_archive(tmp_path: Path) -> None:
    assert model.find_model_folder(_model(tmp_path / "a"), tmp_path) == tmp_path / "a"
    nested = _model(tmp_path / "b" / "models--x" / "snapshot")
    assert model.find_model_folder(tmp_path / "b", tmp_path) == nested

    channel = tmp_path / "c"
    channel.mkdir()
    with tarfile.open(channel / "model.tar.gz", "w:gz") as tar:
        for name, text in (("config.json", "{}"), ("adapter/adapter_config.json", "{}")):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
    scratch = tmp_path / "scratch"
    found = model.find_model_folder(channel, scratch)
    assert found.parent == scratch and (found / "config.json").is_file()

    empty = tmp_path / "d"
    empty.mkdir()
    (empty / "weights.bin").write_text("")
    with pytest.raises(AlgorithmError, match=r"no config.json .*\(it holds: weights.bin\)"):
        model.find_model_folder(empty, scratch)


def test_sft_rows_become_conversational_with_a_chat_template() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
    ]
    assert sft_example({"messages": messages}, chat=True) == {
        "prompt": messages[:2],
        "completion": [{"role": "assistant", "content": "4"}],
    }
    assert sft_example({"messages": messages}, chat=False) == {
        "prompt": "system: Be brief.\nuser: 2+2?\nassistant: ",
        "completion": "4",
    }
    assert sft_example({"prompt": "2+2?", "completion": "4", "id": 7}, chat=True) == {
        "prompt": [{"role": "user", "content": "2+2?"}],
        "completion": [{"role": "assistant", "content": "4"}],
    }


def test_dpo_rows_become_conversational_with_a_chat_template() -> None:
    row = {"prompt": "2+2?", "chosen": "4", "rejected": "5", "source": "x"}
    assert dpo_example(row, chat=False) == {"prompt": "2+2?", "chosen": "4", "rejected": "5"}
    assert dpo_example(row, chat=True)["rejected"] == [{"role": "assistant", "content": "5"}]


def test_a_sqlite_store_keeps_its_artifacts_beside_it(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    assert mlflow._artifact_location(uri) == (tmp_path / "artifacts").as_uri()
    assert mlflow._artifact_location("http://mlflow:5000") is None
    assert mlflow._artifact_location(None) is None


def test_the_train_channel_may_be_named_training(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "data" / "training" / "a.jsonl", [{"prompt": "p", "completion": "c"}])
    ctx = ProgramContext(
        hyperparameters={},
        input_data_config={"training": {}},
        input_data_dir=tmp_path / "data",
        model_dir=tmp_path / "model",
        output_data_dir=tmp_path / "output",
        failure_file=tmp_path / "failure",
        checkpoint_dir=tmp_path / "checkpoints",
        current_host="algo-1",
        hosts=["algo-1"],
    )
    assert data.read_dataset(ctx, "train", SFT, required=True) == [
        {"prompt": "p", "completion": "c"}
    ]
    assert data.read_dataset(ctx, "validation", SFT) is None
    with pytest.raises(AlgorithmError, match="DPO fine-tuning needs a 'train' channel"):
        data.read_dataset(
            ProgramContext(**{**ctx.__dict__, "input_data_config": {"model": {}}}),
            "train",
            DPO,
            required=True,
        )


def _write(path: Path, *rows: object) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_sft_rows_are_prompt_completion_or_chat(tmp_path: Path) -> None:
    chat = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    file = _write(tmp_path / "train.jsonl", {"prompt": "Q: 2+2?", "completion": "4"}, chat)
    assert SFT.dataset is not None and len(SFT.dataset.read(file)) == 2


@pytest.mark.parametrize(
    ("spec", "rows", "message"),
    [
        (SFT, [{"prompt": "a"}], r"line 1: missing field 'completion'; SFT rows need 'prompt', "),
        (SFT, [{"prompt": "a"}], r"'completion' \(or chat 'messages'\)\."),
        (SFT, [{"prompt": "a", "completion": 3}], "field 'completion' must be a string, got int"),
        (SFT, [{"prompt": "a", "completion": " "}], "field 'completion' is empty"),
        (
            SFT,
            [{"messages": [{"role": "user", "content": "hi"}]}],
            "last of 'messages' must be the assistant",
        ),
        (
            SFT,
            [{"messages": [{"role": "bot", "content": "hi"}]}],
            "messages\\[0\\] has role 'bot'; use one of system, user, assistant",
        ),
        (SFT, ["{bad"], r'not valid JSON .*\{"prompt": "...", "completion": "..."\} or'),
        (DPO, [{"prompt": "a", "chosen": "b"}], r"line 1: missing field 'rejected'; DPO rows"),
        (
            DPO,
            [{"prompt": "a", "chosen": "b", "rejected": "b"}] * 3,
            r"'chosen' equals 'rejected' on every line",
        ),
    ],
)
def test_bad_rows_name_the_line_and_field(
    tmp_path: Path, spec: ProgramSpec, rows: list[object], message: str
) -> None:
    file = _write(tmp_path / "train.jsonl", *rows)
    assert spec.dataset is not None
    with pytest.raises(ValueError, match=message):
        spec.dataset.read(file)


def test_one_pair_with_a_preference_is_enough(tmp_path: Path) -> None:
    same = {"prompt": "a", "chosen": "b", "rejected": "b"}
    file = _write(tmp_path / "pairs.jsonl", same, {**same, "rejected": "c"})
    assert DPO.dataset is not None and len(DPO.dataset.read(file)) == 2


def test_the_shared_row_rules() -> None:
    assert (
        data.check_strings({"prompt": "", "answer": "x"}, ("prompt", "answer"), "Rows need") is None
    )
    assert data.check_messages("hi") == (
        "field 'messages' must be a non-empty list of {'role', 'content'} objects."
    )
    assert data.check_messages([{"role": "assistant", "content": "x"}]) == (
        "'messages' needs at least one message before the assistant's answer."
    )
