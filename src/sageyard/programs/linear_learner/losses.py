"""The linear learner's losses: per-row loss and its gradient with respect to the scores.

Scores have shape ``(models, rows, outputs)``; labels ``(rows,)``. Binary labels are 0/1,
multiclass labels 0 … C-1, regression labels any number (in the space the scores are in).

Example:
    >>> import numpy as np
    >>> from sageyard.programs.linear_learner.losses import LossSettings, loss_and_gradient
    >>> loss, grad = loss_and_gradient("squared_loss", np.zeros((1, 2, 1)), np.array([1.0, -1.0]),
    ...                                LossSettings())
    >>> loss.tolist(), grad[..., 0].tolist()
    ([[1.0, 1.0]], [[-2.0, 2.0]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_softmax, softmax

__all__ = ["OBJECTIVE_NAMES", "LossSettings", "loss_and_gradient", "loss_only"]

# How each loss is named in the ``#quality_metric`` lines (``<name> <loss>=…``).
OBJECTIVE_NAMES = {
    "logistic": "binary_classification_cross_entropy_objective",
    "hinge_loss": "binary_classification_hinge_loss_objective",
    "softmax_loss": "multiclass_cross_entropy_objective",
    "squared_loss": "square_loss_objective",
    "absolute_loss": "absolute_loss_objective",
    "eps_insensitive_squared_loss": "eps_insensitive_squared_loss_objective",
    "eps_insensitive_absolute_loss": "eps_insensitive_absolute_loss_objective",
    "quantile_loss": "quantile_loss_objective",
    "huber_loss": "huber_loss_objective",
}


@dataclass(frozen=True)
class LossSettings:
    """The loss parameters, in the units of the labels the scores are compared with."""

    margin: float = 1.0
    quantile: float = 0.5
    insensitivity: float = 0.01
    huber_delta: float = 1.0


def loss_only(name: str, scores: np.ndarray, labels: np.ndarray, s: LossSettings) -> np.ndarray:
    """The loss of each row, shape ``(models, rows)``."""
    return loss_and_gradient(name, scores, labels, s, gradient=False)[0]


def loss_and_gradient(
    name: str,
    scores: np.ndarray,
    labels: np.ndarray,
    s: LossSettings,
    gradient: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row loss ``(models, rows)`` and d loss / d scores ``(models, rows, outputs)``."""
    if name == "softmax_loss":
        rows = np.arange(labels.shape[0])
        classes = labels.astype(np.int64)
        log_p = log_softmax(scores, axis=-1)
        loss = -log_p[:, rows, classes]
        if not gradient:
            return loss, scores
        grad = softmax(scores, axis=-1)
        grad[:, rows, classes] -= 1.0
        return loss, grad
    score = scores[..., 0]
    if name in ("logistic", "hinge_loss"):
        sign = 2.0 * labels - 1.0
        z = sign * score
        if name == "logistic":
            loss = np.logaddexp(0.0, -z)
            slope = -sign * expit(-z)
        else:
            active = s.margin - z
            loss = np.maximum(active, 0.0)
            slope = -sign * (active > 0)
        return loss, slope[..., None]
    residual = score - labels
    size = np.abs(residual)
    if name == "squared_loss":
        loss, slope = residual**2, 2.0 * residual
    elif name == "absolute_loss":
        loss, slope = size, np.sign(residual)
    elif name == "eps_insensitive_squared_loss":
        excess = np.maximum(size - s.insensitivity, 0.0)
        loss, slope = excess**2, 2.0 * excess * np.sign(residual)
    elif name == "eps_insensitive_absolute_loss":
        excess = np.maximum(size - s.insensitivity, 0.0)
        loss, slope = excess, np.sign(residual) * (excess > 0)
    elif name == "quantile_loss":
        under = residual < 0  # the label is above the prediction
        loss = np.where(under, -s.quantile * residual, (1.0 - s.quantile) * residual)
        slope = np.where(under, -s.quantile, 1.0 - s.quantile)
    elif name == "huber_loss":
        delta = s.huber_delta
        loss = np.where(size <= delta, 0.5 * residual**2, delta * (size - 0.5 * delta))
        slope = np.clip(residual, -delta, delta)
    else:  # the config only lets known losses through
        raise ValueError(f"unknown loss {name!r}")
    return loss, slope[..., None]
