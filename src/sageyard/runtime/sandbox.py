"""A host's sandbox: a private view of this machine that its processes cannot leave.

What a job's processes see (the bubblewrap sandbox, :func:`bwrap_argv`): a root of their
own on a tmpfs with, read-only, the system (``/usr``, ``/bin``, ``/lib*``, ``/etc``,
``/sys``) and the Python the job runs with (the interpreter's prefix, the venv, the paths
of its ``sys.path``, the job's requirements environment); read-write, their own job root,
at its path and at ``/opt/ml``; their channels read-only at their places in it; a private
``/tmp`` and ``/dev/shm``; their own ``/proc`` and a minimal ``/dev``. Not
``SAGEYARD_HOME`` (the job store, other jobs' folders, the object store), not the user's
home. Their own PID, IPC, UTS (and cgroup) namespaces; with network isolation, a network
namespace with only loopback: no route to this machine's 127.0.0.1 services nor outside.
They run with no capabilities and ``no_new_privs``: as root, bwrap drops every capability
(``--cap-drop ALL``); as a normal user, the sandbox is a user namespace in which the job
keeps its own uid and cannot make further user namespaces. Read-only mounts made by a
more privileged namespace are locked by the kernel, so ``mount -o remount,bind,rw`` on a
channel fails. The environment is the allow-list built in ``runtime/host.py``, passed
through the process environment, never on bwrap's command line (where ``ps`` would show
secrets).

Why bubblewrap rather than our own namespaces: bwrap is the small, audited tool Flatpak
builds exactly this with (pivot_root onto a fresh root, locked mounts, capability drop,
``no_new_privs``, PR_SET_PDEATHSIG), it works unprivileged through user namespaces, and it
costs one exec. Our own namespaces (:func:`enter_namespace`) stay as the fallback where
bwrap is missing or cannot run (as root only): a private mount namespace with read-only
channels, the job root at ``/opt/ml`` and, with network isolation, a loopback-only network
namespace, but the rest of the machine still visible and the job still root. Where neither
works (a normal user without user namespaces), :func:`sandbox_kind` says so once in the
log, and the local executor refuses ``enable_network_isolation=True``.

bwrap is run with the forwarded stop signals blocked (so a stop's SIGTERM reaches the
command, not bwrap, which would SIGKILL it through ``--die-with-parent``), and the command
is started through a short shim (:data:`_SHIM`) that unblocks them and then says, on a
pipe, that the command runs. The executor's ``start`` returns only then
(:func:`wait_ready`): a signal sent to the host's process group before the command's process
existed would stay pending in bwrap and be lost; sent after, it reaches the command.
bwrap reports a command killed by signal N as exit code 128+N; the reaper turns that back
into "killed by N" (:func:`_from_bwrap`).

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
import logging
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from sageyard.runtime.layout import CONTAINER_ROOT
from sageyard.runtime.process import HostLaunch, Mount

_CLONE_NEWNS = 0x00020000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWUTS = 0x04000000
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

logger = logging.getLogger(__name__)

SandboxKind = Literal["bwrap", "namespaces"]
#: The system paths every sandbox sees read-only (symlinks, as on merged-/usr systems, are
#: recreated as symlinks).
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")


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


def enter_new_network() -> None:
    """Between fork and exec: a network namespace of its own with only loopback, up. As a
    normal user it belongs to a new user namespace that maps this user to itself."""
    uid, gid = os.geteuid(), os.getegid()
    _check(libc().unshare(_CLONE_NEWNET | (_CLONE_NEWUSER if uid else 0)), "unshare")
    if uid:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
    _loopback_up()


def join_namespace(fd: int, kind: int) -> None:
    """Between fork and exec: join the namespace open at ``fd`` (a ``CLONE_NEW*`` kind)."""
    _check(libc().setns(fd, kind), "setns")


def enter_namespace(launch: HostLaunch) -> None:
    """Runs in the child between fork and exec: set up the host's private view."""
    _check(libc().unshare(_CLONE_NEWNS | _CLONE_NEWUTS), "unshare(CLONE_NEWNS)")
    name = launch.host.encode()  # as on SageMaker (and bwrap's --hostname): algo-1, ...
    _check(libc().sethostname(name, len(name)), "sethostname")
    _mount(None, "/", _MS_REC | _MS_PRIVATE)
    for mount in launch.mounts:
        _bind_read_only(mount)
    if launch.alias_container_root:
        _mount(str(launch.job_root), CONTAINER_ROOT, _MS_BIND | _MS_REC)
    if launch.isolate_network:
        _check(libc().unshare(_CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        _loopback_up()
    os.chdir(launch.cwd)


def isolation_available() -> bool:
    """Whether hosts get a private view of the file system here (bwrap or our own
    namespaces; checked once per process)."""
    return sandbox_kind() is not None


@cache
def sandbox_kind() -> SandboxKind | None:
    """The sandbox hosts get here: ``"bwrap"`` where bubblewrap runs, else ``"namespaces"``
    (our own, as root), else ``None``, said once in the log (checked once per process)."""
    bwrap = bwrap_executable()
    problem = "bubblewrap (bwrap) is not installed"
    if bwrap is not None:
        problem = _bwrap_problem(bwrap)
        if not problem:
            return "bwrap"
    if namespaces_available():
        logger.warning(
            "%s, so jobs run in a weaker sandbox (a mount namespace as root: the rest of this "
            "machine stays visible to them). Install bubblewrap (apt-get install bubblewrap) "
            "for the full sandbox.",
            problem,
        )
        return "namespaces"
    logger.warning(
        "%s and this process cannot make namespaces (not root, no user namespaces): jobs run "
        "without a sandbox, see this machine's files, and enable_network_isolation=True is "
        "refused. Install bubblewrap and allow unprivileged user namespaces "
        "(sysctl kernel.unprivileged_userns_clone=1) to sandbox them.",
        problem,
    )
    return None


def bwrap_executable() -> str | None:
    return shutil.which("bwrap") or next(
        (p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.access(p, os.X_OK)), None
    )


def _bwrap_problem(bwrap: str) -> str:
    """Why bwrap cannot build a host's sandbox here ("" when it can): one trial run."""
    argv = _bwrap_options(bwrap, isolate_network=True)
    for path in python_paths():
        argv += ["--ro-bind", str(path), str(path)]
    argv += ["--", *_command(["/bin/true"])]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap ({bwrap}) cannot run: {error}"
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        return f"bubblewrap ({bwrap}) cannot build a sandbox here ({said})"
    return ""


#: The descriptor the command's first process says "I run" on (a byte; ``wait_ready``).
READY_FD = 3

#: Runs first in the sandbox: says the command runs (a byte on :data:`READY_FD`, then closes
#: it), and execs the command with the stop signals (blocked until now: one that came since
#: the command's process was forked is delivered then), SIGPIPE and SIGXFSZ at their
#: defaults (``env --default-signal`` also unblocks them; coreutils 8.31 or later).
_SH_SHIM = (
    "{ printf 1 >&3 && exec 3>&-; } 2>/dev/null; "
    'exec env --default-signal=TERM,INT,HUP,QUIT,USR1,PIPE,XFSZ -- "$@"'
)

#: The same in Python, where ``env`` has no ``--default-signal`` (an older coreutils): an
#: interpreter's start-up more per host.
_SHIM = (
    "import os, signal, sys\n"
    "signal.signal(signal.SIGPIPE, signal.SIG_DFL)\n"
    "signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n"
    f"for number in {[int(s) for s in _FORWARDED]}:\n"
    "    signal.signal(number, signal.SIG_DFL)\n"
    f"signal.pthread_sigmask(signal.SIG_UNBLOCK, {[int(s) for s in _FORWARDED]})\n"
    "try:\n"
    f"    os.write({READY_FD}, b'1')\n"
    f"    os.close({READY_FD})\n"
    "except OSError:\n"
    "    pass\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


@cache
def _env_resets_signals() -> bool:
    """Whether ``env --default-signal`` works here (checked once)."""
    try:
        done = subprocess.run(
            ["env", "--default-signal=TERM", "--", "true"], capture_output=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _command(argv: list[str]) -> list[str]:
    """The command as bwrap starts it: through the shim, with the stop signals back."""
    if _env_resets_signals():
        return ["/bin/sh", "-c", _SH_SHIM, "sh", *argv]
    return [sys.executable, "-S", "-I", "-c", _SHIM, *argv]


def _bwrap_options(bwrap: str, *, isolate_network: bool) -> list[str]:
    # No --new-session: the command stays in the host's process group, so a stop's signal
    # reaches it; the group has no controlling terminal to abuse (stdin is /dev/null).
    argv = [bwrap, "--die-with-parent"]
    argv += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() == 0:
        argv += ["--cap-drop", "ALL"]
    else:
        argv += ["--unshare-user", "--disable-userns"]
    if isolate_network:
        argv.append("--unshare-net")
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]
    return argv


def python_paths(hidden: Iterable[Path] = ()) -> list[Path]:
    """The folders this interpreter runs from (prefixes, venv, ``sys.path``), outermost
    first, leaving out any that is, or contains, a ``hidden`` folder (``SAGEYARD_HOME``)."""
    hidden = [Path(os.path.realpath(h)) for h in hidden]
    found: set[Path] = set()
    executable = os.path.dirname(os.path.realpath(sys.executable))
    items: list[str] = [sys.prefix, sys.base_prefix, sys.exec_prefix, executable, *sys.path]
    for item in items:
        if not item or not os.path.isabs(item) or not os.path.exists(item):
            continue
        path = Path(os.path.realpath(item))
        if any(h == path or h.is_relative_to(path) for h in hidden):
            continue
        found.add(path)
    outermost = sorted(found, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in outermost:
        if not any(path.is_relative_to(k) for k in kept) and not _is_system(path):
            kept.append(path)
    return kept


def _is_system(path: Path) -> bool:
    return any(path.is_relative_to(p) for p in SYSTEM_PATHS if os.path.isdir(p))


def bwrap_argv(launch: HostLaunch, bwrap: str, hidden: Iterable[Path] = ()) -> list[str]:
    """The command line that runs ``launch`` in its bubblewrap sandbox (module docstring);
    its command writes a byte to :data:`READY_FD` once it runs (:func:`wait_ready`).

    ``hidden``: folders the job must not see even where this interpreter lives under them
    (``SAGEYARD_HOME``).
    """
    argv = _bwrap_options(bwrap, isolate_network=launch.isolate_network)
    argv += ["--hostname", launch.host]  # as on SageMaker: algo-1, algo-2, ...
    for path in [*python_paths(hidden), *launch.read_only]:
        argv += ["--ro-bind", str(path), str(path)]
    for path in launch.writable:
        argv += ["--bind", str(path), str(path)]
    root = str(launch.job_root)
    argv += ["--bind", root, root]
    if launch.alias_container_root:
        argv += ["--bind", root, CONTAINER_ROOT]
    for mount in launch.mounts:
        argv += ["--ro-bind", str(mount.source), str(mount.target)]
        if launch.alias_container_root and mount.target.is_relative_to(launch.job_root):
            inside = Path(CONTAINER_ROOT) / mount.target.relative_to(launch.job_root)
            argv += ["--ro-bind", str(mount.source), str(inside)]
    for device in sorted(Path("/dev").glob("nvidia*")) if launch.gpus else []:
        argv += ["--dev-bind", str(device), str(device)]
    argv += ["--chdir", str(launch.cwd), "--"]
    return argv + _command(launch.argv)


def wait_ready(ready: int, timeout: float = 30.0) -> bool:
    """Wait (at most ``timeout`` seconds) until the command in a bwrap sandbox runs, then
    close ``ready``; whether it said so (``False``: its sandbox could not be built, and every
    write end closed, or it said nothing in time).

    Until then a stop signal sent to the host's process group would reach only the reaper and
    bwrap (which blocks them) and be lost with bwrap's pending set: the command's process does
    not exist yet. Once it has said it runs, a signal reaches it.
    """
    try:
        readable, _, _ = select.select([ready], [], [], timeout)
        return bool(readable) and os.read(ready, 1) == b"1"
    finally:
        os.close(ready)


def sandbox_env(env: dict[str, str], visible: Iterable[Path]) -> dict[str, str]:
    """``env`` as the sandbox gets it: ``HOME`` and ``TMPDIR`` point into the private
    ``/tmp`` where the caller's are not visible inside."""
    shown = [Path(p) for p in visible]
    env = dict(env)
    env["TMPDIR"] = "/tmp"
    home = env.get("HOME")
    if not home or not any(Path(home).is_relative_to(p) for p in shown):
        env["HOME"] = "/tmp"
    return env


def _works_in_a_child(namespace: str, probe: Callable[[], int]) -> bool:
    """Whether ``probe`` (run in a forked child; its return is the child's exit code) gives
    0 here, where ``/proc/self/ns/<namespace>`` exists at all."""
    if not hasattr(os, "fork") or not Path(f"/proc/self/ns/{namespace}").exists():
        return False
    libc()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os._exit(probe())
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


@cache
def namespaces_available() -> bool:
    """Whether hosts can get a private mount namespace of our own here (checked once, in a
    child)."""

    def probe() -> int:  # pragma: no cover - runs in the child
        _check(libc().unshare(_CLONE_NEWNS), "unshare")
        _mount(None, "/", _MS_REC | _MS_PRIVATE)
        return 0

    return _works_in_a_child("mnt", probe)


@cache
def pid_namespace_available() -> bool:
    """Whether hosts can get a PID namespace of their own here (checked once, in a child)."""

    def probe() -> int:  # pragma: no cover - runs in the child
        _check(libc().unshare(_CLONE_NEWPID), "unshare")
        inner = os.fork()
        if inner == 0:
            os._exit(0 if os.getpid() == 1 else 1)
        _, status = os.waitpid(inner, 0)
        return os.waitstatus_to_exitcode(status)

    return _works_in_a_child("pid", probe)


@dataclass(frozen=True)
class BwrapExec:
    """bwrap as a host's command, exec'd by :func:`become_reaper` itself: ``ready`` becomes
    :data:`READY_FD`; ``keep`` stay open (a warmed interpreter's control socket); every
    other descriptor but stdio is closed."""

    argv: list[str]
    env: dict[str, str]
    ready: int
    keep: tuple[int, ...] = ()


def become_reaper(pid_namespace: bool, bwrap: BwrapExec | None = None) -> None:
    """Runs in a host's first process between fork and exec (see the module docstring).

    Returns only in the process that goes on to exec the job's command; the reaper (and the
    namespace's init) stay in here and ``_exit`` with the command's status. ``bwrap``: the
    command is bwrap (its own PID namespace), exec'd here with the stop signals blocked and
    dying with the reaper.
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
        if bwrap is not None:
            _exec_bwrap(bwrap)
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
        if bwrap:
            status = _from_bwrap(status)
        if report is not None:  # the init's child was the command: it reported its status
            data = os.read(report[0], 16)
            status = int(data) if data.strip() else status
    except BaseException:  # pragma: no cover - never back into the supervisor's code
        os._exit(1)
    _exit_as(status)


def _exec_bwrap(bwrap: BwrapExec) -> None:
    """The reaper's child: become bwrap, with the ready pipe at :data:`READY_FD`, the kept
    descriptors and stdio only. Never returns."""
    try:
        libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # blocked in bwrap (a SIGTERM would make it SIGKILL the command); the shim unblocks
        # them in the command, which gets any that came meanwhile
        signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED)
        if bwrap.ready != READY_FD:
            if READY_FD in bwrap.keep:  # pragma: no cover - the executor never asks it
                raise OSError("a kept descriptor is the ready descriptor's number")
            os.dup2(bwrap.ready, READY_FD)
        keep = sorted({READY_FD, *bwrap.keep})
        start = READY_FD + 1
        for fd in [*keep[1:], _MAX_FD]:
            os.closerange(start, fd)
            start = fd + 1
        for fd in keep:
            os.set_inheritable(fd, True)
        os.execve(bwrap.argv[0], bwrap.argv, bwrap.env)
    except BaseException:  # pragma: no cover - never back into the supervisor's code
        os._exit(127)


def _from_bwrap(status: int) -> int:
    """bwrap's wait status, with exit code 128+N (its way of saying the command was killed
    by signal N) as the wait status of a process killed by N."""
    if os.WIFEXITED(status) and 128 < os.WEXITSTATUS(status) < 128 + signal.NSIG:
        return os.WEXITSTATUS(status) - 128
    return status


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
