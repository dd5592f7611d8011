"""What a job prints cannot stall its supervisor: bounded regexes, lines, memory and points."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sageyard.core.shapes import MetricDefinition
from sageyard.executors import HostExit
from sageyard.jobs.lifecycle import Heartbeat
from sageyard.jobs.metrics import (
    MAX_LINE_BYTES,
    LineSplitter,
    LogTail,
    MetricExtractor,
    required_literal,
)
from sageyard.jobs.watch import Stopping, Watch
from sageyard.store import MetricPoint

LOSS = MetricDefinition(name="loss", regex=r"loss=([0-9.]+)")
BAD = MetricDefinition(name="bad", regex=r"(a+)+$")
ADVERSARIAL = "a" * 200_000 + "!"  # (a+)+$ backtracks for ever on it


def values(points: list[MetricPoint], name: str = "loss") -> list[float]:
    return [p.value for p in points if p.metric_name == name]


# -- regexes with a time bound ------------------------------------------------------------


def test_a_catastrophic_regex_is_disabled_within_its_bound_with_one_warning() -> None:
    extractor = MetricExtractor([BAD, LOSS])
    started = time.perf_counter()
    points = extractor.feed([ADVERSARIAL, "loss=0.5"])
    assert time.perf_counter() - started < 2.0  # SEARCH_SECONDS is 0.25
    assert values(points) == [0.5]
    [warning] = extractor.take_warnings()
    assert "'bad' is no longer read" in warning and "(a+)+$" in warning
    assert "Rewrite it without nested repeats" in warning
    # disabled for the rest of the job: the next adversarial line costs nothing
    started = time.perf_counter()
    assert values(extractor.feed([ADVERSARIAL, "loss=0.25"])) == [0.25]
    assert time.perf_counter() - started < 0.1
    assert extractor.take_warnings() == []


def test_a_regex_slow_on_every_line_skips_the_rest_of_the_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(MetricExtractor, "FEED_SECONDS", 0.2)
    monkeypatch.setattr(MetricExtractor, "SEARCH_SECONDS", 5.0)
    slowish = MetricDefinition(name="slow", regex=r"(a|aa)+$")
    extractor = MetricExtractor([slowish, LOSS])
    lines = ["a" * 26 + "!"] * 100 + ["loss=0.5"]  # each a few ms, under SEARCH_SECONDS
    started = time.perf_counter()
    points = extractor.feed(lines)
    assert time.perf_counter() - started < 1.5
    assert values(points) == [0.5]
    assert extractor.unsearched["slow"] > 0
    [warning] = extractor.take_warnings()
    assert "'slow'" in warning and "were not searched" in warning


def test_a_regex_the_engine_cannot_compile_is_reported_not_raised() -> None:
    odd = MetricDefinition.model_construct(name="odd", regex="loss=(")
    extractor = MetricExtractor([odd, LOSS])
    assert values(extractor.feed(["loss=1"])) == [1.0]
    assert "does not compile" in extractor.take_warnings()[0]


def test_lookarounds_still_work() -> None:
    around = MetricDefinition(name="loss", regex=r"(?<=loss=)([0-9.]+)(?=;)")
    assert values(MetricExtractor([around]).feed(["loss=0.5;", "loss=0.7"])) == [0.5]


def test_the_heartbeat_beats_while_a_regex_runs_to_its_bound() -> None:
    beats: list[float] = []

    class Store:
        def update(self, name: str, **changes: object) -> None:
            beats.append(time.monotonic())

    heartbeat = Heartbeat(Store(), "job", 0.02)  # type: ignore[arg-type]
    heartbeat.start()
    try:
        started = time.monotonic()
        MetricExtractor([BAD]).feed([ADVERSARIAL])
        ended = time.monotonic()
    finally:
        heartbeat.stop()
        heartbeat.join()
    assert ended - started >= 0.2
    assert len([b for b in beats if started <= b <= ended]) >= 4  # not held by the GIL


@pytest.mark.parametrize(
    ("source", "literal"),
    [
        (r"loss=([0-9.]+)", "loss="),
        (r"^Train Loss: ([0-9\.]+)", "Train Loss: "),
        (r".*?#011validation-auc:(\S+)", "#011validation-auc:"),
        (r"\[[0-9]+\].*#011x:([^#\s]+)", "["),
        (r"ab?c=(\d+)", "a"),
        (r"ab+c=(\d+)", "ab"),
        (r"ab{2}=(\d+)", "a"),
        (r"a\d=(\d+)", "a"),
        (r"loss=(\S+)|cost=(\S+)", ""),
        (r"(?:loss|cost)=(\S+)", ""),
        (r"[|]loss=(\S+)", ""),
        (r"loss=([|0-9]+)", "loss="),
        (r"(a+)+$", ""),
    ],
)
def test_the_text_every_match_contains(source: str, literal: str) -> None:
    assert required_literal(source) == literal


def test_case_insensitive_and_verbose_patterns_are_searched_on_every_line() -> None:
    loud = MetricDefinition(name="loss", regex=r"(?i)LOSS=([0-9.]+)")
    assert values(MetricExtractor([loud]).feed(["loss=0.5"])) == [0.5]
    spaced = MetricDefinition(name="loss", regex=r"(?x) loss = ([0-9.]+)")
    assert values(MetricExtractor([spaced]).feed(["loss=0.5"])) == [0.5]


# -- lines: \r, long lines, bounded memory ------------------------------------------------


def test_progress_bars_split_on_carriage_returns_give_every_point() -> None:
    splitter = LineSplitter()
    lines = splitter.split(" 0%|\r 10%|█ | loss=0.5\r 20%| loss=0.4\n".encode())
    assert lines == [" 0%|", " 10%|█ | loss=0.5", " 20%| loss=0.4"]
    assert values(MetricExtractor([LOSS]).feed(lines)) == [0.5, 0.4]


def test_crlf_is_one_line_end_even_across_reads() -> None:
    splitter = LineSplitter()
    assert splitter.split(b"a\r") == ["a"]
    assert splitter.split(b"\nb\r\n\rc") == ["b"]  # the \r on an empty line gives none
    assert splitter.split(b"", final=True) == ["c"]


def test_a_300_kb_line_with_its_metric_near_the_start_matches() -> None:
    splitter = LineSplitter()
    line = b"step 1 loss=0.5 " + b"x" * 300_000 + b"\nloss=0.25\n"
    lines = splitter.split(line)
    assert [len(line) for line in lines] == [MAX_LINE_BYTES, 9]
    assert splitter.cut == 1
    assert values(MetricExtractor([LOSS]).feed(lines)) == [0.5, 0.25]


def test_200_mb_without_a_newline_keeps_the_splitter_bounded() -> None:
    splitter = LineSplitter()
    chunk = b"loss=0.5 " + b"y" * (1 << 20)
    started = time.perf_counter()
    lines: list[str] = []
    fed = 0
    while fed < 200 << 20:
        lines += splitter.split(chunk)
        fed += len(chunk)
        assert splitter.buffered <= MAX_LINE_BYTES
    assert time.perf_counter() - started < 3.0
    assert len(lines) == 1 and lines[0].startswith("loss=0.5 ")  # given once, at the cut
    assert splitter.split(b" end\nnext\n") == ["next"]  # the rest of the long line: dropped


def test_the_log_tail_reads_a_long_line_in_chunks(tmp_path: Path) -> None:
    log = tmp_path / "algo-1.log"
    log.write_bytes(b"loss=1 " + b"z" * (3 << 20) + b"\nafter\n")
    tail = LogTail(log)
    lines = tail.read_lines(final=True)
    assert [len(line) for line in lines] == [MAX_LINE_BYTES, 5]
    assert tail.offset == log.stat().st_size


# -- the cap on points per metric per second ----------------------------------------------


def test_points_over_the_cap_are_dropped_keeping_the_first_and_the_last() -> None:
    extractor = MetricExtractor([LOSS], per_second=10)
    lines = [f"loss={i}" for i in range(1000)]
    points = extractor.feed(lines, at=100.2)
    assert values(points) == [float(i) for i in range(9)]  # the first nine at once
    assert extractor.release(100.9) == []  # the second is not over yet
    more = extractor.feed(["loss=1000", "loss=1001"], at=100.7)
    assert more == []
    [last] = extractor.release(101.0)
    assert (last.value, last.at, last.step) == (1001.0, 100.7, 9)
    assert extractor.dropped["loss"] == 1002 - 10
    # a new second, a new allowance
    assert values(extractor.feed(["loss=1", "loss=2"], at=101.5)) == [1.0, 2.0]
    assert extractor.drain() == []  # nothing held


def test_the_last_value_of_a_second_survives_the_end_of_the_output() -> None:
    extractor = MetricExtractor([LOSS], per_second=2)
    points = extractor.feed(["loss=3", "loss=2", "loss=1 loss=0.5"], at=7.0)
    assert values(points) == [3.0]
    assert values(extractor.drain()) == [0.5]
    assert extractor.dropped == {"loss": 2}


def test_the_cap_is_per_metric() -> None:
    acc = MetricDefinition(name="acc", regex=r"acc=([0-9.]+)")
    extractor = MetricExtractor([LOSS, acc], per_second=3)
    points = extractor.feed([f"loss={i} acc={i}" for i in range(10)], at=5.0)
    assert values(points, "loss") == [0.0, 1.0] and values(points, "acc") == [0.0, 1.0]
    held = extractor.drain()
    assert sorted((p.metric_name, p.value) for p in held) == [("acc", 9.0), ("loss", 9.0)]


def test_a_flood_of_metric_lines_is_cheap_once_capped() -> None:
    extractor = MetricExtractor([LOSS], per_second=10)
    lines = [f"loss={i % 10}" for i in range(300_000)]
    started = time.perf_counter()
    points = extractor.feed(lines, at=1.0)
    assert time.perf_counter() - started < 1.0
    assert len(points) == 9 and len(extractor.drain()) == 1


def test_without_a_cap_every_point_is_kept() -> None:
    lines = [f"loss={i}" for i in range(100)]
    assert len(MetricExtractor([LOSS]).feed(lines, at=1.0)) == 100


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="per_second must be at least 1"):
        MetricExtractor([LOSS], per_second=0)


# -- the watch: bounded reads, drained to the end -----------------------------------------


class _ChunkedHost:
    """A host that has ended, whose log is read back at most ``chunk`` bytes at a time."""

    host, pid = "algo-1", None

    def __init__(self, log: bytes, chunk: int) -> None:
        self.log, self.chunk, self.reads = log, chunk, 0

    def poll(self) -> HostExit:
        return HostExit(0)

    def signal(self, signum: int) -> None:
        raise AssertionError("an ended host gets no signal")

    def read_log(self, offset: int) -> bytes:
        self.reads += 1
        return self.log[offset : offset + self.chunk]


class _Store:
    def __init__(self) -> None:
        self.points: list[MetricPoint] = []

    def append_metrics(self, name: str, points: list[MetricPoint]) -> None:
        self.points += points


class _Status:
    def __init__(self) -> None:
        self.notes: list[str] = []

    def stop_requested(self) -> bool:
        return False

    def note(self, message: str) -> None:
        self.notes.append(message)


def test_the_watch_reads_a_backlog_a_chunk_at_a_time_to_its_last_metric() -> None:
    log = b"".join(b"x" * 500 + b" loss=%d\n" % i for i in range(2_000)) + b"loss=0.125"
    host = _ChunkedHost(log, chunk=4_096)
    store, status = _Store(), _Status()
    state = Stopping(deadline=1e12, grace=1.0)
    watch = Watch("job", store, status, [BAD, LOSS], state)  # type: ignore[arg-type]
    result = watch.run([host])  # type: ignore[list-item]
    assert result.status == "Completed"
    assert host.reads > len(log) // 4_096
    kept = values(store.points)
    assert kept[:3] == [0.0, 1.0, 2.0] and kept[-1] == 0.125  # the partial last line too
    assert len(kept) <= 10 * 3  # the cap: a few seconds at most
    assert any("points a second of each metric are kept" in note for note in status.notes)
