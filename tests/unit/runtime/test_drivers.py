"""How a host's command line is built: pure functions, tested on the list they return."""

from __future__ import annotations

from sageyard.runtime.drivers import command_argv, hostfile_text, mpirun_argv, script_argv

HPS = {"epochs": "3", "sagemaker_program": "train.py", "learning-rate": "0.1", "flag": "true"}
ARGS = ["--epochs", "3", "--learning-rate", "0.1", "--flag", "true"]


def test_python_script() -> None:
    assert script_argv("/venv/bin/python", "train.py", HPS) == [
        "/venv/bin/python",
        "train.py",
        *ARGS,
    ]


def test_python_script_in_a_subfolder() -> None:
    assert script_argv("python", "src/train.py", {}) == ["python", "src/train.py"]


def test_shell_script_runs_with_sh() -> None:
    argv = script_argv("python", "run.sh", HPS)
    assert argv == ["/bin/sh", "run.sh", *ARGS]


def test_hyperparameters_keep_their_order() -> None:
    argv = script_argv("python", "train.py", {"b": "1", "a": "2"})
    assert argv[2:] == ["--b", "1", "--a", "2"]


def test_command_runs_through_the_shell_without_hyperparameters() -> None:
    command = "python train.py --epochs 3 && echo done"
    assert command_argv(command) == ["/bin/sh", "-c", command]


def _mpirun(**given: object) -> list[str]:
    settings: dict = {
        "hostfile": "/tmp/hostfile",
        "hosts": 2,
        "processes_per_host": 3,
        "options": [],
        "rsh_agent": "python -m sageyard.runtime.mpi rsh",
        "mpi4py": True,
        "environment": {"PATH": "/bin"},
    }
    return mpirun_argv("python", ["train.py", "--lr", "0.1"], **{**settings, **given})


def test_mpirun_runs_every_hosts_processes_through_the_agent() -> None:
    argv = _mpirun()
    assert argv[:5] == ["mpirun", "--hostfile", "/tmp/hostfile", "-np", "6"]
    assert _option(argv, "plm_rsh_agent") == "python -m sageyard.runtime.mpi rsh"
    assert _option(argv, "orte_abort_on_non_zero_status") == "1"  # one failed rank ends all
    assert _option(argv, "oob_tcp_if_include") == "lo"  # the hosts' network here
    assert "--tag-output" in argv
    assert argv[-6:] == ["python", "-m", "mpi4py", "train.py", "--lr", "0.1"]
    assert hostfile_text(["algo-1", "algo-2"], 3) == "algo-1 slots=3\nalgo-2 slots=3\n"


def test_mpirun_passes_the_users_options_and_the_environment_it_names() -> None:
    environment = {"PATH": "/bin", "LD_LIBRARY_PATH": "/lib", "AWS_ACCESS_KEY_ID": "k"}
    argv = _mpirun(options=["-x", "NCCL_DEBUG=INFO", "--bind-to", "none"], environment=environment)
    exported = [argv[i + 1] for i, word in enumerate(argv) if word == "-x"]
    assert exported == [
        "NCCL_SOCKET_IFNAME=lo",
        "PATH",
        "LD_LIBRARY_PATH",
        "AWS_ACCESS_KEY_ID",
        "NCCL_DEBUG=INFO",
    ]
    assert argv[argv.index("--bind-to") + 1] == "none"
    assert argv.index("--bind-to") < argv.index("train.py")  # mpirun's, not the script's


def test_a_python_without_mpi4py_runs_the_script_directly() -> None:
    assert _mpirun(mpi4py=False)[-4:] == ["python", "train.py", "--lr", "0.1"]


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]
