"""One reward worker: ``python -m sageyard.programs._rewards.worker HANDLER_FILE MEMORY_MB``.

Before it loads the reward function it cuts itself off: a new user and network namespace
(no network at all, not even the machine's 127.0.0.1), an address-space limit of
``MEMORY_MB``, its own scratch folder as working folder and ``TMPDIR`` (the one it started
in, made by the pool). Then it answers requests on stdin, one JSON line each
(``{"samples": [...], "contract": ...}``), with ``{"contract": ..., "scores": [...]}`` on
stdout. Its first line says whether the network could be cut: ``{"isolated": bool,
"why": str}``.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
from dataclasses import asdict
from typing import Any

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def isolate(memory_mb: int) -> tuple[bool, str]:
    """Cut this (single-threaded) process off the network and bound its memory."""
    if memory_mb > 0:
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ["TMPDIR"] = os.getcwd()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        return False, f"unshare(user, net) failed: {os.strerror(ctypes.get_errno())}"
    return True, ""


def main(argv: list[str]) -> int:
    handler_file, memory_mb = argv[0], int(argv[1])
    out = sys.stdout
    sys.stdout = sys.stderr  # what the reward function prints goes to the job's log
    isolated, why = isolate(memory_mb)
    from sageyard.programs._rewards.contract import Sample, load_handler, score

    handler = load_handler(handler_file)
    out.write(json.dumps({"isolated": isolated, "why": why}) + "\n")
    out.flush()
    for line in sys.stdin:
        request: dict[str, Any] = json.loads(line)
        samples = [Sample(**sample) for sample in request["samples"]]
        contract, scores = score(handler, samples, request.get("contract"))
        reply = {"contract": contract, "scores": [asdict(s) for s in scores]}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
