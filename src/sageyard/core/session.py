"""``Session`` and ``get_execution_role``, as in the reference, over sageyard's stores.

A Session carries settings (it can override any ``SAGEYARD_*`` setting) and reaches the
object store lazily: constructing one does no I/O.

Example:
    >>> from sageyard.train import Session
    >>> session = Session()
    >>> uri = session.upload_data("data/train.csv", key_prefix="demo")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.settings import Settings
from sageyard.storage import ObjectStore, download_prefix, object_store_for, upload_path


class Session:
    """Settings plus access to the object store, with the real SDK's constructor.

    Args:
        boto_session: A boto3 session; its ``region_name`` is the region when no
            ``region_name`` is given. Its credentials are not needed (storage comes from
            settings).
        sagemaker_client, sagemaker_runtime_client, sagemaker_featurestore_runtime_client,
        sagemaker_metrics_client: Accepted as the real SDK takes them and kept as given;
            sageyard's services answer the training and tuning calls.
        default_bucket: The bucket for job code and outputs (default
            ``sagemaker-<region>-000000000000``, or the config's ``DefaultS3Bucket``).
        sagemaker_config: The real SDK's configuration dictionary; its
            ``SageMaker.PythonSDK.Modules.Session`` ``DefaultS3Bucket`` and
            ``DefaultS3ObjectKeyPrefix`` are used.
        settings: sageyard :class:`~sageyard.core.settings.Settings` to start from (the
            real SDK's ``SessionSettings`` is accepted and ignored).
        default_bucket_prefix: A key prefix under the default bucket for what this session
            uploads without an explicit bucket.
        region_name: The region used in ARNs and the default bucket's name (sageyard's).
        **overrides: Overrides of any :class:`~sageyard.core.settings.Settings` field, e.g.
            ``home=Path("/data/sageyard")`` or ``store_url="postgresql://…"``.
    """

    def __init__(
        self,
        boto_session: Any = None,
        sagemaker_client: Any = None,
        sagemaker_runtime_client: Any = None,
        sagemaker_featurestore_runtime_client: Any = None,
        default_bucket: str | None = None,
        sagemaker_config: dict[str, Any] | None = None,
        settings: Any = None,
        sagemaker_metrics_client: Any = None,
        default_bucket_prefix: str | None = None,
        *,
        region_name: str | None = None,
        **overrides: Any,
    ) -> None:
        self.boto_session = boto_session
        self._sagemaker_client = sagemaker_client
        self.sagemaker_runtime_client = sagemaker_runtime_client
        self.sagemaker_featurestore_runtime_client = sagemaker_featurestore_runtime_client
        self.sagemaker_metrics_client = sagemaker_metrics_client
        self.sagemaker_config = sagemaker_config
        configured = _session_config(sagemaker_config)
        self._region = region_name or getattr(boto_session, "region_name", None)
        self._default_bucket = default_bucket or configured.get("DefaultS3Bucket")
        self.default_bucket_prefix = default_bucket_prefix or configured.get(
            "DefaultS3ObjectKeyPrefix"
        )
        self._base = settings if isinstance(settings, Settings) else None
        self._overrides = overrides
        self._settings: Settings | None = None
        self._objects: ObjectStore | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                base = self._base or Settings.from_env()
                self._settings = base.with_overrides(region=self._region, **self._overrides)
            except TypeError as error:
                raise ConfigurationError(
                    f"Session got an unknown setting: {error}. Known settings: "
                    f"{', '.join(Settings.__dataclass_fields__)}."
                ) from None
        return self._settings

    @property
    def objects(self) -> ObjectStore:
        if self._objects is None:
            self._objects = object_store_for(self.settings)
        return self._objects

    @property
    def sagemaker_client(self) -> Any:
        """The client given, else boto3's ``sagemaker`` client for training and tuning,
        served by sageyard's job services (:mod:`sageyard.train.sagemaker_client`)."""
        if self._sagemaker_client is None:
            from sageyard.train.sagemaker_client import SageMakerClient

            self._sagemaker_client = SageMakerClient(self)
        return self._sagemaker_client

    @property
    def boto_region_name(self) -> str:
        return self.settings.region

    def expand_role(self, role: str) -> str:
        """An IAM role name as an ARN in this account (an ARN is returned as it is)."""
        if "/" in role:
            return role
        return f"arn:aws:iam::{self.settings.account_id}:role/{role}"

    def get_caller_identity_arn(self) -> str:
        """The identity jobs run as: the configured execution role (or the default one)."""
        return get_execution_role(self, use_default=True)

    def determine_bucket_and_prefix(
        self,
        bucket: str | None = None,
        key_prefix: str | None = None,
        sagemaker_session: Session | None = None,
    ) -> tuple[str, str | None]:
        """``bucket`` and ``key_prefix`` as given; without a bucket, the default bucket and
        the default prefix joined before ``key_prefix`` (the real SDK's rule)."""
        if bucket:
            return bucket, key_prefix
        session = sagemaker_session or self
        return session.default_bucket(), _join(session.default_bucket_prefix, key_prefix) or None

    def account_id(self) -> str:
        """The account in ARNs (``SAGEYARD_ACCOUNT_ID``-style setting; no STS call)."""
        return self.settings.account_id

    def default_bucket(self) -> str:
        """The default bucket (created if missing)."""
        bucket = self._default_bucket or (
            f"sagemaker-{self.settings.region}-{self.settings.account_id}"
        )
        self.objects.ensure_bucket(bucket)
        return bucket

    def upload_data(
        self,
        path: str,
        bucket: str | None = None,
        key_prefix: str = "data",
        callback: Any = None,
        extra_args: dict[str, Any] | None = None,
    ) -> str:
        """Upload a file or folder; returns its ``s3://`` URI (a file's object, a folder's
        prefix). Without ``bucket``, under the default bucket and ``default_bucket_prefix``.
        ``callback`` is called once per uploaded file with its size in bytes (the real
        SDK's transfer callback gets byte counts too); ``extra_args`` is accepted and not
        used (no server-side encryption here)."""
        if bucket is None:
            bucket = self.default_bucket()
            key_prefix = _join(self.default_bucket_prefix, key_prefix)
        local = Path(path)
        uri = upload_path(self.objects, local, f"s3://{bucket}/{key_prefix.strip('/')}")
        if callback is not None:
            files = [local] if local.is_file() else [p for p in local.rglob("*") if p.is_file()]
            for file in files:
                callback(file.stat().st_size)
        return uri

    def upload_string_as_file_body(
        self, body: str | bytes, bucket: str, key: str, kms_key: str | None = None
    ) -> str:
        """Write ``body`` as the object ``s3://bucket/key``; returns its URI."""
        import tempfile

        uri = f"s3://{bucket}/{key.lstrip('/')}"
        data = body.encode() if isinstance(body, str) else body
        with tempfile.TemporaryDirectory(prefix="sageyard-body-") as scratch:
            file = Path(scratch) / "body"
            file.write_bytes(data)
            self.objects.ensure_bucket(bucket)
            self.objects.put_file(file, uri)
        return uri

    def read_s3_file(self, bucket: str, key_prefix: str) -> str:
        """The text (UTF-8) of the object ``s3://bucket/key_prefix``."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="sageyard-read-") as scratch:
            file = Path(scratch) / "object"
            self.objects.get_file(f"s3://{bucket}/{key_prefix.lstrip('/')}", file)
            return file.read_text(encoding="utf-8")

    def list_s3_files(self, bucket: str, key_prefix: str) -> list[str]:
        """The keys (not URIs) of the objects under ``s3://bucket/key_prefix``."""
        root = f"s3://{bucket}/"
        return [uri[len(root) :] for uri in self.objects.list(root + key_prefix.lstrip("/"))]

    def download_data(
        self, path: str, bucket: str, key_prefix: str = "", extra_args: dict[str, Any] | None = None
    ) -> list[str]:
        """Download everything under ``s3://bucket/key_prefix`` into the folder ``path``."""
        uri = f"s3://{bucket}/{key_prefix.strip('/')}".rstrip("/")
        return [str(p) for p in download_prefix(self.objects, uri, Path(path))]

    def get_execution_role(self) -> str:
        return get_execution_role(self)


def get_execution_role(sagemaker_session: Session | None = None, use_default: bool = False) -> str:
    """The configured execution role (``SAGEYARD_ROLE``, or ``Session(role=...)``).

    Raises:
        ValueError: No role is configured (the reference's error outside SageMaker).
    """
    settings = sagemaker_session.settings if sagemaker_session else Settings.from_env()
    if settings.role:
        return settings.role
    if use_default:
        return f"arn:aws:iam::{settings.account_id}:role/sageyard-default-role"
    raise ConfigurationError(
        "The current AWS identity is not a role: no execution role is configured, therefore "
        "it cannot be used as a SageMaker execution role. Set one with "
        "`export SAGEYARD_ROLE=arn:aws:iam::123456789012:role/MyRole` (or "
        "Session(role=...)), or pass role=... to ModelTrainer."
        + (" (SAGEYARD_ROLE is set but empty.)" if os.environ.get("SAGEYARD_ROLE") == "" else "")
    )


def _session_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """``SageMaker.PythonSDK.Modules.Session`` of the real SDK's configuration dictionary."""
    node: Any = config or {}
    for key in ("SageMaker", "PythonSDK", "Modules", "Session"):
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return {}
    return node if isinstance(node, dict) else {}


def _join(*parts: str | None) -> str:
    return "/".join(part.strip("/") for part in parts if part and part.strip("/"))
