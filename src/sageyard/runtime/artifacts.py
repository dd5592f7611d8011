"""Packaging a job's folders into the archives SageMaker writes (model.tar.gz, output.tar.gz)."""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterable
from pathlib import Path


def merged_files(folders: Iterable[Path]) -> dict[str, Path]:
    """Relative path → file, over several hosts' folders; later folders win on clashes."""
    files: dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for dirpath, _dirnames, filenames in os.walk(folder):
            for filename in filenames:
                path = Path(dirpath) / filename
                files[str(path.relative_to(folder))] = path
    return dict(sorted(files.items()))


def write_tar_gz(files: dict[str, Path], archive: Path) -> Path:
    """Write ``files`` (relative name → path) into a gzip tarball, atomically.

    An empty mapping still gives a valid (empty) archive, as SageMaker does.
    """
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    # compresslevel 1: model weights barely compress, so higher levels cost much time for
    # little size (SmolLM2-135M's 538 MB of safetensors: level 1 gives 281 MB in 9 s,
    # level 6 gives 266 MB in 53 s).
    try:
        with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
            for name, path in files.items():
                tar.add(path, arcname=name, recursive=False)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(archive)
    return archive
