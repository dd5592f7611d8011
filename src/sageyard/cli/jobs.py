"""``sageyard jobs``: list, describe, read the logs of, and stop training jobs.

Each command is a thin layer over :class:`~sageyard.jobs.service.TrainingJobService`;
the service, the store and rich are imported inside the commands.

Example:
    $ sageyard jobs list --status InProgress
    $ sageyard jobs logs my-job-2025-01-01-00-00-00-000 --follow
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sageyard.jobs.records import JobRecords
    from sageyard.jobs.service import TrainingJobService

STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")


def _service() -> TrainingJobService:
    from sageyard.core.settings import Settings
    from sageyard.jobs.service import TrainingJobService

    return TrainingJobService(Settings.from_env())


@click.group()
def jobs() -> None:
    """Training jobs (the ones ModelTrainer.train() creates)."""


def list_options(noun: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``--status``, ``--name-contains`` and ``--max-results`` for a ``list`` command."""

    def apply(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(
            [
                click.option(
                    "--status",
                    type=click.Choice(STATUSES, case_sensitive=False),
                    help=f"Only {noun} with this status.",
                ),
                click.option(
                    "--name-contains", metavar="TEXT", help=f"Only {noun} whose name contains TEXT."
                ),
                click.option(
                    "--max-results",
                    type=click.IntRange(min=1),
                    default=50,
                    show_default=True,
                    help=f"At most this many {noun}.",
                ),
            ]
        ):
            command = option(command)
        return command

    return apply


@jobs.command("list")
@list_options("jobs")
def list_jobs(status: str | None, name_contains: str | None, max_results: int) -> None:
    """List training jobs, newest first."""
    from sageyard.cli import _job_view, _render

    records = _service().list_jobs(status=status, name_contains=name_contains, limit=max_results)
    out = _render.console()
    if not records:
        out.print("No training jobs found.", style="dim")
        return
    out.print(_job_view.jobs_table(records, now=time.time()))


@jobs.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print DescribeTrainingJob as JSON.")
def describe(name: str, as_json: bool) -> None:
    """Show a training job: status, settings, metrics and history."""
    from sageyard.cli import _job_view, _render

    description = _service().describe(name)
    if as_json:
        click.echo(_render.to_json(description))
    else:
        _render.console().print(_job_view.describe_view(description))


@jobs.command()
@click.argument("name")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until the job ends.")
def logs(name: str, follow: bool) -> None:
    """Print a training job's log lines."""
    from sageyard.jobs.follow import log_lines

    for line in log_lines(_service(), name, follow=follow):
        click.echo(line)


@jobs.command()
@click.argument("name")
def stop(name: str) -> None:
    """Ask a running training job to stop (it ends Stopped)."""
    stop_and_report(_service(), name, f"sageyard jobs logs {name} --follow")


def stop_and_report(service: JobRecords, name: str, follow: str) -> None:
    """Stop a job (training or tuning) and say what happened."""
    noun = service.NOUN.lower()
    before = service.get(name).status
    service.stop(name)
    if before == "Stopping":
        click.echo(f"{service.NOUN} {name} is already stopping.")
        return
    click.echo(f"Stopping {noun} {name} (was {before}). Follow it with `{follow}`.")
