"""Session and get_execution_role, as in the reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.train import Session, get_execution_role

ROLE = "arn:aws:iam::123456789012:role/MyRole"


def test_get_execution_role_without_a_role() -> None:
    with pytest.raises(ValueError, match="SAGEYARD_ROLE"):
        get_execution_role()


def test_get_execution_role_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEYARD_ROLE", ROLE)
    assert get_execution_role() == ROLE
    assert Session().get_execution_role() == ROLE


def test_session_role_override() -> None:
    session = Session(role=ROLE)
    assert get_execution_role(session) == ROLE
    assert session.get_execution_role() == ROLE


def test_session_settings_follow_the_environment(sageyard_home: Path) -> None:
    settings = Session(region_name="eu-west-1").settings
    assert settings.home == sageyard_home
    assert settings.region == "eu-west-1"
    assert Session().boto_region_name == "us-west-2"


def test_unknown_session_setting() -> None:
    session = Session(bogus=1)  # construction does no work
    with pytest.raises(ValueError, match="bogus"):
        _ = session.settings


def test_session_construction_writes_nothing(sageyard_home: Path) -> None:
    Session()
    assert not sageyard_home.exists()
