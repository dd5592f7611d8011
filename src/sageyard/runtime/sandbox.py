"""A host's private view of this machine: a mount namespace of its own (and, with network
isolation, a network namespace with only loopback).

Where the kernel lets us (root on Linux), a host's process enters the namespace between
fork and exec (:func:`enter_namespace`): input channels are bind-mounted read-only into
its job root (no copy, and the job cannot change them), and the job root is also mounted
at ``/opt/ml`` so scripts with hard-coded SageMaker paths work. :func:`isolation_available`
says whether that is possible here. Node-side, so every executor that runs hosts as
processes on a node gives them the same view.

Every process of a host ends with it (:func:`become_reaper`). The process the executor
starts is not the job's command but a small *reaper*, forked from the supervisor and never
exec'd, that forks the command and stays its parent:

* It is a child subreaper (``PR_SET_CHILD_SUBREAPER``): a daemon the script forks, even one
  that double-forks and calls ``setsid()``, is re-parented to the reaper rather than to
  init. When the command ends, the reaper SIGKILLs and reaps every process left, then exits
  with the command's own status. This needs no privilege, so it holds for a normal user.
* Where the kernel allows it (root), the reaper also ``unshare(CLONE_NEWPID)``: its child is
  PID 1 of a PID namespace of its own, a tiny init that forks the command. When that init
  ends — the command ended, or the whole host was SIGKILLed — the kernel kills every process
  left in the namespace, so not even a SIGKILL of the reaper can free a daemon. The command
  is PID 2, not PID 1, because a namespace's PID 1 ignores the SIGTERM a stop sends unless
  it installed a handler.
* The reaper dies with the supervisor (``PR_SET_PDEATHSIG``), and so does the init with the
  reaper: a killed supervisor leaves nothing running in a PID namespace.
* The reaper closes every descriptor the supervisor had (slot locks, the store), and the
  command gets only its stdio: a surviving process can never hold a capacity slot. The
  executor's reservation is released once the reaper has reaped everything.

The reaper ignores the catchable signals a stop sends to the host's process group (the
command, in the same group, gets them), so its exit is always the command's.
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
_CLONE_NEWPID = 0x20000000
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
# Signals a stop sends to a host's process group; the reaper leaves them to the command.
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1)
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


@cache
def pid_namespace_available() -> bool:
    """Whether hosts can get a PID namespace of their own here (checked once, in a child)."""
    if not hasattr(os, "fork") or not Path("/proc/self/ns/pid").exists():
        return False
    libc()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            _check(libc().unshare(_CLONE_NEWPID), "unshare")
            inner = os.fork()
            if inner == 0:
                os._exit(0 if os.getpid() == 1 else 1)
            _, status = os.waitpid(inner, 0)
            os._exit(os.waitstatus_to_exitcode(status))
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def become_reaper(pid_namespace: bool) -> None:
    """Runs in a host's first process between fork and exec (see the module docstring).

    Returns only in the process that goes on to exec the job's command; the reaper (and the
    namespace's init) stay in here and ``_exit`` with the command's status.
    """
    parent = os.getppid()
    _check(libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    if os.getppid() != parent:  # pragma: no cover - the supervisor died meanwhile
        os._exit(1)
    _check(libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(CHILD_SUBREAPER)")
    report = None
    if pid_namespace:
        _check(libc().unshare(_CLONE_NEWPID), "unshare(CLONE_NEWPID)")
        report = os.pipe()
    child = os.fork()
    if child == 0:
        if report is None:
            return  # the command
        os.close(report[0])
        _init(report[1])  # PID 1 of the namespace: returns in the command only
        return
    try:
        _ignore_stop_signals()
        keep = report[0] if report else None
        if report:
            os.close(report[1])
        _close_descriptors(keep)
        status = _reap(child)
        if report is not None:  # the init's child was the command: it reported its status
            data = os.read(report[0], 16)
            status = int(data) if data.strip() else status
    except BaseException:  # pragma: no cover - never back into the supervisor's code
        os._exit(1)
    _exit_as(status)


def _init(report_fd: int) -> None:
    """PID 1 of the host's namespace: fork the command, then end everything after it."""
    parent = os.getppid()
    libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # pragma: no cover - the reaper died meanwhile
        os._exit(1)
    command = os.fork()
    if command == 0:
        os.close(report_fd)
        return
    try:
        _close_descriptors(report_fd)
        status = _reap(command, kill_all=True)
        os.write(report_fd, str(status).encode())
    finally:
        os._exit(0)


def _ignore_stop_signals() -> None:
    for signum in _FORWARDED:
        signal.signal(signum, signal.SIG_IGN)


def _close_descriptors(keep: int | None) -> None:
    """Close all but stdio (and ``keep``): the supervisor's slot locks, store, pipes."""
    if keep is None:
        os.closerange(3, _MAX_FD)
    else:
        os.closerange(3, keep)
        os.closerange(keep + 1, _MAX_FD)


_MAX_FD = 1 << 16


def _reap(main: int, kill_all: bool = False) -> int:
    """Wait for ``main``; then SIGKILL and reap every process left (children of ours, as
    their subreaper or PID 1); ``main``'s wait status."""
    status: int | None = None
    while status is None:
        pid, code = os.waitpid(-1, 0)
        if pid == main:
            status = code
    while True:
        if kill_all:
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, signal.SIGKILL)  # in a PID namespace: all but its init
        else:
            for pid in children(os.getpid()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return status


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s children (from ``/proc``; empty if there is none)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        except OSError:
            return _children_by_scan(pid)
        found += [int(item) for item in text.split()]
    return found


def _children_by_scan(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid:
            found.append(int(entry))
    return found


def _exit_as(status: int) -> None:
    """End this process as a process with wait status ``status`` ended."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        if signum not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        os._exit(128 + signum)  # pragma: no cover - a signal that does not kill
    os._exit(os.waitstatus_to_exitcode(status))


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
