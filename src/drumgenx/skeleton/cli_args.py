"""``drumgenx skeleton``: stage 3's flags, declared beside its code, and the command.

Light (argparse and the settings dataclasses): ``drumgenx --help`` imports this; the stage
itself is imported when the command runs. ``drumgenx run`` reuses the flags it shares
(`add_bpm_argument`, `add_bars_argument`, `add_seed_argument`).
"""

from __future__ import annotations

import argparse

from drumgenx.core.config import Given
from drumgenx.core.console import Command, notice, report
from drumgenx.render.cli_args import add_render_options, add_sample_rate_argument, render_options
from drumgenx.skeleton.settings import (
    AUTO,
    MOTION_MODES,
    RANDOM_POOLS,
    SAMPLE_ROOT,
    PatternSettings,
)

__all__ = [
    "SKELETON",
    "STYLES",
    "add_arguments",
    "add_bars_argument",
    "add_bpm_argument",
    "add_pattern_argument",
    "add_seed_argument",
    "main",
    "pattern_settings",
]

BPM_RANGE = "20..999"  # skeleton.grid.build_grid
RENDER_SR_RANGE = "8000..192000"  # skeleton.run.run_skeleton


def _bpm(text: str) -> float | str:
    """A ``--bpm`` value: a number, or ``auto``."""
    return AUTO if text == AUTO else float(text)


def add_bpm_argument(
    parser: argparse.ArgumentParser, *, default: float | str | None = None
) -> None:
    """``--bpm``: a tempo or ``auto``; required without a ``default`` (``drumgenx run``
    has one)."""
    parser.add_argument(
        "--bpm",
        type=_bpm,
        action=Given,
        default=default,
        required=default is None,
        help=f"tempo, {BPM_RANGE}, or auto: the tempo of the input the pattern comes from, "
        "else the library's dominant tempo, else 120"
        + (" (default: %(default)s)" if default is not None else ""),
    )


def add_pattern_argument(parser: argparse.ArgumentParser, *, default: str) -> None:
    """``--pattern``: where the loop's hits come from (`skeleton.origin`)."""
    parser.add_argument(
        "--pattern",
        action=Given,
        default=default,
        help="seed: the seed's rules; source: an input's own drum pattern (its stage-1 "
        "transcription in the library); style or style:NAME: a GMD drummer's pattern "
        "(drumgenx styles lists them); auto: source where an input has a steady pattern, "
        "else style (default: %(default)s)",
    )


def add_bars_argument(
    parser: argparse.ArgumentParser, *, default: int = PatternSettings.bars
) -> None:
    parser.add_argument(
        "--bars",
        action=Given,
        type=int,
        default=default,
        help="loop length in bars, 1 or more (default: %(default)s)",
    )


def add_seed_argument(
    parser: argparse.ArgumentParser,
    *,
    default: int = PatternSettings.seed,
    what: str = "the pattern's choices",
) -> None:
    parser.add_argument(
        "--seed",
        action=Given,
        type=int,
        default=default,
        help=f"random seed for {what} (default: %(default)s)",
    )


def add_arguments(parser: argparse.ArgumentParser, *, extended: bool = True) -> None:
    """The seed's stage-3 flags and defaults; ``extended`` adds the render options."""
    d = PatternSettings()
    parser.add_argument(
        "--pools_json",
        default=RANDOM_POOLS,
        help=f'pools_N.json from stage 2, or "{RANDOM_POOLS}" to deal the files under '
        "--sample_root to roles at random (seeded) (default: %(default)s)",
    )
    parser.add_argument("--out_dir", required=True, help="output folder (created if needed)")
    add_bpm_argument(parser)
    add_bars_argument(parser)
    add_seed_argument(parser)
    add_pattern_argument(parser, default=d.pattern)
    parser.add_argument(
        "--motion_mode",
        action=Given,
        choices=MOTION_MODES,
        default=d.motion_mode,
        help="A: the same eighth-note hats every bar; B: weighted 16th hats redrawn per bar "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--motion_keep",
        action=Given,
        type=int,
        default=d.motion_keep,
        help="MOTION hits per bar, 4..8 (default: %(default)s)",
    )
    parser.add_argument(
        "--fill_prob",
        action=Given,
        type=float,
        default=d.fill_prob,
        help="chance of a fill closing each 4-bar phrase, 0..1 (default: %(default)s)",
    )
    parser.add_argument(
        "--texture",
        action=Given,
        type=int,
        choices=(0, 1),
        default=int(d.texture),
        help="1: a TEXTURE bed from bar 0 for 16 steps; 0: none (default: %(default)s)",
    )
    parser.add_argument(
        "--sample_root",
        default=SAMPLE_ROOT,
        help="where sample files are looked up (default: %(default)s)",
    )
    add_sample_rate_argument(parser, limits=RENDER_SR_RANGE)
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="YAML setting any of bars, seed, motion_mode, motion_keep, fill_prob, texture, "
        "pattern (only the keys it changes); a flag given beats the file",
    )
    if extended:
        add_render_options(parser)
        parser.add_argument("--no_render", action="store_true", help="write JSON only")


def pattern_settings(args: argparse.Namespace) -> PatternSettings:
    """The defaults, under ``--config``'s file, under the flags given.

    Raises
    ------
    DrumgenxError
        The file cannot be read, or names an unknown key or a wrong type (file and key).
    """
    from drumgenx.core.config import load_config, with_flags

    return with_flags(load_config(args.config, PatternSettings), args, texture=bool)


def main(args: argparse.Namespace) -> None:
    """Build the grid and skeleton of the parsed flags, render them, print what was written."""
    from dataclasses import asdict

    from drumgenx.skeleton.patterns import SkeletonParams
    from drumgenx.skeleton.run import run_skeleton

    params = SkeletonParams(**asdict(pattern_settings(args)))
    run = run_skeleton(
        out_dir=args.out_dir,
        bpm=args.bpm,
        pools_json=args.pools_json,
        params=params,
        sample_root=args.sample_root,
        render=not getattr(args, "no_render", False),
        render_sr=args.render_sr,
        **render_options(args),
        notify=notice,
    )
    report(f"grid & skeleton, version {run.version}", paths=run.paths)


SKELETON = Command(
    "skeleton",
    help="stage 3: beat grid, rule-based skeleton, WAV render",
    description="Stage 3: write grid_N.json, event_grid_N.json, skeleton_meta_N.json "
    "and render_N.wav (same N) under --out_dir.",
    add_arguments=add_arguments,
    run=main,
    flags={"num_bars": "--bars"},  # build_grid's parameter
)


def _add_styles_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--library",
        metavar="FILE",
        help="a style library built by drumgenx train styles (default: the shipped one)",
    )


def list_styles_command(args: argparse.Namespace) -> None:
    """Print the style library's table: its styles, their counts and tempo ranges."""
    from drumgenx.skeleton.styles import list_styles, load_library, styles_table

    library = load_library(args.library)
    print(styles_table(list_styles(library)))
    print(f"source: {library.source['dataset']}, {library.source['split']} split only")


STYLES = Command(
    "styles",
    help="list the styles of the GMD pattern library (counts, tempo ranges)",
    description="The styles real drummers' patterns come from (the Groove MIDI Dataset's "
    "train split): per style its 2-bar beat patterns, its 1-bar fills and its tempo range.",
    add_arguments=_add_styles_arguments,
    run=list_styles_command,
)
"""``drumgenx styles``."""
