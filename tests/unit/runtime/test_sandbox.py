"""A host's reaper: its exit is the command's, and nothing the command left survives it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sageyard.runtime.sandbox import become_reaper, children, pid_namespace_available

DAEMON = (
    "import os, sys, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        open(sys.argv[1], 'w').write(os.readlink('/proc/self'))\n"
    "        time.sleep(60)\n"
    "    os._exit(0)\n"
    "while not os.path.exists(sys.argv[1]) or not open(sys.argv[1]).read():\n"
    "    time.sleep(0.01)\n"
    "sys.exit(int(sys.argv[2]))\n"
)


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


@pytest.mark.parametrize("pid_namespace", [False, True])
def test_the_reaper_exits_as_its_command_and_ends_a_setsid_daemon(
    tmp_path: Path, pid_namespace: bool
) -> None:
    if pid_namespace and not pid_namespace_available():
        pytest.skip("no PID namespaces here (not root)")
    marker = tmp_path / "daemon.pid"
    process = subprocess.Popen(
        [sys.executable, "-c", DAEMON, str(marker), "3"],
        start_new_session=True,
        preexec_fn=lambda: become_reaper(pid_namespace),
    )
    assert process.wait(timeout=20) == 3
    daemon = int(marker.read_text())
    deadline = time.time() + 2
    while not _gone(daemon):
        assert time.time() < deadline, "the daemon outlived its host"
        time.sleep(0.02)


def test_a_command_killed_by_a_signal_makes_its_reaper_end_the_same_way() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        start_new_session=True,
        preexec_fn=lambda: become_reaper(False),
    )
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGTERM)  # as a stop does: the reaper leaves it to the command
    assert process.wait(timeout=10) == -signal.SIGTERM


def test_children_lists_the_children_of_a_process() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        assert child.pid in children(os.getpid())
    finally:
        child.kill()
        child.wait()
