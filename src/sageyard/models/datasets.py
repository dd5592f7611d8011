"""Fine-tuning datasets: JSONL rows checked line by line, the same way before and in a job.

A :class:`DatasetFormat` says how one row must look; each fine-tuning program declares its
own (``ProgramSpec.dataset``: SFT's prompt/completion or chat rows, DPO's preference
pairs). Reading checks every line and every problem names the file, the line and the
field, so a bad dataset fails before any job starts.

Example:
    >>> rows = DatasetFormat(
    ...     example='{"text": "..."}',
    ...     check_row=lambda row: None if "text" in row else "missing field 'text'.",
    ... )
    >>> rows.read(Path("train.jsonl"))[0]["text"]  # doctest: +SKIP
    'Paris'
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.core.exceptions import ConfigurationError

if TYPE_CHECKING:
    from sageyard.storage import ObjectStore


class DatasetError(ConfigurationError):
    """A dataset file that cannot be used: the message names file, line and field."""


def dataset_files(path: Path) -> list[Path]:
    """The JSONL files of a dataset: the file itself, or the ``*.jsonl`` files of a folder."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.jsonl") if p.is_file())
        if not files:
            raise DatasetError(f"The dataset folder {path} holds no .jsonl file.")
        return files
    if not path.is_file():
        raise DatasetError(f"The dataset {path} does not exist.")
    return [path]


@dataclass(frozen=True)
class DatasetFormat:
    """How every line of a JSONL dataset must look.

    Attributes:
        example: One line as the user should write it; error messages show it.
        check_row: The problem with one row (a JSON object), or None when it is fine.
        check_rows: A check of the whole dataset once every line passed (it raises
            :class:`DatasetError`), e.g. DPO's "some pair must hold a preference".
    """

    example: str
    check_row: Callable[[dict[str, Any]], str | None]
    check_rows: Callable[[Path, list[dict[str, Any]]], None] | None = None

    def read(self, path: Path) -> list[dict[str, Any]]:
        """Every row of the dataset at ``path`` (a file or folder), checked.

        Raises:
            DatasetError: (a ConfigurationError) The first problem found, with file and line number.
        """
        rows: list[dict[str, Any]] = []
        for file in dataset_files(path):
            rows.extend(self._read_file(file))
        if self.check_rows is not None and rows:
            self.check_rows(path, rows)
        return rows

    def _read_file(self, file: Path) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        # Undecodable bytes are kept (as lone surrogates) so the error can name their line.
        with file.open(encoding="utf-8", errors="surrogateescape") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    line.encode("utf-8")
                except UnicodeEncodeError as error:
                    raise DatasetError(
                        f"{file}, line {number}: not UTF-8 text (a byte UTF-8 cannot decode at "
                        f"column {error.start + 1}); save the file as UTF-8."
                    ) from None
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise DatasetError(
                        f"{file}, line {number}: not valid JSON ({error.msg} at column "
                        f"{error.colno}). Each line must be one JSON object: {self.example}."
                    ) from None
                except (ValueError, RecursionError) as error:  # a 5,000-digit number, [[[[...
                    raise DatasetError(
                        f"{file}, line {number}: JSON that cannot be read ({error}). Each line "
                        f"must be one JSON object: {self.example}."
                    ) from None
                if not isinstance(row, dict):
                    raise DatasetError(
                        f"{file}, line {number}: expected a JSON object, got "
                        f"{type(row).__name__}. Each line must be: {self.example}."
                    )
                problem = self.check_row(row)
                if problem:
                    raise DatasetError(f"{file}, line {number}: {problem}")
                rows.append(row)
        if not rows:
            raise DatasetError(
                f"The dataset file {file} is empty. It needs one JSON object per line: "
                f"{self.example}."
            )
        return rows


def read_dataset(source: str, rows: DatasetFormat, objects: ObjectStore) -> list[dict[str, Any]]:
    """Every row of the dataset at ``source`` (a local file or folder, or an ``s3://`` URI),
    checked by ``rows``; an ``s3://`` dataset is read from ``objects``.

    Raises:
        DatasetError: (a ConfigurationError) The first problem found, with file and line number,
            or no object under an ``s3://`` URI.
    """
    if not source.startswith("s3://"):
        return rows.read(Path(source).expanduser())
    local = objects.local_path(source)
    if local is not None and local.exists():
        return rows.read(local)
    from sageyard.core.exceptions import StorageError
    from sageyard.storage import download_prefix

    with tempfile.TemporaryDirectory(prefix="sageyard-dataset-") as folder:
        try:
            download_prefix(objects, source, Path(folder))
        except StorageError as error:  # nothing under the URI, or the store failed
            raise DatasetError(f"The dataset {source} cannot be read: {error}") from None
        return rows.read(Path(folder))
