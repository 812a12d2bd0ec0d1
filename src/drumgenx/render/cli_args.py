"""The render flags, declared beside the renderer, and ``drumgenx edit render|export-midi``.

Every command that renders (``skeleton``, ``groove``, ``edit render``, ``run``) declares its
render flags here, with the defaults of `RenderSettings`. Light (argparse and
`render.settings`): ``drumgenx --help`` imports this; the renderer is imported when a
command runs.
"""

from __future__ import annotations

import argparse

from drumgenx.core.config import Given
from drumgenx.core.console import Command, notice, report
from drumgenx.render.settings import GM_DRUM_NOTES, RenderSettings

__all__ = [
    "EXPORT_MIDI",
    "RENDER",
    "add_render_options",
    "add_sample_rate_argument",
    "add_swing_argument",
    "add_tails_option",
    "render_options",
]

SWING_RANGE = "0..0.75"  # render.timing.check_swing


def add_swing_argument(
    parser: argparse.ArgumentParser, *, default: float = RenderSettings.swing
) -> None:
    """``--swing`` (``drumgenx run`` passes `ChainParams.swing`)."""
    parser.add_argument(
        "--swing",
        type=float,
        action=Given,
        default=default,
        help=f"delay of off-beat 16ths in steps, {SWING_RANGE}; 0.33 ~ MPC 66%% "
        "(default: %(default)g)",
    )


def add_tails_option(parser: argparse.ArgumentParser, *, loop: bool = RenderSettings.loop) -> None:
    """``--tails``: keep the tails after the loop's end (``loop`` False); ``loop`` is the
    default (`RenderSettings.loop`, or `ChainParams.loop` for ``drumgenx run``)."""
    default = "the file is exactly the loop's bars long, tails wrapped to its start"
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        "--tails",
        dest="loop",
        action="store_false",
        default=loop,
        help="keep the tails after the loop's end, the file running on until the last has "
        f"rung out (default: {default if loop else 'kept'})",
    )
    # the flag's name before wrapping became the default; still accepted, changes nothing
    length.add_argument(
        "--loop", dest="loop", action="store_true", default=loop, help=argparse.SUPPRESS
    )


def add_render_options(parser: argparse.ArgumentParser) -> None:
    """``--swing``, ``--tails`` and ``--skip_missing`` (`render_options` reads them back)."""
    add_swing_argument(parser)
    add_tails_option(parser)
    parser.add_argument(
        "--skip_missing",
        action="store_true",
        help="render without missing or unreadable samples (with a notice) instead of failing",
    )


def add_sample_rate_argument(parser: argparse.ArgumentParser, *, limits: str = "") -> None:
    """``--render_sr``; ``limits`` states the range the command checks (e.g. ``8000..192000``)."""
    parser.add_argument(
        "--render_sr",
        type=int,
        default=RenderSettings.sr,
        help=f"render sample rate in Hz{', ' + limits if limits else ''} (default: %(default)s)",
    )


def render_options(args: argparse.Namespace) -> dict[str, object]:
    """The render flags a parser has (the seed's runners have none): the rest keep the
    library's defaults (`RenderSettings`)."""
    return {k: getattr(args, k) for k in ("swing", "loop", "skip_missing") if hasattr(args, k)}


# --- drumgenx edit render | export-midi ----------------------------------------------------
# (the editor's assembler gives each --events and --out_dir)


def add_render_file_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--grid", required=True, help="grid_N.json the events were made on")
    parser.add_argument(
        "--pools_json",
        help="pools_N.json naming the sample files (default: with neither this nor "
        "--sample_root, the pools and library of the `drumgenx run` holding --events/--grid)",
    )
    parser.add_argument("--sample_root", help="folder to look for samples in (by file name or id)")
    add_sample_rate_argument(parser)
    add_render_options(parser)


def render_command(args: argparse.Namespace) -> None:
    """``drumgenx edit render``: an event grid to a WAV, with the run's samples if found."""
    from drumgenx.core.layout import find_run_files
    from drumgenx.render.run import render_file

    pools_json, sample_root, found = args.pools_json, args.sample_root, None
    if pools_json is None and sample_root is None:  # a flag given: the flags decide
        found = find_run_files(args.events, args.grid)
        if found is not None:
            pools_json, sample_root = found.pools, found.library
    out = render_file(
        args.events,
        args.grid,
        pools_json=pools_json,
        sample_root=sample_root,
        out_dir=args.out_dir,
        sr=args.render_sr,
        **render_options(args),
        notify=notice,
    )
    report(f"wrote {out.path}")
    if found is not None:
        print(f" - samples: pools {found.pools}, library {found.library} (from {found.record})")


def add_export_midi_arguments(parser: argparse.ArgumentParser) -> None:
    keys = " ".join(f"{role}={key}" for role, key in GM_DRUM_NOTES.items())
    parser.add_argument("--grid", required=True, help="grid_N.json the events were made on")
    add_swing_argument(parser)
    parser.add_argument(
        "--note",
        action="append",
        metavar="ROLE=KEY",
        help=f"override a role's MIDI key 0..127, e.g. FILL=47 (default: {keys})",
    )


def export_midi_command(args: argparse.Namespace) -> None:
    """``drumgenx edit export-midi``: an event grid to a General MIDI drum file."""
    from drumgenx.render.run import export_midi_file

    out = export_midi_file(
        args.events,
        args.grid,
        out_dir=args.out_dir,
        swing=args.swing,
        note_overrides=args.note,
        notify=notice,
    )
    report(f"wrote {out.path}")


_RENDER_HELP = "render an event grid to a 24-bit WAV"
RENDER = Command("render", _RENDER_HELP, _RENDER_HELP, add_render_file_arguments, render_command)
_EXPORT_MIDI_HELP = "write a General MIDI drum file (channel 10)"
EXPORT_MIDI = Command(
    "export-midi",
    _EXPORT_MIDI_HELP,
    _EXPORT_MIDI_HELP,
    add_export_midi_arguments,
    export_midi_command,
    flags={"note_overrides": "--note"},  # export_midi_file's parameter
)
