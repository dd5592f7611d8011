"""How a host's command line is built: pure functions, tested on the list they return."""

from __future__ import annotations

from sageyard.runtime.drivers import command_argv, script_argv

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
