"""What the fine-tuning trainers share: ``TrainingType``, ``CustomizationTechnique`` (both
defined in :mod:`sageyard.core.enums`, re-exported here under the reference's path) and
``FineTuningOptions`` (hyperparameters that check themselves as they are set).

Example:
    >>> from sageyard.programs import program
    >>> options = FineTuningOptions(program("sft").option_specs("lora"))
    >>> options.epochs = 5
    >>> options.to_dict()["epochs"]
    '5'
    >>> options.epochs = -1  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sageyard.core.exceptions.ConfigurationError: epochs=-1 is out of range: it must be ...
"""

from __future__ import annotations

import copy
from typing import Any

from sageyard.core.enums import CustomizationTechnique, TrainingType
from sageyard.core.exceptions import ConfigurationError
from sageyard.models.options import check_value, to_text

__all__ = ["CustomizationTechnique", "FineTuningOptions", "TrainingType"]


class FineTuningOptions:
    """Hyperparameters as attributes, each checked against its spec when set.

    Args:
        options_dict: ``{name: {"type", "default", "min", "max", "enum"}}``; types are
            ``integer``, ``float``, ``string`` and ``list`` (of strings).

    Raises:
        ValueError: On setting an unknown name, a value of the wrong type, out of its range
            or outside its enum; the message says what is valid.
    """

    _specs: dict[str, dict[str, Any]]
    _initialized: bool

    #: The real SDK's recipe names of these options (set either; the same option changes).
    #: ``global_batch_size`` is per-device batch * gradient accumulation (one device here).
    ALIASES = {
        "max_epochs": "epochs",
        "num_train_epochs": "epochs",
        "lr": "learning_rate",
        "train_batch_size": "per_device_train_batch_size",
        "dataset_max_len": "max_seq_length",
        "max_length": "max_seq_length",
        "lora_rank": "lora_r",
    }
    GLOBAL_BATCH = "global_batch_size"

    def __init__(
        self, options_dict: dict[str, dict[str, Any]], sequence_length: int | None = None
    ) -> None:
        object.__setattr__(self, "_initialized", False)
        object.__setattr__(self, "_specs", copy.deepcopy(dict(options_dict)))
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_user_set", set())
        object.__setattr__(self, "_sequence_length", sequence_length)
        for name, spec in self._specs.items():
            self._values[name] = check_value(name, spec, copy.deepcopy(spec.get("default")))
        object.__setattr__(self, "_initialized", True)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values", {})
        if name == self.GLOBAL_BATCH and "per_device_train_batch_size" in values:
            return values["per_device_train_batch_size"] * values.get(
                "gradient_accumulation_steps", 1
            )
        name = self._name(name)
        if name in values:
            return values[name]
        raise AttributeError(self._unknown(name))

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        if name == self.GLOBAL_BATCH and "per_device_train_batch_size" in self._specs:
            steps = self._values.get("gradient_accumulation_steps", 1) or 1
            if not isinstance(value, int) or isinstance(value, bool) or value % steps:
                raise ConfigurationError(
                    f"global_batch_size must be a whole multiple of gradient_accumulation_steps "
                    f"({steps}): it is per_device_train_batch_size * {steps} on one device; "
                    f"got {value!r}."
                )
            name, value = "per_device_train_batch_size", value // steps
        name = self._name(name)
        spec = self._specs.get(name)
        if spec is None:
            raise ConfigurationError(self._unknown(name))
        self._values[name] = check_value(name, spec, value)
        self._user_set.add(name)

    def _name(self, name: str) -> str:
        """The option ``name`` sets: itself, or what a real-SDK recipe alias stands for."""
        specs = self.__dict__.get("_specs", {})
        if name in specs:
            return name
        return self.ALIASES.get(name, name)

    def to_user_dict(self) -> dict[str, Any]:
        """Only the options set after construction, as strings (the real SDK's)."""
        return {name: to_text(self._values[name]) for name in sorted(self._user_set)}

    def validate_length_constraints(self) -> None:
        """Refuse a sequence length above the trainer's ``sequence_length`` ceiling, and a
        prompt + response length above it (for the programs that have both).

        Raises:
            ConfigurationError: What exceeds the ceiling, and the largest value allowed.
        """
        ceiling = self._sequence_length
        if ceiling is None:
            return
        prompt = self._values.get("max_prompt_length")
        response = self._values.get("max_response_length")
        if prompt is not None and response is not None and prompt + response > ceiling:
            raise ConfigurationError(
                f"max_prompt_length ({prompt}) + max_response_length ({response}) = "
                f"{prompt + response} exceeds the sequence length ({ceiling}); lower them so "
                f"their sum is within {ceiling}."
            )
        length = self._values.get("max_seq_length")
        if length is not None and length > ceiling:
            raise ConfigurationError(
                f"max_seq_length ({length}) exceeds the sequence length ({ceiling}); set it "
                f"to {ceiling} or lower."
            )

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._specs})

    def to_dict(self) -> dict[str, Any]:
        """Every hyperparameter as a string, as a job receives it (lists as JSON)."""
        return {name: to_text(value) for name, value in self._values.items()}

    def values(self) -> dict[str, Any]:
        """Every hyperparameter with its typed value."""
        return copy.deepcopy(self._values)

    def get_info(self, param_name: str | None = None) -> None:
        """Print the current value, type, default and valid range of one or every option."""
        names = [param_name] if param_name is not None else list(self._specs)
        for name in names:
            spec = self._specs.get(name)
            if spec is None:
                raise ConfigurationError(self._unknown(name))
            print(self._describe(name, spec))

    def _describe(self, name: str, spec: dict[str, Any]) -> str:
        parts = [f"{name}: {self._values[name]!r}", f"type={spec['type']}"]
        parts.append(f"default={spec.get('default')!r}")
        if spec.get("min") is not None or spec.get("max") is not None:
            parts.append(f"range=[{spec.get('min')}, {spec.get('max')}]")
        if spec.get("enum"):
            parts.append(f"enum={spec['enum']}")
        line = "  ".join(parts)
        if spec.get("description"):
            line += f"\n    {spec['description']}"
        return line

    def _unknown(self, name: str) -> str:
        return (
            f"Unknown hyperparameter {name!r}. Valid names: {', '.join(sorted(self._specs))}. "
            "Call get_info() to see each one's type and range."
        )

    def __repr__(self) -> str:
        return f"FineTuningOptions({self._values!r})"
