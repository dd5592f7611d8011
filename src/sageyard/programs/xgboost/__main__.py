"""The XGBoost training program: ``python -m sageyard.programs.xgboost`` inside a job.

It follows SageMaker's XGBoost container (framework version 1.7-1):

1. **Hyperparameters** are checked first (``config.parse_config``): an unknown name, a
   value out of range or ``multi:*`` without ``num_class`` fails the job before any
   data is read, with a FailureReason that names the hyperparameter.
2. **Data.** Channel ``train`` (required) and ``validation`` (optional), each
   ``text/libsvm`` (the default when the channel has no ContentType), ``text/csv`` (no
   header, label in column 0; with ``csv_weights=1`` column 1 is the instance weight) or
   ``application/x-parquet`` (label in column 0). A validation channel without a
   ContentType takes the train channel's; ``csv_weights`` applies to both. Every file of
   a channel folder is read, except names starting with ``.`` or ``_``. Labels are
   checked against the objective (between 0 and 1 for ``binary:*``, 0 … num_class-1 for
   ``multi:*``, …) before training.
3. **Training** runs ``num_round`` rounds with XGBoost's ``Booster.update``. After each
   round the program logs the container's line
   ``[<round>]#011train-<metric>:<v>#011validation-<metric>:<v>`` with the metrics of
   ``eval_metric`` (default: the objective's), plus the tuning objective's metric when
   the job is a tuning trial, and saves a checkpoint when the job has a CheckpointConfig
   (see ``checkpoints``). With ``early_stopping_rounds`` it stops when the tuning
   objective's metric (else the last metric on the line) of the validation data (else
   the train data) has not improved for that many rounds.
4. **Resuming.** A job that starts with checkpoints continues from the newest: it trains
   only the rounds left up to ``num_round`` and numbers the rounds on from there. Without
   row or column sampling (``subsample``/``colsample_*`` 1, the defaults) it ends with the
   same model as an uninterrupted run; with sampling, XGBoost draws anew in the new
   process, so the rounds after the resume differ from an uninterrupted run's.
5. **Model.** ``xgboost-model`` in the model folder, in XGBoost's UBJSON format:
   ``xgboost.Booster(model_file="xgboost-model")`` loads it (XGBoost warns that the name
   has no format suffix, and reads the format from the content). After early stopping it
   holds every round trained, with ``best_iteration``/``best_score`` recorded, as
   XGBoost's own ``train`` does. With ``save_model_on_termination=true`` a stopped job
   (SIGTERM) saves the rounds trained so far.

**Several hosts.** As in SageMaker's container, the hosts train one model together with
XGBoost's collective (``distributed``): each on the data it sees (its share with
``ShardedByS3Key``), their statistics and metrics summed every round. algo-1 logs the round
lines, saves the checkpoints and the model; a resumed job starts every host from algo-1's
newest checkpoint. The metrics the container computes from predictions (``f1``,
``accuracy``, … in ``eval_metric``) are algo-1's data's; XGBoost's own are the whole job's.
"""

from __future__ import annotations

import gc
import logging
import re
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

from sageyard.programs._common import AlgorithmError, ProgramContext, configure_logging, run
from sageyard.programs._data import LIBSVM, Dataset, content_type
from sageyard.programs.xgboost.checkpoints import load_latest, save_checkpoint
from sageyard.programs.xgboost.config import XGBoostConfig, parse_config
from sageyard.programs.xgboost.distributed import Hosts, collective_of
from sageyard.programs.xgboost.evaluation import (
    EarlyStopping,
    Score,
    attributes,
    container_metric,
    parse_eval,
    round_line,
)
from sageyard.programs.xgboost.reading import check_labels, match_columns, read

if TYPE_CHECKING:
    import xgboost

log = logging.getLogger("sageyard.programs.xgboost")
_STARTED = time.perf_counter()

MODEL_FILE = "xgboost-model"
CHANNELS = ("train", "validation")


def main(ctx: ProgramContext) -> None:
    config, notes = parse_config(ctx.hyperparameters)
    for note in notes:
        log.warning(note)
    if "train" not in ctx.input_data_config:
        given = ", ".join(sorted(ctx.input_data_config)) or "none"
        raise AlgorithmError(
            "ClientError: The XGBoost algorithm needs a 'train' channel (channels given: "
            f"{given}); pass InputData(channel_name='train', data_source=...)."
        )
    for name, channel in ctx.input_data_config.items():
        if name not in CHANNELS:
            log.warning("Channel %r is not used by XGBoost (it reads train and validation).", name)
        elif channel.get("TrainingInputMode", "File") == "Pipe":
            raise AlgorithmError(
                f"ClientError: The {name!r} channel uses Pipe input mode, which sageyard's "
                "XGBoost does not read; use input_mode='File' (the default)."
            )
    train, validation = _read(ctx, config)
    xgboost = _import_xgboost()
    with collective_of(ctx) as hosts:
        booster = _train(ctx, config, train, validation, hosts, xgboost)
    if not hosts.primary:
        log.info("Trained with the other hosts; algo-1 saves the model.")
        return
    ctx.model_dir.mkdir(parents=True, exist_ok=True)
    _save_model(booster, ctx.model_dir / MODEL_FILE)
    log.info(
        "Saved the model (%d rounds) as %s; %.2f s since the program started",
        booster.num_boosted_rounds(),
        MODEL_FILE,
        time.perf_counter() - _STARTED,
    )


def _read(ctx: ProgramContext, config: XGBoostConfig) -> tuple[Dataset, Dataset | None]:
    started = time.perf_counter()
    train_type = content_type(ctx.content_type("train"), LIBSVM)
    folder = ctx.channel("train")
    assert folder is not None
    defaulted = ctx.content_type("train") is None
    train = read(folder, "train", train_type, weights=config.csv_weights, defaulted=defaulted)
    check_labels(train, "train", config)
    validation = None
    folder = ctx.channel("validation")
    if folder is not None:
        declared = ctx.content_type("validation") or ctx.content_type("train")
        kind = content_type(declared, LIBSVM)
        validation = read(
            folder, "validation", kind, weights=config.csv_weights, defaulted=declared is None
        )
        check_labels(validation, "validation", config)
        train, validation = match_columns(train, validation)
    log.info("Train matrix has %d rows and %d columns", train.rows, train.columns)
    if validation is not None:
        log.info("Validation matrix has %d rows", validation.rows)
    log.info("Read the data in %.2f s", time.perf_counter() - started)
    return train, validation


def _import_xgboost() -> ModuleType:
    """``import xgboost``, which imports scikit-learn, scipy and pandas when installed
    (~1500 modules, most of the program's start-up); pausing the cyclic garbage collector
    meanwhile saves the ~0.1 s of collections those imports trigger and that find nothing."""
    gc.disable()
    try:
        import xgboost
    finally:
        gc.enable()
    return xgboost


def _matrix(dataset: Dataset, config: XGBoostConfig) -> xgboost.DMatrix:
    import numpy as np
    import xgboost

    return xgboost.DMatrix(
        dataset.features,
        label=dataset.labels,
        weight=dataset.weights,
        missing=np.nan,
        nthread=config.params.get("nthread", -1),
    )


def _train(
    ctx: ProgramContext,
    config: XGBoostConfig,
    train: Dataset,
    validation: Dataset | None,
    hosts: Hosts,
    xgboost: ModuleType,
) -> xgboost.Booster:
    started = time.perf_counter()
    with _xgboost_errors():
        evals = [(_matrix(train, config), "train")]
        if validation is not None:
            evals.append((_matrix(validation, config), "validation"))
    cache = [matrix for matrix, _ in evals]
    log.info(
        "Loaded XGBoost %s and the data in %.2f s",
        xgboost.__version__,
        time.perf_counter() - started,
    )
    # Checkpoints only where the job has a CheckpointConfig (its folder is then staged);
    # algo-1's, which every host starts from.
    checkpoints = ctx.checkpoint_dir if ctx.checkpoint_dir.is_dir() else None
    booster = _resumed(checkpoints if hosts.primary else None, config, cache, hosts)
    start = 0
    if booster is None:
        with _xgboost_errors():
            booster = xgboost.Booster(config.params, cache)
    else:
        start = booster.num_boosted_rounds()
    if start > config.num_round:
        log.info(
            "The checkpoint has more rounds than num_round; keeping the first %d",
            config.num_round,
        )
        return booster[: config.num_round]
    stopping = None
    if config.early_stopping_rounds is not None:
        data = evals[-1][1]
        stopping = EarlyStopping(config.early_stopping_rounds, data, config.stopping_metric)
    log.info(
        "Training %s with objective %s for %d rounds",
        config.params.get("booster", "gbtree"),
        config.objective,
        config.num_round,
    )
    if config.save_model_on_termination:
        _save_on_termination(booster, ctx.model_dir / MODEL_FILE)
    started = time.perf_counter()
    for round_ in range(start, config.num_round):
        with _xgboost_errors():
            booster.update(evals[0][0], round_)
            scores = _scores(booster, evals, round_, config)
        if hosts.primary:
            print(round_line(round_, scores), flush=True)
            if checkpoints is not None:
                save_checkpoint(booster, checkpoints, round_)
        # algo-1 decides: the container's own metrics are its data's, so hosts could differ
        if hosts.broadcast(stopping is not None and stopping.update(round_, scores)):
            assert stopping is not None
            log.info("Early stopping after round %d: %s", round_, stopping.describe())
            booster.set_attr(**hosts.broadcast(attributes(stopping)))
            break
    log.info("Trained in %.2f s", time.perf_counter() - started)
    return booster


def _resumed(
    checkpoints: Path | None, config: XGBoostConfig, cache: list[Any], hosts: Hosts
) -> xgboost.Booster | None:
    """The booster of the newest checkpoint in ``checkpoints`` (algo-1's, sent to every
    host), or ``None`` to start afresh."""
    import xgboost

    found = None
    if checkpoints is not None:
        with _xgboost_errors():
            found = load_latest(checkpoints, config.params, cache)
    if found is not None:
        booster, name = found
        log.info(
            "Resuming from checkpoint %s: %d of %d rounds done, training %d more",
            name,
            booster.num_boosted_rounds(),
            config.num_round,
            max(config.num_round - booster.num_boosted_rounds(), 0),
        )
    if hosts.count == 1:
        return found[0] if found is not None else None
    raw = hosts.broadcast(bytes(found[0].save_raw()) if found is not None else None)
    if raw is None:
        return None
    with _xgboost_errors():
        booster = xgboost.Booster(config.params, cache)
        booster.load_model(bytearray(raw))
    return booster


def _scores(
    booster: xgboost.Booster, evals: list[tuple[Any, str]], round_: int, config: XGBoostConfig
) -> list[Score]:
    """This round's metrics, in the container's order: per data set, XGBoost's, then the
    container's computed ones."""
    scores = parse_eval(booster.eval_set(evals, round_))
    if not config.container_metrics:
        return scores
    ordered: list[Score] = []
    for matrix, data in evals:
        ordered += [s for s in scores if s[0] == data]
        predictions = booster.predict(matrix)
        labels = matrix.get_label()
        for metric in config.container_metrics:
            value = container_metric(metric, predictions, labels, config.objective)
            ordered.append((data, metric, value))
    return ordered


def _save_model(booster: xgboost.Booster, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.ubj")  # the suffix picks XGBoost's format
    booster.save_model(temporary)
    temporary.replace(path)


def _save_on_termination(booster: xgboost.Booster, path: Path) -> None:
    """save_model_on_termination=true: on SIGTERM (StopTrainingJob) save the model so far."""

    def handler(signum: int, frame: FrameType | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _save_model(booster, path)
        log.info(
            "Stopped: saved the model (%d rounds) as %s", booster.num_boosted_rounds(), path.name
        )
        sys.exit(0)

    signal.signal(signal.SIGTERM, handler)


_XGBOOST_PREFIX = re.compile(r"^\[[0-9:]+\] \S+?:[0-9]+: ")


@contextmanager
def _xgboost_errors() -> Iterator[None]:
    """XGBoost's errors (bad parameters, labels, …) become the job's FailureReason."""
    import xgboost

    try:
        yield
    except xgboost.core.XGBoostError as error:
        raise AlgorithmError(
            f"ClientError: XGBoost could not train: {_xgboost_message(error)}"
        ) from None


def _xgboost_message(error: Exception) -> str:
    """XGBoost's message without its stack trace and source location."""
    text = str(error).split("Stack trace:", 1)[0].strip()
    lines = [_XGBOOST_PREFIX.sub("", line).strip() for line in text.splitlines()]
    return " ".join(line for line in lines if line)


if __name__ == "__main__":
    configure_logging(log, "[%(asctime)s:%(levelname)s] %(message)s", "%Y-%m-%d:%H:%M:%S")
    run(main)
