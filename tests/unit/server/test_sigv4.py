"""Signature V4 checked on the server: what botocore signs passes; any change to what was
signed, another secret, an old date or a malformed header does not."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sageyard.server.sigv4 import SignatureError, SignedRequest, claimed_key_id, verify

SECRETS = {"AKID": "secret"}


def _signed(
    url: str = "http://127.0.0.1:8080/",
    body: bytes = b'{"TrainingJobName": "a"}',
    service: str = "sagemaker",
    secret: str = "secret",
) -> SignedRequest:
    """A request as botocore signs it, as the server receives it."""
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"X-Amz-Target": "SageMaker.DescribeTrainingJob"},
    )
    auth = S3SigV4Auth if service == "s3" else SigV4Auth
    if service == "s3":
        request.headers["X-Amz-Content-Sha256"] = hashlib.sha256(body).hexdigest()
    auth(Credentials("AKID", secret), service, "us-west-2").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = {**dict(prepared.headers), "host": parts.netloc}
    return SignedRequest(prepared.method, parts.path, parts.query, headers, body)


def _code(request: SignedRequest, secrets: dict[str, str] = SECRETS, **kwargs: float) -> str:
    with pytest.raises(SignatureError) as refused:
        verify(request, secrets, **kwargs)
    return refused.value.code


def test_what_botocore_signs_is_verified() -> None:
    caller = verify(_signed(), SECRETS)
    assert (caller.access_key_id, caller.region, caller.service) == (
        "AKID",
        "us-west-2",
        "sagemaker",
    )
    s3 = _signed("http://127.0.0.1:8080/bucket/a%20b/c.txt?prefix=x%2Fy&list-type=2", b"x", "s3")
    assert verify(s3, SECRETS).service == "s3"


def test_another_secret_or_a_changed_request_does_not_pass() -> None:
    assert _code(_signed(secret="guess")) == "InvalidSignature"
    request = _signed()
    assert _code(replace(request, body=b'{"TrainingJobName": "b"}')) == "InvalidSignature"
    headers = {**request.headers, "X-Amz-Target": "SageMaker.StopTrainingJob"}
    assert _code(replace(request, headers=headers)) == "InvalidSignature"
    assert _code(replace(request, raw_path="/other")) == "InvalidSignature"
    assert _code(replace(request, query="x=1")) == "InvalidSignature"


def test_unsigned_unknown_malformed_and_expired_requests_are_refused() -> None:
    request = _signed()
    bare = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
    assert _code(replace(request, headers=bare)) == "MissingAuthenticationToken"
    assert _code(request, {"OTHER": "secret"}) == "UnrecognizedClient"
    garbled = {**bare, "Authorization": "AWS4-HMAC-SHA256 Signature=abc"}
    assert _code(replace(request, headers=garbled)) == "IncompleteSignature"
    assert _code(request, now=0.0) == "InvalidSignature"  # 1970: far more than 15 minutes


def test_the_claimed_key_id_is_read_without_a_check() -> None:
    assert claimed_key_id(_signed().header("Authorization") or "") == "AKID"
    assert claimed_key_id("") == ""
    assert claimed_key_id("Bearer x") == ""
