"""``import torch.sagemaker`` in a job with SMP: the site folder's hook names sageyard's
implementation, submodules included, and the environment's own sitecustomize still runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sageyard.runtime.smp import SITE_DIR

pytest.importorskip("torch")


def _run(code: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, (SITE_DIR, *paths)))}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_torch_sagemaker_is_sageyards_and_so_are_its_submodules(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text("import os\nos.environ['OWN_SITE'] = 'ran'\n")
    done = _run(
        "import os, torch.sagemaker as tsm, sageyard.runtime.smp.tsm as impl\n"
        "from torch.sagemaker.distributed.checkpoint.state_dict_saver import async_save\n"
        "from torch.sagemaker.distributed.checkpoint import state_dict_utils\n"
        "assert tsm is impl and tsm.state is impl.state, (tsm, impl)\n"
        "assert async_save.__module__.startswith('sageyard.runtime.smp.tsm')\n"
        "assert not tsm.is_initialized()\n"
        "print(os.environ.get('OWN_SITE'))\n",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ran"  # the environment's own sitecustomize ran too


def test_without_the_site_folder_there_is_no_torch_sagemaker() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", "import torch.sagemaker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "No module named 'torch.sagemaker'" in done.stderr


def test_a_name_sageyard_does_not_have_is_not_found() -> None:
    done = _run("import torch.sagemaker.nope")
    assert "No module named 'torch.sagemaker.nope'" in done.stderr
