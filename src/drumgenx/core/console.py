"""What every stage's command needs to talk to the terminal, and how it declares itself.

Each stage declares its ``drumgenx`` subcommands beside its code (``<stage>/cli_args.py``) as
`Command` objects: the flags (read from the stage's settings dataclass) and the handler that
runs them. `drumgenx.cli` only assembles them. Light (stdlib only): ``drumgenx --help``
imports this.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Command",
    "flag_error",
    "flag_notice",
    "notice",
    "progress_printer",
    "report",
    "silent",
]

Handler = Callable[[argparse.Namespace], None]


def silent(message: str) -> None:
    """The notify of a library caller that passed none: the notice is dropped.

    Library code reports notices only through a ``notify: Callable[[str], None] | None``
    parameter and never prints; the command line passes `notice`.
    """


def notice(message: str) -> None:
    """One notice line on stderr (the one way notices reach the user of the command line)."""
    print(f"drumgenx: notice: {message}", file=sys.stderr)


def flag_notice(args: argparse.Namespace) -> Callable[[str], None]:
    """`notice` for a command's library calls: a `drumgenx.core.errors.Notice` that names
    parameters is printed naming the flags that set them, as `flag_error` does for errors."""
    from drumgenx.core.errors import Notice

    names = getattr(args, "flag_names", {})

    def say(message: str) -> None:
        notice(message.named(names) if isinstance(message, Notice) else message)

    return say


def report(done: str, *, paths: Mapping[str, object] | None = None) -> None:
    """A command's ending: ``[DONE] done``, then a `` - name: path`` line each (its notices
    went to `notice` as they came)."""
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
    flags
        Library parameter -> the flag that sets it, where the names differ
        (``{"num_bars": "--bars"}``); a flag whose ``dest`` is the parameter's name needs no
        entry. A `ParameterError` the handler raises is printed naming the flag.
    """

    name: str
    help: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Handler | None = None
    flags: Mapping[str, str] | None = None

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
            parser.set_defaults(handler=self.run, flag_names=self._flag_names(parser))
        return parser

    def _flag_names(self, parser: argparse.ArgumentParser) -> dict[str, str]:
        """Parameter -> flag: every long flag under its ``dest``, then `flags`."""
        names = {
            action.dest: long[0]
            for action in parser._actions  # argparse keeps no public list of them
            if (long := [o for o in action.option_strings if o.startswith("--")])
        }
        return {**names, **(self.flags or {})}


def flag_error(exc: Exception, args: argparse.Namespace) -> Exception:
    """``exc`` as the command line says it: a `ParameterError` names the flags that set its
    parameters (`Command.flags`); any other error, or a parameter no flag sets, as it is."""
    from drumgenx.core.errors import ParameterError

    if isinstance(exc, ParameterError):
        return exc.named(getattr(args, "flag_names", {}))
    return exc
