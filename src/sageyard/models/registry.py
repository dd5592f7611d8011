"""The model registry: model package groups and their numbered versions, in the job store.

A fine-tuning job with a ``model_package_group`` registers its result when it completes:
its supervisor calls :func:`register_job_output`, so the version exists even when the caller
did not wait. A version can also be registered by hand, as on SageMaker, with
:meth:`ModelPackage.create` (an inference specification or a source URI in a group). Groups
and packages are rows of the job store (kinds ``ModelPackageGroup`` and ``ModelPackage``; a
package's parent is its group), readable from any process.

:class:`ModelPackageGroup` and :class:`ModelPackage` have the real SDK resources' fields
(``sagemaker.core.resources``), ``None`` where sageyard has no value, and their methods:
``create``, ``get``, ``get_all``, ``refresh``, ``update`` (packages), ``delete``,
``wait_for_status``, ``wait_for_delete``; a group's resource policy is kept with the group
(``put_policy``/``get_policy``/``delete_policy``), though a self-hosted registry, which has
no IAM, does not enforce it.

Example:
    >>> registry = ModelRegistry(Settings.from_env())  # doctest: +SKIP
    >>> [p.model_package_arn for p in registry.list_packages("my-llm-models")]  # doctest: +SKIP
    ['arn:aws:sagemaker:us-west-2:000000000000:model-package/my-llm-models/1']
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sageyard.core._resource_args import (
    TimeWindow,
    api_arguments,
    api_mapping,
    api_request,
    one_of,
    ordered,
    user_context,
    wait_for_delete,
    wait_for_status,
    when,
)
from sageyard.core.exceptions import ConfigurationError, ResourceInUse, ResourceNotFound
from sageyard.core.settings import Settings, settings_of
from sageyard.core.shapes import pascal_case, string_map
from sageyard.core.shapes._described import described
from sageyard.store import JobRecord, JobStore, final_metrics, open_store

logger = logging.getLogger(__name__)

GROUP_KIND = "ModelPackageGroup"
PACKAGE_KIND = "ModelPackage"
_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_PACKAGE_ARN = re.compile(r"^arn:aws:sagemaker:[^:]*:[^:]*:model-package/([^/]+)/(\d+)$")
_GROUP_ARN = re.compile(r"^arn:aws:sagemaker:[^:]*:[^:]*:model-package-group/([^/]+)$")

#: The API's values of the registry's enumerations.
PACKAGE_STATUSES = ("Pending", "InProgress", "Completed", "Failed", "Deleting")
GROUP_STATUSES = (*PACKAGE_STATUSES, "DeleteFailed")
APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")
REGISTRATION_TYPES = ("Logged", "Registered")
PACKAGE_TYPES = ("Versioned", "Unversioned", "Both")
CROSS_ACCOUNT_OPTIONS = ("SameAccount", "CrossAccount")
#: A version's approval status when it was registered without one (as SageMaker does).
DEFAULT_APPROVAL = "PendingManualApproval"
_MAX_ADDITIONAL_SPECIFICATIONS = 15

#: DescribeModelPackage fields that ``ModelPackage.create`` stores as given (PascalCase
#: keys of the package's document; the store's own keys are snake_case).
_CREATE_FIELDS = (
    "ModelPackageDescription",
    "ModelPackageRegistrationType",
    "InferenceSpecification",
    "ValidationSpecification",
    "SourceAlgorithmSpecification",
    "ModelApprovalStatus",
    "MetadataProperties",
    "ModelMetrics",
    "Domain",
    "Task",
    "SamplePayloadUrl",
    "CustomerMetadataProperties",
    "DriftCheckBaselines",
    "AdditionalInferenceSpecifications",
    "SkipModelValidation",
    "SourceUri",
    "SecurityConfig",
    "ModelCard",
    "ModelLifeCycle",
    "ManagedStorageType",
)


#: ``ModelPackage.create`` arguments that are no DescribeModelPackage field of their own.
_NOT_STORED = frozenset(
    {
        "cls",
        "session",
        "region",
        "model_package_name",
        "model_package_group_name",
        "certify_for_marketplace",
        "client_token",
        "tags",
    }
)


def _bind(resource: Any, settings: Settings) -> Any:
    """Keep the settings a resource was read with (not a dataclass field: ``asdict`` and
    ``==`` see the API's fields only)."""
    resource.__dict__["_settings"] = settings
    return resource


def _settings(resource: Any) -> Settings:
    found = resource.__dict__.get("_settings")
    return found if isinstance(found, Settings) else Settings.from_env()


@dataclass
class ModelPackageGroup:
    """A named series of model versions (DescribeModelPackageGroup's fields)."""

    model_package_group_name: str
    model_package_group_arn: str | None = None
    model_package_group_description: str | None = None
    creation_time: datetime | None = None
    created_by: Any = None
    model_package_group_status: str | None = None
    managed_configuration: Any = None

    def get_name(self) -> str:
        return self.model_package_group_name

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
        """CreateModelPackageGroup (ResourceInUse, a ClientError, if it exists already).

        ``managed_configuration`` is ``{"managed_storage_type": "Restricted"}`` or None.
        """
        return ModelRegistry(settings_of(session)).create_group(
            model_package_group_name,
            model_package_group_description,
            tags=tags,
            managed_configuration=managed_configuration,
        )

    @classmethod
    def get_all(
        cls,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        name_contains: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        cross_account_filter_option: str | None = None,
        session: Any = None,
        region: Any = None,
    ) -> list[ModelPackageGroup]:
        """The groups that match every filter, as ListModelPackageGroups has them.

        Times are strict (a naive datetime is UTC); ``sort_by`` is ``CreationTime`` (the
        default) or ``Name``, ``sort_order`` ``Ascending`` (the default) or ``Descending``.
        ``cross_account_filter_option="CrossAccount"`` lists the groups other accounts
        share with this one: a self-hosted registry has one account, so none.

        Raises:
            ValueError: A filter has a value the real API refuses (ConfigurationError).
        """
        created = TimeWindow(creation_time_after, creation_time_before, "creation_time")
        option = one_of(
            cross_account_filter_option, CROSS_ACCOUNT_OPTIONS, "cross_account_filter_option"
        )
        registry = ModelRegistry(settings_of(session))
        records = [
            r
            for r in registry.store.list(GROUP_KIND, name_contains=name_contains)
            if r.created_at in created and option != "CrossAccount"
        ]
        keys = {"CreationTime": lambda r: (r.created_at, r.name), "Name": lambda r: r.name}
        records = ordered(records, sort_by, sort_order, keys, "CreationTime", "Ascending")
        return [registry.group_of(r) for r in records]

    def refresh(self) -> ModelPackageGroup:
        """Read the group again (ResourceNotFound once it is deleted)."""
        fresh = ModelRegistry(_settings(self)).get_group(self.model_package_group_name)
        for item in dataclasses.fields(self):
            setattr(self, item.name, getattr(fresh, item.name))
        return self

    def delete(self) -> None:
        """DeleteModelPackageGroup.

        Raises:
            botocore.exceptions.ClientError: ResourceInUse while the group still has model
                packages (delete them first, as on SageMaker); ResourceNotFound.
        """
        ModelRegistry(_settings(self)).delete_group(self.model_package_group_name)

    def wait_for_status(
        self, target_status: str, poll: float = 5, timeout: float | None = None
    ) -> None:
        """Block until the group has ``target_status`` (sageyard's groups are Completed
        from their creation on).

        Raises:
            ValueError: ``target_status`` is no group status, or one the group never
                reaches without a timeout (ConfigurationError).
            TimeoutExceededError: ``timeout`` seconds passed first.
        """
        wait_for_status(
            "ModelPackageGroup",
            target_status,
            GROUP_STATUSES,
            lambda: self.refresh().model_package_group_status,
            poll,
            timeout,
        )

    def wait_for_delete(self, poll: float = 5, timeout: float | None = None) -> None:
        """Block until the group is gone (``delete()`` removes it at once)."""
        wait_for_delete(
            "ModelPackageGroup", lambda: self.refresh().model_package_group_status, poll, timeout
        )

    def get_policy(self, session: Any = None, region: Any = None) -> str:
        """GetModelPackageGroupPolicy: the resource policy put on the group.

        Raises:
            botocore.exceptions.ClientError: ResourceNotFound when it has none.
        """
        return ModelRegistry(_settings(self)).get_policy(self.model_package_group_name)

    def put_policy(self, resource_policy: str, session: Any = None, region: Any = None) -> None:
        """PutModelPackageGroupPolicy: keep ``resource_policy`` (an IAM policy document, as
        JSON text) with the group. A self-hosted registry has no IAM: the policy is kept
        and shown, not enforced."""
        ModelRegistry(_settings(self)).put_policy(self.model_package_group_name, resource_policy)

    def delete_policy(self, session: Any = None, region: Any = None) -> None:
        """DeleteModelPackageGroupPolicy (ResourceNotFound when the group has none)."""
        ModelRegistry(_settings(self)).delete_policy(self.model_package_group_name)


@dataclass
class ModelPackage:
    """One registered model version: the real resource's fields, then sageyard's own.

    sageyard's own fields say what a fine-tuning job registered: ``model_artifact_uri``
    (where the weights are; for a package registered by hand, its inference
    specification's model data or its ``source_uri``), ``base_model`` (the model it was
    tuned from), ``customization_technique``, ``training_type``, ``training_job_name``,
    ``dataset_uris`` and ``final_metrics``.
    """

    model_package_name: str | None = None
    model_package_group_name: str | None = None
    model_package_version: int | None = None
    model_package_registration_type: str | None = None
    model_package_arn: str | None = None
    model_package_description: str | None = None
    creation_time: datetime | None = None
    inference_specification: Any = None
    source_algorithm_specification: Any = None
    validation_specification: Any = None
    model_package_status: str | None = None
    model_package_status_details: Any = None
    certify_for_marketplace: bool | None = None
    model_approval_status: str | None = None
    created_by: Any = None
    metadata_properties: Any = None
    model_metrics: Any = None
    last_modified_time: datetime | None = None
    last_modified_by: Any = None
    approval_description: str | None = None
    domain: str | None = None
    task: str | None = None
    sample_payload_url: str | None = None
    customer_metadata_properties: dict[str, str] | None = None
    drift_check_baselines: Any = None
    additional_inference_specifications: Any = None
    skip_model_validation: str | None = None
    source_uri: str | None = None
    security_config: Any = None
    model_card: Any = None
    model_life_cycle: Any = None
    managed_storage_type: str | None = None
    # -- sageyard's own ----------------------------------------------------------------------
    model_artifact_uri: str = ""
    base_model: str = ""
    customization_technique: str | None = None
    training_type: str | None = None
    training_job_name: str | None = None
    dataset_uris: dict[str, str] = field(default_factory=dict)
    final_metrics: dict[str, float] = field(default_factory=dict)

    def get_name(self) -> str | None:
        return self.model_package_name

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
    def create(
        cls,
        model_package_name: str | None = None,
        model_package_group_name: Any = None,
        model_package_description: str | None = None,
        model_package_registration_type: str | None = None,
        inference_specification: Any = None,
        validation_specification: Any = None,
        source_algorithm_specification: Any = None,
        certify_for_marketplace: bool | None = None,
        tags: list[Any] | None = None,
        model_approval_status: str | None = None,
        metadata_properties: Any = None,
        model_metrics: Any = None,
        client_token: str | None = None,
        domain: str | None = None,
        task: str | None = None,
        sample_payload_url: str | None = None,
        customer_metadata_properties: Mapping[str, str] | None = None,
        drift_check_baselines: Any = None,
        additional_inference_specifications: list[Any] | None = None,
        skip_model_validation: str | None = None,
        source_uri: str | None = None,
        security_config: Any = None,
        model_card: Any = None,
        model_life_cycle: Any = None,
        managed_storage_type: str | None = None,
        session: Any = None,
        region: Any = None,
    ) -> ModelPackage:
        """CreateModelPackage: register a new version in ``model_package_group_name``.

        The group (a name, an ARN or a :class:`ModelPackageGroup`) must exist; the version
        needs an ``inference_specification`` (its containers and model data), a
        ``source_uri`` or a ``source_algorithm_specification``. Shapes may be given as dicts
        of their fields in snake_case. Everything is checked before the version is written;
        the same ``client_token`` twice in one group gives the first version back.

        Example:
            >>> package = ModelPackage.create(  # doctest: +SKIP
            ...     model_package_group_name="my-models",
            ...     inference_specification={"containers": [
            ...         {"image": image_uri, "model_data_url": "s3://b/model.tar.gz"}]},
            ...     customer_metadata_properties={"team": "search"},
            ... )
            >>> package.model_package_version, package.model_approval_status  # doctest: +SKIP
            (1, 'PendingManualApproval')

        Raises:
            ValueError: An argument breaks a rule (ConfigurationError; nothing is written).
            botocore.exceptions.ClientError: ResourceNotFound for a group that does not
                exist.
        """
        if isinstance(model_package_group_name, ModelPackageGroup):
            model_package_group_name = model_package_group_name.model_package_group_name
        if model_package_name is not None:
            raise ConfigurationError(
                f"model_package_name={model_package_name!r} names an unversioned model "
                "package, but sageyard's registry holds versions of model package groups "
                "only: pass model_package_group_name=... instead (create the group with "
                "ModelPackageGroup.create(...))."
            )
        if certify_for_marketplace:
            raise ConfigurationError(
                "certify_for_marketplace does not apply to versioned model packages (nor to "
                "a self-hosted registry); leave it out."
            )
        if not isinstance(model_package_group_name, str) or not model_package_group_name:
            raise ConfigurationError(
                "ModelPackage.create needs model_package_group_name: the name or ARN of the "
                f"group the new version belongs to, but got {model_package_group_name!r}."
            )
        if (inference_specification, source_uri, source_algorithm_specification) == (None,) * 3:
            raise ConfigurationError(
                "A model package needs what to deploy: pass inference_specification (its "
                "containers and model data, e.g. {'containers': [{'image': image_uri, "
                "'model_data_url': 's3://.../model.tar.gz'}]}), source_uri, or "
                "source_algorithm_specification."
            )
        arguments = {k: v for k, v in locals().items() if k not in _NOT_STORED}
        fields = _package_fields(api_arguments(arguments))
        return ModelRegistry(settings_of(session)).create_package(
            model_package_group_name, fields, client_token=client_token, tags=tags
        )

    @classmethod
    def get_all(
        cls,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        name_contains: str | None = None,
        model_approval_status: str | None = None,
        model_package_group_name: str | None = None,
        model_package_type: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        session: Any = None,
        region: Any = None,
    ) -> list[ModelPackage]:
        """The packages that match every filter, as ListModelPackages has them.

        As on SageMaker, without ``model_package_group_name`` only unversioned packages are
        listed unless ``model_package_type`` is ``"Versioned"`` or ``"Both"``; sageyard's
        registry holds versions only, so ask for those (or name the group). Times are
        strict (a naive datetime is UTC); ``name_contains`` matches ``group/version``;
        ``sort_by`` is ``CreationTime`` (the default) or ``Name``, ``sort_order``
        ``Ascending`` (the default) or ``Descending``.

        Raises:
            ValueError: A filter has a value the real API refuses (ConfigurationError).
        """
        created = TimeWindow(creation_time_after, creation_time_before, "creation_time")
        one_of(model_approval_status, APPROVAL_STATUSES, "model_approval_status")
        kind = one_of(model_package_type, PACKAGE_TYPES, "model_package_type")
        registry = ModelRegistry(settings_of(session))
        if kind is None:
            kind = "Versioned" if model_package_group_name else "Unversioned"
        if kind == "Unversioned":
            return []
        group = None
        if model_package_group_name is not None:
            match = _GROUP_ARN.match(model_package_group_name)
            group = match.group(1) if match else model_package_group_name
        records = [
            r
            for r in registry.store.list(PACKAGE_KIND, parent=group, name_contains=name_contains)
            if r.created_at in created and model_approval_status in (None, _approval(r))
        ]
        keys = {"CreationTime": lambda r: (r.created_at, r.name), "Name": lambda r: r.name}
        records = ordered(records, sort_by, sort_order, keys, "CreationTime", "Ascending")
        return [registry.package_of(r) for r in records]

    @classmethod
    def batch_get(
        cls, model_package_arn_list: list[str], session: Any = None, region: Any = None
    ) -> Any:
        """BatchDescribeModelPackage: a summary of each package found (by ARN), and an error
        for each that is not; both maps are keyed by the ARN asked for.

        Raises:
            ValueError: The list is empty or longer than 100 (ConfigurationError).
        """
        arns = model_package_arn_list
        if not isinstance(arns, list) or not 1 <= len(arns) <= 100:
            raise ConfigurationError(
                "model_package_arn_list must be a list of 1 to 100 model package ARNs, but "
                f"got {model_package_arn_list!r}."
            )
        registry = ModelRegistry(settings_of(session))
        summaries: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for arn in model_package_arn_list:
            try:
                found = registry.describe_package(registry.package_record(arn, exact=True))
            except ResourceNotFound as error:
                errors[arn] = {"ErrorCode": "ResourceNotFound", "ErrorResponse": error.message}
                continue
            keys = (
                "ModelPackageGroupName",
                "ModelPackageVersion",
                "ModelPackageArn",
                "ModelPackageDescription",
                "CreationTime",
                "InferenceSpecification",
                "ModelPackageStatus",
                "ModelApprovalStatus",
                "ModelPackageRegistrationType",
            )
            summaries[arn] = {k: found[k] for k in keys if k in found}
        return described(
            {
                "ModelPackageSummaries": {k: described(v) for k, v in summaries.items()},
                "BatchDescribeModelPackageErrorMap": {k: described(v) for k, v in errors.items()},
            }
        )

    def refresh(self, included_data: Any = None) -> ModelPackage:
        """Read the package again (ResourceNotFound once it is deleted)."""
        fresh = ModelRegistry(_settings(self)).get_package(self._reference())
        for item in dataclasses.fields(self):
            setattr(self, item.name, getattr(fresh, item.name))
        return self

    def update(
        self,
        model_approval_status: str | None = None,
        model_package_registration_type: str | None = None,
        approval_description: str | None = None,
        customer_metadata_properties: Mapping[str, str] | None = None,
        customer_metadata_properties_to_remove: list[str] | None = None,
        additional_inference_specifications_to_add: list[Any] | None = None,
        inference_specification: Any = None,
        source_uri: str | None = None,
        model_card: Any = None,
        model_life_cycle: Any = None,
        client_token: str | None = None,
    ) -> ModelPackage:
        """UpdateModelPackage, kept in the store; then the package as it is now.

        ``customer_metadata_properties`` are merged into the package's, and
        ``customer_metadata_properties_to_remove`` names keys to drop; the additional
        inference specifications are appended (15 at most in all); the other fields
        replace what the package had. ``last_modified_time`` and ``last_modified_by`` are
        set. Everything is checked before anything is written.

        Raises:
            ValueError: An argument breaks a rule (ConfigurationError; nothing is written).
            botocore.exceptions.ClientError: ResourceNotFound once the package is deleted.
        """
        arguments = {k: v for k, v in locals().items() if k not in ("self", "client_token")}
        ModelRegistry(_settings(self)).update_package(self._reference(), api_arguments(arguments))
        return self.refresh()

    def delete(self) -> None:
        """DeleteModelPackage: remove this version (its number is not given out again).

        Raises:
            botocore.exceptions.ClientError: ResourceNotFound when it does not exist.
        """
        ModelRegistry(_settings(self)).delete_package(self._reference())

    def wait_for_status(
        self, target_status: str, poll: float = 5, timeout: float | None = None
    ) -> None:
        """Block until the package has ``target_status`` (sageyard's packages are Completed
        from their registration on).

        Raises:
            ValueError: ``target_status`` is no package status, or one the package never
                reaches without a timeout (ConfigurationError).
            TimeoutExceededError: ``timeout`` seconds passed first.
        """
        wait_for_status(
            "ModelPackage",
            target_status,
            PACKAGE_STATUSES,
            lambda: self.refresh().model_package_status,
            poll,
            timeout,
        )

    def wait_for_delete(self, poll: float = 5, timeout: float | None = None) -> None:
        """Block until the package is gone (``delete()`` removes it at once)."""
        wait_for_delete("ModelPackage", lambda: self.refresh().model_package_status, poll, timeout)

    def _reference(self) -> str:
        reference = self.model_package_arn or self.model_package_name
        if not reference:
            raise ConfigurationError(
                "This ModelPackage names no package: construct it with model_package_name="
                "'<group>/<version>' (or model_package_arn=...), or get one with "
                "ModelPackage.get(...)."
            )
        return reference


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

    def _arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.settings.region}:{self.settings.account_id}:{kind}/{name}"

    # -- groups ------------------------------------------------------------------------------

    def ensure_group(
        self,
        name: str,
        description: str | None = None,
        *,
        tags: list[Any] | None = None,
        managed_configuration: Any = None,
    ) -> ModelPackageGroup:
        """The group called ``name``, created when missing."""
        check_group_name(name)
        document = {
            "arn": self._arn("model-package-group", name),
            "description": description,
            "created_by": user_context(),
            "tags": _tags(tags),
            "managed_configuration": _managed_configuration(managed_configuration),
        }
        record = self.store.get(name)
        if record is None:
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
        return self.group_of(record)

    def create_group(
        self,
        name: str,
        description: str | None = None,
        *,
        tags: list[Any] | None = None,
        managed_configuration: Any = None,
    ) -> ModelPackageGroup:
        """CreateModelPackageGroup: a new group (ResourceInUse if the name is taken)."""
        check_group_name(name)
        if self.store.get(name) is not None:
            raise ResourceInUse(
                f"Model package group {name!r} exists already; get it with "
                "ModelPackageGroup.get(...), or choose another name.",
                "CreateModelPackageGroup",
            )
        return self.ensure_group(
            name, description, tags=tags, managed_configuration=managed_configuration
        )

    def group_record(self, name: str, operation: str = "DescribeModelPackageGroup") -> JobRecord:
        match = _GROUP_ARN.match(name)
        record = self.store.get(match.group(1) if match else name)
        if record is None or record.kind != GROUP_KIND:
            raise ResourceNotFound(
                f"Model package group {name!r} does not exist. Create it with "
                "ModelPackageGroup.create(...); list them with ModelPackageGroup.get_all().",
                operation,
            )
        return record

    def get_group(self, name: str) -> ModelPackageGroup:
        return self.group_of(self.group_record(name))

    def list_groups(self) -> list[ModelPackageGroup]:
        return [self.group_of(r) for r in self.store.list(GROUP_KIND, newest_first=False)]

    def delete_group(self, name: str) -> None:
        """DeleteModelPackageGroup: only an empty group can go (as on SageMaker)."""
        record = self.group_record(name, "DeleteModelPackageGroup")
        versions = self.store.list(PACKAGE_KIND, parent=record.name, newest_first=False)
        if versions:
            shown = ", ".join(v.name for v in versions[:3]) + (", ..." if len(versions) > 3 else "")
            raise ResourceInUse(
                f"Model package group {record.name!r} still has {len(versions)} model "
                f"package(s) ({shown}); delete them first (ModelPackage.get(name).delete()), "
                "then the group.",
                "DeleteModelPackageGroup",
            )
        self.store.delete(record.name)
        logger.info("Deleted model package group %s", record.name)

    def get_policy(self, name: str) -> str:
        record = self.group_record(name, "GetModelPackageGroupPolicy")
        policy = record.document.get("policy")
        if policy is None:
            raise ResourceNotFound(
                f"Model package group {record.name!r} has no resource policy; put one with "
                "group.put_policy(...).",
                "GetModelPackageGroupPolicy",
            )
        return str(policy)

    def put_policy(self, name: str, policy: str) -> None:
        if not isinstance(policy, str) or not policy.strip():
            raise ConfigurationError(
                f"resource_policy must be a policy document as JSON text, but got {policy!r}."
            )
        try:
            parsed = json.loads(policy)
        except json.JSONDecodeError as error:
            raise ConfigurationError(
                f"resource_policy is not JSON ({error}); pass the policy document as JSON "
                "text, e.g. json.dumps({'Version': '2012-10-17', 'Statement': [...]})."
            ) from None
        if not isinstance(parsed, dict):
            raise ConfigurationError(
                f"resource_policy must be a JSON object (a policy document), but got {policy!r}."
            )
        record = self.group_record(name, "PutModelPackageGroupPolicy")
        self.store.update(record.name, document_patch={"policy": policy})

    def delete_policy(self, name: str) -> None:
        self.get_policy(name)  # ResourceNotFound when there is none
        self.store.update(self.group_record(name).name, document_patch={"policy": None})

    def group_of(self, record: JobRecord) -> ModelPackageGroup:
        doc = record.document
        group = ModelPackageGroup(
            model_package_group_name=record.name,
            model_package_group_arn=doc["arn"],
            model_package_group_description=doc.get("description"),
            creation_time=when(record.created_at),
            created_by=described(doc.get("created_by")),
            model_package_group_status=record.status,
            managed_configuration=described(doc.get("managed_configuration")),
        )
        return _bind(group, self.settings)

    # -- packages ----------------------------------------------------------------------------

    def register(self, group: str, details: dict[str, Any]) -> ModelPackage:
        """A new version of ``group`` (created when missing) holding ``details``.

        ``details`` has ``model_artifact_uri``, ``base_model``, ``customization_technique``,
        ``training_type``, ``training_job_name``, ``dataset_uris`` and ``final_metrics``.
        """
        self.ensure_group(group)
        return self._add_version(group, {**details, "created_by": user_context()})

    def create_package(
        self,
        group: str,
        fields: dict[str, Any],
        *,
        client_token: str | None = None,
        tags: list[Any] | None = None,
    ) -> ModelPackage:
        """CreateModelPackage of a version in an existing group; ``fields`` are checked
        DescribeModelPackage fields (PascalCase)."""
        checked_tags = _tags(tags)
        record = self.group_record(group, "CreateModelPackage")
        if client_token is not None:
            for version in self.store.list(PACKAGE_KIND, parent=record.name):
                if version.document.get("client_token") == client_token:
                    return self.package_of(version)
        document = {
            **fields,
            "created_by": user_context(),
            "client_token": client_token,
            "tags": checked_tags,
        }
        return self._add_version(record.name, document)

    def _add_version(self, group: str, document: dict[str, Any]) -> ModelPackage:
        for _ in range(100):
            version = self._next_version(group)
            arn = self._arn("model-package", f"{group}/{version}")
            try:
                self.store.create(
                    JobRecord.registered(
                        f"{group}/{version}",
                        PACKAGE_KIND,
                        group,
                        {**document, "version": version, "arn": arn},
                        "Completed",
                    )
                )
            except ResourceInUse:
                continue  # another process took this version number first
            return self.get_package(f"{group}/{version}")
        raise ResourceInUse(f"Could not number a new version of {group!r}.", "CreateModelPackage")

    def _next_version(self, group: str) -> int:
        """One more than any version the group has had (deleted ones included)."""
        record = self.store.get(group)
        highest = int(record.document.get("last_version", 0)) if record else 0
        for version in self.store.list(PACKAGE_KIND, parent=group):
            highest = max(highest, int(version.document.get("version", 0)))
        return highest + 1

    def package_record(self, reference: str, *, exact: bool = False) -> JobRecord:
        """A package's row by ``group/version``, ARN, or (unless ``exact``) group name."""
        match = _PACKAGE_ARN.match(reference)
        name = f"{match.group(1)}/{match.group(2)}" if match else reference
        record = self.store.get(name)
        if record is not None and record.kind == GROUP_KIND and not exact:
            versions = self.store.list(PACKAGE_KIND, parent=name, limit=1)
            record = versions[0] if versions else None
        if record is None or record.kind != PACKAGE_KIND:
            raise ResourceNotFound(
                f"Model package {reference!r} does not exist. Name one as '<group>/<version>' "
                "or by its ARN; list them with `sageyard models packages`.",
                "DescribeModelPackage",
            )
        return record

    def get_package(self, reference: str) -> ModelPackage:
        """A package by ``group/version``, ARN, or group name (the group's latest version)."""
        return self.package_of(self.package_record(reference))

    def find_package(self, reference: str) -> ModelPackage | None:
        """Like :meth:`get_package`, but None when ``reference`` names no package."""
        try:
            return self.get_package(reference)
        except ResourceNotFound:
            return None

    def list_packages(self, group: str | None = None) -> list[ModelPackage]:
        records = self.store.list(PACKAGE_KIND, parent=group, newest_first=False)
        return [self.package_of(r) for r in records]

    def update_package(self, reference: str, changes: dict[str, Any]) -> None:
        """UpdateModelPackage: ``changes`` are UpdateModelPackage's members (PascalCase)."""
        record = self.package_record(reference, exact=True)
        doc = record.document
        patch = _package_fields(
            {
                k: v
                for k, v in changes.items()
                if k
                not in (
                    "CustomerMetadataPropertiesToRemove",
                    "AdditionalInferenceSpecificationsToAdd",
                )
            }
        )
        remove = changes.get("CustomerMetadataPropertiesToRemove")
        if "CustomerMetadataProperties" in patch or remove is not None:
            if remove is not None and (
                not isinstance(remove, list) or not all(isinstance(k, str) for k in remove)
            ):
                raise ConfigurationError(
                    "customer_metadata_properties_to_remove must be a list of keys, but got "
                    f"{remove!r}."
                )
            merged = {
                **(doc.get("CustomerMetadataProperties") or {}),
                **patch.get("CustomerMetadataProperties", {}),
            }
            patch["CustomerMetadataProperties"] = {
                k: v for k, v in merged.items() if k not in (remove or [])
            }
        added = changes.get("AdditionalInferenceSpecificationsToAdd")
        if added is not None:
            existing = list(doc.get("AdditionalInferenceSpecifications") or [])
            patch["AdditionalInferenceSpecifications"] = existing + _additional(added)
            _check_additional(patch["AdditionalInferenceSpecifications"])
        patch.update({"last_modified_at": time.time(), "last_modified_by": user_context()})
        self.store.update(record.name, document_patch=patch)

    def delete_package(self, reference: str) -> None:
        """DeleteModelPackage; the group remembers the number, so it is not reused."""
        record = self.package_record(reference, exact=True)
        version = int(record.document.get("version", 0))
        group = self.store.get(record.parent) if record.parent else None
        if group is not None:
            last = max(int(group.document.get("last_version", 0)), version)
            self.store.update(group.name, document_patch={"last_version": last})
        self.store.delete(record.name)
        logger.info("Deleted model package %s", record.name)

    def describe_package(self, record: JobRecord) -> dict[str, Any]:
        """A DescribeModelPackage-shaped dict of a package's row."""
        doc = record.document
        description: dict[str, Any] = {
            "ModelPackageName": record.name,
            "ModelPackageGroupName": record.parent,
            "ModelPackageVersion": int(doc["version"]),
            "ModelPackageArn": doc["arn"],
            "CreationTime": when(record.created_at),
            "ModelPackageStatus": record.status,
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
            "ModelApprovalStatus": DEFAULT_APPROVAL,
        }
        if doc.get("training_job_name"):  # registered by a fine-tuning job
            description.update(self._from_training(doc))
        description.update({k: v for k, v in doc.items() if k[:1].isupper() and v is not None})
        if doc.get("created_by") is not None:
            description["CreatedBy"] = doc["created_by"]
        if doc.get("last_modified_at") is not None:
            description["LastModifiedTime"] = when(doc["last_modified_at"])
            description["LastModifiedBy"] = doc.get("last_modified_by")
        return description

    def _from_training(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """What the real fields say of a version a fine-tuning job registered."""
        uri = str(doc.get("model_artifact_uri") or "")
        container: dict[str, Any] = {}
        if uri.endswith(".tar.gz"):
            container["ModelDataUrl"] = uri
        elif uri:
            container["ModelDataSource"] = {
                "S3DataSource": {"S3Uri": uri, "S3DataType": "S3Prefix", "CompressionType": "None"}
            }
        if doc.get("base_model"):
            container["BaseModel"] = {"HubContentName": doc["base_model"]}
        job = self._arn("training-job", str(doc["training_job_name"]))
        return {
            "InferenceSpecification": {"Containers": [container]},
            "MetadataProperties": {"GeneratedBy": job},
        }

    def package_of(self, record: JobRecord) -> ModelPackage:
        description = self.describe_package(record)
        doc = record.document
        real = {
            item.name: described(description.get(pascal_case(item.name)))
            for item in dataclasses.fields(ModelPackage)
            if item.name not in SAGEYARD_FIELDS
        }
        uri = str(doc.get("model_artifact_uri") or "") or _model_data(description)
        package = ModelPackage(
            **real,
            model_artifact_uri=uri,
            base_model=str(doc.get("base_model") or "") or _base_model(description) or uri,
            customization_technique=doc.get("customization_technique"),
            training_type=doc.get("training_type"),
            training_job_name=doc.get("training_job_name"),
            dataset_uris=dict(doc.get("dataset_uris") or {}),
            final_metrics=dict(doc.get("final_metrics") or {}),
        )
        return _bind(package, self.settings)


SAGEYARD_FIELDS = frozenset(
    {
        "model_artifact_uri",
        "base_model",
        "customization_technique",
        "training_type",
        "training_job_name",
        "dataset_uris",
        "final_metrics",
    }
)


def _approval(record: JobRecord) -> str:
    return str(record.document.get("ModelApprovalStatus") or DEFAULT_APPROVAL)


def _model_data(description: Mapping[str, Any]) -> str:
    """Where a package's weights are: its first container's model data, or its source."""
    containers = (description.get("InferenceSpecification") or {}).get("Containers") or [{}]
    first = containers[0]
    source = (first.get("ModelDataSource") or {}).get("S3DataSource") or {}
    uri = first.get("ModelDataUrl") or source.get("S3Uri") or description.get("SourceUri")
    return str(uri or "")


def _base_model(description: Mapping[str, Any]) -> str:
    containers = (description.get("InferenceSpecification") or {}).get("Containers") or [{}]
    return str((containers[0].get("BaseModel") or {}).get("HubContentName") or "")


def _package_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """CreateModelPackage/UpdateModelPackage members (PascalCase), each checked."""
    out = dict(fields)
    one_of(out.get("ModelApprovalStatus"), APPROVAL_STATUSES, "model_approval_status")
    one_of(
        out.get("ModelPackageRegistrationType"),
        REGISTRATION_TYPES,
        "model_package_registration_type",
    )
    one_of(out.get("SkipModelValidation"), ("All", "None"), "skip_model_validation")
    one_of(out.get("ManagedStorageType"), ("Restricted",), "managed_storage_type")
    for key in ("ModelPackageDescription", "ApprovalDescription", "Domain", "Task"):
        if key in out and not isinstance(out[key], str):
            raise ConfigurationError(f"{_snake(key)} must be a string, but got {out[key]!r}.")
    for key in ("SourceUri", "SamplePayloadUrl"):
        if key in out and (not isinstance(out[key], str) or not out[key]):
            raise ConfigurationError(f"{_snake(key)} must be a URI string, but got {out[key]!r}.")
    if "CustomerMetadataProperties" in out:
        out["CustomerMetadataProperties"] = string_map(
            out["CustomerMetadataProperties"], "customer_metadata_properties"
        )
    if "InferenceSpecification" in out:
        _check_inference_specification(out["InferenceSpecification"], "inference_specification")
    if "AdditionalInferenceSpecifications" in out:
        out["AdditionalInferenceSpecifications"] = _additional(
            out["AdditionalInferenceSpecifications"]
        )
        _check_additional(out["AdditionalInferenceSpecifications"])
    life = out.get("ModelLifeCycle")
    if life is not None and (
        not isinstance(life, dict) or not life.get("Stage") or not life.get("StageStatus")
    ):
        raise ConfigurationError(
            "model_life_cycle needs stage and stage_status (e.g. {'stage': 'Development', "
            f"'stage_status': 'In-Progress'}}), but got {life!r}."
        )
    for key in _STRUCTURES & set(out):
        if not isinstance(out[key], dict):
            raise ConfigurationError(
                f"{_snake(key)} must be a shape or a dict of its fields, but got {out[key]!r}."
            )
    return out


_STRUCTURES = frozenset(
    {
        "ValidationSpecification",
        "SourceAlgorithmSpecification",
        "MetadataProperties",
        "ModelMetrics",
        "DriftCheckBaselines",
        "SecurityConfig",
        "ModelCard",
    }
)


def _check_inference_specification(value: Any, where: str) -> None:
    containers = value.get("Containers") if isinstance(value, dict) else None
    if not isinstance(containers, list) or not containers:
        raise ConfigurationError(
            f"{where} needs containers: a list of at least one container (e.g. "
            "{'containers': [{'image': image_uri, 'model_data_url': 's3://.../model.tar.gz'}]}"
            f"), but got {value!r}."
        )
    for index, container in enumerate(containers):
        if not isinstance(container, dict):
            raise ConfigurationError(
                f"{where}.containers[{index}] must be a container definition (a shape or a "
                f"dict), but got {container!r}."
            )
        if "Environment" in container:
            string_map(container["Environment"], f"{where}.containers[{index}].environment")


def _additional(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigurationError(
            f"additional inference specifications must be a list, but got {value!r}."
        )
    for index, item in enumerate(value):
        if not isinstance(item, dict) or not item.get("Name"):
            raise ConfigurationError(
                f"additional inference specification {index} needs a name and containers, but "
                f"got {item!r}."
            )
        _check_inference_specification(item, f"additional inference specification {item['Name']!r}")
    return list(value)


def _check_additional(items: list[Any]) -> None:
    if len(items) > _MAX_ADDITIONAL_SPECIFICATIONS:
        raise ConfigurationError(
            f"A model package has at most {_MAX_ADDITIONAL_SPECIFICATIONS} additional inference "
            f"specifications, but this would make {len(items)}."
        )


def _tags(tags: Any) -> list[dict[str, Any]]:
    if tags is None:
        return []
    rendered = api_request(tags)
    if not isinstance(rendered, list) or not all(
        isinstance(t, dict) and isinstance(t.get("Key"), str) and set(t) <= {"Key", "Value"}
        for t in rendered
    ):
        raise ConfigurationError(
            f"tags must be a list of {{'key': ..., 'value': ...}} (Tag shapes), but got {tags!r}."
        )
    return rendered


def _managed_configuration(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    rendered = api_mapping(value, "managed_configuration", {"ManagedStorageType"})
    one_of(rendered.get("ManagedStorageType"), ("Restricted",), "managed_storage_type")
    return rendered


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


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
    if not isinstance(name, str) or not _GROUP_NAME.fullmatch(name):
        raise ConfigurationError(
            f"model_package_group {name!r} is not a valid name: use 1-63 letters, digits and "
            "hyphens, starting with a letter or digit (e.g. 'my-llm-models')."
        )
