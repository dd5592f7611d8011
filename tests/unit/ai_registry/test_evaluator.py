"""Evaluator: reward functions and prompts checked, stored and registered, a version each."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from sageyard.ai_registry.evaluator import (
    REWARD_FUNCTION,
    REWARD_PROMPT,
    Evaluator,
    EvaluatorMethod,
)
from sageyard.core.exceptions import ResourceNotFound
from sageyard.core.session import Session

HANDLER = "def lambda_handler(event, context):\n    return {'reward': 1.0}\n"


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_a_reward_function_is_stored_and_versioned(tmp_path: Path) -> None:
    first = Evaluator.create("exact", REWARD_FUNCTION, write(tmp_path / "reward.py", HANDLER))
    changed = HANDLER.replace("1.0", "0.5")
    second = Evaluator.create("exact", REWARD_FUNCTION, write(tmp_path / "v2.py", changed))
    assert (first.version, second.version) == ("1.0.0", "2.0.0")
    assert first.method is EvaluatorMethod.BYOC and first.status == "Available"
    assert first.arn is not None
    assert first.arn.endswith(":hub-content/sageyard/JsonDoc/exact/1.0.0")
    assert first.reference is not None
    assert first.reference.startswith("arn:aws:lambda:") and first.reference.endswith("exact-1")
    assert first.source is not None and first.source.endswith("/evaluators/exact/1.0.0/reward.py")
    (tmp_path / "out").mkdir()
    assert first.local_file(tmp_path / "out").read_text() == HANDLER
    latest = Evaluator.get("exact")
    assert latest.version == "2.0.0" and latest.type == REWARD_FUNCTION
    assert latest.local_file(tmp_path / "out").read_text() == changed
    assert Evaluator.get(first.arn).version == "1.0.0"
    assert [e.version for e in latest.get_versions()] == ["2.0.0", "1.0.0"]
    assert Evaluator.by_lambda_arn(first.reference).version == "1.0.0"


def _create_in_another_process(home: str, source: str) -> None:
    import os

    os.environ["SAGEYARD_HOME"] = home
    Evaluator.create("shared", REWARD_FUNCTION, source)


def test_another_process_sees_the_evaluator(tmp_path: Path) -> None:
    source = write(tmp_path / "reward.py", HANDLER)
    home = str(Session().settings.home)
    process = multiprocessing.get_context("spawn").Process(
        target=_create_in_another_process, args=(home, source)
    )
    process.start()
    process.join(60)
    assert process.exitcode == 0
    assert Evaluator.get("shared").version == "1.0.0"


def test_a_reward_prompt_is_a_stored_template(tmp_path: Path) -> None:
    template = write(tmp_path / "judge.jinja", "Rate {{ response }} to {{ prompt }} from 0 to 10.")
    evaluator = Evaluator.create("judge", REWARD_PROMPT, template)
    assert evaluator.method is None
    assert evaluator.reference == evaluator.source
    assert evaluator.reference is not None and evaluator.reference.startswith("s3://")
    again = Evaluator.create("judge", REWARD_PROMPT, evaluator.reference)  # from its URI
    assert again.version == "2.0.0"
    assert [e.name for e in Evaluator.get_all(type=REWARD_PROMPT)] == ["judge"]
    assert Evaluator.get_all(type=REWARD_FUNCTION) == []


def test_a_registered_lambda_arn_is_a_new_version_of_the_same_code(tmp_path: Path) -> None:
    first = Evaluator.create("exact", REWARD_FUNCTION, write(tmp_path / "reward.py", HANDLER))
    assert first.reference is not None
    alias = Evaluator.create("alias", REWARD_FUNCTION, first.reference)
    assert alias.method is EvaluatorMethod.LAMBDA and alias.reference == first.reference
    folder = tmp_path / "fetched"
    folder.mkdir()
    assert alias.local_file(folder).read_text() == HANDLER
    with pytest.raises(ResourceNotFound, match="cannot invoke AWS Lambda"):
        Evaluator.create(
            "remote", REWARD_FUNCTION, "arn:aws:lambda:us-west-2:123456789012:function:f"
        )


@pytest.mark.parametrize(
    ("name", "kind", "source", "expected"),
    [
        ("bad name", REWARD_FUNCTION, "FILE", "is not valid"),
        ("ok", "Reward", "FILE", "Unsupported evaluator type: 'Reward'"),
        ("ok", REWARD_FUNCTION, None, "source must be provided for RewardFunction"),
        ("ok", REWARD_FUNCTION, "missing.py", "Reward function file not found: missing.py"),
        ("ok", REWARD_FUNCTION, "NO_HANDLER", "must contain a 'lambda_handler' function"),
        ("ok", REWARD_FUNCTION, "SYNTAX", "does not parse"),
        ("ok", REWARD_FUNCTION, "arn:aws:s3:::bucket", "is not a Lambda function ARN"),
        ("ok", REWARD_PROMPT, "EMPTY", "is empty"),
        ("ok", REWARD_PROMPT, "s3://nowhere/judge.txt", "does not exist"),
    ],
)
def test_bad_input_registers_nothing(
    tmp_path: Path, name: str, kind: str, source: str | None, expected: str
) -> None:
    files = {
        "FILE": write(tmp_path / "reward.py", HANDLER),
        "NO_HANDLER": write(tmp_path / "other.py", "def handler(event, context):\n    pass\n"),
        "SYNTAX": write(tmp_path / "broken.py", "def lambda_handler(:\n"),
        "EMPTY": write(tmp_path / "empty.txt", "  \n"),
    }
    with pytest.raises(ValueError, match=expected):
        Evaluator.create(name, kind, files.get(source or "", source))
    assert Evaluator.get_all() == []
    assert not Session().objects.list(f"s3://{Session().default_bucket()}/evaluators")


def test_delete_removes_one_version_or_all(tmp_path: Path) -> None:
    source = write(tmp_path / "reward.py", HANDLER)
    first = Evaluator.create("exact", REWARD_FUNCTION, source)
    Evaluator.create("exact", REWARD_FUNCTION, source)
    assert first.delete("2.0.0") is True
    assert Evaluator.get("exact").version == "1.0.0"
    assert Evaluator.create("exact", REWARD_FUNCTION, source).version == "3.0.0"
    assert Evaluator.delete_by_name("exact") is True
    with pytest.raises(ResourceNotFound, match=r"Evaluator\.create"):
        Evaluator.get("exact")
    assert Evaluator.delete_by_name("exact") is False
    assert Evaluator.get_all() == []


def test_create_version_refresh_and_wait(tmp_path: Path) -> None:
    evaluator = Evaluator.create("exact", REWARD_FUNCTION, write(tmp_path / "reward.py", HANDLER))
    assert evaluator.create_version(write(tmp_path / "v2.py", HANDLER)) is True
    assert Evaluator.get("exact").version == "2.0.0"
    with pytest.raises(RuntimeError, match="Failed to create new version: Reward function file"):
        evaluator.create_version(str(tmp_path / "missing.py"))
    evaluator.wait()
    assert evaluator.refresh().version == "1.0.0"
    evaluator.delete("1.0.0")
    with pytest.raises(ResourceNotFound):
        evaluator.wait()
    assert [e.name for e in Evaluator.list()] == ["exact"]
