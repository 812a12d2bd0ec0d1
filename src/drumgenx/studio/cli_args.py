"""``drumgenx studio``: the studio's flags, declared beside its code, and the command.

Light (argparse and `studio.settings`): ``drumgenx --help`` imports this; the web server
(uvicorn, Starlette) is imported when the command runs.
"""

from __future__ import annotations

import argparse

from drumgenx.core.console import Command
from drumgenx.studio.settings import StudioSettings, is_loopback

__all__ = ["STUDIO", "add_arguments", "main"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "out",
        nargs="?",
        default=".",
        metavar="OUT",
        help="folder of runs (run_N.json) to open and edit; an empty folder is fine "
        "(default: the current folder)",
    )
    parser.add_argument(
        "--host",
        default=StudioSettings.host,
        help="address to listen on (default: %(default)s, this machine only; any other "
        "address lets everyone on that network read and edit OUT's files)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=StudioSettings.port,
        help="TCP port, 0..65535; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--no-browser",
        dest="open_browser",
        action="store_false",
        help="do not open the page in a browser (default: open it)",
    )


def main(args: argparse.Namespace) -> None:
    """Serve the studio on ``args.out`` until Ctrl-C; print where, open the browser."""
    import contextlib
    import webbrowser

    from drumgenx.studio.server import serve

    if not is_loopback(args.host):
        print(
            f"drumgenx: warning: listening on {args.host}: anyone who can reach this machine "
            f"on that network can read and edit the files in {args.out}",
            flush=True,
        )

    def ready(url: str) -> None:
        print(f"DrumGen-X Studio on {args.out}: {url}  (Ctrl-C stops it)", flush=True)
        if args.open_browser:
            webbrowser.open(url)

    # Ctrl-C is how the studio stops: uvicorn has finished the requests under way
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.out, host=args.host, port=args.port, on_ready=ready)
    print("[DONE] studio stopped", flush=True)


_HELP = "open a folder of runs in the browser: hear, see and edit the loops"
STUDIO = Command(
    "studio",
    _HELP,
    "A local web app on OUT: the runs in it, each loop on a step grid to play, edit and "
    "save as a new version, humanize (the humanizer) or vary (GrooVAE). Needs pip install "
    "-e '.[studio]'.",
    add_arguments,
    main,
)
