"""Pipe mode's feeder: epochs through FIFOs, Gzip, RecordIO."""

from __future__ import annotations

import gzip
import io
import struct
import threading
from pathlib import Path

from sageyard.runtime.pipe import RECORDIO_MAGIC, feed, fifo_path, recordio_header, write_files


def test_recordio_records_are_padded_to_four_bytes(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"hello")
    out = io.BytesIO()
    write_files(out, [tmp_path / "a"], gunzip=False, recordio=True)
    data = out.getvalue()
    assert struct.unpack("<II", data[:8]) == (RECORDIO_MAGIC, 5)
    assert data[8:] == b"hello\0\0\0"
    assert recordio_header(8)[4:] == struct.pack("<I", 8)


def test_gzip_files_are_decompressed_in_order(tmp_path: Path) -> None:
    (tmp_path / "a.gz").write_bytes(gzip.compress(b"one\n"))
    (tmp_path / "b.gz").write_bytes(gzip.compress(b"two\n"))
    out = io.BytesIO()
    write_files(out, [tmp_path / "a.gz", tmp_path / "b.gz"], gunzip=True, recordio=False)
    assert out.getvalue() == b"one\ntwo\n"


def test_each_epoch_is_a_new_fifo_that_exists_before_the_last_one_ends(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("1,2\n")
    base = tmp_path / "train"
    feeder = threading.Thread(
        target=feed, args=(base, [tmp_path / "data.csv"]), kwargs={"epochs": 3}, daemon=True
    )
    feeder.start()
    read = []
    for epoch in range(3):
        while not fifo_path(base, epoch).exists():
            pass  # only epoch 0 may need a moment: the feeder makes it on start
        read.append(fifo_path(base, epoch).read_text())
        assert fifo_path(base, epoch + 1).exists()
    feeder.join(timeout=10)
    assert read == ["1,2\n"] * 3
