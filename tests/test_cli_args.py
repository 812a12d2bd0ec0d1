"""Each stage declares its own flags (``<stage>/cli_args.py``) with its dataclass's defaults;
``cli.py`` only assembles them (issue #12, section 2).

Every subcommand is parsed with its required flags only, and what comes out is compared
with the stage's settings dataclass and with the defaults of the library function the
command calls, so neither can drift from the flags. ``cli.py`` itself declares no flag and
no default, and every flag's help states its default and, for a number, its range.
"""

from __future__ import annotations

import argparse
import ast
import inspect
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from drumgenx.cli import build_parser

CLI = Path(__file__).resolve().parents[1] / "src" / "drumgenx" / "cli.py"


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def defaults_of(function) -> dict[str, object]:
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def test_preprocess_defaults_are_the_stage_settings() -> None:
    from drumgenx.preprocess.config import PreprocessConfig
    from drumgenx.preprocess.run import run_preprocess
    from drumgenx.preprocess.settings import (
        DEMUCS_MODEL,
        ONSET_METHOD,
        SEPARATOR,
        PreprocessRunSettings,
    )

    args = parse("preprocess", "--dataset_root", "in")
    d = PreprocessRunSettings()
    assert (args.output_root, args.workers) == (d.output_root, d.workers)
    assert args.workers == defaults_of(run_preprocess)["workers"]
    # None: the config's value, which the help states
    assert args.separator is args.demucs_model is args.onset_method is None
    config = PreprocessConfig()
    assert config.separation.method == SEPARATOR
    assert config.separation.demucs_model == DEMUCS_MODEL
    assert config.onsets.method == ONSET_METHOD


def test_roles_defaults_are_the_stage_settings() -> None:
    from drumgenx.roles.settings import RolesSettings

    args = parse("roles", "--input_dir", "i", "--out_dir", "o")
    d = RolesSettings()
    assert (args.limit, args.seed, args.workers) == (d.limit, d.seed, d.workers)
    assert args.clap_model is None  # run_roles then uses RolesSettings.clap_model


def test_skeleton_defaults_are_the_stage_settings() -> None:
    from drumgenx.render.settings import RenderSettings
    from drumgenx.skeleton.patterns import SkeletonParams
    from drumgenx.skeleton.run import run_skeleton
    from drumgenx.skeleton.settings import PatternSettings

    args = parse("skeleton", "--out_dir", "o", "--bpm", "120")
    pattern = {f.name: getattr(args, f.name) for f in fields(PatternSettings)}
    pattern["texture"] = bool(pattern["texture"])
    assert PatternSettings(**pattern) == PatternSettings()
    assert SkeletonParams(**pattern) == SkeletonParams()
    library = defaults_of(run_skeleton)
    assert (args.pools_json, args.sample_root) == (library["pools_json"], library["sample_root"])
    render = RenderSettings()
    assert (args.render_sr, args.swing, args.loop) == (render.sr, render.swing, render.loop)
    assert (args.render_sr, args.swing, args.loop) == (
        library["render_sr"],
        library["swing"],
        library["loop"],
    )


def test_groove_defaults_are_the_stage_settings() -> None:
    from drumgenx.groove.run import run_groove
    from drumgenx.groove.settings import GrooveSettings
    from drumgenx.render.settings import RenderSettings

    args = parse(
        "groove", "--grid_json", "g", "--events_json", "e", "--pools_json", "p", "--out_dir", "o"
    )
    d = GrooveSettings()
    assert (args.mode, args.temperature, args.seed) == (d.mode, d.temperature, d.seed)
    library = defaults_of(run_groove)
    assert (library["mode"], library["temperature"], library["seed"]) == (
        d.mode,
        d.temperature,
        d.seed,
    )
    assert (args.swing, args.loop) == (RenderSettings.swing, RenderSettings.loop)


def test_editor_defaults_are_the_library_defaults() -> None:
    from drumgenx.edit.run import set_hit_file
    from drumgenx.render.run import export_midi_file, render_file

    args = parse("edit", "set", "--events", "e", "--bar", "0", "--step", "0", "--role", "CORE")
    library = defaults_of(set_hit_file)
    assert (args.offset_ms, args.seed) == (library["micro_offset_ms"], library["seed"])
    args = parse("edit", "render", "--events", "e", "--grid", "g")
    library = defaults_of(render_file)
    assert (args.render_sr, args.swing, args.loop, args.skip_missing) == (
        library["sr"],
        library["swing"],
        library["loop"],
        library["skip_missing"],
    )
    args = parse("edit", "export-midi", "--events", "e", "--grid", "g")
    assert args.swing == defaults_of(export_midi_file)["swing"]


def test_kit_defaults_are_the_stage_settings() -> None:
    from drumgenx.kit.demo import build_demo
    from drumgenx.kit.settings import DemoSettings, KitExportSettings, KitSettings

    assert parse("kit", "--out_dir", "o").kit_dir == KitSettings().kit_dir
    assert parse("demo", "d").seed == DemoSettings().seed == defaults_of(build_demo)["seed"]
    args = parse("export-kit", "--out_dir", "o")
    d = KitExportSettings()
    assert (args.name, args.per_role) == (d.name, d.per_role)
    assert args.swing is None  # the loop's swing: export_kit's default


@pytest.mark.parametrize("argv", [["run", "in", "--out", "o"], ["config", "show"]])
def test_run_defaults_are_the_chain_settings(argv: list[str]) -> None:
    from drumgenx.chain.cli_args import chain_params
    from drumgenx.chain.run import ChainParams

    params, flags = chain_params(parse(*argv))
    assert params == ChainParams() and flags == {}


def test_run_and_the_stage_commands_share_one_declaration() -> None:
    """A flag ``drumgenx run`` shares with a stage command reads the same in both, but for
    the default, which is the run's (`ChainParams`)."""
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices

    def helps(name: str) -> dict[str, str]:
        return {a.option_strings[0]: a.help for a in commands[name]._actions if a.option_strings}

    run = helps("run")
    shared = {
        "preprocess": ("--separator", "--onset_method", "--transcriber_weights"),
        "roles": ("--config", "--prompts", "--clap_model"),
        "groove": ("--mode", "--temperature", "--swing", "--tails"),
        "skeleton": ("--bars",),
    }
    for stage, flags in shared.items():
        own = helps(stage)
        for flag in flags:
            assert run[flag] == own[flag], (stage, flag)


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, (*path, name))
        else:
            yield path, action


def _flags() -> list[tuple[str, argparse.Action]]:
    found = []
    for path, action in _walk(build_parser()):
        shown = action.option_strings and action.help != argparse.SUPPRESS
        if shown and not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            found.append((f"{' '.join(path)} {action.option_strings[0]}", action))
    return found


def test_every_flag_with_a_default_states_it() -> None:
    flags = _flags()
    assert len(flags) > 100
    silent = [
        name
        for name, action in flags
        if action.default not in (None, False) and not action.required
        if "(default: " not in (action.help or "")
    ]
    assert not silent, silent


UNCHECKED = {
    "edit render --render_sr",  # any rate the resampler takes: nothing checks a range
}


def test_every_number_flag_states_its_range() -> None:
    """A number's help says which values it takes (seeds take any integer)."""
    words = ("..", "or more", "at least", "more than", "from 0")
    rangeless = [
        name
        for name, action in _flags()
        if action.type in (int, float) and action.choices is None
        if not name.endswith("--seed") and name not in UNCHECKED
        if not any(word in (action.help or "") for word in words)
    ]
    assert not rangeless, rangeless


def test_cli_module_declares_no_flag_and_no_default() -> None:
    """``cli.py`` assembles: every flag and every default is its stage's."""
    tree = ast.parse(CLI.read_text(encoding="utf-8"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    declared = [
        node.lineno
        for node in calls
        if isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"
        if not any(isinstance(a, ast.Constant) and a.value == "--version" for a in node.args)
    ]
    defaults = [kw.value.lineno for node in calls for kw in node.keywords if kw.arg == "default"]
    assert not declared and not defaults, (declared, defaults)
    assert len(CLI.read_text(encoding="utf-8").splitlines()) < 150
