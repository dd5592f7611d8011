"""Objects on any S3-compatible endpoint (AWS S3, MinIO, Ceph, moto), through boto3.

boto3 is imported when the first request is made, never at module import. Credentials
come from boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profiles,
instance roles).
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from sageyard.storage._base import ObjectInfo, no_such_key, storage_error
from sageyard.storage._uri import check_bucket, parse_object_uri, parse_s3_uri

if TYPE_CHECKING:
    from boto3.session import Session as BotoSession
    from botocore.config import Config
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_HINT = "Check SAGEYARD_S3_ENDPOINT_URL and the AWS credentials boto3 finds."


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _reason(e: Exception) -> str:
    if isinstance(e, ClientError):
        message = e.response.get("Error", {}).get("Message") or str(e)
        return f"{_code(e)} ({message})"
    return f"{type(e).__name__} ({e}). {_HINT}"


#: The environment that selects boto3's credentials: a change makes a new client.
_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
)

_clients: dict[tuple[object, ...], S3Client] = {}
_clients_lock = threading.Lock()

#: botocore's data loader, shared by every session this process makes, and inherited by
#: the processes forked from it: the JSON models a client reads (~0.1 s) are read once.
_loader: Any = None


def _session() -> BotoSession:
    """A new boto3 session (credentials found afresh) on this process's shared loader."""
    global _loader
    import botocore.session
    from boto3.session import Session

    core = botocore.session.get_session()
    if _loader is None:
        _loader = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _loader)
    session = Session(botocore_session=core)
    # boto3 adds its own data folder to the loader's search path with each session
    _loader.search_paths[:] = list(dict.fromkeys(_loader.search_paths))
    return session


def preload(endpoint_url: str | None = None, region: str = "us-east-1") -> None:
    """Read what making an S3 client reads into the shared loader, making none that is
    kept: a fork server calls it so that the supervisors it forks make theirs at once."""
    _session().client("s3", endpoint_url=endpoint_url, region_name=region)


def client_config(
    endpoint_url: str | None, session: BotoSession | None = None, **options: Any
) -> Config | None:
    """botocore's ``Config`` for a client of ``endpoint_url`` (``None``: AWS itself, with
    boto3's defaults), made by ``session`` (else a new one). Where boto3 finds no
    credentials, requests to an endpoint go unsigned, as a ``sageyard server`` on 127.0.0.1
    without credentials takes them (one that checks signatures refuses them, saying so)."""
    if endpoint_url is None:
        return None
    from botocore import UNSIGNED
    from botocore.config import Config

    if (session or _session()).get_credentials() is None:
        options["signature_version"] = UNSIGNED
    return Config(**options)


def _shared_client(endpoint_url: str | None, region: str) -> S3Client:
    """A boto3 S3 client shared by this process's stores of one endpoint, region and
    credentials (boto3 clients are thread-safe). A supervisor makes several stores per
    job. The process id is in the key: a forked child (``jobs/launch.py``'s fork server)
    gets clients of its own, never its parent's connections (but the models its parent's
    loader read: ``_loader``)."""
    key = (
        os.getpid(),
        endpoint_url,
        region,
        *(os.environ.get(name) for name in _CREDENTIAL_VARIABLES),
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            session = _session()
            config = client_config(endpoint_url, session, s3={"addressing_style": "path"})
            client = session.client(
                "s3", endpoint_url=endpoint_url, region_name=region, config=config
            )
            _clients[key] = client
        return client


class S3ObjectStore:
    """Objects on an S3-compatible endpoint.

    Args:
        endpoint_url: The endpoint, e.g. ``http://127.0.0.1:9000``; ``None`` for AWS.
            A custom endpoint is addressed path-style (``endpoint/bucket/key``).
        region: The region for the client and for new buckets.

    Example:
        >>> store = S3ObjectStore("http://127.0.0.1:9000", "us-west-2")
        >>> store.put_file(Path("train.csv"), "s3://data/train.csv")  # doctest: +SKIP
    """

    def __init__(self, endpoint_url: str | None, region: str) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._client: S3Client | None = None
        self._lock = threading.Lock()
        self._known_buckets: set[str] = set()

    def __repr__(self) -> str:
        return f"S3ObjectStore(endpoint_url={self.endpoint_url!r}, region={self.region!r})"

    @property
    def client(self) -> S3Client:
        """The boto3 S3 client, made on first use (one per process for the same endpoint,
        region and credentials: ``_shared_client``)."""
        with self._lock:
            if self._client is None:
                self._client = _shared_client(self.endpoint_url, self.region)
            return self._client

    def ensure_bucket(self, bucket: str) -> None:
        check_bucket(bucket)
        if bucket in self._known_buckets:
            return
        uri = f"s3://{bucket}"
        try:
            try:
                self.client.head_bucket(Bucket=bucket)
            except ClientError as e:
                if _code(e) not in _MISSING:
                    raise
                kwargs: dict[str, Any] = {"Bucket": bucket}
                if self.region != "us-east-1":
                    kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
                try:
                    self.client.create_bucket(**kwargs)
                    logger.info("Created bucket %s", uri)
                except ClientError as e2:
                    if _code(e2) != "BucketAlreadyOwnedByYou":
                        raise
        except (ClientError, BotoCoreError) as e:
            raise storage_error("create bucket", uri, _reason(e)) from e
        self._known_buckets.add(bucket)

    def put_file(self, path: Path, uri: str) -> None:
        from boto3.exceptions import S3UploadFailedError

        bucket, key = parse_object_uri(uri)
        path = Path(path)
        if not path.is_file():
            raise storage_error(
                "upload to", uri, f"{str(path)!r} is not a file. Pass the path of a file."
            )
        self.ensure_bucket(bucket)
        try:
            self.client.upload_file(str(path), bucket, key)
        except (ClientError, BotoCoreError, S3UploadFailedError, OSError) as e:
            raise storage_error("upload to", uri, _reason(e)) from e

    def get_file(self, uri: str, path: Path) -> None:
        bucket, key = parse_object_uri(uri)
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".sageyard-tmp-", dir=path.parent)
        except OSError as e:
            raise storage_error("download", uri, f"{e}") from e
        try:
            with os.fdopen(fd, "wb") as fh:
                self.client.download_fileobj(bucket, key, fh)
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, path)
        except ClientError as e:
            if _code(e) in _MISSING:
                raise no_such_key("download", uri) from e
            raise storage_error("download", uri, _reason(e)) from e
        except (BotoCoreError, OSError) as e:
            raise storage_error("download", uri, _reason(e)) from e
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)

    def list(self, prefix_uri: str) -> list[str]:
        bucket, prefix = parse_s3_uri(prefix_uri)
        found: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            )
            for page in pages:
                found.extend(f"s3://{bucket}/{obj['Key']}" for obj in page.get("Contents", []))
        except ClientError as e:
            if _code(e) in {"NoSuchBucket", "404"}:
                return []
            raise storage_error("list", prefix_uri, _reason(e)) from e
        except BotoCoreError as e:
            raise storage_error("list", prefix_uri, _reason(e)) from e
        return sorted(found)

    def delete(self, uri: str) -> None:
        bucket, key = parse_object_uri(uri)
        try:
            self.client.delete_object(Bucket=bucket, Key=key)
        except ClientError as e:
            if _code(e) not in _MISSING:
                raise storage_error("delete", uri, _reason(e)) from e
        except BotoCoreError as e:
            raise storage_error("delete", uri, _reason(e)) from e

    def exists(self, uri: str) -> bool:
        return self.stat(uri) is not None

    def local_path(self, uri: str) -> Path | None:
        parse_s3_uri(uri)
        return None

    def stat(self, uri: str) -> ObjectInfo | None:
        bucket, key = parse_s3_uri(uri)
        if not key or key.endswith("/"):
            return None
        try:
            head = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as e:
            if _code(e) in _MISSING:
                return None
            raise storage_error("check", uri, _reason(e)) from e
        except BotoCoreError as e:
            raise storage_error("check", uri, _reason(e)) from e
        etag = str(head.get("ETag", "")).strip('"')
        return ObjectInfo(int(head["ContentLength"]), head["LastModified"].timestamp(), etag)

    def buckets(self) -> builtins.list[str]:
        try:
            listed = self.client.list_buckets()
        except (ClientError, BotoCoreError) as e:
            raise storage_error("list the buckets of", self.endpoint_url or "s3", _reason(e)) from e
        return sorted(bucket["Name"] for bucket in listed.get("Buckets", []))
