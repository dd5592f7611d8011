"""The custom scorer's rows: gen-QA and the fine-tuning formats, as questions and answers."""

from __future__ import annotations

import pytest

from sageyard.programs.evaluate.genqa import check_row, question


@pytest.mark.parametrize(
    ("row", "asked", "reference"),
    [
        ({"query": "2+2?", "response": "4"}, [{"role": "user", "content": "2+2?"}], "4"),
        (
            {"query": "2+2?", "system": "Terse.", "response": "4"},
            [{"role": "system", "content": "Terse."}, {"role": "user", "content": "2+2?"}],
            "4",
        ),
        ({"query": "hi"}, [{"role": "user", "content": "hi"}], None),
        ({"prompt": "2+2?", "completion": "4"}, [{"role": "user", "content": "2+2?"}], "4"),
        (
            {"prompt": [{"role": "user", "content": "x"}], "reference_answer": "y"},
            [{"role": "user", "content": "x"}],
            "y",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "assistant", "content": "y"},
                ]
            },
            [{"role": "user", "content": "x"}],
            "y",
        ),
    ],
)
def test_rows_become_the_question_and_its_reference(
    row: dict, asked: list, reference: str | None
) -> None:
    assert question(row) == (asked, reference)
    assert check_row(row) is None


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"text": "x"}, "missing field 'query'"),
        ({"query": ""}, "must be a non-empty string"),
        ({"query": "q", "response": 4}, "field 'response' must be a string"),
        ({"messages": []}, "'messages' must be a non-empty list"),
    ],
)
def test_bad_rows_say_what_is_wrong(row: dict, problem: str) -> None:
    found = check_row(row)
    assert found is not None and problem in found
