"""Every error that refuses what a user gave is a ConfigurationError (issue 9, item 3).

A ``ConfigurationError`` is also a ``ValueError``, so ``except ValueError`` keeps working;
what it adds is one error tree (``sageyard.core.exceptions``) that says "change your
request". The source is parsed with :mod:`ast`: a ``raise ValueError(...)`` or
``raise TypeError(...)`` may only appear

- in a pydantic validator (pydantic turns it into its ``ValidationError``, as the SDK's
  shapes do), or
- in ``ALLOWED``: checks of sageyard's own definitions (a program's spec, the model
  catalog), which fail for a sageyard developer, never for a user's request; and code
  that runs inside a job.

A bare ``raise ValueError`` (control flow caught a line later) is not an error message.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "sageyard"

VALIDATORS = {"field_validator", "model_validator", "validator", "root_validator"}

#: (module path under src/sageyard, function) → why a plain ValueError/TypeError is right.
ALLOWED: dict[tuple[str, str], str] = {
    ("core/shapes/_training.py", "_check_s3_uri"): "called only by pydantic validators",
    ("core/shapes/_training.py", "check_channel_name"): "called only by pydantic validators",
    (
        "core/shapes/_training.py",
        "check_channel_folder",
    ): "pydantic validators; the request wraps it",
    ("core/shapes/_training.py", "check_instance_type"): "called only by pydantic validators",
    ("programs/_spec.py", "__post_init__"): "a program's own spec is malformed",
    ("jobs/remote.py", "_json_value"): "json.dumps's default= hook: TypeError is its protocol",
    ("programs/_spec.py", "trainer_class"): "a registry entry names a class that is not one",
    ("programs/_registry.py", "_resolve"): "a registry entry names something not a spec",
    ("programs/_llm/options.py", "options_per_training_type"): "a program's own defaults",
    ("models/catalog.py", "__post_init__"): "a catalog entry is malformed",
    ("train/_fine_tuning.py", "trainer_class"): "a registry entry names a wrong class",
    ("train/_fine_tuning.py", "__init__"): "a compute of another type: TypeError, as the real SDK",
    ("jobs/metrics.py", "__init__"): "the per-second cap is sageyard's own constant",
    ("server/wire.py", "_default"): "json.dumps's default= hook: TypeError is its contract",
    ("programs/linear_learner/losses.py", "loss_and_gradient"): "in the job: names are checked",
    ("programs/evaluate/catalog.py", "task_name"): "a catalog entry without an lm-eval task",
}


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _plain_raises() -> list[tuple[str, str, int]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = str(path.relative_to(SRC))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if _decorator_names(function) & VALIDATORS:
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Raise)
                    and isinstance(node.exc, ast.Call)
                    and isinstance(node.exc.func, ast.Name)
                    and node.exc.func.id in ("ValueError", "TypeError")
                    and (module, function.name) not in ALLOWED
                ):
                    found.append((module, function.name, node.lineno))
    return sorted(set(found))


def test_user_errors_are_configuration_errors() -> None:
    plain = _plain_raises()
    assert not plain, (
        "raise ConfigurationError (sageyard.core.exceptions) for a request a user can fix, "
        "or list the function in ALLOWED with the reason a plain error is right: "
        + ", ".join(f"{module}:{line} in {function}()" for module, function, line in plain)
    )


def test_every_allowed_function_still_raises_one() -> None:
    functions = {
        (str(path.relative_to(SRC)), node.name)
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef)
    }
    assert not set(ALLOWED) - functions, "remove the entries of ALLOWED that name no function"
