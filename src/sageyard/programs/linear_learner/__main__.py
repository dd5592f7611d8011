"""The linear learner program: ``python -m sageyard.programs.linear_learner`` inside a job.

It follows SageMaker's linear learner container:

1. **Data.** Channels ``train`` (required), ``validation`` and ``test`` (optional), each
   ``text/csv`` (no header, the label in column 0, the features after it) or
   ``application/x-parquet`` (the first column the label). With no ContentType, ``.parquet``
   files are read as parquet and anything else as CSV. Labels: 0/1 for a
   ``binary_classifier``, 0 … num_classes-1 for a ``multiclass_classifier``, any number for a
   ``regressor``.
2. **Training.** Features are normalised (``normalize_data``, from ``num_point_for_scaler``
   rows), regression labels too (``normalize_label``); ``num_models`` models train in
   parallel with mini-batch gradient steps for up to ``epochs`` passes (see ``model``).
3. **Model selection.** A binary classifier's decision threshold is calibrated on the
   validation data (the training data without it) for
   ``binary_classifier_model_selection_criteria``, and the model with the best value wins;
   otherwise the model with the lowest objective loss.
4. **Metrics.** Each epoch ``#quality_metric: host=algo-1, epoch=<e>, train|validation
   <loss>_objective <loss>=…``; after training, for each channel given,
   ``#quality_metric: host=algo-1, <channel> <metric> <score|loss>=…`` with SageMaker's
   metric names (``binary_classification_accuracy``, ``multiclass_accuracy``, ``mse``, …).

The model is saved as JSON in ``model_algo-1`` (format in ``model``).

**Several hosts.** As for k-means: the first host (``algo-1``) trains on the data it sees,
the others end after checking the hyperparameters.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sageyard.programs._common import AlgorithmError, ProgramContext, configure_logging, run
from sageyard.programs._data import dense_channel_kind, read_channel
from sageyard.programs.linear_learner.config import LinearConfig, parse_config

if TYPE_CHECKING:
    import numpy as np

    from sageyard.programs.linear_learner.model import EpochReport, LinearModel, Scaler, TrainResult

log = logging.getLogger("sageyard.programs.linear_learner")

MODEL_FILE = "model_algo-1"
CHANNELS = ("train", "validation", "test")


@dataclass
class Data:
    features: np.ndarray
    labels: np.ndarray


def main(ctx: ProgramContext) -> None:
    config, notes = parse_config(ctx.hyperparameters)
    log.info("Final configuration: %s", config)
    for note in notes:
        log.warning(note)
    if ctx.channel("train") is None:
        given = ", ".join(sorted(ctx.input_data_config)) or "none"
        raise AlgorithmError(
            "ClientError: The linear-learner algorithm needs a 'train' channel (channels "
            f"given: {given}); pass InputData(channel_name='train', data_source=...)."
        )
    for name, settings in sorted(ctx.input_data_config.items()):
        if name not in CHANNELS:
            log.warning(
                "Channel %r is not used: the linear learner reads 'train', 'validation' and "
                "'test'.",
                name,
            )
        elif settings.get("TrainingInputMode", "File") == "Pipe":
            raise AlgorithmError(
                f"ClientError: The {name!r} channel uses Pipe input mode, which sageyard's "
                "linear learner does not read; use input_mode='File' (the default)."
            )
    if ctx.hosts and ctx.current_host != ctx.hosts[0]:
        log.info(
            "This job has %d hosts; sageyard's linear learner trains on the first (%s) only.",
            len(ctx.hosts),
            ctx.hosts[0],
        )
        return
    data: dict[str, Data] = {}
    for channel in CHANNELS:
        folder = ctx.channel(channel)
        if folder is not None:
            data[channel] = _read(ctx, channel, folder, config)
    _check_widths(data, config)
    model = fit(config, data, host=ctx.current_host)
    ctx.model_dir.mkdir(parents=True, exist_ok=True)
    model.save(ctx.model_dir / MODEL_FILE)
    log.info("Saved the model to %s", MODEL_FILE)
    for channel in CHANNELS:
        if channel in data:
            for name, tag, value in evaluate(model, config, data[channel]):
                log.info(
                    "#quality_metric: host=%s, %s %s <%s>=%r",
                    ctx.current_host,
                    channel,
                    name,
                    tag,
                    value,
                )
        elif channel == "test":
            log.info("Test data is not provided.")


# -- data ---------------------------------------------------------------------------------------


def _kind(ctx: ProgramContext, channel: str, folder: Path) -> str:
    return dense_channel_kind(
        ctx.content_type(channel),
        folder,
        channel,
        "linear learner",
        "no header, the label in column 0",
    )


def _read(ctx: ProgramContext, channel: str, folder: Path, config: LinearConfig) -> Data:
    import numpy as np

    dataset = read_channel(folder, channel, _kind(ctx, channel, folder), label=True)
    features = np.asarray(dataset.features, dtype=np.float64)
    labels = np.asarray(dataset.labels, dtype=np.float64)
    if features.shape[1] == 0:
        raise AlgorithmError(
            f"ClientError: The {channel!r} channel has a label column but no feature columns; "
            "put the label in column 0 and the features after it."
        )
    bad = np.argwhere(~np.isfinite(features))
    if len(bad):
        row, column = (int(i) + 1 for i in bad[0])
        raise AlgorithmError(
            f"ClientError: In the {channel!r} channel: row {row}, feature column {column} is "
            "empty or not a finite number; every feature must be a number."
        )
    _check_labels(channel, labels, config)
    log.info("Read %d rows of %d features from the %r channel", *features.shape, channel)
    return Data(features, labels)


def _check_labels(channel: str, labels: np.ndarray, config: LinearConfig) -> None:
    import numpy as np

    where = f"ClientError: In the {channel!r} channel:"
    finite = np.isfinite(labels)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0]) + 1
        raise AlgorithmError(f"{where} the label of row {row} is not a finite number.")
    if config.predictor_type == "binary_classifier":
        bad = np.flatnonzero((labels != 0) & (labels != 1))
        if len(bad):
            raise AlgorithmError(
                f"{where} row {bad[0] + 1} has label {labels[bad[0]]:g}; a binary_classifier "
                "needs labels 0 and 1 (in column 0)."
            )
    elif config.predictor_type == "multiclass_classifier":
        classes = config.num_classes
        assert classes is not None
        bad = np.flatnonzero((labels != np.round(labels)) | (labels < 0) | (labels >= classes))
        if len(bad):
            raise AlgorithmError(
                f"{where} row {bad[0] + 1} has label {labels[bad[0]]:g}; with "
                f"num_classes={classes} the labels are the integers 0 … {classes - 1} (in "
                "column 0)."
            )


def _check_widths(data: dict[str, Data], config: LinearConfig) -> None:
    width = data["train"].features.shape[1]
    if config.feature_dim is not None and config.feature_dim != width:
        raise AlgorithmError(
            f"ClientError: The 'train' channel has {width} feature columns (after the label in "
            f"column 0), but feature_dim={config.feature_dim}; set feature_dim={width} or 'auto'."
        )
    for channel, part in data.items():
        if part.features.shape[1] != width:
            raise AlgorithmError(
                f"ClientError: The {channel!r} channel has {part.features.shape[1]} feature "
                f"columns but the 'train' channel has {width}; every channel needs the same "
                "columns."
            )


# -- training -----------------------------------------------------------------------------------


def fit(config: LinearConfig, data: dict[str, Data], host: str = "algo-1") -> LinearModel:
    """Train, select and return the model, logging as the container does."""
    import numpy as np

    from sageyard.programs.linear_learner.losses import OBJECTIVE_NAMES, LossSettings
    from sageyard.programs.linear_learner.model import (
        SEED,
        Objective,
        Split,
        fit_scaler,
        train,
    )

    train_data = data["train"]
    rows = train_data.features.shape[0]
    if config.mini_batch_size > rows:
        log.warning(
            "mini_batch_size=%d is more than the %d training rows; each batch is all rows.",
            config.mini_batch_size,
            rows,
        )
    random = np.random.default_rng(SEED)
    scaler = fit_scaler(train_data.features, train_data.labels, config, random)
    objective = Objective(
        config.loss,
        LossSettings(config.margin, config.quantile, config.loss_insensitivity, config.huber_delta),
        scaler.label_scale,
        scaler.label_mean,
    )
    target_settings = LossSettings(
        config.margin,
        config.quantile,
        config.loss_insensitivity / scaler.label_scale,
        config.huber_delta / scaler.label_scale,
    )
    train_split = Split(
        scaler.features(train_data.features),
        train_data.labels,
        scaler.label(train_data.labels),
        _row_weights(config, train_data.labels),
    )
    validation = data.get("validation")
    selection = (
        Split(
            scaler.features(validation.features),
            validation.labels,
            scaler.label(validation.labels),
        )
        if validation is not None
        else None
    )
    name = OBJECTIVE_NAMES[config.loss]

    def report(epoch: EpochReport) -> None:
        best = epoch.best
        log.info(
            "#quality_metric: host=%s, epoch=%d, train %s <loss>=%r",
            host,
            epoch.epoch,
            name,
            float(epoch.train_loss[best]),
        )
        if selection is not None:
            log.info(
                "#quality_metric: host=%s, epoch=%d, validation %s <loss>=%r",
                host,
                epoch.epoch,
                name,
                float(epoch.selection_loss[best]),
            )
        log.info(
            "#progress_metric: host=%s, completed %s %% of epochs",
            host,
            round(100.0 * (epoch.epoch + 1) / config.epochs, 1),
        )
        log.info(
            "#throughput_metric: host=%s, train throughput=%r records/second",
            host,
            epoch.records_per_second,
        )

    log.info(
        "Training %d model(s) (learning rates from %g) for up to %d epochs",
        config.num_models,
        config.learning_rate,
        config.epochs,
    )
    result = train(config, train_split, selection, target_settings, objective, report)
    if result.stopped_early:
        log.info("Early stop condition met. Stopping training after %d epochs.", result.epochs_run)
    return _select(config, result, scaler, validation if validation is not None else train_data)


def _row_weights(config: LinearConfig, labels: np.ndarray) -> np.ndarray | None:
    import numpy as np

    if config.predictor_type == "binary_classifier":
        multiplier = config.positive_example_weight_mult
        if multiplier is None:  # balanced
            positives = float(labels.sum())
            negatives = float(len(labels) - positives)
            multiplier = negatives / positives if positives > 0 and negatives > 0 else 1.0
            log.info("positive_example_weight_mult (balanced) evaluated to %g.", multiplier)
        if multiplier == 1.0:
            return None
        weights: np.ndarray = np.where(labels > 0.5, multiplier, 1.0)
        return weights
    if config.predictor_type == "multiclass_classifier" and config.balance_multiclass_weights:
        assert config.num_classes is not None
        counts = np.bincount(labels.astype(np.int64), minlength=config.num_classes)
        per_class = np.where(
            counts > 0, len(labels) / (config.num_classes * np.maximum(counts, 1)), 0
        )
        weighted: np.ndarray = per_class[labels.astype(np.int64)]
        return weighted
    return None


def _select(config: LinearConfig, result: TrainResult, scaler: Scaler, data: Data) -> LinearModel:
    """The model to keep: calibrate each candidate's threshold, then pick the best."""
    import numpy as np

    from sageyard.programs.linear_learner.metrics import choose_threshold
    from sageyard.programs.linear_learner.model import LinearModel, hyperparameters_of

    usable = np.flatnonzero(np.isfinite(result.best_loss))
    if len(usable) == 0:
        raise AlgorithmError(
            "ClientError: Training diverged (the loss became infinite or NaN) for every model; "
            "lower learning_rate or keep normalize_data=true."
        )
    binary = config.predictor_type == "binary_classifier"
    criterion = config.binary_classifier_model_selection_criteria
    if binary and len(data.labels) > config.num_calibration_samples:
        picked = np.random.default_rng(0).choice(
            len(data.labels), size=config.num_calibration_samples, replace=False
        )
        data = Data(data.features[picked], data.labels[picked])
    best: tuple[tuple[float, float], int, LinearModel] | None = None
    for index in (int(i) for i in usable):
        model = LinearModel.from_normalized(
            config,
            result.weights[index],
            result.bias[index],
            scaler,
            None,
            hyperparameters_of(config, float(result.learning_rates[index])),
        )
        loss = float(result.best_loss[index])
        goodness = (-loss, -loss)  # a lower loss is better
        if binary:
            model.threshold, value = choose_threshold(
                decision_scores(model, data.features),
                data.labels,
                criterion,
                config.target_precision,
                config.target_recall,
                config.f_beta,
                0.5 if config.loss == "logistic" else 0.0,
            )
            if criterion != "loss_function":
                goodness = (value, -loss)  # ties go to the lower loss
        if best is None or goodness > best[0]:
            best = (goodness, index, model)
    assert best is not None
    _, index, model = best
    chosen = {
        "learning_rate": model.hyperparameters["learning_rate"],
        "optimizer": config.optimizer,
        "l1": config.l1,
        "wd": config.wd,
        "best_epoch": int(result.best_epoch[index]),
    }
    if model.threshold is not None:
        chosen["threshold"] = model.threshold
    log.info("Best model found for hyperparameters: %s", json.dumps(chosen))
    return model


def decision_scores(model: LinearModel, features: np.ndarray) -> np.ndarray:
    """What a binary classifier's threshold applies to: the probability, or the raw score."""
    from scipy.special import expit

    scores = model.scores(features)[:, 0]
    return expit(scores) if model.loss == "logistic" else scores


def evaluate(model: LinearModel, config: LinearConfig, data: Data) -> list[tuple[str, str, float]]:
    """The metrics of ``model`` on ``data``: (logged name, ``score``/``loss``, value)."""
    import numpy as np

    from sageyard.programs.linear_learner.losses import OBJECTIVE_NAMES, LossSettings, loss_only
    from sageyard.programs.linear_learner.metrics import (
        binary_metrics,
        multiclass_metrics,
        regression_metrics,
    )

    scores = model.scores(data.features)
    settings = LossSettings(
        config.margin, config.quantile, config.loss_insensitivity, config.huber_delta
    )
    objective = float(loss_only(config.loss, scores[None], data.labels, settings).mean())
    metrics = [(OBJECTIVE_NAMES[config.loss], "loss", objective)]
    if config.predictor_type == "binary_classifier":
        assert model.threshold is not None
        metrics += binary_metrics(
            decision_scores(model, data.features), data.labels, model.threshold, config.f_beta
        )
    elif config.predictor_type == "multiclass_classifier":
        assert config.num_classes is not None
        metrics += multiclass_metrics(
            scores, data.labels, config.num_classes, config.accuracy_top_k, config.f_beta
        )
        probabilities = np.exp(scores - scores.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        truth = data.labels.astype(np.int64)
        log_loss = float(
            -np.log(np.clip(probabilities[np.arange(len(truth)), truth], 1e-15, 1)).mean()
        )
        metrics.append(("multiclass_log_loss", "score", log_loss))
    else:
        metrics += regression_metrics(scores[:, 0], data.labels)
    return metrics


if __name__ == "__main__":
    configure_logging(log)
    run(main)
