"""Getting a job's inputs into each host's job root: code, channels, checkpoints.

Local data (a local path, or an ``s3://`` URI the embedded store keeps on this disk) is
not copied when the host has a mount namespace: it is bind-mounted read-only. A small
channel (up to :data:`WRITABLE_COPY_BYTES`) is copied instead, writable, as SageMaker's
File mode leaves every channel: the real SDK's ModelTrainer runs ``chmod +x`` on its own
driver script in the ``sm_drivers`` channel. Without a mount namespace data is copied with
``cp --reflink=auto`` (a reflink where the file system can, a copy otherwise). Never a
hard link, through which a job could change the user's file.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

from sageyard.core.exceptions import DiskFullError
from sageyard.runtime.layout import JobRoot
from sageyard.runtime.pipe import make_fifo
from sageyard.runtime.plan import ChannelPlan
from sageyard.runtime.process import Mount
from sageyard.storage import ObjectStore, download_prefix, is_s3_uri, resolve_local_source

logger = logging.getLogger(__name__)

#: ``cp: error writing '/x': No space left on device`` (and "cannot create regular file").
_NO_SPACE_PATH = re.compile(r"'([^']+)': No space left on device")

#: A local channel of at most this many bytes is copied (writable), not bind-mounted.
WRITABLE_COPY_BYTES = 4 << 20


def copy_tree(source: Path, target: Path) -> None:
    """Copy a file or folder, as a reflink where the file system supports it.

    Raises:
        DiskFullError: The disk of ``target`` is full (the message names it and the file).
        OSError: ``cp`` failed otherwise; the message says what it printed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        argv = [
            "cp",
            "-R",
            "--reflink=auto",
            "--no-preserve=mode,ownership",
            f"{source}/.",
            str(target),
        ]
    else:
        argv = ["cp", "--reflink=auto", str(source), str(target)]
    done = subprocess.run(argv, capture_output=True, check=False)
    if done.returncode == 0:
        return
    said = done.stderr.decode(errors="replace").strip()
    if "No space left on device" in said:
        found = _NO_SPACE_PATH.search(said)
        raise DiskFullError(found.group(1) if found else target)
    raise OSError(f"copying {source} into the job at {target} failed: {said or done.returncode}")


def _local_source(store: ObjectStore, source: str) -> Path | None:
    if is_s3_uri(source):
        return resolve_local_source(store, source)
    path = Path(source)
    return path if path.exists() else None


def _shard(files: list[Path], host_index: int, host_count: int) -> list[Path]:
    return [f for position, f in enumerate(sorted(files)) if position % host_count == host_index]


def stage_channel(
    store: ObjectStore,
    channel: ChannelPlan,
    root: JobRoot,
    *,
    host_index: int,
    host_count: int,
    isolate: bool,
) -> list[Mount]:
    """Make ``channel`` visible in ``root``; returns the bind mounts the host must make."""
    target = root.channel_dir(channel.name)
    target.mkdir(parents=True, exist_ok=True)
    sharded = channel.distribution == "ShardedByS3Key" and host_count > 1
    local = _local_source(store, channel.source)
    if local is None:
        if not is_s3_uri(channel.source):
            raise FileNotFoundError(
                f"Channel {channel.name!r}: the local path {channel.source} does not exist."
            )
        staging = target if not sharded else root.path / ".staging" / channel.name
        download_prefix(store, channel.source, staging)
        if sharded:
            _place_shard(staging, target, host_index, host_count)
            shutil.rmtree(staging, ignore_errors=True)
        return []
    if sharded:
        _place_shard(local, target, host_index, host_count)
        return []
    if isolate and not _small(local):
        if local.is_dir():
            return [Mount(local, target)]
        placeholder = target / local.name
        placeholder.touch()
        return [Mount(local, placeholder)]
    copy_tree(local, target if local.is_dir() else target / local.name)
    return []


def _small(source: Path) -> bool:
    """Whether ``source`` (a file or folder) holds at most WRITABLE_COPY_BYTES (a folder is
    walked only until it is over)."""
    if source.is_file():
        return source.stat().st_size <= WRITABLE_COPY_BYTES
    total = 0
    for path in source.rglob("*"):
        if path.is_file():
            total += path.stat().st_size
            if total > WRITABLE_COPY_BYTES:
                return False
    return True


def _place_shard(source: Path, target: Path, host_index: int, host_count: int) -> None:
    files = [source] if source.is_file() else [p for p in source.rglob("*") if p.is_file()]
    base = source.parent if source.is_file() else source
    for file in _shard(files, host_index, host_count):
        copy_tree(file, target / file.relative_to(base))


def stage_code(store: ObjectStore, code_uri: str, root: JobRoot) -> None:
    """Each host gets its own copy of the code snapshot (scripts may write next to it).

    ``code_uri`` is a folder, or a ``.tar.gz`` (the real SDK's ``sourcedir.tar.gz``) that is
    unpacked into the code folder (no links out of it, no absolute paths)."""
    if code_uri.endswith(".tar.gz"):
        import tarfile
        import tempfile

        with tempfile.TemporaryDirectory(prefix="sageyard-code-") as scratch:
            archive = Path(scratch) / "sourcedir.tar.gz"
            store.get_file(code_uri, archive)
            root.code_dir.mkdir(parents=True, exist_ok=True)
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(root.code_dir, filter="data")
        return
    local = _local_source(store, code_uri)
    if local is not None:
        shutil.copytree(local, root.code_dir, dirs_exist_ok=True)
    else:
        download_prefix(store, code_uri, root.code_dir)


def restore_checkpoints(store: ObjectStore, s3_uri: str, local_path: Path) -> int:
    """Download earlier checkpoints (if any) into ``local_path``; returns the file count."""
    local_path.mkdir(parents=True, exist_ok=True)
    if not store.list(s3_uri.rstrip("/") + "/"):
        return 0
    return len(download_prefix(store, s3_uri.rstrip("/"), local_path))


def stage_pipe_channel(
    store: ObjectStore, channel: ChannelPlan, root: JobRoot, *, host_index: int, host_count: int
) -> Path:
    """Prepare a Pipe-mode channel: its files, in order, and the FIFO of epoch 0.

    Returns the feeder's manifest (see ``sageyard.runtime.pipe``). Local data is read in
    place; remote data is downloaded next to the job root first.
    """
    local = _local_source(store, channel.source)
    if local is None:
        if not is_s3_uri(channel.source):
            raise FileNotFoundError(
                f"Channel {channel.name!r}: the local path {channel.source} does not exist."
            )
        local = root.path / ".pipe-data" / channel.name
        download_prefix(store, channel.source, local)
    files = (
        [local]
        if local.is_file()
        else sorted(p for p in local.rglob("*") if p.is_file() and not p.name.startswith("."))
    )
    if channel.distribution == "ShardedByS3Key" and host_count > 1:
        files = _shard(files, host_index, host_count)
    base = root.channel_dir(channel.name)
    make_fifo(base, 0)
    manifest = root.path / ".pipe" / f"{channel.name}.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(
        json.dumps(
            {
                "fifo": str(base),
                "files": [str(f) for f in files],
                "gzip": channel.compression_type == "Gzip",
                "recordio": channel.record_wrapper_type == "RecordIO",
            }
        )
    )
    return manifest
