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
    """Settings plus access to the object store.

    Args:
        boto_session: Accepted for compatibility; an S3 endpoint comes from settings.
        region_name: The region used in ARNs and the default bucket's name.
        default_bucket: The bucket for job code and outputs (default
            ``sagemaker-<region>-000000000000``).
        **settings: Overrides of any :class:`~sageyard.core.settings.Settings` field, e.g.
            ``home=Path("/data/sageyard")`` or ``store_url="postgresql://…"``.
    """

    def __init__(
        self,
        boto_session: Any = None,
        region_name: str | None = None,
        default_bucket: str | None = None,
        **settings: Any,
    ) -> None:
        self.boto_session = boto_session
        self._region = region_name
        self._default_bucket = default_bucket
        self._overrides = settings
        self._settings: Settings | None = None
        self._objects: ObjectStore | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                base = Settings.from_env()
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
    def boto_region_name(self) -> str:
        return self.settings.region

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
        extra_args: dict[str, Any] | None = None,
    ) -> str:
        """Upload a file or folder; returns its ``s3://`` URI (the folder's prefix)."""
        bucket = bucket or self.default_bucket()
        return upload_path(self.objects, Path(path), f"s3://{bucket}/{key_prefix.strip('/')}")

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
