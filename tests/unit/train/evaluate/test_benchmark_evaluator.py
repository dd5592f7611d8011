"""BenchMarkEvaluator and the benchmark catalogue before any job: every validation rule,
in the real SDK's words, and nothing written when a check fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.core.session import Session
from sageyard.store import open_store
from sageyard.train import BenchMarkEvaluator, get_benchmark_properties, get_benchmarks
from tests.evaluation_fixtures import scripted_model, write_mmlu

Benchmark = get_benchmarks()
OUT = "s3://bucket/evals/"


def stored() -> list[str]:
    """The names of every row in the test's job store."""
    return [r.name for r in open_store(Session().settings.store_url).list()]


def evaluator(**kwargs: object) -> BenchMarkEvaluator:
    values: dict[str, object] = {"benchmark": Benchmark.MMLU, "model": "m", "s3_output_path": OUT}
    values.update(kwargs)
    return BenchMarkEvaluator(**values)


def test_the_benchmarks_are_the_real_sdks_and_humaneval() -> None:
    assert [b.value for b in Benchmark] == [
        "mmlu",
        "mmlu_pro",
        "bbh",
        "gpqa",
        "math",
        "strong_reject",
        "ifeval",
        "mmmu",
        "llm_judge",
        "humaneval",
    ]
    mmlu = get_benchmark_properties(Benchmark.MMLU)
    assert len(mmlu["subtasks"]) == 57 and mmlu["strategy"] == "zs_cot"
    assert mmlu["metrics"] == ["accuracy"] and mmlu["modality"] == "Text"
    assert len(get_benchmark_properties(Benchmark.BBH)["subtasks"]) == 27
    assert get_benchmark_properties(Benchmark.BBH)["strategy"] == "fs_cot"
    assert len(get_benchmark_properties(Benchmark.MATH)["subtasks"]) == 7
    assert get_benchmark_properties(Benchmark.MATH)["metrics"] == ["exact_match"]
    assert len(get_benchmark_properties(Benchmark.MMMU)["subtasks"]) == 30
    assert get_benchmark_properties(Benchmark.MMMU)["modality"] == "Multi-Modal"
    assert get_benchmark_properties(Benchmark.STRONG_REJECT)["metrics"] == ["deflection"]
    assert get_benchmark_properties(Benchmark.GPQA)["subtask_available"] is False
    properties = get_benchmark_properties(Benchmark.MMLU)
    properties["subtasks"].clear()  # a copy
    assert get_benchmark_properties(Benchmark.MMLU)["subtasks"]


def test_subtasks_default_to_all_and_are_checked_by_name() -> None:
    assert evaluator().subtasks == "ALL"
    assert evaluator(benchmark="bbh").subtasks == "ALL"
    assert evaluator(benchmark=Benchmark.GPQA).subtasks is None
    assert evaluator(subtasks="anatomy").subtasks == "anatomy"
    assert evaluator(subtasks="all").subtasks == "ALL"
    with pytest.raises(ValueError, match="Invalid subtask 'anatomyy' for benchmark 'mmlu'"):
        evaluator(subtasks=["anatomy", "anatomyy"])
    with pytest.raises(ValueError, match="Subtask list cannot be empty for benchmark 'mmlu'"):
        evaluator(subtasks=[])
    with pytest.raises(ValueError, match="should be a valid string"):
        evaluator(subtasks=["anatomy", 3])
    with pytest.raises(ValueError, match="Subtask is not supported for benchmark 'gpqa'"):
        evaluator(benchmark=Benchmark.GPQA, subtasks="physics")
    with pytest.raises(ValueError, match="benchmark"):
        evaluator(benchmark="no-such-benchmark")


def test_fields_are_checked_when_set() -> None:
    with pytest.raises(ValueError, match="s3_output_path must be an s3:// URI"):
        evaluator(s3_output_path="/tmp/out")
    with pytest.raises(ValueError, match="Invalid MLFlow resource ARN format"):
        evaluator(mlflow_resource_arn="arn:aws:sagemaker:us-west-2:1:mlflow/x")
    assert evaluator(mlflow_resource_arn="http://127.0.0.1:5000").mlflow_resource_arn
    with pytest.raises(ValueError, match="model must be a model id"):
        evaluator(model=42)
    with pytest.raises(ValueError, match="letters, digits and hyphens"):
        evaluator(base_eval_name="bad name")
    with pytest.raises(ValueError, match="extra"):
        evaluator(no_such_field=1)
    name = evaluator(model="HuggingFaceTB/SmolLM2-135M-Instruct").base_eval_name
    assert name is not None and name.startswith("eval-SmolLM2-") and len(name) == 21
    given = evaluator()
    with pytest.raises(ValueError, match="Invalid subtask"):
        given.subtasks = "nope"


def test_hyperparameters_are_the_generation_settings_checked_as_set() -> None:
    given = evaluator(overrides={"inference": {"max_new_tokens": 64}})
    assert given.hyperparameters.max_new_tokens == 64
    assert given.hyperparameters.temperature == 0.0
    given.hyperparameters.top_p = 0.9
    assert given.get_resolved_recipe()["inference"]["top_p"] == "0.9"
    with pytest.raises(ValueError, match="temperature"):
        given.hyperparameters.temperature = -1


def test_missing_benchmark_data_names_the_dataset_files_and_folder(sageyard_home: Path) -> None:
    given = evaluator(model=str(scripted_model(sageyard_home.parent / "model", {})))
    given.subtasks = ["anatomy", "virology"]
    with pytest.raises(ValueError) as caught:
        given.evaluate()
    message = str(caught.value)
    assert "cais/mmlu" in message and "question, subject, choices, answer" in message
    assert str(sageyard_home / "benchmarks" / "mmlu" / "anatomy" / "test.jsonl") in message
    assert "SAGEYARD_BENCHMARK_DATA" in message
    assert stored() == []  # nothing written


def test_a_subtask_given_to_evaluate_overrides_and_is_checked(sageyard_home: Path) -> None:
    write_mmlu(sageyard_home / "benchmarks", {"anatomy": [0]})
    model = str(scripted_model(sageyard_home.parent / "model", {}))
    given = evaluator(model=model, subtasks="virology")  # no data for it
    assert given.evaluate(subtask="anatomy", dry_run=True) is None
    with pytest.raises(ValueError, match="Invalid subtask 'anatomie'"):
        given.evaluate(subtask="anatomie")
    with pytest.raises(ValueError, match="virology"):
        given.evaluate(dry_run=True)
    assert stored() == []


def test_llm_judge_as_a_benchmark_points_to_the_judge_evaluator(sageyard_home: Path) -> None:
    with pytest.raises(ValueError, match="use LLMAsJudgeEvaluator"):
        evaluator(benchmark=Benchmark.LLM_JUDGE, model="m").evaluate()
    assert stored() == []


def test_a_vision_model_on_mmmu_without_its_data_is_told_which_files(
    sageyard_home: Path,
) -> None:
    vision = scripted_model(sageyard_home.parent / "vision", {}, vision=True)
    given = evaluator(benchmark=Benchmark.MMMU, model=str(vision), subtasks="Art")
    with pytest.raises(ValueError, match=r"mmmu/Art/validation\.jsonl.*MMMU/MMMU.*Image feature"):
        given.evaluate()
    assert stored() == []


def test_a_fine_tuned_model_without_a_known_base_needs_base_model_name(
    sageyard_home: Path,
) -> None:
    write_mmlu(sageyard_home / "benchmarks", {"anatomy": [0]})
    model = str(scripted_model(sageyard_home.parent / "model", {}))
    given = evaluator(model=model, subtasks="anatomy", evaluate_base_model=True)
    with pytest.raises(ValueError, match="pass base_model_name="):
        given.evaluate(dry_run=True)
    given.base_model_name = model
    assert given.evaluate(dry_run=True) is None


def test_models_that_cannot_be_resolved_fail_before_any_job(sageyard_home: Path) -> None:
    write_mmlu(sageyard_home / "benchmarks", {"anatomy": [0]})
    with pytest.raises(ValueError, match="does not exist"):
        evaluator(model="s3://bucket/no-such-model/", subtasks="anatomy").evaluate()
    arn = "arn:aws:sagemaker:us-west-2:000000000000:model-package/nope/1"
    with pytest.raises(ValueError, match="names no model package"):
        evaluator(model=arn, subtasks="anatomy").evaluate()

    class Untrained:
        latest_training_job = None

    with pytest.raises(ValueError, match="has not trained yet"):
        evaluator(model=Untrained(), subtasks="anatomy").evaluate()
    assert stored() == []


def test_a_multi_modal_benchmark_refuses_a_text_only_model(sageyard_home: Path) -> None:
    from tests.llm import make_tiny_model

    model = make_tiny_model(sageyard_home.parent / "tiny")
    given = evaluator(benchmark=Benchmark.MMMU, model=str(model), subtasks="Art")
    with pytest.raises(ValueError, match=r"multi-modal .* reads text only"):
        given.evaluate()
    assert stored() == []


def test_a_benchmark_in_the_hugging_face_datasets_cache_is_copied_into_the_layout(
    sageyard_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("datasets")
    from tests.evaluation_fixtures import hf_cached

    cache = tmp_path / "hf-cache"
    row = {"question": "q?", "subject": "anatomy", "choices": ["a", "b", "c", "d"], "answer": 1}
    hf_cached(cache, "cais/mmlu", "anatomy", "test", [row])
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache))
    model = str(scripted_model(sageyard_home.parent / "model", {}))
    with pytest.raises(ValueError, match="not in the Hugging Face datasets cache either"):
        evaluator(model=model, subtasks=["anatomy", "virology"]).evaluate(dry_run=True)
    copied = sageyard_home / "benchmarks" / "mmlu" / "anatomy" / "test.parquet"
    assert not copied.exists()  # one subtask missing: nothing written
    assert evaluator(model=model, subtasks="anatomy").evaluate(dry_run=True) is None
    import pandas

    assert pandas.read_parquet(copied).to_dict("records")[0]["question"] == "q?"
