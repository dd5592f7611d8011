"""CreateTrainingJob values that can never start a job are refused before anything is written.

SageMaker's limits (API_CreateTrainingJob and botocore's service model): at most 100
hyperparameters, names of at most 256 characters and values of at most 2,500; at most 100
environment variables named ``[a-zA-Z_][a-zA-Z0-9_]*``, values of at most 512; job names of
1-63 letters, digits and hyphens. sageyard adds what no job can hold on any machine: NUL
bytes, ``..`` in S3 keys, channel names that are not folder names. Each refusal is a
ConfigurationError (a ValueError) that says what was given, and leaves no job, no record
and no folder behind: it never reaches a supervisor, so it is never retried.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.train import ModelTrainer
from sageyard.train.configs import SourceCode
from tests.unit.jobs.test_request import with_
from tests.unit.train.test_request_validation import assert_nothing_written


def refused(request: dict[str, Any], home: Path, *matches: str) -> ConfigurationError:
    """The service refuses ``request`` with a message holding each of ``matches``, and
    writes nothing."""
    service = TrainingJobService(Settings.from_env())
    with pytest.raises(ConfigurationError) as excinfo:
        service.create_training_job(request)
    for match in matches:
        assert re.search(re.escape(match), str(excinfo.value)), str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)
    assert_nothing_written(home)
    return excinfo.value


def accepted(request: dict[str, Any]) -> None:
    TrainingJobService(Settings.from_env()).validate_training_job(request)


# -- hyperparameters ---------------------------------------------------------------------------


def test_at_most_100_hyperparameters(request_: dict[str, Any], sageyard_home: Path) -> None:
    hundred = {f"hp{i}": "1" for i in range(100)}
    accepted(with_(request_, "HyperParameters", hundred))
    refused(
        with_(request_, "HyperParameters", {**hundred, "one-more": "1"}),
        sageyard_home,
        "HyperParameters has 101 entries, but SageMaker allows at most 100",
    )


def test_a_hyperparameter_value_of_at_most_2500_characters(
    request_: dict[str, Any], sageyard_home: Path
) -> None:
    accepted(with_(request_, "HyperParameters", {"config": "x" * 2500}))
    refused(
        with_(request_, "HyperParameters", {"config": "x" * 2501}),
        sageyard_home,
        "HyperParameters['config'] is 2,501 characters long",
        "at most 2,500 a value",
    )


def test_a_hyperparameter_name_of_at_most_256_characters(
    request_: dict[str, Any], sageyard_home: Path
) -> None:
    refused(
        with_(request_, "HyperParameters", {"n" * 257: "1"}),
        sageyard_home,
        "a name of 257 characters",
        "at most 256",
    )


def test_the_facade_refuses_too_many_hyperparameters(code_dir: Path, sageyard_home: Path) -> None:
    trainer = ModelTrainer(
        training_image="python:3.11",
        source_code=SourceCode(source_dir=str(code_dir), entry_script="train.py"),
        hyperparameters={f"hp{i}": i for i in range(101)},
    )
    with pytest.raises(ValueError, match="HyperParameters has 101 entries"):
        trainer.train(wait=False)
    assert_nothing_written(sageyard_home)


# -- NUL bytes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("HyperParameters", {"lr": "0.1\x00"}, "CreateTrainingJob.HyperParameters.lr"),
        ("HyperParameters", {"l\x00r": "0.1"}, "has a key with a NUL byte"),
        ("Environment", {"DB_PASSWORD": "hunter22\x00"}, "Environment.DB_PASSWORD"),
        ("Sageyard.SourceCode.Command", "python train.py\x00 --x", "SourceCode.Command"),
        ("Sageyard.SourceCode.Args", ["--a", "b\x00"], "SourceCode.Args[1]"),
        ("OutputDataConfig.S3OutputPath", "s3://bucket/o\x00ut", "S3OutputPath"),
    ],
)
def test_a_nul_byte_anywhere_is_refused(
    request_: dict[str, Any], sageyard_home: Path, path: str, value: Any, where: str
) -> None:
    error = refused(with_(request_, path, value), sageyard_home, where, "NUL byte")
    assert "hunter22" not in str(error)  # the value is never shown: it may be a secret


# -- environment -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("A=B", "'=' separates a variable's name from its value"),
        ("1ST", "not starting with a digit"),
        ("MY-VAR", "letters, digits and '_'"),
        ("", "not an environment variable name"),
    ],
)
def test_environment_names_are_variable_names(
    request_: dict[str, Any], sageyard_home: Path, name: str, hint: str
) -> None:
    refused(
        with_(request_, "Environment", {name: "1"}),
        sageyard_home,
        f"Environment name {name!r} is not an environment variable name",
        hint,
    )


def test_environment_limits(request_: dict[str, Any], sageyard_home: Path) -> None:
    hundred = {f"VAR_{i}": "1" for i in range(100)}
    accepted(with_(request_, "Environment", {**hundred}))
    refused(
        with_(request_, "Environment", {**hundred, "ONE_MORE": "1"}),
        sageyard_home,
        "Environment has 101 variables, but SageMaker allows at most 100",
    )
    error = refused(
        with_(request_, "Environment", {"API_TOKEN": "s" * 513}),
        sageyard_home,
        "Environment['API_TOKEN'] is 513 characters long",
        "at most 512",
    )
    assert "sss" not in str(error)


# -- S3 keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("OutputDataConfig.S3OutputPath", "s3://bucket/out/../../escape", "S3OutputPath"),
        ("CheckpointConfig", {"S3Uri": "s3://bucket/../ckpt"}, "CheckpointConfig.S3Uri"),
        (
            "TensorBoardOutputConfig",
            {"S3OutputPath": "s3://bucket/tb/.."},
            "TensorBoardOutputConfig.S3OutputPath",
        ),
        (
            "InputDataConfig",
            [
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {"S3Uri": "s3://bucket/../x", "S3DataType": "S3Prefix"}
                    },
                }
            ],
            "Channel 'train': S3DataSource.S3Uri",
        ),
        ("Sageyard.SourceCode.SourceDir", "s3://bucket/code/../..", "SourceCode.source_dir"),
    ],
)
def test_dot_dot_in_an_s3_key_is_refused(
    request_: dict[str, Any], sageyard_home: Path, path: str, value: Any, where: str
) -> None:
    refused(with_(request_, path, value), sageyard_home, where, "has a '..' component")


# -- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["/tmp/evil", "../up", "my_job", "-lead", "trail-", "x" * 64, "a.b"]
)
def test_training_job_names_follow_sagemakers_rule(
    request_: dict[str, Any], sageyard_home: Path, name: str
) -> None:
    refused(
        with_(request_, "TrainingJobName", name),
        sageyard_home,
        "TrainingJobName must be 1-63 letters, digits or hyphens",
    )


@pytest.mark.parametrize("base", ["/tmp/evil", "../up", "a_b", "-lead", "a/b"])
def test_base_job_names_are_letters_digits_and_hyphens(
    request_: dict[str, Any], sageyard_home: Path, tmp_path: Path, base: str
) -> None:
    request = with_(request_, "TrainingJobName", None)
    request["Sageyard"]["BaseJobName"] = base
    refused(request, sageyard_home, "must be letters, digits and hyphens", repr(base))
    assert not list(Path("/tmp").glob("evil-*"))
    accepted({**request, "Sageyard": {**request["Sageyard"], "BaseJobName": "my-base-"}})


def test_channel_names_are_folder_names(
    request_: dict[str, Any], sageyard_home: Path, tmp_path: Path
) -> None:
    channel = {"ChannelName": "../../outside", "DataSource": {"LocalPath": str(tmp_path)}}
    refused(
        with_(request_, "InputDataConfig", [channel]),
        sageyard_home,
        "InputDataConfig[0].ChannelName",
        "is not a safe folder name",
    )


def test_a_checkpoint_local_path_of_at_most_4096_characters(
    request_: dict[str, Any], sageyard_home: Path
) -> None:
    config = {"S3Uri": "s3://bucket/ckpt", "LocalPath": "/" + "d" * 4096}
    refused(
        with_(request_, "CheckpointConfig", config),
        sageyard_home,
        "CheckpointConfig.LocalPath is 4,097 characters long",
    )
    # a path outside the job root is taken: the job maps it into its root (runtime/host.py)
    accepted(
        with_(request_, "CheckpointConfig", {"S3Uri": "s3://bucket/ckpt", "LocalPath": "/tmp/c"})
    )
