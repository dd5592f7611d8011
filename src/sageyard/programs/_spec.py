"""What a program declares: :class:`ProgramSpec`, and :class:`OptionSpec` for its options.

A program is code that runs inside a training job (``python -m <module>``): a built-in
algorithm or a fine-tuning technique. Its ``spec.py`` holds one ``PROGRAM = ProgramSpec(...)``
that the facade and the services read without running the program: its metrics (registered
on every job of it), its tunable ranges (``HyperparameterTuner(autotune=True)``), the
hyperparameters or options it takes and how they are checked, the dataset rows it reads,
and, for a fine-tuning technique, the facade class that builds its jobs.

Light on purpose, like every ``spec.py``: nothing here imports torch, TRL, numpy, pydantic
or botocore at module level, so importing a program's ``__main__`` stays fast.

Example:
    >>> from sageyard.programs import program
    >>> spec = program("dpo")
    >>> spec.module, spec.fine_tuning
    ('sageyard.programs.dpo', True)
    >>> spec.option_specs("full")["beta"]["default"]
    0.1
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from sageyard.models.options import TYPES

if TYPE_CHECKING:
    from sageyard.core.parameter import ParameterRange
    from sageyard.core.shapes import MetricDefinition
    from sageyard.models.datasets import DatasetFormat
    from sageyard.programs._common import Hyperparameter
    from sageyard.storage import ObjectStore

__all__ = ["OptionSpec", "ProgramSpec"]

#: The channels of a fine-tuning job that hold its dataset (``training`` as JumpStart names it).
TRAIN_CHANNELS = ("train", "training")
DATA_CHANNELS = (*TRAIN_CHANNELS, "validation")


@dataclass(frozen=True, kw_only=True)
class OptionSpec:
    """One option of a fine-tuning program: its type, default, bounds and meaning.

    :meth:`as_dict` gives the dict that :class:`~sageyard.train.common.FineTuningOptions`
    and :func:`sageyard.models.options.parse_options` take.

    Example:
        >>> OptionSpec(type="integer", default=3, min=1, max=50, description="Passes.").as_dict()
        {'type': 'integer', 'default': 3, 'min': 1, 'max': 50, 'description': 'Passes.'}
    """

    type: Literal["integer", "float", "string", "list"]
    default: Any
    description: str
    min: float | None = None
    max: float | None = None
    enum: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(
                f"OptionSpec.type must be one of {', '.join(TYPES)}, got {self.type!r}."
            )

    def as_dict(self) -> dict[str, Any]:
        """A fresh dict of the option (lists as lists), without the bounds it does not have."""
        default = list(self.default) if isinstance(self.default, tuple) else self.default
        spec: dict[str, Any] = {"type": self.type, "default": copy.deepcopy(default)}
        if self.min is not None:
            spec["min"] = self.min
        if self.max is not None:
            spec["max"] = self.max
        if self.enum is not None:
            spec["enum"] = list(self.enum)
        spec["description"] = self.description
        return spec


@dataclass(frozen=True, eq=False, kw_only=True)
class ProgramSpec:
    """Everything sageyard knows about a program before it runs.

    A frozen dataclass rather than a pydantic model: a spec is written in code by the
    program's authors, never parsed from user input, so it needs no validation of foreign
    data; it holds functions and objects pydantic would only wrap (ParameterRange, a
    dataset format); and it must import nothing heavy, since every ``spec.py`` is read by
    the facade and imported by the program's own ``__main__``. So metrics are given as
    plain ``name → regex`` pairs; :attr:`metric_definitions` builds the shapes (pydantic)
    when a service first asks.

    Attributes:
        name: The algorithm name users pass (``ModelTrainer(algorithm_name=...)``), e.g.
            ``"xgboost"``, ``"linear-learner"``, ``"sft"``.
        module: What the job runs, as ``python -m <module>``.
        display_name: How messages name it (``"XGBoost"``, ``"k-means"``, ``"SFT"``).
        metrics: ``name → regex`` of the metrics registered on every job of the program
            (the user's own win on a name), so tuning on e.g. ``validation:auc`` needs
            none from the user; :attr:`metric_definitions` as shapes.
        tunable_ranges: What ``HyperparameterTuner(autotune=True)`` tunes.
        image_repositories: The repositories of SageMaker's images that select the
            program (``…/sagemaker-xgboost:1.7-1`` → ``sagemaker-xgboost``).
        hyperparameters: A built-in algorithm's hyperparameters, as its container
            documents them.
        options: A fine-tuning program's options, per training type (``lora``, ``full``).
        dataset: How each row of a fine-tuning program's datasets must look.
        facade: A fine-tuning program's trainer class as ``"module:NAME"``, resolved by
            :meth:`trainer_class` (e.g. ``"sageyard.train.sft_trainer:SFTTrainer"``).
        hyperparameter_check: ``check(spec, values)`` refuses a job's hyperparameters as
            the program would, before the job exists (raises ConfigurationError).
        data_parallel: The program trains data-parallel under torchrun: across hosts
            (and GPUs), one process per host on a machine without GPUs. Otherwise it runs
            once per host and coordinates the hosts itself (XGBoost) or trains on the first.
    """

    name: str
    module: str
    display_name: str
    metrics: Mapping[str, str] = field(default_factory=dict)
    tunable_ranges: Mapping[str, ParameterRange] = field(default_factory=dict)
    image_repositories: tuple[str, ...] = ()
    hyperparameters: Sequence[Hyperparameter] = ()
    options: Mapping[str, Mapping[str, OptionSpec]] = field(default_factory=dict)
    dataset: DatasetFormat | None = None
    facade: str | None = None
    hyperparameter_check: Callable[[ProgramSpec, Mapping[str, str]], None] | None = None
    data_parallel: bool = False

    def __post_init__(self) -> None:
        freeze = object.__setattr__  # a frozen dataclass: set the read-only views once
        freeze(self, "metrics", MappingProxyType(dict(self.metrics)))
        freeze(self, "hyperparameters", tuple(self.hyperparameters))
        freeze(self, "tunable_ranges", MappingProxyType(dict(self.tunable_ranges)))
        freeze(
            self,
            "options",
            MappingProxyType({t: MappingProxyType(dict(o)) for t, o in self.options.items()}),
        )
        if self.facade is not None and (
            self.facade.count(":") != 1 or not all(self.facade.split(":"))
        ):
            raise ValueError(
                f"ProgramSpec {self.name!r}: facade must be 'module:NAME' "
                f"(e.g. 'sageyard.train.sft_trainer:SFTTrainer'), got {self.facade!r}."
            )
        if self.facade is not None and not (self.options and self.dataset):
            raise ValueError(
                f"ProgramSpec {self.name!r}: a fine-tuning program (one with a facade) "
                "declares its options and its dataset format too."
            )

    @cached_property
    def metric_definitions(self) -> tuple[MetricDefinition, ...]:
        """:attr:`metrics` as MetricDefinition shapes (built once, on first use)."""
        from sageyard.core.shapes import MetricDefinition

        return tuple(MetricDefinition(name=n, regex=r) for n, r in self.metrics.items())

    @property
    def fine_tuning(self) -> bool:
        """Whether this is a fine-tuning technique (it has a facade trainer class)."""
        return self.facade is not None

    @property
    def training_types(self) -> tuple[str, ...]:
        """The training types a fine-tuning program takes (``("lora", "full")``)."""
        return tuple(self.options)

    def option_specs(self, training_type: str) -> dict[str, dict[str, Any]]:
        """A fresh copy of the options of ``training_type``, as FineTuningOptions takes them.

        Raises:
            ConfigurationError: (a ValueError) Not a fine-tuning program, or a training
                type it does not take.
        """
        from sageyard.core.exceptions import ConfigurationError

        if not self.options:
            raise ConfigurationError(
                f"{self.name!r} is not a fine-tuning program, so it has no options per "
                "training type; its hyperparameters are in ProgramSpec.hyperparameters."
            )
        if training_type not in self.options:
            raise ConfigurationError(
                f"training_type must be one of {', '.join(self.options)}, got {training_type!r}."
            )
        return {name: spec.as_dict() for name, spec in self.options[training_type].items()}

    def check_hyperparameters(self, values: Mapping[str, str]) -> None:
        """Refuse a job's hyperparameters before the job exists, as the program would.

        Programs that check nothing up front (the built-in algorithms check theirs when
        the job starts) accept anything here.

        Raises:
            ConfigurationError: (a ValueError) What the program would fail the job with.
        """
        if self.hyperparameter_check is not None:
            self.hyperparameter_check(self, values)

    def check_dataset(self, source: str, objects: ObjectStore) -> None:
        """Check every line of the dataset at ``source`` (a local path or ``s3://`` URI,
        read from ``objects``). Programs without a dataset format accept any source.

        Raises:
            ValueError: The first problem, naming the file, the line and the field.
        """
        if self.dataset is None:
            return
        from sageyard.models.datasets import read_dataset

        read_dataset(source, self.dataset, objects)

    def check_channels(self, sources: Mapping[str, str], objects: ObjectStore) -> None:
        """Check a job's channels (name → local path or ``s3://`` URI) before the job: a
        fine-tuning program needs a training channel, and every line of ``train`` /
        ``training`` / ``validation`` must fit :attr:`dataset`. Programs without a dataset
        format accept any channels.

        Raises:
            ConfigurationError: (a ValueError) No training channel, or a bad dataset line
                (file, line and field).
        """
        if self.dataset is None:
            return
        if not set(sources) & set(TRAIN_CHANNELS):
            from sageyard.core.exceptions import ConfigurationError

            raise ConfigurationError(
                f"A {self.display_name} job needs a training dataset: add "
                "InputData(channel_name='training', data_source='<path or s3:// URI of a JSONL "
                "file>') to input_data_config."
            )
        for name, source in sources.items():
            if name in DATA_CHANNELS:
                self.check_dataset(source, objects)

    def trainer_class(self) -> type[Any]:
        """The facade class of a fine-tuning program (:attr:`facade`), imported now.

        Raises:
            ConfigurationError: (a ValueError) Not a fine-tuning program.
        """
        from sageyard.core.exceptions import ConfigurationError

        if self.facade is None:
            raise ConfigurationError(
                f"{self.name!r} is not a fine-tuning program, so it has no trainer class; "
                f"run it with ModelTrainer(algorithm_name={self.name!r})."
            )
        module, _, attribute = self.facade.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        if not isinstance(found, type):
            raise TypeError(f"ProgramSpec {self.name!r}: facade {self.facade!r} is not a class.")
        return found

    def __repr__(self) -> str:
        return f"ProgramSpec(name={self.name!r}, module={self.module!r})"
