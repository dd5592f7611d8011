"""Python environments for ``SourceCode.requirements``, cached per requirements hash.

An environment is a venv layered over the interpreter that runs sageyard (a ``.pth`` file
puts its site-packages on the path), so the job sees everything installed here plus its
requirements. The second job with the same requirements file installs nothing.

The install can be interrupted: pip runs as a process group of its own that the caller's
``should_stop`` is polled against (as is the wait for another job's install of the same
environment), so a stop during the install ends pip at once
(:class:`RequirementsInterrupted`) instead of waiting for it to return.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import signal
import site
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

_READY = ".sageyard-ready"


class RequirementsError(RuntimeError):
    """pip could not install a job's requirements; the message holds pip's output."""


class RequirementsInterrupted(RequirementsError):
    """The install was ended because ``should_stop()`` said so (pip was killed)."""


_POLL_SECONDS = 0.05


def _never() -> bool:
    return False


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


def ensure_environment(
    envs_dir: Path, requirements: Path, log: Path, should_stop: Callable[[], bool] = _never
) -> tuple[Path, bool]:
    """The python of the environment for ``requirements``; ``True`` if it was just built.

    pip's output is appended to ``log``. Concurrent jobs with the same requirements wait
    for one another instead of installing twice. Raises :class:`RequirementsInterrupted`
    as soon as ``should_stop()`` is true while waiting or installing (pip is killed, and
    the half-built environment is rebuilt by the next install).
    """
    env_dir = envs_dir / environment_key(requirements)
    python = _venv_python(env_dir)
    if (env_dir / _READY).exists():
        return python, False
    envs_dir.mkdir(parents=True, exist_ok=True)
    with open(envs_dir / f"{env_dir.name}.lock", "w") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if should_stop():
                    raise RequirementsInterrupted(
                        f"stopped while waiting for another job's install of {requirements.name}"
                    ) from None
                time.sleep(_POLL_SECONDS)
        if (env_dir / _READY).exists():
            return python, False
        _build(env_dir, requirements, log, should_stop)
    return python, True


def _run(argv: list[str], out: int, should_stop: Callable[[], bool], **kwargs: object) -> int:
    """Run ``argv`` as a process group of its own, polled against ``should_stop``."""
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **kwargs,  # type: ignore[call-overload]
    )
    try:
        while True:
            try:
                return process.wait(timeout=_POLL_SECONDS)
            except subprocess.TimeoutExpired:
                if should_stop():
                    raise RequirementsInterrupted(
                        f"stopped while running {' '.join(argv[1:3])}; nothing was installed"
                    ) from None
    finally:
        if process.poll() is None:  # stopped (or interrupted): pip and its children end now
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _build(env_dir: Path, requirements: Path, log: Path, should_stop: Callable[[], bool]) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"Installing requirements from {requirements.name}\n".encode())
        out.flush()
        venv = [sys.executable, "-m", "venv", "--without-pip", "--clear", str(env_dir)]
        code = _run(venv, out.fileno(), should_stop)
        if code != 0:
            raise subprocess.CalledProcessError(code, venv)
        purelib = Path(
            sysconfig.get_paths(vars={"base": str(env_dir), "platbase": str(env_dir)})["purelib"]
        )
        purelib.mkdir(parents=True, exist_ok=True)
        (purelib / "_sageyard_parent.pth").write_text("\n".join(_parent_site_dirs()) + "\n")
        returncode = _run(
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
            out.fileno(),
            should_stop,
            cwd=requirements.parent,
            env={**os.environ, "PIP_NO_INPUT": "1"},
        )
    if returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise RequirementsError(
            f"pip could not install {requirements.name} (exit code {returncode}):\n"
            + "\n".join(tail)
        )
    (env_dir / _READY).write_text("ok\n")
