"""DSP features on synthetic sounds with known properties, and the feature cache."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drumgenx.core.audio import encode_wav
from drumgenx.roles.features import (
    FEATURE_NAMES,
    FeatureCache,
    default_feature_params,
    extract_features,
)

SR = 44100
T = np.arange(SR) / SR  # 1 s


def test_eleven_finite_features_in_order() -> None:
    f = extract_features(np.sin(2 * np.pi * 55 * T) * np.exp(-T / 0.1), sr=SR)
    assert tuple(f) == FEATURE_NAMES and len(FEATURE_NAMES) == 11
    assert all(np.isfinite(v) for v in f.values())


def test_sine_kick_is_all_low_band_and_tonal() -> None:
    f = extract_features(np.sin(2 * np.pi * 55 * T) * np.exp(-T / 0.1), sr=SR)
    assert f["low_band_ratio"] > 0.99
    assert f["low_peak_hz"] == pytest.approx(55, rel=0.03)


def test_noise_burst_is_flat_and_sine_is_not() -> None:
    noise = np.random.default_rng(0).standard_normal(SR // 4)
    assert extract_features(noise, sr=SR)["spectral_flatness"] > 0.9
    assert extract_features(np.sin(2 * np.pi * 1000 * T), sr=SR)["spectral_flatness"] < 0.05


def test_decay_of_exponential_envelope() -> None:
    tau = 0.1  # 20 dB down after tau * ln(10) = 230 ms
    f = extract_features(np.sin(2 * np.pi * 440 * T) * np.exp(-T / tau), sr=SR)
    assert f["decay_time_ms"] == pytest.approx(1e3 * tau * np.log(10), rel=0.05)
    # any exponential decay holds within 10 dB for a quarter of its 40 dB span
    assert f["sustain_fraction"] == pytest.approx(0.25, abs=0.03)


def test_attack_of_linear_ramp() -> None:
    ramp_s = 0.1  # 10 % -> 90 % of a linear ramp takes 80 % of it
    env = np.concatenate([np.linspace(0, 1, int(ramp_s * SR)), np.exp(-T / 0.2)])
    f = extract_features(env * np.sin(2 * np.pi * 440 * np.arange(env.size) / SR), sr=SR)
    assert f["attack_time_ms"] == pytest.approx(0.8e3 * ramp_s, rel=0.08)


def test_level_and_rate_do_not_matter() -> None:
    y = np.sin(2 * np.pi * 200 * T) * np.exp(-T / 0.05)
    a = extract_features(y, sr=SR)
    b = extract_features(0.01 * y[::2], sr=SR // 2)
    for name in FEATURE_NAMES:
        assert b[name] == pytest.approx(a[name], rel=0.1, abs=1.5), name


def test_silence_gives_zeros() -> None:
    assert set(extract_features(np.zeros(1000), sr=SR).values()) == {0.0}
    assert set(extract_features(np.zeros(0), sr=SR).values()) == {0.0}


def test_cache_hit_miss_and_invalidation(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    path.write_bytes(encode_wav(np.sin(2 * np.pi * 55 * T[:4410]).astype(np.float32), SR))
    cache = FeatureCache(tmp_path / "cache")
    assert cache.get(path) is None
    feats = dict.fromkeys(FEATURE_NAMES, 1.5)
    cache.put(path, feats)
    assert cache.get(path) == (feats, None)
    assert FeatureCache(tmp_path / "cache").get(path) == (feats, None)  # persisted on disk
    # Other analysis settings, or another tag: another namespace.
    other = dataclasses.replace(default_feature_params(), n_fft=2048)
    assert FeatureCache(tmp_path / "cache", params=other).get(path) is None
    assert FeatureCache(tmp_path / "cache", tag="learned9").get(path) is None
    # The extra vector comes back exactly (a hit must score like a cold run).
    extra = np.array([0.1, 1 / 3, -2e-17])
    tagged = FeatureCache(tmp_path / "cache", tag="learned9")
    tagged.put(path, feats, extra)
    got_feats, got_extra = tagged.get(path)
    assert got_feats == feats
    np.testing.assert_array_equal(got_extra, extra)
    # New content under the same name: a miss, in a fresh cache object and in this one.
    path.write_bytes(encode_wav(np.zeros(4410, dtype=np.float32) + 0.1, SR))
    assert FeatureCache(tmp_path / "cache").get(path) is None
    assert cache.get(path) is None
