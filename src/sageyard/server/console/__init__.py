"""The web console at ``/``: training jobs and tuning jobs (each with a page), the model
packages fine-tuning registered, and the evaluations with their scores.

Pages are rendered on the server (``pages.py``) from ``views.py``'s data; each stays live
by polling its fragments and the JSON API under ``/console/`` (``static/console.js``).
When the server holds credentials, every console request must carry them as HTTP Basic
authentication (user: the access key id, password: the secret), which browsers ask for;
a stop (the one change the console makes) must also come from the console's own origin.
The path ``/console/`` is the console's, so no S3 bucket named ``console`` is reachable.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sageyard.core.exceptions import ResourceNotFound
from sageyard.server.console import pages, views
from sageyard.train.client import LocalClient

__all__ = ["Console"]

STATIC = Path(__file__).parent / "static"


class Console:
    """The console over ``client``'s services; ``credentials`` (key id → secret) guard it."""

    def __init__(self, client: LocalClient, credentials: Mapping[str, str]) -> None:
        self.client, self.credentials = client, dict(credentials)

    async def front(self, request: Any) -> Any:
        """``GET /`` from a browser: the training jobs, filtered by the query's status and
        name."""
        return await self._guarded(request, self._jobs, json=False)

    def routes(self) -> list[Any]:
        """The console's Starlette routes (before the S3 routes, which would take its paths)."""
        from starlette.routing import Mount, Route
        from starlette.staticfiles import StaticFiles

        def page(handler: Callable[[Any], Any], json: bool = False) -> Any:
            async def endpoint(request: Any) -> Any:
                return await self._guarded(request, handler, json=json)

            return endpoint

        client = self.client
        return [
            Route("/console/jobs/{name}/stop", page(self._stop), methods=["POST"]),
            Route("/console/jobs/{name}", page(lambda r: pages.job_page(self._job(r)))),
            Route(
                "/console/tuning", page(lambda r: pages.tunings_page(views.tunings_view(client)))
            ),
            Route("/console/tuning/{name}", page(lambda r: pages.tuning_page(self._tuning(r)))),
            Route("/console/fragments/jobs", page(lambda r: pages.jobs_fragment(self._rows(r)))),
            Route(
                "/console/fragments/jobs/{name}", page(lambda r: pages.job_fragment(self._job(r)))
            ),
            Route(
                "/console/fragments/tuning/{name}",
                page(lambda r: pages.tuning_fragment(self._tuning(r))),
            ),
            Route("/console/models", page(lambda r: pages.models_page(views.models_view(client)))),
            Route(
                "/console/evaluations",
                page(lambda r: pages.evaluations_page(views.evaluations_view(client))),
            ),
            Route(
                "/console/evaluations/{name}",
                page(lambda r: pages.evaluation_page(self._evaluation(r))),
            ),
            Route(
                "/console/fragments/evaluations/{name}",
                page(lambda r: pages.evaluation_fragment(self._evaluation(r))),
            ),
            Route("/console/api/jobs/{name}", page(self._job, json=True)),
            Route("/console/api/jobs/{name}/logs", page(self._log, json=True)),
            Route("/console/api/tuning/{name}", page(self._tuning, json=True)),
            Route("/console/download", page(self._download)),
            Mount("/console/static", app=StaticFiles(directory=STATIC), name="console-static"),
        ]

    async def _guarded(self, request: Any, handler: Callable[[Any], Any], json: bool) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import HTMLResponse, JSONResponse, Response

        header = request.headers.get("authorization", "")
        if self.credentials and not _authorized(header, self.credentials):
            return Response(
                "Sign in with the server's access key id and secret.",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="sageyard"'},
            )
        try:
            answer = await run_in_threadpool(handler, request)
        except ResourceNotFound as missing:
            if json:
                return JSONResponse({"error": missing.message}, status_code=404)
            return HTMLResponse(pages.not_found(missing.message), status_code=404)
        if isinstance(answer, Response):
            return answer
        return JSONResponse(answer) if json else HTMLResponse(answer)

    # -- what each route reads -------------------------------------------------------------

    def _rows(self, request: Any) -> list[dict[str, Any]]:
        query = request.query_params
        return views.jobs_view(self.client, query.get("status", ""), query.get("name", ""))

    def _jobs(self, request: Any) -> str:
        query = request.query_params
        return pages.jobs_page(self._rows(request), query.get("status", ""), query.get("name", ""))

    def _job(self, request: Any) -> dict[str, Any]:
        return views.job_view(self.client, str(request.path_params["name"]))

    def _tuning(self, request: Any) -> dict[str, Any]:
        return views.tuning_view(self.client, str(request.path_params["name"]))

    def _evaluation(self, request: Any) -> dict[str, Any]:
        return views.evaluation_view(self.client, str(request.path_params["name"]))

    def _log(self, request: Any) -> dict[str, Any]:
        after = request.query_params.get("after", "0")
        host = request.query_params.get("host", "algo-1")
        name = str(request.path_params["name"])
        return views.log_view(self.client, name, host, int(after) if after.isdigit() else 0)

    def _stop(self, request: Any) -> Any:
        from starlette.responses import RedirectResponse, Response

        if not _same_origin(request):
            return Response("A stop must come from the console's own page.", status_code=403)
        name = str(request.path_params["name"])
        self.client.training_jobs.stop(name)
        return RedirectResponse(f"/console/jobs/{quote(name)}", status_code=303)

    def _download(self, request: Any) -> Any:
        """An object of the store, as a file (a job's model or output archive)."""
        from starlette.background import BackgroundTask
        from starlette.responses import FileResponse

        uri = request.query_params.get("uri", "")
        objects = self.client.training_jobs.objects
        if not uri.startswith("s3://") or not objects.exists(uri):
            raise ResourceNotFound(f"No object {uri!r} in the object store.")
        file_name = uri.rsplit("/", 1)[-1]
        local = objects.local_path(uri)
        if local is not None:
            return FileResponse(local, filename=file_name)
        scratch = self.client.settings.home / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        handle, path = tempfile.mkstemp(prefix="console-", dir=scratch)
        os.close(handle)
        objects.get_file(uri, Path(path))
        cleanup = BackgroundTask(Path(path).unlink, missing_ok=True)
        return FileResponse(path, filename=file_name, background=cleanup)


def _authorized(header: str, credentials: Mapping[str, str]) -> bool:
    """Whether ``Authorization: Basic …`` names a configured key id and its secret."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    secret = credentials.get(user)
    return secret is not None and hmac.compare_digest(secret, password)


def _same_origin(request: Any) -> bool:
    """Whether a browser's POST comes from a page of this server (Origin, else Referer)."""
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    return bool(source) and urlsplit(source).netloc == request.headers.get("host", "")
