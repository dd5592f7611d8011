"""Helpers for integration tests: write a script, make a trainer, read the stores."""

from __future__ import annotations

import tarfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.storage import object_store_for
from sageyard.train import ModelTrainer
from sageyard.train.configs import SourceCode

MakeTrainer = Callable[..., ModelTrainer]


@pytest.fixture
def code_dir(tmp_path: Path) -> Callable[[str], Path]:
    """Write ``train.py`` (dedented) into a fresh source folder and return the folder."""

    def write(body: str, name: str = "train.py") -> Path:
        folder = tmp_path / "code"
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(textwrap.dedent(body))
        return folder

    return write


@pytest.fixture
def make_trainer(code_dir: Callable[[str], Path]) -> MakeTrainer:
    def make(body: str | None, **kwargs: Any) -> ModelTrainer:
        """A trainer for ``body`` as train.py (``None``: keep the source_code given)."""
        kwargs.setdefault("training_image", "python:3.11")
        if body is not None:
            folder = code_dir(body)
            kwargs.setdefault(
                "source_code", SourceCode(source_dir=str(folder), entry_script="train.py")
            )
        return ModelTrainer(**kwargs)

    return make


@pytest.fixture
def server() -> Iterator[Any]:
    """A ``sageyard server`` on a free port of 127.0.0.1 in this process, over the test's
    settings (no credentials: unsigned requests pass)."""
    pytest.importorskip("uvicorn")
    from sageyard.server import RunningServer

    with RunningServer(Settings.from_env()) as running:
        yield running


@pytest.fixture
def service() -> TrainingJobService:
    return TrainingJobService(Settings.from_env())


def read_object(uri: str) -> bytes:
    """The bytes of an object in the configured object store."""
    store = object_store_for(Settings.from_env())
    target = Path(__file__).parent / ".download"
    local = store.local_path(uri)
    if local is not None:
        return local.read_bytes()
    store.get_file(uri, target)
    try:
        return target.read_bytes()
    finally:
        target.unlink()


def tar_members(uri: str, tmp_path: Path) -> dict[str, bytes]:
    archive = tmp_path / "archive.tar.gz"
    archive.write_bytes(read_object(uri))
    with tarfile.open(archive) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }
