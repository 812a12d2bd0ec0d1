"""The studio's routes (Starlette): each hands its request to `drumgenx.studio.api`.

The endpoints and their answers are documented in `drumgenx.studio.api`. Here: the guard
every request passes (`_Guard`: the Host header must name the studio, so a rebound DNS name
cannot reach it; a POST also needs the per-launch token and an ``Origin`` of the studio
itself), the error answers (JSON, one line, never a traceback page) and the page's own
static files. Imports Starlette: only `drumgenx.studio.server` and tests import this.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drumgenx.core.errors import DrumgenxError
from drumgenx.studio.api import (
    BadRequest,
    Conflict,
    NotFound,
    RequestError,
    StudioApi,
    groove_arguments,
    save_arguments,
)
from drumgenx.studio.paths import OutsideError

__all__ = ["STATIC_DIR", "TOKEN_HEADER", "TOKEN_PLACEHOLDER", "create_app"]

STATIC_DIR = Path(__file__).parent / "static"
TOKEN_HEADER = "X-Drumgenx-Token"
TOKEN_PLACEHOLDER = "__DRUMGENX_TOKEN__"  # in static/index.html's meta tag
MAX_BODY_BYTES = 1 << 20  # a save or a groove request is a few kB
_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    """The one error answer: ``{"error": "one line"}`` (and ``extra``) with ``status``."""
    line = " ".join(str(message).split()) or "error"
    headers = {"Cache-Control": "no-store"}
    return JSONResponse({"error": line, **extra}, status_code=status, headers=headers)


class _Guard:
    """Refuses (403) a request whose Host is not the studio's, and a state-changing one
    without the token or with a foreign ``Origin``; adds the security headers to answers.

    ``allowed_hosts``: the host names the studio answers to; None (bound to every address,
    the user was warned): any.
    """

    def __init__(self, app: ASGIApp, *, token: str, allowed_hosts: frozenset[str] | None):
        self.app, self.token, self.allowed_hosts = app, token, allowed_hosts

    def refusal(self, request: Request) -> str | None:
        host = (request.url.hostname or "").lower()
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            return f"this studio does not answer to host {host!r}"
        if request.method in ("GET", "HEAD"):
            return None
        given = request.headers.get(TOKEN_HEADER, "")
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return "missing or wrong studio token: reload the studio's page"
        origin = request.headers.get("origin")
        if origin != f"{request.url.scheme}://{request.headers.get('host')}":
            return (
                f"requests from origin {origin!r} are refused: only the studio's own page "
                "may change files"
            )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(Request(scope))
        if refusal is not None:
            await _with_headers(_error(403, refusal))(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(_SECURITY_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_headers(response: Response) -> Response:
    response.headers.update(_SECURITY_HEADERS)
    return response


async def _body(request: Request) -> Mapping[str, Any]:
    """The request's JSON object (at most `MAX_BODY_BYTES`)."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"the request body is over {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def _query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise BadRequest(f"give the {name} parameter (a path inside the studio's folder)")
    return value


def _static_files() -> dict[str, Path]:
    """The page's files by name: the only names ``/static/`` serves."""
    return {p.name: p for p in STATIC_DIR.iterdir() if p.is_file() and p.suffix in _STATIC_TYPES}


def create_app(
    out: str | Path,
    *,
    token: str,
    allowed_hosts: frozenset[str] | None,
    groove_models: Mapping[str, Path] | None = None,
) -> Starlette:
    """The studio on folder ``out``.

    Parameters
    ----------
    out
        The folder served and edited (OUT).
    token
        The per-launch secret a state-changing request must carry (`TOKEN_HEADER`); the page
        gets it in a meta tag.
    allowed_hosts
        Host names the studio answers to (see `_Guard`).
    groove_models
        As `drumgenx.studio.api.StudioApi`'s.
    """
    api = StudioApi(out, groove_models=groove_models)
    static = _static_files()
    page = static["index.html"].read_text(encoding="utf-8").replace(TOKEN_PLACEHOLDER, token)

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def static_file(request: Request) -> Response:
        path = static.get(request.path_params["name"])
        if path is None or path.name == "index.html":
            raise NotFound(f"no studio file {request.path_params['name']!r}")
        return FileResponse(path, media_type=_STATIC_TYPES[path.suffix])

    async def out_file(request: Request) -> Response:
        return FileResponse(await run_in_threadpool(api.file, request.path_params["path"]))

    def answer(data: Any) -> JSONResponse:
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    async def runs(request: Request) -> Response:
        return answer(await run_in_threadpool(api.runs))

    async def run(request: Request) -> Response:
        return answer(await run_in_threadpool(api.run, _query(request, "record")))

    async def events(request: Request) -> Response:
        return answer(await run_in_threadpool(api.events, _query(request, "path")))

    async def save(request: Request) -> Response:
        arguments = save_arguments(await _body(request))
        return answer(await run_in_threadpool(lambda: api.save(**arguments)))

    async def groove(request: Request) -> Response:
        arguments = groove_arguments(await _body(request))
        return answer(await run_in_threadpool(lambda: api.groove(**arguments)))

    routes = [
        Route("/", index),
        Route("/static/{name}", static_file),
        Route("/files/{path:path}", out_file),
        Route("/api/runs", runs),
        Route("/api/run", run),
        Route("/api/events", events),
        Route("/api/save", save, methods=["POST"]),
        Route("/api/groove", groove, methods=["POST"]),
    ]
    handlers = {
        Conflict: lambda request, exc: _error(exc.status, str(exc), newer=exc.newer),
        RequestError: lambda request, exc: _error(exc.status, str(exc)),
        OutsideError: lambda request, exc: _error(403, str(exc)),
        DrumgenxError: lambda request, exc: _error(400, str(exc)),
        HTTPException: lambda request, exc: _error(exc.status_code, exc.detail),
        # A bug: still one JSON line (the server's log keeps the traceback), never a page.
        Exception: lambda request, exc: _error(500, f"internal error: {type(exc).__name__}: {exc}"),
    }
    middleware = [Middleware(_Guard, token=token, allowed_hosts=allowed_hosts)]
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
