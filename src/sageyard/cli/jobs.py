"""``sageyard jobs``: list, describe, read the logs of, and stop training jobs.

Each command is a thin layer over :class:`~sageyard.jobs.service.TrainingJobService`, or
with ``SAGEYARD_ENDPOINT_URL`` over a ``sageyard server``'s jobs
(:class:`~sageyard.jobs.remote.RemoteTrainingJobs`); they, the store and rich are imported
inside the commands.

Example:
    $ sageyard jobs list --status InProgress
    $ sageyard jobs logs my-job-2025-01-01-00-00-00-000 --follow
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import click

if TYPE_CHECKING:
    from sageyard.jobs.remote import TrainingJobs

STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")


def _service() -> TrainingJobs:
    from sageyard.core.settings import Settings
    from sageyard.jobs.remote import training_jobs_for

    return training_jobs_for(Settings.from_env())


class Stoppable(Protocol):
    """A job service as ``stop_and_report`` uses it (training or tuning, here or remote)."""

    @property
    def NOUN(self) -> str: ...

    def status(self, name: str) -> str: ...

    def stop(self, name: str) -> None: ...


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
    from sageyard.jobs.remote import RemoteTrainingJobs

    service = _service()
    jobs: Sequence[Any]
    if isinstance(service, RemoteTrainingJobs):  # the server's jobs, as it describes them
        names = service.list_names(status_equals=status, name_contains=name_contains)
        jobs = [service.describe(name) for name in names[:max_results]]
    else:
        jobs = service.list_jobs(status=status, name_contains=name_contains, limit=max_results)
    out = _render.console()
    if not jobs:
        out.print("No training jobs found.", style="dim")
        return
    out.print(_job_view.jobs_table(jobs, now=time.time()))


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
    for line in _service().log_lines(name, follow=follow):
        click.echo(line)


@jobs.command()
@click.argument("name")
def stop(name: str) -> None:
    """Ask a running training job to stop (it ends Stopped)."""
    stop_and_report(_service(), name, f"sageyard jobs logs {name} --follow")


def stop_and_report(service: Stoppable, name: str, follow: str) -> None:
    """Stop a job (training or tuning) and say what happened."""
    noun = service.NOUN.lower()
    before = service.status(name)
    service.stop(name)
    if before == "Stopping":
        click.echo(f"{service.NOUN} {name} is already stopping.")
        return
    click.echo(f"Stopping {noun} {name} (was {before}). Follow it with `{follow}`.")
