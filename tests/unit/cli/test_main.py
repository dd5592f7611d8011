"""The root command: its public surface, --version, import cost and error lines."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

import sageyard
import sageyard.cli
from sageyard.cli import error_line, main
from sageyard.core.exceptions import (
    ConfigurationError,
    ResourceNotFound,
    TrainingJobFailedError,
    ValidationException,
)


def test_all_is_pinned() -> None:
    assert sageyard.cli.__all__ == ["error_line", "main"]
    assert isinstance(sageyard.cli.main, click.Group)


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"sageyard {sageyard.__version__}\n"


def test_help_lists_the_jobs_group() -> None:
    result = CliRunner().invoke(main, ["jobs", "-h"])
    assert result.exit_code == 0
    for command in ("list", "describe", "logs", "stop"):
        assert command in result.output


def test_import_is_light() -> None:
    code = (
        "import sys, sageyard.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'rich', 'sqlalchemy', 'botocore', 'boto3', 'pydantic'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_error_lines() -> None:
    missing = ResourceNotFound("Training job 'x' does not exist.", "DescribeTrainingJob")
    assert error_line(missing) == "ResourceNotFound: Training job 'x' does not exist."
    refused = ValidationException("only an InProgress job\ncan be stopped.")
    assert error_line(refused) == "ValidationException: only an InProgress job can be stopped."
    bad = ConfigurationError("SAGEYARD_SLOTS must be >= 1, but got 0.")
    assert error_line(bad) == "ConfigurationError: SAGEYARD_SLOTS must be >= 1, but got 0."
    failed = TrainingJobFailedError("j", "Failed", "AlgorithmError: boom")
    assert "\n" not in (error_line(failed) or "")
    boto = ClientError({"Error": {"Code": "NoSuchBucket", "Message": "gone"}}, "GetObject")
    assert error_line(boto) == "NoSuchBucket: gone"
    assert error_line(KeyError("bug")) is None


def test_bad_settings_exit_1_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEYARD_EXECUTOR", "nope")
    result = CliRunner().invoke(main, ["jobs", "list"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: ConfigurationError: SAGEYARD_EXECUTOR must be 'local' or 'ray', but got 'nope'.\n"
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
