"""The ``drumgenx`` command: it assembles the subcommands each stage declares.

Every stage declares its flags beside its code (``<stage>/cli_args.py``, with defaults read
from the stage's settings dataclass and help that states ranges and defaults) as
`drumgenx.core.console.Command` objects; this module only lists them, dispatches, and prints
errors. Only argparse and those light modules are imported at start-up; each handler imports
its stage when it runs, so ``drumgenx --help`` answers at once. A `DrumgenxError` (or an
`OSError`: a full disk, a permission) becomes one line on stderr and exit status 2; Ctrl-C
exits 130 (outputs are written atomically, so nothing half-written stays).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def guarded(handler: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> int:
    """Run a handler, turning user errors and Ctrl-C into one line and an exit status."""
    from drumgenx.core.console import flag_error
    from drumgenx.core.errors import DrumgenxError

    try:
        handler(args)
    except DrumgenxError as exc:
        print(f"drumgenx: error: {flag_error(exc, args)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("drumgenx: interrupted; no partial output was left behind", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        # The machine, not the code: a full disk, a permission, a vanished folder. Each stage
        # names the file where it can; this catches the rest, still as one line.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"drumgenx: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


def _add_edit_commands(parser: argparse.ArgumentParser) -> None:
    """``drumgenx edit COMMAND``: the editor's commands, then the renderer's, each starting
    from ``--events`` (also ``stage1_drumgenx/editor.py``)."""
    from drumgenx.edit.cli_args import EDIT_COMMANDS, add_event_file_arguments
    from drumgenx.render.cli_args import EXPORT_MIDI, RENDER

    sub = parser.add_subparsers(dest="edit_command", required=True, metavar="COMMAND")
    for command in (*EDIT_COMMANDS, RENDER, EXPORT_MIDI):
        command.add_to(sub, common=add_event_file_arguments)


def _commands() -> list:  # -> list[core.console.Command], in the order --help lists them
    from drumgenx.chain.cli_args import CONFIG, RUN
    from drumgenx.core.console import Command
    from drumgenx.groove.cli_args import GROOVE
    from drumgenx.kit.cli_args import DEMO, EXPORT_KIT, KIT
    from drumgenx.preprocess.cli_args import PREPROCESS
    from drumgenx.roles.cli_args import ROLES_COMMAND
    from drumgenx.skeleton.cli_args import SKELETON, STYLES
    from drumgenx.studio.cli_args import STUDIO
    from drumgenx.training.commands import TRAIN, TRAIN_GROOVAE
    from drumgenx.transcribe.cli_args import TRANSCRIBE

    edit = Command(
        "edit",
        help="edit an event grid (set, remove, velocity), render it, export MIDI",
        description="Every edit writes event_grid_edit_N.json; the original is never touched.",
        add_arguments=_add_edit_commands,
    )
    return [
        *(RUN, CONFIG, DEMO, PREPROCESS, TRANSCRIBE, ROLES_COMMAND, SKELETON, STYLES, GROOVE),
        *(TRAIN, TRAIN_GROOVAE, edit, KIT, EXPORT_KIT, STUDIO),
    ]


def build_parser() -> argparse.ArgumentParser:
    from drumgenx import __version__

    parser = argparse.ArgumentParser(
        prog="drumgenx",
        description="Turn any pile of audio into playable, human-feeling drum loops.",
    )
    parser.add_argument("--version", action="version", version=f"drumgenx {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _commands():
        command.add_to(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
