"""Benchmark scoring through lm-evaluation-harness's task definitions, on local data,
against hand-computed expectations (answer extraction of CoT outputs and its edge cases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.programs._common import AlgorithmError
from sageyard.programs.evaluate.catalog import BENCHMARKS, find_split
from sageyard.programs.evaluate.generation import Generation, ScriptedGenerator, cut
from sageyard.programs.evaluate.tasks import run_benchmark, task_config
from tests.evaluation_fixtures import scripted_model, write_mmlu

pytest.importorskip("lm_eval")

MMLU = BENCHMARKS["mmlu"]


@pytest.fixture(autouse=True)
def _datasets_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def score(tmp_path: Path, answers: list[int], rules: dict[str, str], default: str = "") -> list:
    root = write_mmlu(tmp_path / "data", {"anatomy": answers})
    model = ScriptedGenerator(scripted_model(tmp_path / "model", rules, default))
    return run_benchmark(MMLU, ["anatomy"], root / "mmlu", model, Generation())


def test_cot_answers_are_extracted_as_lm_eval_defines_them(tmp_path: Path) -> None:
    # lm-eval's flexible-extract (MultiChoiceRegexFilter): the last "(X)" (case-sensitive);
    # else a choice's text in the output; else "<colon> X"; else "[invalid]"
    outputs = {
        "q0?": ("Let's see: (A) is wrong. The answer is (C).", 2, "(C)", 1.0),  # last "(X)"
        "q1?": ("so the answer is (b)", 1, "[invalid]", 0.0),  # "(b)" is not "(B)"
        "q2?": ("The answer is B.", 1, "[invalid]", 0.0),  # a bare letter, no colon
        "q3?": ("(D) (A)", 3, "(A)", 0.0),  # the last one counts
        "q4?": ("I would say Madrid.", 2, "(C)", 1.0),  # the choice's text
        "q5?": ("Answer: B", 1, "(B)", 1.0),  # "<colon> letter"
        "q6?": ("nothing", 0, "[invalid]", 0.0),
    }
    rules = {key: output for key, (output, _, _, _) in outputs.items()}
    [result] = score(tmp_path, [answer for _, answer, _, _ in outputs.values()], rules)
    assert [e["extracted"] for e in result.examples] == [x for _, _, x, _ in outputs.values()]
    assert [e["score"] for e in result.examples] == [s for _, _, _, s in outputs.values()]
    assert [e["target"] for e in result.examples][:3] == ["(C)", "(B)", "(B)"]
    assert result.value == pytest.approx(3 / 7) and result.count == 7
    p = 3 / 7
    assert result.stderr == pytest.approx((p * (1 - p) * 7 / 6) ** 0.5 / 7**0.5)
    assert result.lm_eval["exact_match,flexible-extract"] == pytest.approx(3 / 7)
    assert result.task == "mmlu_flan_cot_zeroshot_anatomy"


def test_each_example_keeps_the_prompt_lm_eval_built(tmp_path: Path) -> None:
    [result] = score(tmp_path, [0], {}, default="(A)")
    prompt = result.examples[0]["prompt"]
    assert prompt.startswith("The following are multiple choice questions (with answers) about")
    assert (
        "Q: anatomy q0?\n(A) Paris (B) Berlin (C) Madrid (D) Rome\nA: Let's think step by step."
        in prompt
    )
    assert result.examples[0]["prediction"] == "(A)" and result.value == 1.0


def test_outputs_are_cut_at_the_tasks_stop_strings(tmp_path: Path) -> None:
    # the task stops at "Q:": an answer after it is not the model's
    [result] = score(tmp_path, [1], {"q0?": "I am unsure. Q: next (B)"})
    assert result.examples[0]["prediction"] == "I am unsure. "
    assert result.value == 0.0
    assert cut("a</s>b", ["</s>", "Q:"]) == "a"


def test_limit_scores_only_the_first_examples(tmp_path: Path) -> None:
    root = write_mmlu(tmp_path / "data", {"anatomy": [0, 0, 0, 0]})
    model = ScriptedGenerator(scripted_model(tmp_path / "model", {}, "(A)"))
    [result] = run_benchmark(MMLU, ["anatomy"], root / "mmlu", model, Generation(), limit=2)
    assert result.count == 2


def test_a_missing_split_names_the_dataset_the_file_and_the_folder(tmp_path: Path) -> None:
    (tmp_path / "mmlu" / "anatomy").mkdir(parents=True)
    with pytest.raises(AlgorithmError) as caught:
        task_config(MMLU, "anatomy", tmp_path / "mmlu")
    message = str(caught.value)
    assert "cais/mmlu" in message and str(tmp_path / "mmlu" / "anatomy" / "test.jsonl") in message


def test_splits_are_found_as_jsonl_json_or_parquet_shards(tmp_path: Path) -> None:
    assert find_split(tmp_path, "test") is None
    (tmp_path / "test-00000-of-00001.parquet").write_bytes(b"")
    assert find_split(tmp_path, "test") == tmp_path / "test-00000-of-00001.parquet"
    (tmp_path / "test.json").write_text("[]")
    assert find_split(tmp_path, "test") == tmp_path / "test.json"
    assert MMLU.missing(tmp_path / "mmlu", ["anatomy"]) == [
        str(tmp_path / "mmlu" / "anatomy" / "test.jsonl")
    ]


def test_parquet_data_in_the_datasets_layout_is_read(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    folder = tmp_path / "mmlu" / "anatomy"
    folder.mkdir(parents=True)
    rows = [{"question": "q?", "subject": "anatomy", "choices": ["a", "b", "c", "d"], "answer": 3}]
    pandas.DataFrame(rows).to_parquet(folder / "test-00000-of-00001.parquet")
    model = ScriptedGenerator(scripted_model(tmp_path / "model", {}, "The answer is (D)."))
    [result] = run_benchmark(MMLU, ["anatomy"], tmp_path / "mmlu", model, Generation())
    assert result.value == 1.0


def _write(path: Path, rows: list[dict]) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_math_answers_are_compared_as_minerva_math_normalises_them(tmp_path: Path) -> None:
    # zero-shot (the real SDK's zs_cot); the final answer of "The final answer is X" or of
    # \boxed{X} is normalised and compared with the reference's \boxed{} answer
    rows = [
        {"problem": "Compute 1/2 + 1/2.", "solution": "It is $\\boxed{1}$.", "level": "1"},
        {"problem": "Compute 3/6.", "solution": "$\\boxed{\\frac{1}{2}}$", "level": "1"},
        {"problem": "Compute 2+2.", "solution": "$\\boxed{4}$", "level": "1"},
    ]
    _write(tmp_path / "math" / "algebra" / "test.jsonl", rows)
    model = ScriptedGenerator(
        scripted_model(
            tmp_path / "model",
            {
                "1/2 + 1/2": "Final Answer: The final answer is $1$. I hope it is correct.",
                "3/6": "Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.",
            },
            default="Final Answer: The final answer is $5$. I hope it is correct.",
        )
    )
    [result] = run_benchmark(
        BENCHMARKS["math"], ["algebra"], tmp_path / "math", model, Generation()
    )
    assert [e["score"] for e in result.examples] == [1.0, 1.0, 0.0]
    assert result.task == "minerva_math_algebra" and result.value == pytest.approx(2 / 3)


def test_gpqa_choices_are_shuffled_and_an_answer_text_still_counts(tmp_path: Path) -> None:
    rows = [
        {
            "Question": f"Which particle number {i}?",
            "Correct Answer": "electron",
            "Incorrect Answer 1": "proton",
            "Incorrect Answer 2": "neutron",
            "Incorrect Answer 3": "photon",
        }
        for i in range(4)
    ]
    _write(tmp_path / "gpqa" / "train.jsonl", rows)
    model = ScriptedGenerator(
        scripted_model(
            tmp_path / "model",
            {"number 0?": "It must be the electron.", "number 1?": "It is the electron."},
            default="It is the photon.",
        )
    )
    [result] = run_benchmark(BENCHMARKS["gpqa"], [None], tmp_path / "gpqa", model, Generation())
    assert result.task == "gpqa_main_cot_zeroshot"
    assert [e["score"] for e in result.examples] == [1.0, 1.0, 0.0, 0.0]


def test_mmlu_pro_is_scored_per_category_on_one_file(tmp_path: Path) -> None:
    options = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
    rows = [
        {
            "question_id": i,
            "question": f"q{i}?",
            "options": options,
            "answer": "C",
            "answer_index": 2,
            "cot_content": "",
            "category": category,
            "src": "test",
        }
        for i, category in enumerate(["biology", "biology", "law"])
    ]
    _write(tmp_path / "mmlu_pro" / "test.jsonl", rows)
    model = ScriptedGenerator(
        scripted_model(tmp_path / "model", {"q0?": "so the answer is (C)"}, "the answer is (D)")
    )
    results = run_benchmark(
        BENCHMARKS["mmlu_pro"], [None], tmp_path / "mmlu_pro", model, Generation()
    )
    by_part = {r.subtask: r for r in results if r.count}
    assert set(by_part) == {"biology", "law"}
    assert by_part["biology"].value == 0.5 and by_part["law"].value == 0.0


def test_ifeval_checks_each_instruction_as_its_authors_define_it(tmp_path: Path) -> None:
    pytest.importorskip("langdetect")
    rows = [
        {
            "key": 1,
            "prompt": "Write a poem about the sea. Wrap its title in double angular brackets.",
            "instruction_id_list": ["detectable_format:title"],
            "kwargs": [{}],
        },
        {
            "key": 2,
            "prompt": "Describe rain without using any commas.",
            "instruction_id_list": ["punctuation:no_comma"],
            "kwargs": [{}],
        },
        {
            "key": 3,
            "prompt": "Say hello in fewer than 3 sentences, all in lowercase letters.",
            "instruction_id_list": [
                "length_constraints:number_sentences",
                "change_case:english_lowercase",
            ],
            "kwargs": [{"relation": "less than", "num_sentences": 3}, {}],
        },
    ]
    _write(tmp_path / "ifeval" / "train.jsonl", rows)
    model = ScriptedGenerator(
        scripted_model(
            tmp_path / "model",
            {
                "poem": "<<Tides>>\nThe sea rolls in and out.",  # has a title: passes
                "rain": "Rain falls, softly.",  # a comma: fails
                "hello": "hello there. how are you.",  # 2 sentences, lowercase: passes
            },
        )
    )
    [result] = run_benchmark(BENCHMARKS["ifeval"], [None], tmp_path / "ifeval", model, Generation())
    assert [e["score"] for e in result.examples] == [1.0, 0.0, 1.0]
    assert result.value == pytest.approx(2 / 3)
    assert result.lm_eval["inst_level_strict_acc,none"] == pytest.approx(3 / 4)


def test_bbh_is_few_shot_cot_and_reads_the_answer_after_the_answer_is(tmp_path: Path) -> None:
    # lm-eval's bbh_cot_fewshot: three worked examples from its YAML before each question;
    # the answer is what follows "the answer is " up to the last character
    rows = [
        {"input": "True and not False is", "target": "True"},
        {"input": "False or False is", "target": "False"},
    ]
    _write(tmp_path / "bbh" / "boolean_expressions" / "test.jsonl", rows)
    model = ScriptedGenerator(
        scripted_model(
            tmp_path / "model",
            {
                "Q: True and not False is": "not False is True, so the answer is True.",
                "Q: False or False is": "So the answer is True.",
            },
        )
    )
    [result] = run_benchmark(
        BENCHMARKS["bbh"], ["boolean_expressions"], tmp_path / "bbh", model, Generation()
    )
    assert result.task == "bbh_cot_fewshot_boolean_expressions"
    assert result.examples[0]["prompt"].count("Let's think step by step.") == 4  # 3 shots
    assert [e["extracted"] for e in result.examples] == ["True", "True"]
    assert [e["score"] for e in result.examples] == [1.0, 0.0]


MMMU = BENCHMARKS["mmmu"]

# (question, options, answer, image size): two multiple-choice questions and an open one
MMMU_ROWS = [
    ("What is drawn?", ["a cat", "a dog", "a fish"], "B", (40, 30)),
    ("How many?", [], "3", (20, 20)),
    ("Which one?", ["x", "y"], "A", (50, 50)),
]


def test_mmmu_shows_each_question_its_images_and_scores_as_lm_eval_does(
    tmp_path: Path,
) -> None:
    from tests.evaluation_fixtures import write_mmmu

    root = write_mmmu(tmp_path / "data", "Art", MMMU_ROWS)
    # each rule answers only when the question's image has the size the data gave it
    rules = [
        {"contains": "What is drawn", "response": "(B)", "image_size": [40, 30]},
        {"contains": "How many", "response": "3", "image_size": [20, 20]},
        {"contains": "Which one", "response": "A", "image_size": [99, 99]},  # wrong size
    ]
    model = ScriptedGenerator(scripted_model(tmp_path / "model", rules, "B", vision=True))
    [result] = run_benchmark(MMMU, ["Art"], root / "mmmu", model, Generation())
    assert result.task == "mmmu_val_art" and result.metric == "acc"
    assert [e["prediction"] for e in result.examples] == ["(B)", "3", "B"]
    assert [e["score"] for e in result.examples] == [1.0, 1.0, 0.0]
    assert result.value == pytest.approx(2 / 3)
    first = result.examples[0]["prompt"]
    assert first.startswith("What is drawn? <image>\n\n(A) a cat\n(B) a dog\n(C) a fish")
    assert "Answer with the option's letter from the given choices directly." in first
    assert "single word or phrase" in result.examples[1]["prompt"]


def test_a_text_only_model_is_refused_on_mmmu(tmp_path: Path) -> None:
    from tests.evaluation_fixtures import write_mmmu

    root = write_mmmu(tmp_path / "data", "Art", MMMU_ROWS[:1])
    model = ScriptedGenerator(scripted_model(tmp_path / "model", {}, "B"))
    with pytest.raises(AlgorithmError, match=r"multi-modal .* reads text only"):
        run_benchmark(MMMU, ["Art"], root / "mmmu", model, Generation())


def test_a_vision_language_model_answers_mmmu_through_its_processor(tmp_path: Path) -> None:
    from sageyard.programs.evaluate.models import open_generator
    from sageyard.programs.evaluate.vision import VisionGenerator
    from tests.evaluation_fixtures import write_mmmu
    from tests.llm import make_tiny_vision_model

    root = write_mmmu(tmp_path / "data", "Art", MMMU_ROWS)
    model = open_generator(make_tiny_vision_model(tmp_path / "vlm"))
    assert isinstance(model, VisionGenerator) and model.reads_images
    settings = Generation(max_new_tokens=4, batch_size=2)
    [result] = run_benchmark(MMMU, ["Art"], root / "mmmu", model, settings)
    assert result.count == 3
    # the chat template placed the image; the answers are the untrained model's own
    assert result.examples[0]["prompt"].startswith("<|im_start|>user\nWhat is drawn? <image>")
    assert all(isinstance(e["prediction"], str) for e in result.examples)
    # greedy: the same data gives the same answers, one at a time or in a batch
    [again] = run_benchmark(MMMU, ["Art"], root / "mmmu", model, Generation(max_new_tokens=4))
    assert [e["prediction"] for e in again.examples] == [e["prediction"] for e in result.examples]
