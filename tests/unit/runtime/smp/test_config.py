"""The SMP parameters: each is checked on its own, and the degrees against the world size,
with SMP's rules and messages that say what would fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.runtime.smp.config import DEFAULTS, ENV, check_parameters, job_parameters, resolve


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"pipeline_parallel_degree": 2}, r"unknown parameter\(s\) \['pipeline_parallel_degree'\]"),
        ({"tensor_parallel_degree": 0}, "tensor_parallel_degree must be at least 1, got 0"),
        ({"tensor_parallel_degree": 2.0}, "must be a whole number, got 2.0"),
        ({"context_parallel_degree": True}, "must be a whole number, got True"),
        ({"hybrid_shard_degree": -1}, "0 \\(the largest that fits\\) or more"),
        ({"sm_activation_offloading": "yes"}, "must be True or False"),
        ({"random_seed": 2**31}, "between 0 and 2147483647"),
        ({"activation_loading_horizon": 0}, "at least 1"),
        ("tp=2", "must be a mapping"),
    ],
)
def test_each_parameter_is_checked(given: object, said: str) -> None:
    with pytest.raises(ConfigurationError, match=said):
        check_parameters(given)


def test_unset_parameters_take_the_references_defaults() -> None:
    degrees = resolve({}, 4)
    assert (degrees.replicas, degrees.hybrid_shard, degrees.tensor) == (4, 1, 1)  # no sharding
    assert degrees.random_seed == DEFAULTS["random_seed"] == 12345
    assert degrees.data_parallel == 4
    assert check_parameters({"tensor_parallel_degree": None}) == {}  # None: unset


@pytest.mark.parametrize(
    ("given", "world", "layout"),
    [
        # the reference's example: 2 hosts x 8 GPUs, 4-way sharding, 2-way tensor parallel
        ({"hybrid_shard_degree": 4, "tensor_parallel_degree": 2}, 16, (2, 4, 1, 2, 8)),
        ({"hybrid_shard_degree": 0, "tensor_parallel_degree": 2}, 8, (1, 4, 1, 2, 4)),
        ({"hybrid_shard_degree": 0}, 4, (1, 4, 1, 1, 4)),
        ({"hybrid_shard_degree": 4, "context_parallel_degree": 2}, 8, (2, 4, 2, 1, 4)),
        ({"expert_parallel_degree": 2, "hybrid_shard_degree": 2}, 4, (2, 2, 1, 1, 4)),
    ],
)
def test_the_degrees_lay_out_the_world(given: dict, world: int, layout: tuple) -> None:
    d = resolve(given, world)
    assert (d.replicas, d.hybrid_shard, d.context, d.tensor, d.data_parallel) == layout
    assert d.replicas * d.hybrid_shard * d.tensor == world


@pytest.mark.parametrize(
    ("given", "world", "said"),
    [
        ({"tensor_parallel_degree": 3}, 4, r"tensor_parallel_degree \(3\) must .*use 1, 2 or 4"),
        ({"hybrid_shard_degree": 3}, 4, r"use a hybrid_shard_degree of 1, 2 or 4"),
        (
            {"hybrid_shard_degree": 4, "tensor_parallel_degree": 2},
            4,
            r"hybrid_shard_degree \(4\) x tensor_parallel_degree \(2\) must divide",
        ),
        ({"context_parallel_degree": 2}, 4, r"must divide hybrid_shard_degree \(1\)"),
        (
            {"expert_parallel_degree": 2, "tensor_parallel_degree": 2},
            4,
            "cannot be combined with tensor_parallel_degree",
        ),
        ({"expert_parallel_degree": 8}, 4, r"expert_parallel_degree \(8\) must divide"),
    ],
)
def test_degrees_that_do_not_fit_are_refused_with_what_would(
    given: dict, world: int, said: str
) -> None:
    with pytest.raises(ConfigurationError, match=said):
        resolve(given, world)


def test_the_jobs_parameters_take_priority_over_the_scripts(tmp_path: Path) -> None:
    environ = {ENV: json.dumps({"tensor_parallel_degree": 2})}
    script = {"tensor_parallel_degree": 4, "random_seed": 1}
    assert job_parameters(environ, script) == {"tensor_parallel_degree": 2, "random_seed": 1}
    config = tmp_path / "smp_config.json"  # a path, as on HyperPod
    config.write_text(json.dumps({"hybrid_shard_degree": 2}))
    assert job_parameters({}, str(config)) == {"hybrid_shard_degree": 2}
    with pytest.raises(ConfigurationError, match="cannot read it as a JSON file"):
        job_parameters({}, str(tmp_path / "missing.json"))
    with pytest.raises(ConfigurationError, match=f"{ENV} is not JSON"):
        job_parameters({ENV: "{tp"})
