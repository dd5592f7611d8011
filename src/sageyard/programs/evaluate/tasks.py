"""Benchmarks scored by lm-evaluation-harness's own task definitions, on local data.

For each subtask, the lm-eval task named in the catalog (its prompt, few-shot examples,
answer filters and metric) is loaded from lm-eval's YAML and its dataset pointed at the
subtask's local files (``datasets``' ``json`` / ``parquet`` loaders), so nothing is
downloaded. The model answers through :class:`GeneratorLM`, lm-eval's ``LM`` interface
over a :class:`~sageyard.programs.evaluate.generation.Generator`, with the job's
generation settings (the task's stop strings kept). lm-eval extracts and scores the
answers; the per-example records keep the prompt, the model's output, the extracted
answer, the target and the score, so every number can be recomputed.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sageyard.programs._common import AlgorithmError
from sageyard.programs.evaluate.catalog import Benchmark
from sageyard.programs.evaluate.generation import Generation, Generator

log = logging.getLogger(__name__)

__all__ = ["SubtaskResult", "punkt_offline", "run_benchmark", "task_config", "task_manager"]


@dataclass
class SubtaskResult:
    """One subtask's score (lm-eval's metric, its standard error) and its examples."""

    subtask: str | None
    task: str
    metric: str
    value: float
    stderr: float
    count: int
    examples: list[dict[str, Any]] = field(default_factory=list)
    lm_eval: dict[str, Any] = field(default_factory=dict)


def _lm_class() -> type:
    from lm_eval.api.model import LM

    class GeneratorLM(LM):
        """lm-eval's model interface over a sageyard generator (generation tasks only)."""

        def __init__(self, generator: Generator, settings: Generation) -> None:
            super().__init__()
            self.generator = generator
            self.settings = settings
            #: where image paths in the data are relative to (the subtask's folder)
            self.image_root = Path()
            if generator.reads_images:
                self.MULTIMODAL = True  # lm-eval then gives it multi-modal tasks

        @property
        def tokenizer_name(self) -> str:
            return self.generator.name

        def chat_template(self, chat_template: bool | str = False) -> str | None:
            return "sageyard" if self.generator.has_chat_template else None

        def apply_chat_template(
            self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
        ) -> str:
            return self.generator.chat(chat_history)

        def generate_until(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list[str]:
            prompts = [request.args[0] for request in requests]
            stops = [_stops(request.args[1]) for request in requests]
            images = [self._images(request.args) for request in requests]
            out: list[str] = [""] * len(prompts)
            # one generate() call per distinct stop list (a task has one)
            for stop in {tuple(s) for s in stops}:
                indices = [i for i, s in enumerate(stops) if tuple(s) == stop]
                texts = self.generator.generate(
                    [prompts[i] for i in indices],
                    stop,
                    self.settings,
                    [images[i] for i in indices] if self.generator.reads_images else None,
                )
                for index, text in zip(indices, texts, strict=True):
                    out[index] = text
            return out

        def _images(self, args: Sequence[Any]) -> list[Any]:
            """The images of a request (lm-eval's ``{"visual": [...]}`` third argument)."""
            from sageyard.programs.evaluate.vision import load_image

            extra = args[2] if len(args) > 2 and isinstance(args[2], dict) else {}
            visual = extra.get("visual") or []
            if not isinstance(visual, list):
                visual = [visual]
            return [load_image(value, self.image_root) for value in visual]

        def loglikelihood(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list[Any]:
            raise AlgorithmError(
                "AlgorithmError: this benchmark's task scores log-likelihoods, which the "
                "evaluate program does not compute; it runs generation tasks."
            )

        def loglikelihood_rolling(
            self, requests: Sequence[Any], disable_tqdm: bool = False
        ) -> list[Any]:
            return self.loglikelihood(requests)

    return GeneratorLM


def _stops(kwargs: Any) -> list[str]:
    until = kwargs.get("until") if isinstance(kwargs, dict) else None
    if isinstance(until, str):
        return [until]
    return [str(s) for s in until or []]


@functools.cache
def task_manager(folder: str) -> Any:
    """lm-eval's index of the tasks in its ``tasks/<folder>`` (only those: indexing all of
    them reads some 26,000 YAML files)."""
    import lm_eval.tasks
    from lm_eval.tasks import TaskManager

    root = Path(lm_eval.tasks.__file__).parent
    return TaskManager(include_path=str(root / folder), include_defaults=False)


def task_config(
    benchmark: Benchmark, subtask: str | None, base: Path, part: str | None = None
) -> dict[str, Any]:
    """lm-eval's config of the subtask's task, reading the subtask's local files.

    Raises:
        AlgorithmError: The split that is scored has no file (the message names the
            dataset, the files expected and the folder).
    """
    from lm_eval.tasks._yaml_loader import load_yaml

    folder, files = benchmark.data_files(base, subtask)
    if benchmark.split not in files:
        raise AlgorithmError(
            f"ClientError: The benchmark data of {benchmark.name}"
            f"{'/' + subtask if subtask else ''} is missing: expected {folder}/"
            f"{benchmark.split}.jsonl (or .json, .parquet) in the layout of {benchmark.dataset}."
        )
    name = benchmark.task_name(subtask, part)
    entry = task_manager(benchmark.task_folder).task_index.get(name)
    if entry is None or entry.yaml_path is None:
        raise AlgorithmError(f"AlgorithmError: lm-evaluation-harness has no task {name!r}.")
    config: dict[str, Any] = dict(load_yaml(entry.yaml_path, resolve_func=True))
    for key in ("tag", "group"):
        config.pop(key, None)
    loader = "parquet" if files[benchmark.split].suffix == ".parquet" else "json"
    config["dataset_path"] = loader
    config.pop("dataset_name", None)
    config["dataset_kwargs"] = {"data_files": {s: str(p) for s, p in files.items()}}
    for key in ("test_split", "validation_split", "training_split", "fewshot_split"):
        if key in config and config[key] not in files:
            config.pop(key)
    config["test_split"] = benchmark.split
    if benchmark.num_fewshot is not None:
        config["num_fewshot"] = benchmark.num_fewshot
    return config


def run_benchmark(
    benchmark: Benchmark,
    subtasks: Sequence[str | None],
    base: Path,
    generator: Generator,
    settings: Generation,
    *,
    limit: int | None = None,
    chat: bool = True,
) -> list[SubtaskResult]:
    """Score ``generator`` on each subtask (None: the benchmark has none) of the data in
    the benchmark's folder ``base``.

    ``limit`` scores only the first examples of each subtask; ``chat`` applies the model's
    chat template (when it has one) to lm-eval's prompts.
    """
    from lm_eval import simple_evaluate

    if benchmark.needs_sentences:
        punkt_offline(Path(os.environ.get("HF_DATASETS_CACHE") or base) / "nltk_data")
    lm = _lm_class()(generator, settings)
    results = []
    runs: list[tuple[str | None, str | None]] = [(s, None) for s in subtasks]
    if benchmark.parts and subtasks == [None]:
        present = _part_values(benchmark, base)
        runs = [(None, part) for part in benchmark.parts if part in present]
    if benchmark.multimodal and not generator.reads_images:
        raise AlgorithmError(
            f"ClientError: The {benchmark.name} benchmark is multi-modal (its questions show "
            f"images), but the model {generator.name!r} reads text only (its config.json has "
            "no vision_config). Evaluate a vision-language model, or choose a text benchmark."
        )
    for subtask, part in runs:
        config = task_config(benchmark, subtask, base, part)
        lm.image_root = benchmark.folder(base, subtask)
        shown = subtask or part
        log.info("Scoring %s%s", benchmark.name, f"/{shown}" if shown else "")
        output = simple_evaluate(
            model=lm,
            tasks=[config],
            limit=limit,
            log_samples=True,
            apply_chat_template=chat and generator.has_chat_template,
            bootstrap_iters=0,
            verbosity="WARNING",
            task_manager=task_manager(benchmark.task_folder),
        )
        if output is None:
            raise AlgorithmError("AlgorithmError: lm-evaluation-harness returned no results.")
        results.append(_subtask_result(benchmark, subtask or part, config["task"], output))
    return results


def punkt_offline(folder: Path) -> bool:
    """Make NLTK's English Punkt sentence splitter loadable without its download.

    IFEval's checks (lm-eval's port of Google's code) count sentences with NLTK's Punkt,
    whose learned English parameters NLTK downloads on first use; no package on PyPI ships
    them, and jobs have no network. When they are not installed (``nltk.download`` done
    elsewhere, or ``NLTK_DATA``), an untrained Punkt splitter (the same algorithm, no
    learned abbreviations: "Dr. Smith" counts as two sentences) is put in ``folder`` and
    the log says so. Returns whether the fallback is in use.
    """
    import pickle

    import nltk
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
        nltk.data.find("tokenizers/punkt/english.pickle")
        return False
    except LookupError:
        pass
    tab = folder / "tokenizers" / "punkt_tab" / "english"
    tab.mkdir(parents=True, exist_ok=True)
    for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (tab / name).touch()
    (folder / "tokenizers" / "punkt").mkdir(parents=True, exist_ok=True)
    with (folder / "tokenizers" / "punkt" / "english.pickle").open("wb") as out:
        pickle.dump(PunktSentenceTokenizer(), out)
    nltk.data.path.insert(0, str(folder))
    log.warning(
        "NLTK's English Punkt parameters are not installed (no network to download them): "
        "sentences are split by an untrained Punkt splitter, which does not know "
        "abbreviations. Install them with nltk.download('punkt') and "
        "nltk.download('punkt_tab') for IFEval's exact sentence counts."
    )
    return True


def _part_values(benchmark: Benchmark, base: Path) -> set[str]:
    """The parts the scored split has rows of (MMLU-Pro: its categories present)."""
    import datasets

    _, files = benchmark.data_files(base, None)
    path = files[benchmark.split]
    loader = "parquet" if path.suffix == ".parquet" else "json"
    rows = datasets.load_dataset(loader, data_files={"rows": str(path)}, split="rows")
    return {str(value) for value in rows[benchmark.part_field]}


def _subtask_result(
    benchmark: Benchmark, subtask: str | None, task: str, output: dict[str, Any]
) -> SubtaskResult:
    metric, _, filter_name = benchmark.metric.partition(",")
    scores = output["results"][task]
    samples = [s for s in output["samples"][task] if s.get("filter") == filter_name]
    examples = [
        {
            "subtask": subtask,
            "doc_id": sample["doc_id"],
            "prompt": sample["arguments"][0][0] if sample.get("arguments") else None,
            "prediction": sample["resps"][0][0] if sample.get("resps") else None,
            "extracted": sample["filtered_resps"][0] if sample.get("filtered_resps") else None,
            "target": sample.get("target"),
            "score": float(sample[metric]),
        }
        for sample in samples
    ]
    values = [example["score"] for example in examples]
    from lm_eval.api.metrics import mean_stderr

    return SubtaskResult(
        subtask=subtask,
        task=task,
        metric=metric,
        value=sum(values) / len(values) if values else 0.0,
        stderr=float(mean_stderr(values)) if len(values) > 1 else 0.0,
        count=len(values),
        examples=examples,
        lm_eval={k: v for k, v in scores.items() if isinstance(v, int | float | str)},
    )
