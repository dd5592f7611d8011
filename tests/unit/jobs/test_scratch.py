"""Scratch folders of supervisors: removed on exit, collected once their process is gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sageyard.jobs.artifacts import collect_scratch, scratch_dir


def test_a_scratch_folder_is_removed_on_exit_and_kept_while_its_process_lives(
    tmp_path: Path,
) -> None:
    with scratch_dir(tmp_path, "job") as folder:
        (folder / "model.tar.gz").write_bytes(b"x")
        assert collect_scratch(tmp_path) == []  # this process is alive
        assert folder.is_dir()
    assert not folder.exists()


def test_the_scratch_of_a_killed_process_is_collected(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from sageyard.jobs.artifacts import scratch_dir\n"
        "with scratch_dir(Path(sys.argv[1]), 'job') as folder:\n"
        "    (folder / 'output.tar.gz').write_bytes(b'x')\n"
        "    os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=False)
    (left,) = list(tmp_path.iterdir())
    (tmp_path / "not-ours").mkdir()
    assert collect_scratch(tmp_path) == [left]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-ours"]
    assert os.getpid()  # the collector itself is untouched
