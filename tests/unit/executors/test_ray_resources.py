"""What each instance type reserves on a Ray cluster, and the setting that overrides it."""

from __future__ import annotations

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.executors.ray_resources import GIB, parse_resource_table, resources_for


@pytest.mark.parametrize(
    ("instance_type", "expected"),
    [
        ("ml.m5.large", {"CPU": 2.0, "memory": 8 * GIB}),
        ("ml.c5.4xlarge", {"CPU": 16.0, "memory": 32 * GIB}),
        ("ml.r5.xlarge", {"CPU": 4.0, "memory": 32 * GIB}),
        ("ml.g5.2xlarge", {"CPU": 8.0, "GPU": 1.0, "memory": 32 * GIB}),
        ("ml.p4d.24xlarge", {"CPU": 96.0, "GPU": 8.0, "memory": 768 * GIB}),
        ("local", {"CPU": 1.0}),
    ],
)
def test_instance_types_reserve_their_published_sizes(
    instance_type: str, expected: dict[str, float]
) -> None:
    assert resources_for(instance_type) == expected


def test_the_setting_replaces_or_adds_entries() -> None:
    table = parse_resource_table(
        '{"ml.m5.large": {"CPU": 0.5}, "ml.x.y": {"CPU": 1, "GPU": 2, "memory_gib": 3}}'
    )
    assert resources_for("ml.m5.large", table) == {"CPU": 0.5}
    assert resources_for("ml.x.y", table) == {"CPU": 1.0, "GPU": 2.0, "memory": 3 * GIB}
    assert resources_for("ml.m5.xlarge", table)["CPU"] == 4.0
    assert parse_resource_table(None) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{nope", "must be JSON"),
        ("[1]", "must be a JSON object"),
        ('{"ml.m5.large": {"CPUs": 2}}', r"\['ml.m5.large'\] must be an object of CPU, GPU"),
        ('{"ml.m5.large": {"CPU": -1}}', "numbers >= 0"),
        ('{"ml.m5.large": {"CPU": 0}}', "asks for 0 CPUs"),
    ],
)
def test_a_bad_setting_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_resource_table(text)
