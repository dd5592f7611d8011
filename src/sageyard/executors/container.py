"""Docker, for ``Mode.LOCAL_CONTAINER``: is an engine there to answer?"""

from __future__ import annotations

import os
import socket

from sageyard.core.exceptions import ConfigurationError


def docker_socket() -> str:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return host.removeprefix("unix://")


def docker_engine_answers(timeout: float = 1.0) -> bool:
    """Whether a Docker engine answers ``/_ping`` on its unix socket."""
    path = docker_socket()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = sock.recv(4096)
    except OSError:
        return False
    return reply.startswith(b"HTTP/1.") and b" 200 " in reply.split(b"\r\n", 1)[0] + b" "


def require_docker() -> None:
    """Fail fast, before anything is written, when ``Mode.LOCAL_CONTAINER`` cannot run."""
    if not docker_engine_answers():
        raise ConfigurationError(
            f"Mode.LOCAL_CONTAINER runs the job in Docker, but no Docker engine answers at "
            f"{docker_socket()}. Start Docker (or set DOCKER_HOST), or use the default "
            "Mode.SAGEMAKER_TRAINING_JOB, which runs the job as local processes without Docker."
        )
    raise ConfigurationError(
        "A Docker engine answers, but this version of sageyard does not run jobs in "
        "containers yet; use the default Mode.SAGEMAKER_TRAINING_JOB, which runs the job as "
        "local processes."
    )
