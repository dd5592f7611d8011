"""``sageyard server``: SageMaker's API (and STS/IAM's few calls) over HTTP, for the real
SDK, boto3 and the AWS CLI, over this machine's jobs and stores.

Credentials come from ``SAGEYARD_SERVER_ACCESS_KEY_ID`` and
``SAGEYARD_SERVER_SECRET_ACCESS_KEY``: with them every request's AWS Signature V4 is
checked; without them the server binds only a loopback address.

Example:
    $ sageyard server                       # http://127.0.0.1:8080
    $ AWS_ENDPOINT_URL=http://127.0.0.1:8080 aws sagemaker list-training-jobs
"""

from __future__ import annotations

import os

import click

ACCESS_KEY_ID = "SAGEYARD_SERVER_ACCESS_KEY_ID"
SECRET_ACCESS_KEY = "SAGEYARD_SERVER_SECRET_ACCESS_KEY"
ENDPOINT_URL = "SAGEYARD_ENDPOINT_URL"


@click.command("server")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="The port to bind.")
@click.option(
    "--certfile",
    type=click.Path(exists=True, dir_okay=False),
    help="A PEM certificate: serve HTTPS.",
)
@click.option(
    "--keyfile",
    type=click.Path(exists=True, dir_okay=False),
    help="The certificate's private key (when not in --certfile).",
)
def server(host: str, port: int, certfile: str | None, keyfile: str | None) -> None:
    """Serve SageMaker's API for the real SDK, boto3 and the AWS CLI."""
    from sageyard.core.settings import Settings
    from sageyard.server import serve

    credentials = server_credentials(os.environ)
    if os.environ.pop(ENDPOINT_URL, None):  # not for this server, nor the jobs it starts
        click.echo(
            f"{ENDPOINT_URL} names a server for callers to use; this server serves this "
            "machine's own jobs, so it is ignored here.",
            err=True,
        )
    scheme = "https" if certfile else "http"
    click.echo(f"sageyard server on {scheme}://{host}:{port} (Ctrl-C ends it)", err=True)
    serve(Settings.from_env(), host, port, credentials, certfile, keyfile)


def server_credentials(environ: os._Environ[str] | dict[str, str]) -> dict[str, str] | None:
    """The credentials the server checks signatures against (``None``: none configured).

    Raises:
        ConfigurationError: Only one of the two variables is set.
    """
    from sageyard.core.exceptions import ConfigurationError

    key_id, secret = environ.get(ACCESS_KEY_ID), environ.get(SECRET_ACCESS_KEY)
    if bool(key_id) != bool(secret):
        missing = SECRET_ACCESS_KEY if key_id else ACCESS_KEY_ID
        raise ConfigurationError(
            f"{missing} is not set: set both {ACCESS_KEY_ID} and {SECRET_ACCESS_KEY} (the "
            "credentials callers sign requests with), or neither."
        )
    return {key_id: secret} if key_id and secret else None
