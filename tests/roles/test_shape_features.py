"""The learned scorer's shape features (issue #15) on synthetic sounds with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.roles.features import (
    SHAPE_FEATURE_NAMES,
    body_pitch_features,
    decay_shape_features,
)
from drumgenx.roles.learned import FEATURE_NAMES, HOP, N_FFT, role_features

SR = 22050
T = np.arange(int(2.5 * SR)) / SR
NOISE = np.random.default_rng(0).standard_normal(T.size)


def _power(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hann-framed power spectra at the learned scorer's FFT size and hop."""
    n = 1 + (y.size - N_FFT) // HOP
    frames = np.stack([y[i * HOP : i * HOP + N_FFT] for i in range(n)])
    power = np.abs(np.fft.rfft(frames * np.hanning(N_FFT), axis=1)) ** 2
    return power, np.fft.rfftfreq(N_FFT, 1.0 / SR)


def _decay(y: np.ndarray) -> dict[str, float]:
    power, freqs = _power(y)
    return decay_shape_features(power, freqs, frame_s=HOP / SR)


def test_decaying_noise_burst_gets_its_decay_time() -> None:
    # Power falls 20*log10(e)/tau dB/s: tau 0.6 s -> 14.5 dB/s -> 30 dB in 2.07 s
    f = _decay(NOISE * np.exp(-T / 0.6))
    t30_s = 30.0 / (20.0 * np.log10(np.e) / 0.6)
    assert np.expm1(f["high_t30_ms"]) == pytest.approx(1e3 * t30_s, rel=0.1)
    assert np.expm1(f["broad_t30_ms"]) == pytest.approx(1e3 * t30_s, rel=0.1)
    assert f["decay_residual"] < 0.1  # a clean exponential: the line fits


def test_long_noise_burst_outlasts_a_short_one() -> None:
    long, short = _decay(NOISE * np.exp(-T / 0.6)), _decay(NOISE * np.exp(-T / 0.03))
    assert long["high_t30_ms"] > short["high_t30_ms"] + 2.0  # e^2: over 7x longer
    # 0.5 s on, the long burst's highs are ~7 dB down, the short one's are gone
    assert long["high_tail_db"] > -1.5
    assert short["high_tail_db"] < -8.0


def test_decay_rate_survives_a_cut_tail() -> None:
    # A slicer cuts a crash at 0.6 s: the rate, not the length, says "long cymbal"
    whole, cut = NOISE * np.exp(-T / 0.6), (NOISE * np.exp(-T / 0.6))[: int(0.6 * SR)]
    assert _decay(cut)["high_t30_ms"] == pytest.approx(_decay(whole)["high_t30_ms"], abs=0.3)


def test_wandering_bed_has_a_large_residual() -> None:
    bed = NOISE * (0.55 + 0.45 * np.sin(2 * np.pi * 1.3 * T))
    assert _decay(bed)["decay_residual"] > 0.2
    assert _decay(bed)["decay_residual"] > 5 * _decay(NOISE * np.exp(-T / 0.6))["decay_residual"]


def test_pitched_sweep_glides_and_steady_tone_does_not() -> None:
    # A kick-like sweep 200 -> 60 Hz (tau 40 ms): ~139 Hz at 23 ms, ~68 Hz at 116 ms
    freq = 60.0 + 140.0 * np.exp(-T / 0.04)
    sweep = np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-T / 0.3)
    steady = np.sin(2 * np.pi * 100.0 * T) * np.exp(-T / 0.3)
    expected = 12.0 * np.log2(
        (60 + 140 * np.exp(-0.116 / 0.04)) / (60 + 140 * np.exp(-0.023 / 0.04))
    )
    assert body_pitch_features(sweep, sr=SR)["body_glide_st"] == pytest.approx(expected, abs=1.5)
    assert body_pitch_features(steady, sr=SR)["body_glide_st"] == pytest.approx(0.0, abs=0.2)


def test_tone_is_salient_noise_is_not_and_sub_is_found() -> None:
    tone = body_pitch_features(np.sin(2 * np.pi * 100.0 * T) * np.exp(-T / 0.3), sr=SR)
    noise = body_pitch_features(NOISE * np.exp(-T / 0.3), sr=SR)
    assert tone["body_salience_db"] > noise["body_salience_db"] + 2.0  # 20 dB over
    sub = body_pitch_features(np.sin(2 * np.pi * 50.0 * T), sr=SR)["sub_share"]
    assert sub > 0.95
    assert tone["sub_share"] < 0.05


def test_click_is_measured_against_the_body() -> None:
    body = np.sin(2 * np.pi * 55.0 * T) * np.exp(-T / 0.2)
    clicked = body.copy()
    n = int(0.005 * SR)
    clicked[:n] += 0.5 * NOISE[:n]  # 5 ms of beater noise
    with_click = body_pitch_features(clicked, sr=SR)["click_db"]
    assert with_click > body_pitch_features(body, sr=SR)["click_db"] + 2.0
    assert with_click > 2.0  # >20 dB more highs in the first 12 ms than later


def test_short_and_silent_tails_stay_finite() -> None:
    for y in (NOISE[:300], np.sin(2 * np.pi * 80 * T[:2000]), np.r_[1.0, np.zeros(5000)]):
        f = role_features(y, sr=SR)
        assert np.all(np.isfinite(f))
    assert FEATURE_NAMES[-len(SHAPE_FEATURE_NAMES) :] == SHAPE_FEATURE_NAMES
