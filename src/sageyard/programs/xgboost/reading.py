"""The XGBoost channels' data: read, checked against the objective, and made to match.

Reading is ``sageyard.programs._data``'s (CSV, libsvm, parquet, with its error messages),
with one fast path: a clean CSV file is parsed by ``numpy.loadtxt`` (C code, ~6x faster
than the shared reader on 100k rows). Anything the fast path does not accept as it is
(blank cells, whitespace-only lines, a header row, ragged rows, …) goes to the shared
reader, which reads it the same way or says precisely what is wrong.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from sageyard.programs._common import AlgorithmError
from sageyard.programs._data import CSV, LIBSVM, Dataset, data_files, read_channel

if TYPE_CHECKING:
    import numpy as np

    from sageyard.programs.xgboost.config import XGBoostConfig

__all__ = ["check_labels", "match_columns", "read"]


def read(
    folder: Path, channel: str, kind: str, *, weights: bool = False, defaulted: bool = False
) -> Dataset:
    """The channel's rows: features, labels (column 0) and, with ``weights``, column 1.

    ``defaulted``: the channel has no ContentType, so ``kind`` is the default (libsvm); a
    failure then says so, as CSV data without a content type is a common slip.
    """
    files = data_files(folder, channel)
    if kind == CSV:
        fast = _loadtxt(files, weights=weights)
        if fast is not None:
            return fast
    try:
        return read_channel(folder, channel, kind, weights=weights)
    except AlgorithmError as error:
        if not defaulted or kind != LIBSVM:
            raise
        raise AlgorithmError(
            f"{error} The {channel!r} channel has no ContentType, so it is read as text/libsvm "
            "(XGBoost's default); for CSV pass content_type='text/csv' (parquet: "
            "'application/x-parquet')."
        ) from None


def _loadtxt(files: list[Path], *, weights: bool) -> Dataset | None:
    """Clean CSV parsed by numpy, or None to let the shared reader decide."""
    import numpy as np

    parts = []
    for path in files:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # e.g. "input contained no data"
                part = np.loadtxt(
                    path, delimiter=",", dtype=np.float64, ndmin=2, comments=None, encoding="utf-8"
                )
        except (ValueError, UnicodeDecodeError, UserWarning):
            return None
        parts.append(part)
    if not parts or len({part.shape[1] for part in parts}) != 1:
        return None
    data = parts[0] if len(parts) == 1 else np.concatenate(parts)
    first = 2 if weights else 1
    if data.shape[0] == 0 or data.shape[1] <= first or np.isnan(data[:, 0]).any():
        return None
    return Dataset(data[:, first:], data[:, 0], data[:, 1] if weights else None)


def _label_rule(config: XGBoostConfig) -> tuple[str, str] | None:
    """The labels the objective accepts: (kind of test, what the message says)."""
    objective = config.objective
    if objective.startswith("binary:") or objective == "reg:logistic":
        return "unit", "labels between 0 and 1 (0 or 1 for classification)"
    if objective.startswith("multi:"):
        return "class", f"integer labels 0 … {(config.num_class or 2) - 1} (num_class - 1)"
    if objective in ("count:poisson", "reg:tweedie"):
        return "nonnegative", "labels >= 0"
    if objective == "reg:gamma":
        return "positive", "labels > 0"
    if objective == "reg:squaredlogerror":
        return "above_minus_one", "labels > -1"
    return None


def check_labels(dataset: Dataset, channel: str, config: XGBoostConfig) -> None:
    """Fail with the first row whose label (or weight) the objective cannot take."""
    import numpy as np

    labels = dataset.labels
    assert labels is not None
    if dataset.weights is not None:
        bad = ~np.isfinite(dataset.weights) | (dataset.weights < 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise AlgorithmError(
                f"ClientError: In the {channel!r} channel: row {row + 1} has instance weight "
                f"{_number(dataset.weights[row])}; weights must be numbers >= 0."
            )
    rule = _label_rule(config)
    if rule is None:
        return
    kind, needs = rule
    bad = _breaks(labels, kind, config.num_class)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise AlgorithmError(
            f"ClientError: In the {channel!r} channel: row {row + 1} has label "
            f"{_number(labels[row])}, but objective {config.objective} needs {needs}."
        )


def _breaks(labels: np.ndarray, kind: str, num_class: int | None) -> np.ndarray:
    import numpy as np

    if kind == "unit":
        return ~((labels >= 0) & (labels <= 1))
    if kind == "class":
        return ~((labels >= 0) & (labels < (num_class or 2)) & (np.mod(labels, 1) == 0))
    if kind == "nonnegative":
        return ~(labels >= 0)
    if kind == "positive":
        return ~(labels > 0)
    return ~(labels > -1)


def _number(value: float) -> str:
    number = float(value)
    return str(int(number)) if math.isfinite(number) and number.is_integer() else repr(number)


def match_columns(train: Dataset, validation: Dataset) -> tuple[Dataset, Dataset]:
    """Give both the same number of feature columns.

    Sparse (libsvm) data is widened with empty columns, as a missing index means "no
    value"; dense data with another width is an error.
    """
    if train.columns == validation.columns:
        return train, validation
    from scipy.sparse import issparse

    width = max(train.columns, validation.columns)
    fixed = []
    for dataset in (train, validation):
        if dataset.columns == width:
            fixed.append(dataset)
        elif issparse(dataset.features):
            features = dataset.features.tocsr().copy()
            features.resize((dataset.rows, width))
            fixed.append(Dataset(features, dataset.labels, dataset.weights))
        else:
            raise AlgorithmError(
                f"ClientError: The 'validation' channel has {validation.columns} feature "
                f"columns and the 'train' channel {train.columns}; both need the same columns "
                "(label first, then the same features)."
            )
    return fixed[0], fixed[1]
