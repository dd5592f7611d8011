"""The S3 REST calls boto3 and the SageMaker SDK make, over sageyard's object store.

Path-style addresses only (``http://host:port/<bucket>/<key>``: what botocore uses for an
endpoint given by IP address): ListBuckets (``GET /``), CreateBucket, HeadBucket,
ListObjectsV2 and ListObjects, DeleteObjects (``POST /<bucket>?delete``), PutObject,
GetObject (with ``Range``), HeadObject, DeleteObject, and multipart uploads (create,
upload part, complete, abort). Bodies are streamed to a scratch file before they reach the
store (up to :data:`MAX_OBJECT` bytes each), and botocore's ``aws-chunked`` bodies (its
checksummed uploads) are decoded on the way. Errors are S3's XML ``<Error>`` documents.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.settings import Settings
from sageyard.storage import ObjectStore, object_store_for

__all__ = ["MAX_OBJECT", "SIGNATURE_CODES", "S3Error", "S3Service", "spool_body"]

#: The largest object one PutObject or UploadPart may carry (S3's own limit).
MAX_OBJECT = 5 << 30

_NS = "http://s3.amazonaws.com/doc/2006-03-01/"

#: S3's names for the signature failures (``sigv4.SignatureError.code``).
SIGNATURE_CODES = {
    "MissingAuthenticationToken": "AccessDenied",
    "IncompleteSignature": "AuthorizationHeaderMalformed",
    "UnrecognizedClient": "InvalidAccessKeyId",
    "InvalidSignature": "SignatureDoesNotMatch",
}

_STATUS = {
    "NoSuchBucket": 404,
    "NoSuchKey": 404,
    "NoSuchUpload": 404,
    "BucketNotEmpty": 409,
    "AccessDenied": 403,
    "InvalidAccessKeyId": 403,
    "SignatureDoesNotMatch": 403,
    "AuthorizationHeaderMalformed": 400,
    "EntityTooLarge": 400,
    "InvalidRange": 416,
    "MethodNotAllowed": 405,
    "InternalError": 500,
    "ServiceUnavailable": 503,
}


class S3Error(Exception):
    """An S3 error answer: its code, message and the resource it is about."""

    def __init__(self, code: str, message: str, resource: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.resource = code, message, resource

    @property
    def status(self) -> int:
        return _STATUS.get(self.code, 400)

    def document(self) -> bytes:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{self.code}</Code>'
            f"<Message>{escape(self.message)}</Message><Resource>{escape(self.resource)}"
            f"</Resource><RequestId>{uuid.uuid4().hex}</RequestId></Error>"
        ).encode()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


def _xml(root: str, body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{_NS}">{body}</{root}>'.encode()


def _tag(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


class S3Service:
    """The S3 calls, each a method of the request's parts; answers are
    ``(status, headers, body)`` where ``body`` is bytes or a file to stream."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.objects: ObjectStore = object_store_for(settings)
        self.uploads = settings.home / "tmp" / "s3-uploads"

    # -- buckets -----------------------------------------------------------------------------

    def list_buckets(self) -> tuple[int, dict[str, str], bytes]:
        owner = f"<Owner>{_tag('ID', self.settings.account_id)}</Owner>"
        now = _iso(0)
        buckets = "".join(
            f"<Bucket>{_tag('Name', name)}{_tag('CreationDate', now)}</Bucket>"
            for name in self.objects.buckets()
        )
        return 200, {}, _xml("ListAllMyBucketsResult", f"{owner}<Buckets>{buckets}</Buckets>")

    def create_bucket(self, bucket: str) -> tuple[int, dict[str, str], bytes]:
        self._valid(bucket)
        self.objects.ensure_bucket(bucket)
        return 200, {"Location": f"/{bucket}"}, b""

    def head_bucket(self, bucket: str) -> tuple[int, dict[str, str], bytes]:
        self._bucket(bucket)
        return 200, {"x-amz-bucket-region": self.settings.region}, b""

    def _valid(self, bucket: str) -> None:
        from sageyard.storage._uri import check_bucket

        try:
            check_bucket(bucket)
        except ConfigurationError as error:
            raise S3Error("InvalidBucketName", str(error), f"/{bucket}") from None

    def _bucket(self, bucket: str) -> None:
        if bucket not in self.objects.buckets():
            raise S3Error("NoSuchBucket", "The specified bucket does not exist", f"/{bucket}")

    def list_objects(
        self, bucket: str, query: dict[str, str], version: int
    ) -> tuple[int, dict[str, str], bytes]:
        """ListObjectsV2 (``version=2``) or ListObjects: keys after the marker, grouped by
        ``delimiter``, ``max-keys`` at a time (at most 1000)."""
        self._bucket(bucket)
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
        try:
            limit = min(int(query.get("max-keys", "1000")), 1000)
        except ValueError:
            raise S3Error("InvalidArgument", "max-keys must be an integer") from None
        encode = query.get("encoding-type") == "url"
        token = query.get("continuation-token") if version == 2 else None
        after = (token or query.get("start-after", "")) if version == 2 else query.get("marker", "")
        keys = [uri.split("/", 3)[3] for uri in self.objects.list(f"s3://{bucket}/{prefix}")]
        entries: list[tuple[str, str | None]] = []  # (key or common prefix, kind)
        seen_prefixes: set[str] = set()
        for key in keys:
            if after and key <= after:
                continue
            if delimiter and delimiter in key[len(prefix) :]:
                common = key[: len(prefix) + key[len(prefix) :].index(delimiter) + len(delimiter)]
                if common in seen_prefixes or (after and common <= after):
                    continue
                seen_prefixes.add(common)
                entries.append((common, None))
            else:
                entries.append((key, "object"))
        truncated = len(entries) > limit
        page = entries[:limit]

        def shown(text: str) -> str:
            return quote(text, safe="/") if encode else text

        parts = [_tag("Name", bucket), _tag("Prefix", shown(prefix)), _tag("MaxKeys", limit)]
        if delimiter:
            parts.append(_tag("Delimiter", shown(delimiter)))
        if encode:
            parts.append(_tag("EncodingType", "url"))
        parts.append(_tag("IsTruncated", str(truncated).lower()))
        for name, kind in page:
            if kind is None:
                parts.append(f"<CommonPrefixes>{_tag('Prefix', shown(name))}</CommonPrefixes>")
                continue
            info = self.objects.stat(f"s3://{bucket}/{name}")
            if info is None:  # deleted since it was listed
                continue
            parts.append(
                f"<Contents>{_tag('Key', shown(name))}{_tag('LastModified', _iso(info.modified))}"
                f"{_tag('ETag', chr(34) + info.etag + chr(34))}{_tag('Size', info.size)}"
                f"{_tag('StorageClass', 'STANDARD')}</Contents>"
            )
        last = page[-1][0] if page else ""
        if version == 2:
            parts.append(_tag("KeyCount", len(page)))
            if token:
                parts.append(_tag("ContinuationToken", token))
            if truncated:
                parts.append(_tag("NextContinuationToken", last))
        else:
            parts.append(_tag("Marker", shown(query.get("marker", ""))))
            if truncated:
                parts.append(_tag("NextMarker", shown(last)))
        return 200, {}, _xml("ListBucketResult", "".join(parts))

    def delete_objects(self, bucket: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        self._bucket(bucket)
        try:
            document = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise S3Error("MalformedXML", "The Delete document is not XML") from None
        deleted = []
        for key in document.iter():
            if key.tag.rsplit("}", 1)[-1] == "Key" and key.text:
                self.objects.delete(f"s3://{bucket}/{key.text}")
                deleted.append(f"<Deleted>{_tag('Key', key.text)}</Deleted>")
        return 200, {}, _xml("DeleteResult", "".join(deleted))

    # -- objects -----------------------------------------------------------------------------

    def put_object(self, bucket: str, key: str, body: Path) -> tuple[int, dict[str, str], bytes]:
        self._valid(bucket)
        etag = _md5(body)
        self._store(body, bucket, key)
        return 200, {"ETag": f'"{etag}"'}, b""

    def _store(self, path: Path, bucket: str, key: str) -> None:
        try:
            self.objects.put_file(path, f"s3://{bucket}/{key}")
        except ConfigurationError as error:  # a key the embedded store cannot hold
            raise S3Error("InvalidArgument", str(error), f"/{bucket}/{key}") from None

    def head_object(self, bucket: str, key: str) -> tuple[int, dict[str, str], bytes]:
        info = self._info(bucket, key)
        return 200, _object_headers(info.size, info.modified, info.etag), b""

    def _info(self, bucket: str, key: str) -> Any:
        info = self.objects.stat(f"s3://{bucket}/{key}")
        if info is None:
            self._bucket(bucket)
            raise S3Error("NoSuchKey", "The specified key does not exist.", f"/{bucket}/{key}")
        return info

    def get_object(
        self, bucket: str, key: str, range_header: str | None
    ) -> tuple[int, dict[str, str], Path | bytes]:
        """The object's bytes, or the ``Range`` of them (one range: ``bytes=a-b``)."""
        info = self._info(bucket, key)
        uri = f"s3://{bucket}/{key}"
        path = self.objects.local_path(uri)
        if path is None:  # a remote store: fetch it for this answer
            scratch = self.settings.home / "tmp"
            scratch.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix="s3-get-", dir=scratch)
            os.close(handle)
            path = Path(name)
            self.objects.get_file(uri, path)
        headers = _object_headers(info.size, info.modified, info.etag)
        if not range_header:
            return 200, headers, path
        start, end = _byte_range(range_header, info.size)
        with open(path, "rb") as data:
            data.seek(start)
            chunk = data.read(end - start + 1)
        headers.update(
            {"Content-Range": f"bytes {start}-{end}/{info.size}", "Content-Length": str(len(chunk))}
        )
        return 206, headers, chunk

    def delete_object(self, bucket: str, key: str) -> tuple[int, dict[str, str], bytes]:
        self.objects.delete(f"s3://{bucket}/{key}")
        return 204, {}, b""

    # -- multipart ---------------------------------------------------------------------------

    def create_multipart_upload(self, bucket: str, key: str) -> tuple[int, dict[str, str], bytes]:
        self._valid(bucket)
        upload = uuid.uuid4().hex
        folder = self.uploads / upload
        folder.mkdir(parents=True)
        (folder / "target").write_text(f"{bucket}/{key}")
        body = _tag("Bucket", bucket) + _tag("Key", key) + _tag("UploadId", upload)
        return 200, {}, _xml("InitiateMultipartUploadResult", body)

    def _upload(self, bucket: str, key: str, upload: str) -> Path:
        folder = self.uploads / upload
        if not upload.isalnum() or not (folder / "target").is_file():
            raise S3Error("NoSuchUpload", "The specified upload does not exist.", upload)
        if (folder / "target").read_text() != f"{bucket}/{key}":
            raise S3Error("NoSuchUpload", "The upload is of another key.", upload)
        return folder

    def upload_part(
        self, bucket: str, key: str, upload: str, number: str, body: Path
    ) -> tuple[int, dict[str, str], bytes]:
        folder = self._upload(bucket, key, upload)
        if not number.isdigit() or not 1 <= int(number) <= 10000:
            raise S3Error("InvalidArgument", "partNumber must be an integer from 1 to 10000")
        etag = _md5(body)
        shutil.move(body, folder / f"part-{int(number):05d}")
        return 200, {"ETag": f'"{etag}"'}, b""

    def complete_multipart_upload(
        self, bucket: str, key: str, upload: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        folder = self._upload(bucket, key, upload)
        try:
            document = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise S3Error(
                "MalformedXML", "The CompleteMultipartUpload document is not XML"
            ) from None
        numbers = [
            int(element.text or "0")
            for element in document.iter()
            if element.tag.rsplit("}", 1)[-1] == "PartNumber"
        ]
        parts = [folder / f"part-{number:05d}" for number in numbers]
        if not parts or any(not part.is_file() for part in parts) or numbers != sorted(numbers):
            raise S3Error("InvalidPart", "A part named is missing, or the parts are out of order.")
        whole = folder / "whole"
        digests = b""
        with open(whole, "wb") as out:
            for part in parts:
                with open(part, "rb") as data:
                    digests += hashlib.md5(data.read()).digest()
                    data.seek(0)
                    shutil.copyfileobj(data, out)
        self._store(whole, bucket, key)
        shutil.rmtree(folder, ignore_errors=True)
        etag = f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'
        answer = _tag("Location", f"/{bucket}/{key}") + _tag("Bucket", bucket) + _tag("Key", key)
        return 200, {}, _xml("CompleteMultipartUploadResult", answer + _tag("ETag", etag))

    def abort_multipart_upload(
        self, bucket: str, key: str, upload: str
    ) -> tuple[int, dict[str, str], bytes]:
        shutil.rmtree(self._upload(bucket, key, upload), ignore_errors=True)
        return 204, {}, b""


def _object_headers(size: int, modified: float, etag: str) -> dict[str, str]:
    return {
        "Content-Length": str(size),
        "Content-Type": "binary/octet-stream",
        "ETag": f'"{etag}"',
        "Last-Modified": _http_date(modified),
        "Accept-Ranges": "bytes",
    }


def _byte_range(header: str, size: int) -> tuple[int, int]:
    """``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` as the first and last byte."""
    unit, _, spec = header.partition("=")
    first, _, last = spec.partition("-")
    try:
        if unit.strip() != "bytes" or "," in spec:
            raise ValueError
        if first == "":
            start, end = max(0, size - int(last)), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
    except ValueError:
        raise S3Error("InvalidArgument", f"Range {header!r} is not one bytes=a-b range") from None
    if start >= size or start > end:
        raise S3Error("InvalidRange", "The requested range is not satisfiable")
    return start, end


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


async def spool_body(
    stream: AsyncIterator[bytes], scratch: Path, chunked: bool, limit: int = MAX_OBJECT
) -> Path:
    """The request body in a scratch file (``aws-chunked`` bodies decoded).

    Raises:
        S3Error: ``EntityTooLarge`` past ``limit`` bytes, or a malformed chunked body.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="s3-put-", dir=scratch)
    path = Path(name)
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            decoder = _ChunkDecoder() if chunked else None
            async for piece in stream:
                data = decoder.feed(piece) if decoder is not None else piece
                size += len(data)
                if size > limit:
                    raise S3Error("EntityTooLarge", f"The object is over {limit} bytes.")
                out.write(data)
            if decoder is not None and not decoder.done:
                raise S3Error("IncompleteBody", "The aws-chunked body ended before its last chunk.")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


class _ChunkDecoder:
    """``Content-Encoding: aws-chunked``: ``<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n``
    chunks, a zero-size one, then trailer lines (botocore's checksums), which are not data."""

    def __init__(self) -> None:
        self._buffer = b""
        self._state = "size"  # size → data → crlf → size …; "trailer" after the last chunk
        self._left = 0  # bytes of the current chunk still to come
        self.done = False

    def feed(self, piece: bytes) -> bytes:
        self._buffer += piece
        out = bytearray()
        while True:
            if self._state == "size":
                line, found, rest = self._buffer.partition(b"\r\n")
                if not found:
                    break
                try:
                    self._left = int(line.split(b";", 1)[0], 16)
                except ValueError:
                    raise S3Error(
                        "IncompleteBody", "A chunk size of the body is not hex."
                    ) from None
                self._buffer = rest
                self._state = "data" if self._left else "trailer"
            elif self._state == "data":
                take = self._buffer[: self._left]
                out += take
                self._buffer = self._buffer[len(take) :]
                self._left -= len(take)
                if self._left:
                    break
                self._state = "crlf"
            elif self._state == "crlf":
                if len(self._buffer) < 2:
                    break
                if not self._buffer.startswith(b"\r\n"):
                    raise S3Error("IncompleteBody", "A chunk of the body does not end with CRLF.")
                self._buffer = self._buffer[2:]
                self._state = "size"
            else:  # the trailer
                self.done = True
                self._buffer = b""
                break
        return bytes(out)
