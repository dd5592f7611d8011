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


def hostfile_text(hosts: Sequence[str], slots: int) -> str:
    r"""Open MPI's host file: each host with ``slots`` processes.

    Example:
        >>> hostfile_text(["algo-1", "algo-2"], 2)
        'algo-1 slots=2\nalgo-2 slots=2\n'
    """
    return "".join(f"{host} slots={slots}\n" for host in hosts)


#: The interface a job's hosts reach each other on here (SageMaker's: ``eth0``).
MPI_INTERFACE = "lo"


def mpi_network(addresses: Sequence[str]) -> str:
    """What Open MPI's ``*_tcp_if_include`` should name for hosts at ``addresses``: the
    loopback interface when they share this machine, else the smallest network that holds
    every address (each node's interface on it is used).

    Example:
        >>> mpi_network(["127.100.0.1", "127.100.0.2"])
        'lo'
        >>> mpi_network(["10.0.1.5", "10.0.2.7"])
        '10.0.0.0/22'
    """
    import ipaddress

    parsed = [ipaddress.ip_address(address) for address in addresses]
    if all(address.is_loopback for address in parsed):
        return MPI_INTERFACE
    network = ipaddress.ip_network(f"{parsed[0]}/{parsed[0].max_prefixlen}")
    while not all(address in network for address in parsed):
        network = network.supernet()
    return str(network)


def mpirun_argv(
    python: str,
    script: Sequence[str],
    *,
    hostfile: str,
    hosts: int,
    processes_per_host: int,
    options: Sequence[str],
    rsh_agent: str,
    mpi4py: bool,
    environment: Mapping[str, str],
    interface: str = MPI_INTERFACE,
) -> list[str]:
    """``mpirun`` on algo-1 over every host's processes, with the options SageMaker's MPI
    driver gives it (ranks' output tagged ``[1,rank]<stdout>:``, the job ended when a
    rank fails, ``PATH``/``LD_LIBRARY_PATH`` and AWS credentials to every rank), then the
    user's ``options`` (``mpi_additional_options``), then the script: under
    ``python -m mpi4py`` when the job's Python has mpi4py (an uncaught error in one rank
    aborts them all), as SageMaker runs it.

    Example:
        >>> argv = mpirun_argv("python", ["train.py", "--lr", "0.1"], hostfile="hosts",
        ...     hosts=2, processes_per_host=2, options=["-x", "A=1"], rsh_agent="rsh",
        ...     mpi4py=True, environment={"PATH": "/bin"})
        >>> argv[:5]
        ['mpirun', '--hostfile', 'hosts', '-np', '4']
        >>> argv[-8:]
        ['-x', 'A=1', 'python', '-m', 'mpi4py', 'train.py', '--lr', '0.1']
    """
    argv = [
        "mpirun",
        "--hostfile",
        hostfile,
        "-np",
        str(hosts * processes_per_host),
        "--allow-run-as-root",
        "--tag-output",
        "-mca",
        "plm_rsh_agent",
        rsh_agent,
        "-mca",
        "plm_rsh_no_tree_spawn",
        "1",
        "-mca",
        "plm_rsh_num_concurrent",
        str(hosts),
        "-mca",
        "btl_tcp_if_include",
        interface,
        "-mca",
        "oob_tcp_if_include",
        interface,
        "-mca",
        "pml",
        "ob1",
        "-mca",
        "btl",
        "^openib",
        "-mca",
        "orte_abort_on_non_zero_status",
        "1",
        "-mca",
        "btl_vader_single_copy_mechanism",
        "none",
    ]
    if "/" not in interface:  # NCCL takes an interface's name, not a network
        argv += ["-x", f"NCCL_SOCKET_IFNAME={interface}"]
    for name in (
        "PATH",
        "LD_LIBRARY_PATH",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ):
        if name in environment:
            argv += ["-x", name]
    return [*argv, *options, python, *(["-m", "mpi4py"] if mpi4py else []), *script]


def command_argv(command: str, arguments: Sequence[str] = ()) -> list[str]:
    """``SourceCode.command`` is a shell command by definition; hyperparameters are not added,
    ``SourceCode.args`` are, each shell-quoted (as the real SDK does).

    Example:
        >>> command_argv("python train.py", ["--name", "two words"])
        ['/bin/sh', '-c', "python train.py --name 'two words'"]
    """
    return ["/bin/sh", "-c", " ".join([command, *(shlex.quote(arg) for arg in arguments)])]
