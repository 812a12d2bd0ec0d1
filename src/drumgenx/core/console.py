"""What every stage's command needs to talk to the terminal, and how it declares itself.

Each stage declares its ``drumgenx`` subcommands beside its code (``<stage>/cli_args.py``) as
`Command` objects: the flags (read from the stage's settings dataclass) and the handler that
runs them. `drumgenx.cli` only assembles them. Light (stdlib only): ``drumgenx --help``
imports this.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Command", "notice", "progress_printer", "report"]

Handler = Callable[[argparse.Namespace], None]


def notice(message: str) -> None:
    """One notice line on stderr (the one way notices reach the user of the command line)."""
    print(f"drumgenx: notice: {message}", file=sys.stderr)


def report(
    done: str, *, notices: Iterable[str] = (), paths: Mapping[str, object] | None = None
) -> None:
    """A command's ending: its notices, ``[DONE] done``, then a `` - name: path`` line each."""
    for line in notices:
        notice(line)
    print(f"[DONE] {done}")
    for name, path in (paths or {}).items():
        print(f" - {name}: {path}")


def progress_printer(
    label: str, *, unit: str = " files", finish_line: bool = True
) -> Callable[[int, int, str], None]:
    """A one-line progress display on a terminal, a line per 10 % in a log.

    ``finish_line=False`` leaves the terminal line open at 100 % for the caller to clear
    (`drumgenx run` replaces it with the stage's summary).
    """
    tty = sys.stderr.isatty()
    last = [-1]

    def show(done: int, total: int, item: str) -> None:
        if tty:
            end = "\n" if done == total and finish_line else ""
            print(f"\r{label}: {done}/{total}{unit}  {item[-48:]:<48}", end=end, file=sys.stderr)
        elif total and (done * 10 // total) != last[0]:
            last[0] = done * 10 // total
            print(f"{label}: {done}/{total}{unit}", file=sys.stderr)

    return show


@dataclass(frozen=True)
class Command:
    """One ``drumgenx`` subcommand, declared by the stage that runs it.

    Attributes
    ----------
    name, help, description
        As ``argparse``'s ``add_parser`` takes them (``help``: the line in the list of
        commands; ``description``: the top of the command's own ``--help``).
    add_arguments
        Declares the command's flags on its parser (defaults from the stage's settings).
    run
        The handler of the parsed flags; None for a command whose subcommands have their own.
    """

    name: str
    help: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Handler | None = None

    def add_to(
        self,
        subparsers: Any,
        *,
        common: Callable[[argparse.ArgumentParser], None] | None = None,
    ) -> argparse.ArgumentParser:
        """Add the command to ``subparsers`` (``ArgumentParser.add_subparsers()``'s result);
        ``common`` declares flags its assembler gives every command of a group, first."""
        parser = subparsers.add_parser(self.name, help=self.help, description=self.description)
        if common is not None:
            common(parser)
        self.add_arguments(parser)
        if self.run is not None:
            parser.set_defaults(handler=self.run)
        return parser
