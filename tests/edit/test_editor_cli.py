"""`drumgenx edit` end to end: new versions only, originals untouched, clean user errors.

Most tests call `drumgenx.cli.main` in-process on a skeleton made with the bundled kit; two
run the seed's scripts (`pipeline/run_grid_and_skeleton.py`, `stage1_drumgenx/editor.py`)
as subprocesses to show those paths work from the repository root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pretty_midi
import pytest
import soundfile as sf

from drumgenx.cli import main
from drumgenx.core.formats import load_events, load_pools
from drumgenx.core.layout import STATE_DIR, library_folder, stage_folder
from drumgenx.kit.run import write_kit_and_pools
from drumgenx.skeleton.patterns import SkeletonParams
from drumgenx.skeleton.run import run_skeleton

REPO = Path(__file__).resolve().parents[2]
KIT_DIR = REPO / "examples" / "input_samples"


@dataclass
class Run:
    dir: Path
    pools: Path
    grid: Path
    events: Path
    render: Path


@pytest.fixture
def run(tmp_path) -> Run:
    """A 4-bar skeleton at 120 bpm with every role (fills forced on), rendered with the kit."""
    kit = write_kit_and_pools(kit_dir=KIT_DIR, out_dir=tmp_path)
    assert kit.created == []  # the bundled kit is complete: nothing written to the repo
    skeleton = run_skeleton(
        out_dir=tmp_path,
        bpm=120,
        pools_json=kit.pools_path,
        params=SkeletonParams(fill_prob=1.0),
        sample_root=None,
    )
    paths = skeleton.paths
    return Run(tmp_path, kit.pools_path, paths["grid"], paths["event_grid"], paths["render"])


def listing(folder: Path) -> set[str]:
    """Every name in the folder, hidden ones included (temporary files, reservations)."""
    return set(os.listdir(folder))


def edit(*args: str | Path) -> int:
    """``drumgenx edit`` in-process; a str argument is split on spaces, a Path is kept whole."""
    argv = []
    for arg in args:
        argv += [str(arg)] if isinstance(arg, Path) else arg.split()
    return main(["edit", *argv])


def test_set_writes_a_new_version_and_keeps_the_original(run, capsys):
    """set -> event_grid_edit_1.json with the hit; event_grid_1.json keeps its bytes."""
    original = run.events.read_bytes()
    before = listing(run.dir)
    flags = "--bar 1 --step 6 --role ACCENT --velocity 0.7 --offset_ms -12.5"
    assert edit("set --events", run.events, flags) == 0
    out = run.dir / "event_grid_edit_1.json"
    assert listing(run.dir) - before == {out.name}
    assert run.events.read_bytes() == original
    assert str(out) in capsys.readouterr().out

    edited = load_events(out)
    (hit,) = [e for e in edited if (e.bar, e.step, e.role) == (1, 6, "ACCENT")]
    assert (hit.vel, hit.micro_offset_ms, hit.source) == (0.7, -12.5, "edit")
    used = Counter(e.sample_id for e in load_events(run.events) if e.role == "ACCENT")
    assert hit.sample_id == used.most_common(1)[0][0]
    assert len(edited) == len(load_events(run.events)) + 1


def test_editing_an_edit_writes_the_next_version(run):
    """Each edit of an edit gets the next N; the edit it started from is untouched."""
    assert edit("set --events", run.events, "--bar 0 --step 6 --role ACCENT") == 0
    first = run.dir / "event_grid_edit_1.json"
    first_bytes = first.read_bytes()
    assert edit("set --events", first, "--bar 2 --step 10 --role CORE") == 0
    second = run.dir / "event_grid_edit_2.json"
    assert first.read_bytes() == first_bytes
    positions = {(e.bar, e.step, e.role) for e in load_events(second)}
    assert {(0, 6, "ACCENT"), (2, 10, "CORE")} <= positions


def test_edit_out_dir(run, tmp_path):
    """--out_dir puts the new version elsewhere, numbered within that folder."""
    target = tmp_path / "elsewhere"
    assert edit("remove --role TEXTURE --events", run.events, "--out_dir", target) == 0
    assert listing(target) == {"event_grid_edit_1.json"}


def test_remove_selection(run):
    """remove --role MOTION --bar 0-1 drops exactly those hits."""
    assert edit("remove --events", run.events, "--role MOTION --bar 0-1") == 0
    events = load_events(run.events)
    edited = load_events(run.dir / "event_grid_edit_1.json")
    assert edited == [e for e in events if not (e.role == "MOTION" and e.bar <= 1)]
    assert any(e.role == "MOTION" and e.bar >= 2 for e in edited)


def test_velocity_selection(run):
    """velocity --scale / --set change only the selected hits and mark them 'edit'."""
    flags = "--role CORE --role ACCENT --step 4,12 --scale 0.5"
    assert edit("velocity --events", run.events, flags) == 0
    events = load_events(run.events)
    scaled = load_events(run.dir / "event_grid_edit_1.json")
    for before, after in zip(events, scaled, strict=True):
        if before.role in ("CORE", "ACCENT") and before.step in (4, 12):
            assert after.vel == pytest.approx(before.vel * 0.5)
            assert after.source == "edit"
        else:
            assert after == before

    assert edit("velocity --events", run.events, "--bar 3 --set 0.3") == 0
    set_ = load_events(run.dir / "event_grid_edit_2.json")
    assert {e.vel for e in set_ if e.bar == 3} == {0.3}
    assert [e for e in set_ if e.bar != 3] == [e for e in events if e.bar != 3]


def test_render_edit_and_skeleton_never_overwrite(run):
    """render of an edit -> render_edit_1.wav; of the skeleton -> render_2.wav, 24-bit."""
    skeleton_render = run.render.read_bytes()
    assert edit("remove --events", run.events, "--role FILL") == 0
    common = ("--grid", run.grid, "--pools_json", run.pools, "--render_sr 22050")
    assert edit("render --events", run.dir / "event_grid_edit_1.json", *common) == 0
    assert edit("render --swing 0.33 --events", run.events, *common) == 0

    assert run.render.read_bytes() == skeleton_render
    for name in ("render_edit_1.wav", "render_2.wav"):
        info = sf.info(run.dir / name)
        assert info.subtype == "PCM_24"
        assert info.samplerate == 22050
        assert info.frames > 0
        audio, _ = sf.read(run.dir / name)
        assert abs(audio).max() > 0


def test_export_midi(run):
    """export-midi -> midi_1.mid (pretty_midi reads it: drums, one note per hit, GM keys);
    --note and --swing apply; an edit exports as midi_edit_1.mid."""
    events = load_events(run.events)
    assert edit("export-midi --events", run.events, "--grid", run.grid) == 0
    pm = pretty_midi.PrettyMIDI(str(run.dir / "midi_1.mid"))
    (drums,) = pm.instruments
    assert drums.is_drum
    assert len(drums.notes) == len(events)
    assert {n.pitch for n in drums.notes} == {36, 38, 42, 45, 52}
    assert pm.get_tempo_changes()[1][0] == pytest.approx(120.0)

    flags = "--note FILL=47 --swing 0.5"
    assert edit("export-midi --events", run.events, "--grid", run.grid, flags) == 0
    pm = pretty_midi.PrettyMIDI(str(run.dir / "midi_2.mid"))
    assert 47 in {n.pitch for n in pm.instruments[0].notes}
    assert 45 not in {n.pitch for n in pm.instruments[0].notes}

    assert edit("velocity --set 1.0 --events", run.events) == 0
    edited = run.dir / "event_grid_edit_1.json"
    assert edit("export-midi --events", edited, "--grid", run.grid) == 0
    pm = pretty_midi.PrettyMIDI(str(run.dir / "midi_edit_1.mid"))
    assert {n.velocity for n in pm.instruments[0].notes} == {127}


def test_export_midi_and_render_print_their_notices(run, tmp_path, capsys):
    """What the library tells its ``notify`` is a ``drumgenx: notice:`` line, before
    ``[DONE]``: a hit pulled before 0 (export-midi), samples skipped (render)."""
    assert edit("set --bar 0 --step 0 --role CORE --offset_ms -20 --events", run.events) == 0
    edited = run.dir / "event_grid_edit_1.json"
    capsys.readouterr()
    assert edit("export-midi --events", edited, "--grid", run.grid) == 0
    printed = capsys.readouterr()
    assert printed.err == (
        "drumgenx: notice: MIDI: the CORE hit at bar 0 step 0 would start 20 ms before the "
        "file does; it starts at 0\n"
    )
    assert printed.out.startswith("[DONE] wrote ")
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ("render --skip_missing --events", run.events, "--grid", run.grid, "--sample_root")
    assert edit(*args, empty) == 0
    printed = capsys.readouterr()
    lines = printed.err.splitlines()
    assert lines and all(line.startswith("drumgenx: notice: skipped sample ") for line in lines)
    assert printed.out.startswith("[DONE] wrote ")


# --- a run's layout: samples for new hits and renders come from the run's pools ----------


@pytest.fixture
def run_out(tmp_path) -> Path:
    """A `drumgenx run` output folder on the bundled kit, its run record naming its files.

    The skeleton has no FILL and no TEXTURE hits (fills and the bed off), and the pools'
    TEXTURE pool is emptied, as stage 2 leaves it on the demo audio.
    """
    out = tmp_path / "output"
    kit = write_kit_and_pools(kit_dir=KIT_DIR, out_dir=stage_folder(out, "roles"))
    data = json.loads(kit.pools_path.read_text())
    data["TEXTURE_POOL"], data["counts"]["TEXTURE"] = [], 0
    kit.pools_path.unlink()
    kit.pools_path.write_text(json.dumps(data))
    library_folder(out, 1).mkdir()
    skeleton = run_skeleton(
        out_dir=stage_folder(out, "skeleton"),
        bpm=120,
        pools_json=kit.pools_path,
        params=SkeletonParams(fill_prob=0.0, texture=False),
        render=False,
    )
    relative = {name: p.relative_to(out).as_posix() for name, p in skeleton.paths.items()}
    stages = [
        {"stage": "preprocess", "outputs": {"library": "library_1"}},
        {"stage": "roles", "outputs": {"pools": kit.pools_path.relative_to(out).as_posix()}},
        {"stage": "skeleton", "outputs": relative},
        {"stage": "groove", "outputs": {}},
    ]
    (out / STATE_DIR).mkdir()
    (out / "run_1.json").write_text(json.dumps({"stages": stages}))
    return out


def _kit_ids(pools_path: Path, role: str) -> set[str]:
    return {item.sample_id for item in load_pools(pools_path).pool(role)}


def test_set_draws_a_sample_from_the_runs_pools(run_out, capsys):
    """No FILL hit in the loop: set --role FILL draws one from the run's FILL pool, seeded,
    and says which and from where; the same seed draws the same sample, others differ."""
    events = run_out / "skeleton" / "event_grid_1.json"
    pools = run_out / "roles" / "pools_1.json"
    assert not any(e.role == "FILL" for e in load_events(events))
    drawn = []
    for seed in [None, 42, *range(12)]:
        seed_flags = [] if seed is None else ["--seed", str(seed)]
        capsys.readouterr()
        assert edit("set --bar 1 --step 14 --role FILL --events", events, *seed_flags) == 0
        out = capsys.readouterr().out
        path = Path(out.split()[2])  # [DONE] wrote PATH ...
        (hit,) = [e for e in load_events(path) if e.role == "FILL"]
        assert (hit.bar, hit.step, hit.source) == (1, 14, "edit")
        used_seed = 42 if seed is None else seed
        assert f"FILL sample: {hit.sample_id}, drawn from {pools} with --seed {used_seed}" in out
        drawn.append(hit.sample_id)
    assert drawn[0] == drawn[1]  # the default seed is 42
    assert set(drawn) <= _kit_ids(pools, "FILL")
    assert len(set(drawn)) >= 3  # of the kit's 4 FILL samples


def test_set_prefers_the_loops_own_sample_and_an_explicit_pools_json(run_out, tmp_path, capsys):
    """A role with hits keeps its most used sample (nothing drawn); --pools_json wins."""
    events = run_out / "skeleton" / "event_grid_1.json"
    assert edit("set --bar 0 --step 6 --role ACCENT --events", events) == 0
    assert "drawn" not in capsys.readouterr().out

    other = tmp_path / "other_pools.json"
    data = json.loads((run_out / "roles" / "pools_1.json").read_text())
    data["FILL_POOL"] = [{"sample_id": "only_fill", "filepath": "x.wav", "confidence": 0.5}]
    data["counts"]["FILL"] = 1
    other.write_text(json.dumps(data))
    assert edit("set --bar 0 --step 15 --role FILL --pools_json", other, "--events", events) == 0
    assert f"FILL sample: only_fill, drawn from {other}" in capsys.readouterr().out


def test_set_with_no_sample_of_the_role_anywhere(run_out, run, capsys):
    """Exit 2, one line naming the flags, nothing written: the role's pool in the run is
    empty; or the events are in no run (and hold no hit of the role)."""
    assert edit("remove --role TEXTURE --events", run.events) == 0
    cases = [
        (run_out / "skeleton" / "event_grid_1.json", "the TEXTURE pool of", "--sample"),
        (
            run.dir / "event_grid_edit_1.json",
            "is not in the output folder of a `drumgenx run`",
            "--sample or --pools_json",
        ),
    ]
    for events, why, flags in cases:
        before = listing(events.parent)
        capsys.readouterr()
        assert edit("set --bar 0 --step 3 --role TEXTURE --events", events) == 2
        captured = capsys.readouterr()
        (line,) = captured.err.splitlines()
        assert line.startswith("drumgenx: error: no TEXTURE sample")
        assert why in line and line.endswith(f"; pass {flags}")
        assert captured.out == ""
        assert listing(events.parent) == before


def test_render_finds_the_runs_pools_and_library(run_out, capsys):
    """render without --pools_json/--sample_root uses the run's and says so; a flag given,
    the flags alone decide (here a wrong --sample_root: the samples are missing)."""
    events = run_out / "skeleton" / "event_grid_1.json"
    grid = run_out / "skeleton" / "grid_1.json"
    assert edit("render --render_sr 22050 --events", events, "--grid", grid) == 0
    out = capsys.readouterr().out
    assert f"pools {run_out / 'roles' / 'pools_1.json'}, library {run_out / 'library_1'}" in out
    audio, _ = sf.read(run_out / "skeleton" / "render_1.wav")
    assert abs(audio).max() > 0

    empty = run_out / "empty"
    empty.mkdir()
    assert edit("render --events", events, "--grid", grid, "--sample_root", empty) == 2
    assert "missing or unreadable" in capsys.readouterr().err


def _bad_events(run: Run, name: str, change) -> Path:
    data = json.loads(run.events.read_text())
    change(data)
    path = run.dir / name
    path.write_text(json.dumps(data))
    return path


def _short_grid(run: Run) -> Path:
    other = run_skeleton(
        out_dir=run.dir / "other_run",
        bpm=120,
        pools_json=run.pools,
        params=SkeletonParams(bars=2),
        render=False,
    )
    return other.paths["grid"]


def _truncated(run: Run) -> Path:
    path = run.dir / "truncated.json"
    path.write_text(run.events.read_text()[:200])
    return path


def _unknown_role(run: Run) -> Path:
    def change(data):
        data[3]["role"] = "SNARE"

    return _bad_events(run, "unknown_role.json", change)


ERROR_CASES = {
    "malformed events (set)": (
        lambda run: ("set --bar 0 --step 1 --role CORE --events", _truncated(run)),
        "not valid JSON",
    ),
    "malformed events (export-midi)": (
        lambda run: ("export-midi --events", _truncated(run), "--grid", run.grid),
        "not valid JSON",
    ),
    "events file with an unknown role": (
        lambda run: ("remove --bar 0 --events", _unknown_role(run)),
        "field '[3].role'",
    ),
    "grid of another run with fewer bars (render)": (
        lambda run: ("render --events", run.events, "--grid", _short_grid(run)),
        "the grid has 2 bars",
    ),
    "grid of another run with fewer bars (export-midi)": (
        lambda run: ("export-midi --events", run.events, "--grid", _short_grid(run)),
        "the grid has 2 bars",
    ),
    "remove selection matching nothing": (
        lambda run: ("remove --bar 40 --events", run.events),
        "matches no hit",
    ),
    "velocity selection matching nothing": (
        lambda run: ("velocity --bar 40 --set 0.5 --events", run.events),
        "matches no hit",
    ),
    "remove with no selection": (
        lambda run: ("remove --events", run.events),
        "select hits",
    ),
    "set beyond the polyphony limit": (
        # bar 3 step 12 holds CORE, ACCENT and the closing fill's first hit
        lambda run: ("set --bar 3 --step 12 --role TEXTURE --events", run.events),
        "polyphony limit",
    ),
    "set with an offset off the format": (
        lambda run: ("set --bar 0 --step 1 --role CORE --offset_ms 5000 --events", run.events),
        "--offset_ms",
    ),
    "set with an empty sample id": (
        lambda run: ("set --bar 0 --step 1 --role CORE --sample= --events", run.events),
        "invalid event grid",
    ),
    "bad --note": (
        lambda run: ("export-midi --note FILL=36 --events", run.events, "--grid", run.grid),
        "share one MIDI note",
    ),
    "render with no way to find the samples": (
        lambda run: ("render --events", run.events, "--grid", run.grid),
        "missing or unreadable",
    ),
}


@pytest.mark.parametrize("case", ERROR_CASES, ids=list(ERROR_CASES))
def test_user_errors_are_one_line_and_write_nothing(run, capsys, case):
    """Exit 2, one `drumgenx: error:` line on stderr, no traceback, no new file."""
    make_args, expected = ERROR_CASES[case]
    args = make_args(run)  # may create the bad input file or another run first
    capsys.readouterr()
    before = listing(run.dir)
    snapshot = {p.name: p.read_bytes() for p in run.dir.iterdir() if p.is_file()}

    assert edit(*args) == 2

    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("drumgenx: error: ")
    assert expected in lines[0]
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert listing(run.dir) == before
    assert {name: (run.dir / name).read_bytes() for name in snapshot} == snapshot


def test_unknown_role_flag_exits_2_and_writes_nothing(run, capsys):
    """--role outside the five roles: exit 2 naming it, no file. argparse refuses it (its own
    usage lines, via SystemExit), so only the status and the name are pinned, not the format."""
    before = listing(run.dir)
    try:
        status = edit("remove --role SNARE --events", run.events)
    except SystemExit as exc:
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert "'SNARE'" in err
    assert "Traceback" not in err
    assert listing(run.dir) == before


def test_seed_scripts_from_the_repository_root(tmp_path):
    """`python pipeline/run_grid_and_skeleton.py` then `python stage1_drumgenx/editor.py set`."""
    out = tmp_path / "output"
    skeleton = subprocess.run(
        [sys.executable, "pipeline/run_grid_and_skeleton.py", "--out_dir", out, "--bpm", "120"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert skeleton.returncode == 0, skeleton.stderr
    assert {"grid_1.json", "event_grid_1.json", "skeleton_meta_1.json", "render_1.wav"} <= set(
        os.listdir(out)
    )

    events = out / "event_grid_1.json"
    original = events.read_bytes()
    flags = ["--bar", "0", "--step", "6", "--role", "ACCENT"]
    editor = subprocess.run(
        [sys.executable, "stage1_drumgenx/editor.py", "set", "--events", events, *flags],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert editor.returncode == 0, editor.stderr
    assert events.read_bytes() == original
    edited = load_events(out / "event_grid_edit_1.json")
    assert any((e.bar, e.step, e.role, e.source) == (0, 6, "ACCENT", "edit") for e in edited)
