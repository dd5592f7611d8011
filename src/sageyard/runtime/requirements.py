"""Python environments for ``SourceCode.requirements``, cached per requirements hash.

An environment is a venv layered over the interpreter that runs sageyard (a ``.pth`` file
puts its site-packages on the path), so the job sees everything installed here plus its
requirements. The second job with the same requirements file installs nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

logger = logging.getLogger(__name__)

_READY = ".sageyard-ready"


class RequirementsError(RuntimeError):
    """pip could not install a job's requirements; the message holds pip's output."""


def environment_key(requirements: Path) -> str:
    digest = hashlib.sha256()
    digest.update(sys.executable.encode())
    digest.update(sys.version.encode())
    digest.update(requirements.read_bytes())
    return digest.hexdigest()[:16]


def _parent_site_dirs() -> list[str]:
    dirs = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    dirs += site.getsitepackages()
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return list(dict.fromkeys(d for d in dirs if Path(d).is_dir()))


def _venv_python(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def ensure_environment(envs_dir: Path, requirements: Path, log: Path) -> tuple[Path, bool]:
    """The python of the environment for ``requirements``; ``True`` if it was just built.

    pip's output is appended to ``log``. Concurrent jobs with the same requirements wait
    for one another instead of installing twice.
    """
    env_dir = envs_dir / environment_key(requirements)
    python = _venv_python(env_dir)
    if (env_dir / _READY).exists():
        return python, False
    envs_dir.mkdir(parents=True, exist_ok=True)
    with open(envs_dir / f"{env_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (env_dir / _READY).exists():
            return python, False
        _build(env_dir, requirements, log)
    return python, True


def _build(env_dir: Path, requirements: Path, log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"Installing requirements from {requirements.name}\n".encode())
        out.flush()
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", "--clear", str(env_dir)],
            check=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        purelib = Path(
            sysconfig.get_paths(vars={"base": str(env_dir), "platbase": str(env_dir)})["purelib"]
        )
        purelib.mkdir(parents=True, exist_ok=True)
        (purelib / "_sageyard_parent.pth").write_text("\n".join(_parent_site_dirs()) + "\n")
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(_venv_python(env_dir)),
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
                requirements.name,
            ],
            cwd=requirements.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PIP_NO_INPUT": "1"},
        )
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise RequirementsError(
            f"pip could not install {requirements.name} (exit code {result.returncode}):\n"
            + "\n".join(tail)
        )
    (env_dir / _READY).write_text("ok\n")
