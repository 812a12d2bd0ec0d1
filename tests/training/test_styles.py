"""``drumgenx train styles``: the GMD style library built from a tiny GMD-like folder.

The performances are written on exact 16th-note positions (480 ticks a beat: 120 a step),
so every step, velocity and micro-timing offset the builder should find is known.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from pathlib import Path

import pytest

from drumgenx.cli import main
from drumgenx.skeleton.styles import load_library
from drumgenx.training import styles as builder
from drumgenx.training.settings import StyleLibrarySettings

KICK, RIM, SNARE, HAT, RIDE, TOM, CRASH = 36, 37, 38, 42, 51, 45, 49


def rock_bar(bar: int, *, extra_kick: bool = False) -> list[tuple[float, int, int]]:
    """Kick on 1 and 3, snare on 2 and 4, 16th hats swung: every odd 16th a third late,
    loud on the beat and soft between; a ride over the hat on beat 1 (louder: it stays)."""
    first = bar * 16
    notes = [(first + 0, KICK, 100), (first + 8, KICK, 96), (first + 4, SNARE, 110)]
    notes += [(first + 12, SNARE, 112), (first + 0, RIDE, 120)]
    for step in range(16):
        notes.append((first + step + (1 / 3 if step % 2 else 0), HAT, 90 if step % 2 == 0 else 50))
    if extra_kick:
        notes.append((first + 10 - 0.2, KICK, 70))  # early: step 10, offset -0.2
    return notes


def funk_bar(bar: int) -> list[tuple[float, int, int]]:
    """Triplet-swung eighths: the off-beat eighth at two thirds of the beat (8/3 steps)."""
    first = bar * 16
    notes = [(first + 0, KICK, 100), (first + 4, RIM, 80), (first + 12, SNARE, 105)]
    for beat in range(4):
        notes += [(first + 4 * beat, HAT, 80), (first + 4 * beat + 8 / 3, HAT, 40)]
    return notes


def fill_bars() -> list[tuple[float, int, int]]:
    """A fill: beat 1-2 of the groove, then 16th toms down to a crash on the next downbeat."""
    notes = [(0, KICK, 100), (0, HAT, 80), (2, HAT, 60), (4, SNARE, 110), (6, HAT, 60)]
    notes += [(step, TOM, 60 + 4 * step) for step in range(8, 16)]
    notes.append((16, CRASH, 127))  # bar 1: one hit, no fill
    return notes


ROWS = [  # id, style, bpm, beat_type, time signature, split
    ("drummer1/session1/1", "rock/halftime", 120, "beat", "4-4", "train"),
    ("drummer1/session1/2", "funk/groove2", 100, "beat", "4-4", "train"),
    ("drummer1/session1/3", "rock", 130, "fill", "4-4", "train"),
    ("drummer1/session1/4", "rock", 90, "beat", "3-4", "train"),
    ("drummer2/session1/5", "jazz", 140, "beat", "4-4", "validation"),
    ("drummer2/eval_session/6", "rock", 200, "beat", "4-4", "test"),
]


@pytest.fixture
def make_gmd(drum_midi, info_csv):
    """``make_gmd(root)``: a GMD-like folder of the `ROWS`, the test row's MIDI file corrupt
    (it must never be opened), the validation row a fine jazz beat (it must never be used)."""
    notes = {
        "drummer1/session1/1": [
            *rock_bar(0),
            *rock_bar(1),
            *rock_bar(2),
            *rock_bar(3, extra_kick=True),
            *rock_bar(4),
            *rock_bar(5),  # bars 4-5 repeat bars 0-1: de-duplicated
            (96, CRASH, 127),  # the last crash: a bar with one hit, no window
        ],
        "drummer1/session1/2": [*funk_bar(0), *funk_bar(1)],
        "drummer1/session1/3": fill_bars(),
        "drummer1/session1/4": [n for bar in range(4) for n in rock_bar(bar)],
        "drummer2/session1/5": [n for bar in range(4) for n in funk_bar(bar)],
    }

    def make(root: Path) -> Path:
        rows = []
        for gmd_id, style, bpm, beat_type, meter, split in ROWS:
            session, number = gmd_id.rsplit("/", 1)
            name = f"{session}/{number}_{style.replace('/', '-')}_{bpm}_{beat_type}_{meter}.mid"
            (root / session).mkdir(parents=True, exist_ok=True)
            if gmd_id in notes:  # 16th steps -> seconds at the row's tempo
                timed = [(step * 15 / bpm, pitch, vel) for step, pitch, vel in notes[gmd_id]]
                drum_midi(root / name, timed, bpm=bpm)
            else:
                (root / name).write_bytes(b"not a MIDI file")
            rows.append(
                {
                    "drummer": gmd_id.split("/")[0],
                    "session": session,
                    "id": gmd_id,
                    "style": style,
                    "bpm": bpm,
                    "beat_type": beat_type,
                    "time_signature": meter,
                    "midi_filename": name,
                    "audio_filename": "",
                    "duration": 10.0,
                    "split": split,
                }
            )
        info_csv(root, rows)
        return root

    return make


def _hits(pattern: dict) -> dict[tuple[int, str], tuple[int, float]]:
    """``{(step, role): (velocity, offset)}`` of a pattern's JSON."""
    out = {}
    for token in pattern["hits"].split():
        hit = builder.StyleHit.from_json(token)
        out[(hit.step, hit.role)] = (hit.velocity, hit.offset)
    return out


@pytest.fixture
def built(tmp_path: Path, make_gmd) -> dict:
    return builder.build_library(make_gmd(tmp_path / "gmd"), command="test")


def test_beats_are_quantized_with_their_velocities_and_swing_offsets(built: dict) -> None:
    rock = built["styles"]["rock"]
    assert [(p["bar"], p["bars"]) for p in rock["patterns"]] == [(0, 2), (2, 2)]
    first = rock["patterns"][0]
    assert first["id"] == "drummer1/session1/1" and first["gmd_style"] == "rock/halftime"
    assert first["file"] == "drummer1/session1/1_rock-halftime_120_beat_4-4.mid"
    hits = _hits(first)
    assert len(hits) == 2 * (2 + 2 + 16)  # kicks, snares, a MOTION hit on every 16th
    assert hits[(0, "CORE")] == (100, 0.0) and hits[(24, "CORE")] == (96, 0.0)
    assert hits[(4, "ACCENT")] == (110, 0.0) and hits[(28, "ACCENT")] == (112, 0.0)
    assert hits[(0, "MOTION")] == (120, 0.0)  # the louder of ride and hat on one step
    assert hits[(2, "MOTION")] == (90, 0.0)
    assert hits[(1, "MOTION")] == hits[(19, "MOTION")] == (50, 0.33)  # swung 16ths: late
    second = _hits(rock["patterns"][1])
    assert second[(16 + 10, "CORE")] == (70, -0.2)  # played early, still on its step


def test_triplet_swung_eighths_land_a_third_early_on_the_last_16th(built: dict) -> None:
    (funk,) = built["styles"]["funk"]["patterns"]
    hits = _hits(funk)
    for beat in range(8):
        assert hits[(4 * beat + 3, "MOTION")] == (40, -0.33)
        assert (4 * beat + 2, "MOTION") not in hits
    assert hits[(4, "ACCENT")] == (80, 0.0)  # the rim (37) is ACCENT


def test_fills_are_single_bars_that_lead_into_the_next_downbeat(built: dict) -> None:
    rock = built["styles"]["rock"]
    (fill,) = rock["fills"]
    assert (fill["bar"], fill["bars"], fill["bpm"]) == (0, 1, 130)
    hits = _hits(fill)
    assert [s for (s, role) in hits if role == "FILL"] == list(range(8, 16))
    assert hits[(15, "FILL")] == (60 + 4 * 15, 0.0)
    assert (rock["bpm_min"], rock["bpm_max"], rock["bpm_median"]) == (120, 130, 120)
    assert rock["performances"] == 2
    assert built["styles"]["funk"]["fills"] == []


def test_only_train_performances_are_ever_opened(tmp_path: Path, make_gmd, monkeypatch) -> None:
    opened: list[Path] = []
    read = builder.midi_to_groove

    def spy(path, **kwargs):
        opened.append(Path(path))
        return read(path, **kwargs)

    monkeypatch.setattr(builder, "midi_to_groove", spy)
    notices: list[str] = []
    data = builder.build_library(make_gmd(tmp_path), command="test", notify=notices.append)
    train = {r[0] for r in ROWS if r[5] == "train" and r[4] == "4-4"}
    assert {p.parent.name + "/" + p.name.split("_")[0] for p in opened} == {
        gid.split("/", 1)[1] for gid in train
    }
    ids = {
        p["id"] for s in data["styles"].values() for part in ("patterns", "fills") for p in s[part]
    }
    assert ids == train and "jazz" not in data["styles"]
    assert data["source"]["split"] == "train" and data["source"]["performances"] == 4
    assert data["source"]["skipped"] == {"time signature 3-4": 1}
    assert notices == ["skipped drummer1/session1/4: time signature 3-4"]


def test_a_style_without_beats_is_left_out_and_named(tmp_path: Path, make_gmd, info_csv) -> None:
    root = make_gmd(tmp_path)
    with open(root / "info.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[2]["style"] = "gospel"  # the fill alone
    info_csv(root, rows)
    data = builder.build_library(root, command="test")
    assert "gospel" not in data["styles"] and data["source"]["styles_without_beats"] == {
        "gospel": 1
    }


def test_settings_change_the_windows(tmp_path: Path, make_gmd) -> None:
    data = builder.build_library(
        make_gmd(tmp_path), settings=StyleLibrarySettings(beat_bars=1), command="test"
    )
    rock = data["styles"]["rock"]["patterns"]
    assert [(p["bar"], p["bars"]) for p in rock] == [(0, 1), (3, 1)]  # bars 1, 2, 4, 5 repeat 0


def test_the_command_writes_a_library_that_loads_and_is_reproducible(
    tmp_path: Path, make_gmd, capsys, monkeypatch
) -> None:
    gmd = make_gmd(tmp_path / "gmd")
    out = tmp_path / "lib" / "styles.json.gz"
    argv = ["train", "styles", "--gmd", str(gmd), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", ["drumgenx", *argv])  # what the library records
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "[DONE] style library" in printed and "rock" in printed
    first = out.read_bytes()
    assert main(argv) == 0
    assert out.read_bytes() == first  # no time stamp, no randomness
    data = json.loads(gzip.decompress(first))
    assert data["command"].startswith("drumgenx train styles --gmd ")
    assert data["settings"] == {"beat_bars": 2, "min_hits": 4}
    library = load_library(out)
    assert sorted(library.styles) == ["funk", "rock"]
    assert library.get("rock").patterns[0].hits[0].role == "CORE"


def test_a_missing_gmd_folder_is_one_line(tmp_path: Path, capsys) -> None:
    argv = ["train", "styles", "--gmd", str(tmp_path / "no"), "--out", str(tmp_path / "s.gz")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("drumgenx: error: ") and "info.csv" in err and "\n" not in err
    assert not (tmp_path / "s.gz").exists()
