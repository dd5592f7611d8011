"""Each round's metrics: XGBoost's own, the container's computed ones, the log line, early stopping.

The log line is the container's: ``[<round>]#011train-<metric>:<v>#011validation-<metric>:<v>``
(``#011`` is the tab as SageMaker's CloudWatch shows it), so that the documented metric
regexes, such as ``.*\\[[0-9]+\\].*#011validation-auc:(\\S+)``, read it.

Example:
    >>> round_line(3, [("train", "auc", 0.98), ("validation", "auc", 0.9712345)])
    '[3]#011train-auc:0.98#011validation-auc:0.971235'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sageyard.programs.xgboost.config import is_maximized

if TYPE_CHECKING:
    import numpy as np

__all__ = ["EarlyStopping", "Score", "attributes", "container_metric", "parse_eval", "round_line"]

Score = tuple[str, str, float]  # (data set, metric, value)


def parse_eval(text: str) -> list[Score]:
    """XGBoost's ``[3]\\ttrain-rmse:0.41\\tvalidation-rmse:0.45`` → scores.

    Example:
        >>> parse_eval("[0]\\ttrain-poisson-nloglik:1.5\\tvalidation-ndcg@3:0.25")
        [('train', 'poisson-nloglik', 1.5), ('validation', 'ndcg@3', 0.25)]
    """
    scores: list[Score] = []
    for item in text.split("\t")[1:]:
        name, _, value = item.rpartition(":")
        data, _, metric = name.partition("-")
        scores.append((data, metric, float(value)))
    return scores


def round_line(round_: int, scores: Sequence[Score]) -> str:
    """The container's log line for one round."""
    return f"[{round_}]" + "".join(f"#011{d}-{m}:{v:.6g}" for d, m, v in scores)


def _classes(predictions: np.ndarray, objective: str) -> np.ndarray:
    """Predicted classes: argmax of multi:softprob, margin > 0 for binary:logitraw, the
    value itself for multi:softmax and binary:hinge, probability > 0.5 otherwise."""
    if predictions.ndim == 2:
        return predictions.argmax(axis=1).astype(float)
    if objective in ("multi:softmax", "binary:hinge"):
        return predictions
    threshold = 0.0 if objective == "binary:logitraw" else 0.5
    return (predictions > threshold).astype(float)


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom else 0.0


def _per_class(labels: np.ndarray, classes: np.ndarray, which: str) -> list[float]:
    """Precision, recall or F1 of each class seen in the labels or the predictions."""
    import numpy as np

    values = []
    for value in np.union1d(labels, classes):
        tp = float(np.sum((classes == value) & (labels == value)))
        precision = _ratio(tp, float(np.sum(classes == value)))
        recall = _ratio(tp, float(np.sum(labels == value)))
        if which == "precision":
            values.append(precision)
        elif which == "recall":
            values.append(recall)
        else:
            values.append(_ratio(2 * precision * recall, precision + recall))
    return values


def _positive(labels: np.ndarray, classes: np.ndarray, which: str) -> float:
    """Precision, recall or F1 of class 1 (binary classification)."""
    import numpy as np

    tp = float(np.sum((classes == 1) & (labels == 1)))
    precision = _ratio(tp, float(np.sum(classes == 1)))
    recall = _ratio(tp, float(np.sum(labels == 1)))
    if which == "precision":
        return precision
    if which == "recall":
        return recall
    return _ratio(2 * precision * recall, precision + recall)


def container_metric(
    metric: str, predictions: np.ndarray, labels: np.ndarray, objective: str
) -> float:
    """One of the container's computed metrics (``spec.CONTAINER_METRICS``).

    ``precision``, ``recall`` and ``f1`` are of class 1 for binary objectives and the
    unweighted mean over classes (``_macro``) for multi-class ones; ``_micro`` is over all
    rows (for single-label data that is the accuracy); ``mse`` and ``r2`` compare the
    predictions themselves (the predicted class for multi:softprob).

    Example:
        >>> import numpy as np
        >>> container_metric("accuracy", np.array([0.9, 0.2, 0.6]), np.array([1.0, 0, 0]),
        ...                  "binary:logistic")
        0.6666666666666666
    """
    import numpy as np

    classes = _classes(predictions, objective)
    if metric in ("mse", "r2"):
        values = predictions if predictions.ndim == 1 else classes
        error = float(np.mean((values - labels) ** 2))
        if metric == "mse":
            return error
        variance = float(np.var(labels))
        return 1.0 - error / variance if variance else 0.0
    if metric in ("accuracy", "precision_micro", "recall_micro"):
        return float(np.mean(classes == labels))
    if metric == "balanced_accuracy":
        return float(np.mean([np.mean(classes[labels == c] == c) for c in np.unique(labels)]))
    which, _, average = metric.partition("_")
    if not average:
        average = "macro" if objective.startswith("multi:") else "binary"
    if average == "binary":
        return _positive(labels, classes, which)
    return float(np.mean(_per_class(labels, classes, which)))


class EarlyStopping:
    """Stops when a metric has not improved for ``rounds`` rounds, as XGBoost's callback.

    The metric is ``metric`` (or, as XGBoost does, the last one on the line) of the data
    set ``data`` (validation when there is one, else train).

    Example:
        >>> stop = EarlyStopping(2, "validation", None)
        >>> [stop.update(i, [("validation", "rmse", v)]) for i, v in enumerate([3, 2, 2.5, 2.1])]
        [False, False, False, True]
        >>> stop.best_round, stop.best_score
        (1, 2)
    """

    def __init__(self, rounds: int, data: str, metric: str | None) -> None:
        self.rounds = rounds
        self.data = data
        self.metric = metric
        self.best_round: int | None = None
        self.best_score: float | None = None

    def update(self, round_: int, scores: Sequence[Score]) -> bool:
        """Record this round's score; True when training should stop."""
        mine = [(m, v) for d, m, v in scores if d == self.data]
        if self.metric is not None:
            mine = [(m, v) for m, v in mine if m == self.metric]
        if not mine:
            return False
        self.metric, value = mine[-1]
        if math.isnan(value):
            return False
        better = self.best_score is None or (
            value > self.best_score if is_maximized(self.metric) else value < self.best_score
        )
        if better:
            self.best_round, self.best_score = round_, value
        assert self.best_round is not None
        return round_ - self.best_round >= self.rounds

    def describe(self) -> str:
        return (
            f"best round {self.best_round}, where {self.data} {self.metric} was {self.best_score}"
        )


def attributes(stopping: EarlyStopping) -> dict[str, Any]:
    """What XGBoost records on a booster after early stopping."""
    return {"best_iteration": str(stopping.best_round), "best_score": str(stopping.best_score)}
