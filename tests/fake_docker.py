"""A stand-in Docker: an engine socket that answers /_ping, and a ``docker`` command that
does what ``docker run`` does with sageyard's arguments (bind mounts in a private mount
namespace, the env file, the working directory, the entry point). It needs mount
namespaces (root on Linux: ``isolation_available()``).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

FAKE_DOCKER = """\
#!{python}
import ctypes, json, os, signal, sys
STATE = {state!r}
args = sys.argv[1:]
with open(os.path.join(STATE, "calls.jsonl"), "a") as f:
    f.write(json.dumps(args) + "\\n")
if args[:1] == ["network"]:
    sys.exit(0)
if args[:1] == ["kill"]:
    sig = args[1].split("=", 1)[1]
    pid = int(open(os.path.join(STATE, args[2] + ".pid")).read())
    os.kill(pid, getattr(signal, "SIG" + sig))
    sys.exit(0)
assert args[0] == "run", args
args = args[1:]
opts = {{"-v": []}}
while args[0].startswith("-"):
    flag = args.pop(0)
    if flag == "--rm":
        continue
    value = args.pop(0)
    if flag == "-v":
        opts["-v"].append(value)
    else:
        opts[flag] = value
image, rest = args[0], args[1:]
libc = ctypes.CDLL(None, use_errno=True)
assert libc.unshare(0x00020000) == 0
assert libc.mount(None, b"/", None, (1 << 18) | 16384, None) == 0
for volume in opts["-v"]:
    src, dst, *mode = volume.split(":")
    os.makedirs(dst, exist_ok=True)
    assert libc.mount(src.encode(), dst.encode(), None, 4096 | 16384, None) == 0
    if mode == ["ro"]:
        assert libc.mount(None, dst.encode(), None, 32 | 4096 | 1, None) == 0
env = {{"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "HOSTNAME": opts["--hostname"]}}
for line in open(opts["--env-file"]):
    key, _, value = line.rstrip("\\n").partition("=")
    env[key] = value
os.chdir(opts["-w"])
with open(os.path.join(STATE, opts["--name"] + ".pid"), "w") as f:
    f.write(str(os.getpid()))
if "--entrypoint" in opts:
    os.execvpe(opts["--entrypoint"], [opts["--entrypoint"], *rest], env)
os.execvpe("echo", ["echo", "image entry point of", image, *rest], env)
"""


@contextlib.contextmanager
def stand_in_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Start the stand-in engine and put the stand-in ``docker`` first on PATH."""
    state = tmp_path / "docker-state"
    state.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable, state=str(state)))
    docker.chmod(0o755)
    sock_path = tmp_path / "docker.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{sock_path}")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    yield state
    stop.set()
    thread.join()
    server.close()


def calls(state: Path) -> list[list[str]]:
    return [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]
