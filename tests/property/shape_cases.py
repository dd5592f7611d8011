"""Every hand-written configuration shape, with strategies for its valid and invalid values.

Valid arguments never pass None to a field whose default is not None: ``to_request()``
leaves None out (as the API leaves unset fields out), so such a value reads back as the
default, by design.

A :class:`Case` gives the keyword arguments of valid instances (built from each field's
documented rule) and, per rule, the fields that break it when laid over a valid draw
(``invalid``: a name for the rule, and a function from the valid arguments to a strategy of
overriding fields). An unknown field is added to every case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from sageyard.core import shapes as s
from sageyard.core.shapes import Shape
from tests.property import strategies as g

MAX_RUNTIME = 2_419_200
Args = dict[str, Any]
Overrides = Callable[[Args], st.SearchStrategy[Args]]


@dataclass(frozen=True)
class Case:
    cls: type[Shape]
    valid: st.SearchStrategy[Args]
    invalid: dict[str, Overrides] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.cls.__name__

    def rules(self) -> dict[str, Overrides]:
        return {**self.invalid, "unknown field": lambda _: st.just({"no_such_field": 1})}


def one_field(name: str, values: st.SearchStrategy[Any]) -> Overrides:
    """The field ``name`` set to one of ``values``, whatever the valid arguments are."""
    return lambda _: values.map(lambda value: {name: value})


def optional(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | values


def kwargs(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Args]:
    """Arguments where each field is drawn or left out (so defaults apply)."""
    return st.fixed_dictionaries({}, optional={name: value for name, value in fields.items()})


def out_of(low: int | None, high: int | None) -> st.SearchStrategy[int]:
    """Integers outside ``[low, high]``."""
    parts = []
    if low is not None:
        parts.append(st.integers(max_value=low - 1))
    if high is not None:
        parts.append(st.integers(min_value=high + 1))
    return st.one_of(parts)


def bad_int(low: int | None, high: int | None = None) -> st.SearchStrategy[Any]:
    return out_of(low, high) | g.not_a(int)


def bad_literal(allowed: tuple[str, ...]) -> st.SearchStrategy[Any]:
    return g.text(max_size=10).filter(lambda v: v not in allowed) | g.not_a(str)


BOOL_OR_NONE = optional(st.booleans())

# -- training shapes --------------------------------------------------------------------------

SOURCE_CODE_IGNORE = st.lists(g.word(), max_size=3)


@st.composite
def source_code(draw: st.DrawFn) -> Args:
    args: Args = {}
    if draw(st.booleans()):
        args["source_dir"] = draw(g.text(min_size=1).filter(str.strip))
        how = draw(st.sampled_from(["entry_script", "command", None]))
        if how == "entry_script":
            args["entry_script"] = draw(g.relative_path())
        elif how == "command":
            args["command"] = draw(g.text(min_size=1))
        if draw(st.booleans()):
            args["requirements"] = draw(g.relative_path())
    elif draw(st.booleans()):
        args["command"] = draw(g.text(min_size=1))
    if draw(st.booleans()):
        args["args"] = draw(
            st.lists(
                st.one_of(
                    g.text(), st.integers(), st.floats(allow_nan=False, allow_infinity=False)
                ),
                max_size=4,
            )
        )
    if draw(st.booleans()):
        args["ignore_patterns"] = draw(SOURCE_CODE_IGNORE)
    return args


def _both_ways(args: Args) -> st.SearchStrategy[Args]:
    return st.just({"source_dir": "code", "entry_script": "train.py", "command": "python x.py"})


SOURCE_CODE = Case(
    s.SourceCode,
    source_code(),
    {
        "entry_script leaves source_dir": lambda a: g.escaping_path().map(
            lambda p: {"source_dir": a.get("source_dir") or "code", "entry_script": p}
        ),
        "requirements leaves source_dir": lambda a: g.escaping_path().map(
            lambda p: {"source_dir": a.get("source_dir") or "code", "requirements": p}
        ),
        "entry_script and command": _both_ways,
        "entry_script without source_dir": lambda a: g.relative_path().map(
            lambda p: {"source_dir": None, "entry_script": p, "command": None}
        ),
        "args of other types": one_field(
            "args", st.lists(st.one_of(st.none(), st.dictionaries(g.word(), g.word())), min_size=1)
        ),
    },
)

INSTANCE_GROUP = Case(
    s.InstanceGroup,
    st.fixed_dictionaries(
        {
            "instance_type": g.instance_type(),
            "instance_count": st.integers(1, 100),
            "instance_group_name": g.text(min_size=1, max_size=64),
        }
    ),
    {
        "instance_type": one_field("instance_type", g.bad_instance_type()),
        "instance_count": one_field("instance_count", bad_int(1, 100)),
        "instance_group_name": one_field(
            "instance_group_name", st.just("") | st.text(min_size=65, max_size=80) | g.not_a(str)
        ),
    },
)

PLACEMENT_SPECIFICATION = Case(
    s.PlacementSpecification,
    st.fixed_dictionaries(
        {"instance_count": st.integers(min_value=0)},
        optional={"ultra_server_id": optional(g.text(max_size=256))},
    ),
    {
        "instance_count": one_field("instance_count", bad_int(0)),
        "ultra_server_id": one_field("ultra_server_id", st.text(min_size=257, max_size=300)),
    },
)


def placement_specification() -> st.SearchStrategy[s.PlacementSpecification]:
    return PLACEMENT_SPECIFICATION.valid.map(lambda a: s.PlacementSpecification(**a))


INSTANCE_PLACEMENT_CONFIG = Case(
    s.InstancePlacementConfig,
    kwargs(
        enable_multiple_jobs=BOOL_OR_NONE,
        placement_specifications=optional(st.lists(placement_specification(), max_size=10)),
    ),
    {
        "too many placement specifications": one_field(
            "placement_specifications",
            st.lists(placement_specification(), min_size=11, max_size=12),
        ),
        "enable_multiple_jobs": one_field("enable_multiple_jobs", g.not_a(bool)),
    },
)

INSTANCE_PREFERENCE = Case(
    s.InstancePreference,
    st.fixed_dictionaries(
        {"instance_type": g.instance_type()},
        optional={
            "instance_count": optional(st.integers(1, 100)),
            "training_plan_arns": optional(st.lists(g.training_plan_arn(), min_size=1, max_size=1)),
        },
    ),
    {
        "instance_type": one_field("instance_type", g.bad_instance_type()),
        "instance_count": one_field("instance_count", bad_int(1, 100)),
        "training_plan_arns count": one_field(
            "training_plan_arns", st.lists(g.training_plan_arn(), min_size=2, max_size=3)
        ),
        "no training plan arns": one_field("training_plan_arns", st.just([])),
        "training_plan_arns": one_field(
            "training_plan_arns", g.bad_training_plan_arn().map(lambda arn: [arn])
        ),
    },
)


def instance_group() -> st.SearchStrategy[s.InstanceGroup]:
    return INSTANCE_GROUP.valid.map(lambda a: s.InstanceGroup(**a))


def instance_groups() -> st.SearchStrategy[list[s.InstanceGroup]]:
    return st.lists(instance_group(), min_size=1, max_size=3, unique_by=_group_name)


def _group_name(group: s.InstanceGroup) -> str:
    return group.instance_group_name


@st.composite
def instance_preferences(draw: st.DrawFn, with_counts: bool) -> list[s.InstancePreference]:
    types = draw(st.lists(g.instance_type(), min_size=1, max_size=5, unique=True))
    return [
        s.InstancePreference(
            instance_type=t,
            instance_count=draw(st.integers(1, 100)) if with_counts else None,
        )
        for t in types
    ]


COMPUTE_COMMON = {
    "volume_size_in_gb": st.integers(1, 16384),
    "volume_kms_key_id": optional(g.text()),
    "keep_alive_period_in_seconds": optional(st.integers(0, 3600)),
    "selected_instance_type": optional(g.instance_type()),
    "selected_instance_count": optional(st.integers(min_value=0)),
}


@st.composite
def compute(draw: st.DrawFn) -> Args:
    args: Args = draw(kwargs(**COMPUTE_COMMON))
    layout = draw(st.sampled_from(["type", "groups", "preferences"]))
    if layout == "type":
        args.update(
            draw(
                kwargs(
                    instance_type=g.instance_type(),
                    instance_count=st.integers(1, 100),
                    enable_managed_spot_training=BOOL_OR_NONE,
                    training_plan_arn=optional(g.training_plan_arn()),
                    instance_placement_config=optional(
                        INSTANCE_PLACEMENT_CONFIG.valid.map(
                            lambda a: s.InstancePlacementConfig(**a)
                        )
                    ),
                )
            )
        )
    elif layout == "groups":
        args["instance_groups"] = draw(instance_groups())
        args.update(draw(kwargs(instance_count=st.integers(1, 100))))
    else:
        with_counts = draw(st.booleans())
        args["instance_preferences"] = draw(instance_preferences(with_counts))
        if not with_counts:
            args["instance_count"] = draw(st.integers(1, 100))
        args.update(draw(kwargs(training_plan_arn=optional(g.training_plan_arn()))))
    return args


def _duplicate_groups(args: Args) -> st.SearchStrategy[Args]:
    return instance_group().map(
        lambda group: {"instance_type": None, "instance_groups": [group] * 2}
    )


def _groups_and_type(args: Args) -> st.SearchStrategy[Args]:
    return st.tuples(instance_groups(), g.instance_type()).map(
        lambda gt: {"instance_groups": gt[0], "instance_type": gt[1], "instance_preferences": None}
    )


def _preferences_and(field: str, value: st.SearchStrategy[Any]) -> Overrides:
    def overrides(args: Args) -> st.SearchStrategy[Args]:
        return st.tuples(instance_preferences(False), value).map(
            lambda pv: {
                "instance_type": None,
                "instance_groups": None,
                "instance_placement_config": None,
                "enable_managed_spot_training": None,
                "instance_count": 1,
                "instance_preferences": pv[0],
                field: pv[1],
            }
        )

    return overrides


def _preference_duplicates(args: Args) -> st.SearchStrategy[Args]:
    return g.instance_type().map(
        lambda t: {
            "instance_type": None,
            "instance_groups": None,
            "instance_placement_config": None,
            "enable_managed_spot_training": None,
            "instance_count": 1,
            "instance_preferences": [s.InstancePreference(instance_type=t)] * 2,
        }
    )


def _preference_counts_twice(args: Args) -> st.SearchStrategy[Args]:
    return instance_preferences(True).map(
        lambda prefs: {
            "instance_type": None,
            "instance_groups": None,
            "instance_placement_config": None,
            "enable_managed_spot_training": None,
            "instance_count": 2,
            "instance_preferences": prefs,
        }
    )


COMPUTE = Case(
    s.Compute,
    compute(),
    {
        "instance_type": one_field("instance_type", g.bad_instance_type()),
        "instance_count": one_field("instance_count", bad_int(1, 100)),
        "volume_size_in_gb": one_field("volume_size_in_gb", bad_int(1, 16384)),
        "keep_alive_period_in_seconds": one_field("keep_alive_period_in_seconds", bad_int(0, 3600)),
        "selected_instance_count": one_field("selected_instance_count", bad_int(0)),
        "selected_instance_type": one_field("selected_instance_type", g.bad_instance_type()),
        "training_plan_arn": one_field("training_plan_arn", g.bad_training_plan_arn()),
        "enable_managed_spot_training": one_field("enable_managed_spot_training", g.not_a(bool)),
        "duplicate group names": _duplicate_groups,
        "groups and a type": _groups_and_type,
        "preferences and a type": _preferences_and("instance_type", g.instance_type()),
        "preferences and spot": _preferences_and("enable_managed_spot_training", st.just(True)),
        "preferences and placement": _preferences_and(
            "instance_placement_config", st.just(s.InstancePlacementConfig())
        ),
        "duplicate preferences": _preference_duplicates,
        "two instance counts": _preference_counts_twice,
        "too many preferences": one_field(
            "instance_preferences",
            st.lists(st.just(s.InstancePreference(instance_type="ml.m5.xlarge")), min_size=6),
        ),
    },
)

HYPER_POD_COMPUTE = Case(
    s.HyperPodCompute,
    kwargs(
        cluster_name=g.text(),
        instance_type=optional(g.text()),
        namespace=g.text(),
        node_count=st.integers(min_value=1),
    ),
    {
        "node_count": one_field("node_count", bad_int(1)),
        "cluster_name": one_field("cluster_name", g.not_a(str)),
    },
)


@st.composite
def stopping_condition(draw: st.DrawFn) -> Args:
    args = draw(
        kwargs(
            max_runtime_in_seconds=optional(st.integers(1, MAX_RUNTIME)),
            max_pending_time_in_seconds=optional(st.integers(1, MAX_RUNTIME)),
        )
    )
    if draw(st.booleans()):
        low = args.get("max_runtime_in_seconds") or 1
        args["max_wait_time_in_seconds"] = draw(st.integers(min_value=low))
    return args


def _wait_below_runtime(args: Args) -> st.SearchStrategy[Args]:
    return st.integers(2, MAX_RUNTIME).flatmap(
        lambda runtime: st.integers(1, runtime - 1).map(
            lambda wait: {"max_runtime_in_seconds": runtime, "max_wait_time_in_seconds": wait}
        )
    )


STOPPING_CONDITION = Case(
    s.StoppingCondition,
    stopping_condition(),
    {
        "max_runtime_in_seconds": one_field("max_runtime_in_seconds", bad_int(1, MAX_RUNTIME)),
        "max_pending_time_in_seconds": one_field(
            "max_pending_time_in_seconds", bad_int(1, MAX_RUNTIME)
        ),
        "max_wait_time_in_seconds": one_field("max_wait_time_in_seconds", bad_int(1)),
        "wait below runtime": _wait_below_runtime,
    },
)

SUBNET = st.from_regex(r"subnet-[0-9a-zA-Z]{1,17}", fullmatch=True)
SECURITY_GROUP = st.from_regex(r"sg-[0-9a-zA-Z]{1,17}", fullmatch=True)


def _is_id(prefix: str) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        rest = value.removeprefix(prefix)
        return value.startswith(prefix) and bool(rest) and rest.isascii() and rest.isalnum()

    return check


NETWORKING = Case(
    s.Networking,
    kwargs(
        subnets=optional(st.lists(SUBNET, max_size=3)),
        security_group_ids=optional(st.lists(SECURITY_GROUP, max_size=3)),
        enable_network_isolation=BOOL_OR_NONE,
        enable_inter_container_traffic_encryption=BOOL_OR_NONE,
    ),
    {
        "subnets": one_field(
            "subnets", g.near_misses(SUBNET, _is_id("subnet-")).map(lambda x: ["subnet-1", x])
        ),
        "security_group_ids": one_field(
            "security_group_ids", g.near_misses(SECURITY_GROUP, _is_id("sg-")).map(lambda x: [x])
        ),
        "enable_network_isolation": one_field("enable_network_isolation", g.not_a(bool)),
    },
)

MODEL_ACCESS_CONFIG = Case(
    s.ModelAccessConfig,
    st.fixed_dictionaries({"accept_eula": st.booleans()}),
    {"accept_eula": one_field("accept_eula", st.none() | g.not_a(bool))},
)

HUB_ACCESS_CONFIG = Case(
    s.HubAccessConfig,
    st.fixed_dictionaries({"hub_content_arn": g.text(min_size=1, max_size=255)}),
    {
        "hub_content_arn": one_field(
            "hub_content_arn", st.just("") | st.text(min_size=256, max_size=300) | g.not_a(str)
        )
    },
)

S3_DATA_TYPES = ("S3Prefix", "ManifestFile", "AugmentedManifestFile", "Converse")
DISTRIBUTIONS = ("FullyReplicated", "ShardedByS3Key")

S3_DATA_SOURCE = Case(
    s.S3DataSource,
    st.fixed_dictionaries(
        {"s3_uri": g.s3_uri()},
        optional={
            "s3_data_type": st.sampled_from(S3_DATA_TYPES),
            "s3_data_distribution_type": st.sampled_from(DISTRIBUTIONS),
            "attribute_names": optional(st.lists(g.text(), max_size=3)),
            "instance_group_names": optional(st.lists(g.text(), max_size=3)),
            "model_access_config": optional(
                st.builds(s.ModelAccessConfig, accept_eula=st.booleans())
            ),
            "hub_access_config": optional(
                HUB_ACCESS_CONFIG.valid.map(lambda a: s.HubAccessConfig(**a))
            ),
        },
    ),
    {
        "s3_uri": one_field("s3_uri", g.bad_s3_uri()),
        "s3_data_type": one_field("s3_data_type", bad_literal(S3_DATA_TYPES)),
        "s3_data_distribution_type": one_field(
            "s3_data_distribution_type", bad_literal(DISTRIBUTIONS)
        ),
    },
)

FILE_SYSTEM_DATA_SOURCE = Case(
    s.FileSystemDataSource,
    st.fixed_dictionaries(
        {
            "file_system_id": g.text(),
            "file_system_access_mode": st.sampled_from(["rw", "ro"]),
            "file_system_type": st.sampled_from(["EFS", "FSxLustre"]),
            "directory_path": g.text(),
        }
    ),
    {
        "file_system_access_mode": one_field("file_system_access_mode", bad_literal(("rw", "ro"))),
        "file_system_type": one_field("file_system_type", bad_literal(("EFS", "FSxLustre"))),
        "directory_path": one_field("directory_path", st.none() | g.not_a(str)),
    },
)

DATASET_SOURCE = Case(
    s.DatasetSource,
    st.fixed_dictionaries({"dataset_arn": g.dataset_arn()}),
    {
        "dataset_arn": one_field("dataset_arn", g.bad_dataset_arn()),
        "dataset_arn too long": one_field(
            "dataset_arn", g.dataset_arn().map(lambda arn: arn + "x" * 2048)
        ),
    },
)


def s3_data_source() -> st.SearchStrategy[s.S3DataSource]:
    return S3_DATA_SOURCE.valid.map(lambda a: s.S3DataSource(**a))


def file_system_data_source() -> st.SearchStrategy[s.FileSystemDataSource]:
    return FILE_SYSTEM_DATA_SOURCE.valid.map(lambda a: s.FileSystemDataSource(**a))


def dataset_source() -> st.SearchStrategy[s.DatasetSource]:
    return DATASET_SOURCE.valid.map(lambda a: s.DatasetSource(**a))


SOURCES = ("s3_data_source", "file_system_data_source", "dataset_source")
DATA_SOURCE = Case(
    s.DataSource,
    st.one_of(
        s3_data_source().map(lambda v: {"s3_data_source": v}),
        file_system_data_source().map(lambda v: {"file_system_data_source": v}),
        dataset_source().map(lambda v: {"dataset_source": v}),
    ),
    {
        "no source": lambda _: st.just(dict.fromkeys(SOURCES)),
        "two sources": lambda _: st.tuples(s3_data_source(), file_system_data_source()).map(
            lambda pair: {
                "s3_data_source": pair[0],
                "file_system_data_source": pair[1],
                "dataset_source": None,
            }
        ),
        "s3_data_source": one_field("s3_data_source", g.text(max_size=5) | st.integers()),
    },
)


def data_source() -> st.SearchStrategy[s.DataSource]:
    return DATA_SOURCE.valid.map(lambda a: s.DataSource(**a))


SHUFFLE_CONFIG = Case(
    s.ShuffleConfig,
    st.fixed_dictionaries({"seed": st.integers()}),
    {"seed": one_field("seed", st.none() | g.not_a(int))},
)

CHANNEL = Case(
    s.Channel,
    st.fixed_dictionaries(
        {"channel_name": g.channel_name(), "data_source": data_source()},
        optional={
            "content_type": optional(g.text()),
            "compression_type": optional(st.sampled_from(["None", "Gzip"])),
            "record_wrapper_type": optional(st.sampled_from(["None", "RecordIO"])),
            "input_mode": optional(st.sampled_from(["File", "Pipe", "FastFile"])),
            "shuffle_config": optional(st.builds(s.ShuffleConfig, seed=st.integers())),
        },
    ),
    {
        "channel_name": one_field("channel_name", g.bad_channel_name()),
        "compression_type": one_field("compression_type", bad_literal(("None", "Gzip"))),
        "record_wrapper_type": one_field("record_wrapper_type", bad_literal(("None", "RecordIO"))),
        "input_mode": one_field("input_mode", bad_literal(("File", "Pipe", "FastFile"))),
        "data_source": one_field("data_source", st.none() | g.text(max_size=5)),
    },
)

#: A local path or an S3 URI, as InputData takes them as strings.
INPUT_LOCATION = st.one_of(
    g.s3_uri(),
    g.text(min_size=1).filter(lambda v: bool(v.strip()) and not v.startswith("s3://")),
)

INPUT_DATA = Case(
    s.InputData,
    st.fixed_dictionaries(
        {
            "channel_name": g.channel_name(),
            "data_source": st.one_of(
                INPUT_LOCATION, s3_data_source(), file_system_data_source(), data_source()
            ),
        },
        optional={"content_type": optional(g.text())},
    ),
    {
        "channel_name": one_field("channel_name", g.bad_channel_name()),
        "blank data_source": one_field("data_source", st.sampled_from(["", " ", "\t\n"])),
        "data_source S3 URI": one_field(
            "data_source", g.bad_s3_uri().filter(lambda v: v.startswith("s3://"))
        ),
        "data_source type": one_field("data_source", st.none() | st.integers() | st.just([])),
    },
)

OUTPUT_DATA_CONFIG = Case(
    s.OutputDataConfig,
    kwargs(
        s3_output_path=optional(g.s3_uri()),
        kms_key_id=optional(g.text()),
        compression_type=optional(st.sampled_from(["None", "Gzip", "NONE", "GZIP"])),
    ),
    {
        "s3_output_path": one_field("s3_output_path", g.bad_s3_uri()),
        "compression_type": one_field(
            "compression_type", bad_literal(("None", "Gzip", "NONE", "GZIP"))
        ),
        "kms_key_id": one_field("kms_key_id", g.not_a(str)),
    },
)


def _local_output(cls: type[Shape], uri_field: str) -> Case:
    return Case(
        cls,
        kwargs(**{uri_field: optional(g.s3_uri()), "local_path": g.absolute_path()}),
        {
            uri_field: one_field(uri_field, g.bad_s3_uri()),
            "local_path": one_field("local_path", g.relative_path() | st.just("")),
        },
    )


CHECKPOINT_CONFIG = _local_output(s.CheckpointConfig, "s3_uri")
TENSORBOARD_OUTPUT_CONFIG = _local_output(s.TensorBoardOutputConfig, "s3_output_path")

TRAINING_REPOSITORY_AUTH_CONFIG = Case(
    s.TrainingRepositoryAuthConfig,
    st.fixed_dictionaries({"training_repository_credentials_provider_arn": g.text()}),
    {
        "training_repository_credentials_provider_arn": one_field(
            "training_repository_credentials_provider_arn", st.none() | g.not_a(str)
        )
    },
)

TRAINING_IMAGE_CONFIG = Case(
    s.TrainingImageConfig,
    st.fixed_dictionaries(
        {"training_repository_access_mode": st.sampled_from(["Platform", "Vpc"])},
        optional={
            "training_repository_auth_config": optional(
                st.builds(
                    s.TrainingRepositoryAuthConfig,
                    training_repository_credentials_provider_arn=g.text(),
                )
            )
        },
    ),
    {
        "training_repository_access_mode": one_field(
            "training_repository_access_mode", bad_literal(("Platform", "Vpc"))
        ),
        "training_repository_auth_config": one_field(
            "training_repository_auth_config", g.text(max_size=5) | st.just({})
        ),
    },
)

RETRY_STRATEGY = Case(
    s.RetryStrategy,
    st.fixed_dictionaries({"maximum_retry_attempts": st.integers(1, 10)}),
    {"maximum_retry_attempts": one_field("maximum_retry_attempts", st.none() | bad_int(1, 10))},
)


def _flag(cls: type[Shape], name: str) -> Case:
    return Case(
        cls,
        st.fixed_dictionaries({name: st.booleans()}),
        {name: one_field(name, st.none() | g.not_a(bool))},
    )


INFRA_CHECK_CONFIG = _flag(s.InfraCheckConfig, "enable_infra_check")
REMOTE_DEBUG_CONFIG = _flag(s.RemoteDebugConfig, "enable_remote_debug")
SESSION_CHAINING_CONFIG = _flag(s.SessionChainingConfig, "enable_session_tag_chaining")

METRIC_DEFINITION = Case(
    s.MetricDefinition,
    st.fixed_dictionaries({"name": g.text(min_size=1, max_size=255), "regex": g.metric_regex()}),
    {
        "name": one_field("name", st.just("") | st.text(min_size=256, max_size=300) | g.not_a(str)),
        "regex": one_field("regex", g.bad_metric_regex()),
    },
)

MODEL_PACKAGE_CONFIG = Case(
    s.ModelPackageConfig,
    st.fixed_dictionaries(
        {"model_package_group_arn": g.text(min_size=1)},
        optional={"source_model_package_arn": optional(g.text())},
    ),
    {"model_package_group_arn": one_field("model_package_group_arn", st.just("") | g.not_a(str))},
)

TAG = Case(
    s.Tag,
    st.fixed_dictionaries(
        {"key": g.text(min_size=1, max_size=128)}, optional={"value": g.text(max_size=256)}
    ),
    {
        "key": one_field("key", st.just("") | st.text(min_size=129, max_size=140) | g.not_a(str)),
        "value": one_field("value", st.text(min_size=257, max_size=270) | g.not_a(str)),
    },
)

TRAINING = [
    SOURCE_CODE,
    INSTANCE_GROUP,
    PLACEMENT_SPECIFICATION,
    INSTANCE_PLACEMENT_CONFIG,
    INSTANCE_PREFERENCE,
    COMPUTE,
    HYPER_POD_COMPUTE,
    STOPPING_CONDITION,
    NETWORKING,
    MODEL_ACCESS_CONFIG,
    HUB_ACCESS_CONFIG,
    S3_DATA_SOURCE,
    FILE_SYSTEM_DATA_SOURCE,
    DATASET_SOURCE,
    DATA_SOURCE,
    SHUFFLE_CONFIG,
    CHANNEL,
    INPUT_DATA,
    OUTPUT_DATA_CONFIG,
    CHECKPOINT_CONFIG,
    TENSORBOARD_OUTPUT_CONFIG,
    TRAINING_REPOSITORY_AUTH_CONFIG,
    TRAINING_IMAGE_CONFIG,
    RETRY_STRATEGY,
    INFRA_CHECK_CONFIG,
    REMOTE_DEBUG_CONFIG,
    SESSION_CHAINING_CONFIG,
    METRIC_DEFINITION,
    MODEL_PACKAGE_CONFIG,
    TAG,
]

# -- tuning shapes ----------------------------------------------------------------------------


@st.composite
def hyperband(draw: st.DrawFn) -> Args:
    args = draw(
        kwargs(
            min_resource=optional(st.integers(1, 1000)),
            reduction_factor=optional(st.integers(min_value=2)),
            number_of_brackets=optional(st.integers(min_value=1)),
        )
    )
    if draw(st.booleans()):
        args["max_resource"] = draw(st.integers(min_value=args.get("min_resource") or 1))
    return args


def _min_above_max(args: Args) -> st.SearchStrategy[Args]:
    return st.integers(2, 1000).flatmap(
        lambda low: st.integers(1, low - 1).map(
            lambda high: {"min_resource": low, "max_resource": high}
        )
    )


HYPERBAND = Case(
    s.HyperbandStrategyConfig,
    hyperband(),
    {
        "min_resource": one_field("min_resource", bad_int(1)),
        "max_resource": one_field("max_resource", bad_int(1)),
        "reduction_factor": one_field("reduction_factor", bad_int(2)),
        "number_of_brackets": one_field("number_of_brackets", bad_int(1)),
        "min above max": _min_above_max,
    },
)

STRATEGY_CONFIG = Case(
    s.HyperParameterTuningJobStrategyConfig,
    kwargs(
        hyperband_strategy_config=optional(
            hyperband().map(lambda a: s.HyperbandStrategyConfig(**a))
        )
    ),
    {"hyperband_strategy_config": one_field("hyperband_strategy_config", g.not_a(dict))},
)

PARENT = Case(
    s.ParentHyperParameterTuningJob,
    st.fixed_dictionaries({"hyper_parameter_tuning_job_name": g.text(min_size=1, max_size=32)}),
    {
        "hyper_parameter_tuning_job_name": one_field(
            "hyper_parameter_tuning_job_name",
            st.just("") | st.text(min_size=33, max_size=40) | g.not_a(str),
        )
    },
)


def parent() -> st.SearchStrategy[s.ParentHyperParameterTuningJob]:
    return PARENT.valid.map(lambda a: s.ParentHyperParameterTuningJob(**a))


WARM_START_TYPES = ("IdenticalDataAndAlgorithm", "TransferLearning")
WARM_START = Case(
    s.HyperParameterTuningJobWarmStartConfig,
    st.fixed_dictionaries(
        {
            "parent_hyper_parameter_tuning_jobs": st.lists(parent(), min_size=1, max_size=5),
            "warm_start_type": st.sampled_from(WARM_START_TYPES),
        }
    ),
    {
        "no parents": one_field("parent_hyper_parameter_tuning_jobs", st.just([])),
        "too many parents": one_field(
            "parent_hyper_parameter_tuning_jobs", st.lists(parent(), min_size=6, max_size=7)
        ),
        "warm_start_type": one_field("warm_start_type", bad_literal(WARM_START_TYPES)),
    },
)

BEST_OBJECTIVE_NOT_IMPROVING = Case(
    s.BestObjectiveNotImproving,
    kwargs(max_number_of_training_jobs_not_improving=optional(st.integers(min_value=3))),
    {
        "max_number_of_training_jobs_not_improving": one_field(
            "max_number_of_training_jobs_not_improving", bad_int(3)
        )
    },
)

CONVERGENCE_DETECTED = Case(
    s.ConvergenceDetected,
    kwargs(complete_on_convergence=optional(st.sampled_from(["Disabled", "Enabled"]))),
    {
        "complete_on_convergence": one_field(
            "complete_on_convergence", bad_literal(("Disabled", "Enabled"))
        )
    },
)

COMPLETION_CRITERIA = Case(
    s.TuningJobCompletionCriteria,
    kwargs(
        target_objective_metric_value=optional(st.floats(allow_nan=False, allow_infinity=False)),
        best_objective_not_improving=optional(
            BEST_OBJECTIVE_NOT_IMPROVING.valid.map(lambda a: s.BestObjectiveNotImproving(**a))
        ),
        convergence_detected=optional(
            CONVERGENCE_DETECTED.valid.map(lambda a: s.ConvergenceDetected(**a))
        ),
    ),
    {
        "target_objective_metric_value": one_field(
            "target_objective_metric_value",
            st.sampled_from([float("nan"), float("inf"), float("-inf")]) | g.not_a(float),
        ),
        "best_objective_not_improving": one_field(
            "best_objective_not_improving",
            st.integers(max_value=2).map(
                lambda n: {"max_number_of_training_jobs_not_improving": n}
            ),
        ),
    },
)

TUNING_INSTANCE_CONFIG = Case(
    s.HyperParameterTuningInstanceConfig,
    st.fixed_dictionaries(
        {
            "instance_type": g.instance_type(),
            "instance_count": st.integers(1, 100),
            "volume_size_in_gb": st.integers(1, 16384),
        }
    ),
    {
        "instance_type": one_field("instance_type", g.bad_instance_type()),
        "instance_count": one_field("instance_count", bad_int(1, 100)),
        "volume_size_in_gb": one_field("volume_size_in_gb", bad_int(1, 16384)),
    },
)

TUNING = [
    HYPERBAND,
    STRATEGY_CONFIG,
    PARENT,
    WARM_START,
    BEST_OBJECTIVE_NOT_IMPROVING,
    CONVERGENCE_DETECTED,
    COMPLETION_CRITERIA,
    TUNING_INSTANCE_CONFIG,
]

ALL = TRAINING + TUNING
