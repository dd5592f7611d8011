"""What the server's S3 reads from a request: aws-chunked bodies decoded, ranges parsed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sageyard.server.s3 import S3Error, _byte_range, spool_body

#: botocore's checksummed upload: chunks (with or without signatures), then a trailer.
CHUNKED = (
    b"5;chunk-signature=0123\r\nhello\r\n3\r\n, w\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
)


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("size", [1, 2, 3, 7, len(CHUNKED)])
def test_an_aws_chunked_body_is_decoded_however_it_arrives(tmp_path: Path, size: int) -> None:
    path = asyncio.run(spool_body(_pieces(CHUNKED, size), tmp_path, chunked=True))
    assert path.read_bytes() == b"hello, w"


def test_a_plain_body_is_kept_as_is_and_a_cut_one_refused(tmp_path: Path) -> None:
    path = asyncio.run(spool_body(_pieces(b"plain", 2), tmp_path, chunked=False))
    assert path.read_bytes() == b"plain"
    with pytest.raises(S3Error, match="ended before its last chunk"):
        asyncio.run(spool_body(_pieces(CHUNKED[:20], 4), tmp_path, chunked=True))
    with pytest.raises(S3Error) as large:
        asyncio.run(spool_body(_pieces(b"x" * 10, 3), tmp_path, chunked=False, limit=5))
    assert large.value.code == "EntityTooLarge"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # nothing half-written left


def test_ranges_are_read_as_s3_reads_them() -> None:
    assert _byte_range("bytes=0-3", 10) == (0, 3)
    assert _byte_range("bytes=4-", 10) == (4, 9)
    assert _byte_range("bytes=-3", 10) == (7, 9)
    assert _byte_range("bytes=5-99", 10) == (5, 9)
    with pytest.raises(S3Error) as beyond:
        _byte_range("bytes=10-12", 10)
    assert beyond.value.code == "InvalidRange"
    with pytest.raises(S3Error):
        _byte_range("bytes=0-1,3-4", 10)
