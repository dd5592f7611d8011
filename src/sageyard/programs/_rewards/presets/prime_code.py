"""Preset ``prime_code``: the share of the row's tests the response's code passes.

The code is the response's last fenced block (```` ```python ````), else the whole
response. Tests are the reference answer (verl's ``reward_model.ground_truth``) or the
row's ``tests``: verl's prime_code JSON ``{"inputs": [...], "outputs": [...]}`` (each input
on stdin, the output compared with stdout) or, with ``"fn_name"``, calls of that function
with each input's arguments; or Python ``assert`` lines, each a test. Every test runs in
its own Python process in the worker's sandbox, a few seconds at most.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from sageyard.programs._rewards.presets._answers import output, raw_reference, response_of

_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)
_TEST_SECONDS = 3.0


def code_of(response: str) -> str:
    blocks = _FENCE.findall(response)
    return blocks[-1] if blocks else response


def _run(program: str, stdin: str = "") -> tuple[bool, str]:
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", program],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=_TEST_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return False, ""
    return done.returncode == 0, done.stdout


def _tests(spec: Any, code: str) -> list[tuple[str, str, str | None]]:
    """``(program, stdin, expected stdout or None)`` per test."""
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError:
            asserts = [line for line in spec.splitlines() if line.strip().startswith("assert")]
            return [(f"{code}\n{line}", "", None) for line in asserts]
    if isinstance(spec, list):  # a list of assert lines
        return [(f"{code}\n{line}", "", None) for line in spec if isinstance(line, str)]
    if not isinstance(spec, dict):
        return []
    inputs, outputs = spec.get("inputs", []), spec.get("outputs", [])
    name = spec.get("fn_name")
    tests: list[tuple[str, str, str | None]] = []
    for given, expected in zip(inputs, outputs, strict=False):
        if name:
            arguments = given if isinstance(given, list) else [given]
            call = f"{code}\nimport json\nprint(json.dumps({name}(*{arguments!r})))"
            tests.append((call, "", json.dumps(expected)))
        else:
            tests.append((code, str(given), str(expected)))
    return tests


def _passed(program: str, stdin: str, expected: str | None) -> bool:
    ok, stdout = _run(program, stdin)
    if expected is None:
        return ok
    return ok and stdout.split() == expected.split()


def lambda_handler(event: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
    results = []
    for item in event:
        code = code_of(response_of(item))
        spec = raw_reference(item)
        if spec is None:
            spec = item.get("tests")
        tests = _tests(spec, code)
        passed = sum(_passed(*test) for test in tests)
        reward = passed / len(tests) if tests else 0.0
        results.append(output(item, reward, tests=float(len(tests))))
    return results
