"""What every built-in program shares: its job context, hyperparameters, data and failures.

A program is run as ``python -m sageyard.programs.<name>`` inside a training job, so it
sees the SageMaker container contract (``spec/CONTRACT.md``). It reports a problem with
the request or the data by raising :class:`AlgorithmError`; :func:`run` turns that into
the job's failure file (its FailureReason) and exit code 1, never a traceback as reason.

Example:
    >>> def main(ctx: ProgramContext) -> None:
    ...     params = parse_hyperparameters(SPECS, ctx.hyperparameters, "XGBoost")
    >>> run(main)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn

from sageyard.runtime.environment import is_framework_hyperparameter

#: The start of a built-in container's ``#quality_metric`` log line, as its regexes read it.
QUALITY_METRIC = r"#quality_metric: host=\S+, "
#: The progress and throughput metrics the k-means and linear-learner containers log.
CONTAINER_METRICS: dict[str, str] = {
    "train:progress": r"#progress_metric: host=\S+, completed (\S+) %",
    "train:throughput": r"#throughput_metric: host=\S+, train throughput=(\S+) records/second",
}


class AlgorithmError(Exception):
    """A problem with the request or the data: its message becomes the FailureReason."""


@dataclass(frozen=True)
class ProgramContext:
    """The job as a program sees it."""

    hyperparameters: dict[str, str]
    input_data_config: dict[str, dict[str, Any]]
    input_data_dir: Path
    model_dir: Path
    output_data_dir: Path
    failure_file: Path
    checkpoint_dir: Path
    current_host: str
    hosts: list[str]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ProgramContext:
        env = dict(os.environ if env is None else env)
        config = Path(env["SM_INPUT_CONFIG_DIR"])
        model_dir = Path(env["SM_MODEL_DIR"])
        root = model_dir.parent  # the job root: /opt/ml, or its folder without a namespace
        local = _read_json(config / "checkpointconfig.json").get("LocalPath", "/opt/ml/checkpoints")
        checkpoints = (
            root / local.removeprefix("/opt/ml/") if local.startswith("/opt/ml/") else Path(local)
        )
        return cls(
            hyperparameters=_read_json(config / "hyperparameters.json"),
            input_data_config=_read_json(config / "inputdataconfig.json"),
            input_data_dir=Path(env["SM_INPUT_DATA_DIR"]),
            model_dir=model_dir,
            output_data_dir=Path(env["SM_OUTPUT_DATA_DIR"]),
            failure_file=Path(env["SM_OUTPUT_FAILURE"]),
            checkpoint_dir=checkpoints,
            current_host=env.get("SM_CURRENT_HOST", "algo-1"),
            hosts=json.loads(env.get("SM_HOSTS", '["algo-1"]')),
        )

    def channel(self, name: str) -> Path | None:
        """The channel's folder, or None when the job has no such channel."""
        if name not in self.input_data_config:
            return None
        return self.input_data_dir / name

    def content_type(self, name: str) -> str | None:
        return self.input_data_config.get(name, {}).get("ContentType")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def configure_logging(
    log: logging.Logger,
    fmt: str = "[%(asctime)s %(levelname)s %(process)d] %(message)s",
    datefmt: str = "%m/%d/%Y %H:%M:%S",
) -> None:
    """Log to stdout in the container's format (the job's log, where metrics are read)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(fmt, datefmt))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def run(main: Callable[[ProgramContext], None], env: dict[str, str] | None = None) -> NoReturn:
    """Run a program's ``main``; record an AlgorithmError (or a crash) as the failure."""
    context = ProgramContext.from_env(env)
    try:
        main(context)
    except AlgorithmError as error:
        _fail(context, str(error))
        sys.exit(1)
    except Exception as error:  # a bug of the program, not of the request
        traceback.print_exc()
        _fail(
            context,
            f"AlgorithmError: an internal error of the program: {type(error).__name__}: {error}",
        )
        sys.exit(2)
    sys.exit(0)


def _fail(context: ProgramContext, message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    context.failure_file.parent.mkdir(parents=True, exist_ok=True)
    context.failure_file.write_text(message)


# -- hyperparameters -------------------------------------------------------------------------

Kind = Literal["int", "float", "str", "bool", "int_list", "str_list"]


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter of an algorithm, as its container documents it."""

    name: str
    kind: Kind
    default: Any = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: Sequence[Any] | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)


def _convert(spec: Hyperparameter, raw: str, algorithm: str) -> Any:
    text = raw.strip()
    try:
        if spec.kind == "int":
            number = float(text)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if spec.kind == "float":
            return float(text)
        if spec.kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            raise ValueError
        if spec.kind in ("int_list", "str_list"):
            inner = text.strip("[]").replace('"', "").replace("'", "")
            items = [item.strip() for item in inner.split(",") if item.strip()]
            return [int(i) for i in items] if spec.kind == "int_list" else items
        return text
    except ValueError:
        kinds = {
            "int": "an integer",
            "float": "a number",
            "bool": "true or false",
            "int_list": "a list of integers",
            "str_list": "a list",
            "str": "a string",
        }
        raise AlgorithmError(
            f"ClientError: Hyperparameter {spec.name}={raw!r} of the {algorithm} algorithm "
            f"must be {kinds[spec.kind]}."
        ) from None


def _check(spec: Hyperparameter, value: Any, algorithm: str) -> None:
    where = f"Hyperparameter {spec.name}={value!r} of the {algorithm} algorithm"
    if spec.choices is not None:
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if v not in spec.choices]
        if bad:
            raise AlgorithmError(
                f"ClientError: {where} is not valid; choose from "
                f"{', '.join(map(str, spec.choices))}."
            )
    if spec.minimum is not None and isinstance(value, int | float):
        low_ok = value > spec.minimum if spec.exclusive_minimum else value >= spec.minimum
        if not low_ok:
            sign = ">" if spec.exclusive_minimum else ">="
            raise AlgorithmError(f"ClientError: {where} must be {sign} {spec.minimum:g}.")
    if spec.maximum is not None and isinstance(value, int | float) and value > spec.maximum:
        raise AlgorithmError(f"ClientError: {where} must be <= {spec.maximum:g}.")


def parse_hyperparameters(
    specs: Sequence[Hyperparameter], raw: dict[str, str], algorithm: str
) -> dict[str, Any]:
    """Typed, checked values for every spec (defaults filled in), by canonical name.

    Raises:
        AlgorithmError: An unknown name, a missing required one, a wrong type or a value
            out of range; the message names it and says what is allowed.
    """
    by_name = {spec.name: spec for spec in specs}
    for spec in specs:
        for alias in spec.aliases:
            by_name[alias] = spec
    values: dict[str, Any] = {}
    for name, text in raw.items():
        if is_framework_hyperparameter(name):
            continue
        found = by_name.get(name)
        if found is None:
            known = ", ".join(sorted(s.name for s in specs))
            raise AlgorithmError(
                f"ClientError: Hyperparameter {name!r} is not a hyperparameter of the "
                f"{algorithm} algorithm. Known: {known}."
            )
        if found.name in values:
            raise AlgorithmError(
                f"ClientError: Hyperparameter {found.name} is given twice (also as {name})."
            )
        value = _convert(found, str(text), algorithm)
        _check(found, value, algorithm)
        values[found.name] = value
    for spec in specs:
        if spec.name not in values:
            if spec.required:
                raise AlgorithmError(
                    f"ClientError: Hyperparameter {spec.name} is required by the {algorithm} "
                    "algorithm; set it in hyperparameters."
                )
            values[spec.name] = spec.default
    return values
