"""Pipe input mode: a channel's files streamed through FIFOs, one FIFO per epoch.

The script opens ``input/data/<channel>_0`` and reads it to the end; then
``<channel>_1`` appears for the next epoch, and so on, as SageMaker does. With
``CompressionType=Gzip`` the files are decompressed on the way; with
``RecordWrapperType=RecordIO`` each file becomes one RecordIO record.

Run a feeder with ``python -m sageyard.runtime.pipe MANIFEST``, where MANIFEST is a JSON
file ``{"fifo": "<folder>/<channel>", "files": [...], "gzip": false, "recordio": false}``.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import struct
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

RECORDIO_MAGIC = 0xCED7230A


def fifo_path(base: Path, epoch: int) -> Path:
    return base.with_name(f"{base.name}_{epoch}")


def make_fifo(base: Path, epoch: int) -> Path:
    path = fifo_path(base, epoch)
    if not path.exists():
        os.mkfifo(path, 0o644)
    return path


def recordio_header(length: int) -> bytes:
    """Magic number, then the length (the upper 3 bits: cflag 0, a whole record)."""
    return struct.pack("<II", RECORDIO_MAGIC, length & ((1 << 29) - 1))


def write_files(out: BinaryIO, files: Iterable[Path], *, gunzip: bool, recordio: bool) -> None:
    """Write the files to ``out`` one after the other, transformed as the channel asks."""
    for path in files:
        opener = gzip.open if gunzip else open
        with opener(path, "rb") as source:
            if not recordio:
                shutil.copyfileobj(source, out, 1 << 20)
                continue
            data = source.read()
        out.write(recordio_header(len(data)))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))


def feed(
    base: Path,
    files: list[Path],
    *,
    gunzip: bool = False,
    recordio: bool = False,
    epochs: int | None = None,
) -> None:
    """Serve epoch after epoch until killed (or ``epochs`` have been read).

    The next epoch's FIFO is made before this one is closed, so a script that sees the end
    of ``<channel>_N`` finds ``<channel>_N+1`` already there.
    """
    epoch = 0
    make_fifo(base, epoch)
    while epochs is None or epoch < epochs:
        # open() blocks until the script opens the FIFO; a script that stops reading early
        # ends the epoch (BrokenPipeError).
        with open(fifo_path(base, epoch), "wb", buffering=0) as out:
            with contextlib.suppress(BrokenPipeError):
                write_files(out, files, gunzip=gunzip, recordio=recordio)
            make_fifo(base, epoch + 1)
        epoch += 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sageyard.runtime.pipe MANIFEST", file=sys.stderr)
        return 2
    manifest = json.loads(Path(args[0]).read_text())
    with contextlib.suppress(KeyboardInterrupt):
        feed(
            Path(manifest["fifo"]),
            [Path(f) for f in manifest["files"]],
            gunzip=manifest.get("gzip", False),
            recordio=manifest.get("recordio", False),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
