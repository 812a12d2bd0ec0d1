"""The README's editor section runs verbatim: its commands, in order, on a fresh demo run.

The run is the README's own (``drumgenx demo demo_audio`` then ``drumgenx run demo_audio
--out output``) at the smallest loop the CLI allows (``--bars 1``), so the commands may only
touch bar 0. Each command runs in-process through `drumgenx.cli.main`, as typed.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import soundfile as sf

from drumgenx.cli import main

EDITOR_COMMANDS = ("set", "remove", "velocity", "render", "export-midi")


def editor_commands(readme: Path) -> list[str]:
    """Every command line of the ``bash`` blocks of the README's ``## Editor`` section."""
    text = readme.read_text(encoding="utf-8")
    _, found, rest = text.partition("\n## Editor\n")
    assert found, "README.md has no '## Editor' section"
    section = rest.split("\n## ", 1)[0]
    commands = []
    for block in section.split("```bash\n")[1:]:
        lines = block.split("```", 1)[0].splitlines()
        commands += [line for line in lines if line.strip() and not line.startswith("#")]
    return commands


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``demo_audio/`` and ``output/``, the run the editor section edits."""
    folder = tmp_path_factory.mktemp("readme_editor")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        assert main(["demo", "demo_audio"]) == 0
        assert main(["run", "demo_audio", "--out", "output", "--bars", "1"]) == 0
    return folder


def test_the_editor_section_shows_every_editor_command(repo_root: Path) -> None:
    """Not vacuous: the section holds `drumgenx edit` lines for each of the five commands."""
    commands = editor_commands(repo_root / "README.md")
    assert all(line.startswith("drumgenx edit ") for line in commands), commands
    shown = {shlex.split(line)[2] for line in commands}
    assert shown == set(EDITOR_COMMANDS)


def test_the_editor_section_runs_verbatim_after_a_run(
    demo_run: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Every command exits 0 in order; the FILL hit the demo loop lacks is drawn from the
    run's pools, and the render finds the run's samples without --pools_json."""
    monkeypatch.chdir(demo_run)
    outputs = []
    for command in editor_commands(repo_root / "README.md"):
        argv = shlex.split(command)
        status = main(argv[1:])
        captured = capsys.readouterr()
        assert status == 0, f"{command}\n{captured.err}"
        assert "Traceback" not in captured.err
        outputs.append(captured.out)

    text = "".join(outputs)
    assert "FILL sample: " in text and "drawn from output/roles/pools_1.json" in text
    assert "samples: pools output/roles/pools_1.json, library output/library_1" in text
    (render,) = (demo_run / "output" / "groove").glob("render_edit_*.wav")
    audio, _ = sf.read(render)
    assert abs(audio).max() > 0
    assert list((demo_run / "output" / "groove").glob("midi_edit_*.mid"))
