"""``drumgenx groove``: stage 4's flags, declared beside its code, and the command.

Light (argparse and the settings dataclasses, no torch): ``drumgenx --help`` imports this;
the stage itself is imported when the command runs. ``drumgenx run`` reuses the flags it
shares (`add_mode_arguments`).
"""

from __future__ import annotations

import argparse

from drumgenx.core.config import Given
from drumgenx.core.console import Command, notice, report
from drumgenx.groove.settings import MODES, PLAYED_CHOICES, GrooveSettings
from drumgenx.render.cli_args import add_render_options, render_options

__all__ = ["GROOVE", "add_arguments", "add_mode_arguments", "groove_settings", "main"]


def add_mode_arguments(
    parser: argparse.ArgumentParser,
    *,
    mode: str = GrooveSettings.mode,
    temperature: float = GrooveSettings.temperature,
) -> None:
    """``--mode``, ``--temperature``, ``--played`` and the humanizer's ``--feel``,
    ``--drummer``, ``--style`` (``drumgenx run`` passes `ChainParams`' defaults)."""
    parser.add_argument(
        "--mode",
        action=Given,
        choices=MODES,
        default=mode,
        help="humanize (the humanizer) keeps the hits, giving them a drummer's velocities and "
        "micro-timing; vary may also add and remove hits (default: %(default)s)",
    )
    parser.add_argument(
        "--temperature",
        action=Given,
        type=float,
        default=temperature,
        help="--mode vary only: sampling temperature, 0 or more; 0 the model's closest "
        "reconstruction of the input, 1 free sampling (default: %(default)s)",
    )
    parser.add_argument(
        "--played",
        action=Given,
        choices=PLAYED_CHOICES,
        default=GrooveSettings.played,
        help="hits stage 3 took as played (the input's own pattern, a GMD style's): keep "
        "their velocity and micro-timing, or replace them with the model's like any hit "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--feel",
        action=Given,
        type=float,
        default=GrooveSettings.feel,
        help="--mode humanize: 0..1, 0 the most likely performance (the smallest timing and "
        "velocity error), 1 a drummer's spread drawn from the model with --seed "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--drummer",
        action=Given,
        type=int,
        default=GrooveSettings.drummer,
        help="--mode humanize: play like GMD's drummer 1..10; 0 any drummer (default: %(default)s)",
    )
    parser.add_argument(
        "--style",
        action=Given,
        default=GrooveSettings.style,
        help="--mode humanize: a GMD style to play in (rock, funk, jazz, hiphop, latin, ...; "
        "the humanizer lists them); empty: any style (default: any)",
    )


def add_arguments(parser: argparse.ArgumentParser, *, extended: bool = True) -> None:
    """Stage-4 flags (``drumgenx groove`` and the seed's runner); ``extended`` adds the render
    options."""
    parser.add_argument("--grid_json", required=True, help="grid_N.json from stage 3")
    parser.add_argument(
        "--events_json", required=True, help="event_grid_N.json (or an edited one) on that grid"
    )
    parser.add_argument(
        "--pools_json", required=True, help="pools_N.json: samples for new hits and the render"
    )
    parser.add_argument("--out_dir", required=True, help="output folder (created if needed)")
    add_mode_arguments(parser)
    parser.add_argument(
        "--seed",
        action=Given,
        type=int,
        default=GrooveSettings.seed,
        help="--mode vary's sampling and --feel's draws: random seed (default: %(default)s)",
    )
    parser.add_argument(
        "--model",
        help="humanize: a humanizer .npz (drumgenx train humanizer) or a GrooVAE folder "
        "(model.pt, config.json); vary: a GrooVAE folder (default: the shipped weights for "
        "--mode)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="YAML setting any of mode, temperature, seed, feel, drummer, style, played (only the "
        "keys it changes); a flag "
        "given beats the file",
    )
    parser.add_argument("--render", action="store_true", help="also write render_groovae_N.wav")
    parser.add_argument(
        "--sample_root", help="folder to look for samples in when rendering (by file name or id)"
    )
    if extended:
        add_render_options(parser)


def groove_settings(args: argparse.Namespace) -> GrooveSettings:
    """The defaults, under ``--config``'s file, under the flags given.

    Raises
    ------
    DrumgenxError
        The file cannot be read, or names an unknown key or a wrong type (file and key).
    """
    from drumgenx.core.config import load_config, with_flags

    return with_flags(load_config(args.config, GrooveSettings), args)


def main(args: argparse.Namespace) -> None:
    """Humanize or vary the parsed event grid and print what was written."""
    from drumgenx.groove.run import run_groove

    settings = groove_settings(args)
    result = run_groove(
        grid_json=args.grid_json,
        events_json=args.events_json,
        pools_json=args.pools_json,
        out_dir=args.out_dir,
        mode=settings.mode,
        temperature=settings.temperature,
        seed=settings.seed,
        feel=settings.feel,
        drummer=settings.drummer or None,
        style=settings.style or None,
        played=settings.played,
        model_dir=args.model,
        render=args.render,
        sample_root=args.sample_root,
        **render_options(args),
        notify=notice,
    )  # no progress display: a run takes seconds, and an error stays the only line
    changes = (
        f": {result.added} hits added, {result.removed} removed" if settings.mode == "vary" else ""
    )
    done = f"groove ({settings.mode}), version {result.version}{changes}"
    report(done, paths=result.paths)


GROOVE = Command(
    "groove",
    help="stage 4: the humanizer plays an event grid like a drummer (or GrooVAE varies it)",
    description="Stage 4: write event_grid_groovae_N.json (and with --render "
    "render_groovae_N.wav, same N) under --out_dir.",
    add_arguments=add_arguments,
    run=main,
)
