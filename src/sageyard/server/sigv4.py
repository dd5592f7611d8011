"""AWS Signature Version 4, checked on the server's side.

boto3, the AWS CLI and the real SageMaker SDK sign every request with the caller's secret
key (``Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/
aws4_request, SignedHeaders=..., Signature=...``). :func:`verify` computes the signature
again from the request as it arrived and the secret the server holds for that key id, and
raises :class:`SignatureError` (with the error code AWS answers) when they differ, when the
request is unsigned, or when its ``X-Amz-Date`` is more than 15 minutes away from now.

The algorithm is AWS's, step by step (docs: "Create a signed AWS API request"):
canonical request → string to sign → a signing key derived from the secret, the date, the
region and the service → HMAC-SHA256.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote

__all__ = [
    "Caller",
    "SignatureError",
    "SignedRequest",
    "canonical_request",
    "claimed_key_id",
    "verify",
]

ALGORITHM = "AWS4-HMAC-SHA256"

#: How far a request's X-Amz-Date may be from the server's clock (AWS's own bound).
MAX_SKEW_SECONDS = 15 * 60

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


class SignatureError(Exception):
    """The request's signature does not prove that its sender holds a configured secret.

    ``code`` is the error AWS answers (``MissingAuthenticationToken``,
    ``IncompleteSignature``, ``UnrecognizedClient``, ``InvalidSignature``); the message
    says what was wrong, never what the right signature would have been."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SignedRequest:
    """What the signature covers: the method, the path as sent, the query string, the
    headers (names in any case) and the body."""

    method: str
    raw_path: str  # percent-encoded, as on the request line, without the query
    query: str
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass(frozen=True)
class Caller:
    """Who signed a verified request: the access key id, and the region and service the
    signature's scope names."""

    access_key_id: str
    region: str
    service: str


def verify(request: SignedRequest, secrets: Mapping[str, str], now: float | None = None) -> Caller:
    """Check the request's SigV4 signature against ``secrets`` (access key id → secret).

    Raises:
        SignatureError: Unsigned, malformed, an unknown key id, an expired date, or a
            signature that does not match.
    """
    authorization = request.header("Authorization")
    if not authorization:
        raise SignatureError(
            "MissingAuthenticationToken",
            "Request is missing Authentication Token: sign it with AWS Signature Version 4 "
            "(boto3 and the AWS CLI do, given credentials the server knows).",
        )
    found = _AUTHORIZATION.fullmatch(authorization.strip())
    if found is None:
        raise SignatureError(
            "IncompleteSignature",
            f"The Authorization header is not an {ALGORITHM} signature with Credential, "
            "SignedHeaders and Signature.",
        )
    parts = found["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SignatureError(
            "IncompleteSignature",
            "The credential scope must be <access key id>/<date>/<region>/<service>/"
            f"aws4_request, not {found['credential']!r}.",
        )
    key_id, day, region, service, _ = parts
    secret = secrets.get(key_id)
    if secret is None:
        raise SignatureError(
            "UnrecognizedClient",
            "The security token included in the request is invalid: the server has no "
            f"credentials with access key id {key_id!r}.",
        )
    stamp = request.header("X-Amz-Date") or ""
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError(
            "IncompleteSignature",
            f"X-Amz-Date must be a date like 20261204T120000Z, not {stamp!r}.",
        ) from None
    skew = abs((time.time() if now is None else now) - signed_at.timestamp())
    if skew > MAX_SKEW_SECONDS or not stamp.startswith(day):
        raise SignatureError(
            "InvalidSignature",
            f"Signature expired: {stamp} is {skew:.0f} s away from the server's time "
            f"(at most {MAX_SKEW_SECONDS} s).",
        )
    signed = found["signed"].split(";")
    if "host" not in signed:
        raise SignatureError("IncompleteSignature", "The signed headers must include host.")
    scope = f"{day}/{region}/{service}/aws4_request"
    canonical = canonical_request(request, signed, s3=service == "s3")
    string_to_sign = "\n".join(
        [ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _signing_key(secret, day, region, service)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, found["signature"]):
        raise SignatureError(
            "InvalidSignature",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method.",
        )
    return Caller(key_id, region, service)


def claimed_key_id(authorization: str) -> str:
    """The access key id a signature names, not checked ('' when there is none)."""
    found = _AUTHORIZATION.fullmatch(authorization.strip())
    return found["credential"].split("/", 1)[0] if found else ""


def canonical_request(request: SignedRequest, signed_headers: list[str], s3: bool) -> str:
    """SigV4's canonical request: method, URI, query, the signed headers, their names, and
    the payload's hash (S3's ``X-Amz-Content-Sha256`` when given: it may be
    ``UNSIGNED-PAYLOAD``)."""
    if s3:  # S3 signs the path as sent, encoded once
        path = quote(unquote(request.raw_path) or "/", safe="/~")
    else:  # other services: the normalized path, its encoding encoded again
        path = quote(_normalized(request.raw_path), safe="/~")
    pairs = sorted(
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, v in parse_qsl(request.query, keep_blank_values=True)
    )
    query = "&".join(f"{k}={v}" for k, v in pairs)
    lines = []
    for name in signed_headers:
        values = [v for k, v in request.headers.items() if k.lower() == name]
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    payload = request.header("X-Amz-Content-Sha256") if s3 else None
    payload = payload or hashlib.sha256(request.body).hexdigest()
    return "\n".join(
        [request.method.upper(), path, query, *lines, "", ";".join(signed_headers), payload]
    )


def _normalized(path: str) -> str:
    """The path with ``.`` and ``..`` segments resolved, as botocore signs it."""
    if not path:
        return "/"
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    normalized = "/" + "/".join(parts)
    return normalized + "/" if path.endswith("/") and normalized != "/" else normalized


def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key
