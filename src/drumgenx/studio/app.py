"""The studio's routes (Starlette): each hands its request to `drumgenx.studio.api`.

The endpoints and their answers are documented in `drumgenx.studio.api`. Here: the guard
every request passes (`_Guard`: the Host header must name the studio, so a rebound DNS name
cannot reach it; a POST also needs the per-launch token and an ``Origin`` of the studio
itself), the error answers (JSON, one line, never a traceback page) and the page's own
static files. Imports Starlette: only `drumgenx.studio.server` and tests import this.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, MutableHeaders, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drumgenx.core.errors import DrumgenxError
from drumgenx.studio.api import (
    BadRequest,
    Conflict,
    NotFound,
    RequestError,
    StudioApi,
    checked_field,
    groove_arguments,
    save_arguments,
)
from drumgenx.studio.exports import download, export
from drumgenx.studio.library import library, library_map, move_sample, peaks
from drumgenx.studio.new_run import MAX_TOTAL_BYTES, NewRuns, RunJob, Upload
from drumgenx.studio.paths import OutsideError

__all__ = ["STATIC_DIR", "TOKEN_HEADER", "TOKEN_PLACEHOLDER", "create_app"]

STATIC_DIR = Path(__file__).parent / "static"
TOKEN_HEADER = "X-Drumgenx-Token"
TOKEN_PLACEHOLDER = "__DRUMGENX_TOKEN__"  # in static/index.html's meta tag
MAX_BODY_BYTES = 1 << 20  # a save or a groove request is a few kB
# A new run's form: the uploads (MAX_TOTAL_BYTES) and a little for the form's own parts.
MAX_UPLOAD_BODY_BYTES = MAX_TOTAL_BYTES + (1 << 20)
MAX_UPLOAD_FILES = 2000  # a dropped folder of one-shots; more: name the folder instead
EVENT_POLL_S = 0.1  # how often a run's event stream looks for new events
KEEPALIVE_S = 15.0  # a comment line this often keeps proxies and the browser from timing out
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


def _answer(data: Any, *, status: int = 200) -> JSONResponse:
    """A JSON answer the browser never caches (the files behind it change as the user edits)."""
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    """The one error answer: ``{"error": "one line"}`` (and ``extra``) with ``status``."""
    line = " ".join(str(message).split()) or "error"
    return _answer({"error": line, **extra}, status=status)


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


class TooLarge(RequestError):
    """An upload over the studio's limits (`MAX_UPLOAD_BODY_BYTES`)."""

    status = 413


def _too_large() -> TooLarge:
    return TooLarge(
        f"the upload is over {MAX_TOTAL_BYTES // 2**20} MB in all: upload fewer files, or "
        "name their folder on this machine instead"
    )


async def _upload_form(request: Request) -> FormData:
    """The new-run form, refused (413) once its body passes `MAX_UPLOAD_BODY_BYTES`: by its
    declared length before anything is read, else while it is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BODY_BYTES:
        raise _too_large()
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > MAX_UPLOAD_BODY_BYTES:
            raise _too_large()
        return message

    limited = Request(request.scope, counted)
    return await limited.form(max_files=MAX_UPLOAD_FILES, max_fields=10)


def _form_text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest(f"form field {name!r} must be text, not a file")
    return value


def _new_run_form(form: FormData) -> tuple[list[Upload], str | None, dict[str, Any]]:
    """The new-run form's parts: ``files`` (the uploads), ``folder`` (a folder of audio on
    this machine) and ``params`` (JSON, as `drumgenx.studio.new_run.chain_params`)."""
    uploads = [
        Upload(item.filename or "", item.size or 0, item.file)
        for name, item in form.multi_items()
        if name == "files" and isinstance(item, UploadFile)
    ]
    try:
        params = json.loads(_form_text(form, "params") or "{}")
    except ValueError:
        raise BadRequest("form field 'params' is not JSON") from None
    if not isinstance(params, dict):
        raise BadRequest("form field 'params' must be a JSON object")
    return uploads, _form_text(form, "folder"), params


def _sse(event: Mapping[str, Any]) -> str:
    """One server-sent event: its id (for Last-Event-ID), its type and its JSON."""
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"


async def _event_stream(request: Request, job: RunJob, last_id: int) -> AsyncIterator[str]:
    """``job``'s events after ``last_id``, then each as it comes, until the run ends (or the
    page goes away)."""
    quiet = 0.0
    while True:
        events = job.events_since(last_id)
        for event in events:
            last_id = event["id"]
            yield _sse(event)
        if job.finished and not job.events_since(last_id):
            return
        if events:
            quiet = 0.0
        elif quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield ": still running\n\n"
        if await request.is_disconnected():
            return
        await asyncio.sleep(EVENT_POLL_S)
        quiet += EVENT_POLL_S


def _static_files() -> dict[str, Path]:
    """The page's files by name: the only names ``/static/`` serves."""
    return {p.name: p for p in STATIC_DIR.iterdir() if p.is_file() and p.suffix in _STATIC_TYPES}


class _Endpoints:
    """The route handlers: each reads its request, hands the work to `StudioApi` (or the
    library, export and new-run helpers) on a thread, and answers JSON or a file."""

    def __init__(self, api: StudioApi, new_runs: NewRuns, *, token: str) -> None:
        self.api, self.new_runs = api, new_runs
        self.static = _static_files()
        page = self.static["index.html"].read_text(encoding="utf-8")
        self.page = page.replace(TOKEN_PLACEHOLDER, token)

    async def index(self, request: Request) -> Response:
        return HTMLResponse(self.page, headers={"Cache-Control": "no-store"})

    async def static_file(self, request: Request) -> Response:
        path = self.static.get(request.path_params["name"])
        if path is None or path.name == "index.html":
            raise NotFound(f"no studio file {request.path_params['name']!r}")
        return FileResponse(path, media_type=_STATIC_TYPES[path.suffix])

    async def out_file(self, request: Request) -> Response:
        return FileResponse(await run_in_threadpool(self.api.file, request.path_params["path"]))

    async def runs(self, request: Request) -> Response:
        return _answer(await run_in_threadpool(self.api.runs))

    async def run(self, request: Request) -> Response:
        return _answer(await run_in_threadpool(self.api.run, _query(request, "record")))

    async def events(self, request: Request) -> Response:
        return _answer(await run_in_threadpool(self.api.events, _query(request, "path")))

    async def save(self, request: Request) -> Response:
        arguments = save_arguments(await _body(request))
        return _answer(await run_in_threadpool(lambda: self.api.save(**arguments)))

    async def groove(self, request: Request) -> Response:
        arguments = groove_arguments(await _body(request))
        return _answer(await run_in_threadpool(lambda: self.api.groove(**arguments)))

    async def library_view(self, request: Request) -> Response:
        record, pools = _query(request, "record"), request.query_params.get("pools")
        flags = {name: request.query_params.get(name) != "0" for name in ("waveforms", "places")}
        return _answer(
            await run_in_threadpool(lambda: library(self.api, record=record, pools=pools, **flags))
        )

    async def library_peaks(self, request: Request) -> Response:
        record, pools = _query(request, "record"), request.query_params.get("pools")
        ids = request.query_params.getlist("id")
        return _answer(
            await run_in_threadpool(
                lambda: peaks(self.api, record=record, pools=pools, sample_ids=ids)
            )
        )

    async def library_places(self, request: Request) -> Response:
        record = _query(request, "record")
        return _answer(await run_in_threadpool(lambda: library_map(self.api, record=record)))

    async def library_move(self, request: Request) -> Response:
        body = await _body(request)
        arguments = {
            name: checked_field(body, name, str)
            for name in ("record", "pools", "sample_id", "role")
        }
        return _answer(await run_in_threadpool(lambda: move_sample(self.api, **arguments)))

    async def export_loop(self, request: Request) -> Response:
        body = await _body(request)
        arguments = {name: checked_field(body, name, str) for name in ("record", "events", "kind")}
        return _answer(await run_in_threadpool(lambda: export(self.api, **arguments)))

    async def download_export(self, request: Request) -> Response:
        name, content = await run_in_threadpool(download, self.api, _query(request, "path"))
        if isinstance(content, Path):
            return FileResponse(content, filename=name)
        disposition = f'attachment; filename="{name}"'  # export_kit's names: plain ASCII
        headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
        return Response(content, media_type="application/zip", headers=headers)

    async def new_run(self, request: Request) -> Response:
        self.new_runs.claim()  # a second run is refused before its uploads are read
        form = None
        try:
            form = await _upload_form(request)
            uploads, folder, params = _new_run_form(form)
        except BaseException:
            self.new_runs.release()
            if form is not None:
                await form.close()
            raise
        try:  # `start` releases the slot itself when nothing starts
            started = await run_in_threadpool(
                lambda: self.new_runs.start(uploads, folder=folder, params=params)
            )
        finally:
            await form.close()
        return _answer(started, status=202)

    async def new_run_stop(self, request: Request) -> Response:
        folder = checked_field(await _body(request), "run", str)
        return _answer(self.new_runs.stop(folder), status=202)

    async def new_run_state(self, request: Request) -> Response:
        running = self.new_runs.running
        return _answer({"running": running.folder if running else None})

    async def new_run_events(self, request: Request) -> Response:
        job = self.new_runs.job(_query(request, "run"))
        if job is None:
            raise NotFound(f"no run {request.query_params['run']!r} started by this studio")
        last = request.headers.get("last-event-id", "")
        stream = _event_stream(request, job, int(last) if last.isdigit() else 0)
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


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
    endpoints = _Endpoints(api, NewRuns(api.out), token=token)

    routes = [
        Route("/", endpoints.index),
        Route("/static/{name}", endpoints.static_file),
        Route("/files/{path:path}", endpoints.out_file),
        Route("/api/runs", endpoints.runs),
        Route("/api/run", endpoints.run),
        Route("/api/events", endpoints.events),
        Route("/api/save", endpoints.save, methods=["POST"]),
        Route("/api/groove", endpoints.groove, methods=["POST"]),
        Route("/api/library", endpoints.library_view),
        Route("/api/library/move", endpoints.library_move, methods=["POST"]),
        Route("/api/library/peaks", endpoints.library_peaks),
        Route("/api/library/map", endpoints.library_places),
        Route("/api/export", endpoints.export_loop, methods=["POST"]),
        Route("/api/download", endpoints.download_export),
        Route("/api/new-run", endpoints.new_run, methods=["POST"]),
        Route("/api/new-run", endpoints.new_run_state),
        Route("/api/new-run/events", endpoints.new_run_events),
        Route("/api/new-run/stop", endpoints.new_run_stop, methods=["POST"]),
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
