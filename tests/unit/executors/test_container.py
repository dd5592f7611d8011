"""The ``docker run`` command line of a container host (a pure function)."""

from __future__ import annotations

from pathlib import Path

from sageyard.executors.container import docker_run_argv
from sageyard.runtime.process import HostLaunch, Mount


def _launch(tmp_path: Path, **changes: object) -> HostLaunch:
    fields: dict[str, object] = {
        "host": "algo-1",
        "argv": ["python", "train.py"],
        "env": {},
        "cwd": Path("/opt/ml/input/data/code"),
        "log_path": tmp_path / "algo-1.log",
        "job_root": tmp_path / "root",
        "mounts": [Mount(Path("/data/train"), tmp_path / "root" / "input" / "data" / "train")],
    }
    fields.update(changes)
    return HostLaunch(**fields)  # type: ignore[arg-type]


def test_a_host_with_several_gpus_names_them_in_one_quoted_value(tmp_path: Path) -> None:
    argv = docker_run_argv(
        _launch(tmp_path, gpus=("0", "1")), "image:1", "job-algo-1", None, tmp_path / "env"
    )
    assert argv[argv.index("--gpus") + 1] == '"device=0,1"'  # docker reads it as CSV


def test_channels_are_mounted_read_only_under_opt_ml(tmp_path: Path) -> None:
    argv = docker_run_argv(_launch(tmp_path), "image:1", "job-algo-1", "net", tmp_path / "env")
    assert "/data/train:/opt/ml/input/data/train:ro" in argv
    assert argv[-2:] == ["image:1", "train.py"]  # the command follows the image
    assert argv[argv.index("--entrypoint") + 1] == "python"
    assert argv[argv.index("--network") + 1] == "net"
