"""The model registry: model package groups and their numbered versions, in the job store.

A fine-tuning job with a ``model_package_group`` registers its result when it completes:
its supervisor calls :func:`register_job_output`, so the version exists even when the caller
did not wait. Groups and packages are rows of the job store (kinds ``ModelPackageGroup`` and
``ModelPackage``; a package's parent is its group), readable from any process.

Example:
    >>> registry = ModelRegistry(Settings.from_env())  # doctest: +SKIP
    >>> [p.model_package_arn for p in registry.list_packages("my-llm-models")]  # doctest: +SKIP
    ['arn:aws:sagemaker:us-west-2:000000000000:model-package/my-llm-models/1']
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sageyard.core.exceptions import ConfigurationError, ResourceInUse, ResourceNotFound
from sageyard.core.settings import Settings, settings_of
from sageyard.store import JobRecord, JobStore, final_metrics, open_store

GROUP_KIND = "ModelPackageGroup"
PACKAGE_KIND = "ModelPackage"
_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_PACKAGE_ARN = re.compile(r"^arn:aws:sagemaker:[^:]*:[^:]*:model-package/([^/]+)/(\d+)$")
_GROUP_ARN = re.compile(r"^arn:aws:sagemaker:[^:]*:[^:]*:model-package-group/([^/]+)$")


@dataclass(frozen=True)
class ModelPackageGroup:
    """A named series of model versions."""

    model_package_group_name: str
    model_package_group_arn: str
    model_package_group_description: str | None = None
    creation_time: datetime | None = None

    @classmethod
    def get(
        cls, model_package_group_name: str, session: Any = None, region: Any = None
    ) -> ModelPackageGroup:
        """The group by name or ARN (ResourceNotFound, a ClientError, if there is none)."""
        return ModelRegistry(settings_of(session)).get_group(model_package_group_name)

    @classmethod
    def create(
        cls,
        model_package_group_name: str,
        model_package_group_description: str | None = None,
        tags: list[Any] | None = None,
        managed_configuration: Any = None,
        session: Any = None,
        region: Any = None,
    ) -> ModelPackageGroup:
        """CreateModelPackageGroup (ResourceInUse, a ClientError, if it exists already)."""
        registry = ModelRegistry(settings_of(session))
        if registry.store.get(model_package_group_name) is not None:
            raise ResourceInUse(
                f"Model package group {model_package_group_name!r} exists already; get it "
                "with ModelPackageGroup.get(...), or choose another name.",
                "CreateModelPackageGroup",
            )
        return registry.ensure_group(model_package_group_name, model_package_group_description)

    @classmethod
    def get_all(cls, session: Any = None, region: Any = None, **ignored: Any) -> list[Any]:
        """Every model package group, oldest first."""
        return ModelRegistry(settings_of(session)).list_groups()


@dataclass(frozen=True)
class ModelPackage:
    """One registered model version: where it came from and where its weights are."""

    model_package_group_name: str
    model_package_version: int
    model_package_arn: str
    model_package_status: str
    model_artifact_uri: str
    base_model: str
    customization_technique: str
    training_type: str
    training_job_name: str
    dataset_uris: dict[str, str] = field(default_factory=dict)
    final_metrics: dict[str, float] = field(default_factory=dict)
    creation_time: datetime | None = None

    @property
    def model_package_name(self) -> str:
        return f"{self.model_package_group_name}/{self.model_package_version}"

    @classmethod
    def get(
        cls,
        model_package_name: str,
        included_data: Any = None,
        session: Any = None,
        region: Any = None,
    ) -> ModelPackage:
        """A package by ``group/version``, its ARN, or a group name (its latest version)."""
        return ModelRegistry(settings_of(session)).get_package(model_package_name)

    @classmethod
    def get_all(
        cls,
        model_package_group_name: str | None = None,
        session: Any = None,
        region: Any = None,
        **ignored: Any,
    ) -> list[ModelPackage]:
        """Every registered version (of one group), oldest first."""
        return ModelRegistry(settings_of(session)).list_packages(model_package_group_name)


class ModelRegistry:
    """Groups and versions in the job store of ``settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: JobStore | None = None

    @property
    def store(self) -> JobStore:
        if self._store is None:
            self._store = open_store(self.settings.store_url)
        return self._store

    # -- groups ------------------------------------------------------------------------------

    def ensure_group(self, name: str, description: str | None = None) -> ModelPackageGroup:
        """The group called ``name``, created when missing."""
        check_group_name(name)
        record = self.store.get(name)
        if record is None:
            arn = f"arn:aws:sagemaker:{self.settings.region}:{self.settings.account_id}:"
            arn += f"model-package-group/{name}"
            document = {"arn": arn, "description": description}
            with contextlib.suppress(ResourceInUse):  # created meanwhile by another process
                group = JobRecord.registered(name, GROUP_KIND, None, document, "Completed")
                self.store.create(group)
            record = self.store.get(name)
        if record is None or record.kind != GROUP_KIND:
            raise ResourceInUse(
                f"The name {name!r} is taken by a {record.kind if record else 'row'} in the "
                "job store; choose another model_package_group name.",
                "CreateModelPackageGroup",
            )
        return _group(record)

    def get_group(self, name: str) -> ModelPackageGroup:
        match = _GROUP_ARN.match(name)
        record = self.store.get(match.group(1) if match else name)
        if record is None or record.kind != GROUP_KIND:
            raise ResourceNotFound(
                f"Model package group {name!r} does not exist. List them with "
                "`sageyard models packages`.",
                "DescribeModelPackageGroup",
            )
        return _group(record)

    def list_groups(self) -> list[ModelPackageGroup]:
        return [_group(r) for r in self.store.list(GROUP_KIND, newest_first=False)]

    # -- packages ----------------------------------------------------------------------------

    def register(self, group: str, details: dict[str, Any]) -> ModelPackage:
        """A new version of ``group`` (created when missing) holding ``details``.

        ``details`` has ``model_artifact_uri``, ``base_model``, ``customization_technique``,
        ``training_type``, ``training_job_name``, ``dataset_uris`` and ``final_metrics``.
        """
        self.ensure_group(group)
        for _ in range(100):
            version = len(self.store.list(PACKAGE_KIND, parent=group)) + 1
            arn = f"arn:aws:sagemaker:{self.settings.region}:{self.settings.account_id}:"
            arn += f"model-package/{group}/{version}"
            document = {**details, "version": version, "arn": arn}
            try:
                self.store.create(
                    JobRecord.registered(
                        f"{group}/{version}", PACKAGE_KIND, group, document, "Completed"
                    )
                )
            except ResourceInUse:
                continue  # another job took this version number first
            return self.get_package(f"{group}/{version}")
        raise ResourceInUse(f"Could not number a new version of {group!r}.", "CreateModelPackage")

    def get_package(self, reference: str) -> ModelPackage:
        """A package by ``group/version``, ARN, or group name (the group's latest version)."""
        match = _PACKAGE_ARN.match(reference)
        name = f"{match.group(1)}/{match.group(2)}" if match else reference
        record = self.store.get(name)
        if record is not None and record.kind == GROUP_KIND:
            versions = self.store.list(PACKAGE_KIND, parent=name, limit=1)
            record = versions[0] if versions else None
        if record is None or record.kind != PACKAGE_KIND:
            raise ResourceNotFound(
                f"Model package {reference!r} does not exist. Name one as '<group>/<version>' "
                "or by its ARN; list them with `sageyard models packages`.",
                "DescribeModelPackage",
            )
        return _package(record)

    def find_package(self, reference: str) -> ModelPackage | None:
        """Like :meth:`get_package`, but None when ``reference`` names no package."""
        try:
            return self.get_package(reference)
        except ResourceNotFound:
            return None

    def list_packages(self, group: str | None = None) -> list[ModelPackage]:
        records = self.store.list(PACKAGE_KIND, parent=group, newest_first=False)
        return [_package(r) for r in records]


class ModelPackageRegistration(BaseModel):
    """What a fine-tuning job registers when it completes: a new version of ``group``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str
    base_model: str
    customization_technique: str
    training_type: str
    dataset_uris: dict[str, str] = Field(default_factory=dict)


def register_job_output(
    settings: Settings, job_name: str, registration: ModelPackageRegistration, artifact_uri: str
) -> ModelPackage:
    """Register a completed fine-tuning job's model in the group its spec names."""
    registry = ModelRegistry(settings)
    final = {m["MetricName"]: m["Value"] for m in final_metrics(registry.store.metrics(job_name))}
    return registry.register(
        registration.group,
        {
            "model_artifact_uri": artifact_uri,
            "base_model": registration.base_model,
            "customization_technique": registration.customization_technique,
            "training_type": registration.training_type,
            "training_job_name": job_name,
            "dataset_uris": dict(registration.dataset_uris),
            "final_metrics": final,
        },
    )


def check_group_name(name: str) -> None:
    if not _GROUP_NAME.match(name):
        raise ConfigurationError(
            f"model_package_group {name!r} is not a valid name: use 1-63 letters, digits and "
            "hyphens, starting with a letter or digit (e.g. 'my-llm-models')."
        )


def _group(record: JobRecord) -> ModelPackageGroup:
    return ModelPackageGroup(
        model_package_group_name=record.name,
        model_package_group_arn=record.document["arn"],
        model_package_group_description=record.document.get("description"),
        creation_time=datetime.fromtimestamp(record.created_at, UTC),
    )


def _package(record: JobRecord) -> ModelPackage:
    doc = record.document
    return ModelPackage(
        model_package_group_name=record.parent or "",
        model_package_version=int(doc["version"]),
        model_package_arn=doc["arn"],
        model_package_status=record.status,
        model_artifact_uri=doc["model_artifact_uri"],
        base_model=doc["base_model"],
        customization_technique=doc["customization_technique"],
        training_type=doc["training_type"],
        training_job_name=doc["training_job_name"],
        dataset_uris=dict(doc.get("dataset_uris", {})),
        final_metrics=dict(doc.get("final_metrics", {})),
        creation_time=datetime.fromtimestamp(record.created_at, UTC),
    )
