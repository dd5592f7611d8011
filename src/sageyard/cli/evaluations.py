"""``sageyard evaluations`` and ``sageyard benchmarks``: evaluations and their data.

``evaluations list | describe | results | stop`` read and stop the evaluations that the
evaluators start (:class:`~sageyard.evaluation.service.EvaluationService`);
``benchmarks list`` shows which benchmarks have data in the benchmark data folder. The
service, the stores and rich are imported inside the commands.

Example:
    $ sageyard evaluations list
    $ sageyard evaluations describe 3f9a0c2b7d1e
    $ sageyard evaluations results 3f9a0c2b7d1e --json
    $ sageyard benchmarks list
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.table import Table

    from sageyard.evaluation.remote import Evaluations

#: ``--type`` values: the real SDK's ``EvalType`` values.
EVAL_TYPES = ("benchmark", "customscorer", "llmasjudge")
#: Rich style of each pipeline status.
PIPELINE_STYLES = {
    "Executing": "cyan",
    "Succeeded": "green",
    "Stopping": "yellow",
    "Stopped": "yellow",
    "Failed": "bold red",
}


def _service() -> Evaluations:
    from sageyard.core.settings import Settings
    from sageyard.evaluation.remote import evaluations_for

    return evaluations_for(Settings.from_env())


@click.group()
def evaluations() -> None:
    """Evaluations (BenchMarkEvaluator, CustomScorerEvaluator): status, steps, results."""


@evaluations.command("list")
@click.option("--type", "eval_type", type=click.Choice(EVAL_TYPES), help="Only of this type.")
@click.option("--json", "as_json", is_flag=True, help="Print the descriptions as JSON.")
def list_evaluations(eval_type: str | None, as_json: bool) -> None:
    """List evaluations, newest first."""
    from sageyard.cli import _render

    service = _service()
    described = [service.describe(name) for name in service.list_names(eval_type)]
    out = _render.console()
    if as_json:
        click.echo(_render.to_json({"Evaluations": described}))
        return
    if not described:
        out.print("No evaluations found.", style="dim")
        return
    out.print(evaluations_table(described))


def evaluations_table(described: list[dict[str, Any]]) -> Table:
    """One row per evaluation: id, name, type, status, model, what it ran, created."""
    from rich.text import Text

    from sageyard.cli import _render

    table = _render.simple_table("Evaluation", "Name", "Type", "Status", "Model", "Of", "Created")
    for item in described:
        summary = item["Summary"]
        status = item["PipelineExecutionStatus"]
        table.add_row(
            item["PipelineExecutionArn"].rsplit("/", 1)[-1],
            item["PipelineExecutionDisplayName"],
            item["EvalType"],
            Text(status, style=PIPELINE_STYLES.get(status, "")),
            str(summary.get("model") or _render.NONE),
            _evaluated(summary),
            _render.local_time(item["CreationTime"]),
        )
    return table


def _evaluated(summary: dict[str, Any]) -> str:
    if summary.get("benchmark"):
        subtasks = summary.get("subtasks")
        shown = subtasks if isinstance(subtasks, str) else ",".join(subtasks or [])
        return f"{summary['benchmark']} ({shown})"
    return str(summary.get("scorer") or "-")


@evaluations.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print DescribePipelineExecution as JSON.")
def describe(name: str, as_json: bool) -> None:
    """Show an evaluation: status, what it evaluated, and each step's job."""
    from rich.console import Group
    from rich.text import Text

    from sageyard.cli import _render

    description = _service().describe(name)
    if as_json:
        click.echo(_render.to_json(description))
        return
    status = description["PipelineExecutionStatus"]
    summary = description["Summary"]
    header = _render.fields(
        [
            ("Evaluation", description["PipelineExecutionArn"].rsplit("/", 1)[-1]),
            ("Name", description["PipelineExecutionDisplayName"]),
            ("Type", description["EvalType"]),
            ("Status", Text(status, style=PIPELINE_STYLES.get(status, ""))),
            ("Failure reason", description.get("FailureReason")),
            ("Model", summary.get("model")),
            ("Base model", summary.get("base_model")),
            ("Evaluated on", _evaluated(summary)),
            ("Results", description["S3OutputPath"]),
            ("Created", _render.local_time(description["CreationTime"])),
        ]
    )
    steps = _render.simple_table("Step", "Status", "Training job", "Failure reason")
    for step in description["PipelineExecutionSteps"]:
        arn = (step.get("Metadata") or {}).get("TrainingJob", {}).get("Arn")
        steps.add_row(
            step["StepName"],
            Text(step["StepStatus"], style=PIPELINE_STYLES.get(step["StepStatus"], "")),
            arn.rsplit("/", 1)[-1] if arn else _render.NONE,
            step.get("FailureReason") or "",
        )
    _render.console().print(Group(header, _render.section("Steps", steps)))


@evaluations.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one row per model and metric.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Judged examples shown.",
)
def results(name: str, as_json: bool, limit: int) -> None:
    """Show a succeeded evaluation's results, as the evaluators' show_results() does."""
    service = _service()
    if as_json:
        click.echo(json.dumps(service.result_rows([name]), indent=2, default=str))
        return
    from sageyard.train.evaluate.results import show_benchmark_results, show_judge_results

    description = service.describe(name)
    if description["EvalType"] == "llmasjudge":
        show_judge_results(service.judge_results(name), description["S3OutputPath"], limit=limit)
    else:
        show_benchmark_results(service.results(name))


@evaluations.command()
@click.argument("name")
def stop(name: str) -> None:
    """Stop an evaluation: its running steps' jobs stop, no further step starts."""
    service = _service()
    description = service.describe(name)
    execution = description["PipelineExecutionArn"].rsplit("/", 1)[-1]
    service.stop(execution)
    if description["PipelineExecutionStatus"] == "Stopping":
        click.echo(f"Evaluation {execution} is already stopping.")
        return
    click.echo(
        f"Stopping evaluation {execution}. Follow it with "
        f"`sageyard evaluations describe {execution}`."
    )


@click.group()
def benchmarks() -> None:
    """The evaluators' benchmarks and the data found for them."""


@benchmarks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def list_benchmarks(as_json: bool) -> None:
    """Each benchmark: its dataset, whether sageyard scores it, and its local data."""
    from sageyard.cli import _render
    from sageyard.core.settings import Settings

    root = Settings.from_env().benchmark_data
    rows = benchmark_rows(root)
    if as_json:
        click.echo(json.dumps({"folder": str(root), "benchmarks": rows}, indent=2))
        return
    table = _render.simple_table("Benchmark", "Dataset", "Scored", "Local data", "Folder")
    for row in rows:
        found, total = row["subtasks_found"], row["subtasks"]
        data = ("found" if found else "missing") if total == 0 else f"{found} of {total} subtasks"
        table.add_row(
            row["benchmark"],
            row["dataset"],
            "yes" if row["scored"] else "not yet",
            data,
            row["folder"],
        )
    out = _render.console()
    out.print(table)
    out.print(f"Benchmark data folder: {root} (SAGEYARD_BENCHMARK_DATA)", style="dim")


def benchmark_rows(root: Any) -> list[dict[str, Any]]:
    """One dict per benchmark: name, dataset, scored, subtasks (0: none) and how many
    of them have their scored split in ``root/<benchmark>``."""
    from sageyard.programs.evaluate.catalog import BENCHMARKS
    from sageyard.train.evaluate.benchmark_evaluator import packaged_data

    rows = []
    for benchmark in BENCHMARKS.values():
        folder = root / benchmark.name
        subtasks = list(benchmark.subtasks)
        missing = benchmark.missing(folder, None)
        packaged = packaged_data(benchmark.name)
        if missing and packaged is not None:
            folder, missing = packaged, []
        rows.append(
            {
                "benchmark": benchmark.name,
                "dataset": benchmark.dataset,
                "scored": benchmark.scored,
                "subtasks": len(subtasks),
                "subtasks_found": (len(subtasks) or 1) - len(missing),
                "folder": str(folder),
            }
        )
    return rows
