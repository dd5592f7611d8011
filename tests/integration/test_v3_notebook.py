"""A SageMaker v3 notebook flow, end to end, as ``examples/v3_notebook/notebook.py`` is
written for the real SDK (only the imports renamed): session_helper, image_uris, a
ModelTrainer with two channels and hard-coded /opt/ml paths, a tuner over an argparse
script, describe() attributes, analytics."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sageyard.core.resources import TrainingJob
from sageyard.runtime.sandbox import isolation_available

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not isolation_available(), reason="the notebook's script hard-codes /opt/ml (root needed)"
)


def test_the_v3_notebook_runs_unchanged() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "v3_notebook" / "notebook.py")],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Image: 763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.1-cpu-py310" in (
        output
    )
    assert "Status: Completed" in output and "Instance type: ml.m5.xlarge" in output
    job = TrainingJob.get(re.search(r"^Training job: (\S+)$", output, re.M).group(1))  # type: ignore[union-attr]
    assert [m.metric_name for m in job.final_metric_data_list] == [
        "train:loss",
        "validation:accuracy",
    ]
    assert "Tuning status: Completed" in output
    best = re.search(r"^Best training job: (\S+)$", output, re.M)
    assert best, output
    trials = re.findall(r"^(v3-notebook-\d+-\d{3}-[0-9a-f]+)\s+([0-9.]+)$", output, re.M)
    assert len(trials) == 4 and best.group(1) in {name for name, _ in trials}
    assert max(float(value) for _, value in trials) == float(dict(trials)[best.group(1)])
