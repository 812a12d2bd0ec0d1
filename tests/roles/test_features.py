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


def _wav(path: Path, freq: float) -> Path:
    path.write_bytes(encode_wav(np.sin(2 * np.pi * freq * T[:4410]).astype(np.float32), SR))
    return path


def test_cache_writers_each_append_to_their_own_shard(tmp_path: Path) -> None:
    a, b = _wav(tmp_path / "a.wav", 55.0), _wav(tmp_path / "b.wav", 110.0)
    fa, fb = dict.fromkeys(FEATURE_NAMES, 1.0), dict.fromkeys(FEATURE_NAMES, 2.0)
    with FeatureCache(tmp_path / "c") as one, FeatureCache(tmp_path / "c") as two:
        one.put(a, fa)
        two.put(b, fb, np.array([0.5]))
        assert one.get(a) == (fa, None)  # its own entry, found after it indexed
    shards = sorted((tmp_path / "c").rglob(f"*{FeatureCache.SHARD_SUFFIX}"))
    assert len(shards) == 2
    reader = FeatureCache(tmp_path / "c")
    assert reader.get(a) == (fa, None)
    got = reader.get(b)
    assert got is not None and got[0] == fb and got[1].tolist() == [0.5]


def test_cache_ignores_a_line_cut_short_and_a_damaged_one(tmp_path: Path) -> None:
    a, b = _wav(tmp_path / "a.wav", 55.0), _wav(tmp_path / "b.wav", 110.0)
    feats = dict.fromkeys(FEATURE_NAMES, 1.0)
    with FeatureCache(tmp_path / "c") as cache:
        cache.put(a, feats)
        cache.put(b, feats)
    (shard,) = (tmp_path / "c").rglob(f"*{FeatureCache.SHARD_SUFFIX}")
    first, second = shard.read_bytes().splitlines(keepends=True)
    # An interrupted write: b's line without its end. A damaged a: its JSON cut.
    shard.write_bytes(first[:-30] + b"\n" + second[:-1])
    fresh = FeatureCache(tmp_path / "c")
    assert fresh.get(a) is None and fresh.get(b) is None
    # Recomputed entries go to a new shard and win over nothing.
    with fresh:
        fresh.put(b, feats)
    assert FeatureCache(tmp_path / "c").get(b) == (feats, None)


def test_cache_survives_pickling_to_a_worker(tmp_path: Path) -> None:
    import pickle

    a = _wav(tmp_path / "a.wav", 55.0)
    feats = dict.fromkeys(FEATURE_NAMES, 3.0)
    cache = FeatureCache(tmp_path / "c")
    cache.put(a, feats)  # an open shard does not travel; the folder does
    worker = pickle.loads(pickle.dumps(cache))
    assert worker.folder == cache.folder and worker.get(a) == (feats, None)
    cache.close()
