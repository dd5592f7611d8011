"""MPI across a job's hosts: ``mpirun`` on algo-1, its remote daemons in the other hosts'
own sandboxes, through an rsh agent of sageyard's (no ssh).

SageMaker's MPI driver starts sshd on every host and runs ``mpirun`` on algo-1, which
starts Open MPI's daemon (``orted``) on the others over ssh; the workers wait until algo-1
says it is done. Here each host runs one of this module's commands inside its sandbox:

* ``python -m sageyard.runtime.mpi serve`` on algo-2 … algo-N: an *agent* that listens on
  the host's own address (``algo-N`` in its ``/etc/hosts``) at ``SAGEYARD_MPI_PORT``, runs
  the commands mpirun sends it (``/bin/sh -c …``, with the host's own environment, so
  remote ranks see their own ``SM_CURRENT_HOST``) and relays their output and exit code.
  It ends when algo-1 says the job is done.
* ``python -m sageyard.runtime.mpi launch <spec>`` on algo-1: wait until every agent
  answers, run ``mpirun`` (:func:`~sageyard.runtime.drivers.mpirun_argv`) with this module's
  ``rsh`` command as Open MPI's ``plm_rsh_agent``, tell the agents it is done, and exit
  with mpirun's code.
* ``python -m sageyard.runtime.mpi rsh <host> <command…>``: what mpirun runs in place of
  ``ssh <host> <command…>``.

Every request carries the job's secret (``SAGEYARD_MPI_TOKEN``): on a machine's shared
network, another job (which does not know it) cannot run commands in this job's hosts.

A request is one JSON line; an answer to ``run`` is frames (a kind byte, a 4-byte length,
the bytes): ``o`` output, then ``x`` the exit code as text.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from typing import IO, Any

#: Environment variables of a host of an MPI job: the agents' port and the job's secret.
PORT_ENV, TOKEN_ENV = "SAGEYARD_MPI_PORT", "SAGEYARD_MPI_TOKEN"
#: How long algo-1 waits for the other hosts' agents (hosts set up concurrently).
WAIT_SECONDS = 300.0
_HEADER = struct.Struct("!cI")
_MAX_REQUEST = 1 << 20  # a request line longer than this is cut (and then not valid JSON)


class AgentError(Exception):
    """An agent could not be reached, or refused the request."""


def _secret() -> str:
    return os.environ[TOKEN_ENV]


def _address(host: str) -> tuple[str, int]:
    return socket.gethostbyname(host), int(os.environ[PORT_ENV])


def _request(host: str, message: dict[str, Any], timeout: float | None = 10.0) -> socket.socket:
    """Connect to ``host``'s agent and send ``message`` with the job's secret."""
    try:
        conn = socket.create_connection(_address(host), timeout=timeout)
    except OSError as error:
        raise AgentError(f"cannot reach the MPI agent of {host}: {error}") from error
    conn.sendall(json.dumps({**message, "token": _secret()}).encode() + b"\n")
    return conn


def ping(host: str) -> bool:
    """Whether ``host``'s agent answers (and knows the job's secret)."""
    try:
        with _request(host, {"op": "ping"}, timeout=2.0) as conn:
            return conn.recv(2) == b"ok"
    except (AgentError, OSError):
        return False


def finish(host: str, code: int) -> None:
    """Tell ``host``'s agent that the job's mpirun has ended (``code``): it exits."""
    with _request(host, {"op": "finish", "code": code}) as conn:
        conn.recv(2)


def rsh(argv: Sequence[str]) -> int:
    """``rsh <host> <words…>``: run the words as a shell command on ``host``; its output
    to stdout, its exit code returned. Leading options (ssh's, such as ``-x``) are ignored.
    """
    words = list(argv)
    while words and words[0].startswith("-"):
        words.pop(0)
    if len(words) < 2:
        print("usage: rsh HOST COMMAND...", file=sys.stderr)
        return 2
    host, command = words[0], " ".join(words[1:])
    try:
        socket.gethostbyname(host)
    except OSError as error:  # not one of the job's hosts: no use waiting for it
        print(f"[sageyard] MPI: {host!r} is not a host of this job: {error}", file=sys.stderr)
        return 255
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            conn = _request(host, {"op": "run", "command": command}, timeout=None)
            break
        except AgentError as error:
            if time.monotonic() > deadline:
                print(f"[sageyard] {error}", file=sys.stderr)
                return 255  # as ssh does when it cannot connect
            time.sleep(0.2)
    out = sys.stdout.buffer
    with conn:
        while True:
            frame = _read_frame(conn)
            if frame is None:  # the agent went away: as ssh when the connection drops
                return 255
            kind, data = frame
            if kind == b"x":
                return int(data)
            out.write(data)
            out.flush()


def _read_frame(conn: socket.socket) -> tuple[bytes, bytes] | None:
    header = _read_exactly(conn, _HEADER.size)
    if header is None:
        return None
    kind, length = _HEADER.unpack(header)
    data = _read_exactly(conn, length)
    return None if data is None else (kind, data)


def _read_exactly(conn: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = conn.recv(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """What a process writes to ``stream``, as it comes."""
    while chunk := os.read(stream.fileno(), 65536):
        yield chunk


def _frame(kind: bytes, data: bytes) -> bytes:
    return _HEADER.pack(kind, len(data)) + data


class Agent:
    """A worker host's agent: serves ``run``/``ping``/``finish`` until ``finish``."""

    def __init__(self, host: str) -> None:
        self.host = host
        self._done = threading.Event()

    def serve(self) -> int:
        """Listen on this host's address until algo-1 says it is done; exit code 0."""
        server = socket.create_server(_address(self.host), backlog=64)
        server.settimeout(0.5)
        with server:
            while not self._done.is_set():
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
        return 0

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10.0)
            try:
                request = json.loads(conn.makefile("rb").readline(_MAX_REQUEST) or b"{}")
            except (OSError, ValueError):
                return
            if not isinstance(request, dict) or not hmac.compare_digest(
                str(request.get("token", "")), _secret()
            ):
                print(
                    f"[sageyard] {self.host}: refused a request without the job's secret",
                    flush=True,
                )
                return
            conn.settimeout(None)
            op = request.get("op")
            if op == "ping":
                conn.sendall(b"ok")
            elif op == "finish":
                conn.sendall(b"ok")
                print(
                    f"[sageyard] MPI: mpirun on algo-1 ended (exit code "
                    f"{request.get('code')}); {self.host} is done",
                    flush=True,
                )
                self._done.set()
            elif op == "run":
                self._run(conn, str(request.get("command", "")))

    @staticmethod
    def _run(conn: socket.socket, command: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
        process = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        assert process.stdout is not None
        with process.stdout:
            for chunk in _chunks(process.stdout):
                try:
                    conn.sendall(_frame(b"o", chunk))
                except OSError:
                    break
        code = process.wait()
        with contextlib.suppress(OSError):
            conn.sendall(_frame(b"x", str(code if code >= 0 else 128 - code).encode()))


def launch(spec: dict[str, Any]) -> int:
    """algo-1's command: wait for the agents, run mpirun, release the agents."""
    from sageyard.runtime.drivers import hostfile_text, mpirun_argv

    workers = [host for host in spec["hosts"] if host != spec["hosts"][0]]
    if not _wait_for(workers):
        return 1
    python = spec["python"]
    with_mpi4py = subprocess.run([python, "-c", "import mpi4py"], capture_output=True)
    with tempfile.TemporaryDirectory(prefix="sageyard-mpi-") as folder:
        hostfile = os.path.join(folder, "hostfile")
        with open(hostfile, "w") as file:
            file.write(hostfile_text(_as_seen_here(spec["hosts"]), spec["processes"]))
        argv = mpirun_argv(
            python,
            spec["script"],
            hostfile=hostfile,
            hosts=len(spec["hosts"]),
            processes_per_host=spec["processes"],
            options=spec["options"],
            rsh_agent=f"{sys.executable} -m sageyard.runtime.mpi rsh",
            mpi4py=with_mpi4py.returncode == 0,
            environment=os.environ,
            interface=_network(spec["hosts"]),
        )
        print(f"[sageyard] MPI: {' '.join(argv)}", flush=True)
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        signal.signal(signal.SIGTERM, lambda *_: process.send_signal(signal.SIGTERM))
        _relay(process)
        code = process.wait()
    for host in workers:
        try:
            finish(host, code)
        except (AgentError, OSError) as error:  # it is ended with the job anyway
            print(f"[sageyard] MPI: could not tell {host} the job is done: {error}", flush=True)
    return code if code >= 0 else 128 - code


def _network(hosts: Sequence[str]) -> str:
    """Where Open MPI's traffic goes (``drivers.mpi_network``): by the hosts' addresses;
    the loopback interface where their names do not resolve (one host, no sandbox)."""
    from sageyard.runtime.drivers import MPI_INTERFACE, mpi_network

    try:
        return mpi_network([socket.gethostbyname(host) for host in hosts])
    except OSError:
        return MPI_INTERFACE


def _relay(process: subprocess.Popen[bytes]) -> None:
    """Copy mpirun's output to the host's log, whole lines at a time (:class:`RankLines`)."""
    assert process.stdout is not None
    lines, out = RankLines(), sys.stdout.buffer
    with process.stdout:
        for chunk in _chunks(process.stdout):
            out.write(b"".join(lines.feed(chunk)))
            out.flush()
    out.write(b"".join(lines.close()))
    out.flush()


class RankLines:
    r"""Mends the lines of ``mpirun --tag-output``: Open MPI tags each piece of output it
    forwards (``[1,3]<stdout>:``), so a rank whose line came in two writes (Python's
    unbuffered ``print`` writes the text, then the newline) shows up as
    ``[1,3]<stdout>:up[1,3]<stdout>:``, and another rank's output can land between the
    pieces. This keeps each rank's unfinished line until its newline comes.

    Example:
        >>> lines = RankLines()
        >>> lines.feed(b"[1,3]<stdout>:up[1,2]<stdout>:hi\n[1,3]<stdout>:\nplain\n")
        [b'[1,2]<stdout>:hi\n', b'[1,3]<stdout>:up\n', b'plain\n']
    """

    _TAG = re.compile(rb"\[\d+,\d+\]<std(?:out|err|diag)>:")

    def __init__(self) -> None:
        self._tail = b""  # the stream after its last newline
        self._unfinished: dict[bytes, bytes] = {}  # by tag: a rank's line so far

    def feed(self, data: bytes) -> list[bytes]:
        """The whole lines that ``data`` finishes, each with its rank's tag."""
        *complete, self._tail = (self._tail + data).split(b"\n")
        return [line for raw in complete for line in self._mend(raw)]

    def close(self) -> list[bytes]:
        """What is left at the end of the output, each unfinished line on a line of its own."""
        left = self.feed(b"\n") if self._tail else []
        left += [tag + text + b"\n" for tag, text in self._unfinished.items()]
        self._unfinished.clear()
        return left

    def _mend(self, raw: bytes) -> list[bytes]:
        tags = list(self._TAG.finditer(raw))
        if not tags:  # mpirun's own output
            return [raw + b"\n"]
        done = [raw[: tags[0].start()] + b"\n"] if tags[0].start() else []
        for tag, after in zip(tags, [*tags[1:], None], strict=True):
            text = raw[tag.end() : after.start() if after is not None else len(raw)]
            key = tag.group()
            text = self._unfinished.pop(key, b"") + text
            if after is None:  # the newline ends this piece's line
                done.append(key + text + b"\n")
            else:
                self._unfinished[key] = text
        return done


def _as_seen_here(hosts: Sequence[str]) -> list[str]:
    """The job's hosts for mpirun's host file: algo-1 is this host, ``localhost`` where it
    is not named so (a one-host job without the sandbox)."""
    first = hosts[0] if socket.gethostname() == hosts[0] else "localhost"
    return [first, *hosts[1:]]


def _wait_for(workers: Sequence[str]) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    waiting = list(workers)
    while waiting:
        waiting = [host for host in waiting if not ping(host)]
        if waiting and time.monotonic() > deadline:
            print(
                f"[sageyard] MPI: {', '.join(waiting)} did not answer within {WAIT_SECONDS:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            return False
        if waiting:
            time.sleep(0.05)
    return True


def main(argv: Sequence[str]) -> int:
    command, *rest = argv
    if command == "serve":
        return Agent(os.environ["SM_CURRENT_HOST"]).serve()
    if command == "launch":
        return launch(json.loads(rest[0]))
    if command == "rsh":
        return rsh(rest)
    print(f"unknown command {command!r}: serve, launch or rsh", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
