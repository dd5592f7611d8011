"""Fixtures of the unit tests: the settings and object store of the test's SAGEYARD_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.core.settings import Settings
from sageyard.storage import ObjectStore, object_store_for


@pytest.fixture
def settings(sageyard_home: Path) -> Settings:
    return Settings.from_env()


@pytest.fixture
def objects(settings: Settings) -> ObjectStore:
    return object_store_for(settings)
