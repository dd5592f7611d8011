"""The server's one address: each request goes to the protocol it speaks.

- ``POST /`` with ``X-Amz-Target: SageMaker.<Operation>``: SageMaker's JSON 1.1 protocol
  (``sagemaker.py``); ``Logs_20140328.<Operation>``: CloudWatch Logs' reads (``logs.py``).
- ``POST /`` with a form body naming an ``Action``: the query protocol (STS, IAM:
  ``query.py``).
- ``GET /`` from a browser and ``/console/…``: the web console (``console/``).
- Any other path (and ``GET /`` signed for S3): S3's REST calls, path-style (``s3.py``).

Every request is read up to :data:`MAX_BODY` bytes (more: ``RequestEntityTooLarge``), then,
when the server holds credentials, its AWS Signature V4 is checked (``sigv4.py``) before
anything else is read from it. The services run in worker threads: they block on the
stores.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from sageyard.core.exceptions import ConfigurationError, StorageError
from sageyard.core.settings import Settings
from sageyard.server.console import Console
from sageyard.server.errors import WireError, wire_error
from sageyard.server.evaluations import EVALUATION_OPERATIONS
from sageyard.server.logs import LOG_OPERATIONS
from sageyard.server.metrics import batch_get_metrics
from sageyard.server.query import QUERY_ACTIONS, query_error
from sageyard.server.registry import REGISTRY_OPERATIONS
from sageyard.server.s3 import SIGNATURE_CODES, S3Error, S3Service, spool_body
from sageyard.server.sigv4 import SignatureError, SignedRequest, claimed_key_id, verify
from sageyard.server.wire import dumps
from sageyard.train.client import LocalClient
from sageyard.train.sagemaker_api import OPERATIONS, SAGEYARD_OPERATIONS

__all__ = ["MAX_BODY", "create_app"]

logger = logging.getLogger(__name__)

#: The largest request body the API reads (SageMaker's own limit on a request is far lower).
MAX_BODY = 16 << 20

_JSON = "application/x-amz-json-1.1"


class _TooLarge(Exception):
    pass


def create_app(settings: Settings, credentials: Mapping[str, str] | None = None) -> Any:
    """The ASGI application over the services of ``settings``.

    Args:
        settings: Where jobs run and their stores.
        credentials: Access key id → secret access key. Given, every request must carry a
            valid AWS Signature V4 of one of them; ``None``: requests are not checked (for a
            server on the loopback address only: ``serve`` refuses otherwise).
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    if settings.endpoint_url:
        raise ConfigurationError(
            f"A server serves this machine's services, so its settings cannot name another "
            f"server (endpoint_url={settings.endpoint_url!r}): leave SAGEYARD_ENDPOINT_URL "
            "unset where `sageyard server` runs."
        )
    client = LocalClient(settings)
    secrets = dict(credentials or {})

    async def root(request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        operation = target.rpartition(".")[2] if target else ""
        try:
            body = await _read(request)
            key_id = _check(request, body, secrets)
        except _TooLarge:
            error = WireError(
                "RequestEntityTooLarge", f"The request body is over {MAX_BODY} bytes."
            )
            return _json_error(error)
        except SignatureError as signature:
            error = wire_error(signature, operation)
            if not target:
                return _query_error(error)
            return _json_error(error)
        if target:
            return await run_in_threadpool(_json_operation, client, target, body)
        return await run_in_threadpool(_query, settings, body, key_id)

    async def metrics(request: Request) -> Response:
        """SageMaker Metrics (REST JSON): ``POST /BatchGetMetrics``."""
        try:
            body = await _read(request)
            _check(request, body, secrets)
        except _TooLarge:
            return _json_error(
                WireError("RequestEntityTooLarge", f"The request body is over {MAX_BODY} bytes.")
            )
        except SignatureError as signature:
            return _json_error(wire_error(signature, "BatchGetMetrics"))
        return await run_in_threadpool(
            _answer, batch_get_metrics, client, body, "BatchGetMetrics", "application/json"
        )

    s3 = S3Service(settings)

    async def objects(request: Request) -> Response:
        """S3, path-style: ``/<bucket>/<key>``."""
        try:
            _check(request, b"", secrets)  # S3 signs its payload's hash in a header
            status, headers, body = await _s3(s3, request)
        except SignatureError as signature:
            error = S3Error(SIGNATURE_CODES.get(signature.code, "AccessDenied"), signature.message)
            return _s3_error(error)
        except S3Error as error:
            return _s3_error(error)
        except StorageError as error:
            return _s3_error(S3Error("ServiceUnavailable", str(error)))
        if isinstance(body, Path):
            from starlette.background import BackgroundTask
            from starlette.responses import FileResponse

            scratch = s3.objects.local_path("s3://" + request.url.path.lstrip("/")) != body
            cleanup = BackgroundTask(body.unlink, missing_ok=True) if scratch else None
            return FileResponse(body, headers=headers, background=cleanup)
        return Response(body, status_code=status, headers=headers, media_type="application/xml")

    console = Console(client, secrets)

    async def front(request: Request) -> Response:
        """``GET /``: S3's ListBuckets when signed for S3, else the console's front page."""
        if _speaks_s3(request):
            return await objects(request)
        response: Response = await console.front(request)
        return response

    methods = ["GET", "PUT", "HEAD", "DELETE", "POST"]
    return Starlette(
        routes=[
            Route("/", root, methods=["POST"]),
            Route("/BatchGetMetrics", metrics, methods=["POST"]),
            Route("/", front, methods=["GET", "HEAD"]),
            *console.routes(),
            Route("/{path:path}", objects, methods=methods),
        ]
    )


async def _s3(s3: S3Service, request: Any) -> tuple[int, dict[str, str], Any]:
    """The S3 call a request makes, by method, path and query."""
    from starlette.concurrency import run_in_threadpool

    bucket, _, key = request.url.path.lstrip("/").partition("/")
    from urllib.parse import unquote

    bucket, key = unquote(bucket), unquote(key)
    query = dict(request.query_params)
    method = request.method
    scratch = s3.settings.home / "tmp"
    if not bucket:
        if method == "GET" and _speaks_s3(request):
            return await run_in_threadpool(s3.list_buckets)
        raise S3Error("MethodNotAllowed", "This address takes SageMaker's API by POST.")
    if not key:
        if method == "PUT":
            return await run_in_threadpool(s3.create_bucket, bucket)
        if method == "HEAD":
            return await run_in_threadpool(s3.head_bucket, bucket)
        if method == "GET" and "location" in query:
            return 200, {}, _location(s3.settings.region)
        if method == "GET":
            version = 2 if query.get("list-type") == "2" else 1
            return await run_in_threadpool(s3.list_objects, bucket, query, version)
        if method == "POST" and "delete" in query:
            body = await _read(request)
            return await run_in_threadpool(s3.delete_objects, bucket, body)
        raise S3Error("MethodNotAllowed", f"{method} of a bucket is not served here.")
    if method == "PUT":
        if request.headers.get("x-amz-copy-source"):
            raise S3Error("NotImplemented", "CopyObject is not served here: upload the object.")
        chunked = "aws-chunked" in request.headers.get("content-encoding", "") or (
            "x-amz-decoded-content-length" in request.headers
        )
        path = await spool_body(request.stream(), scratch, chunked)
        try:
            _check_payload(request, path, chunked)
            if "uploadId" in query:
                upload, number = query["uploadId"], query.get("partNumber", "")
                return await run_in_threadpool(s3.upload_part, bucket, key, upload, number, path)
            return await run_in_threadpool(s3.put_object, bucket, key, path)
        finally:
            path.unlink(missing_ok=True)
    if method == "GET":
        return await run_in_threadpool(s3.get_object, bucket, key, request.headers.get("range"))
    if method == "HEAD":
        return await run_in_threadpool(s3.head_object, bucket, key)
    if method == "DELETE":
        if "uploadId" in query:
            return await run_in_threadpool(
                s3.abort_multipart_upload, bucket, key, query["uploadId"]
            )
        return await run_in_threadpool(s3.delete_object, bucket, key)
    if "uploads" in query:
        return await run_in_threadpool(s3.create_multipart_upload, bucket, key)
    if "uploadId" in query:
        body = await _read(request)
        return await run_in_threadpool(
            s3.complete_multipart_upload, bucket, key, query["uploadId"], body
        )
    raise S3Error("MethodNotAllowed", "POST of an object is not served here.")


def _speaks_s3(request: Any) -> bool:
    """Whether a request to ``/`` is S3's (ListBuckets), not a browser's."""
    authorization = request.headers.get("authorization", "")
    return "x-amz-content-sha256" in request.headers or "/s3/aws4_request" in authorization


def _location(region: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><LocationConstraint '
        f'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{region}</LocationConstraint>'
    ).encode()


def _check_payload(request: Any, path: Path, chunked: bool) -> None:
    """A body whose SHA-256 the signed ``x-amz-content-sha256`` header names must have it."""
    import hashlib

    claimed = request.headers.get("x-amz-content-sha256", "")
    if chunked or len(claimed) != 64:  # UNSIGNED-PAYLOAD, STREAMING-…
        return
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != claimed:
        raise S3Error(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )


def _s3_error(error: S3Error) -> Any:
    from starlette.responses import Response

    return Response(error.document(), status_code=error.status, media_type="application/xml")


async def _read(request: Any) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _check(request: Any, body: bytes, secrets: Mapping[str, str]) -> str:
    """The access key id that signed the request (with no credentials to check, the one it
    names, unverified: '' for an unsigned request)."""
    if not secrets:
        return claimed_key_id(request.headers.get("authorization", ""))
    signed = SignedRequest(
        method=request.method,
        raw_path=request.scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0],
        query=request.scope.get("query_string", b"").decode("latin-1"),
        headers=dict(request.headers),
        body=body,
    )
    return verify(signed, secrets).access_key_id


#: The JSON 1.1 services, by their X-Amz-Target prefix: their operations by name.
SERVICES = {
    "SageMaker": {**OPERATIONS, **REGISTRY_OPERATIONS},
    "Logs_20140328": LOG_OPERATIONS,
    "Sageyard": {**SAGEYARD_OPERATIONS, **EVALUATION_OPERATIONS},
}


def _json_operation(client: LocalClient, target: str, body: bytes) -> Any:
    service, _, operation = target.partition(".")
    handler = SERVICES.get(service, {}).get(operation)
    if handler is None:
        known = "; ".join(
            f"{name}.<{', '.join(sorted(operations))}>" for name, operations in SERVICES.items()
        )
        return _json_error(
            WireError(
                "UnknownOperationException",
                f"{target!r} is not an operation this server answers; it answers {known}.",
            )
        )
    return _answer(handler, client, body, operation, _JSON)


def _answer(handler: Any, client: LocalClient, body: bytes, operation: str, media_type: str) -> Any:
    """``handler``'s answer to a JSON request body, or the protocol's error."""
    from starlette.responses import Response

    try:
        request = json.loads(body or b"{}")
    except ValueError:
        request = None
    if not isinstance(request, dict):
        return _json_error(
            WireError("SerializationException", f"The body of {operation} is not a JSON object.")
        )
    try:
        answer = handler(client, request)
    except Exception as error:
        return _json_error(wire_error(error, operation))
    return Response(dumps(answer), media_type=media_type)


def _query(settings: Settings, body: bytes, key_id: str) -> Any:
    from starlette.responses import Response

    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    action = form.get("Action", "")
    handler = QUERY_ACTIONS.get(action)
    if handler is None:
        known = ", ".join(sorted(QUERY_ACTIONS))
        error = WireError(
            "InvalidAction",
            f"{action or '(no Action)'} is not an action this server answers; it answers "
            f"{known} (and SageMaker's operations, by X-Amz-Target).",
        )
        return _query_error(error)
    try:
        document = handler(settings, form, key_id)
    except Exception as failure:
        return _query_error(wire_error(failure, action))
    return Response(document, media_type="text/xml")


def _json_error(error: WireError) -> Any:
    from starlette.responses import Response

    body = dumps({"__type": error.code, "message": error.message})
    return Response(
        body, status_code=error.status, media_type=_JSON, headers={"x-amzn-ErrorType": error.code}
    )


def _query_error(error: WireError) -> Any:
    from starlette.responses import Response

    return Response(
        query_error(error.code, error.message), status_code=error.status, media_type="text/xml"
    )
