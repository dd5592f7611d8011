"""An OpenAI-compatible chat-completions endpoint on 127.0.0.1, for judge tests.

:func:`judge_server` serves ``POST /v1/chat/completions``: ``answer`` turns the request's
last user message into the assistant's reply (``"Score: 7"``, or anything else a judge
might say). Every request body is kept in ``server.requests``.

Example:
    >>> with judge_server(lambda prompt: "Score: 7") as server:  # doctest: +SKIP
    ...     url = server.url  # http://127.0.0.1:<port>/v1
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class JudgeServer:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def judge_server(answer: Callable[[str], str]) -> Iterator[JudgeServer]:
    served = JudgeServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            served.requests.append(body)
            if self.path != "/v1/chat/completions":
                self.send_error(404)
                return
            reply = answer(body["messages"][-1]["content"])
            data = json.dumps(
                {"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}}]}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
