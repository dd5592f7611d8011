"""Session and get_execution_role, as in the reference."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.session import SERVING_NOT_SUPPORTED, ServingNotSupportedError
from sageyard.train import Session, get_execution_role

ROLE = "arn:aws:iam::123456789012:role/MyRole"


def test_get_execution_role_without_a_role() -> None:
    with pytest.raises(ValueError, match="SAGEYARD_ROLE"):
        get_execution_role()


def test_get_execution_role_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEYARD_ROLE", ROLE)
    assert get_execution_role() == ROLE
    assert Session().get_execution_role() == ROLE


def test_session_role_override() -> None:
    session = Session(role=ROLE)
    assert get_execution_role(session) == ROLE
    assert session.get_execution_role() == ROLE


def test_session_settings_follow_the_environment(sageyard_home: Path) -> None:
    settings = Session(region_name="eu-west-1").settings
    assert settings.home == sageyard_home
    assert settings.region == "eu-west-1"
    assert Session().boto_region_name == "us-west-2"


def test_unknown_session_setting() -> None:
    session = Session(bogus=1)  # construction does no work
    with pytest.raises(ValueError, match="bogus"):
        _ = session.settings


def test_session_construction_writes_nothing(sageyard_home: Path) -> None:
    Session()
    assert not sageyard_home.exists()


def test_the_real_constructor_keywords_and_order(sageyard_home: Path) -> None:
    import inspect

    names = list(inspect.signature(Session).parameters)
    assert names[:9] == [
        "boto_session",
        "sagemaker_client",
        "sagemaker_runtime_client",
        "sagemaker_featurestore_runtime_client",
        "default_bucket",
        "sagemaker_config",
        "settings",
        "sagemaker_metrics_client",
        "default_bucket_prefix",
    ]

    class BotoSession:
        region_name = "ap-south-1"

    config = {
        "SchemaVersion": "1.0",
        "SageMaker": {
            "PythonSDK": {
                "Modules": {
                    "Session": {
                        "DefaultS3Bucket": "team-bucket",
                        "DefaultS3ObjectKeyPrefix": "team/prefix",
                    }
                }
            }
        },
    }
    session = Session(BotoSession(), sagemaker_config=config)
    assert session.boto_region_name == "ap-south-1"
    assert (session.default_bucket(), session.default_bucket_prefix) == (
        "team-bucket",
        "team/prefix",
    )
    assert session.account_id() == "000000000000"


def test_upload_data_uses_the_default_prefix_and_calls_back(
    sageyard_home: Path, tmp_path: Path
) -> None:
    data = tmp_path / "train.csv"
    data.write_text("1,2\n")
    sizes: list[int] = []
    session = Session(default_bucket_prefix="team")
    uri = session.upload_data(str(data), key_prefix="datasets", callback=sizes.append)
    assert uri == f"s3://{session.default_bucket()}/team/datasets/train.csv"
    assert sizes == [4]
    explicit = session.upload_data(str(data), bucket="other-bucket", key_prefix="raw")
    assert explicit == "s3://other-bucket/raw/train.csv"  # an explicit bucket: no prefix


def test_strings_in_and_out_of_s3(sageyard_home: Path) -> None:
    session = Session()
    uri = session.upload_string_as_file_body("hello ✓", "notes-bucket", "a/b.txt")
    assert uri == "s3://notes-bucket/a/b.txt"
    assert session.read_s3_file("notes-bucket", "a/b.txt") == "hello ✓"
    session.upload_string_as_file_body(b"x", "notes-bucket", "a/c.txt")
    assert session.list_s3_files("notes-bucket", "a/") == ["a/b.txt", "a/c.txt"]


def test_role_and_bucket_helpers_as_the_real_session(sageyard_home: Path) -> None:
    session = Session(default_bucket_prefix="team")
    assert session.expand_role("MyRole") == "arn:aws:iam::000000000000:role/MyRole"
    assert session.expand_role(ROLE) == ROLE
    assert session.get_caller_identity_arn().startswith("arn:aws:iam::000000000000:role/")
    assert session.determine_bucket_and_prefix("given", "data") == ("given", "data")
    assert session.determine_bucket_and_prefix(key_prefix="data") == (
        session.default_bucket(),
        "team/data",
    )
    assert Session().determine_bucket_and_prefix() == (Session().default_bucket(), None)


# -- the rest of the real Session's surface ---------------------------------------------------

CONFIG_YAML = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      Session:
        DefaultS3Bucket: configured-bucket
        DefaultS3ObjectKeyPrefix: configured/prefix
"""


@pytest.fixture
def no_config_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Default configuration locations that hold nothing; returns the user file's path."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-home"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg-dirs"))
    monkeypatch.delenv("SAGEMAKER_ADMIN_CONFIG_OVERRIDE", raising=False)
    monkeypatch.delenv("SAGEMAKER_USER_CONFIG_OVERRIDE", raising=False)
    return tmp_path / "xdg-home" / "sagemaker" / "config.yaml"


def test_config_is_the_local_mode_config_as_in_the_real_session(no_config_files: Path) -> None:
    session = Session()
    assert session.config is None  # the real Session's: local mode only
    session.config = {"local": {"local_code": True}}
    assert session.config == {"local": {"local_code": True}}
    assert session.sagemaker_config == {}  # no configuration file anywhere


def test_the_configuration_files_are_read_when_first_needed(
    sageyard_home: Path, tmp_path: Path, no_config_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user-config"
    user.mkdir()
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(user))  # a folder with config.yaml
    session = Session()  # reads nothing yet
    (user / "config.yaml").write_text(CONFIG_YAML)
    assert session.sagemaker_config["SageMaker"]["PythonSDK"]["Modules"]["Session"] == {
        "DefaultS3Bucket": "configured-bucket",
        "DefaultS3ObjectKeyPrefix": "configured/prefix",
    }
    assert session.default_bucket() == "configured-bucket"
    assert session.default_bucket_prefix == "configured/prefix"
    explicit = Session(default_bucket="mine", default_bucket_prefix="p")
    assert (explicit.default_bucket(), explicit.default_bucket_prefix) == ("mine", "p")


def test_a_given_configuration_is_checked(sageyard_home: Path) -> None:
    with pytest.raises(ValueError, match="SchemaVersion"):
        Session(sagemaker_config={"SageMaker": {}})


def test_s3_client_on_the_embedded_store_names_the_setting(sageyard_home: Path) -> None:
    session = Session()
    for attribute in ("s3_client", "s3_resource"):
        with pytest.raises(ConfigurationError, match="SAGEYARD_S3_ENDPOINT_URL") as raised:
            getattr(session, attribute)
        assert f"Session.{attribute}" in str(raised.value)
    session.s3_client = "given"  # settable, as the real attribute
    assert session.s3_client == "given"


def test_s3_client_and_resource_reach_an_s3_endpoint(
    moto_endpoint: str, tmp_path: Path, no_config_files: Path
) -> None:
    from tests.conftest import reset_moto

    reset_moto(moto_endpoint)
    session = Session(s3_endpoint_url=moto_endpoint)
    data = tmp_path / "train.csv"
    data.write_text("1,2\n")
    uri = session.upload_data(str(data), key_prefix="d")
    bucket = session.default_bucket()
    assert uri == f"s3://{bucket}/d/train.csv"
    listed = session.s3_client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == ["d/train.csv"]
    body = session.s3_resource.Object(bucket, "d/train.csv").get()["Body"].read()
    assert body == b"1,2\n"
    # the bucket checks, with boto3's resource as the real Session passes it
    s3 = session.s3_resource
    session.general_bucket_check_if_user_has_permission("fresh-bucket", s3, None, "us-west-2", True)
    assert "fresh-bucket" in [b.name for b in s3.buckets.all()]
    session.general_bucket_check_if_user_has_permission(
        "fresh-bucket", s3, None, "us-west-2", False
    )
    session.create_bucket_for_not_exist_error("other-bucket", "us-west-2", s3)
    assert "other-bucket" in [b.name for b in s3.buckets.all()]
    session.expected_bucket_owner_id_bucket_check("other-bucket", s3, "123456789012")


def test_bucket_helpers_on_the_embedded_store(sageyard_home: Path, no_config_files: Path) -> None:
    session = Session()

    class Boto:
        region_name = "eu-central-1"

    assert session.generate_default_sagemaker_bucket_name(Boto()) == (
        "sagemaker-eu-central-1-000000000000"
    )
    assert session.generate_default_sagemaker_bucket_name(None) == (
        "sagemaker-us-west-2-000000000000"
    )
    objects = sageyard_home / "s3"
    session.general_bucket_check_if_user_has_permission("made", None, None, "us-west-2", True)
    assert (objects / "made").is_dir()
    session.general_bucket_check_if_user_has_permission("absent", None, None, "us-west-2", False)
    assert not (objects / "absent").exists()  # an existing bucket is only checked
    session.create_bucket_for_not_exist_error("also-made", "us-east-1", None)
    assert (objects / "also-made").is_dir()
    session.expected_bucket_owner_id_bucket_check("made", None, session.account_id())
    with pytest.raises(ClientError) as raised:
        session.expected_bucket_owner_id_bucket_check("made", None, "123456789012")
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("403", "Forbidden")  # S3's answer
    assert "belongs to account 000000000000" in str(raised.value)


SERVING = {
    "create_endpoint": ["endpoint_name", "config_name", "tags", "wait", "live_logging"],
    "create_model": [
        "name",
        "role",
        "container_defs",
        "vpc_config",
        "enable_network_isolation",
        "primary_container",
        "tags",
    ],
    "delete_endpoint": ["endpoint_name"],
    "delete_endpoint_config": ["endpoint_config_name"],
    "delete_model": ["model_name"],
    "endpoint_in_service_or_not": ["endpoint_name"],
    "update_endpoint": ["endpoint_name", "endpoint_config_name", "wait"],
    "wait_for_endpoint": ["endpoint", "poll", "live_logging"],
    "describe_inference_component": ["inference_component_name"],
    "wait_for_inference_component": ["inference_component_name", "poll"],
    "wait_for_inference_recommendations_job": ["job_name", "poll", "log_level"],
    "wait_for_optimization_job": ["job", "poll"],
    "create_model_package_from_algorithm": ["name", "description", "algorithm_arn", "model_data"],
    "create_endpoint_config": [
        "name",
        "production_variants",
        "tags",
        "kms_key",
        "data_capture_config_dict",
        "async_inference_config_dict",
        "explainer_config_dict",
        "vpc_config",
        "enable_network_isolation",
        "role",
    ],
    "endpoint_from_production_variants": [
        "name",
        "production_variants",
        "tags",
        "kms_key",
        "wait",
        "data_capture_config_dict",
        "async_inference_config_dict",
        "explainer_config_dict",
        "live_logging",
        "vpc_config",
        "enable_network_isolation",
        "role",
    ],
    "create_inference_component": [
        "inference_component_name",
        "endpoint_name",
        "variant_name",
        "specification",
        "runtime_config",
        "tags",
        "wait",
    ],
    "update_inference_component": [
        "inference_component_name",
        "specification",
        "runtime_config",
        "wait",
    ],
    "create_inference_recommendations_job": [
        "role",
        "sample_payload_url",
        "supported_content_types",
        "job_name",
        "job_type",
        "model_name",
        "model_package_version_arn",
        "job_duration_in_seconds",
        "nearest_model_name",
        "supported_instance_types",
        "framework",
        "framework_version",
        "endpoint_configurations",
        "traffic_pattern",
        "stopping_conditions",
        "resource_limit",
    ],
}


@pytest.mark.parametrize("method", sorted(SERVING))
def test_serving_methods_say_sageyard_does_not_serve(method: str) -> None:
    function = getattr(Session, method)
    assert list(inspect.signature(function).parameters)[1:] == SERVING[method]
    required = [
        name
        for name, p in inspect.signature(function).parameters.items()
        if name != "self" and p.default is inspect.Parameter.empty
    ]
    with pytest.raises(ServingNotSupportedError) as raised:
        function(Session(), *required)
    assert isinstance(raised.value, NotImplementedError)
    message = str(raised.value)
    assert message == SERVING_NOT_SUPPORTED.format(what=f"Session.{method}")
    assert message.startswith("sageyard trains models; it does not serve them")


def test_hub_contents_are_the_registrys_datasets_and_the_catalogs_models(
    sageyard_home: Path, tmp_path: Path, no_config_files: Path
) -> None:
    from sageyard.ai_registry.dataset import DataSet
    from sageyard.core.enums import CustomizationTechnique

    data = tmp_path / "train.jsonl"
    data.write_text('{"prompt": "q", "completion": "a"}\n')
    first = DataSet.create("chats", str(data), CustomizationTechnique.SFT, domain_id="d-1")
    DataSet.create("chats", str(data), CustomizationTechnique.SFT, description="v2")
    session = Session()

    described = session.describe_hub_content("any-hub", "chats", None, "DataSet")
    assert described["HubContentVersion"] == "2"
    assert described["HubContentDescription"] == "v2"
    assert described["HubContentStatus"] == "Available"
    assert described["HubName"] == "sageyard"
    document = json.loads(described["HubContentDocument"])
    assert document["DatasetS3Bucket"] == session.default_bucket()
    assert document["DatasetS3Prefix"] == "datasets/chats/2/train.jsonl"
    assert "method:uploaded" in described["HubContentSearchKeywords"]
    assert "customization_technique:sft" in described["HubContentSearchKeywords"]
    one = session.describe_hub_content("sageyard", "chats", "1", "DataSet")
    assert one["HubContentArn"] == first.arn
    assert "@domain:d-1" in one["HubContentSearchKeywords"]

    versions = session.list_hub_content_versions("sageyard", "chats", "DataSet")
    assert [v["HubContentVersion"] for v in versions["HubContentSummaries"]] == ["2", "1"]
    listed = session.list_hub_contents("sageyard", "DataSet")["HubContentSummaries"]
    assert [(c["HubContentName"], c["HubContentVersion"]) for c in listed] == [("chats", "2")]

    model = session.describe_hub_content(
        "SageMakerPublicHub", "HuggingFaceTB/SmolLM2-135M-Instruct", None, "Model"
    )
    assert model["HubContentVersion"] == "1.0.0"
    assert json.loads(model["HubContentDocument"])["License"] == "Apache-2.0"
    models = session.list_hub_contents("sageyard", "Model")["HubContentSummaries"]
    assert "meta-llama/Llama-3.2-1B-Instruct" in [m["HubContentName"] for m in models]

    reward = tmp_path / "reward.py"
    reward.write_text("def lambda_handler(event, context):\n    return {'reward': 1.0}\n")
    from sageyard.ai_registry.evaluator import REWARD_FUNCTION, Evaluator

    evaluator = Evaluator.create("exact", REWARD_FUNCTION, str(reward), domain_id="d-1")
    doc = session.describe_hub_content("sageyard", "exact", None, "JsonDoc")
    assert doc["HubContentArn"] == evaluator.arn and doc["HubContentVersion"] == "1.0.0"
    content = json.loads(json.loads(doc["HubContentDocument"])["JsonContent"])
    assert content == {"Reference": evaluator.reference, "EvaluatorType": "RewardFunction"}
    assert doc["HubContentSearchKeywords"][:2] == ["method:byoc", "@subtype:aws/evaluator"]
    assert "@domain:d-1" in doc["HubContentSearchKeywords"]
    jsondocs = session.list_hub_contents("sageyard", "JsonDoc")["HubContentSummaries"]
    assert [c["HubContentName"] for c in jsondocs] == ["exact"]

    with pytest.raises(ClientError) as raised:
        session.describe_hub_content("sageyard", "chats", "9", "DataSet")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"
    assert "versions are ['2', '1']" in str(raised.value)
    with pytest.raises(ClientError) as raised:
        session.list_hub_contents("sageyard", "Notebook")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
