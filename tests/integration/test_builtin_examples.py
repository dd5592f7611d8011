"""The built-in algorithm examples run as a user would run them, and say what they did."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "builtin"

pytest.importorskip("xgboost")
pytest.importorskip("sklearn")


def _run(name: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=240,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_xgboost_example_trains_then_tunes_on_validation_auc() -> None:
    out = _run("xgboost_breast_cancer.py")
    assert "(Completed)" in out
    auc = float(re.search(r"validation:auc: ([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    assert auc > 0.95
    best = float(re.search(r"validation:auc = ([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    assert best > 0.95
    assert "hyperparameters: {'eta'" in out


def test_kmeans_example_clusters_the_digits() -> None:
    out = _run("kmeans_digits.py")
    assert "(Completed)" in out
    assert "test:msd" in out
    purity = int(re.search(r"is theirs: (\d+)%", out).group(1))  # type: ignore[union-attr]
    assert purity > 60
