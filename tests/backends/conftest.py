"""Fixtures for the backend conformance suites.

Object storage: ``moto_endpoint`` (a real moto S3 server over HTTP, one per session) and
``object_store`` (the suite's store, parametrized over the embedded and the S3 backend).
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sageyard.storage import LocalObjectStore, ObjectStore, S3ObjectStore

MOTO_REGION = "us-west-2"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto S3 server on 127.0.0.1 and a free port, with dummy credentials set."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "sageyard")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "sageyard")
        mp.setenv("AWS_DEFAULT_REGION", MOTO_REGION)
        mp.delenv("AWS_PROFILE", raising=False)
        werkzeug_log = logging.getLogger("werkzeug")  # one line per request otherwise
        level = werkzeug_log.level
        werkzeug_log.setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()
            werkzeug_log.setLevel(level)


def reset_moto(endpoint: str) -> None:
    """Drop every bucket the moto server holds."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@pytest.fixture(params=["local", "s3"])
def object_store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """An empty object store: the embedded one in ``tmp_path``, or S3 over moto."""
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    endpoint: str = request.getfixturevalue("moto_endpoint")
    reset_moto(endpoint)
    return S3ObjectStore(endpoint, MOTO_REGION)
