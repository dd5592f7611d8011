"""A host's private view of this machine: a mount namespace of its own (and, with network
isolation, a network namespace with only loopback).

Where the kernel lets us (root on Linux), a host's process enters the namespace between
fork and exec (:func:`enter_namespace`): input channels are bind-mounted read-only into
its job root (no copy, and the job cannot change them), and the job root is also mounted
at ``/opt/ml`` so scripts with hard-coded SageMaker paths work. :func:`isolation_available`
says whether that is possible here. Node-side, so every executor that runs hosts as
processes on a node gives them the same view.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import struct
from functools import cache
from pathlib import Path

from sageyard.runtime.layout import CONTAINER_ROOT
from sageyard.runtime.process import HostLaunch, Mount

_CLONE_NEWNS = 0x00020000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY = 1
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1


@cache
def libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _mount(source: str | None, target: str, flags: int) -> None:
    src = source.encode() if source else None
    _check(libc().mount(src, target.encode(), None, flags, None), f"mount {target}")


def _bind_read_only(mount: Mount) -> None:
    _mount(str(mount.source), str(mount.target), _MS_BIND | _MS_REC)
    _mount(None, str(mount.target), _MS_REMOUNT | _MS_BIND | _MS_RDONLY)


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | _IFF_UP))


def enter_namespace(launch: HostLaunch) -> None:
    """Runs in the child between fork and exec: set up the host's private view."""
    _check(libc().unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(None, "/", _MS_REC | _MS_PRIVATE)
    for mount in launch.mounts:
        _bind_read_only(mount)
    if launch.alias_container_root:
        _mount(str(launch.job_root), CONTAINER_ROOT, _MS_BIND | _MS_REC)
    if launch.isolate_network:
        _check(libc().unshare(_CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        _loopback_up()
    os.chdir(launch.cwd)


@cache
def isolation_available() -> bool:
    """Whether hosts can get a private mount namespace here (checked once, in a child)."""
    if not hasattr(os, "fork") or not Path("/proc/self/ns/mnt").exists():
        return False
    libc()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            _check(libc().unshare(_CLONE_NEWNS), "unshare")
            _mount(None, "/", _MS_REC | _MS_PRIVATE)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def container_root_available() -> bool:
    """Whether ``/opt/ml`` exists (or can be made) as a mount point for the job root."""
    try:
        Path(CONTAINER_ROOT).mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return True


def kill_process_group(pgid: int, signum: int = signal.SIGKILL) -> None:
    """Kill a process group left behind by a dead supervisor (no error if it is gone)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
