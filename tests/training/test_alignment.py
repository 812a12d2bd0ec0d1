"""Labels line up with the audio within 1 ms: real kits, then after codec and augment_mix."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from drumgenx.training import augment
from drumgenx.training import kits as kitlib
from drumgenx.training.gmd import DrumNote

SR = 44100
ONE_MS = round(0.001 * SR)

# non-integer sample times; GMD Roland pitches 22/26/58 play as 42/46/43
NOTES = [
    DrumNote(0.1234567, 36, 100),
    DrumNote(0.2, 38, 20),
    DrumNote(0.31, 42, 127),
    DrumNote(0.4444, 46, 64),
    DrumNote(0.5, 45, 90),
    DrumNote(0.61, 49, 110),
    DrumNote(0.7, 51, 50),
    DrumNote(0.8, 22, 80),
    DrumNote(0.9, 26, 80),
    DrumNote(1.0, 58, 70),
]


def assert_onsets_aligned(notes: list[DrumNote], shots: kitlib.OneShots) -> int:
    """Each note alone: nothing before the label, first sample above -60 dB within 1 ms."""
    n_checked = 0
    for note in notes:
        key = kitlib.sound_key(note.pitch)
        if key not in shots:
            continue
        y = kitlib.render_drums([note], shots, n_samples=2 * SR)
        s = round(note.time_s * SR)
        shot, g = kitlib.pick_layer(shots[key], note.velocity)
        thr = float(np.abs(shot).max()) * g * 10 ** (-60 / 20)
        assert not y[:s].any(), f"sound before the label of key {key}"
        first = s + int(np.argmax(np.abs(y[s:]) > thr))
        assert abs(first - s) <= ONE_MS, (key, first - s)
        n_checked += 1
    together = kitlib.render_drums(notes[:3], shots, n_samples=2 * SR)
    alone = sum(kitlib.render_drums([nt], shots, n_samples=2 * SR) for nt in notes[:3])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    return n_checked


def test_soundfont_kit_labels_align(tim_shots) -> None:
    assert len(tim_shots) >= 40  # TimGM6mb's Standard kit has (nearly) every key 35-81
    for layers in tim_shots.values():
        assert [v for v, _ in layers] == sorted(v for v, _ in layers)
        for _, shot in layers:  # each one-shot starts at its first non-silent sample
            assert abs(shot[0]) > np.abs(shot).max() * 10 ** (-60 / 20)
    assert assert_onsets_aligned(NOTES, tim_shots) == len(NOTES)


def test_debian_kit_labels_align(debian_kit, session_cache) -> None:
    shots = kitlib.load_one_shots(debian_kit, cache_dir=session_cache)
    assert {36, 38, 42, 44, 46, 43, 45, 48, 49, 51} <= set(shots)
    assert assert_onsets_aligned(NOTES, shots) == len(NOTES)


def _lag(y: np.ndarray, x: np.ndarray) -> int:
    c = signal.correlate(y, x, mode="full", method="fft")
    lags = np.arange(-len(x) + 1, len(y))
    keep = np.abs(lags) <= 2000
    return int(lags[keep][np.argmax(c[keep])])


def _test_track(shots: kitlib.OneShots, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    keys = sorted(shots)
    notes = [
        DrumNote(0.05 + 0.13 * i + rng.uniform(0, 0.02), int(rng.choice(keys)), 100)
        for i in range(20)
    ]
    y = kitlib.render_drums(notes, shots, n_samples=3 * SR).astype(np.float64)
    return 0.8 * y / np.abs(y).max()


@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_codec_keeps_length_and_alignment(synth_shots, fmt) -> None:
    x = _test_track(synth_shots)
    y, params = augment.codec(x, rng=np.random.default_rng(1), fmt=fmt)
    assert len(y) == len(x) and params["format"] == fmt
    assert abs(_lag(y, x)) <= ONE_MS
    assert _lag(y, x) == 0


def test_codec_on_a_real_kit(tim_shots) -> None:
    x = _test_track(tim_shots, seed=3)
    for fmt in ("mp3", "ogg"):
        y, _ = augment.codec(x, rng=np.random.default_rng(0), fmt=fmt, level=0.7)
        assert len(y) == len(x) and abs(_lag(y, x)) <= ONE_MS


def test_augment_mix_keeps_alignment(synth_shots) -> None:
    x = _test_track(synth_shots, seed=5)
    seen = set()
    for seed in range(24):
        y, desc = augment.augment_mix(x, rng=np.random.default_rng(seed))
        seen |= {step["name"] for step in desc["chain"]}
        assert len(y) == len(x) and y.dtype == np.float32
        assert np.abs(y).max() <= 0.999 + 1e-6
        assert abs(_lag(y, x)) <= ONE_MS, desc
    assert seen == {"lowpass", "eq_tilt", "room_reverb", "compress", "gain", "codec"}
