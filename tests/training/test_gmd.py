"""GMD reading and the 5-class mapping (no external data needed)."""

from __future__ import annotations

import pytest

from drumgenx.training.gmd import (
    CLASS_OF_PITCH,
    CLASS_PITCH,
    DRUM_CLASSES,
    load_performances,
    read_drum_notes,
)


def test_class_mapping_matches_the_spec() -> None:
    assert DRUM_CLASSES == ("kick", "snare", "hihat", "tom", "cymbal")
    assert CLASS_PITCH == (36, 38, 42, 45, 49)
    expected = {
        "kick": {35, 36},
        "snare": {37, 38, 39, 40},
        "hihat": {22, 26, 42, 44, 46, 51, 53, 59, 54, 69, 70, 82},
        "tom": {41, 43, 45, 47, 48, 50, 58},
        "cymbal": {49, 52, 55, 57},
    }
    for name, pitches in expected.items():
        assert {p for p, c in CLASS_OF_PITCH.items() if DRUM_CLASSES[c] == name} == pitches
    for c, pitch in enumerate(CLASS_PITCH):
        assert CLASS_OF_PITCH[pitch] == c


def test_read_drum_notes_window_and_filtering(tmp_path, drum_midi) -> None:
    path = tmp_path / "x.mid"
    notes = [(0.0, 36, 100), (0.5, 38, 90), (1.0, 42, 30), (1.0, 56, 80), (2.0, 22, 70)]
    drum_midi(path, notes, bpm=100)
    got = read_drum_notes(path)
    assert [(n.pitch, n.velocity) for n in got] == [(36, 100), (38, 90), (42, 30), (22, 70)]
    assert [n.time_s for n in got] == pytest.approx([0.0, 0.5, 1.0, 2.0], abs=1e-3)
    win = read_drum_notes(path, start_s=0.5, duration_s=1.5)  # [0.5, 2.0)
    assert [n.pitch for n in win] == [38, 42]
    assert win[0].time_s == pytest.approx(0.0, abs=1e-3)
    assert win[1].time_s == pytest.approx(0.5, abs=1e-3)


def test_load_performances_split(fake_gmd) -> None:
    val = load_performances(fake_gmd, "validation")
    assert [p.gmd_id for p in val] == ["drummer1/session1/1", "drummer1/session1/2"]
    assert val[0].midi_path.is_file() and val[0].bpm == 120 and val[1].beat_type == "fill"
    assert val[0].drummer == "drummer1" and val[0].style == "rock"
    assert [p.gmd_id for p in load_performances(fake_gmd, "test")] == ["drummer2/session1/3"]
    with pytest.raises(ValueError):
        load_performances(fake_gmd, "dev")
