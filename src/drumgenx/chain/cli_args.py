"""``drumgenx run`` and ``drumgenx config show``: the run's flags, composed from the stages'.

Each setting of `ChainParams` that a stage command has too is declared once, by that stage
(``<stage>/cli_args.py``), and put here in the stage's argument group with the run's
default: the tempo, length and seed from the skeleton, the mode from the groove, the swing
and tails from the renderer, the separator and hit detector from preprocess, the role files
and CLAP checkpoint from roles; the engine flags (``--engine``, ``--scheduler``) from
`core.engine`, which stages 1 and 2 share. Light (argparse and dataclasses): ``drumgenx --help``
imports this; the stages are imported when the run starts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import fields

from drumgenx.chain.run import STAGES, ChainParams  # the dataclass: no heavy imports
from drumgenx.chain.settings import SECTIONS, show_settings
from drumgenx.core.config import Given, given, load_config
from drumgenx.core.console import Command, flag_notice, progress_printer
from drumgenx.core.engine import add_engine_arguments
from drumgenx.groove import cli_args as groove
from drumgenx.preprocess import cli_args as preprocess
from drumgenx.render import cli_args as render
from drumgenx.roles import cli_args as roles
from drumgenx.skeleton import cli_args as skeleton

__all__ = ["CONFIG", "RUN", "RUN_FLAGS", "add_run_settings", "chain_params"]

RUN_FLAGS = {"loop": "--tails", "role_config": "--config"}
"""`ChainParams` fields whose flag is not ``--FIELD`` (for ``config show``)."""
_DESTS = {"role_config": "config"}  # fields whose flag's dest has another name


def add_run_settings(parser: argparse.ArgumentParser) -> None:
    """The flags of ``drumgenx run`` that are settings (``run`` and ``config show``), each
    with `ChainParams`' default, grouped by the stage that declares it."""
    d = ChainParams()
    loop = parser.add_argument_group("the loop (stage 3, skeleton)")
    skeleton.add_bpm_argument(loop, default=d.bpm)
    skeleton.add_bars_argument(loop, default=d.bars)
    skeleton.add_pattern_argument(loop, default=d.pattern)
    skeleton.add_seed_argument(
        loop, default=d.seed, what="the skeleton's choices and --mode vary's sampling"
    )
    model = parser.add_argument_group("GrooVAE (stage 4, groove)")
    groove.add_mode_arguments(model, mode=d.mode, temperature=d.temperature)
    rendering = parser.add_argument_group("rendering (stages 3 and 4)")
    render.add_swing_argument(rendering, default=d.swing)
    render.add_tails_option(rendering, loop=d.loop)
    hits = parser.add_argument_group("hit detection (stage 1, preprocess)")
    preprocess.add_separator_argument(hits)
    preprocess.add_onset_arguments(hits)
    role_files = parser.add_argument_group("role assignment (stage 2, roles)")
    roles.add_role_files_arguments(role_files)
    roles.add_clap_model_argument(role_files)
    stage_files = parser.add_argument_group("stage files (stages 3 and 4)")
    stage_files.add_argument(
        "--skeleton_config",
        metavar="FILE",
        help="YAML as drumgenx skeleton --config: any of bars, seed, motion_mode, "
        "motion_keep, fill_prob, texture (only the keys it changes); a flag typed beats it",
    )
    stage_files.add_argument(
        "--groove_config",
        metavar="FILE",
        help="YAML as drumgenx groove --config: any of mode, temperature, seed, feel, drummer, "
        "style, played; a flag typed "
        "beats it. The run has one seed: a file's applies to both stages unless --seed is "
        "typed (two files with different seeds are an error)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        action=Given,
        default=d.workers,
        help="processes for stages 1 and 2, 1 or more (default: %(default)s)",
    )
    add_engine_arguments(parser)


def _stage_files(args: argparse.Namespace) -> tuple[dict[str, object], dict[str, str]]:
    """The `ChainParams` values the stage files (``--skeleton_config``, ``--groove_config``)
    set, and ``file <path>`` for each. A file's seed is the run's seed (``--seed`` typed
    beats it); two files naming different seeds are an error unless ``--seed`` is typed.

    Raises
    ------
    DrumgenxError
        A file cannot be read, names an unknown key or a wrong type (file and key); the two
        files disagree on the seed.
    """
    from drumgenx.core.config import read_settings_file
    from drumgenx.core.errors import DrumgenxError
    from drumgenx.groove.settings import GrooveSettings
    from drumgenx.skeleton.settings import PatternSettings

    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for path, cls in (
        (args.skeleton_config, PatternSettings),
        (args.groove_config, GrooveSettings),
    ):
        if path is None:
            continue
        settings = load_config(path, cls)
        for key in read_settings_file(path):  # the keys it names, checked by load_config
            value = getattr(settings, key)
            clash = key == "seed" and "seed" in values and values["seed"] != value
            if clash and "seed" not in given(args):  # a typed --seed settles it
                raise DrumgenxError(
                    f"{path}: seed {value} differs from {sources['seed'][5:]}'s "
                    f"{values['seed']}; drumgenx run has one seed (give --seed or one file's)"
                )
            values[key], sources[key] = value, f"file {path}"
    return values, sources


def chain_params(args: argparse.Namespace) -> tuple[ChainParams, dict[str, str]]:
    """The run's settings, and where each setting a flag or file gave came from (for
    ``config show``): the flag typed (``--bars``, even at the run's default), else the stage
    file that set it (``file PATH``), else a flag left at a value not the run's default.

    Layers: `ChainParams`' defaults, under the stage files (``--skeleton_config``,
    ``--groove_config``), under the flags typed (`given`), even at their default value.

    Raises
    ------
    DrumgenxError
        As `_stage_files`.
    """
    default = ChainParams()
    typed = given(args)
    from_files, file_sources = _stage_files(args)
    values = {
        f.name: getattr(args, f.name)
        for f in fields(ChainParams)
        if f.name != "role_config" and hasattr(args, f.name)
    }
    values.update({k: v for k, v in from_files.items() if k not in typed})
    params = ChainParams(**values, role_config=args.config)
    flags = {}
    for f in fields(ChainParams):
        flag = RUN_FLAGS.get(f.name, f"--{f.name}")
        if _DESTS.get(f.name, f.name) in typed:
            flags[f.name] = flag
        elif f.name in file_sources:
            flags[f.name] = file_sources[f.name]
        elif getattr(params, f.name) != getattr(default, f.name):
            flags[f.name] = flag
    return params, flags


# --- drumgenx run -------------------------------------------------------------------------


def _chain_progress() -> tuple[Callable[[str, int, int, str], None], bool]:
    """One progress line for the whole run: ``[2/4 roles]: 37/120  file``."""
    printers: dict[str, Callable[[int, int, str], None]] = {}

    def show(stage: str, done: int, total: int, item: str) -> None:
        if stage not in printers:
            label = f"[{STAGES.index(stage) + 1}/{len(STAGES)} {stage}]"
            printers[stage] = progress_printer(label, unit="", finish_line=False)
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
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


def main(args: argparse.Namespace) -> None:
    """Run the four stages on the parsed flags, a line per stage, then the final files."""
    from drumgenx.chain.run import run_chain

    params, _ = chain_params(args)
    progress, tty = _chain_progress()

    def clear_progress() -> None:
        if tty:  # a notice or a summary takes the progress line's place
            print("\r\033[K", end="", file=sys.stderr)

    def on_stage(result) -> None:
        clear_progress()
        print(_stage_line(result), flush=True)

    say = flag_notice(args)

    def chain_notice(message: str) -> None:
        clear_progress()
        say(message)

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


RUN = Command(
    "run",
    help="all four stages in one go: audio folder -> humanized loop (WAV + MIDI)",
    description="Run preprocess, roles, skeleton and groove in order, every stage's "
    "files under --out; stages already done for the same inputs and settings are reused.",
    add_arguments=add_arguments,
    run=main,
    flags={"num_bars": "--bars", **preprocess.CONFIG_FLAGS},  # build_grid's parameter
)


# --- drumgenx config show -----------------------------------------------------------------


def show_command(args: argparse.Namespace) -> None:
    params, flags = chain_params(args)
    values, sources = _stage_files(args)
    files = {name: (sources[name], value) for name, value in values.items()}
    print(show_settings(params, flags=flags, stage=args.stage, files=files), end="")


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = actions.add_parser(
        "show",
        help="print the settings drumgenx run would use, each with its source",
        description="Print the settings drumgenx run would use with these flags, as YAML, "
        "each value followed by where it came from: default (the stage's own; for roles the "
        "files shipped with the package), drumgenx run (the run's own default), a file (the "
        "role config or prompts read over the defaults), file PATH (--skeleton_config, "
        "--groove_config) or a flag typed.",
    )
    show.add_argument(
        "stage",
        nargs="?",
        choices=SECTIONS,
        metavar="STAGE",
        help=f"one of {', '.join(SECTIONS)} (default: all)",
    )
    add_run_settings(show)
    show.set_defaults(handler=show_command)


CONFIG = Command(
    "config",
    help="show the settings drumgenx run uses and where each came from",
    description="Settings of drumgenx run, stage by stage.",
    add_arguments=add_config_arguments,
)
