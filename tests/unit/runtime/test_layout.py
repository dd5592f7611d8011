"""The job root of one host: the folder a script sees as /opt/ml."""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.runtime.layout import JobRoot


@pytest.fixture
def root(tmp_path: Path) -> JobRoot:
    return JobRoot(tmp_path / "algo-1")


@pytest.mark.parametrize(
    ("container_path", "relative"),
    [
        ("/opt/ml", ""),
        ("/opt/ml/", ""),
        ("/opt/ml/checkpoints", "checkpoints"),
        ("/opt/ml/output/tensorboard", "output/tensorboard"),
        ("/opt/ml/model", "model"),
        ("/opt/ml/input/data/train", "input/data/train"),
    ],
)
def test_paths_under_opt_ml_map_into_the_job_root(
    root: JobRoot, container_path: str, relative: str
) -> None:
    assert root.host_path(container_path) == root.path / relative


@pytest.mark.parametrize("outside", ["/opt/mlx/checkpoints", "/data/checkpoints", "/opt", "/"])
def test_other_paths_are_unchanged(root: JobRoot, outside: str) -> None:
    assert root.host_path(outside) == Path(outside)


def test_folders(root: JobRoot) -> None:
    base = root.path
    assert root.input_dir == base / "input"
    assert root.config_dir == base / "input" / "config"
    assert root.data_dir == base / "input" / "data"
    assert root.channel_dir("train") == base / "input" / "data" / "train"
    assert root.code_dir == base / "input" / "data" / "code"
    assert root.drivers_dir == base / "input" / "data" / "sm_drivers"
    assert root.model_dir == base / "model"
    assert root.output_dir == base / "output"
    assert root.output_data_dir == base / "output" / "data"
    assert root.failure_file == base / "output" / "failure"


def test_create_makes_the_folders_a_script_writes_to(root: JobRoot) -> None:
    root.create()
    root.create()  # idempotent
    for folder in (root.config_dir, root.data_dir, root.code_dir, root.model_dir):
        assert folder.is_dir()
    assert root.output_data_dir.is_dir()
