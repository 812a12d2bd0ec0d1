"""The ``drumgenx`` command: one subcommand per stage, plus the editor and the kit.

Only argparse is imported at start-up; each handler imports its stage when it runs, so
``drumgenx --help`` answers at once. A `DrumgenxError` (or an `OSError`: a full disk, a
permission) becomes one line on stderr and exit status 2; Ctrl-C exits 130 (outputs are
written atomically, so nothing half-written stays).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from drumgenx.core.roles import ROLES  # no heavy imports behind it

EXIT_USER_ERROR = 2
ONSET_METHODS = ("flux", "learned", "transcribe")
EXIT_INTERRUPTED = 130


def notice(message: str) -> None:
    print(f"drumgenx: notice: {message}", file=sys.stderr)


def guarded(handler: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> int:
    """Run a handler, turning user errors and Ctrl-C into one line and an exit status."""
    from drumgenx.core.errors import DrumgenxError

    try:
        handler(args)
    except DrumgenxError as exc:
        print(f"drumgenx: error: {exc}", file=sys.stderr)
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


# --- stage 1: preprocess ------------------------------------------------------------------


def add_preprocess_arguments(
    parser: argparse.ArgumentParser, *, dataset_root: str | None, output_root: str
) -> None:
    """Stage-1 flags; the runner passes its DATASET_ROOT / OUTPUT_ROOT settings as defaults."""
    parser.add_argument(
        "--dataset_root",
        default=dataset_root,
        required=dataset_root is None,
        help="folder of audio, searched recursively"
        + (f" (default: {dataset_root})" if dataset_root else ""),
    )
    parser.add_argument(
        "--output_root",
        default=output_root,
        help=f"one-shot library folder (default: {output_root})",
    )
    parser.add_argument(
        "--separator",
        choices=("auto", "demucs", "hpss", "none"),
        help="drum-stem separation: auto tries Demucs and falls back to HPSS (default: auto)",
    )
    parser.add_argument("--demucs_model", help="Demucs model name (default: htdemucs)")
    parser.add_argument("--demucs_repo", help="folder of local Demucs weights (offline use)")
    parser.add_argument(
        "--onset_method",
        choices=ONSET_METHODS,
        help="hit detector: multi-band spectral flux, the learned activation trained on GMD "
        "renders, or the drum transcriber (on the original audio; records each hit's drum "
        "class probabilities) (default: transcribe)",
    )
    parser.add_argument(
        "--transcriber_weights",
        metavar="WEIGHTS.npz",
        help="--onset_method transcribe: the transcriber's weights (default: the shipped ones)",
    )
    parser.add_argument("--workers", type=int, default=1, help="files in parallel (default: 1)")
    parser.add_argument(
        "--force", action="store_true", help="re-process files an earlier run already processed"
    )
    parser.add_argument("--config", help="YAML overriding any setting (see --print_config)")
    parser.add_argument(
        "--print_config", action="store_true", help="print every setting as YAML and exit"
    )


def _progress_printer(label: str, *, unit: str = " files", finish_line: bool = True):
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


def run_preprocess_command(args: argparse.Namespace) -> None:
    from drumgenx.core.config import config_to_yaml, load_config
    from drumgenx.preprocess.config import PreprocessConfig, with_overrides
    from drumgenx.preprocess.run import run_preprocess

    separation = {
        "method": args.separator,
        "demucs_model": args.demucs_model,
        "demucs_repo": args.demucs_repo,
    }
    config = with_overrides(
        load_config(args.config, PreprocessConfig),
        separation={k: v for k, v in separation.items() if v is not None},
        onset_method=args.onset_method,
        transcriber_weights=args.transcriber_weights,
    )
    if args.print_config:
        print(config_to_yaml(config), end="")
        return
    summary = run_preprocess(
        dataset_root=args.dataset_root,
        output_root=args.output_root,
        config=config,
        workers=args.workers,
        force=args.force,
        progress=_progress_printer("preprocess"),
        notify=notice,
    )
    for report in summary.reports:
        if report.status == "skipped":
            notice(f"skipped {report.source}: {report.reason}")
    skipped = ", ".join(f"{n} {why}" for why, n in summary.skipped.items()) or "none"
    print(f"[DONE] preprocess in {summary.seconds:.1f} s")
    print(
        f" - files read: {summary.files_read}; skipped: {skipped}; "
        f"already processed: {summary.already_processed}"
    )
    print(
        f" - hits found: {summary.hits_found}; duplicates removed: "
        f"{summary.duplicates_removed}; samples written: {len(summary.samples)}"
    )
    if summary.manifest:
        print(f" - manifest: {summary.manifest}")


# --- transcribe -----------------------------------------------------------------------------


def run_transcribe_command(args: argparse.Namespace) -> None:
    from drumgenx.core.errors import DrumgenxError
    from drumgenx.transcribe.run import transcribe_files

    summary = transcribe_files(
        args.audio,
        out_dir=args.out,
        model_path=args.model,
        progress=_progress_printer("transcribe"),
    )
    for source, reason in summary.skipped:
        notice(f"skipped {source}: {reason}")
    if not summary.files:
        raise DrumgenxError(
            f"no input could be transcribed ({len(summary.skipped)} skipped, reasons above)"
        )
    skipped = ", ".join(f"{n} {why}" for why, n in summary.skipped_counts.items()) or "none"
    print(f"[DONE] transcribe in {summary.seconds:.1f} s")
    print(f" - files transcribed: {len(summary.files)}; skipped: {skipped}")
    for done in summary.files:
        tempo = f"{done.tempo_bpm:.1f} bpm" if done.tempo_bpm else "tempo unknown (120 in MIDI)"
        hits = f"{done.hits} hit" + ("" if done.hits == 1 else "s")
        print(f" - {done.source}: {hits}, {tempo} -> {done.midi}, {done.hits_json}")


# --- stage 2: roles -----------------------------------------------------------------------


ROLE_CONFIG_HELP = (
    "a role config in the format of stage2_role_assignment/configs/role_assignment.yaml, "
    "only the keys it changes (default: that file in a checkout, else the same defaults "
    "shipped with the package; drumgenx config show roles prints them)"
)
PROMPTS_HELP = (
    "CLAP prompts in the format of stage2_role_assignment/prompts/prompts.yaml, only the "
    "roles it changes (default: that file in a checkout, else the shipped prompts)"
)


def add_roles_arguments(parser: argparse.ArgumentParser) -> None:
    """The seed's stage-2 flags (shared by ``drumgenx roles`` and the runner)."""
    from drumgenx.roles.settings import RolesSettings  # a dataclass: no heavy imports

    d = RolesSettings()
    parser.add_argument("--input_dir", required=True, help="folder of one-shots (stage 1's)")
    parser.add_argument("--out_dir", required=True, help="where pools_N.json goes")
    parser.add_argument(
        "--limit",
        type=int,
        default=d.limit,
        help="files to score, drawn at random with --seed; 0 = all (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=d.seed, help="for --limit (default: %(default)s)"
    )
    parser.add_argument("--config", metavar="FILE", help=ROLE_CONFIG_HELP)
    parser.add_argument("--prompts", metavar="FILE", help=PROMPTS_HELP)
    parser.add_argument(
        "--alpha",
        type=float,
        help="rule weight in the fusion, 0..1 (default: the role config's fusion.alpha)",
    )
    parser.add_argument(
        "--clap_model",
        help="CLAP checkpoint folder, or a hub name found in the local cache "
        f"(default: {d.clap_model})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=d.workers,
        help="processes for the per-file work (default: %(default)s)",
    )


def run_roles_command(args: argparse.Namespace) -> None:
    from drumgenx.roles.run import run_roles

    result = run_roles(
        input_dir=args.input_dir,
        out_dir=args.out_dir,
        limit=args.limit,
        seed=args.seed,
        config_path=args.config,
        prompts_path=args.prompts,
        alpha=args.alpha,
        clap_model=args.clap_model,
        workers=args.workers,
        progress=_progress_printer("roles"),
        notify=notice,
    )
    for path, reason in result.skipped:
        notice(f"skipped {path}: {reason}")
    counts = {}
    for score in result.scores:
        counts[score.role] = counts.get(score.role, 0) + 1
    summary = ", ".join(f"{role} {counts.get(role, 0)}" for role in ROLES)
    print(f"[DONE] roles for {len(result.scores)} one-shots (CLAP: {result.clap}): {summary}")
    print(f" - pools: {result.pools_path}")
    print(f" - per sample: {result.per_sample_path}")


# --- stage 3: skeleton ---------------------------------------------------------------------


def add_skeleton_arguments(parser: argparse.ArgumentParser, *, extended: bool) -> None:
    """The seed's stage-3 flags and defaults; ``extended`` adds the render options."""
    parser.add_argument(
        "--pools_json",
        default="random",
        help='pools_N.json from stage 2, or "random" to deal the files under --sample_root '
        "to roles at random (seeded) (default: random)",
    )
    parser.add_argument("--out_dir", required=True, help="output folder (created if needed)")
    parser.add_argument("--bpm", type=float, required=True, help="tempo in beats per minute")
    parser.add_argument("--bars", type=int, default=4, help="pattern length (default: 4)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument(
        "--motion_mode",
        choices=("A", "B"),
        default="B",
        help="A: the same eighth-note hats every bar; B: weighted 16th hats redrawn per bar "
        "(default: B)",
    )
    parser.add_argument(
        "--motion_keep", type=int, default=6, help="MOTION hits per bar, 4..8 (default: 6)"
    )
    parser.add_argument(
        "--fill_prob",
        type=float,
        default=0.25,
        help="chance of a fill closing each 4-bar phrase (default: 0.25)",
    )
    parser.add_argument(
        "--texture",
        type=int,
        choices=(0, 1),
        default=1,
        help="1: a TEXTURE bed from bar 0 for 16 steps (default: 1)",
    )
    parser.add_argument(
        "--sample_root",
        default="examples/input_samples",
        help="where sample files are looked up (default: examples/input_samples)",
    )
    parser.add_argument(
        "--render_sr",
        type=int,
        default=_render_defaults().sr,
        help="render sample rate, 8000..192000 (default: %(default)s)",
    )
    if extended:
        add_render_options(parser)
        parser.add_argument("--no_render", action="store_true", help="write JSON only")


def _render_defaults():  # -> render.settings.RenderSettings (a dataclass: no heavy imports)
    from drumgenx.render.settings import RenderSettings

    return RenderSettings()


def add_tails_option(parser: argparse.ArgumentParser, *, loop: bool) -> None:
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
    d = _render_defaults()
    parser.add_argument(
        "--swing",
        type=float,
        default=d.swing,
        help="delay of off-beat 16ths in steps, 0..0.75; 0.33 ~ MPC 66%% (default: %(default)g)",
    )
    add_tails_option(parser, loop=d.loop)
    parser.add_argument(
        "--skip_missing",
        action="store_true",
        help="render without missing or unreadable samples (with a notice) instead of failing",
    )


def _render_options(args: argparse.Namespace) -> dict[str, object]:
    """The render flags a parser has (the seed's runners have none): the rest keep the
    library's defaults (`RenderSettings`)."""
    return {k: getattr(args, k) for k in ("swing", "loop", "skip_missing") if hasattr(args, k)}


def run_skeleton_command(args: argparse.Namespace) -> None:
    from drumgenx.skeleton.patterns import SkeletonParams
    from drumgenx.skeleton.run import run_skeleton

    params = SkeletonParams(
        bars=args.bars,
        seed=args.seed,
        motion_mode=args.motion_mode,
        motion_keep=args.motion_keep,
        fill_prob=args.fill_prob,
        texture=bool(args.texture),
    )
    run = run_skeleton(
        out_dir=args.out_dir,
        bpm=args.bpm,
        pools_json=args.pools_json,
        params=params,
        sample_root=args.sample_root,
        render=not getattr(args, "no_render", False),
        render_sr=args.render_sr,
        **_render_options(args),
    )
    for line in run.notices:
        notice(line)
    print(f"[DONE] grid & skeleton, version {run.version}")
    for family, path in run.paths.items():
        print(f" - {family}: {path}")


# --- stage 4: groove -----------------------------------------------------------------------


def add_groove_arguments(parser: argparse.ArgumentParser, *, extended: bool) -> None:
    """Stage-4 flags (``drumgenx groove`` and the runner); ``extended`` adds render options."""
    parser.add_argument("--grid_json", required=True, help="grid_N.json from stage 3")
    parser.add_argument(
        "--events_json", required=True, help="event_grid_N.json (or an edited one) on that grid"
    )
    parser.add_argument(
        "--pools_json", required=True, help="pools_N.json: samples for new hits and the render"
    )
    parser.add_argument("--out_dir", required=True, help="output folder (created if needed)")
    parser.add_argument(
        "--mode",
        choices=("humanize", "vary"),
        default="humanize",
        help="humanize: the same hits with a drummer's velocities and micro-timing; vary: the "
        "model may also add and remove hits (default: humanize)",
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=0.5,
        help="vary: sampling temperature, 0 (the model's closest reconstruction of the input) "
        "to 1 (free sampling) or more (default: 0.5)",
    )
    parser.add_argument("--seed", type=int, default=42, help="vary: random seed (default: 42)")
    parser.add_argument(
        "--model",
        help="folder with model.pt and config.json (default: the weights shipped for --mode)",
    )
    parser.add_argument("--render", action="store_true", help="also write render_groovae_N.wav")
    parser.add_argument(
        "--sample_root", help="folder to look for samples in when rendering (by file name or id)"
    )
    if extended:
        add_render_options(parser)


def run_groove_command(args: argparse.Namespace) -> None:
    from drumgenx.groove.run import run_groove

    result = run_groove(
        grid_json=args.grid_json,
        events_json=args.events_json,
        pools_json=args.pools_json,
        out_dir=args.out_dir,
        mode=args.mode,
        temperature=args.temperature,
        seed=args.seed,
        model_dir=args.model,
        render=args.render,
        sample_root=args.sample_root,
        **_render_options(args),
    )  # no progress display: a run takes seconds, and an error stays the only line
    for line in result.notices:
        notice(line)
    changes = (
        f": {result.added} hits added, {result.removed} removed" if args.mode == "vary" else ""
    )
    print(f"[DONE] groove ({args.mode}), version {result.version}{changes}")
    for family, path in result.paths.items():
        print(f" - {family}: {path}")


def run_train_groovae_command(args: argparse.Namespace) -> None:
    """``drumgenx train-groovae``: deprecated, ``drumgenx train groove`` with its defaults."""
    from drumgenx.training.commands import run_groove

    notice("train-groovae is deprecated; use drumgenx train groove (same flags)")
    run_groove(args)


# --- editor --------------------------------------------------------------------------------


def _selection(args: argparse.Namespace):  # -> edit.operations.Selection
    from drumgenx.edit.operations import Selection, parse_index_list

    return Selection(
        bars=parse_index_list(args.bar, name="bar") if args.bar else None,
        steps=parse_index_list(args.step, name="step", upper=16) if args.step else None,
        roles=frozenset(args.role) if args.role else None,
    )


def _report(out) -> None:  # out: render.run.Output
    for line in out.notices:
        notice(line)
    print(f"[DONE] wrote {out.path}")


def _write_edit(args: argparse.Namespace, operation) -> None:
    from drumgenx.edit.run import edit_file

    path = edit_file(args.events, operation, out_dir=args.out_dir)
    print(f"[DONE] wrote {path} (the original {args.events} is unchanged)")


# the CLI's names for the editor library's parameters, in its error lines
_EDIT_FLAGS = {"sample_id": "--sample ID", "pools_json": "--pools_json FILE"}


def _edit_set(args: argparse.Namespace) -> None:
    from drumgenx.core.errors import DrumgenxError
    from drumgenx.edit.run import NoSampleError, set_hit_file

    try:
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
    except NoSampleError as exc:
        flags = " or ".join(_EDIT_FLAGS[name] for name in exc.needs)
        raise DrumgenxError(f"{exc.situation}; pass {flags}") from None
    print(f"[DONE] wrote {result.path} (the original {args.events} is unchanged)")
    if result.drawn is not None:
        drawn = result.drawn
        print(
            f" - {args.role} sample: {drawn.sample_id}, drawn from {drawn.pools_json} with "
            f"--seed {drawn.seed} (the events held no {args.role} hit)"
        )


def _edit_remove(args: argparse.Namespace) -> None:
    from drumgenx.edit.operations import remove_hits

    selection = _selection(args)
    _write_edit(args, lambda events: remove_hits(events, selection))


def _edit_velocity(args: argparse.Namespace) -> None:
    from drumgenx.edit.operations import change_velocity

    selection = _selection(args)
    _write_edit(
        args, lambda events: change_velocity(events, selection, value=args.set, scale=args.scale)
    )


def _edit_render(args: argparse.Namespace) -> None:
    from drumgenx.core.layout import find_run_files
    from drumgenx.render.run import render_file

    pools_json, sample_root, found = args.pools_json, args.sample_root, None
    if pools_json is None and sample_root is None:  # a flag given: the flags decide
        found = find_run_files(args.events, args.grid)
        if found is not None:
            pools_json, sample_root = found.pools, found.library
    _report(
        render_file(
            args.events,
            args.grid,
            pools_json=pools_json,
            sample_root=sample_root,
            out_dir=args.out_dir,
            sr=args.render_sr,
            swing=args.swing,
            loop=args.loop,
            skip_missing=args.skip_missing,
        )
    )
    if found is not None:
        print(f" - samples: pools {found.pools}, library {found.library} (from {found.record})")


def _edit_export_midi(args: argparse.Namespace) -> None:
    from drumgenx.render.run import export_midi_file

    _report(
        export_midi_file(
            args.events, args.grid, out_dir=args.out_dir, swing=args.swing, note_overrides=args.note
        )
    )


def add_edit_parsers(parser: argparse.ArgumentParser) -> None:
    """The editor's subcommands; shared by ``drumgenx edit`` and ``stage1_drumgenx/editor.py``."""
    from drumgenx.edit.settings import POOL_SEED  # constants only: no heavy imports

    sub = parser.add_subparsers(dest="edit_command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, handler) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        p.add_argument("--events", required=True, help="event grid JSON to start from")
        p.add_argument("--out_dir", help="where to write (default: beside --events)")
        return p

    def selection_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--bar", help="bars, e.g. 0 or 0,2 or 0-3 (default: all)")
        p.add_argument("--step", help="steps 0..15, e.g. 4,12 or 0-7 (default: all)")
        p.add_argument(
            "--role",
            action="append",
            type=str.upper,
            choices=ROLES,
            help="repeatable (default: all)",
        )

    p = command("set", "add a hit, or replace the hit of that role on that step", _edit_set)
    p.add_argument("--bar", type=int, required=True, help="bar, from 0")
    p.add_argument("--step", type=int, required=True, help="step 0..15")
    p.add_argument("--role", required=True, type=str.upper, choices=ROLES)
    p.add_argument(
        "--sample",
        help="sample_id (default: the one the role uses most; with no hit of the role, one "
        "drawn with --seed from the role's pool in --pools_json)",
    )
    p.add_argument("--velocity", type=float, help="0..1 (default: the skeleton's accent)")
    p.add_argument("--offset_ms", type=float, default=0.0, help="micro-timing (default: 0)")
    p.add_argument(
        "--pools_json",
        help="pools to draw a sample from when the events hold no hit of the role (default: "
        "the pools of the `drumgenx run` whose output folder holds --events)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=POOL_SEED,
        help="for drawing a sample from the pools (default: %(default)s)",
    )

    p = command("remove", "remove the selected hits", _edit_remove)
    selection_flags(p)

    p = command("velocity", "set or scale the velocity of the selected hits", _edit_velocity)
    selection_flags(p)
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--set", type=float, help="new velocity 0..1")
    how.add_argument("--scale", type=float, help="multiply velocities (result capped at 1)")

    p = command("render", "render an event grid to a 24-bit WAV", _edit_render)
    p.add_argument("--grid", required=True, help="grid_N.json the events were made on")
    p.add_argument(
        "--pools_json",
        help="pools_N.json naming the sample files (default: with neither this nor "
        "--sample_root, the pools and library of the `drumgenx run` holding --events/--grid)",
    )
    p.add_argument("--sample_root", help="folder to look for samples in (by file name or id)")
    p.add_argument(
        "--render_sr",
        type=int,
        default=_render_defaults().sr,
        help="sample rate (default: %(default)s)",
    )
    add_render_options(p)

    p = command("export-midi", "write a General MIDI drum file (channel 10)", _edit_export_midi)
    p.add_argument("--grid", required=True, help="grid_N.json the events were made on")
    p.add_argument("--swing", type=float, default=0.0, help="as for render (default: 0)")
    p.add_argument(
        "--note",
        action="append",
        metavar="ROLE=KEY",
        help="override a role's MIDI key, e.g. FILL=47 (default: CORE=36 ACCENT=38 "
        "MOTION=42 FILL=45 TEXTURE=52)",
    )


# --- bundled kit ---------------------------------------------------------------------------


def _kit(args: argparse.Namespace) -> None:
    from drumgenx.kit.run import write_kit_and_pools

    result = write_kit_and_pools(kit_dir=args.kit_dir, out_dir=args.out_dir)
    for path in result.created:
        print(f" - synthesized {path}")
    print(f"[DONE] kit in {args.kit_dir}; pools: {result.pools_path}")


def _export_kit(args: argparse.Namespace) -> None:
    from drumgenx.core.errors import DrumgenxError
    from drumgenx.kit.export import export_kit, export_run_kit

    options = {
        "out_dir": args.out_dir,
        "name": args.name,
        "sample_root": args.sample_root,
        "per_role": args.per_role,
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
    for line in kit.notices:
        notice(line)
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


# --- the whole chain ----------------------------------------------------------------------


def _chain_progress():
    """One progress line for the whole run: ``[2/4 roles]: 37/120  file``."""
    from drumgenx.chain.run import STAGES

    printers: dict[str, Callable[[int, int, str], None]] = {}

    def show(stage: str, done: int, total: int, item: str) -> None:
        if stage not in printers:
            label = f"[{STAGES.index(stage) + 1}/{len(STAGES)} {stage}]"
            printers[stage] = _progress_printer(label, unit="", finish_line=False)
        printers[stage](done, total, item)

    return show, sys.stderr.isatty()


def _stage_line(result) -> str:  # result: chain.run.StageResult
    s = result.summary
    details = {
        "preprocess": lambda: (
            f"{s['samples']} one-shots from {s['files_read']} files "
            f"({s['hits_found']} hits, {s['duplicates_removed']} duplicates dropped)"
        ),
        "roles": lambda: ", ".join(f"{role} {n}" for role, n in s["roles"].items()),
        "skeleton": lambda: f"pattern {s['version']}",
        "groove": lambda: f"version {s['version']}",
    }[result.stage]()
    how = "reused" if result.reused else f"{result.seconds:.1f} s"
    return f"{result.stage}: {details} ({how})"


RUN_FLAGS = {"loop": "--tails", "role_config": "--config"}
"""`ChainParams` fields whose flag is not ``--FIELD`` (for ``config show``)."""


def _chain_params(args: argparse.Namespace):  # -> (chain.run.ChainParams, {field: flag})
    """The run's settings from its flags, and the flag behind each setting not at its
    default (for ``config show``)."""
    from dataclasses import fields

    from drumgenx.chain.run import ChainParams

    default = ChainParams()
    values = {f.name: getattr(args, f.name) for f in fields(ChainParams) if f.name != "role_config"}
    params = ChainParams(**values, role_config=args.config)
    flags = {
        f.name: RUN_FLAGS.get(f.name, f"--{f.name}")
        for f in fields(ChainParams)
        if getattr(params, f.name) != getattr(default, f.name)
    }
    return params, flags


def run_chain_command(args: argparse.Namespace) -> None:
    from drumgenx.chain.run import run_chain

    params, _ = _chain_params(args)
    progress, tty = _chain_progress()

    def clear_progress() -> None:
        if tty:  # a notice or a summary takes the progress line's place
            print("\r\033[K", end="", file=sys.stderr)

    def on_stage(result) -> None:
        clear_progress()
        print(_stage_line(result), flush=True)

    def chain_notice(message: str) -> None:
        clear_progress()
        notice(message)

    run = run_chain(
        args.inputs,
        out=args.out,
        params=params,
        from_stage=args.from_stage,
        progress=progress,
        on_stage=on_stage,
        notify=chain_notice,
    )
    print(f"[DONE] {run.record}")
    print(f" - loop: {run.wav}")
    print(f" - midi: {run.midi}")
    print(f" - step grid: {run.output('groove', 'grid_picture')}")
    print(f" - library map: {run.output('groove', 'library_map')}")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    from drumgenx.chain.run import STAGES

    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="audio file(s) and/or folder(s) of audio (searched recursively), any kind",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="output folder for every stage's files (created if needed; not inside an input)",
    )
    add_run_settings(parser)
    parser.add_argument(
        "--from-stage",
        "--from_stage",
        dest="from_stage",
        choices=STAGES,
        help="re-run this stage and the later ones even if their results could be reused",
    )


def add_run_settings(parser: argparse.ArgumentParser) -> None:
    """The flags of ``drumgenx run`` that are settings (``run`` and ``config show``)."""
    from drumgenx.chain.run import ChainParams  # dataclass only: no heavy imports

    d = ChainParams()
    parser.add_argument(
        "--bpm", type=float, default=d.bpm, help=f"tempo, 20..999 (default: {d.bpm:g})"
    )
    parser.add_argument(
        "--bars",
        type=int,
        default=d.bars,
        help="loop length in bars, 1 or more (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=d.seed, help="random seed (default: %(default)s)"
    )
    parser.add_argument(
        "--mode",
        choices=("humanize", "vary"),
        default=d.mode,
        help="GrooVAE: humanize keeps the hits, vary may add and remove hits "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=d.temperature,
        help="--mode vary only: sampling temperature, 0 or more; 0 the model's closest "
        "reconstruction, 1 free sampling (default: %(default)s)",
    )
    parser.add_argument(
        "--swing",
        type=float,
        default=d.swing,
        help="delay of off-beat 16ths in steps, 0..0.75; 0.33 ~ MPC 66%% (default: 0)",
    )
    add_tails_option(parser, loop=d.loop)
    parser.add_argument(
        "--separator",
        choices=("auto", "demucs", "hpss", "none"),
        help="stage 1 drum separation (default: auto, Demucs with the HPSS fallback)",
    )
    parser.add_argument(
        "--onset_method",
        choices=ONSET_METHODS,
        help="stage 1 hit detector: flux (multi-band spectral flux), learned (an activation "
        "trained on GMD renders) or transcribe (the drum transcriber) (default: transcribe)",
    )
    parser.add_argument(
        "--transcriber_weights",
        metavar="WEIGHTS.npz",
        help="--onset_method transcribe: the transcriber's weights (default: the shipped ones)",
    )
    parser.add_argument("--config", metavar="FILE", help=f"stage 2: {ROLE_CONFIG_HELP}")
    parser.add_argument("--prompts", metavar="FILE", help=f"stage 2: {PROMPTS_HELP}")
    parser.add_argument("--clap_model", help="CLAP checkpoint folder or cached hub name")
    parser.add_argument(
        "--workers", type=int, default=d.workers, help="processes (default: %(default)s)"
    )


def _config_show(args: argparse.Namespace) -> None:
    from drumgenx.chain.settings import show_settings

    params, flags = _chain_params(args)
    print(show_settings(params, flags=flags, stage=args.stage), end="")


def _demo(args: argparse.Namespace) -> None:
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


# --- entry point ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from drumgenx import __version__

    parser = argparse.ArgumentParser(
        prog="drumgenx",
        description="Turn any pile of audio into playable, human-feeling drum loops.",
    )
    parser.add_argument("--version", action="version", version=f"drumgenx {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "run",
        help="all four stages in one go: audio folder -> humanized loop (WAV + MIDI)",
        description="Run preprocess, roles, skeleton and groove in order, every stage's "
        "files under --out; stages already done for the same inputs and settings are reused.",
    )
    add_run_arguments(p)
    p.set_defaults(handler=run_chain_command)

    from drumgenx.chain.settings import SECTIONS  # no heavy imports

    p = sub.add_parser(
        "config",
        help="show the settings drumgenx run uses and where each came from",
        description="Settings of drumgenx run, stage by stage.",
    )
    actions = p.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = actions.add_parser(
        "show",
        help="print the settings drumgenx run would use, each with its source",
        description="Print the settings drumgenx run would use with these flags, as YAML, "
        "each value followed by where it came from: default (the stage's own; for roles the "
        "files shipped with the package), drumgenx run (the run's own default), a file (the "
        "role config or prompts read over the defaults) or a flag.",
    )
    show.add_argument(
        "stage",
        nargs="?",
        choices=SECTIONS,
        metavar="STAGE",
        help=f"one of {', '.join(SECTIONS)} (default: all)",
    )
    add_run_settings(show)
    show.set_defaults(handler=_config_show)

    p = sub.add_parser(
        "demo",
        help="build the demo audio (a song, a loop, found sounds) from the bundled kit",
        description="Write demo_song.wav (drums under a synthesized bass and pad bed), "
        "drum_loop.wav and found_sounds/ into OUT_DIR, for drumgenx run.",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="new files only; nothing is overwritten")
    p.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    p.set_defaults(handler=_demo)

    p = sub.add_parser(
        "preprocess",
        help="stage 1: audio folder -> de-duplicated one-shots (dummy_NNNNN.wav)",
        description="Stage 1: separate drums, detect hits, slice, de-duplicate; write "
        "dummy_NNNNN.wav and manifest_N.json under --output_root.",
    )
    add_preprocess_arguments(p, dataset_root=None, output_root="dummy_dataset")
    p.set_defaults(handler=run_preprocess_command)

    p = sub.add_parser(
        "transcribe",
        help="transcribe drums: audio -> General MIDI drums (.mid) and hits (.hits.json)",
        description="Find every drum hit in each audio file (a drum track or a full mix) "
        "with the drum transcriber; write OUT/<name>.mid (channel 10, the estimated tempo) "
        "and OUT/<name>.hits.json (times, strengths, class probabilities). Existing files "
        "are never replaced: a new <name>_N pair is written instead.",
    )
    p.add_argument("audio", nargs="+", metavar="AUDIO", help="audio files or folders")
    p.add_argument("--out", required=True, help="output folder (created if needed)")
    p.add_argument(
        "--model", metavar="WEIGHTS.npz", help="transcriber weights (default: the shipped ones)"
    )
    p.set_defaults(handler=run_transcribe_command)

    p = sub.add_parser(
        "roles",
        help="stage 2: give each one-shot a role (CORE, ACCENT, MOTION, FILL, TEXTURE)",
        description="Stage 2: DSP rules + CLAP + a learned scorer, fused with guards; writes "
        "pools_N.json and per_sample_N.json under --out_dir.",
    )
    add_roles_arguments(p)
    p.set_defaults(handler=run_roles_command)

    p = sub.add_parser(
        "skeleton",
        help="stage 3: beat grid, rule-based skeleton, WAV render",
        description="Stage 3: write grid_N.json, event_grid_N.json, skeleton_meta_N.json "
        "and render_N.wav (same N) under --out_dir.",
    )
    add_skeleton_arguments(p, extended=True)
    p.set_defaults(handler=run_skeleton_command)

    p = sub.add_parser(
        "groove",
        help="stage 4: GrooVAE humanizes (or varies) an event grid",
        description="Stage 4: write event_grid_groovae_N.json (and with --render "
        "render_groovae_N.wav, same N) under --out_dir.",
    )
    add_groove_arguments(p, extended=True)
    p.set_defaults(handler=run_groove_command)

    from drumgenx.training.commands import add_train_parser  # light: no trainer imports
    from drumgenx.training.flags import add_model_arguments

    add_train_parser(sub)
    p = sub.add_parser(
        "train-groovae",
        help="deprecated: use drumgenx train groove",
        description="Deprecated alias of drumgenx train groove (same flags and defaults).",
    )
    add_model_arguments(p, "groove")
    p.set_defaults(handler=run_train_groovae_command)

    p = sub.add_parser(
        "edit",
        help="edit an event grid (set, remove, velocity), render it, export MIDI",
        description="Every edit writes event_grid_edit_N.json; the original is never touched.",
    )
    add_edit_parsers(p)

    p = sub.add_parser(
        "kit",
        help="synthesize the bundled one-shot kit and write pools_N.json for it",
        description="Synthesize any missing voice of the bundled kit into --kit_dir "
        "(existing files are kept) and write pools_N.json for it in --out_dir.",
    )
    p.add_argument("--kit_dir", default="examples/input_samples", help="(default: %(default)s)")
    p.add_argument("--out_dir", required=True, help="where pools_N.json goes")
    p.set_defaults(handler=_kit)

    from drumgenx.kit.settings import FIRST_SAMPLE_KEY, KitExportSettings  # no heavy imports

    kit = KitExportSettings()
    p = sub.add_parser(
        "export-kit",
        help="write the role pools as a sampler kit (SFZ and Hydrogen drumkit.xml)",
        description="Copy each role's samples (most confident first) into a new "
        "OUT_DIR/NAME_kit_N/ named by role (CORE_01.wav, ...), with NAME.sfz and drumkit.xml: "
        "one instrument per role on its General MIDI key, its samples a round robin. For a "
        "loop (--run, or --events and --grid) the kit holds every sample the loop plays, "
        f"then the best of each pool; each sample also has its own key (from {FIRST_SAMPLE_KEY} "
        "up) in the SFZ, and NAME_loop.mid plays the loop on those keys.",
    )
    p.add_argument(
        "--run",
        metavar="OUT",
        help="a drumgenx run's --out folder (its newest run_N.json) or a run_N.json: the kit "
        "of its final loop, with its pools, grid, swing and library",
    )
    p.add_argument("--pools_json", help="stage 2's pools_N.json (needed without --run)")
    p.add_argument("--events", help="a loop's event grid: every sample it plays goes in the kit")
    p.add_argument("--grid", help="the grid_N.json --events was made on (with --events)")
    p.add_argument(
        "--swing",
        type=float,
        help="with --events: the swing the loop MIDI is written with, 0..0.75 "
        f"(default: {_render_defaults().swing:g})",
    )
    p.add_argument("--out_dir", required=True, help="where the kit folder goes")
    p.add_argument("--name", default=kit.name, help="kit name (default: %(default)s)")
    p.add_argument(
        "--sample_root",
        help="where samples are looked for, as for rendering (with --run, before the run's "
        "library)",
    )
    p.add_argument(
        "--per_role",
        type=int,
        default=kit.per_role,
        help="samples per role at most, 1 or more; a role keeps every sample the loop plays "
        "even past it (default: %(default)s)",
    )
    p.set_defaults(handler=_export_kit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
