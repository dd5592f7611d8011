"""The ``sageyard`` command: inspect and control jobs from a shell.

Each command group lives in its own module (``jobs``, ``tuning``, ``models``,
``evaluations`` with ``benchmarks``, ``cluster``, and the ``server`` command) and is
added to :data:`main` below. Importing this package loads click and nothing heavy: the
service, the stores and rich are imported inside the commands, so the command starts fast.

Errors sageyard raises on purpose (unknown job, invalid request, bad settings) are printed
as one red line on stderr with exit code 1; Ctrl-C exits with code 130.

Example:
    $ sageyard jobs list --status Completed
    $ sageyard jobs describe my-job-2025-01-01-00-00-00-000 --json
    $ sageyard tuning describe my-tuning-261128003912123 --watch
"""

from __future__ import annotations

from typing import Any

import click

from sageyard import __version__
from sageyard.cli.cluster import cluster
from sageyard.cli.evaluations import benchmarks, evaluations
from sageyard.cli.jobs import jobs
from sageyard.cli.models import models
from sageyard.cli.server import server
from sageyard.cli.tuning import tuning

__all__ = ["error_line", "main"]

#: Exit code of a command interrupted with Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def error_line(error: BaseException) -> str | None:
    """The one-line message for an error sageyard raised on purpose; ``None`` otherwise.

    Service errors (botocore ``ClientError`` shaped) read ``<Code>: <message>``; other
    sageyard errors (``ConfigurationError``, ``StorageError``, ...) give their message. A
    database error that reached the command unwrapped reads as the ``StoreError`` it is,
    never as a SQLAlchemy traceback.
    """
    from botocore.exceptions import ClientError

    from sageyard.core.exceptions import SageyardError, StoreError

    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code") or type(error).__name__
        message = f"{code}: {details.get('Message') or error}"
    elif isinstance(error, SageyardError):
        message = f"{type(error).__name__}: {error}"
    elif type(error).__module__.partition(".")[0] == "sqlalchemy":
        message = f"StoreError: {StoreError.of(error, _store_url(), 'be read or written')}"
    else:
        return None
    return " ".join(message.split())


def _store_url() -> str:
    from sageyard.core.settings import Settings

    try:
        return Settings.from_env().store_url
    except Exception:  # the settings are what is wrong: name the store by its role
        return "(SAGEYARD_STORE_URL)"


class _Root(click.Group):
    """The root group: turns sageyard's errors into one red line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise click.exceptions.Exit(INTERRUPTED) from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            line = error_line(error)
            if line is None:
                raise
            click.secho(f"Error: {line}", fg="red", err=True)
            raise click.exceptions.Exit(1) from None


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="sageyard", message="%(prog)s %(version)s"
)
def main() -> None:
    """sageyard: SageMaker training jobs, run as local supervised processes."""


for _group in (jobs, tuning, models, evaluations, benchmarks, cluster, server):
    main.add_command(_group)
