"""``Session`` and ``get_execution_role``, as in the reference, over sageyard's stores.

A Session carries settings (it can override any ``SAGEYARD_*`` setting) and reaches the
object store lazily: constructing one does no I/O. The SageMaker configuration files
(``SAGEMAKER_ADMIN_CONFIG_OVERRIDE``, ``SAGEMAKER_USER_CONFIG_OVERRIDE`` and the default
``config.yaml`` locations) are read when ``sagemaker_config`` is first needed.

sageyard trains; it does not serve. The real Session's endpoint, model and inference
methods are here with their real signatures and raise :class:`ServingNotSupportedError`
(the message ``import sageyard.serve`` gives, naming the method). Its hub-content methods
answer from sageyard's own hub: the datasets of the AI registry (``DataSet``) and the
models of the catalog (``sageyard models list``).

Example:
    >>> from sageyard.train import Session
    >>> session = Session()
    >>> uri = session.upload_data("data/train.csv", key_prefix="demo")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from botocore.exceptions import ClientError

from sageyard.core.exceptions import (
    ConfigurationError,
    ResourceNotFound,
    SageyardClientError,
    SageyardError,
)
from sageyard.core.settings import Settings
from sageyard.storage import ObjectStore, download_prefix, object_store_for, upload_path

__all__ = [
    "SERVING_NOT_SUPPORTED",
    "ServingNotSupportedError",
    "Session",
    "get_execution_role",
    "serving_not_supported",
]

logger = logging.getLogger(__name__)

#: Why serving calls fail; ``{what}`` names the call (``import sageyard.serve`` uses it too).
SERVING_NOT_SUPPORTED = (
    "sageyard trains models; it does not serve them: {what} has no sageyard counterpart. A "
    "job's model is the model.tar.gz at TrainingJob.model_artifacts.s3_model_artifacts (in "
    "sageyard's object store); serve it with the tool of your choice."
)

#: The one hub sageyard has: DataSet ARNs name it (``hub-content/sageyard/DataSet/...``).
HUB_NAME = "sageyard"
_DATASET = "DataSet"
_MODEL = "Model"
_JSON_DOC = "JsonDoc"  # the AI registry's evaluators (their store rows are kind "Evaluator")
_HUB_CONTENT_TYPES = (_DATASET, _MODEL, _JSON_DOC)


class ServingNotSupportedError(SageyardError, NotImplementedError):
    """A call of the real Session that serves models (endpoints, models, inference
    components, inference recommendations): sageyard trains, it does not serve."""


def serving_not_supported(what: str) -> ServingNotSupportedError:
    """The error for a serving call, naming it.

    Example:
        >>> str(serving_not_supported("Session.create_endpoint"))[:48]
        'sageyard trains models; it does not serve them: '
    """
    return ServingNotSupportedError(SERVING_NOT_SUPPORTED.format(what=what))


def _refuse(method: str) -> NoReturn:
    raise serving_not_supported(f"Session.{method}")


class _BucketForbidden(SageyardClientError):
    """S3's answer to a bucket check whose ExpectedBucketOwner is not the owner."""

    code = "403"


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
            ``sagemaker-<region>-000000000000``, or the configuration's ``DefaultS3Bucket``).
        sagemaker_config: The real SDK's configuration dictionary (checked as the real SDK
            checks it). Without one, the configuration files are read when first needed
            (:func:`sageyard.core.config.load_sagemaker_config`); its
            ``SageMaker.PythonSDK.Modules.Session`` ``DefaultS3Bucket`` and
            ``DefaultS3ObjectKeyPrefix`` apply when no ``default_bucket`` or
            ``default_bucket_prefix`` is given.
        settings: sageyard :class:`~sageyard.core.settings.Settings` to start from (the
            real SDK's ``SessionSettings`` is accepted and ignored).
        default_bucket_prefix: A key prefix under the default bucket for what this session
            uploads without an explicit bucket.
        region_name: The region used in ARNs and the default bucket's name (sageyard's).
        **overrides: Overrides of any :class:`~sageyard.core.settings.Settings` field, e.g.
            ``home=Path("/data/sageyard")``, ``s3_endpoint_url="http://127.0.0.1:9000"`` or
            ``store_url="postgresql://…"``.
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
        if sagemaker_config:
            from sageyard.core.config import validate_sagemaker_config

            validate_sagemaker_config(sagemaker_config, "Session(sagemaker_config=...)")
        self.boto_session = boto_session
        self._sagemaker_client = sagemaker_client
        self.sagemaker_runtime_client = sagemaker_runtime_client
        self.sagemaker_featurestore_runtime_client = sagemaker_featurestore_runtime_client
        self.sagemaker_metrics_client = sagemaker_metrics_client
        self._sagemaker_config = sagemaker_config or None
        self._region = region_name or getattr(boto_session, "region_name", None)
        self._default_bucket = default_bucket
        self._default_bucket_prefix = default_bucket_prefix
        self._config: dict[str, Any] | None = None
        self._s3_client: Any = None
        self._s3_resource: Any = None
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
        served by sageyard's job services (:mod:`sageyard.train.sagemaker_client`); with
        ``endpoint_url``, boto3's own client of that ``sageyard server``."""
        if self._sagemaker_client is None and self.settings.endpoint_url:
            import boto3

            self._sagemaker_client = boto3.session.Session().client(
                "sagemaker",
                endpoint_url=self.settings.endpoint_url,
                region_name=self.settings.region,
            )
        if self._sagemaker_client is None:
            from sageyard.train.sagemaker_client import SageMakerClient

            self._sagemaker_client = SageMakerClient(self)
        return self._sagemaker_client

    @property
    def sagemaker_config(self) -> dict[str, Any]:
        """The SageMaker configuration: the one given, else the configuration files merged
        (read on first use; ``{}`` when there are none), as the real Session holds it."""
        if self._sagemaker_config is None:
            from sageyard.core.config import load_sagemaker_config

            s3 = self.s3_resource if self.settings.s3_endpoint_url else None
            self._sagemaker_config = load_sagemaker_config(s3_resource=s3)
        return self._sagemaker_config

    @sagemaker_config.setter
    def sagemaker_config(self, value: dict[str, Any] | None) -> None:
        self._sagemaker_config = value

    @property
    def config(self) -> dict[str, Any] | None:
        """The local-mode configuration, as the real Session's ``config``: ``None`` unless
        set (the SageMaker configuration is :attr:`sagemaker_config`)."""
        return self._config

    @config.setter
    def config(self, value: dict[str, Any] | None) -> None:
        self._config = value

    @property
    def default_bucket_prefix(self) -> str | None:
        """The key prefix given, else the configuration's ``DefaultS3ObjectKeyPrefix``."""
        if self._default_bucket_prefix is None:
            return _session_config(self.sagemaker_config).get("DefaultS3ObjectKeyPrefix")
        return self._default_bucket_prefix

    @default_bucket_prefix.setter
    def default_bucket_prefix(self, value: str | None) -> None:
        self._default_bucket_prefix = value

    @property
    def s3_client(self) -> Any:
        """A boto3 ``s3`` client for sageyard's object store, when that store is an S3
        endpoint (``SAGEYARD_S3_ENDPOINT_URL``); the same credentials and addressing as the
        store's own client.

        Raises:
            ConfigurationError: The object store is the embedded one (folders under
                ``$SAGEYARD_HOME/s3``), which no S3 client can reach.
        """
        if self._s3_client is None:
            endpoint = self._s3_endpoint("s3_client")
            from sageyard.storage import S3ObjectStore

            objects = self.objects
            if isinstance(objects, S3ObjectStore):
                self._s3_client = objects.client
            else:  # pragma: no cover - an endpoint always selects the S3 store
                self._s3_client = _boto3_s3("client", endpoint, self.settings.region)
        return self._s3_client

    @s3_client.setter
    def s3_client(self, value: Any) -> None:
        self._s3_client = value

    @property
    def s3_resource(self) -> Any:
        """A boto3 ``s3`` resource for sageyard's object store, when that store is an S3
        endpoint (``SAGEYARD_S3_ENDPOINT_URL``).

        Raises:
            ConfigurationError: The object store is the embedded one, which no S3 client can
                reach.
        """
        if self._s3_resource is None:
            endpoint = self._s3_endpoint("s3_resource")
            self._s3_resource = _boto3_s3("resource", endpoint, self.settings.region)
        return self._s3_resource

    @s3_resource.setter
    def s3_resource(self, value: Any) -> None:
        self._s3_resource = value

    def _s3_endpoint(self, attribute: str) -> str:
        endpoint = self.settings.s3_endpoint_url
        if not endpoint:
            raise ConfigurationError(
                f"Session.{attribute} needs an S3 endpoint, but sageyard's object store here is "
                f"the embedded one (folders under {self.settings.objects_dir}), which no boto3 "
                "client can reach. Point sageyard at an S3-compatible server with "
                "`export SAGEYARD_S3_ENDPOINT_URL=http://127.0.0.1:9000` (or "
                "Session(s3_endpoint_url=...)), or use the Session's upload_data, "
                "upload_string_as_file_body, read_s3_file, list_s3_files and download_data, "
                "which work on either store."
            )
        return endpoint

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
        """The default bucket (created if missing): the one given, else the configuration's
        ``DefaultS3Bucket``, else :meth:`generate_default_sagemaker_bucket_name`."""
        bucket = (
            self._default_bucket
            or _session_config(self.sagemaker_config).get("DefaultS3Bucket")
            or self.generate_default_sagemaker_bucket_name(self.boto_session)
        )
        self.objects.ensure_bucket(bucket)
        return bucket

    # -- the real Session's bucket checks ----------------------------------------------------

    def generate_default_sagemaker_bucket_name(self, boto_session: Any) -> str:
        """``sagemaker-{region}-{account}``: the region of ``boto_session`` (else this
        session's) and sageyard's account (no STS call).

        Example:
            >>> Session().generate_default_sagemaker_bucket_name(None)
            'sagemaker-us-west-2-000000000000'
        """
        region = getattr(boto_session, "region_name", None) or self.settings.region
        return f"sagemaker-{region}-{self.settings.account_id}"

    def create_bucket_for_not_exist_error(self, bucket_name: str, region: str, s3: Any) -> None:
        """Create ``bucket_name``: with ``s3`` (a boto3 S3 resource or client) as the real
        Session does, else in sageyard's object store. A concurrent creation
        (``OperationAborted``) is not an error."""
        if s3 is None:
            self.objects.ensure_bucket(bucket_name)
            return
        kwargs: dict[str, Any] = {"Bucket": bucket_name}
        if region != "us-east-1":  # us-east-1 is S3's default and may not be named
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**kwargs)
            logger.info("Created S3 bucket: %s", bucket_name)
        except ClientError as error:
            code, message = _error(error)
            if not (code == "OperationAborted" and "conflicting conditional operation" in message):
                raise

    def general_bucket_check_if_user_has_permission(
        self,
        bucket_name: str,
        s3: Any,
        bucket: Any,
        region: str,
        bucket_creation_date_none: bool,
    ) -> None:
        """Check that ``bucket_name`` can be reached, as the real Session does: list
        ``default_bucket_prefix`` (or head the bucket) with ``s3`` (a boto3 S3 resource or
        client; ``None``: this session's object store). When the bucket does not exist yet
        (``bucket_creation_date_none``), a 404 creates it and a 403 is raised; when it
        exists, a failed check is not an error (the real rule).

        The embedded object store has no permissions: the check passes, and a missing
        bucket is created.
        """
        client = _s3_client_of(s3)
        if client is None and self.settings.s3_endpoint_url:
            client = self.s3_client
        if client is None:
            if bucket_creation_date_none:
                self.create_bucket_for_not_exist_error(bucket_name, region, None)
            return
        try:
            if self.default_bucket_prefix:
                client.list_objects_v2(Bucket=bucket_name, Prefix=self.default_bucket_prefix)
            else:
                client.head_bucket(Bucket=bucket_name)
        except ClientError as error:
            if not bucket_creation_date_none:
                return
            code = _error(error)[0]
            if code in {"404", "NoSuchBucket"}:
                self.create_bucket_for_not_exist_error(bucket_name, region, s3 or client)
                return
            if code == "403":
                logger.error(
                    "Bucket %s exists, but access is forbidden. Grant access to it, or pass "
                    "another default_bucket to Session.",
                    getattr(bucket, "name", bucket_name),
                )
            raise

    def expected_bucket_owner_id_bucket_check(
        self, bucket_name: str, s3: Any, expected_bucket_owner_id: str
    ) -> None:
        """Raise a 403 ClientError unless ``bucket_name`` belongs to
        ``expected_bucket_owner_id``, as the real Session does: with ``s3`` (a boto3 S3
        resource or client) or this session's S3 endpoint, S3 answers; on the embedded
        object store every bucket belongs to sageyard's account (:meth:`account_id`)."""
        client = _s3_client_of(s3)
        if client is None and self.settings.s3_endpoint_url:
            client = self.s3_client
        try:
            if client is None:
                if expected_bucket_owner_id != self.settings.account_id:
                    error = _BucketForbidden(
                        f"Bucket {bucket_name} belongs to account {self.settings.account_id} "
                        "(every bucket of sageyard's embedded object store does), not "
                        f"{expected_bucket_owner_id}. Expect {self.settings.account_id}, or "
                        "pass another default_bucket to Session.",
                        "HeadBucket",
                    )
                    error.response["Error"]["Message"] = "Forbidden"  # S3's message
                    raise error
            elif self.default_bucket_prefix:
                client.list_objects_v2(
                    Bucket=bucket_name,
                    Prefix=self.default_bucket_prefix,
                    ExpectedBucketOwner=expected_bucket_owner_id,
                )
            else:
                client.head_bucket(Bucket=bucket_name, ExpectedBucketOwner=expected_bucket_owner_id)
        except ClientError as error:
            if _error(error) == ("403", "Forbidden"):
                logger.error(
                    "Bucket %s is not owned by account %s; pass another default_bucket to Session.",
                    bucket_name,
                    expected_bucket_owner_id,
                )
                raise

    # -- objects --------------------------------------------------------------------------

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

    # -- hub contents: sageyard's one hub ----------------------------------------------------

    def describe_hub_content(
        self,
        hub_name: str,
        hub_content_name: str,
        hub_content_version: str | None,
        hub_content_type: str,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """DescribeHubContent's answer from sageyard's hub: a ``DataSet`` or an evaluator
        (``JsonDoc``) of the AI registry (latest version unless ``hub_content_version``) or
        a ``Model`` of the catalog (its one version, ``1.0.0``). sageyard has one hub, so
        any ``hub_name`` reads it.

        Raises:
            botocore.exceptions.ClientError: ResourceNotFound for content that is not there,
                ValidationException for another content type.
        """
        versions = self._hub_contents(hub_content_type, hub_content_name, "DescribeHubContent")
        found = [v for v in versions if hub_content_version in (None, v["HubContentVersion"])]
        if not found:
            which = f" version {hub_content_version}" if hub_content_version else ""
            raise ResourceNotFound(
                f"{hub_content_type} {hub_content_name!r}{which} is not in sageyard's hub; its "
                f"versions are {[v['HubContentVersion'] for v in versions] or 'none'}. List "
                f"them with list_hub_contents(hub_name, {hub_content_type!r}).",
                "DescribeHubContent",
            )
        return found[0]

    def list_hub_content_versions(
        self, hub_name: str, hub_content_name: str, hub_content_type: str, **kwargs: Any
    ) -> dict[str, Any]:
        """ListHubContentVersions from sageyard's hub, newest first (one page)."""
        versions = self._hub_contents(hub_content_type, hub_content_name, "ListHubContentVersions")
        return {"HubContentSummaries": [_summary(v) for v in versions]}

    def list_hub_contents(
        self, hub_name: str, hub_content_type: str, **kwargs: Any
    ) -> dict[str, Any]:
        """ListHubContents from sageyard's hub: the latest version of each ``DataSet`` or
        evaluator (``JsonDoc``) of the AI registry, or every ``Model`` of the catalog (one
        page)."""
        latest: dict[str, dict[str, Any]] = {}
        for content in self._hub_contents(hub_content_type, None, "ListHubContents"):
            latest.setdefault(content["HubContentName"], content)
        return {"HubContentSummaries": [_summary(v) for v in latest.values()]}

    def _hub_contents(
        self, content_type: str, name: str | None, operation: str
    ) -> list[dict[str, Any]]:
        """Described hub contents of ``content_type`` (of ``name`` only, if given), newest
        version first."""
        from sageyard.core.exceptions import ValidationException

        if content_type == _DATASET:
            from sageyard.store import open_store

            store = open_store(self.settings.store_url)
            records = store.list(_DATASET, parent=name) if name else store.list(_DATASET)
            return [
                _dataset_content(record, self.settings)
                for record in records
                if record.status != "Deleted"
            ]
        if content_type == _JSON_DOC:
            from sageyard.store import open_store

            store = open_store(self.settings.store_url)
            records = store.list("Evaluator", parent=name) if name else store.list("Evaluator")
            return [
                _evaluator_content(record, self.settings)
                for record in records
                if record.status != "Deleted"
            ]
        if content_type == _MODEL:
            from sageyard.models.catalog import CATALOG, catalog_model

            models = [catalog_model(name)] if name else list(CATALOG.values())
            return [_model_content(model, self.settings) for model in models if model]
        raise ValidationException(
            f"HubContentType {content_type!r} is not in sageyard's hub, which holds "
            f"{' and '.join(map(repr, _HUB_CONTENT_TYPES))} contents.",
            operation,
        )

    # -- serving: not in sageyard --------------------------------------------------------------

    def create_model(
        self,
        name: str,
        role: str | None = None,
        container_defs: Any = None,
        vpc_config: Any = None,
        enable_network_isolation: bool | None = None,
        primary_container: Any = None,
        tags: Any = None,
    ) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("create_model")

    def delete_model(self, model_name: str) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("delete_model")

    def create_model_package_from_algorithm(
        self, name: str, description: str, algorithm_arn: str, model_data: Any
    ) -> NoReturn:
        """Not in sageyard (a model package of a marketplace algorithm, for hosting): raises
        :class:`ServingNotSupportedError`. A job's model is registered with
        ``ModelTrainer(model_package_config=...)`` instead."""
        _refuse("create_model_package_from_algorithm")

    def create_endpoint_config(
        self,
        name: str,
        production_variants: Any,
        tags: Any = None,
        kms_key: str | None = None,
        data_capture_config_dict: dict[str, Any] | None = None,
        async_inference_config_dict: dict[str, Any] | None = None,
        explainer_config_dict: dict[str, Any] | None = None,
        vpc_config: Any = None,
        enable_network_isolation: bool | None = None,
        role: str | None = None,
    ) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("create_endpoint_config")

    def delete_endpoint_config(self, endpoint_config_name: str) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("delete_endpoint_config")

    def create_endpoint(
        self,
        endpoint_name: str,
        config_name: str,
        tags: Any = None,
        wait: bool = True,
        live_logging: bool = False,
    ) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("create_endpoint")

    def endpoint_from_production_variants(
        self,
        name: str,
        production_variants: Any,
        tags: Any = None,
        kms_key: str | None = None,
        wait: bool = True,
        data_capture_config_dict: dict[str, Any] | None = None,
        async_inference_config_dict: dict[str, Any] | None = None,
        explainer_config_dict: dict[str, Any] | None = None,
        live_logging: bool = False,
        vpc_config: Any = None,
        enable_network_isolation: bool | None = None,
        role: str | None = None,
    ) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("endpoint_from_production_variants")

    def update_endpoint(
        self, endpoint_name: str, endpoint_config_name: str, wait: bool = True
    ) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("update_endpoint")

    def wait_for_endpoint(
        self, endpoint: str, poll: int = 30, live_logging: bool = False
    ) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("wait_for_endpoint")

    def endpoint_in_service_or_not(self, endpoint_name: str) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("endpoint_in_service_or_not")

    def delete_endpoint(self, endpoint_name: str) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("delete_endpoint")

    def create_inference_component(
        self,
        inference_component_name: str,
        endpoint_name: str,
        variant_name: str,
        specification: dict[str, Any],
        runtime_config: dict[str, Any] | None = None,
        tags: Any = None,
        wait: bool = True,
    ) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("create_inference_component")

    def describe_inference_component(self, inference_component_name: str) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("describe_inference_component")

    def update_inference_component(
        self,
        inference_component_name: str,
        specification: dict[str, Any] | None = None,
        runtime_config: dict[str, Any] | None = None,
        wait: bool = True,
    ) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("update_inference_component")

    def wait_for_inference_component(
        self, inference_component_name: str, poll: int = 20
    ) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("wait_for_inference_component")

    def create_inference_recommendations_job(
        self,
        role: str,
        sample_payload_url: str,
        supported_content_types: list[str],
        job_name: str | None = None,
        job_type: str = "Default",
        model_name: str | None = None,
        model_package_version_arn: str | None = None,
        job_duration_in_seconds: int | None = None,
        nearest_model_name: str | None = None,
        supported_instance_types: list[str] | None = None,
        framework: str | None = None,
        framework_version: str | None = None,
        endpoint_configurations: list[dict[str, Any]] | None = None,
        traffic_pattern: dict[str, Any] | None = None,
        stopping_conditions: dict[str, Any] | None = None,
        resource_limit: dict[str, Any] | None = None,
    ) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("create_inference_recommendations_job")

    def wait_for_inference_recommendations_job(
        self, job_name: str, poll: int = 120, log_level: str = "Verbose"
    ) -> NoReturn:
        """Not in sageyard (serving): raises :class:`ServingNotSupportedError`."""
        _refuse("wait_for_inference_recommendations_job")

    def wait_for_optimization_job(self, job: Any, poll: int = 5) -> NoReturn:
        """Not in sageyard (model optimization for hosting): raises
        :class:`ServingNotSupportedError`."""
        _refuse("wait_for_optimization_job")


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


def _boto3_s3(kind: str, endpoint_url: str, region: str) -> Any:
    """boto3's S3 client or resource for a custom endpoint, path-style as the store's."""
    from boto3.session import Session as BotoSession
    from botocore.config import Config

    config = Config(s3={"addressing_style": "path"})
    factory = BotoSession().client if kind == "client" else BotoSession().resource
    return factory("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def _s3_client_of(s3: Any) -> Any:
    """The low-level client of a boto3 S3 resource (``s3.meta.client``), a client as is."""
    if s3 is None:
        return None
    client = getattr(getattr(s3, "meta", None), "client", None)
    return client if client is not None else s3


def _error(error: ClientError) -> tuple[str, str]:
    details = error.response.get("Error", {})
    return str(details.get("Code", "")), str(details.get("Message", ""))


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


_SUMMARY_KEYS = (
    "HubContentName",
    "HubContentArn",
    "HubContentVersion",
    "HubContentType",
    "DocumentSchemaVersion",
    "HubContentDisplayName",
    "HubContentDescription",
    "HubContentSearchKeywords",
    "HubContentStatus",
    "CreationTime",
    "LastModifiedTime",
)


def _summary(content: dict[str, Any]) -> dict[str, Any]:
    """A HubContentInfo (the list operations' item) of a described hub content."""
    return {key: content[key] for key in _SUMMARY_KEYS if key in content}


def _hub_content(
    settings: Settings,
    content_type: str,
    name: str,
    version: str,
    document: dict[str, Any],
    **fields: Any,
) -> dict[str, Any]:
    prefix = f"arn:aws:sagemaker:{settings.region}:{settings.account_id}"
    return {
        "HubContentName": name,
        "HubContentArn": f"{prefix}:hub-content/{HUB_NAME}/{content_type}/{name}/{version}",
        "HubContentVersion": version,
        "HubContentType": content_type,
        "DocumentSchemaVersion": "2.0.0",
        "HubName": HUB_NAME,
        "HubArn": f"{prefix}:hub/{HUB_NAME}",
        "HubContentDocument": json.dumps(document),
        "HubContentDependencies": [],
        "HubContentStatus": "Available",
        **fields,
    }


def _dataset_content(record: Any, settings: Settings) -> dict[str, Any]:
    """A DataSet of the AI registry (a job-store row of kind ``DataSet``) as hub content."""
    doc = record.document
    source = str(doc.get("source") or "")
    bucket, _, prefix = source.removeprefix("s3://").partition("/")
    document: dict[str, Any] = {
        "DatasetType": "CUSTOMER_PROVIDED",
        "DatasetS3Bucket": bucket,
        "DatasetS3Prefix": prefix,
        "Dependencies": [],
    }
    if doc.get("content_metadata"):
        document["ContentMetadata"] = doc["content_metadata"]
    keywords = [f"method:{doc.get('method') or 'generated'}"]
    if doc.get("customization_technique"):
        keywords.append(f"customization_technique:{doc['customization_technique']}")
    if doc.get("domain_id"):
        keywords.append(f"@domain:{doc['domain_id']}")
    name = record.parent or record.name.partition("/")[0]
    return _hub_content(
        settings,
        _DATASET,
        name,
        str(doc["version"]),
        document,
        HubContentArn=doc["arn"],
        HubContentDisplayName=name,
        HubContentDescription=doc.get("description") or "",
        HubContentSearchKeywords=keywords,
        HubContentStatus=record.status,
        CreationTime=_when(record.created_at),
        LastModifiedTime=_when(record.updated_at),
    )


def _evaluator_content(record: Any, settings: Settings) -> dict[str, Any]:
    """An Evaluator of the AI registry (a job-store row of kind ``Evaluator``) as the
    ``JsonDoc`` hub content the real SDK's ``Evaluator.get`` reads."""
    doc = record.document
    kind = str(doc["type"])
    content = {"Reference": doc["reference"], "EvaluatorType": kind}
    document = {"SubType": "AWS/Evaluator", "JsonContent": json.dumps(content)}
    keywords = [  # the real SDK's: what the evaluator is, and how its function runs
        "@subtype:aws/evaluator",
        f"@evaluatortype:{kind.lower()}",
        f"@contenttype:{'byolambda' if doc.get('method') == 'lambda' else 'byocode'}",
    ]
    if doc.get("method"):
        keywords.insert(0, f"method:{doc['method']}")
    if doc.get("domain_id"):
        keywords.append(f"@domain:{doc['domain_id']}")
    name = record.parent or record.name.partition("/")[0]
    return _hub_content(
        settings,
        _JSON_DOC,
        name,
        str(doc["version"]),
        document,
        HubContentArn=doc["arn"],
        HubContentDisplayName=name,
        HubContentDescription="",
        HubContentSearchKeywords=keywords,
        HubContentStatus=record.status,
        CreationTime=_when(record.created_at),
        LastModifiedTime=_when(record.updated_at),
    )


def _model_content(model: Any, settings: Settings) -> dict[str, Any]:
    """A model of the catalog (:mod:`sageyard.models.catalog`) as hub content."""
    document = {
        "ModelId": model.model_id,
        "Parameters": model.parameters,
        "License": model.licence,
        "LicenseUrl": model.licence_url,
        "Gated": model.gated,
        "CustomizationTechniques": list(model.techniques),
        "DefaultCustomizationTechnique": model.default_technique,
        "DefaultTrainingType": model.default_training_type,
    }
    keywords = [f"customization_technique:{t}" for t in model.techniques]
    epoch = datetime.fromtimestamp(0, UTC)
    return _hub_content(
        settings,
        _MODEL,
        model.model_id,
        "1.0.0",
        document,
        HubContentDisplayName=model.display_name,
        HubContentDescription=f"{model.display_name} ({model.parameters} parameters, "
        f"{model.licence})",
        HubContentSearchKeywords=keywords,
        CreationTime=epoch,
        LastModifiedTime=epoch,
    )
