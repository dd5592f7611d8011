"""What the SFT program declares: options, dataset rows, metrics, tunable ranges, facade.

Light on purpose: the facade imports this module, so it imports neither torch nor TRL.
The options are the common fine-tuning ones (LoRA's too for ``training_type="lora"``); a
job also takes ``training_type``, ``base_model`` and ``mlflow_*``, and is checked before
it is created as the program checks it when it starts.

Example:
    >>> from sageyard.programs.sft.spec import PROGRAM
    >>> [d.name for d in PROGRAM.metric_definitions][:2]
    ['train:loss', 'validation:loss']
    >>> sorted(PROGRAM.tunable_ranges)
    ['epochs', 'learning_rate', 'warmup_ratio', 'weight_decay']
"""

from __future__ import annotations

from typing import Any

from sageyard.core.parameter import ContinuousParameter, IntegerParameter
from sageyard.models.datasets import DatasetFormat
from sageyard.programs._llm.data import check_messages, check_strings
from sageyard.programs._llm.metrics import metric_regexes
from sageyard.programs._llm.options import options_per_training_type
from sageyard.programs._llm.request import check_job_hyperparameters
from sageyard.programs._spec import ProgramSpec

__all__ = ["PROGRAM"]


_EXAMPLE = '{"prompt": "...", "completion": "..."} or {"messages": [{"role": "user", ...}, ...]}'


def _check_row(row: dict[str, Any]) -> str | None:
    if "messages" in row:
        return check_messages(row["messages"])
    return check_strings(
        row, ("prompt", "completion"), "SFT rows need", alternative=" (or chat 'messages')"
    )


PROGRAM = ProgramSpec(
    name="sft",
    module="sageyard.programs.sft",
    display_name="SFT",
    data_parallel=True,  # torchrun on every host: TRL's trainer is data-parallel
    facade="sageyard.train.sft_trainer:SFTTrainer",
    # Full fine-tuning wants a smaller learning rate than LoRA.
    options=options_per_training_type({"lora": 2e-4, "full": 2e-5}),
    hyperparameter_check=check_job_hyperparameters,
    dataset=DatasetFormat(
        example=_EXAMPLE,
        check_row=_check_row,
    ),
    metrics=metric_regexes("train:token_accuracy", "validation:token_accuracy"),
    # Options both training types take (autotune uses every range, whatever the training
    # type): a learning rate that spans full fine-tuning (~1e-5) and LoRA (~2e-4), and the
    # schedule.
    tunable_ranges={
        "learning_rate": ContinuousParameter(1e-6, 1e-3, "Logarithmic"),
        "epochs": IntegerParameter(1, 5, "Linear"),
        "warmup_ratio": ContinuousParameter(0.0, 0.2, "Linear"),
        "weight_decay": ContinuousParameter(0.0, 0.1, "Linear"),
    },
)
