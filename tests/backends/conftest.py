"""Fixtures for the backend conformance suites.

Object storage: ``object_store`` (the suite's store, parametrized over the embedded and the
S3 backend; ``moto_endpoint`` lives in ``tests/conftest.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from tests.conftest import MOTO_REGION, reset_moto


@pytest.fixture(params=["local", "s3"])
def object_store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """An empty object store: the embedded one in ``tmp_path``, or S3 over moto."""
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    endpoint: str = request.getfixturevalue("moto_endpoint")
    reset_moto(endpoint)
    return S3ObjectStore(endpoint, MOTO_REGION)
