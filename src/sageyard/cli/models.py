"""``sageyard models``: the model catalog and where each model's weights are.

The catalog, the hub and rich are imported inside the commands; nothing here loads torch,
transformers or huggingface_hub (``list`` only looks at files).

Example:
    $ sageyard models list
    $ sageyard models list --json
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pathlib import Path

    from rich.table import Table


@click.group()
def models() -> None:
    """Models for fine-tuning: the catalog, licences and local weights."""


def catalog_rows(home: Path) -> list[dict[str, Any]]:
    """One dict per catalog model: its entry and where its weights are (``weights``)."""
    from dataclasses import asdict

    from sageyard.models.catalog import CATALOG
    from sageyard.models.hub import local_weights

    rows = []
    for entry in CATALOG.values():
        status, path = local_weights(entry, home)
        row = asdict(entry)
        row["techniques"] = list(entry.techniques)
        row["weights"] = status
        row["weights_path"] = None if path is None else str(path)
        rows.append(row)
    return rows


def _licence_cell(row: Mapping[str, Any]) -> Any:
    from rich.text import Text

    text = Text(str(row["licence"]))
    if row["gated"]:
        text.append(" (gated)", style="yellow")
    return text


_WEIGHT_STYLES = {"converted": "green", "hub cache": "green", "not available": "dim"}


def models_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    """The ``sageyard models list`` table, one row per catalog model."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("Model", no_wrap=True)
    table.add_column("Parameters", justify="right", no_wrap=True)
    table.add_column("Licence")
    table.add_column("Techniques")
    table.add_column("Weights", no_wrap=True)
    for row in rows:
        weights = str(row["weights"])
        style = _WEIGHT_STYLES.get(weights, "cyan")
        table.add_row(
            str(row["model_id"]),
            str(row["parameters"]),
            _licence_cell(row),
            ", ".join(row["techniques"]),
            Text(weights, style=style),
        )
    return table


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the catalog as JSON.")
def list_models(as_json: bool) -> None:
    """List the catalog's models, their licences and whether their weights are here."""
    from sageyard.core.settings import Settings

    rows = catalog_rows(Settings.from_env().home)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from sageyard.cli import _render

    out = _render.console()
    out.print(models_table(rows))
    out.print(
        "\nGated models need accept_eula=True. Weights: 'shipped' converts on first use; "
        "'not available' needs `huggingface-cli download <model>`.",
        style="dim",
    )


def package_rows(group: str | None) -> list[dict[str, Any]]:
    """One dict per registered model package (optionally of one group), oldest first."""
    from dataclasses import asdict
    from datetime import datetime

    from sageyard.core.settings import Settings
    from sageyard.jobs.remote import registry_for

    return [
        {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(package).items()}
        for package in registry_for(Settings.from_env()).list_packages(group)
    ]


@models.command("packages")
@click.option("--group", "group", default=None, help="Only this model package group.")
@click.option("--json", "as_json", is_flag=True, help="Print the packages as JSON.")
def list_packages(group: str | None, as_json: bool) -> None:
    """List registered model packages: fine-tuned models by group and version."""
    rows = package_rows(group)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    from sageyard.cli import _render

    out = _render.console()
    if not rows:
        out.print("No model packages yet: pass model_package_group= to a fine-tuning trainer.")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("Package", "Base model", "Technique", "Type", "Metrics", "Training job"):
        table.add_column(column)
    for row in rows:
        metrics = ", ".join(
            f"{name}={value:.4g}"
            for name, value in row["final_metrics"].items()
            if name.endswith((":loss", ":reward_margin"))
        )
        table.add_row(
            f"{row['model_package_group_name']}/{row['model_package_version']}",
            row["base_model"],
            row["customization_technique"],
            row["training_type"],
            metrics,
            row["training_job_name"],
        )
    out.print(table)
