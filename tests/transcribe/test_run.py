"""``drumgenx transcribe``: the demo song and bad inputs in; MIDI and hits.json out, checked
with an independent reader (pretty_midi), against their schema, and never overwritten."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile

from drumgenx.cli import main
from drumgenx.core.errors import FormatError
from drumgenx.core.formats import load_hits
from drumgenx.kit.demo import build_demo
from drumgenx.transcribe.run import CLASS_NOTES, transcribe_files

NOTES = set(CLASS_NOTES.values())


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo audio, a text file named .wav, an empty file, a WAV cut short, a silent WAV."""
    root = tmp_path_factory.mktemp("in")
    build_demo(root / "demo", seed=0)
    (root / "bad.wav").write_text("this is not audio")
    (root / "empty.wav").write_bytes(b"")
    loop = (root / "demo" / "drum_loop.wav").read_bytes()
    (root / "cut.wav").write_bytes(loop[: len(loop) // 2])
    soundfile.write(str(root / "silent.wav"), np.zeros(44100, np.float32), 44100)
    return root


@pytest.fixture(scope="module")
def first_run(
    inputs: Path, tmp_path_factory: pytest.TempPathFactory, tiny_transcriber_path: Path
) -> tuple[Path, str, str]:
    out = tmp_path_factory.mktemp("out")
    capture = tmp_path_factory.mktemp("log")
    argv = ["transcribe", str(inputs / "demo" / "demo_song.wav")]
    argv += [str(inputs / name) for name in ("bad.wav", "empty.wav", "cut.wav", "silent.wav")]
    argv += ["--out", str(out), "--model", str(tiny_transcriber_path)]
    import contextlib

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        assert main(argv) == 0
    (capture / "stdout").write_text(stdout.getvalue())
    return out, stdout.getvalue(), stderr.getvalue()


def test_the_demo_song_becomes_gm_drums_on_channel_10(first_run) -> None:
    out, stdout, _ = first_run
    assert sorted(p.name for p in out.iterdir()) == ["demo_song.hits.json", "demo_song.mid"]
    record = load_hits(out / "demo_song.hits.json")  # schema-checked
    hits = record["hits"]
    assert len(hits) >= 20 and record["classes"] == list(CLASS_NOTES)
    assert record["tempo_bpm"] == pytest.approx(110.0, rel=0.05)  # the demo song is 110 bpm
    assert record["model"]["weights"] == "tiny_transcriber.npz"
    assert record["model"]["version"] == "tiny-test"
    assert record["sample_rate"] == 44100 and record["duration_s"] > 20

    midi = pretty_midi.PrettyMIDI(str(out / "demo_song.mid"))
    assert len(midi.instruments) == 1 and midi.instruments[0].is_drum
    notes = sorted(midi.instruments[0].notes, key=lambda n: (n.start, n.pitch))
    assert {n.pitch for n in notes} <= NOTES
    expected = sorted(
        (hit["time_s"], CLASS_NOTES[name], round(1 + 126 * hit["strength"]))
        for hit in hits
        for name in hit["classes"]
    )
    assert len(notes) == len(expected)
    for note, (time_s, pitch, velocity) in zip(notes, expected, strict=True):
        assert abs(note.start - time_s) <= 0.001
        assert note.pitch == pitch and note.velocity == velocity
        assert 0 < note.end - note.start <= 0.051
    _, tempi = midi.get_tempo_changes()
    assert tempi[0] == pytest.approx(record["tempo_bpm"], rel=1e-4)
    song = mido.MidiFile(str(out / "demo_song.mid"))
    channels = {m.channel for t in song.tracks for m in t if m.type in ("note_on", "note_off")}
    assert channels == {9}  # channel 10 counted from 1
    assert "demo_song.wav: " in stdout and f"{len(hits)} hits" in stdout


def test_bad_and_silent_inputs_are_listed_and_the_run_goes_on(first_run) -> None:
    _, stdout, stderr = first_run
    assert "skipped" in stderr and "bad.wav: cannot decode audio" in stderr
    assert "empty.wav: cannot decode audio" in stderr
    assert "cut.wav: truncated: the header promises" in stderr
    assert "silent.wav: silent (peak below -60 dBFS)" in stderr
    assert "files transcribed: 1; skipped: 2 cannot decode audio, 1 truncated" in stdout
    assert stdout.rstrip().splitlines()[1].endswith(", 1 silent")
    assert "Traceback" not in stderr


def test_nothing_is_overwritten_and_same_names_get_numbers(
    inputs: Path, tmp_path: Path, tiny_transcriber_path: Path
) -> None:
    song = inputs / "demo" / "demo_song.wav"
    other = tmp_path / "elsewhere" / "demo_song.wav"
    other.parent.mkdir()
    shutil.copy(inputs / "demo" / "drum_loop.wav", other)
    out = tmp_path / "out"
    first = transcribe_files([song, other], out_dir=out, model_path=tiny_transcriber_path)
    assert [f.midi.name for f in first.files] == ["demo_song.mid", "demo_song_2.mid"]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    second = transcribe_files([song], out_dir=out, model_path=tiny_transcriber_path)
    assert [(f.midi.name, f.hits_json.name) for f in second.files] == [
        ("demo_song_3.mid", "demo_song_3.hits.json")
    ]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in before} == before
    assert second.files[0].midi.read_bytes() == before["demo_song.mid"]  # deterministic


def test_folders_are_searched_and_a_folder_of_only_bad_files_is_an_error(
    inputs: Path, tmp_path: Path, tiny_transcriber_path: Path, capsys
) -> None:
    summary = transcribe_files(
        [inputs / "demo"], out_dir=tmp_path / "all", model_path=tiny_transcriber_path
    )
    names = sorted(Path(f.source).name for f in summary.files)
    assert names == sorted(["demo_song.wav", "drum_loop.wav", "door_slam.wav",
                            "metal_clank.wav", "cardboard_tap.wav"])  # fmt: skip
    for done in summary.files:
        load_hits(done.hits_json)
    bad = [str(inputs / "bad.wav"), str(inputs / "silent.wav")]
    model = ["--model", str(tiny_transcriber_path)]
    code = main(["transcribe", *bad, "--out", str(tmp_path / "none"), *model])
    err = capsys.readouterr().err
    assert code == 2 and "error: no input could be transcribed (2 skipped" in err
    assert not list((tmp_path / "none").iterdir())


def test_missing_weights_and_missing_inputs_are_one_line(
    inputs: Path, tmp_path: Path, capsys
) -> None:
    song = str(inputs / "demo" / "demo_song.wav")
    code = main(["transcribe", song, "--out", str(tmp_path), "--model", str(tmp_path / "x.npz")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "transcriber weights not found" in err and "x.npz" in err
    code = main(["transcribe", str(tmp_path / "nope.wav"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert (
        code == 2
        and err.strip() == f"drumgenx: error: AUDIO {tmp_path / 'nope.wav'}: no such file or folder"
    )


def test_a_broken_hits_file_is_one_line(first_run, tmp_path: Path) -> None:
    out, _, _ = first_run
    data = json.loads((out / "demo_song.hits.json").read_text())
    data["hits"][0]["class_probs"].pop("tom")
    bad = tmp_path / "bad.hits.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(
        FormatError, match=r"bad.hits.json: not a valid hits file: field 'hits\[0\]"
    ):
        load_hits(bad)
    data = json.loads((out / "demo_song.hits.json").read_text())
    data["hits"][0], data["hits"][1] = data["hits"][1], data["hits"][0]
    bad.write_text(json.dumps(data))
    with pytest.raises(FormatError, match=r"field 'hits\[1\].time_s'"):
        load_hits(bad)


def test_blocks_give_the_hits_of_one_pass(tmp_path: Path) -> None:
    """A file transcribed 2 s at a time has the hits of one pass over the whole file."""
    from drumgenx.transcribe.detect import transcribe_audio
    from drumgenx.transcribe.model import load_model
    from drumgenx.transcribe.run import file_hits

    sr = 44100
    rng = np.random.default_rng(3)
    y = 0.01 * rng.standard_normal(round(7.3 * sr))
    for t in (0.2, 0.95, 1.98, 2.01, 3.5, 3.99, 4.0, 5.2, 6.03, 7.1):  # hits on block edges too
        k = round(t * sr)
        burst = rng.standard_normal(4000) * np.exp(-np.arange(4000) / 600.0)
        y[k : k + 4000] += 0.6 * burst[: len(y) - k]
    stereo = np.stack([y, 0.5 * y], axis=1).astype(np.float32)
    path = tmp_path / "long.wav"
    soundfile.write(path, stereo, sr, subtype="FLOAT")
    model = load_model()
    whole = transcribe_audio(stereo.mean(axis=1), sr=sr, model=model)
    found, duration, rate = file_hits(path, model=model, block_s=2)
    assert rate == sr and duration == pytest.approx(len(y) / sr)
    assert len(whole.times) >= 8
    np.testing.assert_allclose(found.activations, whole.activations, atol=1e-5)
    np.testing.assert_allclose(found.times, whole.times, atol=1e-4)
    np.testing.assert_allclose(found.class_probs, whole.class_probs, atol=1e-4)
    soundfile.write(tmp_path / "quiet.wav", np.full(sr, 1e-5, np.float32), sr)
    assert file_hits(tmp_path / "quiet.wav", model=model).startswith("silent")
    with pytest.raises(ValueError, match="block_s"):
        file_hits(path, model=model, block_s=0)


def test_a_file_within_one_block_is_decoded_once(tmp_path: Path, monkeypatch) -> None:
    from drumgenx.transcribe import run as transcribe_run
    from drumgenx.transcribe.detect import transcribe_audio
    from drumgenx.transcribe.model import load_model

    sr = 44100
    y = np.zeros(2 * sr, dtype=np.float32)
    y[sr // 2 : sr // 2 + 2000] = np.hanning(2000) * 0.8
    soundfile.write(tmp_path / "short.wav", y, sr, subtype="FLOAT")
    reads = []
    real_read = transcribe_run.read_audio
    monkeypatch.setattr(
        transcribe_run, "read_audio", lambda *a, **k: reads.append(k) or real_read(*a, **k)
    )
    model = load_model()
    found, _, _ = transcribe_run.file_hits(tmp_path / "short.wav", model=model)
    assert len(reads) == 1
    np.testing.assert_allclose(
        found.activations, transcribe_audio(y, sr=sr, model=model).activations, atol=1e-6
    )
