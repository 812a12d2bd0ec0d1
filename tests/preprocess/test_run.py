"""Stage 1 end to end on generated audio: formats, bad files, manifest, append/skip/force."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumgenx.cli import main
from drumgenx.core.formats import read_json
from drumgenx.core.skips import SkipKind
from drumgenx.kit.synth import synthesize_voice
from drumgenx.preprocess.config import PreprocessConfig
from drumgenx.preprocess.onsets import OnsetParams
from drumgenx.preprocess.run import process_file, run_preprocess
from drumgenx.preprocess.separation import SeparationParams, make_separator

NO_SEPARATION = PreprocessConfig(separation=SeparationParams(method="none"))
# The file-format test below reads every format at its own rate; it pins the flux detector,
# which hears a 22.05 kHz hat that the transcriber (trained on 44.1 kHz renders) misses.
FLUX_NO_SEPARATION = dataclasses.replace(NO_SEPARATION, onsets=OnsetParams(method="flux"))
SR = 44100


def _pattern(voices: list[str], *, sr: int = SR, gap_s: float = 0.5, channels: int = 1):
    """Distinct kit hits ``gap_s`` apart; returns (audio (frames, channels), onset times)."""
    hits = [synthesize_voice(v, sr=sr) for v in voices]
    times = [0.25 + i * gap_s for i in range(len(hits))]
    y = np.zeros(int((times[-1] + 1.0) * sr), np.float32)
    for t, hit in zip(times, hits, strict=True):
        n = min(len(hit), int(gap_s * sr) - 10)
        fade = np.ones(n, np.float32)
        fade[-int(0.02 * sr) :] = np.linspace(1, 0, int(0.02 * sr))  # no click where it is cut
        y[int(t * sr) : int(t * sr) + n] += hit[:n] * fade * 0.8
    return np.repeat(y[:, None], channels, axis=1), times


def _write(path: Path, y: np.ndarray, sr: int, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), y, sr, **kwargs)
    return path


def _wavs(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("dummy_*.wav"))


def test_process_file_is_pure_and_finds_the_hits(tmp_path: Path) -> None:
    y, times = _pattern(["kick", "snare", "hat_closed", "tom_mid"])
    path = _write(tmp_path / "loop.wav", y, SR)
    before = sorted(tmp_path.iterdir())
    result = process_file(
        path, config=NO_SEPARATION, separator=make_separator(SeparationParams(method="none"))
    )
    assert sorted(tmp_path.iterdir()) == before  # wrote nothing
    assert result.report.status == "processed" and result.report.hits == 4
    starts = [s.start_s for s in result.slices]
    # each slice starts just before its attack (backtracked onset minus a short pre-roll)
    assert all(t - 0.015 <= s <= t for s, t in zip(starts, times, strict=True)), starts
    assert result.fingerprints.shape[0] == len(result.slices) == 4


def test_a_long_file_is_worked_through_in_blocks_with_the_same_hits(tmp_path: Path) -> None:
    """Block edges (every 1.2 s here) fall inside hits and between them; every hit is found
    once, at its place in the file, as when the file is read whole."""
    y, times = _pattern(["kick", "snare", "hat_closed", "tom_mid", "clap", "tom_low"] * 2)
    path = _write(tmp_path / "long.wav", y, SR)
    separator = make_separator(SeparationParams(method="none"))
    whole = process_file(path, config=NO_SEPARATION, separator=separator)
    blocked = process_file(
        path, config=dataclasses.replace(NO_SEPARATION, block_s=1.2), separator=separator
    )
    assert blocked.report.hits == whole.report.hits >= len(times)
    np.testing.assert_allclose(
        [s.start_s for s in blocked.slices], [s.start_s for s in whole.slices], atol=0.003
    )
    assert blocked.fingerprints.shape == whole.fingerprints.shape
    assert blocked.report.duration_s == pytest.approx(len(y) / SR)


@pytest.mark.parametrize(
    "name, kwargs, sr, channels",
    [
        ("a.wav", {"subtype": "PCM_16"}, 44100, 1),
        ("b.wav", {"subtype": "FLOAT"}, 96000, 2),
        ("c.flac", {}, 48000, 2),
        ("d.ogg", {"format": "OGG", "subtype": "VORBIS"}, 44100, 2),
        ("e.opus", {"format": "OGG", "subtype": "OPUS"}, 48000, 1),
        ("f.mp3", {"format": "MP3", "subtype": "MPEG_LAYER_III"}, 44100, 2),
        ("g.aiff", {"format": "AIFF", "subtype": "PCM_24"}, 22050, 1),
    ],
)
def test_every_format_rate_and_channel_count(tmp_path: Path, name, kwargs, sr, channels) -> None:
    y, _ = _pattern(["kick", "snare", "hat_open"], sr=sr, channels=channels)
    _write(tmp_path / "in" / name, y, sr, **kwargs)
    summary = run_preprocess(
        dataset_root=tmp_path / "in", output_root=tmp_path / "out", config=FLUX_NO_SEPARATION
    )
    assert summary.files_read == 1 and summary.hits_found == 3, summary.reports
    assert len(_wavs(tmp_path / "out")) == 3
    info = soundfile.info(str(tmp_path / "out" / "dummy_00001.wav"))
    assert info.samplerate == sr and info.channels == channels


def test_bad_files_are_listed_and_skipped_and_unicode_paths_work(tmp_path: Path) -> None:
    root = tmp_path / "in"
    y, _ = _pattern(["kick", "clap"])
    _write(root / "sub folder" / "Drüms lööp #1.wav", y, SR)
    (root / "notes.txt").write_text("not audio")
    (root / "fake.wav").write_text("RIFF? no")
    (root / "empty.wav").write_bytes(b"")
    _write(root / "silent.flac", np.zeros((SR, 1), np.float32), SR)
    summary = run_preprocess(dataset_root=root, output_root=tmp_path / "out", config=NO_SEPARATION)
    status = {Path(r.source).name: (r.status, r.reason) for r in summary.reports}
    assert status["Drüms lööp #1.wav"][0] == "processed"
    assert status["notes.txt"] == ("skipped", "not an audio file type")
    assert status["fake.wav"][0] == status["empty.wav"][0] == "skipped"
    assert status["silent.flac"][0] == "skipped" and "silent" in status["silent.flac"][1]
    # programs read why from the kind, never from the text (the chain does)
    kinds = {Path(r.source).name: r.skip for r in summary.reports}
    assert kinds == {
        "Drüms lööp #1.wav": None,
        "notes.txt": SkipKind.NOT_AUDIO,
        "fake.wav": SkipKind.UNDECODABLE,
        "empty.wav": SkipKind.UNDECODABLE,
        "silent.flac": SkipKind.SILENT,
    }
    assert len(summary.samples) == 2
    manifest = read_json(summary.manifest, "manifest")
    assert {Path(f["source"]).name for f in manifest["files"]} == set(status)
    assert all("skip" not in f for f in manifest["files"])  # the manifest is as before


def test_duplicates_are_merged_into_the_strongest_and_recorded(tmp_path: Path) -> None:
    y, _ = _pattern(["snare", "snare", "snare", "kick"])
    y[int(0.25 * SR) : int(0.75 * SR)] *= 0.5  # the first snare is the quietest copy
    _write(tmp_path / "in" / "loop.wav", y, SR)
    summary = run_preprocess(
        dataset_root=tmp_path / "in", output_root=tmp_path / "out", config=NO_SEPARATION
    )
    manifest = read_json(summary.manifest, "manifest")
    assert len(manifest["samples"]) == 2 and summary.duplicates_removed == 2
    snare = max(manifest["samples"], key=lambda s: len(s["absorbed"]))
    assert len(snare["absorbed"]) == 2
    assert all(a["similarity"] > 0.98 for a in snare["absorbed"])
    assert snare["start_s"] > 0.5  # a loud copy was kept, not the quiet first one
    for sample in manifest["samples"]:
        assert sample["source"].endswith("loop.wav") and sample["end_s"] > sample["start_s"]
        assert (tmp_path / "out" / sample["file"]).is_file()
    peak = np.abs(soundfile.read(str(tmp_path / "out" / "dummy_00001.wav"))[0]).max()
    assert peak == pytest.approx(10 ** (-1 / 20), abs=2e-4)  # peak-normalised


def test_rerun_skips_appends_and_never_overwrites(tmp_path: Path) -> None:
    root, out = tmp_path / "in", tmp_path / "out"
    _write(root / "one.wav", _pattern(["kick", "snare"])[0], SR)
    first = run_preprocess(dataset_root=root, output_root=out, config=NO_SEPARATION)
    assert _wavs(out) == ["dummy_00001.wav", "dummy_00002.wav"]
    original = {p: (out / p).read_bytes() for p in _wavs(out)}

    again = run_preprocess(dataset_root=root, output_root=out, config=NO_SEPARATION)
    assert again.already_processed == 1 and not again.samples and again.manifest is None

    _write(root / "two.wav", _pattern(["tom_low", "crash"])[0], SR)
    third = run_preprocess(dataset_root=root, output_root=out, config=NO_SEPARATION)
    assert [p.name for p in third.samples] == ["dummy_00003.wav", "dummy_00004.wav"]
    assert third.manifest.name == "manifest_2.json" and first.manifest.name == "manifest_1.json"

    forced = run_preprocess(dataset_root=root, output_root=out, config=NO_SEPARATION, force=True)
    assert forced.files_read == 2 and not forced.samples  # all absorbed by the library
    by_existing = read_json(forced.manifest, "manifest")["absorbed_by_existing"]
    assert {a["sample_id"] for a in by_existing} == {f"dummy_0000{i}" for i in range(1, 5)}
    assert all((out / p).read_bytes() == data for p, data in original.items())
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left


def test_same_content_twice_in_one_run_is_read_once(tmp_path: Path) -> None:
    y, _ = _pattern(["kick", "snare"])
    _write(tmp_path / "in" / "a.wav", y, SR)
    _write(tmp_path / "in" / "b.wav", y, SR)
    summary = run_preprocess(
        dataset_root=tmp_path / "in", output_root=tmp_path / "out", config=NO_SEPARATION
    )
    assert summary.files_read == 1 and summary.skipped == {"same content": 1}
    assert [r.skip for r in summary.reports if r.status == "skipped"] == [SkipKind.DUPLICATE]


def test_output_folder_inside_the_dataset_is_not_read_back(tmp_path: Path) -> None:
    _write(tmp_path / "a.wav", _pattern(["kick", "snare"])[0], SR)
    run_preprocess(dataset_root=tmp_path, output_root=tmp_path / "lib", config=NO_SEPARATION)
    second = run_preprocess(
        dataset_root=tmp_path, output_root=tmp_path / "lib", config=NO_SEPARATION
    )
    assert second.files_read == 0 and second.already_processed == 1


def test_interrupt_leaves_the_library_as_it_was(tmp_path: Path, monkeypatch) -> None:
    import drumgenx.preprocess.run as stage

    _write(tmp_path / "in" / "a.wav", _pattern(["kick", "snare", "clap"])[0], SR)

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stage, "_write_manifest", interrupted)
    (tmp_path / "library").mkdir()
    for out in ("library", "new/out"):
        with pytest.raises(KeyboardInterrupt):
            run_preprocess(
                dataset_root=tmp_path / "in", output_root=tmp_path / out, config=NO_SEPARATION
            )
    assert list((tmp_path / "library").iterdir()) == []  # the user's folder stays, as it was
    assert not (tmp_path / "new").exists()  # a folder the run made goes with it


def test_workers_give_the_same_library(tmp_path: Path) -> None:
    for i, voices in enumerate([["kick", "snare"], ["tom_low", "clap"], ["hat_open", "crash"]]):
        _write(tmp_path / "in" / f"{i}.wav", _pattern(voices)[0], SR)
    one = run_preprocess(
        dataset_root=tmp_path / "in", output_root=tmp_path / "w1", config=NO_SEPARATION
    )
    two = run_preprocess(
        dataset_root=tmp_path / "in", output_root=tmp_path / "w2", config=NO_SEPARATION, workers=2
    )
    assert [p.name for p in one.samples] == [p.name for p in two.samples]
    for a, b in zip(one.samples, two.samples, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_cli_runner_config_and_errors(tmp_path: Path, repo_root: Path, capsys) -> None:
    _write(tmp_path / "in" / "a.wav", _pattern(["kick", "snare"])[0], SR)
    config = tmp_path / "c.yaml"
    config.write_text("slicing:\n  max_length_s: 0.2\nseparation:\n  method: none\n")
    args = [
        "preprocess",
        "--dataset_root",
        str(tmp_path / "in"),
        "--output_root",
        str(tmp_path / "o"),
    ]
    assert main([*args, "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "samples written: 2" in out and "manifest_1.json" in out
    manifest = read_json(tmp_path / "o" / "manifest_1.json", "manifest")
    assert all(s["end_s"] - s["start_s"] <= 0.2 + 1e-6 for s in manifest["samples"])
    assert manifest["config"]["slicing"]["max_length_s"] == 0.2

    config.write_text("slicing:\n  max_lenght_s: 0.2\n")
    assert main([*args, "--config", str(config)]) == 2
    assert "unknown key(s) ['max_lenght_s']" in capsys.readouterr().err
    assert main(["preprocess", "--dataset_root", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main([*args, "--print_config", "--separator", "hpss", "--onset_method", "learned"]) == 0
    printed = capsys.readouterr().out
    assert "method: hpss" in printed and "method: learned" in printed

    runner = subprocess.run(
        [sys.executable, str(repo_root / "pipeline/run_preprocess.py"), "--dataset_root",
         str(tmp_path / "in"), "--output_root", str(tmp_path / "r"), "--separator", "none"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert runner.returncode == 0, runner.stderr
    assert (
        json.loads((tmp_path / "r" / "manifest_1.json").read_text())["summary"]["samples_written"]
        == 2
    )


def test_fingerprints_of_other_settings_are_not_compared(tmp_path: Path, capsys) -> None:
    """Changing the de-duplication settings makes old fingerprints incomparable: say so."""
    import dataclasses

    root, out = tmp_path / "in", tmp_path / "out"
    _write(root / "one.wav", _pattern(["kick", "snare"])[0], SR)
    run_preprocess(dataset_root=root, output_root=out, config=NO_SEPARATION)
    other = dataclasses.replace(
        NO_SEPARATION, dedup=dataclasses.replace(NO_SEPARATION.dedup, n_mfcc=20)
    )
    said: list[str] = []
    forced = run_preprocess(
        dataset_root=root, output_root=out, config=other, force=True, notify=said.append
    )
    assert any("other de-duplication settings" in m for m in said)
    assert len(forced.samples) == 2  # not compared with the library, so written again


def test_learned_onset_method_runs_through_the_pipeline(tmp_path: Path) -> None:
    import dataclasses

    config = dataclasses.replace(
        NO_SEPARATION, onsets=dataclasses.replace(NO_SEPARATION.onsets, method="learned")
    )
    _write(tmp_path / "in" / "a.wav", _pattern(["kick", "snare", "hat_closed"])[0], SR)
    summary = run_preprocess(
        dataset_root=tmp_path / "in", output_root=tmp_path / "o", config=config
    )
    assert summary.hits_found == 3 and len(summary.samples) == 3
    assert read_json(summary.manifest, "manifest")["config"]["onsets"]["method"] == "learned"


@pytest.mark.parametrize("voice", ["kick", "tom_low", "hat_closed", "pad"])
def test_a_one_shot_file_becomes_one_sample(tmp_path: Path, voice: str) -> None:
    """A file that is one hit from its first sample (or a slow swell) has no detectable rise;
    the sound before the first onset is kept, so it still becomes a sample."""
    hit = synthesize_voice(voice)
    _write(tmp_path / "in" / f"{voice}.wav", hit, SR)
    summary = run_preprocess(
        dataset_root=tmp_path / "in", output_root=tmp_path / "o", config=NO_SEPARATION
    )
    assert len(summary.samples) == 1
    sample = read_json(summary.manifest, "manifest")["samples"][0]
    assert sample["start_s"] <= 0.03 and sample["end_s"] >= 0.05


def test_lead_in_merges_with_a_near_onset_and_splits_from_a_far_one() -> None:
    from drumgenx.preprocess.onsets import Onsets
    from drumgenx.preprocess.run import with_lead_in

    mono = np.zeros(SR, np.float32)
    mono[441:] = 0.5  # sound from 10 ms
    near = Onsets(np.array([0.04]), np.array([0.035]), np.array([1.0]))
    starts, strengths = with_lead_in(mono, sr=SR, onsets=near, config=NO_SEPARATION)
    assert starts.tolist() == [0.01] and strengths.tolist() == [1.0]
    far = Onsets(np.array([0.5]), np.array([0.5]), np.array([1.0]))
    starts, strengths = with_lead_in(mono, sr=SR, onsets=far, config=NO_SEPARATION)
    assert starts.tolist() == [0.01, 0.5] and strengths.tolist() == [0.0, 1.0]
