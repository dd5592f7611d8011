"""The private network of a multi-host job under network isolation.

SageMaker gives such a job's instances a network of their own: they reach each other and
nothing else. Here the job's hosts share one network namespace with only loopback, held
open by a small *holder* process (:class:`JobNetwork`) for as long as the job runs. Each
host's first process joins it between fork and exec (:meth:`JobNetwork.enter`) before its
sandbox is built, so the hosts talk to each other over the namespace's ``127.0.0.1`` (their
``/etc/hosts`` resolves ``algo-N`` there) and cannot reach this machine's ``127.0.0.1``
services nor any outside address.

As root the holder only needs a network namespace. As a normal user it makes a user
namespace too (the network namespace belongs to it) with this user's own uid mapped to
itself, and hosts join that first: they keep their uid, and the job's bubblewrap sandbox
is made inside it as usual. The holder dies with the supervisor (``PR_SET_PDEATHSIG`` and
its stdin closing), and the namespace with the last process in it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

from sageyard.runtime.sandbox import libc

_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000

#: The holder: make the namespaces, bring loopback up, say so, wait for stdin to close.
_HOLDER = r"""
import ctypes, fcntl, os, signal, socket, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
uid, gid = os.geteuid(), os.getegid()
flags = 0x40000000 | (0x10000000 if uid else 0)
if libc.unshare(flags) != 0:
    print("error: unshare: " + os.strerror(ctypes.get_errno()), flush=True)
    sys.exit(1)
if uid:
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    request = struct.pack("16sH", b"lo", 0)
    flags, = struct.unpack("16sH", fcntl.ioctl(s.fileno(), 0x8913, request))[1:2]
    fcntl.ioctl(s.fileno(), 0x8914, struct.pack("16sH", b"lo", flags | 1))
libc.prctl(1, signal.SIGKILL, 0, 0, 0)
print("ready", flush=True)
sys.stdin.read()
"""


class JobNetwork:
    """A network namespace with only loopback that a multi-host job's hosts share.

    Example:
        >>> network = JobNetwork.open()  # doctest: +SKIP
        >>> # in each host's first process, between fork and exec: network.enter()
        >>> network.close()  # doctest: +SKIP
    """

    def __init__(self, holder: subprocess.Popen[bytes], namespaces: list[tuple[int, int]]):
        self._holder = holder
        self._namespaces = namespaces  # (descriptor, CLONE_NEW*) in the order to join them

    @classmethod
    def open(cls) -> JobNetwork:
        """Start the holder and open its namespaces; OSError if they cannot be made here."""
        holder = subprocess.Popen(
            [sys.executable, "-S", "-I", "-c", _HOLDER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert holder.stdout is not None
        said = holder.stdout.readline().decode(errors="replace").strip()
        if said != "ready":
            said += holder.stdout.read().decode(errors="replace").strip()
            _end(holder)
            raise OSError(f"could not make the job's network namespace: {said or 'no answer'}")
        kinds = [("net", _CLONE_NEWNET)]
        if os.geteuid() != 0:
            kinds.insert(0, ("user", _CLONE_NEWUSER))
        namespaces = []
        try:
            for name, kind in kinds:
                namespaces.append((os.open(f"/proc/{holder.pid}/ns/{name}", os.O_RDONLY), kind))
        except OSError:
            for fd, _ in namespaces:
                os.close(fd)
            _end(holder)
            raise
        return cls(holder, namespaces)

    def enter(self) -> None:
        """Join the namespaces (runs in a host's first process, between fork and exec)."""
        for fd, kind in self._namespaces:
            if libc().setns(fd, kind) != 0:
                import ctypes

                code = ctypes.get_errno()
                raise OSError(code, f"setns into the job's network: {os.strerror(code)}")

    def close(self) -> None:
        """Let the holder go; the namespace ends with the last host left in it."""
        for fd, _ in self._namespaces:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._namespaces = []
        _end(self._holder)


def _end(holder: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        if holder.stdin is not None:
            holder.stdin.close()
    try:
        holder.wait(timeout=5)
    except subprocess.TimeoutExpired:
        holder.kill()
        holder.wait()
    if holder.stdout is not None:
        holder.stdout.close()
