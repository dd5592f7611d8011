"""What the DPO program declares: options, dataset rows, metrics, tunable ranges, facade.

Light on purpose: the facade imports this module, so it imports neither torch nor TRL.
The options are the common fine-tuning ones (LoRA's too for ``training_type="lora"``) and
``beta``; a job also takes ``training_type``, ``base_model`` and ``mlflow_*``, and is
checked before it is created as the program checks it when it starts.

Example:
    >>> from sageyard.programs.dpo.spec import PROGRAM
    >>> "validation:reward_margin" in [d.name for d in PROGRAM.metric_definitions]
    True
    >>> sorted(PROGRAM.tunable_ranges)
    ['beta', 'epochs', 'learning_rate', 'warmup_ratio']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sageyard.core.parameter import ContinuousParameter, IntegerParameter
from sageyard.models.datasets import DatasetError, DatasetFormat
from sageyard.programs._llm.data import check_strings
from sageyard.programs._llm.metrics import metric_regexes
from sageyard.programs._llm.options import options_per_training_type
from sageyard.programs._llm.request import check_job_hyperparameters
from sageyard.programs._spec import OptionSpec, ProgramSpec

__all__ = ["PROGRAM"]


def _check_row(row: dict[str, Any]) -> str | None:
    return check_strings(row, ("prompt", "chosen", "rejected"), "DPO rows need")


def _check_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    if all(row["chosen"] == row["rejected"] for row in rows):
        raise DatasetError(
            f"In the dataset {path}, 'chosen' equals 'rejected' on every line, so there is no "
            "preference to learn. Each row needs a preferred and a worse answer."
        )


# TRL's rewards/margins, rewards/accuracies, ... as train:reward_margin, train:reward_accuracy
_REWARDS = ("margin", "accuracy", "chosen", "rejected")

PROGRAM = ProgramSpec(
    name="dpo",
    module="sageyard.programs.dpo",
    display_name="DPO",
    data_parallel=True,  # torchrun on every host: TRL's trainer is data-parallel
    facade="sageyard.train.dpo_trainer:DPOTrainer",
    # Preference optimisation wants smaller learning rates than SFT, full the smallest.
    options=options_per_training_type(
        {"lora": 5e-5, "full": 1e-6},
        own={
            "beta": OptionSpec(
                type="float",
                default=0.1,
                min=1e-4,
                max=10.0,
                description="DPO temperature: how far the policy may move from the reference.",
            ),
        },
    ),
    hyperparameter_check=check_job_hyperparameters,
    dataset=DatasetFormat(
        example='{"prompt": "...", "chosen": "...", "rejected": "..."}',
        check_row=_check_row,
        check_rows=_check_rows,
    ),
    metrics=metric_regexes(
        *(f"{kind}:reward_{name}" for kind in ("train", "validation") for name in _REWARDS)
    ),
    # Options both training types take (autotune uses every range, whatever the training
    # type): a learning rate that spans full fine-tuning (~1e-6) and LoRA (~5e-5), and
    # DPO's beta.
    tunable_ranges={
        "learning_rate": ContinuousParameter(1e-7, 1e-4, "Logarithmic"),
        "beta": ContinuousParameter(0.01, 0.5, "Logarithmic"),
        "epochs": IntegerParameter(1, 5, "Linear"),
        "warmup_ratio": ContinuousParameter(0.0, 0.2, "Linear"),
    },
)
