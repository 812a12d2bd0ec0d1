"""Stage 1 with ``--onset_method transcribe`` (the tiny test transcriber, never the shipped
weights): hits found on the original audio, slices cut from the stem, every hit's class
probabilities in the manifest, long files in blocks, missing weights one line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumgenx.cli import main
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.formats import read_json
from drumgenx.kit.synth import synthesize_voice
from drumgenx.preprocess.config import PreprocessConfig, with_overrides
from drumgenx.preprocess.onsets import OnsetParams, detect_onsets
from drumgenx.preprocess.onsets_transcribe import detect_onsets_transcribe
from drumgenx.preprocess.run import _slice_block, process_file, run_preprocess
from drumgenx.preprocess.separation import SeparationParams, make_separator

SR = 44100
CLASSES = ["kick", "snare", "hihat", "tom", "cymbal"]


def _pattern(voices: list[str], *, gap_s: float = 0.5) -> tuple[np.ndarray, list[float]]:
    """Kit hits ``gap_s`` apart (mono); returns the audio and the hit times."""
    times = [0.25 + i * gap_s for i in range(len(voices))]
    y = np.zeros(int((times[-1] + 1.0) * SR), np.float32)
    for t, voice in zip(times, voices, strict=True):
        hit = synthesize_voice(voice, sr=SR)
        n = min(len(hit), int(gap_s * SR) - 10)
        fade = np.ones(n, np.float32)
        fade[-int(0.02 * SR) :] = np.linspace(1, 0, int(0.02 * SR))
        y[int(t * SR) : int(t * SR) + n] += hit[:n] * fade * 0.8
    return y, times


def _config(weights: Path, **changes) -> PreprocessConfig:
    config = with_overrides(
        PreprocessConfig(separation=SeparationParams(method="none")),
        onset_method="transcribe",
        transcriber_weights=str(weights),
    )
    return dataclasses.replace(config, **changes)


def test_detect_onsets_finds_the_kit_hits(tiny_transcriber_path: Path) -> None:
    y, times = _pattern(["kick", "snare", "hat_closed", "tom_mid", "crash"])
    params = OnsetParams(method="transcribe", transcriber_weights=str(tiny_transcriber_path))
    onsets = detect_onsets(y, sr=SR, params=params)
    np.testing.assert_allclose(onsets.times, times, atol=0.01)
    assert np.all(onsets.starts <= onsets.times) and np.all(onsets.starts > onsets.times - 0.05)
    found = detect_onsets_transcribe(y, sr=SR, params=params)
    assert found.class_probs.shape == (len(times), 5)
    assert found.class_probs[0].argmax() in (0, 3)  # the kick reads as kick (or a low tom)
    silent = detect_onsets_transcribe(np.zeros(SR, np.float32), sr=SR, params=params)
    assert silent.onsets.times.size == 0 and silent.class_probs.shape == (0, 5)


def test_hits_come_from_the_mix_and_slices_from_the_stem(tiny_transcriber_path: Path) -> None:
    """A stem holding only some of the mix's hits: every hit of the mix is transcribed (the
    per-file hit list), slices exist only where the stem sounds, timed from the mix."""
    mix, times = _pattern(["kick", "snare", "hat_closed", "tom_mid"])
    stem = mix.copy()
    stem[int(0.7 * SR) : int(1.7 * SR)] = 0.0  # the snare and the hat are not in the stem
    config = _config(tiny_transcriber_path)
    pieces, _, hit_list = _slice_block(
        stem[:, None], SR, offset_s=0.0, last=True, config=config, mix=(mix[:, None], SR)
    )
    np.testing.assert_allclose([h["time_s"] for h in hit_list], times, atol=0.01)
    assert all(set(h["class_probs"]) == set(CLASSES) for h in hit_list)
    onsets = [p.onset_s for p in pieces if p.onset_s is not None]
    np.testing.assert_allclose(onsets, [times[0], times[3]], atol=0.01)
    for piece in pieces:
        assert piece.class_probs is not None and len(piece.class_probs) == 5
        assert piece.start_s <= piece.onset_s < piece.end_s


def test_the_manifest_records_every_hit_and_its_classes(
    tmp_path: Path, tiny_transcriber_path: Path
) -> None:
    y, _ = _pattern(["snare", "kick", "snare", "snare", "hat_closed"])
    (tmp_path / "in").mkdir()
    soundfile.write(str(tmp_path / "in" / "loop.wav"), y, SR)
    summary = run_preprocess(
        dataset_root=tmp_path / "in",
        output_root=tmp_path / "out",
        config=_config(tiny_transcriber_path),
    )
    manifest = read_json(summary.manifest, "manifest")  # schema-checked
    assert manifest["config"]["onsets"]["method"] == "transcribe"
    assert manifest["config"]["onsets"]["transcriber_weights"] == str(tiny_transcriber_path)
    samples = manifest["samples"]
    assert samples and summary.duplicates_removed >= 1
    for sample in samples:
        assert list(sample["class_probs"]) == CLASSES
        assert sample["start_s"] <= sample["onset_s"] < sample["end_s"]
        for hit in sample["absorbed"]:
            assert list(hit["class_probs"]) == CLASSES and hit["onset_s"] >= hit["start_s"]
    assert any(sample["absorbed"] for sample in samples)
    (record,) = manifest["files"]
    assert record["hits"] == len(record["hit_list"]) == 5
    times = [h["time_s"] for h in record["hit_list"]]
    assert times == sorted(times) and all(
        list(h["class_probs"]) == CLASSES for h in record["hit_list"]
    )
    for h in record["hit_list"]:  # the classes it was transcribed as: at least the likeliest
        probs = h["class_probs"]
        assert h["classes"] and max(probs, key=probs.get) in h["classes"]
        assert -120 <= h["level_db"] <= 6  # the stem's peak just after the hit
    kept_and_absorbed = [s["onset_s"] for s in samples] + [
        a["onset_s"] for s in samples for a in s["absorbed"]
    ]
    assert sorted(kept_and_absorbed) == pytest.approx(times, abs=1e-6)


def test_flux_manifests_keep_onsets_but_no_class_probs(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    soundfile.write(str(tmp_path / "in" / "a.wav"), _pattern(["kick", "snare"])[0], SR)
    summary = run_preprocess(
        dataset_root=tmp_path / "in",
        output_root=tmp_path / "out",
        config=PreprocessConfig(
            separation=SeparationParams(method="none"), onsets=OnsetParams(method="flux")
        ),
    )
    manifest = read_json(summary.manifest, "manifest")
    assert all("class_probs" not in s and s["onset_s"] > 0 for s in manifest["samples"])
    (record,) = manifest["files"]
    assert len(record["hit_list"]) == 2 and "class_probs" not in record["hit_list"][0]


def test_a_long_file_in_blocks_gives_the_same_hits(
    tmp_path: Path, tiny_transcriber_path: Path
) -> None:
    """Block edges every 1.2 s fall inside hits and between them: every hit is found once,
    timed in the file, with the same classes as when the file is read whole."""
    y, times = _pattern(["kick", "snare", "hat_closed", "tom_mid", "clap", "tom_low"] * 2)
    path = tmp_path / "long.wav"
    soundfile.write(str(path), y, SR)
    separator = make_separator(SeparationParams(method="none"))
    whole = process_file(path, config=_config(tiny_transcriber_path), separator=separator)
    blocked = process_file(
        path, config=_config(tiny_transcriber_path, block_s=1.2), separator=separator
    )
    assert len(whole.report.hit_list) == len(times)
    np.testing.assert_allclose([h["time_s"] for h in whole.report.hit_list], times, atol=0.01)
    assert blocked.report.hits == whole.report.hits
    np.testing.assert_allclose(
        [h["time_s"] for h in blocked.report.hit_list],
        [h["time_s"] for h in whole.report.hit_list],
        atol=0.003,
    )
    np.testing.assert_allclose(
        [s.start_s for s in blocked.slices], [s.start_s for s in whole.slices], atol=0.003
    )
    np.testing.assert_allclose(
        [s.onset_s for s in blocked.slices], [s.onset_s for s in whole.slices], atol=0.003
    )

    def classes(hit_list: list[dict]) -> list[int]:
        return [int(np.argmax(list(h["class_probs"].values()))) for h in hit_list]

    assert classes(blocked.report.hit_list) == classes(whole.report.hit_list)


def test_missing_weights_are_one_line_before_any_work(tmp_path: Path, capsys) -> None:
    (tmp_path / "in").mkdir()
    soundfile.write(str(tmp_path / "in" / "a.wav"), _pattern(["kick"])[0], SR)
    with pytest.raises(DrumgenxError, match=r"transcriber weights not found: .*nope\.npz"):
        run_preprocess(
            dataset_root=tmp_path / "in",
            output_root=tmp_path / "out",
            config=_config(tmp_path / "nope.npz"),
        )
    assert not (tmp_path / "out").exists()
    args = ["preprocess", "--dataset_root", str(tmp_path / "in"), "--output_root"]
    args += [str(tmp_path / "o"), "--separator", "none", "--onset_method", "transcribe"]
    assert main([*args, "--transcriber_weights", str(tmp_path / "nope.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.npz" in err


def test_cli_selects_the_transcriber(tmp_path: Path, tiny_transcriber_path: Path, capsys) -> None:
    (tmp_path / "in").mkdir()
    soundfile.write(str(tmp_path / "in" / "a.wav"), _pattern(["kick", "snare"])[0], SR)
    args = ["preprocess", "--dataset_root", str(tmp_path / "in"), "--output_root"]
    args += [str(tmp_path / "o"), "--separator", "none", "--onset_method", "transcribe"]
    args += ["--transcriber_weights", str(tiny_transcriber_path)]
    assert main([*args, "--print_config"]) == 0
    printed = capsys.readouterr().out
    assert "method: transcribe" in printed and str(tiny_transcriber_path) in printed
    assert main(args) == 0
    assert "samples written: 2" in capsys.readouterr().out
    manifest = read_json(tmp_path / "o" / "manifest_1.json", "manifest")
    assert all(list(s["class_probs"]) == CLASSES for s in manifest["samples"])


def test_a_hits_level_is_the_stems_peak_just_after_it() -> None:
    from drumgenx.preprocess.run import hit_level_db

    sr = 1000
    mono = np.zeros(sr, dtype=np.float32)
    mono[500:510] = 0.5
    mono[520] = -1.0  # 20 ms after the hit: inside the window
    mono[600] = 1.0  # 100 ms after: outside
    assert hit_level_db(mono, sr=sr, time_s=0.5) == 0.0
    mono[520] = 0.0
    assert hit_level_db(mono, sr=sr, time_s=0.5) == pytest.approx(-6.02, abs=0.01)
    assert hit_level_db(mono, sr=sr, time_s=0.2) == -120.0
