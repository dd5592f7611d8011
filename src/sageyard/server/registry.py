"""SageMaker's model registry reads over sageyard's registry (``models/registry.py``): what
a fine-tuning job's caller reads back. DescribeModelPackageGroup, ListModelPackageGroups,
DescribeModelPackage (by name ``<group>/<version>`` or ARN) and ListModelPackages, with
SageMaker's sorting and ``MaxResults``/``NextToken`` pages. A package's sageyard fields
(the artifact, the base model, the training job, the final metrics) come under
``Sageyard``, which boto3 leaves aside."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sageyard.core.shapes._base import pascal_case, to_request
from sageyard.models.registry import SAGEYARD_FIELDS
from sageyard.train.client import LocalClient

__all__ = [
    "REGISTRY_OPERATIONS",
    "describe_model_package",
    "describe_model_package_group",
    "list_model_package_groups",
    "list_model_packages",
]

_GROUP_SUMMARY = (
    "ModelPackageGroupName",
    "ModelPackageGroupArn",
    "ModelPackageGroupDescription",
    "CreationTime",
    "ModelPackageGroupStatus",
)
_PACKAGE_SUMMARY = (
    "ModelPackageName",
    "ModelPackageGroupName",
    "ModelPackageVersion",
    "ModelPackageArn",
    "ModelPackageDescription",
    "CreationTime",
    "ModelPackageStatus",
    "ModelApprovalStatus",
)


def _registry(client: LocalClient) -> Any:
    from sageyard.models.registry import ModelRegistry

    return ModelRegistry(client.settings)


def _wire(resource: Any) -> dict[str, Any]:
    """A registry resource (a dataclass) in the API's PascalCase, ``None`` left out."""
    answer: dict[str, Any] = {}
    own: dict[str, Any] = {}
    for field in dataclasses.fields(resource):
        value = getattr(resource, field.name)
        if value is None or field.name.startswith("_"):
            continue
        if field.name in SAGEYARD_FIELDS:
            if value:
                own[pascal_case(field.name)] = value
            continue
        answer[pascal_case(field.name)] = to_request(value)
    if own:
        answer["Sageyard"] = own
    return answer


def describe_model_package_group(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    from sageyard.train.sagemaker_api import required_name

    return _wire(_registry(client).get_group(required_name(request, "ModelPackageGroupName")))


def list_model_package_groups(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    from sageyard.train.sagemaker_api import paged, request_time

    groups = [_wire(g) for g in _registry(client).list_groups()]
    contains = request.get("NameContains")
    after, before = (
        request_time(request, "CreationTimeAfter"),
        request_time(request, "CreationTimeBefore"),
    )
    groups = [
        g
        for g in groups
        if (not contains or contains in g["ModelPackageGroupName"])
        and (after is None or g["CreationTime"] > after)
        and (before is None or g["CreationTime"] < before)
    ]
    groups = _sorted(groups, request, "ModelPackageGroupName")
    return paged(
        request, groups, "ModelPackageGroupSummaryList", lambda g: _only(g, _GROUP_SUMMARY)
    )


def describe_model_package(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    from sageyard.train.sagemaker_api import required_name

    return _wire(_registry(client).get_package(required_name(request, "ModelPackageName")))


def list_model_packages(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    from sageyard.train.sagemaker_api import paged

    group = request.get("ModelPackageGroupName")
    if isinstance(group, str) and group.startswith("arn:"):
        group = group.rsplit("/", 1)[-1]
    packages = [_wire(p) for p in _registry(client).list_packages(group or None)]
    approval = request.get("ModelApprovalStatus")
    contains = request.get("NameContains")
    packages = [
        p
        for p in packages
        if (approval is None or p.get("ModelApprovalStatus") == approval)
        and (not contains or contains in p.get("ModelPackageName", ""))
    ]
    packages = _sorted(packages, request, "ModelPackageName")
    return paged(request, packages, "ModelPackageSummaryList", lambda p: _only(p, _PACKAGE_SUMMARY))


def _sorted(items: list[dict[str, Any]], request: Mapping[str, Any], name: str) -> list[Any]:
    """By CreationTime (the default) or Name; newest (or last) first unless Ascending."""
    key = name if request.get("SortBy") == "Name" else "CreationTime"
    descending = request.get("SortOrder", "Descending") != "Ascending"
    return sorted(
        items, key=lambda item: (item.get(key) is None, item.get(key)), reverse=descending
    )


def _only(item: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {field: item[field] for field in fields if item.get(field) is not None}


#: The registry's operations, by name (merged into the SageMaker operations).
REGISTRY_OPERATIONS = {
    "DescribeModelPackageGroup": describe_model_package_group,
    "ListModelPackageGroups": list_model_package_groups,
    "DescribeModelPackage": describe_model_package,
    "ListModelPackages": list_model_packages,
}
