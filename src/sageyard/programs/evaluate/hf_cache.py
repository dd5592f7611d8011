"""Benchmarks already in the Hugging Face datasets cache, copied into the benchmark data
folder's layout.

``python -m sageyard.programs.evaluate.hf_cache BENCHMARK FOLDER [SUBTASK ...]`` loads each
subtask's splits with ``datasets.load_dataset(<dataset>, <subtask>)`` offline (the cache
only: ``HF_DATASETS_OFFLINE``), and only when every subtask's scored split is there writes
them as ``FOLDER/<subtask>/<split>.parquet``; it prints a JSON line saying what it wrote or
what is missing. The facade runs it as a process of its own (the ``datasets`` library
reads its offline setting when it is first imported, and stays out of the caller).

Example:
    $ python -m sageyard.programs.evaluate.hf_cache mmlu ~/.sageyard/benchmarks/mmlu anatomy
    {"written": ["/root/.sageyard/benchmarks/mmlu/anatomy/test.parquet"], "missing": []}
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from sageyard.programs.evaluate.catalog import BENCHMARKS, Benchmark

__all__ = ["copy_from_cache", "main"]


def copy_from_cache(benchmark: Benchmark, folder: Path, subtasks: list[str]) -> dict[str, Any]:
    """Write the cached splits of ``subtasks`` (none: the benchmark itself) under
    ``folder``; nothing when a scored split is missing (then ``missing`` names them)."""
    import datasets

    found: dict[tuple[str | None, str], Any] = {}
    missing = []
    wanted: list[str | None] = list(subtasks) or [None]
    for subtask in wanted:
        config = subtask or benchmark.hf_config
        for split in (benchmark.split, *benchmark.other_splits):
            try:
                found[(subtask, split)] = datasets.load_dataset(
                    benchmark.dataset, config, split=split
                )
            except Exception:  # not cached (or no such split): datasets raises many kinds
                if split == benchmark.split:
                    missing.append(f"{benchmark.dataset}/{config or 'default'}:{split}")
    if missing:
        return {"written": [], "missing": missing}
    written = []
    for (subtask, split), dataset in found.items():
        target = benchmark.folder(folder, subtask) / f"{split}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        dataset.to_parquet(str(target))
        written.append(str(target))
    return {"written": written, "missing": []}


def main(argv: list[str]) -> None:
    os.environ["HF_DATASETS_OFFLINE"] = "1"  # the cache only, never a download
    os.environ["HF_HUB_OFFLINE"] = "1"
    name, folder, *subtasks = argv
    print(json.dumps(copy_from_cache(BENCHMARKS[name], Path(folder), subtasks)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
