"""Importing the public facade stays light: no heavy libraries, checked in fresh processes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["torch", "transformers", "ray", "mlflow", "xgboost", "pandas", "trl", "peft"]
SERVICE = ["boto3", "sqlalchemy"]

# Records every attempt to import a watched package (installed or not), then runs the
# statement and prints what was attempted and what ended up in sys.modules.
PROBE = """
import importlib.abc, json, sys
WATCHED = set(json.loads(sys.argv[1]))
attempted = set()
class Spy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in WATCHED:
            attempted.add(name.partition(".")[0])
        return None
sys.meta_path.insert(0, Spy())
exec(sys.argv[2])
loaded = {name.partition(".")[0] for name in sys.modules} & WATCHED
print(json.dumps(sorted(attempted | loaded)))
"""


def imported_by(statement: str, watched: list[str]) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(watched), statement],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "statement",
    [
        "import sageyard.train",
        "from sageyard.train import ModelTrainer",
        "import sageyard.train.configs",
        "from sageyard.train.sft_trainer import SFTTrainer",
        "from sageyard.train.dpo_trainer import DPOTrainer",
        "from sageyard.train.rlvr_trainer import RLVRTrainer",
        "from sageyard.train.rlaif_trainer import RLAIFTrainer",
        "from sageyard.train.common import FineTuningOptions",
        "from sageyard.train.tuner import HyperparameterTuner",
        "import sageyard.cli",
    ],
)
def test_no_heavy_library_is_imported(statement: str) -> None:
    assert imported_by(statement, HEAVY) == []


def test_import_sageyard_train_alone_needs_no_service_library() -> None:
    assert imported_by("import sageyard.train", SERVICE) == []


def test_the_probe_sees_attempts_to_import_missing_packages() -> None:
    statement = "try:\n    import sageyard_not_installed\nexcept ImportError:\n    pass"
    assert imported_by(statement, [*HEAVY, "sageyard_not_installed"]) == ["sageyard_not_installed"]


def test_serving_is_refused_with_a_message() -> None:
    import importlib

    import pytest

    with pytest.raises(ImportError, match="sageyard trains models; it does not serve them"):
        importlib.import_module("sageyard.serve")
