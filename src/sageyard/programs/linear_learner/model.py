"""The linear learner's numpy trainer and the model it saves.

``num_models`` linear models train side by side (one array each for weights and biases,
vectorised over models) with mini-batch gradient steps: ``sgd`` (with ``momentum``),
``adam`` (``beta_1``, ``beta_2``) or ``rmsprop``; ``wd`` is an L2 penalty, ``l1`` a proximal
(soft-threshold) step, and the learning rate decays by ``lr_scheduler_factor`` every
``lr_scheduler_step`` updates down to ``lr_scheduler_minimum_lr``. Model 0 uses
``learning_rate``; the others rates spread around it (times 10^±0.5, 10^±1, …). Each model
keeps the parameters of its epoch with the lowest objective loss on the validation data
(the training data without a validation channel). Training stops early when the best loss
has not improved by ``early_stopping_tolerance`` (relative) for ``early_stopping_patience``
epochs. Everything is seeded (``SEED``).

**Model format.** ``model_algo-1`` in the model folder is JSON (see :class:`LinearModel`)::

    model = json.load(open("model_algo-1"))
    scores = rows @ numpy.array(model["weights"]) + numpy.array(model["bias"])
    # binary_classifier: positive when sigmoid(scores[:, 0]) >= model["threshold"]
    #   (hinge_loss: when scores[:, 0] >= model["threshold"]);
    # multiclass_classifier: scores.argmax(1); regressor: scores[:, 0] is the prediction.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sageyard.programs.linear_learner.config import LinearConfig
from sageyard.programs.linear_learner.losses import LossSettings, loss_and_gradient, loss_only

__all__ = [
    "FORMAT",
    "SEED",
    "EpochReport",
    "LinearModel",
    "Objective",
    "Scaler",
    "Split",
    "TrainResult",
    "fit_scaler",
    "hyperparameters_of",
    "learning_rates",
    "mean_loss",
    "model_scores",
    "train",
]

SEED = 0
FORMAT = "sageyard/linear-learner/1"
_CELLS_PER_CHUNK = 1 << 22  # scores computed at once when evaluating


@dataclass(frozen=True)
class Scaler:
    """Feature and label normalisation: ``(x - mean) / scale``."""

    feature_mean: np.ndarray
    feature_scale: np.ndarray
    label_mean: float = 0.0
    label_scale: float = 1.0

    def features(self, data: np.ndarray) -> np.ndarray:
        scaled: np.ndarray = (data - self.feature_mean) / self.feature_scale
        return scaled

    def label(self, labels: np.ndarray) -> np.ndarray:
        scaled: np.ndarray = (labels - self.label_mean) / self.label_scale
        return scaled


def fit_scaler(
    features: np.ndarray, labels: np.ndarray, config: LinearConfig, random: np.random.Generator
) -> Scaler:
    """Mean and standard deviation of up to ``num_point_for_scaler`` random rows."""
    rows, width = features.shape
    sample = (
        random.choice(rows, size=config.num_point_for_scaler, replace=False)
        if rows > config.num_point_for_scaler
        else np.arange(rows)
    )
    mean = np.zeros(width)
    scale = np.ones(width)
    if config.normalize_data:
        data = features[sample]
        if config.unbias_data:
            mean = data.mean(axis=0)
        spread = np.sqrt(((data - mean) ** 2).mean(axis=0))
        scale = np.where(spread > 1e-12, spread, 1.0)
    label_mean, label_scale = 0.0, 1.0
    if config.normalize_label:
        picked = labels[sample]
        if config.unbias_label:
            label_mean = float(picked.mean())
        spread_label = float(np.sqrt(((picked - label_mean) ** 2).mean()))
        label_scale = spread_label if spread_label > 1e-12 else 1.0
    return Scaler(mean, scale, label_mean, label_scale)


def learning_rates(config: LinearConfig) -> np.ndarray:
    """Model 0's rate is ``learning_rate``; the others times 10^-0.5, 10^0.5, 10^-1, 10^1, …"""
    exponents = [0.0]
    for i in range(1, config.num_models):
        exponents.append(0.5 * ((i + 1) // 2) * (-1 if i % 2 else 1))
    return config.learning_rate * np.power(10.0, np.asarray(exponents))


# -- the saved model ----------------------------------------------------------------------------


@dataclass
class LinearModel:
    """A trained model in the original feature (and label) space, as saved in ``model_algo-1``.

    ``weights`` is ``(feature_dim, outputs)`` and ``bias`` ``(outputs,)``: the scores of rows
    ``X`` are ``X @ weights + bias``. ``normalized_weights``/``normalized_bias`` are the same
    model on normalised data, with the statistics in ``normalization``.
    """

    predictor_type: str
    loss: str
    feature_dim: int
    num_classes: int
    weights: np.ndarray
    bias: np.ndarray
    threshold: float | None
    normalized_weights: np.ndarray
    normalized_bias: np.ndarray
    scaler: Scaler
    hyperparameters: dict[str, Any] = field(default_factory=dict)

    @property
    def score_type(self) -> str:
        return {
            "logistic": "sigmoid",
            "hinge_loss": "raw",
            "softmax_loss": "softmax",
        }.get(self.loss, "prediction")

    def scores(self, data: np.ndarray) -> np.ndarray:
        """``(rows, outputs)`` raw scores (label units for a regressor)."""
        scores: np.ndarray = data @ self.weights + self.bias
        return scores

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "predictor_type": self.predictor_type,
            "loss": self.loss,
            "score": self.score_type,
            "feature_dim": self.feature_dim,
            "num_classes": self.num_classes,
            "weights": self.weights.tolist(),
            "bias": self.bias.tolist(),
            "threshold": self.threshold,
            "normalized_weights": self.normalized_weights.tolist(),
            "normalized_bias": self.normalized_bias.tolist(),
            "normalization": {
                "feature_mean": self.scaler.feature_mean.tolist(),
                "feature_scale": self.scaler.feature_scale.tolist(),
                "label_mean": self.scaler.label_mean,
                "label_scale": self.scaler.label_scale,
            },
            "hyperparameters": self.hyperparameters,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        data = json.loads(path.read_text())
        norm = data["normalization"]
        return cls(
            predictor_type=data["predictor_type"],
            loss=data["loss"],
            feature_dim=data["feature_dim"],
            num_classes=data["num_classes"],
            weights=np.asarray(data["weights"], dtype=np.float64),
            bias=np.asarray(data["bias"], dtype=np.float64),
            threshold=data["threshold"],
            normalized_weights=np.asarray(data["normalized_weights"], dtype=np.float64),
            normalized_bias=np.asarray(data["normalized_bias"], dtype=np.float64),
            scaler=Scaler(
                np.asarray(norm["feature_mean"], dtype=np.float64),
                np.asarray(norm["feature_scale"], dtype=np.float64),
                norm["label_mean"],
                norm["label_scale"],
            ),
            hyperparameters=data.get("hyperparameters", {}),
        )

    @classmethod
    def from_normalized(
        cls,
        config: LinearConfig,
        weights: np.ndarray,
        bias: np.ndarray,
        scaler: Scaler,
        threshold: float | None,
        hyperparameters: dict[str, Any],
    ) -> LinearModel:
        """Fold the normalisation into the weights: scores on raw rows, in label units."""
        raw_weights = weights / scaler.feature_scale[:, None]
        raw_bias = bias - scaler.feature_mean @ raw_weights
        raw_weights = raw_weights * scaler.label_scale
        raw_bias = raw_bias * scaler.label_scale + scaler.label_mean
        return cls(
            predictor_type=config.predictor_type,
            loss=config.loss,
            feature_dim=int(weights.shape[0]),
            num_classes=config.num_classes or (2 if config.predictor_type != "regressor" else 1),
            weights=raw_weights,
            bias=raw_bias,
            threshold=threshold,
            normalized_weights=weights,
            normalized_bias=bias,
            scaler=scaler,
            hyperparameters=hyperparameters,
        )


# -- training -----------------------------------------------------------------------------------


@dataclass
class Split:
    """One channel's normalised features, its labels as given (``labels``) and as trained on
    (``targets``: normalised for a regressor), and per-row weights for training."""

    features: np.ndarray
    labels: np.ndarray
    targets: np.ndarray
    weights: np.ndarray | None = None


@dataclass(frozen=True)
class Objective:
    """The objective loss in label units, of scores made on normalised data."""

    loss: str
    settings: LossSettings
    label_scale: float = 1.0
    label_mean: float = 0.0

    @property
    def rescales(self) -> bool:
        return self.label_scale != 1.0 or self.label_mean != 0.0

    def __call__(self, scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Per-row loss ``(models, rows)``."""
        if self.rescales:
            scores = scores * self.label_scale + self.label_mean
        return loss_only(self.loss, scores, labels, self.settings)


@dataclass
class EpochReport:
    epoch: int
    train_loss: np.ndarray  # (models,) mean objective on the training rows during the epoch
    selection_loss: np.ndarray  # (models,) on validation (or training) rows after the epoch
    best: int  # the model with the lowest selection loss so far
    records_per_second: float


@dataclass
class TrainResult:
    weights: np.ndarray  # (models, features, outputs): each model's best epoch
    bias: np.ndarray  # (models, outputs)
    best_loss: np.ndarray  # (models,)
    best_epoch: np.ndarray  # (models,)
    learning_rates: np.ndarray  # (models,)
    epochs_run: int
    stopped_early: bool


class _Optimizer:
    """One optimiser state per parameter array; rates have shape ``(models,)``."""

    def __init__(self, config: LinearConfig, shape: tuple[int, ...]) -> None:
        self.config = config
        self.first = np.zeros(shape)
        self.second = np.zeros(shape)
        self.steps = 0

    def step(self, rates: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """The update to subtract from the parameters."""
        c = self.config
        self.steps += 1
        rate = rates.reshape((-1,) + (1,) * (grad.ndim - 1))
        if c.optimizer == "adam":
            self.first = c.beta_1 * self.first + (1 - c.beta_1) * grad
            self.second = c.beta_2 * self.second + (1 - c.beta_2) * grad**2
            first = self.first / (1 - c.beta_1**self.steps)
            second = self.second / (1 - c.beta_2**self.steps)
            update: np.ndarray = rate * first / (np.sqrt(second) + 1e-8)
            return update
        if c.optimizer == "rmsprop":
            self.second = 0.9 * self.second + 0.1 * grad**2
            self.first = c.momentum * self.first + grad / (np.sqrt(self.second) + 1e-8)
            return rate * self.first
        self.first = c.momentum * self.first + grad  # sgd
        return rate * self.first


def _batches(rows: int, size: int, random: np.random.Generator) -> Iterator[np.ndarray]:
    order = random.permutation(rows)
    for start in range(0, rows, size):
        yield order[start : start + size]


def model_scores(features: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``(models, rows, outputs)`` scores of every model (a broadcast matrix product)."""
    scores: np.ndarray = features @ weights + bias[:, None, :]
    return scores


def mean_loss(
    objective: Objective, split: Split, weights: np.ndarray, bias: np.ndarray
) -> np.ndarray:
    """Each model's mean objective on ``split`` (computed in chunks of rows)."""
    models, _, outputs = weights.shape
    rows = split.features.shape[0]
    chunk = max(1, _CELLS_PER_CHUNK // (models * outputs))
    total = np.zeros(models)
    for start in range(0, rows, chunk):
        part = slice(start, start + chunk)
        scores = model_scores(split.features[part], weights, bias)
        total += objective(scores, split.labels[part]).sum(axis=1)
    result: np.ndarray = total / max(rows, 1)
    return result


def train(
    config: LinearConfig,
    train_split: Split,
    selection: Split | None,
    settings: LossSettings,
    objective: Objective,
    report: Callable[[EpochReport], None],
) -> TrainResult:
    """Train ``num_models`` models; ``selection`` (validation) picks each one's best epoch.

    ``settings`` are the loss parameters in the units of ``targets``; ``objective`` is the
    loss reported (and used to pick epochs), in label units. A model whose parameters stop
    being finite (too high a learning rate) keeps its best epoch and trains no further.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _train(config, train_split, selection, settings, objective, report)


def _train(
    config: LinearConfig,
    train_split: Split,
    selection: Split | None,
    settings: LossSettings,
    objective: Objective,
    report: Callable[[EpochReport], None],
) -> TrainResult:
    random = np.random.default_rng(SEED)
    rows, width = train_split.features.shape
    models, outputs = config.num_models, config.outputs
    if config.init_method == "normal":
        weights = random.normal(0.0, config.init_sigma, size=(models, width, outputs))
    else:
        weights = random.uniform(-config.init_scale, config.init_scale, (models, width, outputs))
    bias = np.full((models, outputs), config.init_bias if config.use_bias else 0.0)
    base = learning_rates(config)
    rates = base.copy()
    batch = min(config.mini_batch_size, rows)
    per_epoch = math.ceil(rows / batch)
    step = config.lr_scheduler_step or per_epoch
    floor = np.minimum(config.lr_scheduler_minimum_lr, base)
    weight_opt = _Optimizer(config, weights.shape)
    bias_opt = _Optimizer(config, bias.shape)
    row_weights = train_split.weights
    alive = np.ones(models, dtype=bool)
    best_weights, best_bias = weights.copy(), bias.copy()
    best_loss = np.full(models, np.inf)
    best_epoch = np.zeros(models, dtype=np.int64)
    overall = np.inf
    stale = 0
    updates = 0
    epoch = 0
    stopped = False
    for epoch in range(config.epochs):
        started = time.monotonic()
        running = np.zeros(models)
        for index in _batches(rows, batch, random):
            features = train_split.features[index]
            scores = model_scores(features, weights, bias)
            loss, slope = loss_and_gradient(
                config.loss, scores, train_split.targets[index], settings
            )
            if objective.rescales:
                loss = objective(scores, train_split.labels[index])
            running += loss.sum(axis=1)
            if row_weights is not None:
                slope = slope * row_weights[index][None, :, None]
            count = len(index)
            grad_w = features.T @ slope / count + config.wd * weights
            stepped = weights - weight_opt.step(rates, grad_w)
            if config.l1 > 0:  # the proximal step of the L1 penalty
                shrink = (rates * config.l1)[:, None, None]
                stepped = np.sign(stepped) * np.maximum(np.abs(stepped) - shrink, 0.0)
            weights = np.where(alive[:, None, None], stepped, weights)
            if config.use_bias:
                grad_b = slope.sum(axis=1) / count + config.wd * config.bias_wd_mult * bias
                stepped_b = bias - bias_opt.step(rates * config.bias_lr_mult, grad_b)
                bias = np.where(alive[:, None], stepped_b, bias)
            updates += 1
            if config.use_lr_scheduler and updates % step == 0:
                rates = np.maximum(rates * config.lr_scheduler_factor, floor)
        elapsed = max(time.monotonic() - started, 1e-9)
        finite = np.isfinite(weights).all(axis=(1, 2)) & np.isfinite(bias).all(axis=1)
        if not finite.all():  # a diverged model keeps its best parameters and stops
            weights[~finite], bias[~finite] = best_weights[~finite], best_bias[~finite]
            alive &= finite
        split = selection if selection is not None else train_split
        current = mean_loss(objective, split, weights, bias)
        current = np.where(alive & np.isfinite(current), current, np.inf)
        improved = current < best_loss
        best_weights[improved], best_bias[improved] = weights[improved], bias[improved]
        best_loss = np.where(improved, current, best_loss)
        best_epoch[improved] = epoch
        leader = int(np.argmin(best_loss))
        report(
            EpochReport(
                epoch=epoch,
                train_loss=running / rows,
                selection_loss=current,
                best=leader,
                records_per_second=rows / elapsed,
            )
        )
        new_overall = float(best_loss[leader])
        gain = (overall - new_overall) / abs(overall) if math.isfinite(overall) else math.inf
        if overall == 0.0 or gain < config.early_stopping_tolerance:
            stale += 1
        else:
            stale = 0
        overall = min(overall, new_overall)
        if stale >= config.early_stopping_patience or not alive.any():
            stopped = epoch + 1 < config.epochs
            break
    return TrainResult(
        weights=best_weights,
        bias=best_bias,
        best_loss=best_loss,
        best_epoch=best_epoch,
        learning_rates=base,
        epochs_run=epoch + 1,
        stopped_early=stopped,
    )


def hyperparameters_of(config: LinearConfig, rate: float) -> dict[str, Any]:
    """What the saved model records about how it was trained."""
    chosen = asdict(config)
    chosen["learning_rate"] = float(rate)
    chosen["num_models"] = 1
    return chosen
