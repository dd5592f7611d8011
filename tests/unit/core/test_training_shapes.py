"""Every range and rule of the training configuration shapes (``sageyard.train.configs``)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.shapes import (
    InstancePreference,
    Shape,
    check_compute,
    from_request,
    pascal_case,
    to_request,
)
from sageyard.train.configs import (
    BaseConfig,
    Channel,
    CheckpointConfig,
    Compute,
    DatasetSource,
    DataSource,
    FileSystemDataSource,
    HubAccessConfig,
    HyperPodCompute,
    InfraCheckConfig,
    InputData,
    InstanceGroup,
    MetricDefinition,
    ModelAccessConfig,
    Networking,
    OutputDataConfig,
    RetryStrategy,
    S3DataSource,
    ShuffleConfig,
    SourceCode,
    StoppingCondition,
    Tag,
    TensorBoardOutputConfig,
)

S3 = "s3://my-bucket/prefix"


def s3_source(uri: str = S3) -> DataSource:
    return DataSource(s3_data_source=S3DataSource(s3_uri=uri))


def fs_source() -> FileSystemDataSource:
    return FileSystemDataSource(
        file_system_id="fs-1",
        file_system_access_mode="ro",
        file_system_type="EFS",
        directory_path="/data",
    )


# -- numeric ranges ---------------------------------------------------------------------------

RANGES: list[tuple[type[BaseModel], dict[str, Any], str, int, int]] = [
    (StoppingCondition, {}, "max_runtime_in_seconds", 1, 2_419_200),
    (Compute, {"instance_type": "ml.m5.xlarge"}, "instance_count", 1, 100),
    (Compute, {"instance_type": "ml.m5.xlarge"}, "volume_size_in_gb", 1, 16384),
    (Compute, {"instance_type": "ml.m5.xlarge"}, "keep_alive_period_in_seconds", 0, 3600),
    (RetryStrategy, {}, "maximum_retry_attempts", 1, 10),
    (
        InstanceGroup,
        {"instance_type": "ml.m5.xlarge", "instance_group_name": "g"},
        "instance_count",
        1,
        100,
    ),
]
RANGE_IDS = [f"{cls.__name__}.{name}" for cls, _, name, _, _ in RANGES]


@pytest.mark.parametrize(("cls", "base", "name", "low", "high"), RANGES, ids=RANGE_IDS)
def test_range_bounds_are_inclusive(
    cls: type[BaseModel], base: dict[str, Any], name: str, low: int, high: int
) -> None:
    assert getattr(cls(**base, **{name: low}), name) == low
    assert getattr(cls(**base, **{name: high}), name) == high


@pytest.mark.parametrize(("cls", "base", "name", "low", "high"), RANGES, ids=RANGE_IDS)
def test_range_refuses_values_just_outside(
    cls: type[BaseModel], base: dict[str, Any], name: str, low: int, high: int
) -> None:
    for bad in (low - 1, high + 1):
        with pytest.raises(ValidationError) as excinfo:
            cls(**base, **{name: bad})
        assert name in str(excinfo.value)
        assert f"input_value={bad}" in str(excinfo.value)


@pytest.mark.parametrize(("cls", "base", "name", "low", "high"), RANGES, ids=RANGE_IDS)
def test_range_is_checked_on_assignment(
    cls: type[BaseModel], base: dict[str, Any], name: str, low: int, high: int
) -> None:
    shape = cls(**base, **{name: low})
    with pytest.raises(ValidationError):
        setattr(shape, name, high + 1)
    assert getattr(shape, name) == low  # a refused field value is not kept


def test_validation_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        Compute(instance_type="ml.m5.xlarge", instance_count=0)


def test_defaults_follow_the_reference() -> None:
    compute = Compute(instance_type="ml.m5.xlarge")
    assert compute.instance_count == 1
    assert compute.volume_size_in_gb == 30
    assert CheckpointConfig(s3_uri=S3).local_path == "/opt/ml/checkpoints"
    assert TensorBoardOutputConfig(s3_output_path=S3).local_path == "/opt/ml/output/tensorboard"


# -- Compute ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "instance_type", ["ml.m5.xlarge", "ml.p3.2xlarge", "ml.p4d.24xlarge", "ml.g5.12xlarge"]
)
def test_instance_type_accepts_sagemaker_names(instance_type: str) -> None:
    assert Compute(instance_type=instance_type).instance_type == instance_type


@pytest.mark.parametrize(
    "instance_type", ["m5.xlarge", "ml.m5", "ML.M5.XLARGE", "ml.m5.xlarge.big", "", "ml..xlarge"]
)
def test_instance_type_refuses_other_names(instance_type: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Compute(instance_type=instance_type)
    assert repr(instance_type) in str(excinfo.value)


def test_instance_type_is_checked_on_assignment() -> None:
    compute = Compute(instance_type="ml.m5.xlarge")
    with pytest.raises(ValidationError, match="'m5'"):
        compute.instance_type = "m5"
    assert compute.instance_type == "ml.m5.xlarge"


def group(name: str = "g1", instance_type: str = "ml.m5.xlarge") -> InstanceGroup:
    return InstanceGroup(instance_type=instance_type, instance_count=2, instance_group_name=name)


def test_instance_groups_alone_are_accepted() -> None:
    compute = Compute(instance_groups=[group("a"), group("b", "ml.p3.2xlarge")])
    assert compute.instance_groups is not None
    assert [g.instance_group_name for g in compute.instance_groups] == ["a", "b"]


def test_instance_groups_and_instance_type_are_exclusive() -> None:
    with pytest.raises(ValidationError, match="instance_groups or instance_type"):
        Compute(instance_type="ml.m5.xlarge", instance_groups=[group()])


def test_instance_group_names_must_be_unique() -> None:
    with pytest.raises(ValidationError, match="unique"):
        Compute(instance_groups=[group("same"), group("same")])


def test_instance_group_types_are_checked() -> None:
    with pytest.raises(ValidationError, match=re.escape("'m5.big'")):
        Compute(instance_groups=[group("a", "m5.big")])


# -- StoppingCondition ------------------------------------------------------------------------


def test_max_wait_may_equal_or_exceed_max_runtime() -> None:
    same = StoppingCondition(max_runtime_in_seconds=3600, max_wait_time_in_seconds=3600)
    assert same.max_wait_time_in_seconds == 3600
    more = StoppingCondition(max_runtime_in_seconds=3600, max_wait_time_in_seconds=7200)
    assert more.max_wait_time_in_seconds == 7200


def test_max_wait_below_max_runtime_is_refused() -> None:
    with pytest.raises(ValidationError) as excinfo:
        StoppingCondition(max_runtime_in_seconds=3600, max_wait_time_in_seconds=60)
    message = str(excinfo.value)
    assert "max_wait_time_in_seconds=60" in message
    assert "max_runtime_in_seconds=3600" in message


def test_max_wait_rule_is_checked_on_assignment() -> None:
    stopping = StoppingCondition(max_runtime_in_seconds=3600, max_wait_time_in_seconds=7200)
    with pytest.raises(ValidationError):
        stopping.max_wait_time_in_seconds = 60


def test_rejected_assignment_leaves_the_shape_unchanged() -> None:
    stopping = StoppingCondition(max_runtime_in_seconds=3600, max_wait_time_in_seconds=7200)
    with pytest.raises(ValidationError):
        stopping.max_wait_time_in_seconds = 60
    code = SourceCode(source_dir="code", entry_script="train.py")
    with pytest.raises(ValidationError):
        code.command = "echo hi"
    assert stopping.max_wait_time_in_seconds == 7200
    assert code.command is None


# -- MetricDefinition -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "regex",
    [
        "Train Loss: ([0-9\\.]+)",
        "(?:train|valid) loss: ([0-9.]+)",
        "loss=(?P<value>[0-9.]+)",
        ".*\\[[0-9]+\\].*#011validation-rmse:(\\S+)",
    ],
)
def test_metric_regex_with_one_capture_group_is_accepted(regex: str) -> None:
    assert MetricDefinition(name="m", regex=regex).regex == regex


@pytest.mark.parametrize(("regex", "groups"), [("loss: [0-9.]+", 0), ("(a)=([0-9.]+)", 2)])
def test_metric_regex_needs_exactly_one_capture_group(regex: str, groups: int) -> None:
    with pytest.raises(ValidationError) as excinfo:
        MetricDefinition(name="m", regex=regex)
    message = str(excinfo.value)
    assert "exactly one capture group" in message
    assert f"has {groups}" in message


def test_metric_regex_must_compile() -> None:
    with pytest.raises(ValidationError, match="does not compile"):
        MetricDefinition(name="m", regex="loss: ([0-9.]+")


def test_metric_name_and_regex_are_required_and_non_empty() -> None:
    with pytest.raises(ValidationError):
        MetricDefinition(name="", regex="([0-9]+)")
    with pytest.raises(ValidationError):
        MetricDefinition(name="m", regex="")


# -- channel names ----------------------------------------------------------------------------

BAD_CHANNEL_NAMES = ["../x", "a/b", "", "a" * 65, "code", "sm_drivers", ".hidden", "a b"]
GOOD_CHANNEL_NAMES = ["train", "validation", "train-2", "my_data.v1", "A1", "a" * 64]


@pytest.mark.parametrize("name", BAD_CHANNEL_NAMES)
def test_input_data_refuses_unsafe_channel_names(name: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        InputData(channel_name=name, data_source=S3)
    assert repr(name) in str(excinfo.value)


@pytest.mark.parametrize("name", BAD_CHANNEL_NAMES)
def test_channel_refuses_unsafe_channel_names(name: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Channel(channel_name=name, data_source=s3_source())
    assert repr(name) in str(excinfo.value)


@pytest.mark.parametrize("name", GOOD_CHANNEL_NAMES)
def test_safe_channel_names_are_accepted(name: str) -> None:
    assert InputData(channel_name=name, data_source=S3).channel_name == name
    assert Channel(channel_name=name, data_source=s3_source()).channel_name == name


@pytest.mark.parametrize("name", ["code", "sm_drivers"])
def test_reserved_channel_names_say_they_are_reserved(name: str) -> None:
    with pytest.raises(ValidationError, match="reserved"):
        InputData(channel_name=name, data_source=S3)


def test_channel_name_is_checked_on_assignment() -> None:
    channel = InputData(channel_name="train", data_source=S3)
    with pytest.raises(ValidationError, match=re.escape("'../x'")):
        channel.channel_name = "../x"
    assert channel.channel_name == "train"


# -- SourceCode -------------------------------------------------------------------------------


def test_source_code_takes_entry_script_or_command_not_both() -> None:
    with pytest.raises(ValidationError) as excinfo:
        SourceCode(source_dir="code", entry_script="train.py", command="python train.py")
    message = str(excinfo.value)
    assert "'train.py'" in message
    assert "'python train.py'" in message


@pytest.mark.parametrize("field", ["entry_script", "requirements"])
def test_entry_script_and_requirements_need_source_dir(field: str) -> None:
    with pytest.raises(ValidationError, match="source_dir is required"):
        SourceCode(**{field: "train.py"})


def test_command_alone_needs_no_source_dir() -> None:
    assert SourceCode(command="echo hi").command == "echo hi"


@pytest.mark.parametrize("field", ["entry_script", "requirements"])
@pytest.mark.parametrize("path", ["/abs/file.py", "../file.py", "sub/../../file.py", "./../x"])
def test_paths_must_stay_inside_source_dir(field: str, path: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        SourceCode(source_dir="code", **{field: path})
    assert repr(path) in str(excinfo.value)


def test_relative_paths_inside_source_dir_are_accepted() -> None:
    code = SourceCode(source_dir="code", entry_script="sub/train.py", requirements="req.txt")
    assert code.entry_script == "sub/train.py"
    assert code.requirements == "req.txt"


def test_source_code_rules_are_checked_on_assignment() -> None:
    code = SourceCode(source_dir="code", entry_script="train.py")
    with pytest.raises(ValidationError):
        code.entry_script = "../escape.py"


# -- data sources and S3 URIs -----------------------------------------------------------------


def test_data_source_needs_exactly_one_source() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        DataSource()
    with pytest.raises(ValidationError, match="exactly one"):
        DataSource(s3_data_source=S3DataSource(s3_uri=S3), file_system_data_source=fs_source())
    assert DataSource(file_system_data_source=fs_source()).s3_data_source is None
    assert s3_source().file_system_data_source is None


BAD_S3_URIS = ["http://my-bucket/x", "my-bucket/x", "s3://My_Bucket/x", "s3://ab/x", "s3://"]


@pytest.mark.parametrize("uri", BAD_S3_URIS)
@pytest.mark.parametrize(
    "make",
    [
        lambda uri: S3DataSource(s3_uri=uri),
        lambda uri: OutputDataConfig(s3_output_path=uri),
        lambda uri: CheckpointConfig(s3_uri=uri),
        lambda uri: TensorBoardOutputConfig(s3_output_path=uri),
    ],
    ids=["S3DataSource", "OutputDataConfig", "CheckpointConfig", "TensorBoardOutputConfig"],
)
def test_s3_uris_are_validated(make: Any, uri: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        make(uri)
    assert repr(uri) in str(excinfo.value)


@pytest.mark.parametrize("uri", ["s3://my-bucket", "s3://my-bucket/a/b.csv", "s3://b.c-1/x/"])
def test_good_s3_uris_are_accepted(uri: str) -> None:
    assert S3DataSource(s3_uri=uri).s3_uri == uri
    assert InputData(channel_name="train", data_source=uri).data_source == uri


@pytest.mark.parametrize("source", ["", "   ", "s3://My_Bucket/x"])
def test_input_data_refuses_empty_sources_and_bad_s3_uris(source: str) -> None:
    with pytest.raises(ValidationError):
        InputData(channel_name="train", data_source=source)


def test_input_data_accepts_local_paths_and_data_sources() -> None:
    assert InputData(channel_name="train", data_source="./data").data_source == "./data"
    source = s3_source()
    assert InputData(channel_name="train", data_source=source).data_source == source


@pytest.mark.parametrize("cls", [CheckpointConfig, TensorBoardOutputConfig])
def test_local_path_must_be_absolute(cls: type[BaseModel]) -> None:
    uri_field = "s3_uri" if cls is CheckpointConfig else "s3_output_path"
    with pytest.raises(ValidationError) as excinfo:
        cls(**{uri_field: S3, "local_path": "checkpoints"})
    assert "'checkpoints'" in str(excinfo.value)
    shape = cls(**{uri_field: S3, "local_path": "/data/ckpt"})
    assert shape.local_path == "/data/ckpt"  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        shape.local_path = "relative"  # type: ignore[attr-defined]


def test_networking_ids_are_validated() -> None:
    assert Networking(subnets=["subnet-0abc"], security_group_ids=["sg-0abc"]).subnets
    with pytest.raises(ValidationError, match="'net-1'"):
        Networking(subnets=["net-1"])
    with pytest.raises(ValidationError, match="'group-1'"):
        Networking(security_group_ids=["group-1"])


# -- unknown fields ---------------------------------------------------------------------------

VALID: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (Compute, {"instance_type": "ml.m5.xlarge"}),
    (StoppingCondition, {}),
    (SourceCode, {}),
    (RetryStrategy, {"maximum_retry_attempts": 1}),
    (MetricDefinition, {"name": "m", "regex": "([0-9]+)"}),
    (InputData, {"channel_name": "train", "data_source": S3}),
    (Channel, {"channel_name": "train", "data_source": {"s3_data_source": {"s3_uri": S3}}}),
    (S3DataSource, {"s3_uri": S3}),
    (OutputDataConfig, {}),
    (CheckpointConfig, {"s3_uri": S3}),
    (TensorBoardOutputConfig, {"s3_output_path": S3}),
    (Networking, {}),
    (InfraCheckConfig, {"enable_infra_check": True}),
    (Tag, {"key": "k"}),
]


@pytest.mark.parametrize(("cls", "kwargs"), VALID, ids=[c.__name__ for c, _ in VALID])
def test_unknown_fields_are_refused(cls: type[BaseModel], kwargs: dict[str, Any]) -> None:
    cls(**kwargs)
    with pytest.raises(ValidationError, match="instance_typo"):
        cls(**kwargs, instance_typo="ml.m5.xlarge")


# -- rendering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("volume_size_in_gb", "VolumeSizeInGB"),
        ("s3_uri", "S3Uri"),
        ("s3_output_path", "S3OutputPath"),
        ("kms_key_id", "KmsKeyId"),
        ("security_group_ids", "SecurityGroupIds"),
        ("max_runtime_in_seconds", "MaxRuntimeInSeconds"),
        ("s3_data_distribution_type", "S3DataDistributionType"),
    ],
)
def test_pascal_case(name: str, expected: str) -> None:
    assert pascal_case(name) == expected


def test_to_request_renders_pascal_case_and_leaves_none_out() -> None:
    compute = Compute(instance_type="ml.p3.2xlarge", instance_count=2, volume_size_in_gb=50)
    assert compute.to_request() == {
        "InstanceType": "ml.p3.2xlarge",
        "InstanceCount": 2,
        "VolumeSizeInGB": 50,
    }
    assert OutputDataConfig(s3_output_path=S3).to_request() == {"S3OutputPath": S3}
    assert StoppingCondition().to_request() == {}


def test_to_request_renders_nested_shapes_and_lists() -> None:
    channel = Channel(channel_name="train", data_source=s3_source(), content_type="text/csv")
    assert channel.to_request() == {
        "ChannelName": "train",
        "DataSource": {
            "S3DataSource": {
                "S3Uri": S3,
                "S3DataType": "S3Prefix",
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "ContentType": "text/csv",
    }
    assert to_request([Tag(key="team", value="ml")]) == [{"Key": "team", "Value": "ml"}]
    assert to_request({"keep_me": MetricDefinition(name="m", regex="([0-9]+)")}) == {
        "keep_me": {"Name": "m", "Regex": "([0-9]+)"}
    }
    assert to_request("plain") == "plain"


# -- the real configs' other classes and fields -----------------------------------------------

DATASET_ARN = "arn:aws:sagemaker:us-west-2:000000000000:hub-content/sageyard/DataSet/d/1"
PLAN_ARN = "arn:aws:sagemaker:us-west-2:111122223333:training-plan/my-plan"


def test_every_config_is_a_base_config_and_subclasses_are_configs() -> None:
    assert BaseConfig is Shape
    assert isinstance(Compute(instance_type="ml.m5.xlarge"), BaseConfig)
    assert isinstance(HyperPodCompute(), BaseConfig)

    class MyConfig(BaseConfig):
        epochs: int = 1

    assert MyConfig(epochs=2).to_request() == {"Epochs": 2}
    with pytest.raises(ValidationError, match="epoch"):
        MyConfig(epoch=2)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        MyConfig().epochs = "many"  # type: ignore[assignment]


def test_shuffle_config_orders_items_by_its_seed_and_epoch() -> None:
    items = [f"part-{i}" for i in range(20)]
    order = ShuffleConfig(seed=7).order(items)
    assert sorted(order) == sorted(items) and order != items
    assert ShuffleConfig(seed=7).order(items) == order  # deterministic
    assert ShuffleConfig(seed=7).order(items, epoch=1) != order  # a new order each epoch
    assert ShuffleConfig(seed=8).order(items) != order
    assert ShuffleConfig(seed=7).order([]) == []
    assert items[0] == "part-0"  # the input is left as it was
    with pytest.raises(ValidationError, match="seed"):
        ShuffleConfig()  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        ShuffleConfig(seed="random")  # type: ignore[arg-type]


def test_a_channel_carries_its_shuffle_config_into_the_request() -> None:
    channel = Channel(channel_name="train", data_source=s3_source(), shuffle_config={"Seed": 3})
    assert channel.shuffle_config == ShuffleConfig(seed=3)
    assert channel.to_request()["ShuffleConfig"] == {"Seed": 3}
    parsed = from_request(Channel, channel.to_request(), "InputDataConfig[0]")
    assert parsed == channel


def test_a_data_source_may_be_a_dataset() -> None:
    source = DataSource(dataset_source=DatasetSource(dataset_arn=DATASET_ARN))
    assert source.to_request() == {"DatasetSource": {"DatasetArn": DATASET_ARN}}
    with pytest.raises(ValidationError, match="exactly one"):
        DataSource(
            s3_data_source=S3DataSource(s3_uri=S3), dataset_source={"DatasetArn": DATASET_ARN}
        )
    with pytest.raises(ValidationError, match="'not-an-arn'"):
        DatasetSource(dataset_arn="not-an-arn")
    data = InputData(channel_name="train", data_source=DatasetSource(dataset_arn=DATASET_ARN))
    assert isinstance(data.data_source, DatasetSource)


def test_an_s3_data_source_carries_model_and_hub_access() -> None:
    source = S3DataSource(
        s3_uri=S3,
        model_access_config=ModelAccessConfig(accept_eula=True),
        hub_access_config=HubAccessConfig(hub_content_arn="arn:aws:sagemaker:::hub-content/x"),
    )
    rendered = source.to_request()
    assert rendered["ModelAccessConfig"] == {"AcceptEula": True}
    assert rendered["HubAccessConfig"] == {"HubContentArn": "arn:aws:sagemaker:::hub-content/x"}
    assert from_request(S3DataSource, rendered, "S3DataSource") == source
    with pytest.raises(ValidationError, match="accept_eula"):
        ModelAccessConfig()  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        HubAccessConfig(hub_content_arn="")


def test_compute_takes_the_real_resource_config_fields() -> None:
    compute = Compute(
        instance_type="ml.p4d.24xlarge",
        training_plan_arn=PLAN_ARN,
        volume_kms_key_id="key",
        selected_instance_type="ml.p4d.24xlarge",
        selected_instance_count=1,
    )
    assert compute.to_resource_config() == {
        "InstanceType": "ml.p4d.24xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
        "VolumeKmsKeyId": "key",
        "TrainingPlanArn": PLAN_ARN,  # what DescribeTrainingJob reports is never sent
    }
    with pytest.raises(ValidationError, match="'plan-1'"):
        Compute(training_plan_arn="plan-1")
    placed = Compute(
        instance_type="ml.p6e-gb200.36xlarge",
        instance_placement_config={
            "EnableMultipleJobs": True,
            "PlacementSpecifications": [{"UltraServerId": "u-1", "InstanceCount": 2}],
        },
    )
    assert placed.to_resource_config()["InstancePlacementConfig"] == {
        "EnableMultipleJobs": True,
        "PlacementSpecifications": [{"InstanceCount": 2, "UltraServerId": "u-1"}],
    }
    spot = Compute(instance_type="ml.m5.xlarge", enable_managed_spot_training=True)
    assert "EnableManagedSpotTraining" not in spot.to_resource_config()


def test_a_described_resource_config_parses_as_compute() -> None:
    described = {
        "InstanceCount": 2,
        "VolumeSizeInGB": 30,
        "InstancePreferences": [{"InstanceType": "ml.g5.xlarge"}, {"InstanceType": "ml.g6.xlarge"}],
        "SelectedInstanceType": "ml.g5.xlarge",
        "SelectedInstanceCount": 2,
    }
    compute = from_request(Compute, described, "ResourceConfig")
    assert compute.selected_instance_type == "ml.g5.xlarge"
    assert compute.preferred_instances() == ("ml.g5.xlarge", 2)


def test_instance_preferences_pick_the_first_candidate() -> None:
    compute = Compute(
        instance_preferences=[
            InstancePreference(instance_type="ml.g5.xlarge", instance_count=2),
            InstancePreference(instance_type="ml.g6.xlarge", instance_count=1),
        ]
    )
    assert compute.instance_count is None  # the default gives way to the candidates' counts
    assert compute.preferred_instances() == ("ml.g5.xlarge", 2)
    assert compute.to_resource_config() == {
        "VolumeSizeInGB": 30,
        "InstancePreferences": [
            {"InstanceType": "ml.g5.xlarge", "InstanceCount": 2},
            {"InstanceType": "ml.g6.xlarge", "InstanceCount": 1},
        ],
    }
    shared = Compute(instance_count=3, instance_preferences=[{"InstanceType": "ml.g5.xlarge"}])
    assert shared.preferred_instances() == ("ml.g5.xlarge", 3)
    assert Compute(instance_type="ml.m5.xlarge").preferred_instances() == ("ml.m5.xlarge", 1)


ONE = [{"InstanceType": "ml.g5.xlarge", "InstanceCount": 1}]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"instance_type": "ml.m5.xlarge", "instance_preferences": ONE}, "instance_type"),
        (
            {
                "instance_groups": [
                    {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "InstanceGroupName": "g"}
                ],
                "instance_preferences": ONE,
            },
            "instance_groups",
        ),
        (
            {
                "instance_placement_config": {"EnableMultipleJobs": True},
                "instance_preferences": ONE,
            },
            "instance_placement_config",
        ),
        ({"enable_managed_spot_training": True, "instance_preferences": ONE}, "spot"),
        ({"instance_preferences": ONE * 2}, "duplicate"),
        ({"instance_count": 2, "instance_preferences": ONE}, "mutually exclusive"),
        (
            {
                "instance_count": None,
                "instance_preferences": [
                    *ONE,
                    {"InstanceType": "ml.g6.xlarge"},
                ],
            },
            "every element",
        ),
        (
            {
                "instance_count": 1,
                "training_plan_arn": PLAN_ARN,
                "instance_preferences": [
                    {"InstanceType": "ml.g5.xlarge", "TrainingPlanArns": [PLAN_ARN]}
                ],
            },
            "training_plan_arn",
        ),
        ({"instance_preferences": []}, "at least 1"),
        ({"instance_preferences": [{"InstanceType": f"ml.g5.{n}xlarge"} for n in range(6)]}, "5"),
        ({"instance_preferences": [{"InstanceType": "gpu", "InstanceCount": 1}]}, "'gpu'"),
    ],
)
def test_instance_preferences_follow_the_real_rules(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Compute(**kwargs)


def test_hyperpod_compute_builds_but_is_refused() -> None:
    hyperpod = HyperPodCompute(cluster_name="my-cluster", instance_type="ml.p5.48xlarge")
    assert (hyperpod.namespace, hyperpod.node_count) == ("kubeflow", 1)
    with pytest.raises(ValidationError):
        HyperPodCompute(node_count=0)
    with pytest.raises(ConfigurationError, match=r"HyperPod.*'my-cluster'.*Compute\("):
        check_compute(hyperpod)
    compute = Compute(instance_type="ml.m5.xlarge")
    assert check_compute(compute) is compute
    assert check_compute(None) is None
