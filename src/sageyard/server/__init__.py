"""``sageyard server``: SageMaker's API over the wire, for the real SDK, boto3 and the CLI.

One address serves every protocol (``app.py``). It binds ``127.0.0.1`` by default; any
other address needs credentials, and then every request's AWS Signature V4 is checked
against them. :class:`RunningServer` runs one in a thread of this process (tests,
benchmarks).

Example:
    $ sageyard server --port 8080
    $ AWS_ENDPOINT_URL=http://127.0.0.1:8080 aws sagemaker list-training-jobs
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.settings import Settings

__all__ = ["RunningServer", "check_binding", "create_app", "serve"]

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080


def create_app(settings: Settings, credentials: Mapping[str, str] | None = None) -> Any:
    """The server's ASGI application (``app.create_app``)."""
    from sageyard.server.app import create_app as make

    return make(settings, credentials)


def check_binding(host: str, credentials: Mapping[str, str] | None) -> None:
    """Refuse to serve an address other machines reach without credentials to check.

    Raises:
        ConfigurationError: ``host`` is not a loopback address and no credentials are set.
    """
    if credentials:
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ConfigurationError(
            f"sageyard server --host {host} is reachable from other machines, so every "
            "request must be signed: set SAGEYARD_SERVER_ACCESS_KEY_ID and "
            "SAGEYARD_SERVER_SECRET_ACCESS_KEY (the credentials callers sign with), or bind "
            "127.0.0.1."
        )


def serve(
    settings: Settings,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    credentials: Mapping[str, str] | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
) -> None:
    """Serve until interrupted; TLS when ``certfile`` (and its ``keyfile``) are given."""
    import uvicorn

    check_binding(host, credentials)
    if keyfile and not certfile:
        raise ConfigurationError("--keyfile needs --certfile (the certificate it belongs to).")
    uvicorn.run(
        create_app(settings, credentials),
        host=host,
        port=port,
        log_level="warning",
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )


class RunningServer:
    """A server on a free port of ``127.0.0.1`` in a thread of this process, for tests and
    benchmarks; a context manager (``with RunningServer(settings) as server: server.url``)."""

    def __init__(
        self,
        settings: Settings,
        credentials: Mapping[str, str] | None = None,
        host: str = DEFAULT_HOST,
        certfile: str | None = None,
        keyfile: str | None = None,
    ) -> None:
        self.settings, self.credentials, self.host = settings, credentials, host
        self.certfile, self.keyfile = certfile, keyfile
        self.port = 0
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.certfile else 'http'}://{self.host}:{self.port}"

    def start(self) -> RunningServer:
        import uvicorn

        with socket.socket() as probe:
            probe.bind((self.host, 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.settings, self.credentials),
            host=self.host,
            port=self.port,
            log_level="warning",
            ssl_certfile=self.certfile,
            ssl_keyfile=self.keyfile,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="server")
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sageyard server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> RunningServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
