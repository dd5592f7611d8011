"""Real jobs that try to stall their supervisor by what they print, and cannot."""

from __future__ import annotations

import time

from sageyard.train.configs import MetricDefinition, StoppingCondition
from tests.integration.conftest import MakeTrainer

DEFINITIONS = [
    MetricDefinition(name="bad", regex=r"(a+)+$"),  # backtracks for ever on a long a...a!
    MetricDefinition(name="train:loss", regex=r"loss=([0-9.]+)"),
]


def test_a_catastrophic_regex_and_a_flood_leave_the_job_on_time_with_its_metric(
    make_trainer: MakeTrainer,
) -> None:
    trainer = make_trainer(
        """
        import sys
        print("a" * 200_000 + "!", flush=True)
        print("epoch 1 loss=0.5", flush=True)
        for i in range(20_000):  # a flood of points: capped, the last one kept
            print(f"\\r step {i} loss=0.{i % 9 + 1}", end="")
        print("\\nepoch 2 loss=0.125", flush=True)
        """,
    ).with_metric_definitions(DEFINITIONS)
    started = time.monotonic()
    trainer.train(logs=False)
    assert time.monotonic() - started < 20  # a few seconds, as any tiny job
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed"
    losses = [m.value for m in job.metrics("train:loss")]
    assert losses[0] == 0.5 and losses[-1] == 0.125
    assert len(losses) <= 10 * (int(time.monotonic() - started) + 2)  # the per-second cap
    assert [(m.metric_name, m.value) for m in job.final_metric_data_list] == [("train:loss", 0.125)]
    assert job.metrics("bad") == []
    warnings = job.describe()["Warnings"]
    assert any("'bad' is no longer read" in w and "(a+)+$" in w for w in warnings), warnings
    assert any("points a second of each metric are kept" in w for w in warnings), warnings
    assert any("[sageyard] Metric 'bad' is no longer read" in line for line in job.logs())


def test_a_job_printing_catastrophic_lines_still_stops_at_its_max_runtime(
    make_trainer: MakeTrainer,
) -> None:
    trainer = make_trainer(
        """
        import time
        while True:
            print("a" * 100_000 + "!", flush=True)
            print("b" * 300_000, "loss=0.5", flush=True)  # past 256 KB: cut there
            time.sleep(0.02)
        """,
        stopping_condition=StoppingCondition(max_runtime_in_seconds=2),
    ).with_metric_definitions([*DEFINITIONS, MetricDefinition(name="worse", regex=r"(a|aa)+$")])
    started = time.monotonic()
    trainer.train(logs=False)
    assert time.monotonic() - started < 15  # 2 s runtime, then SIGTERM
    job = trainer._latest_training_job
    assert job is not None
    assert (job.training_job_status, job.secondary_status) == ("Stopped", "MaxRuntimeExceeded")
    warnings = job.describe()["Warnings"]
    assert sum("is no longer read" in w for w in warnings) == 2, warnings
