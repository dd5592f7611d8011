"""The linear learner's metrics, and the decision threshold of a binary classifier.

Metric names and the ``<score>``/``<loss>`` tags are SageMaker's, so that its documented
regexes (and ``spec.PROGRAM.metric_definitions``) read them from the log.

Example:
    >>> import numpy as np
    >>> scores, labels = np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 1, 0, 0])
    >>> threshold, _ = choose_threshold(scores, labels, "accuracy", 0.8, 0.8, 1.0)
    >>> 0.3 < threshold < 0.8
    True
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "binary_metrics",
    "choose_threshold",
    "multiclass_metrics",
    "regression_metrics",
]

Metrics = list[tuple[str, str, float]]  # (logged name, "score" or "loss", value)


def _counts(
    scores: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """For each cut of the scores sorted high to low: threshold, TP, FP, positives, rows."""
    order = np.argsort(-scores, kind="stable")
    ranked, truth = scores[order], labels[order].astype(np.float64)
    rows = len(ranked)
    # a cut after position k-1 predicts the k highest scores positive; keep cuts between
    # distinct scores, plus "none" (k=0) and "all" (k=rows)
    k = np.concatenate([[0], np.flatnonzero(ranked[:-1] > ranked[1:]) + 1, [rows]])
    k = np.unique(k)
    true_positive = np.concatenate([[0.0], np.cumsum(truth)])[k]
    false_positive = k - true_positive
    high = np.concatenate([[ranked[0] + 1.0], ranked])[k]  # the lowest score predicted positive
    low = np.concatenate([ranked, [ranked[-1] - 1.0]])[k]  # the highest score predicted negative
    threshold = (high + low) / 2.0
    return threshold, true_positive, false_positive, float(truth.sum()), float(rows)


def _rates(
    tp: np.ndarray, fp: np.ndarray, positives: float, rows: float, beta: float
) -> dict[str, np.ndarray]:
    predicted = tp + fp
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
        recall = tp / positives if positives > 0 else np.zeros_like(tp)
        b2 = beta**2
        denominator = b2 * precision + recall
        f_beta = np.where(denominator > 0, (1 + b2) * precision * recall / denominator, 0.0)
    negatives_right = (rows - positives) - fp
    return {
        "accuracy": (tp + negatives_right) / rows,
        "precision": precision,
        "recall": recall,
        "f_beta": f_beta,
    }


def choose_threshold(
    scores: np.ndarray,
    labels: np.ndarray,
    criterion: str,
    target_precision: float,
    target_recall: float,
    beta: float,
    default: float = 0.5,
) -> tuple[float, float]:
    """(threshold, criterion value): rows with ``score >= threshold`` are positive.

    ``accuracy``/``f_beta``: the cut with the best value; ``precision_at_target_recall``:
    the best precision among cuts with recall >= target (``recall_at_target_precision``
    likewise); when no cut reaches the target, the one closest to it. ``loss_function``
    keeps ``default`` (and reports its accuracy).
    """
    threshold, tp, fp, positives, rows = _counts(scores, labels)
    rates = _rates(tp, fp, positives, rows, beta)
    if criterion == "loss_function":
        predicted = scores >= default
        return default, float((predicted == (labels > 0.5)).mean())
    if criterion in ("accuracy", "f_beta"):
        values = rates[criterion]
        best = int(np.argmax(values))
        return float(threshold[best]), float(values[best])
    if criterion == "precision_at_target_recall":
        reach, value, target = rates["recall"], rates["precision"], target_recall
    else:
        reach, value, target = rates["precision"], rates["recall"], target_precision
    ok = reach >= target - 1e-12
    # the best value among cuts that reach the target, or the cut closest to the target
    best = int(np.flatnonzero(ok)[np.argmax(value[ok])]) if ok.any() else int(np.argmax(reach))
    return float(threshold[best]), float(value[best])


def binary_metrics(
    scores: np.ndarray, labels: np.ndarray, threshold: float, beta: float
) -> Metrics:
    """Accuracy, F-beta, precision, recall (at ``threshold``) and ROC AUC (both classes)."""
    from sklearn.metrics import roc_auc_score

    predicted = scores >= threshold
    truth = labels > 0.5
    tp = float((predicted & truth).sum())
    fp = float((predicted & ~truth).sum())
    rates = _rates(np.array([tp]), np.array([fp]), float(truth.sum()), float(len(labels)), beta)
    metrics: Metrics = [
        ("binary_classification_accuracy", "score", float(rates["accuracy"][0])),
        (f"binary_f_{beta:.3f}", "score", float(rates["f_beta"][0])),
        ("precision", "score", float(rates["precision"][0])),
        ("recall", "score", float(rates["recall"][0])),
    ]
    if 0 < truth.sum() < len(truth):
        metrics.append(("roc_auc_score", "score", float(roc_auc_score(truth, scores))))
    return metrics


def multiclass_metrics(
    scores: np.ndarray, labels: np.ndarray, classes: int, top_k: int, beta: float
) -> Metrics:
    """Accuracy, top-k accuracy, DCG, macro precision/recall/F-beta, balanced accuracy."""
    from sklearn.metrics import precision_recall_fscore_support

    truth = labels.astype(np.int64)
    predicted = scores.argmax(axis=1)
    k = min(top_k, classes)
    true_score = scores[np.arange(len(truth)), truth]
    rank = (scores > true_score[:, None]).sum(axis=1) + 1  # 1 = the true class scores highest
    precision, recall, f_beta, _ = precision_recall_fscore_support(
        truth, predicted, beta=beta, labels=np.arange(classes), average="macro", zero_division=0
    )
    present = np.unique(truth)
    balanced = np.mean([(predicted[truth == c] == c).mean() for c in present])
    return [
        ("multiclass_accuracy", "score", float((predicted == truth).mean())),
        (f"multiclass_top_k_accuracy_{k}", "score", float((rank <= k).mean())),
        ("dcg", "score", float((1.0 / np.log2(rank + 1.0)).mean())),
        ("macro_recall", "score", float(recall)),
        ("macro_precision", "score", float(precision)),
        (f"macro_f_{beta:.3f}", "score", float(f_beta)),
        ("multiclass_balanced_accuracy", "score", float(balanced)),
    ]


def regression_metrics(predictions: np.ndarray, labels: np.ndarray) -> Metrics:
    """Mean squared error, its root and the mean absolute error (in label units)."""
    residual = predictions - labels
    mse = float((residual**2).mean())
    return [
        ("mse", "loss", mse),
        ("rmse", "loss", float(np.sqrt(mse))),
        ("absolute_loss", "loss", float(np.abs(residual).mean())),
    ]
