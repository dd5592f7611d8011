"""Reading a channel's data as SageMaker's algorithm containers do: CSV, libsvm, parquet.

Every file of the channel folder is read (recursively, in name order), skipping names that
start with ``.`` or ``_``. Malformed data raises :class:`AlgorithmError` naming the file,
the line and what is wrong. numpy (and scipy/pandas for libsvm/parquet) are imported only
here, inside the program's process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.programs._common import AlgorithmError

if TYPE_CHECKING:
    import numpy as np

CSV = "text/csv"
LIBSVM = "text/libsvm"
PARQUET = "application/x-parquet"
_ALIASES = {
    "csv": CSV,
    "text/csv": CSV,
    "libsvm": LIBSVM,
    "text/libsvm": LIBSVM,
    "text/x-libsvm": LIBSVM,
    "parquet": PARQUET,
    "application/x-parquet": PARQUET,
}


def content_type(
    given: str | None, default: str, supported: tuple[str, ...] = (CSV, LIBSVM, PARQUET)
) -> str:
    """The normalised content type (parameters such as ``label_size=1`` are ignored)."""
    if not given:
        return default
    base = _ALIASES.get(given.split(";", 1)[0].strip().lower())
    if base not in supported:
        raise AlgorithmError(
            f"ClientError: Content type {given!r} is not supported; use {', '.join(supported)}."
        )
    return base


def dense_channel_kind(
    given: str | None, folder: Path, channel: str, algorithm: str, layout: str
) -> str:
    """CSV or parquet for algorithms that read dense rows (k-means, linear learner).

    With no content type, a channel of ``.parquet`` files is parquet and anything else CSV.
    ``layout`` says what the CSV rows hold, for the error message.
    """
    base = (given or "").split(";", 1)[0].strip().lower()
    if "recordio" in base or "protobuf" in base:
        raise AlgorithmError(
            f"ClientError: Content type {given!r} of the {channel!r} channel is not supported by "
            f"sageyard's {algorithm}; write the data as text/csv ({layout}) or "
            "application/x-parquet."
        )
    if not given:
        files = data_files(folder, channel)
        if all(f.suffix.lower() in (".parquet", ".pq") for f in files):
            return PARQUET
        return CSV
    if content_type(given, CSV) == LIBSVM:
        raise AlgorithmError(
            f"ClientError: Content type {given!r} of the {channel!r} channel is not supported by "
            f"the {algorithm}; use text/csv or application/x-parquet."
        )
    return content_type(given, CSV)


def data_files(folder: Path, channel: str) -> list[Path]:
    if not folder.exists():
        raise AlgorithmError(f"ClientError: The {channel!r} channel has no data folder.")
    if folder.is_file():
        return [folder]
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts)
    )
    if not files:
        raise AlgorithmError(
            f"ClientError: The {channel!r} channel has no data files (files starting with '.' "
            "or '_' are skipped)."
        )
    return files


@dataclass
class Dataset:
    features: Any  # numpy array, or scipy CSR matrix for libsvm
    labels: np.ndarray | None
    weights: np.ndarray | None = None

    @property
    def rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def columns(self) -> int:
        return int(self.features.shape[1])


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise AlgorithmError(
            f"ClientError: {where}: {text.strip()!r} is not a number (CSV data has no header "
            "row and only numeric cells)."
        ) from None
    return value


def read_csv(files: list[Path], *, label: bool = True, weights: bool = False) -> Dataset:
    """Rows of numbers; column 0 is the label (and column 1 the weight with ``weights``)."""
    import numpy as np

    rows: list[list[float]] = []
    width: int | None = None
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                cells = line.rstrip("\n").split(",")
                where = f"{path.name}, line {number}"
                if width is None:
                    width = len(cells)
                elif len(cells) != width:
                    raise AlgorithmError(
                        f"ClientError: {where}: {len(cells)} columns where the data has {width}; "
                        "every row needs the same number of columns."
                    )
                rows.append(
                    [
                        math.nan
                        if cell.strip() == ""
                        else _number(cell, f"{where}, column {i + 1}")
                        for i, cell in enumerate(cells)
                    ]
                )
    if not rows:
        raise AlgorithmError("ClientError: The CSV data has no rows.")
    data = np.asarray(rows, dtype=np.float64)
    first = 0
    target = None
    if label:
        target = data[:, 0]
        if np.isnan(target).any():
            row = int(np.flatnonzero(np.isnan(target))[0]) + 1
            raise AlgorithmError(f"ClientError: Row {row} of the CSV data has no label.")
        first = 1
    weight = None
    if weights:
        weight = data[:, first]
        first += 1
    if data.shape[1] <= first:
        raise AlgorithmError("ClientError: The CSV data has no feature columns.")
    return Dataset(data[:, first:], target, weight)


#: The largest libsvm feature index: the column indices of a sparse matrix are int32.
_MAX_INDEX = 2**31 - 2


def read_libsvm(files: list[Path]) -> Dataset:
    """``label index:value …`` lines; indices are non-negative integers."""
    import numpy as np
    from scipy.sparse import csr_matrix

    labels: list[float] = []
    weights: list[float] = []
    indptr, indices, values = [0], [], []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                content = line.split("#", 1)[0].split()
                if not content:
                    continue
                where = f"{path.name}, line {number}"
                head = content[0]
                label_text, _, weight_text = head.partition(":")
                labels.append(_number(label_text, f"{where}, label"))
                weights.append(_number(weight_text, f"{where}, weight") if weight_text else 1.0)
                for token in content[1:]:
                    index_text, sep, value_text = token.partition(":")
                    # isdigit() alone takes superscripts and other scripts' digits; an index must
                    # also fit an int32
                    if (
                        not sep
                        or not (index_text.isascii() and index_text.isdigit())
                        or len(index_text.lstrip("0")) > len(str(_MAX_INDEX))
                        or int(index_text) > _MAX_INDEX
                    ):
                        raise AlgorithmError(
                            f"ClientError: {where}: {token!r} is not 'index:value' with a "
                            f"non-negative integer index of at most {_MAX_INDEX} (libsvm data)."
                        )
                    indices.append(int(index_text))
                    values.append(_number(value_text, f"{where}, feature {index_text}"))
                indptr.append(len(indices))
    if not labels:
        raise AlgorithmError("ClientError: The libsvm data has no rows.")
    width = max(indices, default=-1) + 1
    matrix = csr_matrix(
        (np.asarray(values), np.asarray(indices), np.asarray(indptr)),
        shape=(len(labels), max(width, 1)),
    )
    weight_array = np.asarray(weights) if any(w != 1.0 for w in weights) else None
    return Dataset(matrix, np.asarray(labels), weight_array)


def read_parquet(files: list[Path], *, label: bool = True) -> Dataset:
    """Parquet files; the first column is the label."""
    import numpy as np

    try:
        import pandas as pd
    except ImportError:
        raise AlgorithmError(
            "ClientError: Reading parquet needs pandas and pyarrow in the job's environment."
        ) from None
    frames = []
    for path in files:
        try:
            frames.append(pd.read_parquet(path))
        except Exception as error:
            raise AlgorithmError(
                f"ClientError: {path.name} is not a readable parquet file: {error}"
            ) from None
    frame = pd.concat(frames, ignore_index=True)
    try:
        data = frame.to_numpy(dtype="float64")
    except (TypeError, ValueError):
        raise AlgorithmError(
            "ClientError: The parquet data has non-numeric columns; every column must be a number."
        ) from None
    if not label:
        return Dataset(data, None)
    if data.shape[1] < 2:
        raise AlgorithmError("ClientError: The parquet data has no feature columns.")
    missing = np.flatnonzero(np.isnan(data[:, 0]))
    if missing.size:
        raise AlgorithmError(
            f"ClientError: Row {int(missing[0]) + 1} of the parquet data has no label."
        )
    return Dataset(data[:, 1:], data[:, 0])


def read_channel(
    folder: Path, channel: str, kind: str, *, label: bool = True, weights: bool = False
) -> Dataset:
    files = data_files(folder, channel)
    try:
        if kind == CSV:
            return read_csv(files, label=label, weights=weights)
        if kind == LIBSVM:
            return read_libsvm(files)
        return read_parquet(files, label=label)
    except AlgorithmError as error:
        message = str(error).removeprefix("ClientError: ")
        raise AlgorithmError(f"ClientError: In the {channel!r} channel: {message}") from None
