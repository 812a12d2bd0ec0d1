"""The command line: instant help, lazy heavy imports, README and CI kept in step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from drumgenx.cli import build_parser


def test_help_imports_no_heavy_module(repo_root: Path) -> None:
    """`drumgenx --help` must not import numpy/soundfile/jsonschema/torch (that makes it slow)."""
    code = (
        "import sys\n"
        "from drumgenx.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'numpy', 'soundfile', 'jsonschema', 'torch', 'librosa', 'mido', 'soxr'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_root, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_every_stage_subcommand_is_listed() -> None:
    help_text = build_parser().format_help()
    for command in ("skeleton", "edit", "kit"):
        assert command in help_text


def test_run_help_states_ranges_and_defaults(capsys) -> None:
    import pytest

    from drumgenx.cli import main

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "INPUT [INPUT ...]" in text and "audio file(s) and/or folder(s)" in text
    assert "--bpm BPM tempo, 20..999, or auto: the tempo of the input" in text
    assert "(default: auto)" in text and "--pattern PATTERN seed: the seed's rules" in text
    assert "0..0.75" in text and "(default: 8)" in text and "0 or more" in text
    assert "transcribe (the drum transcriber) (default: transcribe)" in text


def _readme_commands(repo_root: Path) -> list[str]:
    text = (repo_root / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_two_commands_and_ci_runs_the_test_one(repo_root: Path) -> None:
    commands = _readme_commands(repo_root)
    assert len(commands) == 2
    assert "drumgenx" in commands[0] and "pytest" in commands[1]
    assert commands[1] in (repo_root / ".ci" / "run").read_text()


def test_the_main_job_runs_on_the_demo_audio(tmp_path: Path, repo_root: Path) -> None:
    """The README's first command past its set-up: demo audio in, a humanized loop out, with
    hits found in the mix sorted into drum roles. Run twice, it reuses everything."""
    import json

    import soundfile

    setup, _ = _readme_commands(repo_root)
    job = setup.split("&& ", 2)[2]  # after the venv and pip steps
    assert job.startswith(".venv/bin/drumgenx demo ") and "&& .venv/bin/drumgenx run " in job
    drumgenx = str(Path(sys.executable).with_name("drumgenx"))
    command = job.replace(".venv/bin/drumgenx", drumgenx)
    for _attempt in range(2):
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    assert done.stdout.count("(reused)") == 4
    record = json.loads(sorted(tmp_path.rglob("run_*.json"))[-1].read_text())
    roles = record["stages"][1]["summary"]["roles"]
    assert min(roles["CORE"], roles["ACCENT"], roles["MOTION"]) >= 3, roles
    # The transcriber (stage 1's default) hears the song's toms under the bed, and their
    # drum class carries them to the FILL pool (with flux they were read as ACCENT).
    # A slice is a tom's when the first note of the song at or after its start (less 20 ms)
    # is a tom within 50 ms: slices start 5 ms before the attack the slicer backtracks to,
    # and a low tom's slow rise puts that up to ~45 ms before the note.
    truth = json.loads(next(tmp_path.rglob("demo_truth.json")).read_text())
    notes = sorted((h["time_s"], h["voice"]) for h in truth["files"]["demo_song.wav"]["hits"])
    manifest = json.loads(sorted(tmp_path.rglob("manifest_*.json"))[-1].read_text())

    def first_note(start: float) -> tuple[float, str]:
        return next(((t, v) for t, v in notes if t >= start - 0.02), (float("inf"), ""))

    tom_samples = {
        s["sample_id"]
        for s in manifest["samples"]
        if s["source"].endswith("demo_song.wav")
        and "tom" in first_note(s["start_s"])[1]
        and first_note(s["start_s"])[0] - s["start_s"] <= 0.05
    }
    pools = json.loads(sorted(tmp_path.rglob("pools_*.json"))[-1].read_text())
    assert tom_samples & {item["sample_id"] for item in pools["FILL_POOL"]}, tom_samples
    loop = next(tmp_path.rglob(record["final"]["wav"]))
    audio, sr = soundfile.read(loop)
    # the loop plays the demo song's own pattern at the song's tempo (issue #13's demo)
    run_dir = sorted(tmp_path.rglob("run_*.json"))[-1].parent
    meta = json.loads((run_dir / record["stages"][2]["outputs"]["skeleton_meta"]).read_text())
    assert meta["pattern"]["kind"] == "source" and meta["params"]["bpm"] == 110.0
    assert meta["pattern"]["file"].endswith("demo_song.wav")
    assert "demo_song.wav's own" in done.stderr or "(reused)" in done.stdout
    assert len(audio) == round(8 * 4 * 60 / 110 * sr) and abs(audio).max() > 0.1  # 8 bars
    # ... and with its own feel: stage 4 keeps the played hits' velocity and micro-timing
    skeleton = json.loads((run_dir / record["stages"][2]["outputs"]["event_grid"]).read_text())
    grooved = json.loads((run_dir / record["stages"][3]["outputs"]["event_grid"]).read_text())
    played = [e for e in skeleton if e["source"] == "played"]
    assert played and [e for e in grooved if e["source"] == "played"] == played
