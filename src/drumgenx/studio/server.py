"""Launch the studio on uvicorn: bind, hand the address to the caller, serve until Ctrl-C.

The socket is bound and listening before ``on_ready`` hears the address, so a browser
opened then never meets a refused connection; ``--port 0`` gets a free port this way too.
uvicorn handles Ctrl-C itself (finishes the requests under way, at most `SHUTDOWN_WAIT_S`,
then returns); the saves are atomic, so nothing half-written stays either way. A new run
under way on its thread stops with the server; its finished stages stay, as with Ctrl-C on
``drumgenx run``.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable, Mapping
from pathlib import Path

from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.studio.settings import LOOPBACK_NAMES, StudioSettings

__all__ = ["EXTRA_HINT", "allowed_hosts", "check_out", "serve"]

EXTRA_HINT = "pip install -e '.[studio]'"
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})
SHUTDOWN_WAIT_S = 3  # seconds Ctrl-C waits for requests under way (see `serve`)


def allowed_hosts(host: str) -> frozenset[str] | None:
    """The host names the studio bound to ``host`` answers to; None (any) for a wildcard."""
    if host in _WILDCARDS:
        return None
    return LOOPBACK_NAMES | {host.strip("[]").lower()}


def check_out(out: str | Path) -> Path:
    """``out`` when it is a folder (an empty one is fine).

    Raises
    ------
    ParameterError
        ``out`` does not exist or is a file (named as ``out``).
    """
    folder = Path(out)
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise ParameterError("out", f"{folder} {what}; name the folder of your runs")
    return folder


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ParameterError(
            "port", f"cannot listen on {host} port {port}: {exc.strerror} (0 picks a free port)"
        ) from None
    return sock


def serve(
    out: str | Path,
    *,
    host: str = StudioSettings.host,
    port: int = StudioSettings.port,
    on_ready: Callable[[str], None] | None = None,
    groove_models: Mapping[str, Path] | None = None,
) -> None:
    """Serve the studio on ``out`` until interrupted.

    Parameters
    ----------
    out
        The folder of runs to open and edit (`check_out`).
    host, port
        Where to listen (`StudioSettings`); port 0: any free port.
    on_ready
        Called with the page's URL once the server listens (the CLI prints it and opens
        the browser).
    groove_models
        As `drumgenx.studio.api.StudioApi`'s.

    Raises
    ------
    DrumgenxError
        The ``[studio]`` extra is not installed, ``out`` is no folder, or the port is taken.
    """
    try:
        import uvicorn

        from drumgenx.studio.app import create_app
    except ModuleNotFoundError as exc:
        raise DrumgenxError(f"drumgenx studio needs {exc.name}: {EXTRA_HINT}") from None
    folder = check_out(out)
    if not 0 <= port <= 65535:
        raise ParameterError("port", f"must be 0..65535 (0: any free port), got {port}")
    app = create_app(
        folder,
        token=secrets.token_urlsafe(32),
        allowed_hosts=allowed_hosts(host),
        groove_models=groove_models,
    )
    sock = _listen(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = "127.0.0.1" if host in _WILDCARDS else host
    shown_host = f"[{shown_host}]" if ":" in shown_host and "[" not in shown_host else shown_host
    # A page following a new run holds its event stream open until the run ends; Ctrl-C
    # waits this long for such requests, then closes them (every write is atomic anyway).
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", timeout_graceful_shutdown=SHUTDOWN_WAIT_S
    )
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready(f"http://{shown_host}:{bound_port}/")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
