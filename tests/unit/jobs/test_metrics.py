"""Metrics read from log lines, whole lines from a growing log, and the final values."""

from __future__ import annotations

from pathlib import Path

from sageyard.core.shapes import MetricDefinition
from sageyard.jobs.metrics import LogTail, MetricExtractor
from sageyard.store import MetricPoint, final_metrics

LOSS = MetricDefinition(name="train:loss", regex="loss=([0-9.eE+-]+)")
ACC = MetricDefinition(name="valid:acc", regex="acc: ([0-9.]+)")


def values(points: list[MetricPoint], name: str) -> list[tuple[float, int]]:
    return [(p.value, p.step) for p in points if p.metric_name == name]


def test_several_definitions_and_several_matches_per_line() -> None:
    extractor = MetricExtractor([LOSS, ACC])
    points = extractor.feed(["step 1 loss=0.5 acc: 0.9 loss=0.4", "no metric here"], at=100.0)
    assert values(points, "train:loss") == [(0.5, 0), (0.4, 1)]
    assert values(points, "valid:acc") == [(0.9, 0)]
    assert {p.at for p in points} == {100.0}


def test_steps_count_per_metric_across_calls() -> None:
    extractor = MetricExtractor([LOSS, ACC])
    extractor.feed(["loss=1.0", "loss=0.9"])
    points = extractor.feed(["loss=0.8 acc: 0.5"])
    assert values(points, "train:loss") == [(0.8, 2)]
    assert values(points, "valid:acc") == [(0.5, 0)]


def test_non_numeric_captures_are_ignored_and_take_no_step() -> None:
    anything = MetricDefinition(name="m", regex=r"m=(\S+)")
    extractor = MetricExtractor([anything])
    points = extractor.feed(["m=abc", "m=nan", "m=1e-3", "m=--"])
    assert values(points, "m") == [(0.001, 0)]


def test_a_group_that_did_not_take_part_is_ignored() -> None:
    optional = MetricDefinition(name="m", regex=r"(?:m=([0-9.]+)|done)")
    assert values(MetricExtractor([optional]).feed(["done", "m=2"]), "m") == [(2.0, 0)]


def test_no_definitions_no_points() -> None:
    assert MetricExtractor([]).feed(["loss=0.5"]) == []


def test_log_tail_holds_back_partial_lines(tmp_path: Path) -> None:
    log = tmp_path / "algo-1.log"
    tail = LogTail(log)
    assert tail.read_lines() == []  # no file yet
    log.write_bytes(b"first\nsec")
    assert tail.read_lines() == ["first"]
    with log.open("ab") as out:
        out.write(b"ond\r\nthird\n")
    assert tail.read_lines() == ["second", "third"]
    assert tail.read_lines() == []
    with log.open("ab") as out:
        out.write(b"no newline yet")
    assert tail.read_lines() == []
    assert tail.read_lines(final=True) == ["no newline yet"]
    assert tail.read_lines(final=True) == []


def test_log_tail_final_read_of_a_complete_log(tmp_path: Path) -> None:
    log = tmp_path / "algo-1.log"
    log.write_bytes(b"a\nb\n")
    assert LogTail(log).read_lines(final=True) == ["a", "b"]


def test_log_tail_keeps_split_utf8_characters(tmp_path: Path) -> None:
    log = tmp_path / "algo-1.log"
    encoded = "loss \u00e9t\u00e9\n".encode()
    log.write_bytes(encoded[:7])  # cuts the first two-byte character in half
    tail = LogTail(log)
    assert tail.read_lines() == []
    with log.open("ab") as out:
        out.write(encoded[7:])
    assert tail.read_lines() == ["loss \u00e9t\u00e9"]


def test_final_metrics_keep_the_last_value_of_each_metric() -> None:
    points = [
        MetricPoint("train:loss", 1.0, 10.0, 0),
        MetricPoint("valid:acc", 0.5, 11.0, 0),
        MetricPoint("train:loss", 0.25, 12.0, 1),
    ]
    assert final_metrics(points) == [
        {"MetricName": "train:loss", "Value": 0.25, "Timestamp": 12.0},
        {"MetricName": "valid:acc", "Value": 0.5, "Timestamp": 11.0},
    ]
    assert final_metrics([]) == []
