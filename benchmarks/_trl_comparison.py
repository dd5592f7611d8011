"""What the TRL throughput benchmarks share: the plain script's run, the interleaved
rounds, and the medians with the aims (``sft_throughput.py``, ``grpo_throughput.py``).

Each side's run returns a dict with at least ``num_tokens``, ``runtime``, ``peak_rss_mb``
and ``end_to_end``; ``tokens_per_second`` is added here.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCRIPT, JOB = "plain TRL script", "sageyard job"


def run_script(source: str, args: list[str], work: Path) -> dict[str, float]:
    """Run a plain TRL script (``python -c source out_dir? ...``) and read its RESULT line.

    ``args`` are passed after the output folder the script gets as its third argument.
    """
    out = Path(tempfile.mkdtemp(dir=work, prefix="script-"))
    argv = [*args[:2], str(out), *args[2:]]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", source, *argv], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"the plain TRL script failed:\n{done.stderr[-3000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    result["end_to_end"] = wall
    return result


def interleaved(
    rounds: int,
    sides: dict[str, Callable[[], dict[str, float]]],
    extra: Callable[[dict[str, float]], str],
) -> dict[str, list[dict[str, float]]]:
    """Run the sides ``rounds`` times, the order flipping each round; print each run."""
    runs: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
    order = list(sides)
    for round_ in range(rounds):
        for side in order if round_ % 2 == 0 else order[::-1]:
            result = sides[side]()
            result["tokens_per_second"] = result["num_tokens"] / result["runtime"]
            runs[side].append(result)
            print(
                f"round {round_ + 1} {side:<17} {result['tokens_per_second']:7.1f} tokens/s  "
                f"peak RSS {result['peak_rss_mb']:7.0f} MiB  {extra(result)}  "
                f"end-to-end {result['end_to_end']:.1f} s",
                flush=True,
            )
    return runs


def report(runs: dict[str, list[dict[str, Any]]], title: str, gpu: bool = False) -> None:
    """The medians of each side, and the job / script ratios against the aims."""

    def median(side: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[side])

    print(f"\n{title}:")
    for side in runs:
        memory = f"peak GPU {median(side, 'peak_gpu_mb'):6.0f} MiB  " if gpu else ""
        print(
            f"  {side:<17} {median(side, 'tokens_per_second'):7.1f} tokens/s  "
            f"peak RSS {median(side, 'peak_rss_mb'):6.0f} MiB  {memory}"
            f"tokens {median(side, 'num_tokens'):.0f}  "
            f"end-to-end {median(side, 'end_to_end'):.1f} s"
        )
    throughput = median(JOB, "tokens_per_second") / median(SCRIPT, "tokens_per_second")
    memory_ratio = median(JOB, "peak_rss_mb") / median(SCRIPT, "peak_rss_mb")
    print(f"  throughput ratio (job / script): {throughput:.3f}  (aim >= 0.95)")
    print(f"  peak memory ratio (job / script): {memory_ratio:.3f}  (aim <= 1.05)")
