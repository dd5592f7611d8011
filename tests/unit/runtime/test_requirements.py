"""The requirements install can be interrupted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sageyard.runtime import requirements
from sageyard.runtime.requirements import RequirementsInterrupted, ensure_environment


def test_a_stop_ends_the_install_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = tmp_path / "requirements.txt"
    asked.write_text("nothing\n")
    began = time.monotonic()
    monkeypatch.setattr(requirements, "_parent_site_dirs", lambda: [])  # keep the venv step small
    with pytest.raises(RequirementsInterrupted, match="stopped while running"):
        ensure_environment(tmp_path / "envs", asked, tmp_path / "log", lambda: True)
    assert time.monotonic() - began < 5
    ready = list((tmp_path / "envs").glob("*/.sageyard-ready"))
    assert ready == []  # a later install rebuilds it
