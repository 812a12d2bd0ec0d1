"""`drumgenx run`: the four stages in order, reuse of finished stages, --from-stage."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumgenx import cli
from drumgenx.chain.run import STAGES, ChainParams, run_chain
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.formats import load_events, load_grid, load_pools, read_json
from drumgenx.kit.run import write_kit

QUIET = {"notify": lambda _: None}


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory) -> Path:
    """The bundled kit's one-shots: a small input every stage can work on."""
    folder = tmp_path_factory.mktemp("input")
    write_kit(folder / "kit")
    return folder


@pytest.fixture(scope="module")
def first_run(audio_dir: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return run_chain(audio_dir, out=out, params=ChainParams(bars=2), **QUIET)


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_one_run_writes_every_stage_and_a_valid_record(first_run) -> None:
    out = first_run.out
    assert [s.stage for s in first_run.stages] == list(STAGES)
    assert not any(s.reused for s in first_run.stages)
    record = read_json(first_run.record, "run")
    assert record["final"] == {
        "wav": "groove/render_groovae_1.wav",
        "midi": "groove/midi_groovae_1.mid",
    }
    library = first_run.output("preprocess", "library")
    assert library.name == "library_1" and len(list(library.glob("dummy_*.wav"))) >= 5
    pools = load_pools(first_run.output("roles", "pools"))
    assert sum(len(items) for items in pools.by_role.values()) >= 5
    grid = load_grid(first_run.output("skeleton", "grid"))
    assert grid.num_bars == 2 and grid.bpm == 120
    grooved = load_events(first_run.output("groove", "event_grid"))
    skeleton = load_events(first_run.output("skeleton", "event_grid"))
    assert [e.position for e in grooved] == [e.position for e in skeleton]  # humanize
    assert any(e.micro_offset_ms != 0 for e in grooved)
    audio, sr = soundfile.read(first_run.wav)
    assert sr == 44100 and np.abs(audio).max() > 0.05
    for name in ("grid_picture", "library_map"):
        assert first_run.output("groove", name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert first_run.midi.read_bytes()[:4] == b"MThd"
    assert not [p for p in out.rglob("*") if p.name.endswith((".tmp", ".reserved"))]


def test_the_loops_are_exactly_their_bars_long(first_run) -> None:
    """Both renders of a run are 2 bars at 120 bpm to the sample: 4 s, tails wrapped."""
    assert ChainParams().loop is True
    for stage in ("skeleton", "groove"):
        info = soundfile.info(str(first_run.output(stage, "render")))
        assert (info.frames, info.samplerate) == (176400, 44100), stage


def test_tails_keeps_them_after_the_loop_and_redoes_only_the_renders(
    audio_dir: Path, first_run, capsys
) -> None:
    argv = ["run", str(audio_dir), "--out", str(first_run.out), "--bars", "2", "--tails"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "preprocess: " in out and out.count("(reused)") == 2  # preprocess and roles
    record = json.loads(Path(out.split("[DONE] ")[1].split("\n")[0]).read_text())
    assert record["params"]["loop"] is False
    meta = read_json(
        first_run.out / record["stages"][2]["outputs"]["skeleton_meta"], "skeleton_meta"
    )
    assert meta["params"]["loop"] is False
    for stage in record["stages"][2:]:
        assert soundfile.info(str(first_run.out / stage["outputs"]["render"])).frames >= 176400


def test_export_kit_from_the_run_holds_every_sample_its_loop_plays(
    first_run, tmp_path: Path, capsys
) -> None:
    """`export-kit --run OUT`: the kit of the newest run's loop, from its pools and library,
    every sample the loop plays in it, each file named by role, the loop's MIDI beside."""
    from drumgenx.kit.export import find_run_loop

    assert cli.main(["export-kit", "--run", str(first_run.out), "--out_dir", str(tmp_path)]) == 0
    assert "drumgenx_loop.mid" in capsys.readouterr().out
    loop = find_run_loop(first_run.out)
    played = {e.sample_id for e in load_events(loop.events)}
    kit = tmp_path / "drumgenx_kit_1"
    sfz = (kit / "drumgenx.sfz").read_text()
    names = sorted(p.name for p in (kit / "samples").iterdir())
    assert names and all(
        re.fullmatch(r"(CORE|ACCENT|MOTION|FILL|TEXTURE)_\d\d\.wav", n) for n in names
    )
    copied_from = set(re.findall(r"^// \w+_\d\d\.wav \(from (.+)\)$", sfz, flags=re.M))
    assert played <= copied_from and len(copied_from) == len(names)
    assert (kit / "drumgenx_loop.mid").read_bytes()[:4] == b"MThd"


def test_a_second_run_reuses_every_stage_and_writes_only_its_record(
    audio_dir: Path, first_run
) -> None:
    before = _files(first_run.out)
    again = run_chain(audio_dir, out=first_run.out, params=ChainParams(bars=2), **QUIET)
    assert all(s.reused for s in again.stages)
    assert again.wav == first_run.wav
    new = _files(first_run.out) - before
    assert {n for n in new if not n.startswith(".drumgenx-run/")} == {again.record.name}


def test_a_changed_setting_redoes_only_the_stages_after_it(audio_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(audio_dir, tmp_path / "in")
    first = run_chain(tmp_path / "in", out=out, params=ChainParams(bars=1), **QUIET)
    faster = run_chain(tmp_path / "in", out=out, params=ChainParams(bars=1, bpm=140), **QUIET)
    assert [s.reused for s in faster.stages] == [True, True, False, False]
    assert load_grid(faster.output("skeleton", "grid")).bpm == 140
    assert faster.wav != first.wav and first.wav.exists()  # nothing overwritten

    redo = run_chain(
        tmp_path / "in", out=out, params=ChainParams(bars=1), from_stage="roles", **QUIET
    )
    assert [s.reused for s in redo.stages] == [True, False, False, False]

    # An input file edited (new modification time): stage 1 and everything after run again.
    kick = next((tmp_path / "in").rglob("kick.wav"))
    os.utime(kick, ns=(kick.stat().st_atime_ns, kick.stat().st_mtime_ns + 10**9))
    edited = run_chain(tmp_path / "in", out=out, params=ChainParams(bars=1), **QUIET)
    assert not any(s.reused for s in edited.stages)
    assert edited.output("preprocess", "library").name == "library_2"

    # A stage whose files were deleted is redone, not trusted.
    edited.output("groove", "render").unlink()
    healed = run_chain(tmp_path / "in", out=out, params=ChainParams(bars=1), **QUIET)
    assert [s.reused for s in healed.stages] == [True, True, True, False]
    assert healed.wav.exists()


def test_an_interrupted_run_keeps_its_finished_stages(
    audio_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    import drumgenx.groove.run as groove_run

    def interrupted(**_):
        raise KeyboardInterrupt

    monkeypatch.setattr(groove_run, "run_groove", interrupted)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_chain(audio_dir, out=out, params=ChainParams(bars=1), **QUIET)
    assert not (out / "groove").exists() and not list(out.glob("run_*.json"))
    monkeypatch.undo()
    resumed = run_chain(audio_dir, out=out, params=ChainParams(bars=1), **QUIET)
    assert [s.reused for s in resumed.stages] == [True, True, True, False]


def test_the_chain_reads_why_a_file_was_skipped_from_its_kind_not_its_text(
    audio_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    import drumgenx.preprocess.run as preprocess_run
    import drumgenx.roles.run as roles_run
    from drumgenx.core.skips import SkipKind

    real = preprocess_run.run_preprocess

    def reworded(**kwargs):  # the texts swapped: only the kinds tell the files apart
        summary = real(**kwargs)
        for report in summary.reports:
            if report.skip is SkipKind.NOT_AUDIO:
                report.reason = "no audio extension"
            elif report.skip is SkipKind.UNDECODABLE:
                report.reason = "not an audio file type"
        return summary

    def stop(**_):
        raise KeyboardInterrupt

    monkeypatch.setattr(preprocess_run, "run_preprocess", reworded)
    monkeypatch.setattr(roles_run, "run_roles", stop)
    inputs = tmp_path / "in"
    shutil.copytree(audio_dir, inputs)
    (inputs / "notes.txt").write_text("not audio")
    (inputs / "broken.wav").write_text("not audio either")
    said: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        run_chain(inputs, out=tmp_path / "out", params=ChainParams(bars=1), notify=said.append)
    assert "1 file(s) that are not audio were left out (see the manifest)" in said
    assert [line for line in said if line.startswith("skipped ")] == [
        f"skipped {inputs / 'broken.wav'}: not an audio file type"
    ]


def test_no_hits_is_one_error_and_leaves_no_library(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    soundfile.write(tmp_path / "in" / "silence.wav", np.zeros(22050), 22050)
    (tmp_path / "in" / "notes.txt").write_text("not audio")
    with pytest.raises(DrumgenxError, match="no drum hits found"):
        run_chain(tmp_path / "in", out=tmp_path / "out" / "deeper", **QUIET)
    assert not (tmp_path / "out").exists()  # nothing this run created is left behind
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("there before")
    with pytest.raises(DrumgenxError, match="no drum hits found"):
        run_chain(tmp_path / "in", out=tmp_path / "mine", **QUIET)
    assert _files(tmp_path / "mine") == {"keep.txt"}
    (tmp_path / "empty").mkdir()
    with pytest.raises(DrumgenxError, match="no drum hits found"):
        run_chain(tmp_path / "in" / "silence.wav", out=tmp_path / "empty", **QUIET)
    assert (tmp_path / "empty").is_dir() and not list((tmp_path / "empty").iterdir())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bpm", "5"], "--bpm must be between"),
        (["--bars", "0"], "--bars must be at least 1"),
        (["--temperature", "-1"], "--temperature must be"),
        (["--swing", "2"], "--swing must be"),
        (["--feel", "1.5"], "--feel must be 0..1"),
        (["--drummer", "11"], "--drummer must be 1..10"),
        (["--style", "polka"], "--style must be one of"),
        (["--workers", "0"], "--workers must be at least 1, got 0"),
        (["--bars", "2000"], "--bars must be between 1 and 1024"),  # build_grid's num_bars
    ],
)
def test_bad_settings_fail_before_any_stage(
    audio_dir: Path, tmp_path: Path, capsys, argv, message
) -> None:
    rc = cli.main(["run", str(audio_dir), "--out", str(tmp_path / "out"), *argv])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and message in err
    assert not (tmp_path / "out").exists()


def test_output_inside_the_input_is_refused(audio_dir: Path, tmp_path: Path, capsys) -> None:
    song = _song(audio_dir, tmp_path / "song.wav")
    rc = cli.main(["run", str(song), str(audio_dir), "--out", str(audio_dir / "kit" / "out")])
    assert rc == 2 and "inside the input folder" in capsys.readouterr().err
    assert not (audio_dir / "kit" / "out").exists()


def _song(audio_dir: Path, path: Path) -> Path:
    """One file holding the kit's hits one after another, 0.4 s apart."""
    pieces = []
    for name in ("kick", "snare", "hat_closed", "clap", "tom_high", "crash", "kick", "snare"):
        audio, sr = soundfile.read(audio_dir / "kit" / f"{name}.wav", always_2d=True)
        piece = np.zeros((int(0.4 * sr), audio.shape[1]))
        piece[: min(len(audio), len(piece))] = audio[: len(piece)]
        pieces.append(piece)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.concatenate(pieces), sr)
    return path


def _sources(run) -> set[str]:
    manifest = sorted(run.output("preprocess", "library").glob("manifest_*.json"))[-1]
    return {Path(s["source"]).name for s in json.loads(manifest.read_text())["samples"]}


def test_a_single_audio_file_is_an_input(audio_dir: Path, tmp_path: Path) -> None:
    """Only that file is read (not its neighbours), and --out may sit beside it."""
    song = _song(audio_dir, tmp_path / "music" / "song.wav")
    shutil.copy(audio_dir / "kit" / "pad.wav", tmp_path / "music" / "neighbour.wav")
    run = run_chain(song, out=tmp_path / "music" / "out", params=ChainParams(bars=1), **QUIET)
    assert _sources(run) == {"song.wav"}
    record = json.loads(run.record.read_text())
    assert record["inputs"] == [str(song)] and record["input_dir"] == str(song.parent)
    again = run_chain(song, out=tmp_path / "music" / "out", params=ChainParams(bars=1), **QUIET)
    assert all(s.reused for s in again.stages)
    os.utime(song, ns=(song.stat().st_atime_ns, song.stat().st_mtime_ns + 10**9))
    edited = run_chain(song, out=tmp_path / "music" / "out", params=ChainParams(bars=1), **QUIET)
    assert not edited.stages[0].reused


def test_several_inputs_files_and_folders(audio_dir: Path, tmp_path: Path, capsys) -> None:
    song = _song(audio_dir, tmp_path / "song.wav")
    out = tmp_path / "out"
    argv = ["run", str(song), str(audio_dir / "kit"), "--out", str(out), "--bars", "1"]
    assert cli.main(argv) == 0
    record = json.loads(sorted(out.glob("run_*.json"))[-1].read_text())
    assert record["inputs"] == [str(song), str(audio_dir / "kit")]
    manifest = json.loads(next(out.glob("library_*/manifest_*.json")).read_text())
    read = {Path(s["source"]).name for s in manifest["samples"]}
    assert {"song.wav", "pad.wav", "hat_open.wav"} <= read, read  # kit hits not in the song
    capsys.readouterr()
    assert cli.main(argv) == 0 and capsys.readouterr().out.count("(reused)") == 4


def test_a_missing_input_is_one_error_line(audio_dir: Path, tmp_path: Path, capsys) -> None:
    gone = tmp_path / "gone.ogg"
    rc = cli.main(["run", str(audio_dir), str(gone), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and f"{gone}: no such file or folder" in err
    assert not (tmp_path / "out").exists()


def test_out_naming_a_file_says_a_folder_is_needed(audio_dir: Path, tmp_path: Path, capsys) -> None:
    taken = tmp_path / "taken"
    taken.write_text("mine")
    for out in (taken, taken / "below"):
        rc = cli.main(["run", str(audio_dir), "--out", str(out)])
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1, err
        assert f"{taken} is a file, not a folder" in err
    assert taken.read_text() == "mine"


def test_cli_prints_each_stage_and_the_final_files(audio_dir: Path, first_run, capsys) -> None:
    rc = cli.main(["run", str(audio_dir), "--out", str(first_run.out), "--bars", "2"])
    out = capsys.readouterr().out
    assert rc == 0
    for stage in STAGES:
        assert f"{stage}: " in out and "(reused)" in out
    assert f"loop: {first_run.wav}" in out and f"midi: {first_run.midi}" in out
    record = json.loads(Path(out.split("[DONE] ")[1].split("\n")[0]).read_text())
    assert record["params"]["bars"] == 2


def test_stage_1_key_follows_the_transcriber_weights(
    audio_dir: Path, tmp_path: Path, tiny_transcriber_path: Path
) -> None:
    """With --onset_method transcribe, new weights at the same path redo stage 1; without
    it, the weights play no part; missing weights fail before any stage."""
    from drumgenx.chain.run import _Chain

    weights = tmp_path / "w.npz"
    shutil.copy(tiny_transcriber_path, weights)

    def key(**params) -> str:
        return _Chain(audio_dir, tmp_path, ChainParams(**params), None, print).key("preprocess")

    chosen = {"onset_method": "transcribe", "transcriber_weights": str(weights)}
    first = key(**chosen)
    assert key(**chosen) == first
    weights.write_bytes(weights.read_bytes() + b"\0")  # retrained, same file name
    assert key(**chosen) != first
    flux = {"onset_method": "flux"}
    assert key(transcriber_weights=str(weights), **flux) == key(**flux)  # weights not used
    missing = {"onset_method": "transcribe", "transcriber_weights": str(tmp_path / "gone.npz")}
    with pytest.raises(DrumgenxError, match=r"cannot read transcriber weights .*gone\.npz"):
        run_chain(audio_dir, out=tmp_path / "out", params=ChainParams(**missing), **QUIET)
    assert not (tmp_path / "out" / "library_1").exists()


def test_a_changed_role_config_redoes_roles_skeleton_and_groove(
    audio_dir: Path, tmp_path: Path, capsys
) -> None:
    """Editing the role config (`--config`) redoes stages 2-4 and reuses stage 1; the same
    values again, from any file, reuse everything."""
    out, config = tmp_path / "out", tmp_path / "roles.yaml"
    config.write_text("fusion:\n  alpha: 0.9\n")  # the default value: the same settings
    first = run_chain(audio_dir, out=out, params=ChainParams(bars=1), **QUIET)
    same = run_chain(
        audio_dir, out=out, params=ChainParams(bars=1, role_config=str(config)), **QUIET
    )
    assert all(s.reused for s in same.stages)

    config.write_text("rules:\n  temperature: 0.3\n")  # edited in place
    argv = ["run", str(audio_dir), "--out", str(out), "--bars", "1", "--config", str(config)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.count("(reused)") == 1  # preprocess only
    edited = json.loads(Path(printed.split("[DONE] ")[1].split("\n")[0]).read_text())
    assert [s["reused"] for s in edited["stages"]] == [True, False, False, False]
    assert edited["params"]["role_config"] == str(config)
    per_sample = read_json(out / edited["stages"][1]["outputs"]["per_sample"], "per_sample")
    assert per_sample["config"]["config"] == str(config)
    assert edited["stages"][1]["outputs"]["pools"] != _relative_output(first, "roles", "pools")


def _relative_output(run, stage: str, name: str) -> str:
    return next(s for s in run.stages if s.stage == stage).outputs[name]


def _stage_keys(inputs: Path, out: Path, **params) -> dict[str, str]:
    """Each stage's key for these settings, as `run_chain` computes it (nothing is run)."""
    from drumgenx.chain.run import StageResult, _Chain

    chain = _Chain(inputs, out, ChainParams(**params), None, print)
    keys = {}
    for stage in STAGES:
        keys[stage] = chain.key(stage)
        chain.results[stage] = StageResult(stage, keys[stage], False, 0.0, {}, {})
    return keys


def _redone(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [stage for stage in STAGES if before[stage] != after[stage]]


def test_stage_keys_follow_every_file_behind_the_settings(
    audio_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """The role config and prompts (wherever read from), the learned role scorer's weights,
    the CLAP checkpoint, the GMD style library and the GrooVAE weights are each in the keys
    of the stages they change, and in no earlier one."""
    import drumgenx.groove.files as groove_files
    import drumgenx.roles.learned as learned
    import drumgenx.roles.settings as role_settings
    import drumgenx.skeleton.styles as styles

    base = _stage_keys(audio_dir, tmp_path)
    assert _stage_keys(audio_dir, tmp_path) == base

    config, prompts = tmp_path / "roles.yaml", tmp_path / "prompts.yaml"
    config.write_text("guards: []\n")
    assert _redone(base, _stage_keys(audio_dir, tmp_path, role_config=str(config))) == [
        "roles", "skeleton", "groove",
    ]  # fmt: skip
    prompts.write_text("CORE: [a kick drum]\n")
    assert _redone(base, _stage_keys(audio_dir, tmp_path, prompts=str(prompts))) == [
        "roles", "skeleton", "groove",
    ]  # fmt: skip

    # the checkout's own file, edited: read wherever the run starts, and keyed by content
    monkeypatch.setattr(role_settings, "CHECKOUT_CONFIG_PATH", config)
    assert _redone(base, _stage_keys(audio_dir, tmp_path))[0] == "roles"
    monkeypatch.undo()

    weights = tmp_path / "role_scorer.npz"
    weights.write_bytes(learned.DEFAULT_WEIGHTS.read_bytes() + b"\0")  # retrained
    monkeypatch.setattr(learned, "DEFAULT_WEIGHTS", weights)
    assert _redone(base, _stage_keys(audio_dir, tmp_path))[0] == "roles"
    monkeypatch.undo()

    clap = tmp_path / "clap"  # a checkpoint folder: its files are its identity
    clap.mkdir()
    (clap / "config.json").write_text("{}")
    with_clap = _stage_keys(audio_dir, tmp_path, clap_model=str(clap))
    (clap / "model.safetensors").write_bytes(b"weights")
    changed = _stage_keys(audio_dir, tmp_path, clap_model=str(clap))
    loadable = all(importlib.util.find_spec(m) for m in ("torch", "transformers"))
    assert _redone(with_clap, changed) == (["roles", "skeleton", "groove"] if loadable else [])

    library = tmp_path / "styles.json.gz"  # drumgenx train styles, rebuilt
    library.write_bytes(styles.LIBRARY_PATH.read_bytes() + b"\0")
    seed_base = _stage_keys(audio_dir, tmp_path, pattern="seed")
    monkeypatch.setattr(styles, "LIBRARY_PATH", library)
    assert _redone(base, _stage_keys(audio_dir, tmp_path)) == ["skeleton", "groove"]
    assert _stage_keys(audio_dir, tmp_path, pattern="seed") == seed_base  # not read: not keyed
    monkeypatch.undo()

    shipped = groove_files.WEIGHTS_DIR / groove_files.HUMANIZER_FILE  # humanize's model
    copy = tmp_path / "groove" / groove_files.HUMANIZER_FILE
    copy.parent.mkdir(parents=True)
    shutil.copy(shipped, copy)
    monkeypatch.setattr(groove_files, "WEIGHTS_DIR", tmp_path / "groove")
    assert _stage_keys(audio_dir, tmp_path) == base  # the same weights elsewhere
    copy.write_bytes(copy.read_bytes() + b"\0")
    assert _redone(base, _stage_keys(audio_dir, tmp_path)) == ["groove"]
    monkeypatch.undo()
    feel = _stage_keys(audio_dir, tmp_path, feel=0.5)
    assert _redone(base, feel) == ["groove"]
    assert _redone(feel, _stage_keys(audio_dir, tmp_path, feel=0.5, drummer=3)) == ["groove"]


def test_stage_1_key_follows_the_learned_onset_weights(
    audio_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    import drumgenx.preprocess.onsets_learned as onsets_learned

    learned, flux = {"onset_method": "learned"}, {"onset_method": "flux"}
    base = _stage_keys(audio_dir, tmp_path, **learned)
    flux_base = _stage_keys(audio_dir, tmp_path, **flux)
    weights = tmp_path / "onset_activation.npz"
    weights.write_bytes(onsets_learned.DEFAULT_WEIGHTS.read_bytes() + b"\0")  # retrained
    monkeypatch.setattr(onsets_learned, "DEFAULT_WEIGHTS", weights)
    assert _redone(base, _stage_keys(audio_dir, tmp_path, **learned)) == list(STAGES)
    assert _stage_keys(audio_dir, tmp_path, **flux) == flux_base  # not used: not keyed


def test_a_bad_role_config_fails_before_any_stage(audio_dir: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("fusion:\n  alpah: 0.5\n")
    rc = cli.main(["run", str(audio_dir), "--out", str(tmp_path / "out"), "--config", str(bad)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "bad.yaml" in err and "alpah" in err
    assert not (tmp_path / "out").exists()


def test_played_is_checked_before_any_stage() -> None:
    ChainParams().validate()  # keep, the default
    with pytest.raises(DrumgenxError, match="played must be keep or replace, got 'blend'"):
        ChainParams(played="blend").validate()
