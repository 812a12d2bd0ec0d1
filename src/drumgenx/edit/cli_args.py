"""``drumgenx edit set|remove|velocity``: the editor's flags, declared beside its code.

Each command's ``--events`` and ``--out_dir`` are given by the editor's assembler
(`drumgenx.cli`), which also adds the render stage's ``render`` and ``export-midi``. Light
(argparse and `edit.settings`): ``drumgenx --help`` imports this; the editor is imported
when a command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from drumgenx.core.console import Command
from drumgenx.core.roles import ROLES
from drumgenx.edit.settings import OFFSET_MS, POOL_SEED

__all__ = ["EDIT_COMMANDS", "REMOVE", "SET", "VELOCITY", "add_event_file_arguments"]

STEP_RANGE = "0..15"  # edit.operations: steps of a bar
OFFSET_RANGE = "-1000..1000"  # edit.operations.set_hit


def add_event_file_arguments(parser: argparse.ArgumentParser) -> None:
    """``--events`` and ``--out_dir``: what every ``drumgenx edit`` command starts with."""
    parser.add_argument("--events", required=True, help="event grid JSON to start from")
    parser.add_argument("--out_dir", help="where to write (default: beside --events)")


def _selection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bar", help="bars, e.g. 0 or 0,2 or 0-3 (default: all)")
    parser.add_argument("--step", help=f"steps {STEP_RANGE}, e.g. 4,12 or 0-7 (default: all)")
    parser.add_argument(
        "--role",
        action="append",
        type=str.upper,
        choices=ROLES,
        help="repeatable (default: all)",
    )


def _selection(args: argparse.Namespace):  # -> edit.operations.Selection
    from drumgenx.edit.operations import Selection, parse_index_list

    return Selection(
        bars=parse_index_list(args.bar, name="bar") if args.bar else None,
        steps=parse_index_list(args.step, name="step", upper=16) if args.step else None,
        roles=frozenset(args.role) if args.role else None,
    )


def _write_edit(args: argparse.Namespace, operation: Callable) -> None:
    from drumgenx.edit.run import edit_file

    path = edit_file(args.events, operation, out_dir=args.out_dir)
    print(f"[DONE] wrote {path} (the original {args.events} is unchanged)")


# --- set --------------------------------------------------------------------------------


def add_set_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bar", type=int, required=True, help="bar, from 0")
    parser.add_argument("--step", type=int, required=True, help=f"step {STEP_RANGE}")
    parser.add_argument(
        "--role",
        required=True,
        type=str.upper,
        choices=ROLES,
        help="the hit's role (the loop's lane; case does not matter)",
    )
    parser.add_argument(
        "--sample",
        help="sample_id (default: the one the role uses most; with no hit of the role, one "
        "drawn with --seed from the role's pool in --pools_json)",
    )
    parser.add_argument("--velocity", type=float, help="0..1 (default: the skeleton's accent)")
    parser.add_argument(
        "--offset_ms",
        type=float,
        default=OFFSET_MS,
        help=f"micro-timing in ms, {OFFSET_RANGE} (default: %(default)g)",
    )
    parser.add_argument(
        "--pools_json",
        help="pools to draw a sample from when the events hold no hit of the role (default: "
        "the pools of the `drumgenx run` whose output folder holds --events)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=POOL_SEED,
        help="for drawing a sample from the pools (default: %(default)s)",
    )


def set_command(args: argparse.Namespace) -> None:
    from drumgenx.edit.run import set_hit_file

    result = set_hit_file(
        args.events,
        bar=args.bar,
        step=args.step,
        role=args.role,
        sample_id=args.sample,
        vel=args.velocity,
        micro_offset_ms=args.offset_ms,
        pools_json=args.pools_json,
        seed=args.seed,
        out_dir=args.out_dir,
    )
    print(f"[DONE] wrote {result.path} (the original {args.events} is unchanged)")
    if result.drawn is not None:
        drawn = result.drawn
        print(
            f" - {args.role} sample: {drawn.sample_id}, drawn from {drawn.pools_json} with "
            f"--seed {drawn.seed} (the events held no {args.role} hit)"
        )


# --- remove, velocity -----------------------------------------------------------------------


def remove_command(args: argparse.Namespace) -> None:
    from drumgenx.edit.operations import remove_hits

    selection = _selection(args)
    _write_edit(args, lambda events: remove_hits(events, selection))


def add_velocity_arguments(parser: argparse.ArgumentParser) -> None:
    _selection_flags(parser)
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--set", type=float, help="new velocity 0..1")
    how.add_argument(
        "--scale", type=float, help="multiply velocities, 0 or more (result capped at 1)"
    )


def velocity_command(args: argparse.Namespace) -> None:
    from drumgenx.edit.operations import change_velocity

    selection = _selection(args)
    _write_edit(
        args, lambda events: change_velocity(events, selection, value=args.set, scale=args.scale)
    )


def _command(name: str, help_text: str, add_arguments, run, flags=None) -> Command:
    return Command(name, help_text, help_text, add_arguments, run, flags=flags)


SET = _command(
    "set",
    "add a hit, or replace the hit of that role on that step",
    add_set_arguments,
    set_command,
    flags={"vel": "--velocity", "micro_offset_ms": "--offset_ms", "sample_id": "--sample"},
)
# `edit.operations.Selection`'s fields -> the flags that set them, in its errors' lines
_SELECTION_FLAGS = {"bars": "--bar", "steps": "--step", "roles": "--role"}
REMOVE = _command(
    "remove",
    "remove the selected hits",
    _selection_flags,
    remove_command,
    flags=_SELECTION_FLAGS,
)
VELOCITY = _command(
    "velocity",
    "set or scale the velocity of the selected hits",
    add_velocity_arguments,
    velocity_command,
    flags={**_SELECTION_FLAGS, "value": "--set"},
)
EDIT_COMMANDS: tuple[Command, ...] = (SET, REMOVE, VELOCITY)
"""The editor's own commands, in ``drumgenx edit --help``'s order (render's follow)."""
