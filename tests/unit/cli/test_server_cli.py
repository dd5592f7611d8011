"""``sageyard server``: refuses what it must not serve, and serves boto3 for real."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sageyard.cli import main
from sageyard.cli.server import server_credentials
from sageyard.core.exceptions import ConfigurationError


def test_another_address_without_credentials_is_refused() -> None:
    result = CliRunner().invoke(main, ["server", "--host", "0.0.0.0"], env={})
    assert result.exit_code == 1
    assert "SAGEYARD_SERVER_ACCESS_KEY_ID" in result.output


def test_both_credential_variables_or_neither() -> None:
    assert server_credentials({}) is None
    pair = {"SAGEYARD_SERVER_ACCESS_KEY_ID": "a", "SAGEYARD_SERVER_SECRET_ACCESS_KEY": "b"}
    assert server_credentials(pair) == {"a": "b"}
    with pytest.raises(ConfigurationError, match="SAGEYARD_SERVER_SECRET_ACCESS_KEY is not set"):
        server_credentials({"SAGEYARD_SERVER_ACCESS_KEY_ID": "a"})


def test_the_server_ignores_sageyard_endpoint_url_and_its_app_refuses_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server serves this machine's jobs: SAGEYARD_ENDPOINT_URL (its callers' setting)
    would point it, and the supervisors it starts, at a server, perhaps itself."""
    import sageyard.server
    from sageyard.core.settings import Settings
    from sageyard.server import create_app

    served: list[tuple[Settings, str | None]] = []
    monkeypatch.setattr(
        sageyard.server,
        "serve",
        lambda settings, *args: served.append((settings, os.environ.get("SAGEYARD_ENDPOINT_URL"))),
    )
    monkeypatch.setenv("SAGEYARD_ENDPOINT_URL", "http://127.0.0.1:8080")
    result = CliRunner().invoke(main, ["server"])
    assert result.exit_code == 0, result.output
    assert "is ignored here" in result.stderr
    ((settings, left),) = served
    assert settings.endpoint_url is None and settings.s3_endpoint_url is None and left is None
    with pytest.raises(ConfigurationError, match="cannot name another server"):
        create_app(Settings.from_env({"SAGEYARD_ENDPOINT_URL": "http://127.0.0.1:8080"}))


def test_the_command_serves_boto3(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    import boto3

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "SAGEYARD_HOME": str(tmp_path / "home")}
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("sageyard")), "server", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        client = boto3.session.Session().client(
            "sagemaker",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-west-2",
            aws_access_key_id="a",
            aws_secret_access_key="b",
        )
        deadline = time.time() + 30
        while True:
            try:
                answer = client.list_training_jobs()
                break
            except Exception:
                assert process.poll() is None, process.stderr.read()  # type: ignore[union-attr]
                assert time.time() < deadline
                time.sleep(0.1)
        assert answer["TrainingJobSummaries"] == []
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()  # type: ignore[union-attr]
