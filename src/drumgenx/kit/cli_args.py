"""``drumgenx demo``, ``kit`` and ``export-kit``: their flags, declared beside their code.

Light (argparse and the settings dataclasses): ``drumgenx --help`` imports this; the kit's
code is imported when a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from drumgenx.core.console import Command, notice
from drumgenx.kit.settings import FIRST_SAMPLE_KEY, DemoSettings, KitExportSettings, KitSettings
from drumgenx.render.settings import RenderSettings

__all__ = ["DEMO", "EXPORT_KIT", "KIT"]


# --- demo --------------------------------------------------------------------------------


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", metavar="OUT_DIR", help="new files only; nothing is overwritten")
    parser.add_argument(
        "--seed",
        type=int,
        default=DemoSettings.seed,
        help="0 or more; the same seed gives the same files (default: %(default)s)",
    )


def demo_command(args: argparse.Namespace) -> None:
    from drumgenx.kit.demo import TRUTH_FILE, build_demo

    if (Path(args.out_dir) / TRUTH_FILE).exists():
        # The demo is written all-or-nothing, so its truth file means a finished demo: the
        # README's first command can run twice without stopping here.
        print(f"[DONE] the demo is already in {args.out_dir} (kept as it is)")
        return
    demo = build_demo(args.out_dir, seed=args.seed)
    for path in demo.paths:
        print(f" - {path}")
    print(f"[DONE] demo audio in {args.out_dir}; next: drumgenx run {args.out_dir} --out output")


DEMO = Command(
    "demo",
    help="build the demo audio (a song, a loop, found sounds) from the bundled kit",
    description="Write demo_song.wav (drums under a synthesized bass and pad bed), "
    "drum_loop.wav and found_sounds/ into OUT_DIR, for drumgenx run.",
    add_arguments=add_demo_arguments,
    run=demo_command,
)


# --- kit ---------------------------------------------------------------------------------


def add_kit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kit_dir", default=KitSettings.kit_dir, help="(default: %(default)s)")
    parser.add_argument("--out_dir", required=True, help="where pools_N.json goes")


def kit_command(args: argparse.Namespace) -> None:
    from drumgenx.kit.run import write_kit_and_pools

    result = write_kit_and_pools(kit_dir=args.kit_dir, out_dir=args.out_dir)
    for path in result.created:
        print(f" - synthesized {path}")
    print(f"[DONE] kit in {args.kit_dir}; pools: {result.pools_path}")


KIT = Command(
    "kit",
    help="synthesize the bundled one-shot kit and write pools_N.json for it",
    description="Synthesize any missing voice of the bundled kit into --kit_dir "
    "(existing files are kept) and write pools_N.json for it in --out_dir.",
    add_arguments=add_kit_arguments,
    run=kit_command,
)


# --- export-kit --------------------------------------------------------------------------


def add_export_kit_arguments(parser: argparse.ArgumentParser) -> None:
    d = KitExportSettings()
    parser.add_argument(
        "--run",
        metavar="OUT",
        help="a drumgenx run's --out folder (its newest run_N.json) or a run_N.json: the kit "
        "of its final loop, with its pools, grid, swing and library",
    )
    parser.add_argument("--pools_json", help="stage 2's pools_N.json (needed without --run)")
    parser.add_argument(
        "--events", help="a loop's event grid: every sample it plays goes in the kit"
    )
    parser.add_argument("--grid", help="the grid_N.json --events was made on (with --events)")
    parser.add_argument(
        "--swing",
        type=float,
        help="with --events: the swing the loop MIDI is written with, 0..0.75 "
        f"(default: {RenderSettings.swing:g})",
    )
    parser.add_argument("--out_dir", required=True, help="where the kit folder goes")
    parser.add_argument("--name", default=d.name, help="kit name (default: %(default)s)")
    parser.add_argument(
        "--sample_root",
        help="where samples are looked for, as for rendering (with --run, before the run's "
        "library)",
    )
    parser.add_argument(
        "--per_role",
        type=int,
        default=d.per_role,
        help="samples per role at most, 1 or more; a role keeps every sample the loop plays "
        "even past it (default: %(default)s)",
    )


def export_kit_command(args: argparse.Namespace) -> None:
    from drumgenx.core.errors import DrumgenxError
    from drumgenx.kit.export import export_kit, export_run_kit

    options = {
        "out_dir": args.out_dir,
        "name": args.name,
        "sample_root": args.sample_root,
        "per_role": args.per_role,
        "notify": notice,
    }
    if args.run is not None:
        given = [
            f for f in ("pools_json", "events", "grid", "swing") if getattr(args, f) is not None
        ]
        if given:
            flags = ", ".join(f"--{f}" for f in given)
            raise DrumgenxError(
                f"--run takes the pools, loop, grid and swing from the run: drop {flags}"
            )
        kit = export_run_kit(args.run, **options)
    elif args.pools_json is None:
        raise DrumgenxError("name the pools: --pools_json FILE, or --run OUT for a run's")
    else:
        loop = {"events_json": args.events, "grid_json": args.grid}
        if args.swing is not None:
            loop["swing"] = args.swing
        kit = export_kit(pools_json=args.pools_json, **options, **loop)
    for role, samples in kit.samples.items():
        print(f" - {role}: {len(samples)} samples")
    print(f"[DONE] kit in {kit.folder}")
    print(f" - sfz: {kit.sfz}")
    print(f" - hydrogen: {kit.hydrogen}")
    if kit.midi is not None:
        keys = sorted(kit.keys.values())
        print(
            f" - loop: {kit.midi} ({kit.loop_samples} samples, each on its own key "
            f"{keys[0]}..{keys[-1]} in the sfz)"
        )


EXPORT_KIT = Command(
    "export-kit",
    help="write the role pools as a sampler kit (SFZ and Hydrogen drumkit.xml)",
    description="Copy each role's samples (most confident first) into a new "
    "OUT_DIR/NAME_kit_N/ named by role (CORE_01.wav, ...), with NAME.sfz and drumkit.xml: "
    "one instrument per role on its General MIDI key, its samples a round robin. For a "
    "loop (--run, or --events and --grid) the kit holds every sample the loop plays, "
    f"then the best of each pool; each sample also has its own key (from {FIRST_SAMPLE_KEY} "
    "up) in the SFZ, and NAME_loop.mid plays the loop on those keys.",
    add_arguments=add_export_kit_arguments,
    run=export_kit_command,
    flags={"events_json": "--events", "grid_json": "--grid"},  # export_kit's parameters
)
