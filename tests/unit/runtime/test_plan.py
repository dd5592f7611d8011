"""HostPlan: pure data that travels to any node as JSON."""

from __future__ import annotations

from sageyard.runtime.plan import ChannelPlan, HostGroup, HostPlan


def _plan() -> HostPlan:
    return HostPlan(
        job_name="job",
        host="algo-3",
        hosts=("algo-1", "algo-2", "algo-3"),
        groups=(
            HostGroup("trainers", "ml.m5.large", ("algo-1", "algo-2")),
            HostGroup("readers", "ml.c5.xlarge", ("algo-3",)),
        ),
        entry_script="train.py",
        hyperparameters={"epochs": "3"},
        distributed={"smdistributed": {"modelparallel": {"enabled": True}}},
        channels=(
            ChannelPlan("train", "/data/train"),
            ChannelPlan("lookup", "s3://b/lookup", instance_group_names=("trainers",)),
        ),
        checkpoint_uri="s3://b/ckpt",
    )


def test_a_plan_round_trips_through_json() -> None:
    plan = _plan()
    assert HostPlan.from_json(plan.to_json()) == plan


def test_rank_group_and_channels_of_one_host() -> None:
    plan = _plan()
    assert (plan.rank, plan.group.name, plan.instance_type) == (2, "readers", "ml.c5.xlarge")
    assert [c.name for c in plan.host_channels()] == ["train"]  # lookup is for trainers only
