"""The README cannot drift from the code.

Commands: every command line of the ``bash`` blocks of the README sections a user runs on
the demo (`SECTIONS`, from ``drumgenx demo`` on) runs verbatim, in order, in one temporary
folder, each in-process through `drumgenx.cli.main` as typed. A command that cannot run in a
test is listed in `NOT_RUN` by its exact text (shell-split, comments dropped, joined by
single spaces) with the reason, so a new README command is run by default. The stage
sections (1-4), the seed's per-stage runners on a folder of the user's own, run in
tests/test_readme_stage_commands.py.

Layout: every path the README's ``## Layout`` section names exists, and every module and
subpackage of ``src/drumgenx/`` is named there (a subpackage's modules in its entry).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import soundfile as sf
from readme_blocks import REPO_ROOT, readme_commands, section

from drumgenx.cli import main

SECTIONS = (
    "One command: `drumgenx run`",
    "Drum transcription: `drumgenx transcribe`",  # with its "Training the transcriber"
    "Exporting a kit",
    "Editor",
    "MIDI export",
    "Studio",
)

_GMD = "needs the Groove MIDI Dataset (../shared/data/gmd) and the SoundFonts apt-get installs"
_SERVER = "serves until Ctrl-C; tests/studio and tests/browser start the same server on a free port"
NOT_RUN = {
    "drumgenx studio output": _SERVER,
    "drumgenx studio output --port 0 --no-browser": _SERVER,
    "drumgenx run ~/Music/found_sounds --out output --bpm 96 --bars 8 --seed 7 --workers 2": (
        "the user's own folder under ~/Music"
    ),
    "drumgenx transcribe ~/Music/loops song.flac --out transcribed --model my_transcriber.npz": (
        "the user's own files and weights"
    ),
    "apt-get install -y --no-install-recommends fluidsynth fluid-soundfont-gm"
    " musescore-general-soundfont timgm6mb-soundfont csound-soundfont opl3-soundfont"
    " avldrums.lv2-soundfont hydrogen-drumkits hydrogen-data lmms-common": (
        "installs system packages (root, network)"
    ),
    ".venv/bin/drumgenx train corpus --gmd ../shared/data/gmd --out corpus --split validation"
    " --n 160 --seed 0 --workers 2": _GMD,
    ".venv/bin/drumgenx train corpus --gmd ../shared/data/gmd --out corpus --split train"
    " --n 4000 --seed 0 --workers 2": _GMD,
    ".venv/bin/drumgenx train transcriber --corpus corpus --out weights --seed 0 --threads 2"
    " --max_minutes 95 --eq_augment 0.5": "trains for 95 minutes on the corpus the two commands"
    " above build",
}


def test_the_sections_hold_the_demo_flow_and_the_allow_list_is_current() -> None:
    """Not vacuous: the demo, a run, each editor command and the exports are there; every
    command left out is still in the README (a stale entry would hide nothing)."""
    commands = readme_commands(SECTIONS)
    assert commands[:2] == ["drumgenx demo demo_audio", "drumgenx run demo_audio --out output"]
    edits = {c.split()[2] for c in commands if c.startswith("drumgenx edit ")}
    assert edits == {"set", "remove", "velocity", "render", "export-midi"}
    assert any(c.startswith("drumgenx export-kit ") for c in commands)
    assert any(c.startswith("drumgenx transcribe demo_audio/") for c in commands)
    assert set(NOT_RUN) <= set(commands), set(NOT_RUN) - set(commands)


def test_every_readme_command_runs_verbatim_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Every command not in `NOT_RUN` exits 0, in README order, in one fresh folder."""
    monkeypatch.chdir(tmp_path)
    outputs = []
    for command in readme_commands(SECTIONS):
        if command in NOT_RUN:
            continue
        argv = command.split()
        assert argv[0] == "drumgenx", f"cannot run in a test, list it in NOT_RUN: {command}"
        status = main(argv[1:])
        captured = capsys.readouterr()
        assert status == 0, f"{command}\n{captured.err}"
        assert "Traceback" not in captured.err, f"{command}\n{captured.err}"
        outputs.append(captured.out)
    text = "".join(outputs)

    out = tmp_path / "output"
    assert (out / "groove" / "render_groovae_1.wav").is_file()
    assert (tmp_path / "mixed" / "run_1.json").is_file()
    assert (tmp_path / "transcribed" / "demo_song.mid").is_file()
    assert (out / "mykit_kit_1" / "mykit.sfz").is_file()
    # the editor: the render finds the run's samples without --pools_json (a hit of a role
    # the loop lacks draws from the run's pools: tests/edit/test_editor_cli.py)
    assert "samples: pools output/roles/pools_1.json, library output/library_1" in text
    (render,) = (out / "groove").glob("render_edit_*.wav")
    audio, _ = sf.read(render)
    assert abs(audio).max() > 0
    assert list((out / "groove").glob("midi_edit_*.mid"))


# --- the Layout section ----------------------------------------------------------------------

PACKAGE = REPO_ROOT / "src" / "drumgenx"
_PY = re.compile(r"(?<![\w/.])([a-z_][a-z0-9_]*\.py)\b")
_DIR = re.compile(r"(?<![\w/.])([a-z_][a-z0-9_]*)/(?:\{([a-z0-9_,]+)\}/)?")


def layout() -> tuple[list[str], dict[str, str]]:
    """The repository paths at the left margin, and the package's entries (name -> text)."""
    block = section("Layout").split("```\n", 2)[1]
    top, entries, current = [], {}, None
    for line in block.splitlines():
        if line and not line[0].isspace():
            top.append(line.split()[0])
            current = None
        elif line.startswith("  ") and not line[2].isspace():
            current, _, rest = line[2:].partition(" ")
            entries[current] = rest
        elif current is not None:
            entries[current] += " " + line.strip()
    return top, entries


def test_every_path_the_layout_names_exists() -> None:
    top, entries = layout()
    assert "src/drumgenx/" in top and len(entries) > 10
    for path in top:
        assert (REPO_ROOT / path).exists(), path
    for name, text in entries.items():
        assert (PACKAGE / name).exists(), f"src/drumgenx/{name}"
        if not name.endswith("/"):
            continue  # a module's text names what it uses elsewhere
        for file in _PY.findall(text):
            assert (PACKAGE / name / file).is_file(), f"src/drumgenx/{name}{file}"
        for folder, inner in _DIR.findall(text):
            for sub in inner.split(",") if inner else [""]:
                path = PACKAGE / name / folder / sub
                assert path.is_dir(), f"src/drumgenx/{name}{folder}/{sub}"


def test_every_top_level_folder_is_in_the_layout() -> None:
    """Each folder git tracks at the top of the checkout starts a line of the Layout."""
    listed = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    folders = {path.split("/")[0] for path in listed if "/" in path}
    top = {path.split("/")[0] for path in layout()[0]}
    assert sorted(folders - top) == []


def test_every_module_and_subpackage_is_in_the_layout() -> None:
    _, entries = layout()
    for path in sorted(PACKAGE.glob("*.py")):
        assert path.name in entries, f"src/drumgenx/{path.name} is not in README's Layout"
    for package in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()):
        text = entries.get(package.name + "/")
        assert text is not None, f"src/drumgenx/{package.name}/ is not in README's Layout"
        for module in sorted(package.glob("*.py")):
            if module.name != "__init__.py":
                assert re.search(rf"(?<!\w){re.escape(module.stem)}(?!\w)", text), (
                    f"src/drumgenx/{package.name}/{module.name} is not named in its Layout entry"
                )
