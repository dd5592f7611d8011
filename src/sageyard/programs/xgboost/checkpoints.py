"""Checkpoints as the XGBoost container writes them: ``xgboost-checkpoint.<round>``.

After each round the booster is saved to the checkpoint folder (``/opt/ml/checkpoints``,
synced with ``CheckpointConfig.s3_uri``) as ``xgboost-checkpoint.<round>`` (0-based, the
round of the log line), and only the last ``KEEP`` stay. A job that starts with
checkpoints there continues from the newest one it can load.

Example:
    >>> checkpoint_rounds(Path("/nonexistent"))
    []
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xgboost

__all__ = ["KEEP", "PREFIX", "checkpoint_rounds", "load_latest", "save_checkpoint"]

PREFIX = "xgboost-checkpoint"
KEEP = 5
_NAME = re.compile(rf"^{re.escape(PREFIX)}\.([0-9]+)$")


def checkpoint_rounds(folder: Path) -> list[int]:
    """The rounds that have a checkpoint in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    rounds = [int(m.group(1)) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return sorted(rounds)


def load_latest(
    folder: Path, params: dict[str, Any], cache: list[Any]
) -> tuple[xgboost.Booster, str] | None:
    """The newest loadable checkpoint (trying up to ``KEEP``) and its name, or None."""
    import xgboost

    for round_ in reversed(checkpoint_rounds(folder)[-KEEP:]):
        path = folder / f"{PREFIX}.{round_}"
        try:
            booster = xgboost.Booster(params, cache, model_file=bytearray(path.read_bytes()))
        except (xgboost.core.XGBoostError, OSError):
            continue  # a torn write or a foreign file: try the one before
        return booster, path.name
    return None


def save_checkpoint(booster: xgboost.Booster, folder: Path, round_: int) -> None:
    """Write ``xgboost-checkpoint.<round_>`` atomically and drop those older than ``KEEP``."""
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{PREFIX}.{round_}.ubj"  # the suffix picks XGBoost's format
    booster.save_model(temporary)
    os.replace(temporary, folder / f"{PREFIX}.{round_}")
    for old in checkpoint_rounds(folder):
        if old <= round_ - KEEP:
            (folder / f"{PREFIX}.{old}").unlink(missing_ok=True)
