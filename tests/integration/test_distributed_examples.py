"""The reference's distributed examples, run as a user runs them:
``python examples/distributed/<x>.py``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sageyard.core.resources import TrainingJob
from tests.integration.conftest import tar_members

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # 32 processes importing torch on this machine's cores: about 2 minutes
def test_the_data_parallel_example_trains_over_32_processes_on_4_hosts(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "distributed" / "data_parallel.py")],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Status: Completed" in output, output
    assert "running on the CPU" in output  # the GPU instance type's fallback, said
    losses = [float(x) for x in re.findall(r"loss ([0-9.]+) over 32 processes", output)]
    assert len(losses) == 3 and losses[0] > losses[-1], output
    name = re.search(r"^Training job: (\S+)$", output, re.MULTILINE)
    assert name, output
    model = TrainingJob.get(name.group(1)).describe()["ModelArtifacts"]["S3ModelArtifacts"]
    saved = json.loads(tar_members(model, tmp_path)["model.json"])
    assert saved == {"world_size": 32, "hosts": ["algo-1", "algo-2", "algo-3", "algo-4"]}
