"""The README's stage sections cannot drift from the code (issue #12 §3).

Every command line of the ``bash`` blocks of the README's stage sections (`SECTIONS`: stage
1 to 4, the seed's per-stage runners and their ``drumgenx`` equivalents) runs verbatim, in
README order, in one temporary folder prepared as a user's: ``HOME`` is a temporary folder
whose ``Music/loops`` holds a little real audio (the demo's drum loop and found sounds), the
checkout's ``examples/`` and ``pipeline/`` are linked in (the runners' defaults and the
README's ``python pipeline/run_*.py`` are relative to a checkout), ``python`` is this
interpreter with ``PYTHONPATH=src`` (the README's ``python`` and ``drumgenx`` are the
virtual environment's), ``drumgenx`` the installed script beside it, ``~`` is expanded as a
shell would, and model hubs are offline. Each command runs as a subprocess, as typed.

Stage 3's block runs here too, because stage 4's commands read its ``grid_1.json`` and
``event_grid_1.json``, and ``grid_3.json`` / ``event_grid_3.json`` (the loop on stage 2's
pools, whose samples ``--render`` needs; tests/skeleton/test_run.py checks its outputs in
detail). The drum
transcription section between stages 1 and 2 runs on the demo's files in
tests/test_readme_commands.py and writes nothing the stages read.

A command that cannot run in a test is listed in `NOT_RUN` by its exact text (shell-split,
comments dropped, joined by single spaces) with the reason. A new README command is run by
default.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from readme_blocks import REPO_ROOT, readme_commands

from drumgenx.kit.demo import build_demo

SECTIONS = (
    "Stage 1: preprocess",
    "Stage 2: roles",
    "Stage 3: grid and skeleton",
    "Stage 4: groove",
)

_GMD = (
    "needs the Groove MIDI Dataset (../shared/data/gmd) and trains for 50 minutes"
    " (tests/groove/test_model.py runs `drumgenx train groove` on a tiny set)"
)
NOT_RUN = {
    "drumgenx train groove --gmd ../shared/data/gmd --task humanize"
    " --out models/groovae_humanize": _GMD,
    ".venv/bin/drumgenx train groove --gmd ../shared/data/gmd --task humanize --out DIR": _GMD,
    ".venv/bin/drumgenx train groove --gmd ../shared/data/gmd --task vary --out DIR": _GMD,
    ".venv/bin/drumgenx train humanizer --gmd ../shared/data/gmd --out humanizer.npz": (
        "needs the Groove MIDI Dataset (../shared/data/gmd) and trains for 12 minutes"
        " (tests/groove/test_humanizer.py trains on a tiny set)"
    ),
    "apt-get install -y --no-install-recommends fluidsynth fluid-soundfont-gm"
    " musescore-general-soundfont timgm6mb-soundfont csound-soundfont opl3-soundfont"
    " avldrums.lv2-soundfont hydrogen-drumkits hydrogen-data sonic-pi-samples lmms-common"
    " extremetuxracer-data frozen-bubble-data lincity-ng-data pingus-data"
    " sound-theme-freedesktop": "installs system packages (root, network)",
    ".venv/bin/drumgenx train downbeats --corpus corpus"
    " --out src/drumgenx/core/weights/downbeat.npz": (
        "needs the transcriber's corpus (17 h of rendered audio; drumgenx train corpus) and"
        " would replace the shipped model (tests/training/test_downbeats.py fits a tiny set)"
    ),
    ".venv/bin/drumgenx train role-data --out role_data --velocities 40,80,120 --seed 0": (
        "renders all 79 SoundFont kits the apt line installs (~5 min, ~0.8 GB; "
        "tests/training/test_role_data.py builds two TimGM6mb presets)"
    ),
}

CLAP_NOTICE = "drumgenx: notice: CLAP not used:"


def test_the_stage_sections_hold_their_commands_and_the_lists_are_current() -> None:
    """Not vacuous: each stage's runner and ``drumgenx`` command is there; every command left
    out is still in the README (a stale entry would hide nothing)."""
    commands = readme_commands(SECTIONS)
    for runner in ("preprocess", "role_assignment", "grid_and_skeleton", "model_groovae"):
        assert any(c.startswith(f"python pipeline/run_{runner}.py") for c in commands), runner
    assert "python pipeline/run_preprocess.py" in commands  # the runner's own settings
    for sub in ("preprocess", "roles", "groove"):
        assert any(c.startswith(f"drumgenx {sub} ") for c in commands), sub
    assert set(NOT_RUN) <= set(commands), set(NOT_RUN) - set(commands)


@pytest.fixture
def user(tmp_path: Path) -> tuple[Path, Path]:
    """(working folder, HOME): a checkout's examples/ and pipeline/, ~/Music/loops of audio."""
    home, work = tmp_path / "home", tmp_path / "work"
    demo = build_demo(tmp_path / "demo")
    loops = home / "Music" / "loops"
    loops.mkdir(parents=True)
    for path in (demo.loop, *demo.found_sounds):  # a 5 s drum loop and three found sounds
        (loops / path.name).write_bytes(path.read_bytes())
    work.mkdir()
    for name in ("examples", "pipeline"):
        (work / name).symlink_to(REPO_ROOT / name)
    return work, home


def _argv(command: str, home: Path) -> list[str]:
    """The command's words as a shell would pass them: ``~`` expanded, ``python`` and
    ``drumgenx`` the virtual environment's."""
    words = [str(home) + w[1:] if w == "~" or w.startswith("~/") else w for w in command.split()]
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    assert words[0] == "drumgenx", f"cannot run in a test, list it in NOT_RUN: {command}"
    script = Path(sys.executable).parent / "drumgenx"
    launcher = [str(script)] if script.is_file() else [sys.executable, "-m", "drumgenx"]
    return [*launcher, *words[1:]]


def test_every_stage_command_runs_verbatim_in_order(user: tuple[Path, Path]) -> None:
    """Every command not in `NOT_RUN` exits 0 without a traceback, in README order, in one
    folder; the stages' files are written."""
    work, home = user
    env = {
        **os.environ,
        "HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO_ROOT / "src"),
    }
    for name in ("HF_HOME", "XDG_CACHE_HOME"):  # caches are the user's, under HOME
        env.pop(name, None)
    results = {}
    for command in readme_commands(SECTIONS):
        if command in NOT_RUN:
            continue
        done = subprocess.run(
            _argv(command, home), cwd=work, env=env, capture_output=True, text=True, timeout=300
        )
        assert "Traceback" not in done.stderr, f"{command}\n{done.stderr}"
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        results[command] = done

    # Stage 1: the runner's own settings (examples/input_samples), then ~/Music/loops twice
    library = work / "dummy_dataset"
    first = json.loads((library / "manifest_1.json").read_text())
    second = json.loads((library / "manifest_2.json").read_text())
    assert first["dataset_root"] == "examples/input_samples"
    assert Path(second["dataset_root"]) == home / "Music" / "loops"
    assert {f["status"] for f in second["files"]} == {"processed"} and len(second["files"]) == 4
    assert not (library / "manifest_3.json").exists()  # the same files again: nothing new
    again = "drumgenx preprocess --dataset_root ~/Music/loops --output_root dummy_dataset"
    assert "already processed: 4" in results[f"{again} --workers 2"].stdout
    written = sorted(library.glob("dummy_*.wav"))
    assert len(written) > 10 and sf.info(str(written[0])).frames > 0

    # Stage 2: three runs, the last one naming a CLAP folder that is not there (one notice)
    out = work / "output"
    for n in (1, 2, 3):
        assert (out / f"pools_{n}.json").is_file() and (out / f"per_sample_{n}.json").is_file()
    clap = (
        "drumgenx roles --input_dir dummy_dataset/ --out_dir output/ --limit 0 --clap_model"
        " ~/models/clap-htsat-unfused"
    )
    notices = [line for line in results[clap].stderr.splitlines() if CLAP_NOTICE in line]
    assert len(notices) == 1 and str(home / "models" / "clap-htsat-unfused") in notices[0]
    per_sample = json.loads((out / "per_sample_3.json").read_text())
    assert len(per_sample["samples"]) == len(written)
    assert per_sample["clap"] == "not loaded"
    assert all(s["p_clap"] is None for s in per_sample["samples"])

    # Stage 3: three loops
    for n in (1, 2, 3):
        for name in (f"grid_{n}.json", f"event_grid_{n}.json", f"skeleton_meta_{n}.json"):
            assert (out / name).is_file(), name
        assert sf.info(str(out / f"render_{n}.wav")).frames > 0

    # Stage 4: an event grid per groove command, a render per one with --render
    ran = [c for c in results if "--events_json" in c]
    grooves = sorted(out.glob("event_grid_groovae_*.json"))
    assert len(grooves) == len(ran) > 0, grooves
    for path in grooves:
        events = json.loads(path.read_text())
        assert events and {e["source"] for e in events} == {"groovae"}, path
    renders = sorted(out.glob("render_groovae_*.wav"))
    assert len(renders) == sum("--render" in c.split() for c in ran), renders
    assert all(sf.info(str(path)).frames > 0 for path in renders)
