"""sageyard's preset reward functions (``hyperparameters.preset_reward_function``).

Each is an ordinary reward file in the batch contract, run in the sandboxed reward workers
like a user's own:

- ``gsm8k``: the response's final number (``#### 42``, else its last number) against the
  reference answer;
- ``prime_math``: the response's final answer against the reference with ``math-verify``
  (LaTeX and plain expressions, equivalent forms equal);
- ``prime_code``: the response's code run against the row's tests (verl's prime_code
  ``{"inputs", "outputs"[, "fn_name"]}``, or ``assert`` lines), the share that pass.

Example:
    >>> preset_path("gsm8k").name
    'gsm8k.py'
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PRESETS", "PRESET_METRICS", "preset_path"]

PRESETS = ("gsm8k", "prime_code", "prime_math")
#: The extra metrics each preset reports beside its reward.
PRESET_METRICS = {
    "gsm8k": ("answer_found",),
    "prime_code": ("tests",),
    "prime_math": ("answer_found",),
}


def preset_path(name: str) -> Path:
    """The reward file of the preset ``name``.

    Raises:
        ConfigurationError: Not a preset; the message lists them.
    """
    if name not in PRESETS:
        from sageyard.core.exceptions import ConfigurationError

        raise ConfigurationError(
            f"preset_reward_function={name!r} is not a preset; choose one of "
            f"{', '.join(PRESETS)}, or pass your own file as custom_reward_function."
        )
    return Path(__file__).with_name(f"{name}.py")
