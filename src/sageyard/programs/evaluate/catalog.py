"""The benchmarks the evaluate program runs: where each one's data lies and how it is scored.

Each benchmark is read in the layout of its canonical Hugging Face dataset (fields and
splits as published): one folder per benchmark under the benchmark data folder
(``SAGEYARD_BENCHMARK_DATA``), one sub-folder per subtask where the dataset has them, one
file per split as JSONL, JSON or Parquet — e.g. ``mmlu/abstract_algebra/test.jsonl`` with
``cais/mmlu``'s fields ``question``, ``subject``, ``choices`` and ``answer``.

Prompts, answer extraction and metrics are lm-evaluation-harness's own task definitions
(``lm_eval/tasks/...``), named here per prompting strategy; the program loads them and
points their data at the local files (``tasks.py``).

Light on purpose: the facade imports this module to check subtasks and data before any
job, so it imports nothing beyond the standard library.

Example:
    >>> BENCHMARKS["mmlu"].task_name("abstract_algebra")
    'mmlu_flan_cot_zeroshot_abstract_algebra'
    >>> BENCHMARKS["mmlu"].data_files(Path("/data/mmlu"), "anatomy")[0]
    PosixPath('/data/mmlu/anatomy')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BENCHMARKS", "DATA_SUFFIXES", "Benchmark", "find_split"]

#: The file types a split may be given as, in the order they are looked for.
DATA_SUFFIXES = (".jsonl", ".json", ".parquet")

MMLU_SUBTASKS = (
    "abstract_algebra",
    "anatomy",
    "astronomy",
    "business_ethics",
    "clinical_knowledge",
    "college_biology",
    "college_chemistry",
    "college_computer_science",
    "college_mathematics",
    "college_medicine",
    "college_physics",
    "computer_security",
    "conceptual_physics",
    "econometrics",
    "electrical_engineering",
    "elementary_mathematics",
    "formal_logic",
    "global_facts",
    "high_school_biology",
    "high_school_chemistry",
    "high_school_computer_science",
    "high_school_european_history",
    "high_school_geography",
    "high_school_government_and_politics",
    "high_school_macroeconomics",
    "high_school_mathematics",
    "high_school_microeconomics",
    "high_school_physics",
    "high_school_psychology",
    "high_school_statistics",
    "high_school_us_history",
    "high_school_world_history",
    "human_aging",
    "human_sexuality",
    "international_law",
    "jurisprudence",
    "logical_fallacies",
    "machine_learning",
    "management",
    "marketing",
    "medical_genetics",
    "miscellaneous",
    "moral_disputes",
    "moral_scenarios",
    "nutrition",
    "philosophy",
    "prehistory",
    "professional_accounting",
    "professional_law",
    "professional_medicine",
    "professional_psychology",
    "public_relations",
    "security_studies",
    "sociology",
    "us_foreign_policy",
    "virology",
    "world_religions",
)

BBH_SUBTASKS = (
    "boolean_expressions",
    "causal_judgement",
    "date_understanding",
    "disambiguation_qa",
    "dyck_languages",
    "formal_fallacies",
    "geometric_shapes",
    "hyperbaton",
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "logical_deduction_three_objects",
    "movie_recommendation",
    "multistep_arithmetic_two",
    "navigate",
    "object_counting",
    "penguins_in_a_table",
    "reasoning_about_colored_objects",
    "ruin_names",
    "salient_translation_error_detection",
    "snarks",
    "sports_understanding",
    "temporal_sequences",
    "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects",
    "web_of_lies",
    "word_sorting",
)

MATH_SUBTASKS = (
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
)

#: MMLU-Pro's categories: lm-eval scores each as a task of its own.
MMLU_PRO_CATEGORIES = (
    "biology",
    "business",
    "chemistry",
    "computer_science",
    "economics",
    "engineering",
    "health",
    "history",
    "law",
    "math",
    "other",
    "philosophy",
    "physics",
    "psychology",
)

MMMU_SUBTASKS = (
    "Accounting",
    "Agriculture",
    "Architecture_and_Engineering",
    "Art",
    "Art_Theory",
    "Basic_Medical_Science",
    "Biology",
    "Chemistry",
    "Clinical_Medicine",
    "Computer_Science",
    "Design",
    "Diagnostics_and_Laboratory_Medicine",
    "Economics",
    "Electronics",
    "Energy_and_Power",
    "Finance",
    "Geography",
    "History",
    "Literature",
    "Manage",
    "Marketing",
    "Materials",
    "Math",
    "Mechanical_Engineering",
    "Music",
    "Pharmacy",
    "Physics",
    "Psychology",
    "Public_Health",
    "Sociology",
)


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its dataset, layout and lm-evaluation-harness task.

    Attributes:
        name: As ``get_benchmarks()`` names it (``"mmlu"``).
        dataset: The canonical Hugging Face dataset (``"cais/mmlu"``).
        fields: The fields of each row, as the dataset publishes them.
        split: The split that is scored (``"test"``).
        other_splits: Further splits the task may read (few-shot examples), if present.
        subtasks: The dataset's configurations, one folder each; empty: one folder.
        task: The lm-eval task (``{subtask}`` filled in per subtask); None: scored by a
            sageyard scorer of its own (not yet available, said before any job).
        task_folder: Where lm-eval keeps the task's YAML (under ``lm_eval/tasks``).
        task_names: lm-eval's name of a subtask where it differs (``num_theory``).
        parts: For a benchmark without subtasks that lm-eval splits into tasks (MMLU-Pro's
            categories): the parts, each scored on the same files, in turn; those with
            rows (their ``part_field`` value) only.
        part_field: The field that says which part a row is of (``category``).
        metric: lm-eval's metric and filter whose value is the benchmark's metric,
            ``"exact_match,flexible-extract"``.
        num_fewshot: Examples shown before each question (None: the task's own).
        multimodal: Needs a model that reads images.
        own_scorer: Scored by a scorer of sageyard's (HumanEval: its programs run in the
            sandbox), not by an lm-eval task.
        needs_sentences: Its checks split text into sentences with NLTK's Punkt (IFEval's).
        hf_config: The dataset's configuration when the benchmark has no subtasks (GPQA's
            ``gpqa_main``); a subtask is its own configuration.
    """

    name: str
    dataset: str
    fields: tuple[str, ...]
    split: str
    subtasks: tuple[str, ...] = ()
    other_splits: tuple[str, ...] = ()
    task: str | None = None
    task_folder: str = ""
    task_names: Mapping[str, str] = field(default_factory=dict)
    parts: tuple[str, ...] = ()
    part_field: str = ""
    metric: str = "exact_match,flexible-extract"
    num_fewshot: int | None = None
    multimodal: bool = False
    own_scorer: bool = False
    needs_sentences: bool = False
    hf_config: str | None = None

    @property
    def scored(self) -> bool:
        """Whether this version of sageyard scores the benchmark."""
        return self.task is not None or self.own_scorer

    def task_name(self, subtask: str | None, part: str | None = None) -> str:
        """lm-eval's task of a subtask (or of a part, for a benchmark split in parts)."""
        if self.task is None:
            raise ValueError(f"benchmark {self.name!r} has no lm-evaluation-harness task")
        name = part or subtask or ""
        return self.task.format(subtask=self.task_names.get(name, name))

    def folder(self, base: Path, subtask: str | None) -> Path:
        """The folder of one subtask in the benchmark's folder ``base`` (``base`` itself
        when the benchmark has no subtasks)."""
        return base / subtask if self.subtasks and subtask else base

    def data_files(self, base: Path, subtask: str | None) -> tuple[Path, dict[str, Path]]:
        """The subtask's folder and the files of the splits it holds, by split."""
        folder = self.folder(base, subtask)
        found = {}
        for split in (self.split, *self.other_splits):
            path = find_split(folder, split)
            if path is not None:
                found[split] = path
        return folder, found

    def missing(self, base: Path, subtasks: list[str] | None) -> list[str]:
        """The expected files of ``subtasks`` (all when None) that are not in ``base``."""
        wanted: list[str | None] = list(subtasks or self.subtasks) or [None]
        missing = []
        for subtask in wanted:
            folder, found = self.data_files(base, subtask)
            if self.split not in found:
                missing.append(str(folder / f"{self.split}.jsonl"))
        return missing


def find_split(folder: Path, split: str) -> Path | None:
    """The file of ``split`` in ``folder`` (``test.jsonl``, ``test.json``, ``test.parquet``,
    or Hugging Face's ``test-00000-of-00001.parquet``), or None."""
    for suffix in DATA_SUFFIXES:
        path = folder / f"{split}{suffix}"
        if path.is_file():
            return path
    shards = sorted(folder.glob(f"{split}-*.parquet")) if folder.is_dir() else []
    return shards[0] if shards else None


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            name="mmlu",
            dataset="cais/mmlu",
            fields=("question", "subject", "choices", "answer"),
            split="test",
            other_splits=("dev", "validation"),
            subtasks=MMLU_SUBTASKS,
            task="mmlu_flan_cot_zeroshot_{subtask}",
            task_folder="mmlu/flan_cot_zeroshot",
        ),
        Benchmark(
            name="mmlu_pro",
            dataset="TIGER-Lab/MMLU-Pro",
            fields=("question_id", "question", "options", "answer", "answer_index", "category"),
            split="test",
            other_splits=("validation",),
            task="mmlu_pro_{subtask}",
            task_folder="mmlu_pro",
            parts=MMLU_PRO_CATEGORIES,
            part_field="category",
            metric="exact_match,custom-extract",
            num_fewshot=0,
        ),
        Benchmark(
            name="bbh",
            dataset="lukaemon/bbh",
            fields=("input", "target"),
            split="test",
            subtasks=BBH_SUBTASKS,
            task="bbh_cot_fewshot_{subtask}",
            task_folder="bbh/cot_fewshot",
            metric="exact_match,get-answer",
        ),
        Benchmark(
            name="gpqa",
            dataset="Idavidrein/gpqa",  # its gpqa_main configuration
            fields=(
                "Question",
                "Correct Answer",
                "Incorrect Answer 1",
                "Incorrect Answer 2",
                "Incorrect Answer 3",
            ),
            split="train",
            task="gpqa_main_cot_zeroshot",
            task_folder="gpqa/cot_zeroshot",
            hf_config="gpqa_main",
        ),
        Benchmark(
            name="math",
            dataset="EleutherAI/hendrycks_math",
            fields=("problem", "level", "type", "solution"),
            split="test",
            subtasks=MATH_SUBTASKS,
            task="minerva_math_{subtask}",
            task_folder="minerva_math",
            task_names={
                "counting_and_probability": "counting_and_prob",
                "number_theory": "num_theory",
                "precalculus": "precalc",
            },
            metric="exact_match,none",
            num_fewshot=0,
        ),
        Benchmark(
            name="strong_reject",
            dataset="walledai/StrongREJECT",
            fields=("prompt", "category"),
            split="train",
            own_scorer=True,
        ),
        Benchmark(
            name="ifeval",
            dataset="google/IFEval",
            fields=("key", "prompt", "instruction_id_list", "kwargs"),
            split="train",
            task="ifeval",
            task_folder="ifeval",
            metric="prompt_level_strict_acc,none",
            needs_sentences=True,
        ),
        Benchmark(
            name="mmmu",
            dataset="MMMU/MMMU",
            fields=("id", "question", "options", "answer", "question_type", "image_1"),
            split="validation",
            other_splits=("dev",),
            subtasks=MMMU_SUBTASKS,
            task="mmmu_val_{subtask}",
            task_folder="mmmu",
            task_names={subtask: subtask.lower() for subtask in MMMU_SUBTASKS},
            metric="acc,none",
            multimodal=True,
        ),
        Benchmark(
            name="humaneval",
            dataset="openai/openai_humaneval",
            fields=("task_id", "prompt", "canonical_solution", "test", "entry_point"),
            split="test",
            own_scorer=True,
        ),
    )
}
