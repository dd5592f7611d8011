"""``ModelPackageGroup`` and ``ModelPackage`` with the real resources' fields and methods:
create, get_all filters, update, delete, policies, waiting, batch_get; kept in the store."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from sageyard.cli import main
from sageyard.core.exceptions import ConfigurationError, ResourceNotFound, TimeoutExceededError
from sageyard.core.resources import ModelPackage, ModelPackageGroup
from sageyard.core.settings import Settings
from sageyard.models.registry import ModelRegistry

IMAGE = "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1"
SPEC = {"containers": [{"image": IMAGE, "model_data_url": "s3://b/model.tar.gz"}]}
#: sagemaker.core.resources.ModelPackage.model_fields, in its order
REAL_PACKAGE_FIELDS = [
    "model_package_name",
    "model_package_group_name",
    "model_package_version",
    "model_package_registration_type",
    "model_package_arn",
    "model_package_description",
    "creation_time",
    "inference_specification",
    "source_algorithm_specification",
    "validation_specification",
    "model_package_status",
    "model_package_status_details",
    "certify_for_marketplace",
    "model_approval_status",
    "created_by",
    "metadata_properties",
    "model_metrics",
    "last_modified_time",
    "last_modified_by",
    "approval_description",
    "domain",
    "task",
    "sample_payload_url",
    "customer_metadata_properties",
    "drift_check_baselines",
    "additional_inference_specifications",
    "skip_model_validation",
    "source_uri",
    "security_config",
    "model_card",
    "model_life_cycle",
    "managed_storage_type",
]
REAL_GROUP_FIELDS = [
    "model_package_group_name",
    "model_package_group_arn",
    "model_package_group_description",
    "creation_time",
    "created_by",
    "model_package_group_status",
    "managed_configuration",
]


def names(items: list[ModelPackage] | list[ModelPackageGroup]) -> list[str | None]:
    return [i.get_name() for i in items]


def test_the_fields_are_the_real_resources() -> None:
    package_fields = [f.name for f in dataclasses.fields(ModelPackage)]
    assert package_fields[: len(REAL_PACKAGE_FIELDS)] == REAL_PACKAGE_FIELDS
    assert [f.name for f in dataclasses.fields(ModelPackageGroup)] == REAL_GROUP_FIELDS
    assert ModelPackage(model_package_name="g/1").model_approval_status is None


def test_a_group_has_status_creator_configuration_and_a_kept_policy() -> None:
    group = ModelPackageGroup.create(
        "support-models",
        model_package_group_description="v3",
        managed_configuration={"managed_storage_type": "Restricted"},
        tags=[{"key": "team", "value": "ml"}],
    )
    assert group.model_package_group_status == "Completed"
    assert group.managed_configuration.managed_storage_type == "Restricted"
    assert "UserProfileName" in group.created_by
    group.wait_for_status("Completed", poll=0.01)
    with pytest.raises(ConfigurationError, match="would never end"):
        group.wait_for_status("InProgress")
    with pytest.raises(TimeoutExceededError):
        group.wait_for_status("InProgress", poll=0.01, timeout=0.05)
    with pytest.raises(ConfigurationError, match="target_status must be one of"):
        group.wait_for_status("Ready")

    with pytest.raises(ClientError) as none:
        group.get_policy()
    assert none.value.response["Error"]["Code"] == "ResourceNotFound"
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    group.put_policy(policy)
    assert ModelPackageGroup.get("support-models").get_policy() == policy
    with pytest.raises(ConfigurationError, match="not JSON"):
        group.put_policy("{not json")
    group.delete_policy()
    with pytest.raises(ResourceNotFound):
        group.get_policy()
    with pytest.raises(ConfigurationError, match="managed_storage_type must be one of"):
        ModelPackageGroup.create("other", managed_configuration={"managed_storage_type": "Open"})
    assert names(ModelPackageGroup.get_all()) == ["support-models"]


def test_group_get_all_filters_and_orders() -> None:
    for name in ("a-models", "b-models", "c-other"):
        ModelPackageGroup.create(name)
    assert names(ModelPackageGroup.get_all()) == ["a-models", "b-models", "c-other"]
    assert names(ModelPackageGroup.get_all(sort_order="Descending")) == [
        "c-other",
        "b-models",
        "a-models",
    ]
    assert names(ModelPackageGroup.get_all(name_contains="models", sort_by="Name")) == [
        "a-models",
        "b-models",
    ]
    middle = ModelPackageGroup.get("b-models").creation_time
    assert names(ModelPackageGroup.get_all(creation_time_after=middle)) == ["c-other"]
    assert names(ModelPackageGroup.get_all(creation_time_before=middle)) == ["a-models"]
    assert ModelPackageGroup.get_all(cross_account_filter_option="CrossAccount") == []
    assert len(ModelPackageGroup.get_all(cross_account_filter_option="SameAccount")) == 3
    with pytest.raises(ConfigurationError, match="cross_account_filter_option must be one of"):
        ModelPackageGroup.get_all(cross_account_filter_option="Everyone")


def test_a_package_registered_by_hand_then_updated() -> None:
    ModelPackageGroup.create("my-models")
    package = ModelPackage.create(
        model_package_group_name="my-models",
        model_package_description="XGBoost on cancer data",
        inference_specification=SPEC,
        customer_metadata_properties={"team": "search", "stage": "dev"},
        domain="MACHINE_LEARNING",
        task="CLASSIFICATION",
    )
    assert (package.model_package_name, package.model_package_version) == ("my-models/1", 1)
    assert package.model_package_status == "Completed"
    assert package.model_approval_status == "PendingManualApproval"
    assert package.inference_specification.containers[0].model_data_url == "s3://b/model.tar.gz"
    assert package.model_artifact_uri == "s3://b/model.tar.gz"
    assert (package.domain, package.task, package.source_uri) == (
        "MACHINE_LEARNING",
        "CLASSIFICATION",
        None,
    )
    assert package.last_modified_time is None and "UserProfileName" in package.created_by
    assert ModelPackage.get(package.model_package_arn or "") == package

    updated = package.update(
        model_approval_status="Approved",
        approval_description="passed review",
        customer_metadata_properties={"stage": "prod"},
        customer_metadata_properties_to_remove=["team"],
        additional_inference_specifications_to_add=[
            {"name": "cpu", "containers": [{"image": IMAGE}]}
        ],
    )
    assert updated is package
    stored = ModelPackage.get("my-models/1")
    assert (stored.model_approval_status, stored.approval_description) == (
        "Approved",
        "passed review",
    )
    assert stored.customer_metadata_properties == {"stage": "prod"}
    assert stored.additional_inference_specifications[0].name == "cpu"
    assert stored.last_modified_time is not None and stored.last_modified_by is not None
    with pytest.raises(ConfigurationError, match="model_approval_status must be one of"):
        stored.update(model_approval_status="Approve", approval_description="not written")
    assert ModelPackage.get("my-models/1").approval_description == "passed review"
    assert stored.refresh().model_approval_status == "Approved"

    # the CLI lists it, datetimes and all
    rows = json.loads(CliRunner().invoke(main, ["models", "packages", "--json"]).output)
    assert rows[0]["model_approval_status"] == "Approved" and rows[0]["last_modified_time"]


def test_a_bad_package_writes_nothing() -> None:
    with pytest.raises(ClientError) as missing:
        ModelPackage.create(model_package_group_name="nothing", inference_specification=SPEC)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"
    group = ModelPackageGroup.create("my-models")
    bad: list[dict[str, object]] = [
        {"model_package_name": "unversioned", "inference_specification": SPEC},
        {},  # neither a group nor a name
        {"model_package_group_name": group},  # nothing to deploy
        {"model_package_group_name": "my-models", "inference_specification": {"containers": []}},
        {
            "model_package_group_name": "my-models",
            "source_uri": "s3://b",
            "model_approval_status": "OK",
        },
        {
            "model_package_group_name": "my-models",
            "source_uri": "s3://b",
            "certify_for_marketplace": True,
        },
        {
            "model_package_group_name": "my-models",
            "source_uri": "s3://b",
            "model_life_cycle": {"stage": "Dev"},
        },
        {
            "model_package_group_name": "my-models",
            "source_uri": "s3://b",
            "customer_metadata_properties": {"n": 1},
        },
    ]
    for arguments in bad:
        with pytest.raises(ConfigurationError):
            ModelPackage.create(**arguments)  # type: ignore[arg-type]
    assert ModelPackage.get_all(model_package_group_name="my-models") == []


def test_versions_are_never_reused_and_a_group_with_versions_is_not_deleted() -> None:
    group = ModelPackageGroup.create("my-models")
    first = ModelPackage.create(model_package_group_name=group, source_uri="s3://b/one")
    second = ModelPackage.create(
        model_package_group_name=group.model_package_group_arn, source_uri="s3://b/two"
    )
    assert second.model_artifact_uri == "s3://b/two" and second.base_model == "s3://b/two"
    token = ModelPackage.create(
        model_package_group_name="my-models", source_uri="s3://b/3", client_token="t"
    )
    assert (
        ModelPackage.create(
            model_package_group_name="my-models", source_uri="s3://b/4", client_token="t"
        )
        == token
    )
    token.delete()
    token.wait_for_delete(poll=0.01, timeout=1)
    third = ModelPackage.create(model_package_group_name="my-models", source_uri="s3://b/5")
    assert third.model_package_version == 4  # 3 was deleted: its number is not given again

    with pytest.raises(ClientError, match="still has 3 model package") as busy:
        group.delete()
    assert busy.value.response["Error"]["Code"] == "ResourceInUse"
    for package in (first, second, third):
        package.delete()
    with pytest.raises(ResourceNotFound):
        first.refresh()
    group.delete()
    group.wait_for_delete(poll=0.01, timeout=1)
    with pytest.raises(ResourceNotFound):
        group.refresh()
    again = ModelPackageGroup.create("my-models")  # the name is free again
    assert (
        ModelPackage.create(
            model_package_group_name=again, source_uri="s3://b"
        ).model_package_version
        == 1
    )


def test_package_get_all_filters_and_batch_get() -> None:
    ModelPackageGroup.create("a-models")
    ModelPackageGroup.create("b-models")
    a1 = ModelPackage.create(model_package_group_name="a-models", source_uri="s3://b/1")
    ModelPackage.create(
        model_package_group_name="a-models", source_uri="s3://b/2", model_approval_status="Approved"
    )
    b1 = ModelPackage.create(model_package_group_name="b-models", source_uri="s3://b/3")
    # as on SageMaker: without a group, only unversioned packages unless asked for versions
    assert ModelPackage.get_all() == []
    assert names(ModelPackage.get_all(model_package_type="Both")) == [
        "a-models/1",
        "a-models/2",
        "b-models/1",
    ]
    assert names(ModelPackage.get_all(model_package_group_name="a-models")) == [
        "a-models/1",
        "a-models/2",
    ]
    arn = ModelPackageGroup.get("b-models").model_package_group_arn
    assert names(ModelPackage.get_all(model_package_group_name=arn)) == ["b-models/1"]
    assert (
        ModelPackage.get_all(model_package_group_name="a-models", model_package_type="Unversioned")
        == []
    )
    approved = ModelPackage.get_all(
        model_package_type="Versioned", model_approval_status="Approved"
    )
    assert names(approved) == ["a-models/2"]
    assert names(ModelPackage.get_all(model_package_type="Versioned", name_contains="b-")) == [
        "b-models/1"
    ]
    assert names(
        ModelPackage.get_all(
            model_package_type="Versioned", sort_by="Name", sort_order="Descending"
        )
    ) == ["b-models/1", "a-models/2", "a-models/1"]
    assert a1.creation_time is not None
    later = names(
        ModelPackage.get_all(model_package_type="Versioned", creation_time_after=a1.creation_time)
    )
    assert later == ["a-models/2", "b-models/1"]
    soon = datetime.now(UTC) + timedelta(minutes=1)
    assert ModelPackage.get_all(model_package_type="Versioned", creation_time_after=soon) == []
    with pytest.raises(ConfigurationError, match="model_package_type must be one of"):
        ModelPackage.get_all(model_package_type="All")

    missing = "arn:aws:sagemaker:us-west-2:000000000000:model-package/a-models/9"
    batch = ModelPackage.batch_get(
        [a1.model_package_arn or "", b1.model_package_arn or "", missing]
    )
    assert batch.model_package_summaries[a1.model_package_arn].model_package_version == 1
    assert (
        batch.model_package_summaries[b1.model_package_arn].model_approval_status
        == "PendingManualApproval"
    )
    assert batch.batch_describe_model_package_error_map[missing].error_code == "ResourceNotFound"
    with pytest.raises(ConfigurationError, match="1 to 100"):
        ModelPackage.batch_get([])


def test_a_fine_tuning_version_reads_in_the_real_fields() -> None:
    package = ModelRegistry(Settings.from_env()).register(
        "tuned",
        {
            "model_artifact_uri": "s3://b/job-1/output/model.tar.gz",
            "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
            "customization_technique": "sft",
            "training_type": "lora",
            "training_job_name": "job-1",
            "dataset_uris": {"train": "s3://b/train.jsonl"},
            "final_metrics": {"train:loss": 0.5},
        },
    )
    container = package.inference_specification.containers[0]
    assert container.model_data_url == "s3://b/job-1/output/model.tar.gz"
    assert container.base_model.hub_content_name == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert package.metadata_properties.generated_by.endswith(":training-job/job-1")
    assert package.model_approval_status == "PendingManualApproval"
    assert (package.base_model, package.final_metrics) == (
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        {"train:loss": 0.5},
    )
    package.update(model_approval_status="Approved")
    assert ModelPackage.get("tuned").model_approval_status == "Approved"
    package.wait_for_status("Completed", poll=0.01)
