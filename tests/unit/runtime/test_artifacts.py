"""Packaging host folders into model.tar.gz / output.tar.gz."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from sageyard.runtime.artifacts import merged_files, write_tar_gz


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_merged_files_later_folders_win(tmp_path: Path) -> None:
    first, second = tmp_path / "algo-1", tmp_path / "algo-2"
    write(first / "model.pt", "from algo-1")
    write(first / "sub" / "only-1.txt", "1")
    write(second / "model.pt", "from algo-2")
    write(second / "sub" / "only-2.txt", "2")
    files = merged_files([first, second])
    assert sorted(files) == ["model.pt", "sub/only-1.txt", "sub/only-2.txt"]
    assert files["model.pt"].read_text() == "from algo-2"
    assert files["sub/only-1.txt"] == first / "sub" / "only-1.txt"
    assert merged_files([second, first])["model.pt"].read_text() == "from algo-1"


def test_merged_files_skips_missing_folders(tmp_path: Path) -> None:
    write(tmp_path / "a" / "x.txt", "x")
    assert list(merged_files([tmp_path / "missing", tmp_path / "a"])) == ["x.txt"]
    assert merged_files([]) == {}


def test_write_tar_gz(tmp_path: Path) -> None:
    files = {
        "model.pt": write(tmp_path / "src" / "model.pt", "weights"),
        "sub/config.json": write(tmp_path / "src" / "other" / "c.json", "{}"),
    }
    archive = write_tar_gz(files, tmp_path / "out" / "model.tar.gz")
    assert archive == tmp_path / "out" / "model.tar.gz"
    with tarfile.open(archive, "r:gz") as tar:
        assert sorted(tar.getnames()) == ["model.pt", "sub/config.json"]
        member = tar.extractfile("model.pt")
        assert member is not None
        assert member.read() == b"weights"
    assert sorted(p.name for p in archive.parent.iterdir()) == ["model.tar.gz"]  # no .partial


def test_empty_archive_is_valid(tmp_path: Path) -> None:
    archive = write_tar_gz({}, tmp_path / "output.tar.gz")
    with tarfile.open(archive, "r:gz") as tar:
        assert tar.getnames() == []
    assert not (tmp_path / "output.tar.gz.partial").exists()


def test_archive_is_replaced_whole(tmp_path: Path) -> None:
    archive = tmp_path / "model.tar.gz"
    write_tar_gz({"old.txt": write(tmp_path / "old.txt", "old")}, archive)
    write_tar_gz({"new.txt": write(tmp_path / "new.txt", "new")}, archive)
    with tarfile.open(archive, "r:gz") as tar:
        assert tar.getnames() == ["new.txt"]
    assert not (tmp_path / "model.tar.gz.partial").exists()


def test_failed_write_keeps_the_previous_archive(tmp_path: Path) -> None:
    archive = tmp_path / "model.tar.gz"
    write_tar_gz({"old.txt": write(tmp_path / "old.txt", "old")}, archive)
    with pytest.raises(FileNotFoundError):
        write_tar_gz({"gone.txt": tmp_path / "gone.txt"}, archive)
    with tarfile.open(archive, "r:gz") as tar:
        assert tar.getnames() == ["old.txt"]
