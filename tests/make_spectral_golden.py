"""Write ``tests/data/spectral_golden.npz``: what every spectral front end computes today.

Issue #12 §2 gave the framed FFTs and filterbanks of stages 1, 2 and the transcriber one
implementation (`drumgenx.core.spectral`). The shipped learned models (the onset activation,
the role scorer, the transcriber) must keep seeing the features they were trained on, so this
script was run once *before* that refactor and its output is committed; ``tests/test_spectral.py``
compares the refactored functions with it. Do not regenerate it to make a failing test pass:
a difference means the models' inputs moved.

One recorded change since: frame 0 of each ``onset_strength`` (the flux detector's novelty,
which no model reads) was replaced on 2026-12-07 by that day's code, which scores a hit on a
file's first sample (the frame had been 0); every other value is as first written.

Three short deterministic signals (seeded noise bursts, decaying sines, a steady sine; two at
44.1 kHz, one at 22.05 kHz), each fed to the public feature function of every caller. Arrays
are stored as float32; the long ones (the HPSS output, the onset model's and the transcriber's
log spectrograms) are subsampled so the file stays small.

Usage: ``.venv/bin/python tests/make_spectral_golden.py`` (from the repository root).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "data" / "spectral_golden.npz"
DURATION_S = 1.5
SIGNALS = {"a44": 44100, "b44": 44100, "c22": 22050}
"""Signal name -> sample rate."""
HPSS_STEP = 16
"""Every this-many samples of the HPSS output are kept."""
TRANSCRIBER_STEP = 2
"""Every this-many frames of the transcriber's log spectrogram are kept."""
ONSET_STEP = 3
"""Every this-many frames of the onset model's log spectrogram are kept."""


def make_signal(name: str, sr: int) -> np.ndarray:
    """A seeded mono float32 test signal of `DURATION_S` seconds."""
    rng = np.random.default_rng(sum(map(ord, name)))
    n = int(DURATION_S * sr)
    t = np.arange(n) / sr
    y = np.zeros(n)
    # Noise bursts with exponential decays (hats, snares) at seeded times and levels.
    for start in (0.05, 0.42, 0.81, 1.2):
        start += rng.uniform(0.0, 0.05)
        i = int(start * sr)
        length = n - i
        decay = rng.uniform(0.02, 0.2)
        y[i:] += rng.uniform(0.2, 0.8) * rng.standard_normal(length) * np.exp(-t[:length] / decay)
    # A kick-like decaying, gliding sine and a steady tone under everything.
    i = int(0.3 * sr)
    tk = t[: n - i]
    glide = 60.0 * tk + 40.0 * 0.05 * (1.0 - np.exp(-tk / 0.05))  # 100 Hz falling to 60 Hz
    y[i:] += 0.9 * np.exp(-tk / 0.3) * np.sin(2 * np.pi * glide)
    y += 0.1 * np.sin(2 * np.pi * rng.uniform(200.0, 900.0) * t)
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


def features(y: np.ndarray, sr: int) -> dict[str, np.ndarray]:
    """Every caller's public feature output for one signal."""
    from drumgenx.preprocess.dedup import mfcc_fingerprint
    from drumgenx.preprocess.onsets_flux import onset_strength
    from drumgenx.preprocess.onsets_learned import learned_features
    from drumgenx.preprocess.separation import hpss_percussive
    from drumgenx.roles.features import FEATURE_NAMES, extract_features
    from drumgenx.roles.learned import role_features
    from drumgenx.transcribe.features import transcriber_features

    novelty, _ = onset_strength(y, sr=sr)
    onset_in, _ = learned_features(y, sr=sr)  # [log spectrum, its rises]: keep the first
    rows = extract_features(y, sr=sr)
    stereo = np.stack([y, np.roll(y, 101)], axis=1)
    return {
        "onset_strength": novelty,
        "onset_learned_logspec": onset_in[::ONSET_STEP, : onset_in.shape[1] // 2],
        "dedup_fingerprint": mfcc_fingerprint(y, sr=sr),
        "hpss_mono": hpss_percussive(y, sr=sr)[::HPSS_STEP],
        "hpss_stereo": hpss_percussive(stereo, sr=sr)[::HPSS_STEP],
        "role_features": role_features(y, sr=sr),
        "roles_features": np.array([rows[k] for k in FEATURE_NAMES]),
        "transcriber_logspec": transcriber_features(y, sr=sr)[0, ::TRANSCRIBER_STEP],
    }


def main() -> None:
    arrays: dict[str, np.ndarray] = {}
    for name, sr in SIGNALS.items():
        for key, value in features(make_signal(name, sr), sr).items():
            arrays[f"{name}/{key}"] = np.asarray(value, dtype=np.float32)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KB, {len(arrays)} arrays)")


if __name__ == "__main__":
    main()
