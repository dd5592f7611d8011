"""An evaluation's results shown as the real SDK shows them (the files are read by
``sageyard.evaluation.results``). :func:`show_benchmark_results` renders the custom and base
model's tables as the real SDK's ``show_results()`` (values in 0..1 as percentages, but
standard errors), a comparison with the difference when both were evaluated, and where
the artifacts are.
"""

from __future__ import annotations

import json
from typing import Any

from sageyard.evaluation.results import StepResults

__all__ = [
    "format_score",
    "format_value",
    "show_benchmark_results",
    "show_judge_results",
    "win_rates",
]


def format_value(name: str, value: float) -> str:
    """``65.23%`` for a value in 0..1 (not a standard error), else ``12.3000``."""
    if 0 <= value <= 1 and "stderr" not in name.lower():
        return f"{value * 100:.2f}%"
    return f"{value:.4f}"


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


# -- LLM as judge ------------------------------------------------------------------------------


def format_score(score: float | None) -> str:
    """A judge's score (a fraction) as a percentage: ``83.3%``; ``N/A`` when None."""
    return "N/A" if score is None else f"{score * 100:.1f}%"


def _scores(record: dict[str, Any]) -> dict[str, float]:
    found = record.get("automatedEvaluationResult", {}).get("scores", [])
    return {s.get("metricName", "Unknown"): float(s.get("result") or 0.0) for s in found}


def win_rates(custom: list[dict[str, Any]], base: list[dict[str, Any]]) -> dict[str, Any]:
    """Examples paired by position: the model that scores higher on more metrics wins it.

    Example:
        >>> one = lambda c: {"automatedEvaluationResult": {"scores": [
        ...     {"metricName": "Correctness", "result": c}]}}
        >>> win_rates([one(1.0), one(0.0)], [one(0.0), one(0.0)])["custom_wins"]
        1
    """
    wins = {"custom": 0, "base": 0, "ties": 0}
    total = min(len(custom), len(base))
    for ours, theirs in zip(custom[:total], base[:total], strict=True):
        mine, other = _scores(ours), _scores(theirs)
        shared = set(mine) & set(other)
        better = sum(1 for m in shared if mine[m] > other[m])
        worse = sum(1 for m in shared if mine[m] < other[m])
        wins["custom" if better > worse else "base" if worse > better else "ties"] += 1
    share = {key: value / total if total else 0.0 for key, value in wins.items()}
    return {
        "custom_wins": wins["custom"],
        "base_wins": wins["base"],
        "ties": wins["ties"],
        "total": total,
        "custom_win_rate": share["custom"],
        "base_win_rate": share["base"],
        "tie_rate": share["ties"],
    }


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parsed(text: str, first_content: bool) -> str:
    """The real SDK's reading of a record's prompt (its first message's content) or
    response (its first item)."""
    try:
        value = json.loads(text.replace("'", '"'))
    except (ValueError, TypeError):
        return text
    if isinstance(value, list) and value:
        item = value[0]
        if first_content:
            return str(item["content"]) if isinstance(item, dict) and "content" in item else text
        return str(item)
    return text


def show_judge_results(
    found: dict[str, Any],
    s3_output_path: str,
    limit: int | None = 5,
    offset: int = 0,
    show_explanations: bool = False,
) -> None:
    """The real SDK's LLM-as-judge view: where the artifacts are, win rates (with both
    models), the aggregate metrics (custom vs base with the difference, or one model's
    score, deviation and count), then one panel per example of a page."""
    from rich.box import ROUNDED, SIMPLE
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = Console()
    primary = found.get("custom") or found.get("base")
    assert primary is not None
    base = found.get("base") if "custom" in found else None
    location = Text("\n📦 ")
    location.append("Full evaluation artifacts available at:\n", style="bold")
    location.append(f"  {s3_output_path.rstrip('/')}/{primary.job_name}/\n")
    console.print(
        Panel(location, title="[bold blue]Result Artifacts Location", border_style="blue")
    )
    console.print()
    if base is not None and primary.examples and base.examples:
        rates = win_rates(primary.examples, base.examples)
        text = Text("\n🏆 Model Comparison Results:\n\n", style="bold")
        text.append(
            f"Base Model:\n  {format_score(rates['base_win_rate'])} ({rates['base_wins']} wins)\n\n"
            f"Custom Model:\n  {format_score(rates['custom_win_rate'])} "
            f"({rates['custom_wins']} wins)\n\n"
            f"Ties:\n  {format_score(rates['tie_rate'])} ({rates['ties']} ties)"
        )
        console.print(Panel(text, title="[bold cyan]Win Rates", border_style="cyan"))
        console.print()
    custom_metrics = primary.aggregate.get("results", {})
    if base is not None:
        base_metrics = base.aggregate.get("results", {})
        table = Table(
            show_header=True,
            header_style="bold cyan",
            title="[bold cyan]Model Comparison - Aggregate Metrics",
            box=ROUNDED,
        )
        table.add_column("Metric", style="cyan", width=25)
        table.add_column("Custom Model", style="green", justify="right", width=15)
        table.add_column("Base Model", style="yellow", justify="right", width=15)
        table.add_column("Difference", style="white", justify="right", width=15)
        for name in sorted(set(custom_metrics) | set(base_metrics)):
            ours = float(custom_metrics.get(name, {}).get("score") or 0.0)
            theirs = float(base_metrics.get(name, {}).get("score") or 0.0)
            diff = ours - theirs
            shown = (
                f"[green]+{format_score(diff)}[/green]"
                if diff > 0
                else f"[red]{format_score(diff)}[/red]"
                if diff < 0
                else "0.0%"
            )
            table.add_row(name, format_score(ours), format_score(theirs), shown)
    else:
        table = Table(
            show_header=True,
            header_style="bold green",
            title="[bold green]Aggregate Metrics",
            box=ROUNDED,
        )
        table.add_column("Metric", style="cyan", width=25)
        table.add_column("Score", justify="right", width=12)
        table.add_column("Std Dev", justify="right", width=12)
        table.add_column("Evaluations", justify="right", width=12)
        for name, result in sorted(custom_metrics.items()):
            deviation = result.get("std_deviation")
            table.add_row(
                name,
                format_score(result.get("score") or 0.0),
                "-" if deviation is None else f"{deviation:.2f}",
                str(result.get("total_evaluations") or 0),
            )
    console.print(table)
    console.print()
    examples = primary.examples
    total = len(examples)
    if not examples:
        console.print("[yellow]No per-example results available to display[/yellow]")
        return
    shown_limit = total if limit is None else limit
    end = min(offset + shown_limit, total)
    if offset >= total:
        console.print(f"[yellow]Offset {offset} is beyond total {total} evaluations[/yellow]")
        return
    for index in range(offset, end):
        record = examples[index]
        prompt = _parsed(str(record.get("inputRecord", {}).get("prompt", "N/A")), True)
        responses = record.get("modelResponses") or []
        response = _parsed(str(responses[0].get("response", "N/A")), False) if responses else "N/A"
        console.print(Text(f"\n═══ Evaluation {index + 1} of {total} ═══\n", style="bold cyan"))
        console.print(f"[bold]Prompt:[/bold] {_truncate(prompt, 200)}")
        console.print(f"[bold]Model Response:[/bold] {_truncate(response, 200)}")
        console.print()
        scores = Table(show_header=True, header_style="bold magenta", box=SIMPLE, padding=(0, 1))
        scores.add_column("Metric", style="cyan", width=30)
        scores.add_column("Score", style="green", justify="right", width=10)
        if show_explanations:
            scores.add_column("Explanation", style="white", width=50)
        for score in record.get("automatedEvaluationResult", {}).get("scores", []):
            row = [score.get("metricName", "Unknown"), format_score(score.get("result") or 0.0)]
            if show_explanations:
                details = score.get("evaluatorDetails") or [{}]
                row.append(_truncate(str(details[0].get("explanation") or "N/A"), 80))
            scores.add_row(*row)
        console.print(scores)
        console.print()
    console.print("═" * 70)
    console.print(f"[bold cyan]Showing evaluations {offset + 1}-{end} of {total}[/bold cyan]\n")
    if end < total:
        console.print("[dim]To see more:[/dim]")
        more = f"job.show_results(limit={shown_limit}, offset={end})"
        console.print(f"  [cyan]{more}[/cyan]  # Next {shown_limit}")
        if shown_limit != total:
            console.print(f"  [cyan]job.show_results(limit=None)[/cyan]  # Show all {total}")
    console.print("═" * 70)
