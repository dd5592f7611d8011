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
is made inside it as usual (``sandbox.enter_new_network``). The holder dies with the
supervisor (``PR_SET_PDEATHSIG`` and its stdin closing), and the namespace with the last
process in it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

from sageyard.runtime.sandbox import enter_new_network, join_namespace, libc

_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_PR_SET_PDEATHSIG = 1

#: The holder's program once it is in its namespaces: wait until the supervisor lets go.
_HOLD = "import sys; sys.stdin.read()"


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
        """Start the holder in new namespaces and open them; OSError if they cannot be made
        here."""
        libc()  # load before fork: the child only calls into it

        def preexec() -> None:
            libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            enter_new_network()

        try:
            holder = subprocess.Popen(
                [sys.executable, "-S", "-I", "-c", _HOLD],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=preexec,
            )
        except subprocess.SubprocessError as error:  # the namespaces could not be made
            raise OSError(f"could not make the job's network namespace: {error}") from error
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
            join_namespace(fd, kind)

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
