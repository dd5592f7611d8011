"""An evaluation's result files, read back and shown as the real SDK shows them.

Each step job leaves ``<s3_output_path>/<job>/output/output/<name>/eval_results/``
``results_<time>.json`` (``results.all``: the metrics and their standard errors; one entry
per subtask) and ``details_<time>.jsonl`` (every example: prompt, output, extracted
answer, target, score). :func:`show_benchmark_results` renders the custom and base
model's tables as the real SDK's ``show_results()`` (values in 0..1 as percentages, but
standard errors), a comparison with the difference when both were evaluated, and where
the artifacts are.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sageyard.storage import ObjectStore

__all__ = [
    "StepResults",
    "format_value",
    "read_step_results",
    "results_by_role",
    "show_benchmark_results",
]

#: Step name → which model it evaluated.
_ROLES = {"EvaluateCustomModel": "custom", "EvaluateBaseModel": "base"}


@dataclass
class StepResults:
    """What one step job wrote: its folder, the results document and the examples."""

    step: str
    job_name: str
    folder: str
    document: dict[str, Any]
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        """``results.all``, or else the first non-empty entry (the real SDK's rule)."""
        entries = self.document.get("results", {})
        if entries.get("all"):
            return dict(entries["all"])
        return next((dict(v) for v in entries.values() if isinstance(v, dict) and v), {})


def format_value(name: str, value: float) -> str:
    """``65.23%`` for a value in 0..1 (not a standard error), else ``12.3000``."""
    if 0 <= value <= 1 and "stderr" not in name.lower():
        return f"{value * 100:.2f}%"
    return f"{value:.4f}"


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
        examples = [json.loads(line) for line in _read_text(objects, details).splitlines() if line]
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
        role = _ROLES.get(step)
        if role is None or arn is None:
            continue
        found[role] = read_step_results(objects, s3_output_path, step, arn.rsplit("/", 1)[-1])
    if not found:
        raise ValueError(
            "[PySDK Error] Could not extract training job name from pipeline steps. Unable "
            "to locate evaluation results."
        )
    return found


def show_benchmark_results(found: dict[str, StepResults]) -> None:
    """Render the models' metric tables, their comparison, and where the files are."""
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = Console()
    titles = {"custom": ("green", "Custom Model Results"), "base": ("yellow", "Base Model Results")}
    for role in ("custom", "base"):
        if role not in found or not found[role].metrics:
            continue
        colour, title = titles[role]
        table = Table(
            show_header=True, header_style=f"bold {colour}", title=f"[bold {colour}]{title}"
        )
        table.add_column("Metric", style="cyan", width=30)
        table.add_column("Value", style="white", justify="right", width=15)
        for name, value in sorted(found[role].metrics.items()):
            table.add_row(name, format_value(name, float(value)))
        console.print(table)
        console.print("")
    if "custom" in found and "base" in found:
        console.print(_comparison(found["custom"].metrics, found["base"].metrics, Table))
        console.print("")
    text = Text("\n📦 ")
    text.append("Full evaluation artifacts available at:\n\n", style="bold")
    for role, label in (("custom", "Custom Model"), ("base", "Base Model")):
        if role in found:
            text.append(f"{label}:\n  {found[role].folder}\n")
    console.print(Panel(text, title="[bold blue]Result Artifacts Location", border_style="blue"))


def _comparison(custom: dict[str, float], base: dict[str, float], table_class: Any) -> Any:
    table = table_class(
        show_header=True,
        header_style="bold cyan",
        title="[bold cyan]Model Comparison - Custom vs Base",
    )
    table.add_column("Metric", style="cyan", width=25)
    table.add_column("Custom Model", style="green", justify="right", width=15)
    table.add_column("Base Model", style="yellow", justify="right", width=15)
    table.add_column("Difference", justify="right", width=15)
    for name in sorted(set(custom) & set(base)):
        if "stderr" in name.lower():
            continue
        ours, theirs = float(custom[name]), float(base[name])
        diff = ours - theirs
        shown = (
            format_value(name, abs(diff))
            if 0 <= ours <= 1 and 0 <= theirs <= 1
            else f"{abs(diff):.4f}"
        )
        sign = "+" if diff > 0 else "-" if diff < 0 else ""
        colour = "green" if diff > 0 else "red" if diff < 0 else "white"
        table.add_row(
            name, format_value(name, ours), format_value(name, theirs), f"[{colour}]{sign}{shown}"
        )
    return table
