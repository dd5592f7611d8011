"""Which object store the settings select, and what importing sageyard.storage costs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sageyard.core.settings import Settings
from sageyard.storage import LocalObjectStore, S3ObjectStore, object_store_for


def test_object_store_for_embedded(tmp_path: Path) -> None:
    settings = Settings.from_env({"SAGEYARD_HOME": str(tmp_path)})
    store = object_store_for(settings)
    assert isinstance(store, LocalObjectStore)
    assert store.root == settings.objects_dir
    assert not settings.objects_dir.exists()


def test_object_store_for_endpoint(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "SAGEYARD_HOME": str(tmp_path),
            "SAGEYARD_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "SAGEYARD_REGION": "eu-central-1",
        }
    )
    store = object_store_for(settings)
    assert isinstance(store, S3ObjectStore)
    assert (store.endpoint_url, store.region) == ("http://127.0.0.1:9000", "eu-central-1")


def test_import_does_not_load_boto3() -> None:
    code = "import sys, sageyard.storage; print('boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
