"""Properties of the dataset readers, over generated files.

- The fine-tuning datasets (``DatasetFormat.read`` of the SFT and DPO programs, which
  ``DataSet.create``, ``ProgramSpec.check_dataset`` and the programs in the job all use):
  valid JSONL rows read back as written; a file with one bad line (bad JSON, not an object,
  a missing field, a wrong type, an empty answer, bytes that are not UTF-8) is refused with
  a ValueError naming the file and that line; an empty file is refused; any bytes at all
  either read or are refused with a ValueError, never another error. ``DataSet.create``
  refuses a bad file before writing anything.
- The built-in algorithms' readers (``read_csv``, ``read_libsvm`` in the job): valid rows
  read back as numbers; a bad cell or token is refused with an AlgorithmError naming the
  line; any text either reads or is refused with an AlgorithmError, never another error.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sageyard.ai_registry.dataset import KIND, DataSet
from sageyard.core.enums import CustomizationTechnique
from sageyard.core.session import Session
from sageyard.models.datasets import DatasetFormat
from sageyard.programs._common import AlgorithmError, ProgramContext
from sageyard.programs._data import read_csv, read_libsvm
from sageyard.programs._llm.data import read_dataset as read_program_dataset
from sageyard.programs.dpo.spec import PROGRAM as DPO
from sageyard.programs.sft.spec import PROGRAM as SFT
from sageyard.store import open_store
from tests.property.strategies import FEWER, PROPERTY

assert SFT.dataset is not None and DPO.dataset is not None
FORMATS: dict[str, DatasetFormat] = {"sft": SFT.dataset, "dpo": DPO.dataset}

ANSWER = st.text(min_size=1, max_size=20).filter(str.strip)
EXTRA = st.dictionaries(
    st.sampled_from(["id", "source", "meta"]), st.integers() | st.text(max_size=5), max_size=2
)


def message(role: str) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({"role": st.just(role), "content": st.text(max_size=20)})


CHAT = st.builds(
    lambda before, answer: {"messages": [*before, answer]},
    st.lists(st.sampled_from(["system", "user", "assistant"]).flatmap(message), min_size=1),
    message("assistant"),
)
SFT_ROW = st.one_of(
    st.builds(
        lambda prompt, completion, extra: {**extra, "prompt": prompt, "completion": completion},
        st.text(max_size=20),
        ANSWER,
        EXTRA,
    ),
    CHAT,
)
DPO_ROW = st.builds(
    lambda prompt, chosen, rejected, extra: {
        **extra,
        "prompt": prompt,
        "chosen": chosen,
        "rejected": rejected,
    },
    st.text(max_size=20),
    ANSWER,
    ANSWER,
    EXTRA,
)


def dpo_rows() -> st.SearchStrategy[list[dict[str, Any]]]:
    """DPO rows of which at least one holds a preference (chosen != rejected)."""
    return st.lists(DPO_ROW, min_size=1, max_size=8).filter(
        lambda rows: any(r["chosen"] != r["rejected"] for r in rows)
    )


ROWS = {"sft": st.lists(SFT_ROW, min_size=1, max_size=8), "dpo": dpo_rows()}


@dataclass
class JsonlFile:
    """Rows as the lines of a JSONL file: blank lines here and there, LF or CRLF ends."""

    lines: list[str]
    end: str
    trailing_end: bool
    numbers: list[int]  # the line number of each row

    def text(self) -> str:
        return self.end.join(self.lines) + (self.end if self.trailing_end else "")

    def with_line(self, number: int, line: str) -> JsonlFile:
        lines = list(self.lines)
        lines[number - 1] = line
        return JsonlFile(lines, self.end, self.trailing_end, self.numbers)


@st.composite
def jsonl(draw: st.DrawFn, rows: list[dict[str, Any]]) -> JsonlFile:
    lines: list[str] = []
    numbers: list[int] = []
    for row in rows:
        lines.extend([""] * draw(st.integers(0, 2)))
        lines.append(json.dumps(row, ensure_ascii=draw(st.booleans())))
        numbers.append(len(lines))
    return JsonlFile(lines, draw(st.sampled_from(["\n", "\r\n"])), draw(st.booleans()), numbers)


#: One bad line for each technique, as the text of the line.
BAD_LINES = {
    "sft": st.one_of(
        st.sampled_from(
            [
                "{not json",
                '{"prompt": "a", "completion": "b"',
                "[1, 2]",
                '"a string"',
                "42",
                "null",
                '{"prompt": "a"}',
                '{"completion": "b"}',
                '{"prompt": 1, "completion": "b"}',
                '{"prompt": "a", "completion": 2}',
                '{"prompt": "a", "completion": "   "}',
                '{"messages": []}',
                '{"messages": "hi"}',
                '{"messages": [{"role": "user", "content": "hi"}]}',
                '{"messages": [{"role": "user", "content": "q"}, {"role": "bot", "content": "a"}]}',
                '{"messages": [{"role": "user"}, {"role": "assistant", "content": "a"}]}',
                '{"messages": [{"role": "user", "content": 1}, '
                '{"role": "assistant", "content": "a"}]}',
            ]
        ),
        # One line: no LF or CR (the reader, like any text file, ends a line at either).
        st.text(min_size=1, max_size=10).filter(lambda t: t.strip() and not set(t) & {"\n", "\r"}),
    ),
    "dpo": st.sampled_from(
        [
            "{not json",
            '{"prompt": "a", "chosen": "b"}',
            '{"prompt": "a", "rejected": "c"}',
            '{"chosen": "b", "rejected": "c"}',
            '{"prompt": "a", "chosen": "", "rejected": "c"}',
            '{"prompt": "a", "chosen": "b", "rejected": ["c"]}',
            '{"prompt": null, "chosen": "b", "rejected": "c"}',
            "[]",
        ]
    ),
}


def _not_a_row(line: str, technique: str) -> bool:
    """Whether ``line`` is refused on its own (random text may be a valid JSON row)."""
    try:
        row = json.loads(line)
    except (ValueError, RecursionError):
        return True
    return not isinstance(row, dict) or FORMATS[technique].check_row(row) is not None


def write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        path.write_bytes(data.encode("utf-8"))
    else:
        path.write_bytes(data)
    return path


TECHNIQUE = pytest.mark.parametrize("technique", sorted(FORMATS))


@TECHNIQUE
@PROPERTY
@given(data=st.data())
def test_valid_rows_read_back_as_written(
    tmp_path: Path, technique: str, data: st.DataObject
) -> None:
    rows = data.draw(ROWS[technique], label="rows")
    file = data.draw(jsonl(rows), label="file")
    path = write(tmp_path / "train.jsonl", file.text())
    assert FORMATS[technique].read(path) == rows


@TECHNIQUE
@PROPERTY
@given(data=st.data())
def test_a_bad_line_is_refused_by_its_number(
    tmp_path: Path, technique: str, data: st.DataObject
) -> None:
    rows = data.draw(ROWS[technique], label="rows")
    file = data.draw(jsonl(rows), label="file")
    bad = data.draw(BAD_LINES[technique].filter(lambda t: _not_a_row(t, technique)), label="bad")
    number = data.draw(st.sampled_from(file.numbers), label="line")
    path = write(tmp_path / "train.jsonl", file.with_line(number, bad).text())
    with pytest.raises(ValueError, match=re.escape(f"{path}, line {number}:")):
        FORMATS[technique].read(path)


@TECHNIQUE
@pytest.mark.parametrize(
    "bad",
    ["[" * 100_000 + "]" * 100_000, '{"prompt": "a", "completion": ' + "9" * 5000 + "}"],
    ids=["nested too deep", "a 5000-digit number"],
)
def test_json_that_python_cannot_read_is_refused_by_its_line(
    tmp_path: Path, technique: str, bad: str
) -> None:
    good = json.dumps({"prompt": "a", "completion": "b", "chosen": "b", "rejected": "c"})
    path = write(tmp_path / "train.jsonl", good + "\n" + bad + "\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}, line 2:")):
        FORMATS[technique].read(path)


@TECHNIQUE
@PROPERTY
@given(data=st.data())
def test_bytes_that_are_not_utf8_are_refused_by_line(
    tmp_path: Path, technique: str, data: st.DataObject
) -> None:
    rows = data.draw(ROWS[technique], label="rows")
    file = data.draw(jsonl(rows), label="file")
    number = data.draw(st.sampled_from(file.numbers), label="line")
    end = file.end.encode()
    lines = [line.encode("utf-8") for line in file.lines]
    line = lines[number - 1]
    cut = data.draw(st.integers(1, len(line) - 1), label="where in the line")
    lines[number - 1] = line[:cut] + data.draw(st.sampled_from([b"\xff", b"\xc3("])) + line[cut:]
    path = write(tmp_path / "train.jsonl", end.join(lines) + (end if file.trailing_end else b""))
    with pytest.raises(ValueError, match=re.escape(f"{path}, line {number}:")):
        FORMATS[technique].read(path)


@TECHNIQUE
@PROPERTY
@given(text=st.text(" \t\r\n", max_size=10))
def test_an_empty_file_is_refused(tmp_path: Path, technique: str, text: str) -> None:
    path = write(tmp_path / "train.jsonl", text)
    with pytest.raises(ValueError, match="empty"):
        FORMATS[technique].read(path)


@TECHNIQUE
@PROPERTY
@example(data=b"\xef\xbb\xbf{}\n")
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_read_or_are_refused_with_a_value_error(
    tmp_path: Path, technique: str, data: bytes
) -> None:
    path = write(tmp_path / "train.jsonl", data)
    try:
        rows = FORMATS[technique].read(path)
    except ValueError as error:
        assert str(path) in str(error)
    else:
        assert rows and all(isinstance(row, dict) for row in rows)


@PROPERTY
@given(data=st.data())
def test_in_the_job_a_bad_line_fails_the_program_naming_channel_and_line(
    tmp_path: Path, data: st.DataObject
) -> None:
    """The programs read their channel with the same format: a bad line is an AlgorithmError
    (the job's FailureReason) that names the channel and the line."""
    technique = data.draw(st.sampled_from(sorted(FORMATS)), label="technique")
    program = SFT if technique == "sft" else DPO
    rows = data.draw(ROWS[technique], label="rows")
    file = data.draw(jsonl(rows), label="file")
    bad = data.draw(BAD_LINES[technique].filter(lambda t: _not_a_row(t, technique)), label="bad")
    number = data.draw(st.sampled_from(file.numbers), label="line")
    channel = tmp_path / "input" / "data" / "train"
    channel.mkdir(parents=True, exist_ok=True)
    write(channel / "train.jsonl", file.with_line(number, bad).text())
    context = ProgramContext(
        hyperparameters={},
        input_data_config={"train": {}},
        input_data_dir=tmp_path / "input" / "data",
        model_dir=tmp_path / "model",
        output_data_dir=tmp_path / "output",
        failure_file=tmp_path / "failure",
        checkpoint_dir=tmp_path / "checkpoints",
        current_host="algo-1",
        hosts=["algo-1"],
    )
    with pytest.raises(AlgorithmError, match=f"'train' channel.*line {number}:"):
        read_program_dataset(context, "train", program, required=True)


# -- DataSet.create ---------------------------------------------------------------------------


def assert_no_dataset_written(session: Session, name: str) -> None:
    assert open_store(session.settings.store_url).list(KIND, parent=name) == []
    assert session.objects.list(f"s3://{session.default_bucket()}/datasets/{name}/") == []


@FEWER
@given(data=st.data())
def test_data_set_create_takes_valid_rows_and_refuses_a_bad_line_before_writing(
    tmp_path: Path, data: st.DataObject
) -> None:
    technique = data.draw(st.sampled_from(sorted(FORMATS)), label="technique")
    rows = data.draw(ROWS[technique], label="rows")
    file = data.draw(jsonl(rows), label="file")
    bad = data.draw(BAD_LINES[technique].filter(lambda t: _not_a_row(t, technique)), label="bad")
    number = file.numbers[-1]
    path = write(tmp_path / "bad.jsonl", file.with_line(number, bad).text())
    session = Session()
    with pytest.raises(ValueError, match=re.escape(f"line {number}:")):
        DataSet.create("refused", str(path), CustomizationTechnique(technique))
    assert_no_dataset_written(session, "refused")

    good = write(tmp_path / "good.jsonl", file.text())
    created = DataSet.create("taken", str(good), CustomizationTechnique(technique))
    assert FORMATS[technique].read(session.objects.local_path(created.source) or good) == rows


@FEWER
@example(name="name\n")
@given(
    st.one_of(
        st.text(max_size=70).filter(
            lambda n: not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", n)
        ),
        st.just("a" * 64),
        st.just("-name"),
    )
)
def test_data_set_create_refuses_a_bad_name_before_writing(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / "train.jsonl", '{"prompt": "a", "completion": "b"}\n')
    with pytest.raises(ValueError):
        DataSet.create(name, str(path), CustomizationTechnique.SFT)
    session = Session()
    assert open_store(session.settings.store_url).list(KIND) == []
    assert session.objects.list(f"s3://{session.default_bucket()}/datasets/") == []


# -- the built-in algorithms' CSV and libsvm readers ------------------------------------------

NUMBER = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def csv_rows(draw: st.DrawFn) -> list[list[float]]:
    width = draw(st.integers(2, 5))
    return draw(st.lists(st.lists(NUMBER, min_size=width, max_size=width), min_size=1, max_size=8))


def csv_text(rows: list[list[float]], end: str = "\n") -> str:
    return "".join(",".join(repr(v) for v in row) + end for row in rows)


@PROPERTY
@given(csv_rows(), st.sampled_from(["\n", "\r\n"]))
def test_valid_csv_rows_read_back_as_numbers(
    tmp_path: Path, rows: list[list[float]], end: str
) -> None:
    path = write(tmp_path / "train.csv", csv_text(rows, end))
    dataset = read_csv([path])
    assert dataset.labels is not None
    assert dataset.labels.tolist() == [row[0] for row in rows]
    assert dataset.features.tolist() == [row[1:] for row in rows]


@PROPERTY
@given(
    csv_rows(),
    st.data(),
    st.sampled_from(["abc", "0x1f", "--1", "1e", "\x00", "é", "1 2", "x1"]),
)
def test_a_bad_csv_cell_is_refused_by_its_line(
    tmp_path: Path, rows: list[list[float]], data: st.DataObject, cell: str
) -> None:
    line = data.draw(st.integers(0, len(rows) - 1), label="line")
    column = data.draw(st.integers(0, len(rows[0]) - 1), label="column")
    lines = csv_text(rows).splitlines(keepends=True)
    cells = lines[line].rstrip("\n").split(",")
    cells[column] = cell
    lines[line] = ",".join(cells) + "\n"
    path = write(tmp_path / "train.csv", "".join(lines))
    with pytest.raises(AlgorithmError, match=re.escape(f"line {line + 1}")):
        read_csv([path])


@PROPERTY
@given(csv_rows(), st.data())
def test_a_ragged_csv_row_is_refused_by_its_line(
    tmp_path: Path, rows: list[list[float]], data: st.DataObject
) -> None:
    rows = rows if len(rows) > 1 else [*rows, rows[0]]
    line = data.draw(st.integers(1, len(rows) - 1), label="line")
    cut = data.draw(st.sampled_from([-1, 1]), label="a cell fewer or more")
    rows[line] = rows[line][:-1] if cut < 0 else [*rows[line], 1.0]
    path = write(tmp_path / "train.csv", csv_text(rows))
    with pytest.raises(AlgorithmError, match=re.escape(f"line {line + 1}: ")):
        read_csv([path])


@st.composite
def libsvm_rows(draw: st.DrawFn) -> list[tuple[float, dict[int, float]]]:
    row = st.tuples(
        NUMBER, st.dictionaries(st.integers(0, 2**31 - 2), NUMBER.filter(bool), max_size=4)
    )
    return draw(st.lists(row, min_size=1, max_size=6))


@PROPERTY
@given(libsvm_rows())
def test_valid_libsvm_rows_read_back_as_numbers(
    tmp_path: Path, rows: list[tuple[float, dict[int, float]]]
) -> None:
    text = "".join(
        f"{label!r} " + " ".join(f"{i}:{v!r}" for i, v in sorted(features.items())) + "\n"
        for label, features in rows
    )
    dataset = read_libsvm([write(tmp_path / "train.libsvm", text)])
    assert dataset.labels is not None
    assert dataset.labels.tolist() == [label for label, _ in rows]
    matrix = dataset.features.tocsr()
    for number, (_, features) in enumerate(rows):
        row = matrix.getrow(number)
        assert dict(zip(row.indices.tolist(), row.data.tolist(), strict=True)) == features


@PROPERTY
@given(
    libsvm_rows(),
    st.data(),
    st.sampled_from(
        ["x:1", "1", "-1:2", "1.5:2", "\u00b2:1", "\u0661:1", "99999999999:1", "1:x", ":1"]
    ),
)
def test_a_bad_libsvm_token_is_refused_by_its_line(
    tmp_path: Path, rows: list[tuple[float, dict[int, float]]], data: st.DataObject, token: str
) -> None:
    line = data.draw(st.integers(0, len(rows) - 1), label="line")
    lines = [f"{label!r} " + " ".join(f"{i}:{v!r}" for i, v in f.items()) for label, f in rows]
    lines[line] += " " + token
    path = write(tmp_path / "train.libsvm", "\n".join(lines) + "\n")
    with pytest.raises(AlgorithmError, match=re.escape(f"line {line + 1}")):
        read_libsvm([path])


@PROPERTY
@given(
    st.text(st.sampled_from("0123456789.,:-+e #\n\r\tnaif\u00b2\u0661x"), max_size=80)
    | st.binary(max_size=80).map(lambda b: b.decode("latin-1"))
)
def test_any_text_reads_or_is_refused_with_an_algorithm_error(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "train", text)
    for reader in (read_csv, read_libsvm):
        try:
            dataset = reader([path])
        except AlgorithmError:
            continue
        assert dataset.rows >= 1
        assert not math.isnan(float(dataset.rows))
