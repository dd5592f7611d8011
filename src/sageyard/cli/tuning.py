"""``sageyard tuning``: list, describe, watch, stop, resume and plot hyperparameter tuning jobs.

Each command is a thin layer over :class:`~sageyard.tuning.service.TuningJobService` (and
:class:`~sageyard.tuning.analytics.HyperparameterTuningJobAnalytics` for ``plot``); the
service, the store, rich and matplotlib are imported inside the commands.

Example:
    $ sageyard tuning list --status InProgress
    $ sageyard tuning describe my-tuning-261128003912123 --watch
    $ sageyard tuning resume my-tuning-261128003912123
    $ sageyard tuning plot my-tuning-261128003912123 -o progress.png
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from sageyard.cli.jobs import list_options, stop_and_report

if TYPE_CHECKING:
    from rich.console import Console, Group

    from sageyard.tuning.remote import TuningJobs

#: Seconds between two refreshes of ``sageyard tuning describe --watch``.
WATCH_INTERVAL = 0.5


def _service() -> TuningJobs:
    from sageyard.core.settings import Settings
    from sageyard.tuning.remote import tuning_jobs_for

    return tuning_jobs_for(Settings.from_env())


@click.group()
def tuning() -> None:
    """Hyperparameter tuning jobs (the ones HyperparameterTuner.tune() creates)."""


@tuning.command("list")
@list_options("tuning jobs")
def list_tuning_jobs(status: str | None, name_contains: str | None, max_results: int) -> None:
    """List tuning jobs, newest first."""
    from sageyard.cli import _render, _tuning_view

    service = _service()
    names = service.list_names(status_equals=status, name_contains=name_contains)
    out = _render.console()
    if not names:
        out.print("No tuning jobs found.", style="dim")
        return
    out.print(_tuning_view.tuning_table([service.describe(name) for name in names[:max_results]]))


def _snapshot(service: TuningJobs, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return service.describe(name), service.summaries(name)


@tuning.command()
@click.argument("name")
@click.option(
    "--json", "as_json", is_flag=True, help="Print DescribeHyperParameterTuningJob as JSON."
)
@click.option(
    "-w",
    "--watch",
    is_flag=True,
    help="Refresh the view live until the tuning job ends, then print it once more.",
)
def describe(name: str, as_json: bool, watch: bool) -> None:
    """Show a tuning job: status, objective, limits, best training job and trials."""
    from sageyard.cli import _render, _tuning_view

    if as_json and watch:
        raise click.UsageError("--json and --watch cannot be used together.")
    service = _service()
    if as_json:
        click.echo(_render.to_json(service.describe(name)))
        return
    out = _render.console()
    description, summaries = _snapshot(service, name)
    if watch:
        description, summaries = _watch(service, name, out, description, summaries)
    out.print(_tuning_view.tuning_view(description, summaries))


def _watch(
    service: TuningJobs,
    name: str,
    out: Console,
    description: dict[str, Any],
    summaries: list[dict[str, Any]],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Re-render the live view every :data:`WATCH_INTERVAL` s until the tuning job ends.

    The live view is transient: once the job has ended it is cleared and the caller
    prints the final view, so a terminal and a pipe both end with exactly one view.
    """
    from rich.live import Live

    from sageyard.cli import _tuning_view
    from sageyard.jobs.states import ACTIVE

    if description["HyperParameterTuningJobStatus"] not in ACTIVE:
        return description, summaries

    def view() -> Group:
        # Room for the newest trials below the ~20 lines of status, best job and footer.
        last = max(3, out.size.height - 24)
        return _tuning_view.tuning_watch_view(
            description, summaries, interval=WATCH_INTERVAL, last=last
        )

    with Live(view(), console=out, transient=True, auto_refresh=False) as live:
        while description["HyperParameterTuningJobStatus"] in ACTIVE:
            time.sleep(WATCH_INTERVAL)
            description, summaries = _snapshot(service, name)
            live.update(view(), refresh=True)
    return description, summaries


@tuning.command()
@click.argument("name")
def stop(name: str) -> None:
    """Ask a running tuning job to stop: its running training jobs are stopped too."""
    stop_and_report(_service(), name, f"sageyard tuning describe {name} --watch")


@tuning.command()
@click.argument("name")
def resume(name: str) -> None:
    """Go on with a tuning job whose supervisor was interrupted: the same search, the trials
    still running followed, the rest launched."""
    from sageyard.core.exceptions import ConfigurationError
    from sageyard.tuning.service import TuningJobService

    service = _service()
    if not isinstance(service, TuningJobService):
        raise ConfigurationError(
            f"`sageyard tuning resume` restarts a supervisor on the machine that runs the "
            f"tuning job, not through sageyard server ({service.settings.endpoint_url}): run "
            "it there, without SAGEYARD_ENDPOINT_URL."
        )
    service.resume(name)
    launched = len(service.trials(name))
    spec = service.spec(service.get(name))
    click.echo(
        f"Resumed tuning job {name}: {launched} of {spec.max_jobs} training jobs launched so "
        f"far. Follow it with `sageyard tuning describe {name} --watch`."
    )


@tuning.command()
@click.argument("name")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=True),
    help="Where to write the PNG (a folder gets NAME-progress.png)  [default: ./NAME-progress.png]",
)
def plot(name: str, output: str | None) -> None:
    """Write a PNG of the best objective over the trials and print its path."""
    from sageyard.tuning.analytics import HyperparameterTuningJobAnalytics

    click.echo(str(HyperparameterTuningJobAnalytics(name).plot(output)))
