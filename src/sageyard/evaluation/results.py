"""An evaluation's result files, read back: each step's ``results_*.json`` and examples.

Each step job leaves ``<s3_output_path>/<job>/output/output/<name>/eval_results/``
``results_<time>.json`` (``results.all``: the metrics and their standard errors; one entry
per subtask, ``custom|<task>:<subtask>|0``) and ``details_<time>.jsonl`` (every example:
prompt, output, extracted answer, target, score). :func:`result_rows` flattens them into
one row per model, subtask and metric, for tables and DataFrames.

Example:
    >>> entry_subtask("custom|mmlu:anatomy|0"), entry_subtask("all")
    ('anatomy', 'ALL')
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.storage import ObjectStore

__all__ = [
    "ROLES",
    "JudgeResults",
    "StepResults",
    "entry_subtask",
    "publish_judge_examples",
    "read_judge_results",
    "read_step_results",
    "result_rows",
    "results_by_role",
]

#: Step name → which model it evaluated (the judge's steps hold the judged results).
ROLES = {
    "EvaluateCustomModel": "custom",
    "EvaluateBaseModel": "base",
    "EvaluateCustomModelMetrics": "custom",
    "EvaluateBaseModelMetrics": "base",
}


@dataclass
class StepResults:
    """What one step job wrote: its folder, the results document and the examples."""

    step: str
    job_name: str
    folder: str
    document: dict[str, Any]
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def role(self) -> str:
        return ROLES.get(self.step, self.step)

    @property
    def metrics(self) -> dict[str, float]:
        """``results.all``, or else the first non-empty entry (the real SDK's rule)."""
        entries = self.document.get("results", {})
        if entries.get("all"):
            return dict(entries["all"])
        return next((dict(v) for v in entries.values() if isinstance(v, dict) and v), {})


def _read_text(objects: ObjectStore, uri: str) -> str:
    local = objects.local_path(uri)
    if local is not None and local.is_file():
        return local.read_text()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "file"
        objects.get_file(uri, path)
        return path.read_text()


def read_step_results(
    objects: ObjectStore, s3_output_path: str, step: str, job_name: str
) -> StepResults:
    """The results of step ``step``'s job ``job_name``.

    Raises:
        FileNotFoundError: The job left no ``results_*.json`` (the message says where it
            looked).
    """
    prefix = f"{s3_output_path.rstrip('/')}/{job_name}/output/output/"
    keys = objects.list(prefix)
    if not keys:
        raise FileNotFoundError(
            f"[PySDK Error] No files found at {prefix}. Evaluation results may not have "
            "been generated yet."
        )
    found = next((k for k in keys if _named(k, "results_", ".json")), None)
    if found is None:
        raise FileNotFoundError(
            f"[PySDK Error] No results_*.json file found in {prefix}. Evaluation results may "
            "not have been generated yet."
        )
    document = json.loads(_read_text(objects, found))
    folder = found.rsplit("/", 1)[0] + "/"
    details = next(
        (k for k in keys if k.startswith(folder) and _named(k, "details_", ".jsonl")), None
    )
    examples = []
    if details is not None:
        text = _read_text(objects, details)
        examples = [json.loads(line) for line in text.splitlines() if line]
    return StepResults(step, job_name, folder, document, examples)


def _named(uri: str, start: str, end: str) -> bool:
    base = uri.rsplit("/", 1)[-1]
    return base.startswith(start) and base.endswith(end)


def results_by_role(
    objects: ObjectStore, s3_output_path: str, steps: Iterable[tuple[str, str | None]]
) -> dict[str, StepResults]:
    """The results of an execution's evaluation steps (``(step name, job ARN)`` each), by
    the model they evaluated: ``custom``, ``base``.

    Raises:
        ValueError: No step evaluated a model.
        FileNotFoundError: A step's job left no results.
    """
    found: dict[str, StepResults] = {}
    for step, arn in steps:
        role = ROLES.get(step)
        if role is None or arn is None:
            continue
        found[role] = read_step_results(objects, s3_output_path, step, arn.rsplit("/", 1)[-1])
    if not found:
        raise ConfigurationError(
            "[PySDK Error] Could not extract training job name from pipeline steps. Unable "
            "to locate evaluation results."
        )
    return found


def publish_judge_examples(objects: ObjectStore, s3_output_path: str, job_name: str) -> list[str]:
    """Copy a judge step's per-example files (``<job>/output/output/<name>/<name>_output.jsonl``)
    to ``<s3_output_path>/<name>/``, where Bedrock's evaluation jobs leave them and the
    real SDK's ``show_results()`` looks; the URIs written."""
    prefix = f"{s3_output_path.rstrip('/')}/{job_name}/output/output/"
    written = []
    for uri in objects.list(prefix):
        if not uri.endswith("_output.jsonl"):
            continue
        relative = uri[len(prefix) :]
        if "/" not in relative:
            continue
        folder, name = relative.rsplit("/", 1)
        target = f"{s3_output_path.rstrip('/')}/{folder.rsplit('/', 1)[-1]}/{name}"
        with tempfile.TemporaryDirectory() as scratch:
            local = Path(scratch) / name
            objects.get_file(uri, local)
            objects.put_file(local, target)
        written.append(target)
    return written


@dataclass
class JudgeResults:
    """What a judge's step wrote: the aggregate (``results.<metric>.score``, ...), the
    per-example records, and the evaluation job's name (its folder)."""

    job_name: str
    name: str
    aggregate: dict[str, Any]
    examples: list[dict[str, Any]]


def read_judge_results(objects: ObjectStore, s3_output_path: str, job_name: str) -> JudgeResults:
    """The aggregate under the judge step's output and the per-example records under
    ``<s3_output_path>/<name>/`` (where the supervisor published them; else the job's own).

    Raises:
        FileNotFoundError: The step left no ``bedrock_llm_judge_results.json``.
    """
    base = s3_output_path.rstrip("/")
    prefix = f"{base}/{job_name}/output/output/"
    found = next(
        (k for k in objects.list(prefix) if k.endswith("/bedrock_llm_judge_results.json")), None
    )
    if found is None:
        raise FileNotFoundError(
            f"[PySDK Error] bedrock_llm_judge_results.json not found under {prefix}"
        )
    name = found[len(prefix) :].split("/", 1)[0]
    aggregate = json.loads(_read_text(objects, found))
    published = [k for k in objects.list(f"{base}/{name}/") if k.endswith("_output.jsonl")]
    own = [k for k in objects.list(f"{prefix}{name}/") if k.endswith("_output.jsonl")]
    examples: list[dict[str, Any]] = []
    for uri in (published or own)[:1]:
        examples = [json.loads(line) for line in _read_text(objects, uri).splitlines() if line]
    return JudgeResults(job_name, name, aggregate, examples)


def entry_subtask(key: str) -> str:
    """The subtask a results entry is of: ``ALL`` for ``all``, else from
    ``suite|task:subtask|shots`` (the task itself when it has no subtask)."""
    if key == "all":
        return "ALL"
    task = key.split("|")[1] if key.count("|") == 2 else key
    return task.split(":", 1)[1] if ":" in task else "ALL"


def result_rows(summary: dict[str, Any], results: Iterable[StepResults]) -> list[dict[str, Any]]:
    """One row per model, subtask and metric: ``model``, ``model_role``, ``benchmark``,
    ``subtask``, ``metric``, ``value``, ``stderr`` (None when not reported)."""
    rows = []
    for found in results:
        model = summary.get("base_model") if found.role == "base" else summary.get("model")
        benchmark = summary.get("benchmark") or summary.get("scorer") or "gen_qa"
        for key, values in found.document.get("results", {}).items():
            subtask = entry_subtask(key)
            if key != "all" and subtask == "ALL":
                continue  # the same numbers as "all" (a task without subtasks)
            for metric, value in values.items():
                if metric.endswith("_stderr") or value is None:  # None: nothing was scored
                    continue
                stderr = values.get(f"{metric}_stderr")
                rows.append(
                    {
                        "model": model,
                        "model_role": found.role,
                        "benchmark": benchmark,
                        "subtask": subtask,
                        "metric": metric,
                        "value": float(value),
                        "stderr": None if stderr is None else float(stderr),
                    }
                )
    return rows
