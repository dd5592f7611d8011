"""How a host's command line is built from the job's source code settings (pure functions)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from sageyard.runtime.environment import script_arguments


def script_argv(python: str, entry_script: str, hyperparameters: Mapping[str, str]) -> list[str]:
    """``python entry.py --hp v …`` for ``.py``; ``sh entry.sh --hp v …`` for shell scripts.

    Example:
        >>> script_argv("python", "train.py", {"epochs": "3"})
        ['python', 'train.py', '--epochs', '3']
    """
    args = script_arguments(hyperparameters)
    if entry_script.endswith(".sh"):
        return ["/bin/sh", entry_script, *args]
    if entry_script.endswith(".py"):
        return [python, entry_script, *args]
    return [f"./{entry_script}", *args]


def command_argv(command: str, arguments: Sequence[str] = ()) -> list[str]:
    """``SourceCode.command`` is a shell command by definition; hyperparameters are not added,
    ``SourceCode.args`` are, each shell-quoted (as the real SDK does).

    Example:
        >>> command_argv("python train.py", ["--name", "two words"])
        ['/bin/sh', '-c', "python train.py --name 'two words'"]
    """
    return ["/bin/sh", "-c", " ".join([command, *(shlex.quote(arg) for arg in arguments)])]
