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


#: Each line a torchrun worker prints is prefixed with its global rank (torch's template).
RANK_PREFIX = "[rank${rank}]: "


def torchrun_argv(
    python: str,
    script: Sequence[str],
    *,
    nnodes: int,
    nproc_per_node: int,
    node_rank: int,
    master_addr: str,
    master_port: int,
) -> list[str]:
    """``torchrun`` on one host of a distributed job: ``script`` (the entry script and its
    arguments) in ``nproc_per_node`` processes, rendezvous with the other hosts at
    ``master_addr:master_port`` (the first host's agent holds it), and each rank's output
    teed to the host's log (prefixed with :data:`RANK_PREFIX`, set in the environment).

    Example:
        >>> torchrun_argv("python", ["train.py", "--lr", "0.1"], nnodes=2, nproc_per_node=2,
        ...     node_rank=1, master_addr="algo-1", master_port=7777)[3:6]
        ['--nnodes=2', '--nproc-per-node=2', '--node-rank=1']
    """
    return [
        python,
        "-m",
        "torch.distributed.run",
        f"--nnodes={nnodes}",
        f"--nproc-per-node={nproc_per_node}",
        f"--node-rank={node_rank}",
        f"--master-addr={master_addr}",
        f"--master-port={master_port}",
        "--tee=3",
        *script,
    ]


def command_argv(command: str, arguments: Sequence[str] = ()) -> list[str]:
    """``SourceCode.command`` is a shell command by definition; hyperparameters are not added,
    ``SourceCode.args`` are, each shell-quoted (as the real SDK does).

    Example:
        >>> command_argv("python train.py", ["--name", "two words"])
        ['/bin/sh', '-c', "python train.py --name 'two words'"]
    """
    return ["/bin/sh", "-c", " ".join([command, *(shlex.quote(arg) for arg in arguments)])]
