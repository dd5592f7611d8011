"""The k-means training program: ``python -m sageyard.programs.kmeans`` inside a job.

It follows SageMaker's k-means container (web-scale mini-batch k-means):

1. **Data.** Channel ``train`` (required) and ``test`` (optional), each ``text/csv`` (no
   header; every column is a feature, so ``feature_dim`` must equal the column count) or
   ``application/x-parquet`` (every column a feature). With no ContentType, ``.parquet``
   files are read as parquet and anything else as CSV. ``application/x-recordio-protobuf``
   is not supported.
2. **Mini-batch phase.** scikit-learn's ``MiniBatchKMeans`` keeps ``k * extra_center_factor``
   centers (``auto``: 10, fewer when the data has too few rows), initialised with
   ``init_method`` (``random``: distinct random rows; ``kmeans++``), and makes ``epochs``
   shuffled passes in batches of ``mini_batch_size`` rows (all rows when there are fewer).
3. **Shrinking.** The extra centers, weighted by how many training rows each holds, are
   reduced to ``k`` with ``local_lloyd_num_trials`` (``auto``: 10) runs of Lloyd's algorithm
   (scikit-learn's ``KMeans``: ``local_lloyd_init_method``, ``local_lloyd_max_iter``,
   ``local_lloyd_tol``); the run with the lowest mean square distance wins.
4. **Metrics.** ``#quality_metric: host=algo-1, train msd <loss>=…`` on the training data and,
   with a ``test`` channel, ``test msd`` / ``test ssd`` (per ``eval_metrics``): the mean
   and the sum of the squared distances from each row to its nearest center.

Everything is seeded (``SEED``), so the same data and hyperparameters give the same centers.

**Several hosts.** SageMaker's container trains one model across the hosts; sageyard's
first host (``algo-1``) trains on the data it sees and the others end after checking the
hyperparameters. With ``FullyReplicated`` channels (the default) that is the model one host
would train; with ``ShardedByS3Key`` only algo-1's share is used.

**Model format.** ``model_algo-1`` in the model folder (as SageMaker names it) is a numpy
``.npy`` file holding the centers, a float32 array of shape ``(k, feature_dim)``::

    centers = numpy.load("model_algo-1")
    cluster = ((rows[:, None, :] - centers[None]) ** 2).sum(-1).argmin(1)
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sageyard.programs._common import AlgorithmError, ProgramContext, configure_logging, run
from sageyard.programs._data import dense_channel_kind, read_channel
from sageyard.programs.kmeans.config import KMeansConfig, parse_config

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("sageyard.programs.kmeans")

SEED = 0
MODEL_FILE = "model_algo-1"
CHANNELS = ("train", "test")
AUTO_EXTRA_CENTER_FACTOR = 10
AUTO_LOCAL_LLOYD_NUM_TRIALS = 10
_ROWS_PER_CHUNK = 65536


def main(ctx: ProgramContext) -> None:
    config, notes = parse_config(ctx.hyperparameters)
    log.info("Final configuration: %s", config)
    for note in notes:
        log.warning(note)
    train_folder = ctx.channel("train")
    if train_folder is None:
        given = ", ".join(sorted(ctx.input_data_config)) or "none"
        raise AlgorithmError(
            "ClientError: The k-means algorithm needs a 'train' channel (channels given: "
            f"{given}); pass InputData(channel_name='train', data_source=...)."
        )
    for name, settings in sorted(ctx.input_data_config.items()):
        if name not in CHANNELS:
            log.warning("Channel %r is not used: k-means reads 'train' and 'test'.", name)
        elif settings.get("TrainingInputMode", "File") == "Pipe":
            raise AlgorithmError(
                f"ClientError: The {name!r} channel uses Pipe input mode, which sageyard's "
                "k-means does not read; use input_mode='File' (the default)."
            )
    if ctx.hosts and ctx.current_host != ctx.hosts[0]:
        log.info(
            "This job has %d hosts; sageyard's k-means trains on the first (%s) only.",
            len(ctx.hosts),
            ctx.hosts[0],
        )
        return
    train = _read(ctx, "train", train_folder, config)
    test_folder = ctx.channel("test")
    test = _read(ctx, "test", test_folder, config) if test_folder is not None else None
    centers = fit(train, config, host=ctx.current_host)
    ctx.model_dir.mkdir(parents=True, exist_ok=True)
    save_centers(centers, ctx.model_dir / MODEL_FILE)
    log.info("Saved %d centers of dimension %d to %s", *centers.shape, MODEL_FILE)
    if test is None:
        log.info("Test data is not provided.")
        return
    distances = squared_distances_to_nearest(test, centers)
    values = {"msd": float(distances.mean()), "ssd": float(distances.sum())}
    for metric in config.eval_metrics:
        log.info(
            "#quality_metric: host=%s, test %s <loss>=%r", ctx.current_host, metric, values[metric]
        )


# -- data ---------------------------------------------------------------------------------------


def _kind(ctx: ProgramContext, channel: str, folder: Path) -> str:
    return dense_channel_kind(
        ctx.content_type(channel), folder, channel, "k-means", "no header, every column a feature"
    )


def _read(ctx: ProgramContext, channel: str, folder: Path, config: KMeansConfig) -> np.ndarray:
    import numpy as np

    data = read_channel(folder, channel, _kind(ctx, channel, folder), label=False)
    features = np.asarray(data.features, dtype=np.float64)
    if features.shape[1] != config.feature_dim:
        raise AlgorithmError(
            f"ClientError: The {channel!r} channel has {features.shape[1]} feature columns, but "
            f"feature_dim={config.feature_dim}; set feature_dim={features.shape[1]} (k-means "
            "reads every column as a feature, with no label column)."
        )
    bad = np.argwhere(~np.isfinite(features))
    if len(bad):
        row, column = (int(i) + 1 for i in bad[0])
        raise AlgorithmError(
            f"ClientError: In the {channel!r} channel: row {row}, column {column} is empty or not "
            "a finite number; every cell of k-means data must be a number."
        )
    log.info("Read %d rows of %d features from the %r channel", *features.shape, channel)
    return features


# -- training -----------------------------------------------------------------------------------


def fit(data: np.ndarray, config: KMeansConfig, host: str = "algo-1") -> np.ndarray:
    """The ``k`` centers for ``data`` (rows x feature_dim), logging as the container does."""
    import numpy as np

    rows = data.shape[0]
    if config.k > rows:
        raise AlgorithmError(
            f"ClientError: k={config.k} is more than the {rows} rows of the training data; "
            "choose a k of at most the number of rows."
        )
    factor = config.extra_center_factor or AUTO_EXTRA_CENTER_FACTOR
    usable = max(1, min(factor, rows // config.k))
    if config.extra_center_factor is None:
        log.info("'extra_center_factor' was set to 'auto', evaluated to %d.", usable)
    elif usable != factor:
        log.warning(
            "extra_center_factor=%d asks for %d centers but there are %d rows; using %d.",
            factor,
            factor * config.k,
            rows,
            usable,
        )
    batch = min(config.mini_batch_size, rows)
    if batch < config.mini_batch_size:
        log.warning(
            "Batch size %d is bigger than the data (%d rows); the effective batch size is %d.",
            config.mini_batch_size,
            rows,
            batch,
        )
    random = np.random.default_rng(SEED)
    centers = _mini_batch(data, config.k * usable, batch, config, random, host)
    if len(centers) > config.k:
        centers = _shrink(data, centers, config)
    train_msd = float(squared_distances_to_nearest(data, centers).mean())
    log.info("#quality_metric: host=%s, train msd <loss>=%r", host, train_msd)
    return centers


def _mini_batch(
    data: np.ndarray,
    count: int,
    batch: int,
    config: KMeansConfig,
    random: np.random.Generator,
    host: str,
) -> np.ndarray:
    from sklearn.cluster import MiniBatchKMeans, kmeans_plusplus

    rows = data.shape[0]
    if config.init_method == "kmeans++":
        sample = data[random.choice(rows, size=min(rows, max(batch, count)), replace=False)]
        init, _ = kmeans_plusplus(sample, count, random_state=SEED)
    else:
        init = data[random.choice(rows, size=count, replace=False)]
    model = MiniBatchKMeans(
        n_clusters=count, init=init, n_init=1, batch_size=batch, random_state=SEED
    )
    started = time.monotonic()
    seen = 0
    for epoch in range(config.epochs):
        order = random.permutation(rows)
        for start in range(0, rows, batch):
            model.partial_fit(data[order[start : start + batch]])
        seen += rows
        log.info(
            "#progress_metric: host=%s, completed %s %% of epochs",
            host,
            round(100.0 * (epoch + 1) / config.epochs, 1),
        )
    elapsed = max(time.monotonic() - started, 1e-9)
    log.info(
        "#throughput_metric: host=%s, train throughput=%r records/second", host, seen / elapsed
    )
    centers: np.ndarray = model.cluster_centers_
    return centers


def _shrink(data: np.ndarray, centers: np.ndarray, config: KMeansConfig) -> np.ndarray:
    """Reduce the extra centers to ``k`` by weighted Lloyd runs; keep the best run."""
    import numpy as np
    from sklearn.cluster import KMeans

    weights = np.bincount(nearest(data, centers), minlength=len(centers)).astype(np.float64)
    if np.count_nonzero(weights) < config.k:  # a few empty centers still take part, lightly
        weights = weights + 1e-3
    keep = weights > 0
    points, weights = centers[keep], weights[keep]
    log.info("shrinking %d centers into %d", len(points), config.k)
    trials = config.local_lloyd_num_trials or AUTO_LOCAL_LLOYD_NUM_TRIALS
    best: np.ndarray | None = None
    best_msd = float("inf")
    for trial in range(trials):
        lloyd = KMeans(
            n_clusters=config.k,
            init="k-means++" if config.local_lloyd_init_method == "kmeans++" else "random",
            n_init=1,
            max_iter=config.local_lloyd_max_iter,
            tol=config.local_lloyd_tol,
            random_state=SEED + trial,
        ).fit(points, sample_weight=weights)
        msd = float(lloyd.inertia_ / weights.sum())
        log.info("local kmeans attempt #%d. Current mean square distance %.6f", trial, msd)
        if msd < best_msd:
            best, best_msd = lloyd.cluster_centers_, msd
    assert best is not None
    log.info("finished shrinking process. Mean Square Distance = %.6f", best_msd)
    return best


# -- the model ----------------------------------------------------------------------------------


def nearest(data: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """The index of each row's nearest center."""
    import numpy as np

    return np.concatenate(
        [_chunk_distances(chunk, centers).argmin(axis=1) for chunk in _chunks(data)]
    )


def squared_distances_to_nearest(data: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """The squared Euclidean distance from each row to its nearest center."""
    import numpy as np

    return np.concatenate([_chunk_distances(chunk, centers).min(axis=1) for chunk in _chunks(data)])


def _chunks(data: np.ndarray) -> list[np.ndarray]:
    return [data[i : i + _ROWS_PER_CHUNK] for i in range(0, max(len(data), 1), _ROWS_PER_CHUNK)]


def _chunk_distances(chunk: np.ndarray, centers: np.ndarray) -> np.ndarray:
    import numpy as np

    squared = (
        (chunk**2).sum(axis=1)[:, None] - 2.0 * chunk @ centers.T + (centers**2).sum(axis=1)[None]
    )
    return np.maximum(squared, 0.0)


def save_centers(centers: np.ndarray, path: Path) -> None:
    """Write ``centers`` as a float32 ``.npy`` file at ``path`` (no suffix added)."""
    import numpy as np

    with open(path, "wb") as handle:
        np.save(handle, np.asarray(centers, dtype=np.float32))


if __name__ == "__main__":
    configure_logging(log)
    run(main)
