"""What the XGBoost container declares: ``PROGRAM``, its :class:`ProgramSpec`.

The facade reads it: the hyperparameters (the container's, defined with the rules between
them in ``config``), the metric definitions (``train:<metric>`` and ``validation:<metric>``
for every metric the program can log, registered on every XGBoost job, so tuning on
``validation:auc`` needs no definitions from the user) and the tunable ranges (what
``HyperparameterTuner(autotune=True)`` tunes). Light on purpose: it imports neither numpy
nor xgboost.

Example:
    >>> from sageyard.programs.xgboost.spec import PROGRAM
    >>> [d.name for d in PROGRAM.metric_definitions if d.name.endswith(":auc")]
    ['train:auc', 'validation:auc']
    >>> PROGRAM.tunable_ranges["eta"]
    ContinuousParameter(min_value=0.1, max_value=0.5, scaling_type='Linear')
"""

from __future__ import annotations

import re

from sageyard.core.parameter import ContinuousParameter, IntegerParameter
from sageyard.programs._spec import ProgramSpec
from sageyard.programs.xgboost.config import (
    ALGORITHM,
    CONTAINER_METRICS,
    HYPERPARAMETERS,
    XGBOOST_METRICS,
)

__all__ = ["PROGRAM", "metric_regex"]

# XGBoost appends "@<n>" to these on its own (ndcg@32 for rank:ndcg, tweedie-nloglik@1.5).
_SUFFIXED = frozenset({"pre", "ndcg", "map", "tweedie-nloglik"})


def metric_regex(data: str, metric: str) -> str:
    """The regex of ``<data>:<metric>`` in the container's round lines.

    The documented form, ``.*\\[[0-9]+\\].*#011validation-auc:(\\S+)``, with two changes:

    - the value stops at ``#`` too, so a metric followed by another on the line
      (``…#011train-auc:0.98#011validation-auc:0.97``) still reads as a number;
    - no leading ``.*``: metrics are searched for anywhere in a line, where a leading
      ``.*`` only adds backtracking, quadratic in the line's length (seconds for each
      10,000-character line that does not match, times the ~70 definitions).

    Example:
        >>> metric_regex("validation", "auc")
        '\\\\[[0-9]+\\\\].*#011validation-auc:([^#\\\\s]+)'
    """
    suffix = r"(?:@[^:#\s]*)?" if metric in _SUFFIXED else ""
    return rf"\[[0-9]+\].*#011{data}-{re.escape(metric)}{suffix}:([^#\s]+)"


PROGRAM = ProgramSpec(
    name="xgboost",
    module="sageyard.programs.xgboost",
    display_name=ALGORITHM,
    image_repositories=("sagemaker-xgboost", "xgboost"),
    hyperparameters=HYPERPARAMETERS,
    metrics={
        f"{data}:{metric}": metric_regex(data, metric)
        for metric in (*XGBOOST_METRICS, *CONTAINER_METRICS)
        for data in ("train", "validation")
    },
    # SageMaker's recommended ranges ("Tune an XGBoost model"), except num_round: the docs
    # say 1-4000, but every trial here runs on this machine and 4000 rounds take minutes
    # where a few hundred take seconds (with early_stopping_rounds a trial stops sooner
    # anyway), so 10-500 on a log scale: most of what more rounds buy shows up in the first
    # few hundred.
    tunable_ranges={
        "alpha": ContinuousParameter(0, 1000, "Linear"),
        "colsample_bylevel": ContinuousParameter(0.1, 1, "Linear"),
        "colsample_bynode": ContinuousParameter(0.1, 1, "Linear"),
        "colsample_bytree": ContinuousParameter(0.5, 1, "Linear"),
        "eta": ContinuousParameter(0.1, 0.5, "Linear"),
        "gamma": ContinuousParameter(0, 5, "Linear"),
        "lambda": ContinuousParameter(0, 1000, "Linear"),
        "max_delta_step": IntegerParameter(0, 10, "Linear"),
        "max_depth": IntegerParameter(0, 10, "Linear"),
        "min_child_weight": ContinuousParameter(0, 120, "Linear"),
        "num_round": IntegerParameter(10, 500, "Logarithmic"),
        "subsample": ContinuousParameter(0.5, 1, "Linear"),
    },
)
