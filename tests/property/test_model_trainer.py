"""Properties of ``ModelTrainer.train()`` over every configuration that reaches a job.

- Valid values of each setting (within what a job can use: S3 keys without ``..``, no NUL
  bytes, SageMaker's limits) are accepted by ``train(dry_run=True)``, alone and all together.
- A value that breaks one rule of its shape, built with ``model_construct`` so that the
  facade's own check is out of the way, is refused by the service's check of the request:
  ``train(dry_run=True)`` and ``train(wait=False)`` raise a ValueError, and nothing is
  written (no job folder, no job record, no file but the store's).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sageyard.core import shapes as s
from sageyard.core.session import Session
from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.train import ModelTrainer
from sageyard.train._request import training_job_request
from tests.property import shape_cases as c
from tests.property import strategies as g
from tests.property.strategies import FEWER

Apply = Callable[[ModelTrainer, Any], None]


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "train.py").write_text("print('hello')\n")
    return folder


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.csv").write_text("1,2\n")
    return folder


@pytest.fixture
def folders(code_dir: Path, data_dir: Path) -> dict[str, Path]:
    return {"code": code_dir, "data": data_dir}


def trainer(folders: dict[str, Path]) -> ModelTrainer:
    return ModelTrainer(
        training_image="python:3.11",
        source_code=s.SourceCode(source_dir=str(folders["code"]), entry_script="train.py"),
    )


def assert_nothing_written(home: Path) -> None:
    assert not (home / "jobs").exists()
    files = [p for p in home.rglob("*") if p.is_file()] if home.exists() else []
    # An empty default-bucket folder may exist, and the store opened by the check below.
    assert [p for p in files if not p.name.startswith("store.db")] == []
    assert TrainingJobService(Settings.from_env()).list_jobs() == []


# -- what a job can take ----------------------------------------------------------------------

NO_NUL = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])


def clean_text(min_size: int = 0, max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(NO_NUL, min_size=min_size, max_size=max_size)


def attribute(name: str) -> Apply:
    def apply(model_trainer: ModelTrainer, value: Any) -> None:
        setattr(model_trainer, name, value)

    return apply


@dataclass(frozen=True)
class JobCase:
    """One setting of a trainer: its valid values, the rules of its shape whose breaking
    reaches the job's request, and how it is set on a trainer."""

    name: str
    valid: Callable[[dict[str, Path]], st.SearchStrategy[Any]]
    invalid: Callable[[dict[str, Path]], st.SearchStrategy[Any]]
    apply: Apply

    def __str__(self) -> str:
        return self.name


def constructed(
    cls: type[s.Shape],
    valid: st.SearchStrategy[dict[str, Any]],
    rules: dict[str, c.Overrides],
) -> st.SearchStrategy[Any]:
    """Shapes of ``cls`` that break one of ``rules``, built without validation."""

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        args = draw(valid)
        rule = draw(st.sampled_from(sorted(rules)))
        return cls.model_construct(**{**args, **draw(rules[rule](args))})

    return build()


def rules_of(case: c.Case, *names: str) -> dict[str, c.Overrides]:
    return {name: case.invalid[name] for name in names}


def dotdot(field: str) -> c.Overrides:
    """An S3 URI with a ``..`` key part: a valid shape, but no job can use it."""
    return lambda _: g.BUCKET.map(lambda bucket: {field: f"s3://{bucket}/a/../b"})


def non_empty(rule: c.Overrides, field: str) -> c.Overrides:
    """``rule``'s values but the empty one (the facade takes an empty URI as unset)."""
    return lambda args: rule(args).filter(lambda o: o.get(field) not in ("", None))


# compute ------------------------------------------------------------------------------------

COMPUTE_VALID = st.one_of(
    c.kwargs(
        instance_type=g.instance_type(),
        instance_count=st.integers(1, 4),
        volume_size_in_gb=st.integers(1, 16384),
        keep_alive_period_in_seconds=st.integers(0, 3600),
    ),
    st.lists(
        st.builds(
            s.InstanceGroup,
            instance_type=g.instance_type(),
            instance_count=st.just(1),
            instance_group_name=st.text(NO_NUL, min_size=1, max_size=64),
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda group: group.instance_group_name,
    ).map(lambda groups: {"instance_groups": groups}),
)
COMPUTE = JobCase(
    "compute",
    lambda _: COMPUTE_VALID.map(lambda a: s.Compute(**a)),
    lambda _: constructed(
        s.Compute,
        COMPUTE_VALID,
        rules_of(
            c.COMPUTE,
            "instance_type",
            "instance_count",
            "volume_size_in_gb",
            "keep_alive_period_in_seconds",
            "training_plan_arn",
            "duplicate group names",
            "groups and a type",
            "preferences and a type",
            "preferences and placement",
            "duplicate preferences",
            "two instance counts",
            "too many preferences",
        ),
    ),
    attribute("compute"),
)

# stopping condition -------------------------------------------------------------------------

STOPPING_VALID = c.kwargs(
    max_runtime_in_seconds=st.integers(1, c.MAX_RUNTIME),
    max_pending_time_in_seconds=st.integers(1, c.MAX_RUNTIME),
)
STOPPING = JobCase(
    "stopping_condition",
    lambda _: STOPPING_VALID.map(lambda a: s.StoppingCondition(**a)),
    lambda _: constructed(s.StoppingCondition, STOPPING_VALID, c.STOPPING_CONDITION.invalid),
    attribute("stopping_condition"),
)

# where outputs go ---------------------------------------------------------------------------

OUTPUT_VALID = c.kwargs(
    s3_output_path=g.job_s3_uri(),
    kms_key_id=clean_text(),
    compression_type=st.sampled_from(["None", "Gzip", "NONE", "GZIP"]),
)
OUTPUT = JobCase(
    "output_data_config",
    lambda _: OUTPUT_VALID.map(lambda a: s.OutputDataConfig(**a)),
    lambda _: constructed(
        s.OutputDataConfig,
        OUTPUT_VALID,
        {
            "s3_output_path": non_empty(
                c.OUTPUT_DATA_CONFIG.invalid["s3_output_path"], "s3_output_path"
            ),
            "kms_key_id": c.OUTPUT_DATA_CONFIG.invalid["kms_key_id"],
            "s3 key with ..": dotdot("s3_output_path"),
        },
    ),
    attribute("output_data_config"),
)


def local_output(case: c.Case, uri_field: str, name: str, apply: Apply) -> JobCase:
    valid = c.kwargs(**{uri_field: g.job_s3_uri(), "local_path": g.absolute_path()})
    return JobCase(
        name,
        lambda _: valid.map(lambda a: case.cls(**a)),
        lambda _: constructed(
            case.cls,
            valid,
            {
                uri_field: non_empty(case.invalid[uri_field], uri_field),
                "local_path": case.invalid["local_path"],
                "s3 key with ..": dotdot(uri_field),
            },
        ),
        apply,
    )


def _set_tensorboard(model_trainer: ModelTrainer, value: Any) -> None:
    model_trainer.with_tensorboard_output_config(value)


CHECKPOINT = local_output(
    c.CHECKPOINT_CONFIG, "s3_uri", "checkpoint_config", attribute("checkpoint_config")
)
TENSORBOARD = local_output(
    c.TENSORBOARD_OUTPUT_CONFIG, "s3_output_path", "tensorboard_output_config", _set_tensorboard
)

# input channels -----------------------------------------------------------------------------


def channel_variable(channel: Any) -> str:
    return str(channel.channel_name).upper().replace("-", "_").replace(".", "_")


def channels_valid(folders: dict[str, Path]) -> st.SearchStrategy[list[Any]]:
    data = str(folders["data"])
    simple = c.kwargs(content_type=clean_text()).flatmap(
        lambda extra: g.channel_name().map(
            lambda name: s.InputData(channel_name=name, data_source=data, **extra)
        )
    )
    full = st.builds(
        s.Channel,
        channel_name=g.channel_name(),
        data_source=st.builds(
            lambda mode: s.DataSource(
                file_system_data_source=s.FileSystemDataSource(
                    file_system_id="fs-1",
                    file_system_access_mode=mode,
                    file_system_type="EFS",
                    directory_path=data,
                )
            ),
            st.sampled_from(["ro", "rw"]),
        ),
        content_type=st.none() | clean_text(),
        compression_type=st.sampled_from([None, "None"]),
        input_mode=st.sampled_from([None, "File", "FastFile"]),
        shuffle_config=st.none() | st.builds(s.ShuffleConfig, seed=st.integers(-(2**63), 2**63)),
    )
    # (names that make the same SM_CHANNEL_<NAME> variable are refused: "a-b" and "A_B")
    return st.lists(simple | full, min_size=1, max_size=3, unique_by=channel_variable)


def channels_invalid(folders: dict[str, Path]) -> st.SearchStrategy[list[Any]]:
    data = str(folders["data"])
    return st.one_of(
        g.bad_channel_name().map(
            lambda n: [s.InputData.model_construct(channel_name=n, data_source=data)]
        ),
        g.channel_name().map(
            lambda n: [s.InputData(channel_name=n, data_source=data)] * 2  # names repeat
        ),
        g.channel_name()
        .filter(lambda n: n != n.swapcase())
        .map(  # "Train" and "tRAIN" would both be SM_CHANNEL_TRAIN
            lambda n: [
                s.InputData(channel_name=n, data_source=data),
                s.InputData(channel_name=n.swapcase(), data_source=data),
            ]
        ),
        channels_valid(folders).flatmap(
            lambda channels: constructed(
                s.Channel,
                st.just(
                    {
                        "channel_name": "train",
                        "data_source": s.DataSource(
                            file_system_data_source=s.FileSystemDataSource(
                                file_system_id="fs-1",
                                file_system_access_mode="ro",
                                file_system_type="EFS",
                                directory_path=data,
                            )
                        ),
                    }
                ),
                rules_of(
                    c.CHANNEL,
                    "channel_name",
                    "compression_type",
                    "record_wrapper_type",
                    "input_mode",
                ),
            ).map(lambda bad: [*channels, bad])
        ),
    )


CHANNELS = JobCase(
    "input_data_config", channels_valid, channels_invalid, attribute("input_data_config")
)

# tags, retries, metrics, flags --------------------------------------------------------------

TAG_VALID = c.kwargs(value=clean_text(max_size=256)).flatmap(
    lambda extra: clean_text(1, 128).map(lambda key: {"key": key, **extra})
)
TAGS = JobCase(
    "tags",
    lambda _: st.lists(TAG_VALID.map(lambda a: s.Tag(**a)), max_size=5, unique_by=lambda t: t.key),
    lambda _: constructed(s.Tag, TAG_VALID, c.TAG.invalid).map(lambda tag: [tag]),
    attribute("tags"),
)


RETRY = JobCase(
    "retry_strategy",
    lambda _: c.RETRY_STRATEGY.valid.map(lambda a: s.RetryStrategy(**a)),
    lambda _: constructed(s.RetryStrategy, c.RETRY_STRATEGY.valid, c.RETRY_STRATEGY.invalid),
    attribute("_retry_strategy"),
)

METRIC_VALID = st.fixed_dictionaries({"name": clean_text(1, 255), "regex": g.metric_regex()})
METRICS = JobCase(
    "metric_definitions",
    lambda _: st.lists(
        METRIC_VALID.map(lambda a: s.MetricDefinition(**a)),
        max_size=4,
        unique_by=lambda m: m.name,
    ).filter(lambda ms: all("\x00" not in m.regex for m in ms)),
    lambda _: constructed(s.MetricDefinition, METRIC_VALID, c.METRIC_DEFINITION.invalid).map(
        lambda m: [m]
    ),
    attribute("_metric_definitions"),
)


def flag(case: c.Case, name: str) -> JobCase:
    return JobCase(
        name.lstrip("_"),
        lambda _: case.valid.map(lambda a: case.cls(**a)),
        lambda _: constructed(case.cls, case.valid, case.invalid),
        attribute(name),
    )


INFRA = flag(c.INFRA_CHECK_CONFIG, "_infra_check_config")
REMOTE_DEBUG = flag(c.REMOTE_DEBUG_CONFIG, "_remote_debug_config")
SESSION_CHAINING = flag(c.SESSION_CHAINING_CONFIG, "_session_chaining_config")

IMAGE_CONFIG_VALID = st.fixed_dictionaries(
    {"training_repository_access_mode": st.sampled_from(["Platform", "Vpc"])}
)
IMAGE_CONFIG = JobCase(
    "training_image_config",
    lambda _: IMAGE_CONFIG_VALID.map(lambda a: s.TrainingImageConfig(**a)),
    lambda _: constructed(
        s.TrainingImageConfig, IMAGE_CONFIG_VALID, c.TRAINING_IMAGE_CONFIG.invalid
    ),
    attribute("training_image_config"),
)

GROUP_VALID = st.fixed_dictionaries({"model_package_group_arn": g.job_name(63)})
MODEL_PACKAGE = JobCase(
    "model_package_config",
    lambda _: GROUP_VALID.map(lambda a: s.ModelPackageConfig(**a)),
    lambda _: st.one_of(
        constructed(s.ModelPackageConfig, GROUP_VALID, c.MODEL_PACKAGE_CONFIG.invalid),
        g.bad_job_name(63)
        .filter(lambda n: not n.startswith("arn:"))
        .map(lambda n: s.ModelPackageConfig.model_construct(model_package_group_arn=n)),
    ),
    attribute("model_package_config"),
)

# hyperparameters and environment ------------------------------------------------------------

HP_VALUE = st.one_of(
    clean_text(max_size=2500),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
)
HYPERPARAMETERS = JobCase(
    "hyperparameters",
    lambda _: st.dictionaries(clean_text(0, 256), HP_VALUE, max_size=20),
    lambda _: st.one_of(
        st.just({f"hp{i}": i for i in range(101)}),
        st.integers(2501, 3000).map(lambda n: {"long": "x" * n}),
        st.integers(257, 300).map(lambda n: {"n" * n: 1}),
        clean_text().map(lambda t: {"nul": t + "\x00"}),
        clean_text().map(lambda t: {t + "\x00": "1"}),
    ),
    attribute("hyperparameters"),
)

ENV_NAME = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,30}", fullmatch=True)


def is_env_name(value: str) -> bool:
    return (
        0 < len(value) <= 512
        and value[0] in string.ascii_letters + "_"
        and all(ch in string.ascii_letters + string.digits + "_" for ch in value)
    )


ENVIRONMENT = JobCase(
    "environment",
    lambda _: st.dictionaries(ENV_NAME, clean_text(max_size=512), max_size=10),
    lambda _: st.one_of(
        g.near_misses(ENV_NAME, is_env_name).map(lambda name: {name: "1"}),
        st.just({"A=B": "1"}),
        st.integers(513, 600).map(lambda n: {"LONG": "x" * n}),
        clean_text().map(lambda t: {"NUL": t + "\x00"}),
        st.just({f"V{i}": "1" for i in range(101)}),
    ),
    attribute("environment"),
)


def source_code_invalid(folders: dict[str, Path]) -> st.SearchStrategy[Any]:
    valid = st.just({"source_dir": str(folders["code"]), "entry_script": "train.py"})
    return constructed(
        s.SourceCode,
        valid,
        rules_of(
            c.SOURCE_CODE,
            "entry_script leaves source_dir",
            "requirements leaves source_dir",
            "entry_script and command",
        ),
    )


SOURCE_CODE = JobCase(
    "source_code",
    lambda folders: st.builds(
        s.SourceCode,
        source_dir=st.just(str(folders["code"])),
        entry_script=st.just("train.py"),
        args=st.none() | st.lists(st.one_of(clean_text(), st.integers()), max_size=4),
    ),
    source_code_invalid,
    attribute("source_code"),
)

CASES = [
    COMPUTE,
    STOPPING,
    OUTPUT,
    CHECKPOINT,
    TENSORBOARD,
    CHANNELS,
    TAGS,
    RETRY,
    METRICS,
    INFRA,
    REMOTE_DEBUG,
    SESSION_CHAINING,
    IMAGE_CONFIG,
    MODEL_PACKAGE,
    HYPERPARAMETERS,
    ENVIRONMENT,
    SOURCE_CODE,
]

# -- the properties ---------------------------------------------------------------------------


@FEWER
@given(data=st.data())
@pytest.mark.parametrize("case", CASES, ids=str)
def test_valid_values_are_accepted(
    folders: dict[str, Path], case: JobCase, data: st.DataObject
) -> None:
    model_trainer = trainer(folders)
    case.apply(model_trainer, data.draw(case.valid(folders), label=case.name))
    model_trainer.train(dry_run=True)


@FEWER
@given(data=st.data())
def test_every_valid_setting_at_once_is_accepted(
    folders: dict[str, Path], data: st.DataObject
) -> None:
    model_trainer = trainer(folders)
    for case in CASES:
        case.apply(model_trainer, data.draw(case.valid(folders), label=case.name))
    model_trainer.train(dry_run=True)


@FEWER
@given(data=st.data())
@pytest.mark.parametrize("case", CASES, ids=str)
def test_invalid_values_are_refused_before_anything_is_written(
    sageyard_home: Path, folders: dict[str, Path], case: JobCase, data: st.DataObject
) -> None:
    bad = data.draw(case.invalid(folders), label=case.name)
    for run in ({"dry_run": True}, {"wait": False}):
        with pytest.raises(ValueError):
            model_trainer = trainer(folders)
            case.apply(model_trainer, bad)
            model_trainer.train(**run)
    assert_nothing_written(sageyard_home)


def test_hyper_pod_compute_is_refused(sageyard_home: Path, folders: dict[str, Path]) -> None:
    with pytest.raises(ValueError):
        model_trainer = trainer(folders)
        model_trainer.compute = s.HyperPodCompute(cluster_name="cluster")  # type: ignore[assignment]
        model_trainer.train(wait=False)
    assert_nothing_written(sageyard_home)


# -- found by the properties above: VpcConfig's ids, the list of tags -------------------------


@FEWER
@example(subnets="subnet-1\n")
@given(g.text(max_size=10).filter(lambda v: not c._is_id("subnet-")(v)))
def test_a_vpc_config_with_bad_subnet_ids_is_refused(
    sageyard_home: Path, folders: dict[str, Path], subnets: str
) -> None:
    model_trainer = trainer(folders)
    model_trainer.networking = s.Networking.model_construct(
        subnets=[subnets], security_group_ids=["sg-1"]
    )
    with pytest.raises(ValueError):
        model_trainer.train(dry_run=True)


@FEWER
@given(st.integers(51, 60) | st.just(2))
def test_more_than_50_tags_or_a_repeated_key_is_refused(
    sageyard_home: Path, folders: dict[str, Path], count: int
) -> None:
    model_trainer = trainer(folders)
    model_trainer.tags = (
        [s.Tag(key=f"k{i}") for i in range(count)] if count > 2 else [s.Tag(key="k")] * 2
    )
    with pytest.raises(ValueError):
        model_trainer.train(dry_run=True)


def test_the_facade_hands_the_shapes_to_the_service_unchecked(folders: dict[str, Path]) -> None:
    """What makes the properties above test the service's check: the facade builds the
    request from the shapes as they are."""
    model_trainer = trainer(folders)
    model_trainer.stopping_condition = s.StoppingCondition.model_construct(max_runtime_in_seconds=0)
    request = training_job_request(model_trainer, Session())
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 0}
