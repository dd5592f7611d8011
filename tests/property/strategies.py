"""Hypothesis strategies for sageyard's configuration values, valid and invalid.

Valid values are built from each field's documented rule; invalid ones are near misses of
the valid ones (one character off, one past a bound, a trailing newline, the wrong type),
checked against a plain-Python statement of the rule so that an accidentally valid draw is
discarded rather than reported.

``PROPERTY`` is the settings every property of this package runs with: a modest number of
examples, no deadline (the first example imports and builds), and no example database
(nothing written into the working tree).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

PROPERTY = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: For properties whose examples each build a trainer or a file (still well under 1 s).
FEWER = settings(PROPERTY, max_examples=30)

LOWER = string.ascii_lowercase + string.digits
ALNUM = string.ascii_letters + string.digits

# -- building blocks --------------------------------------------------------------------------


def text(min_size: int = 0, max_size: int = 20) -> st.SearchStrategy[str]:
    """Any text (no surrogates), newlines and NUL bytes included."""
    return st.text(min_size=min_size, max_size=max_size)


def word(alphabet: str = ALNUM, min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=min_size, max_size=max_size)


def not_a(kind: type | tuple[type, ...]) -> st.SearchStrategy[Any]:
    """A value of another type than ``kind`` (lists, dicts and objects for any kind)."""
    candidates: list[st.SearchStrategy[Any]] = [
        st.lists(st.integers(), min_size=1, max_size=2),
        st.dictionaries(word(), st.integers(), min_size=1, max_size=2),
        st.just(object()),
    ]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if str not in kinds:
        candidates.append(word(string.ascii_letters, min_size=3).filter(_not_bool_word))
    if int not in kinds and float not in kinds:
        candidates.append(st.integers(min_value=2))  # 0 and 1 are booleans to pydantic
    if int in kinds and float not in kinds:
        candidates.append(st.floats(allow_nan=False, allow_infinity=False).filter(_fractional))
    return st.one_of(candidates)


def _fractional(value: float) -> bool:
    return not value.is_integer()


_BOOL_WORDS = {"true", "false", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0"}


def _not_bool_word(value: str) -> bool:
    return value.lower() not in _BOOL_WORDS


def mutations(valid: str) -> st.SearchStrategy[str]:
    """Near misses of a valid string: a character added, dropped or changed, a newline at
    the end, surrounding spaces, the case flipped."""
    return st.one_of(
        st.just(valid + "\n"),
        st.just(" " + valid),
        st.just(valid + " "),
        st.just(valid.swapcase()),
        st.just(valid[:-1]),
        st.just(valid[1:]),
        st.integers(0, len(valid)).flatmap(
            lambda i: st.sampled_from("/\\ \n\t\x00é_.-:A#").map(
                lambda c: valid[:i] + c + valid[i:]
            )
        ),
        st.just(""),
    )


def near_misses(
    valid: st.SearchStrategy[str], is_valid: Callable[[str], bool]
) -> st.SearchStrategy[str]:
    """Mutations of ``valid`` draws that break the rule ``is_valid`` states."""
    return valid.flatmap(mutations).filter(lambda value: not is_valid(value))


# -- S3 URIs ----------------------------------------------------------------------------------

BUCKET = st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True)


def is_shape_s3_uri(value: object) -> bool:
    """The shapes' rule: ``s3://``, a 3-63 character bucket of lowercase letters, digits,
    dots and hyphens that starts and ends with a letter or digit, then any key on one line."""
    if not isinstance(value, str) or not value.startswith("s3://"):
        return False
    bucket, _, key = value[len("s3://") :].partition("/")
    return (
        3 <= len(bucket) <= 63
        and all(c in LOWER + ".-" for c in bucket)
        and bucket[0] in LOWER
        and bucket[-1] in LOWER
        and "\n" not in key
    )


def s3_uri() -> st.SearchStrategy[str]:
    """An S3 URI the shapes accept (any key on one line: NUL bytes and ``..`` included)."""
    key = st.text(st.characters(exclude_characters="\n", exclude_categories=["Cs"]), max_size=30)
    return st.builds(
        lambda bucket, key: f"s3://{bucket}" + (f"/{key}" if key is not None else ""),
        BUCKET,
        st.none() | key,
    )


def job_s3_uri() -> st.SearchStrategy[str]:
    """An S3 URI a job can use: the shapes' rule, and a key with no ``..`` part and no NUL."""
    segment = word(ALNUM + "._-=+", max_size=8).filter(lambda s: s != "..")
    key = st.lists(segment, max_size=4).map("/".join)
    return st.builds(lambda bucket, key: f"s3://{bucket}/{key}", BUCKET, key)


def bad_s3_uri() -> st.SearchStrategy[str]:
    return st.one_of(
        near_misses(s3_uri(), is_shape_s3_uri),
        text(max_size=12).filter(lambda s: not is_shape_s3_uri(s)),
        st.sampled_from(["s3://", "s3:///key", "S3://bucket/key", "s3:/bucket", "bucket/key"]),
        BUCKET.map(lambda b: f"s3://{b}/key\n"),
        st.just("s3://" + "a" * 64),
    )


# -- names -------------------------------------------------------------------------------------

RESERVED_CHANNELS = ("code", "sm_drivers")


def is_channel_name(value: object) -> bool:
    """1-64 letters, digits, ``.``, ``-`` or ``_``, starting with a letter or digit; not a
    name the job keeps for itself."""
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 64
        and value[0] in ALNUM
        and all(c in ALNUM + "._-" for c in value)
        and value not in RESERVED_CHANNELS
    )


def channel_name() -> st.SearchStrategy[str]:
    return st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True).filter(is_channel_name)


def bad_channel_name() -> st.SearchStrategy[str]:
    return st.one_of(
        near_misses(channel_name(), is_channel_name),
        st.sampled_from(RESERVED_CHANNELS),
        st.just("a" * 65),
        st.sampled_from(["../train", ".hidden", "-train", "_train", "tr ain", "трен"]),
    )


LOCAL_INSTANCE_TYPES = ("local", "local_cpu", "local_gpu")


def is_instance_type(value: object) -> bool:
    """``ml.<family>.<size>`` (lowercase letters, digits, hyphens), or a local-mode type."""
    if not isinstance(value, str):
        return False
    if value in LOCAL_INSTANCE_TYPES:
        return True
    parts = value.split(".")
    return (
        len(parts) == 3
        and parts[0] == "ml"
        and all(p and all(c in LOWER + "-" for c in p) for p in parts[1:])
    )


def instance_type() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["ml.m5.xlarge", "ml.c5.2xlarge", "ml.g5.xlarge", "ml.t3.medium"]),
        st.sampled_from(LOCAL_INSTANCE_TYPES),
        st.from_regex(r"ml\.[a-z0-9-]{1,8}\.[a-z0-9-]{1,8}", fullmatch=True),
    )


def bad_instance_type() -> st.SearchStrategy[str]:
    return st.one_of(
        near_misses(instance_type(), is_instance_type),
        st.sampled_from(["m5.xlarge", "ml.m5", "ml.M5.xlarge", "ml..xlarge", "ml.m5.xlarge.x"]),
    )


def training_plan_arn() -> st.SearchStrategy[str]:
    return st.builds(
        "arn:aws:sagemaker:{}:{}:training-plan/{}".format,
        st.sampled_from(["us-west-2", "eu-central-1", ""]),
        st.from_regex(r"[0-9]{12}", fullmatch=True),
        word(ALNUM + "-", max_size=16),
    )


def is_training_plan_arn(value: object) -> bool:
    if not isinstance(value, str) or "\n" in value:
        return False
    parts = value.split(":", 5)
    return (
        len(parts) == 6
        and parts[0] == "arn"
        and parts[1].startswith("aws")
        and all(c in string.ascii_lowercase + "-" for c in parts[1][3:])
        and parts[2] == "sagemaker"
        and all(c in LOWER + "-" for c in parts[3])
        and len(parts[4]) == 12
        and parts[4].isascii()
        and parts[4].isdigit()
        and parts[5].startswith("training-plan/")
        and len(parts[5]) > len("training-plan/")
    )


def bad_training_plan_arn() -> st.SearchStrategy[str]:
    return near_misses(training_plan_arn(), is_training_plan_arn)


def dataset_arn() -> st.SearchStrategy[str]:
    return st.builds(
        "arn:aws:sagemaker:{}:{}:hub-content/{}/DataSet/{}{}".format,
        st.sampled_from(["us-west-2", "eu-west-1"]),
        st.from_regex(r"[0-9]{12}", fullmatch=True),
        word(ALNUM + "-"),
        word(ALNUM + "-"),
        st.sampled_from(["", "/1", "/12"]),
    )


def bad_dataset_arn() -> st.SearchStrategy[str]:
    return st.one_of(
        dataset_arn().map(lambda arn: arn.replace("DataSet", "Model")),
        dataset_arn().map(lambda arn: arn + "\n"),
        dataset_arn().map(lambda arn: arn.replace("hub-content/", "hub/")),
        dataset_arn().map(lambda arn: arn + "/extra/part"),
        st.just(""),
        word(),
    )


def is_job_name(value: object, limit: int) -> bool:
    """SageMaker's job-name rule: 1-``limit`` letters, digits and hyphens, starting and
    ending with a letter or digit."""
    return (
        isinstance(value, str)
        and 1 <= len(value) <= limit
        and all(c in ALNUM + "-" for c in value)
        and value[0] in ALNUM
        and value[-1] in ALNUM
    )


def job_name(limit: int) -> st.SearchStrategy[str]:
    return st.from_regex(rf"[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,{limit - 1}}}", fullmatch=True).filter(
        lambda name: len(name) <= limit
    )


def bad_job_name(limit: int) -> st.SearchStrategy[str]:
    return near_misses(job_name(limit), lambda value: is_job_name(value, limit))


def relative_path() -> st.SearchStrategy[str]:
    """A path inside a folder: relative, with no ``..`` part."""
    segment = word(ALNUM + "._-", max_size=10).filter(lambda s: s != "..")
    return st.lists(segment, min_size=1, max_size=3).map("/".join)


def escaping_path() -> st.SearchStrategy[str]:
    """A path that leaves its folder: absolute, or with a ``..`` part."""
    return st.one_of(
        relative_path().map(lambda p: "/" + p),
        relative_path().map(lambda p: "../" + p),
        relative_path().map(lambda p: p + "/../../x"),
    )


def absolute_path() -> st.SearchStrategy[str]:
    return relative_path().map(lambda p: "/" + p)


def metric_regex() -> st.SearchStrategy[str]:
    """A regex with exactly one capture group, at most 500 characters."""
    import re

    literal = st.text(max_size=20).map(re.escape)
    inner = st.sampled_from([r"[0-9.]+", r"\S+", r".*", r"[-+]?\d+(?:\.\d+)?", r"\d+"])
    return st.builds(lambda a, b, c: f"{a}({b}){c}", literal, inner, literal).filter(
        lambda r: len(r) <= 500
    )


def bad_metric_regex() -> st.SearchStrategy[str]:
    import re

    literal = st.text(min_size=1, max_size=20).map(re.escape)
    return st.one_of(
        literal,  # no group
        metric_regex().map(lambda r: r + "(x)"),  # two groups
        metric_regex().map(lambda r: "(" + r),  # does not compile
        st.just(""),
        st.just("(" + "a" * 500 + ")"),  # too long
    )
