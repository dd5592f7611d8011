"""Reward functions of reinforcement fine-tuning (RLVR): their contracts and their checks.

``contract.py``: the two ``lambda_handler`` contracts (per sample and batch), detected by
calling the handler, and the check before a job (:func:`~.contract.verify`).
"""

from sageyard.programs._rewards.contract import (
    Contract,
    Sample,
    Score,
    in_process,
    load_handler,
    sample_of_row,
    score,
    verify,
)

__all__ = [
    "Contract",
    "Sample",
    "Score",
    "in_process",
    "load_handler",
    "sample_of_row",
    "score",
    "verify",
]
