"""GrooVAE representation: MIDI <-> grid <-> tensors, windows, quantization."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest

from drumgenx.groove.representation import (
    CLASS_OUTPUT_PITCH,
    CLASS_PITCHES,
    DRUM_CLASSES,
    STEPS_PER_BAR,
    WINDOW_STEPS,
    Groove,
    GrooveFileError,
    groove_to_midi,
    groove_to_tensor,
    midi_to_groove,
    quantize,
    split_windows,
    tensor_to_groove,
)

GMD = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gmd"
TPB = 480
STEP_TICKS = TPB // 4


def synthetic_midi(notes: list[tuple[int, int, int]], *, bpm: float = 100.0) -> mido.MidiFile:
    """A type-1 file: tempo track, then a drum track of (tick, pitch, velocity) notes."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TPB)
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0)])
    events = []
    for tick, pitch, velocity in notes:
        events.append((tick, mido.Message("note_on", channel=9, note=pitch, velocity=velocity)))
        events.append((tick + 30, mido.Message("note_off", channel=9, note=pitch, velocity=0)))
    events.sort(key=lambda e: e[0])
    drums, last = mido.MidiTrack(), 0
    for tick, message in events:
        drums.append(message.copy(time=tick - last))
        last = tick
    midi.tracks += [meta, drums]
    return midi


def random_groove(steps: int, *, seed: int = 0, density: float = 0.2) -> Groove:
    rng = np.random.default_rng(seed)
    hits = (rng.random((steps, 9)) < density).astype(np.float32)
    velocities = rng.integers(1, 128, (steps, 9)) / 127 * hits
    # offsets on the 480-PPQ tick grid, never late by half a step (see groove_to_midi)
    offsets = rng.integers(-60, 60, (steps, 9)) / STEP_TICKS * hits
    offsets[0] = np.abs(offsets[0])  # nothing before tick 0
    return Groove(hits, velocities, offsets)


def test_classes_are_magentas_nine_with_gm_output_pitches() -> None:
    assert len(DRUM_CLASSES) == len(CLASS_PITCHES) == len(CLASS_OUTPUT_PITCH) == 9
    assert CLASS_OUTPUT_PITCH == (36, 38, 42, 46, 43, 47, 50, 49, 51)
    pitches = [p for ps in CLASS_PITCHES for p in ps]
    assert len(pitches) == len(set(pitches))


def test_midi_to_groove_steps_offsets_velocities_and_loudest_note() -> None:
    midi = synthetic_midi(
        [
            (0, 36, 100),  # kick on step 0
            (STEP_TICKS * 4 + 12, 38, 90),  # snare 0.1 step late on step 4
            (STEP_TICKS * 8 - 30, 42, 60),  # closed hat 0.25 early on step 8
            (STEP_TICKS * 8 - 20, 44, 70),  # pedal hat, same class and step: louder, kept
            (STEP_TICKS * 17, 51, 127),  # ride on step 17: the groove is 2 bars
            (STEP_TICKS * 3, 81, 127),  # triangle: not one of the classes, ignored
        ]
    )
    groove, bpm = midi_to_groove(midi)
    assert bpm == pytest.approx(100.0)
    assert groove.steps == 2 * STEPS_PER_BAR
    assert groove.hits.sum() == 4
    assert groove.hits[0, 0] == groove.hits[4, 1] == groove.hits[8, 2] == groove.hits[17, 8] == 1
    assert groove.offsets[4, 1] == pytest.approx(0.1)
    assert groove.offsets[8, 2] == pytest.approx(-20 / STEP_TICKS)
    assert groove.velocities[8, 2] == pytest.approx(70 / 127)
    assert groove.velocities[0, 0] == pytest.approx(100 / 127)


def test_half_step_rounds_to_the_later_step() -> None:
    groove, _ = midi_to_groove(synthetic_midi([(STEP_TICKS // 2, 36, 100)]))
    assert groove.hits[1, 0] == 1
    assert groove.offsets[1, 0] == pytest.approx(-0.5)


def test_midi_round_trip_is_exact_on_the_tick_grid(tmp_path: Path) -> None:
    groove = random_groove(48, seed=3)
    path = tmp_path / "groove.mid"
    groove_to_midi(groove, bpm=97.0).save(path)
    back, bpm = midi_to_groove(path)
    assert bpm == pytest.approx(97.0, abs=1e-3)
    last_bar = int(np.flatnonzero(groove.hits.any(1))[-1]) // STEPS_PER_BAR + 1
    assert back.steps == last_bar * STEPS_PER_BAR
    np.testing.assert_array_equal(back.hits, groove.hits[: back.steps])
    np.testing.assert_allclose(back.velocities, groove.velocities[: back.steps], atol=1e-6)
    np.testing.assert_allclose(back.offsets, groove.offsets[: back.steps], atol=1e-6)


def test_midi_written_is_general_midi_drums_readable_by_pretty_midi(tmp_path: Path) -> None:
    pretty_midi = pytest.importorskip("pretty_midi")
    groove = random_groove(32, seed=1)
    path = tmp_path / "g.mid"
    groove_to_midi(groove, bpm=120.0).save(path)
    notes = pretty_midi.PrettyMIDI(str(path)).instruments[0].notes
    assert len(notes) == int(groove.hits.sum())
    step_s = 60 / 120 / 4
    for note in notes:
        step = round(note.start / step_s)
        drum = CLASS_OUTPUT_PITCH.index(note.pitch)
        assert groove.hits[step, drum] == 1
        assert note.start / step_s - step == pytest.approx(groove.offsets[step, drum], abs=1e-3)
        assert note.end > note.start


def test_offsets_past_the_file_limits_are_held_on_their_step() -> None:
    hits = np.zeros((16, 9), np.float32)
    hits[[0, 5], 0] = 1
    groove = Groove(
        hits, hits * 0.5, hits * np.float32(0.5) * np.where(np.arange(16) == 0, -1, 1)[:, None]
    )
    back, _ = midi_to_groove(groove_to_midi(groove, bpm=120))
    np.testing.assert_array_equal(back.hits, hits)
    assert back.offsets[0, 0] == 0  # no tick before 0
    assert back.offsets[5, 0] == pytest.approx(0.5 - 1 / STEP_TICKS)


def test_tensor_round_trip_and_layout() -> None:
    groove = random_groove(32, seed=2)
    tensor = groove_to_tensor(groove)
    assert tensor.shape == (32, 27) and tensor.dtype == np.float32
    np.testing.assert_array_equal(tensor[:, 18:], 2 * groove.offsets)  # Magenta's x 2
    back = tensor_to_groove(tensor)
    for a, b in ((back.hits, groove.hits), (back.velocities, groove.velocities)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(back.offsets, groove.offsets, atol=1e-7)


def test_tensor_to_groove_thresholds_and_clips_model_output() -> None:
    tensor = np.zeros((32, 27), np.float32)
    tensor[0, 0], tensor[0, 9], tensor[0, 18] = 0.7, 1.2, -1.5  # hit, too loud, too early
    tensor[1, 0], tensor[1, 9], tensor[1, 18] = 0.3, 0.8, 0.4  # no hit: the rest is dropped
    groove = tensor_to_groove(tensor)
    assert groove.hits[0, 0] == 1 and groove.velocities[0, 0] == 1 and groove.offsets[0, 0] == -0.5
    assert groove.hits[1].sum() == groove.velocities[1].sum() == groove.offsets[1].sum() == 0


def test_split_windows_every_bar_and_nothing_padded() -> None:
    groove = random_groove(5 * STEPS_PER_BAR, seed=4)
    windows = split_windows(groove, hop_bars=1)
    assert len(windows) == 4
    assert all(w.steps == WINDOW_STEPS for w in windows)
    np.testing.assert_array_equal(windows[1].hits, groove.hits[16:48])
    assert len(split_windows(groove, hop_bars=2)) == 2
    assert split_windows(random_groove(STEPS_PER_BAR), hop_bars=1) == []


def test_quantize_keeps_hits_at_one_velocity_on_the_grid() -> None:
    groove = random_groove(32, seed=5)
    flat = quantize(groove, velocity=0.6)
    np.testing.assert_array_equal(flat.hits, groove.hits)
    assert set(np.unique(flat.velocities)) <= {0.0, np.float32(0.6)}
    assert not flat.offsets.any()


@pytest.mark.parametrize(
    ("hits", "velocities", "offsets", "message"),
    [
        (np.ones((4, 8)), np.ones((4, 8)), np.zeros((4, 8)), "shape"),
        (np.full((4, 9), 0.5), np.zeros((4, 9)), np.zeros((4, 9)), "0 or 1"),
        (np.ones((4, 9)), np.full((4, 9), 1.5), np.zeros((4, 9)), r"\[0, 1\]"),
        (np.ones((4, 9)), np.ones((4, 9)), np.full((4, 9), 0.6), r"\[-0.5, 0.5\]"),
        (np.zeros((4, 9)), np.full((4, 9), 0.5), np.zeros((4, 9)), "no hit"),
        (np.ones((4, 9)), np.ones((3, 9)), np.zeros((4, 9)), "differ"),
    ],
)
def test_groove_rejects_invalid_arrays(hits, velocities, offsets, message) -> None:
    with pytest.raises(ValueError, match=message):
        Groove(hits, velocities, offsets)


def test_groove_is_frozen_and_read_only() -> None:
    groove = random_groove(16)
    with pytest.raises(ValueError):
        groove.hits[0, 0] = 1


def test_unreadable_and_empty_files_raise_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    with pytest.raises(GrooveFileError, match="not a readable MIDI file"):
        midi_to_groove(bad)
    with pytest.raises(GrooveFileError, match="no such MIDI file"):
        midi_to_groove(tmp_path / "missing.mid")
    with pytest.raises(GrooveFileError, match="no drum notes"):
        midi_to_groove(synthetic_midi([(0, 81, 100)]))


@pytest.mark.skipif(not GMD.is_dir(), reason=f"Groove MIDI Dataset not found at {GMD}")
def test_a_gmd_file_reads_and_round_trips() -> None:
    path = GMD / "drummer1" / "eval_session" / "1_funk-groove1_138_beat_4-4.mid"
    groove, bpm = midi_to_groove(path)
    assert bpm == pytest.approx(138, abs=0.5)
    assert groove.steps % STEPS_PER_BAR == 0 and groove.hits.sum() > 100
    back, _ = midi_to_groove(groove_to_midi(groove, bpm=bpm))
    np.testing.assert_array_equal(back.hits, groove.hits)
    np.testing.assert_allclose(back.offsets, groove.offsets, atol=1e-6)
