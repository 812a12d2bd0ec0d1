"""Augmentations: same length, float32, deterministic, the effect each one claims."""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.training import augment

SR = 44100


@pytest.fixture
def x() -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(2 * SR) / SR
    y = 0.2 * np.sin(2 * np.pi * 220 * t)
    for s in range(2000, len(t) - 3000, 11025):
        y[s : s + 2000] += rng.standard_normal(2000) * np.exp(-np.arange(2000) / 300) * 0.6
    return y.astype(np.float32)


FUNCS = [augment.gain, augment.eq_tilt, augment.room_reverb, augment.compress, augment.codec]


@pytest.mark.parametrize("fn", FUNCS, ids=lambda f: f.__name__)
def test_length_dtype_determinism(fn, x) -> None:
    a, pa = fn(x, rng=np.random.default_rng(7))
    b, pb = fn(x, rng=np.random.default_rng(7))
    assert a.shape == x.shape and a.dtype == np.float32 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    assert pa == pb and isinstance(pa, dict)


def test_gain_is_exact(x) -> None:
    y, p = augment.gain(x, rng=np.random.default_rng(0), db=-6.0)
    np.testing.assert_allclose(y, x * 10 ** (-6 / 20), rtol=1e-6)
    assert p == {"db": -6.0}


def test_flat_tilt_is_identity_and_tilt_moves_energy(x) -> None:
    y, _ = augment.eq_tilt(x, rng=np.random.default_rng(0), db_per_octave=0.0)
    np.testing.assert_allclose(y, x, atol=1e-5)
    bright, _ = augment.eq_tilt(x, rng=np.random.default_rng(0), db_per_octave=3.0)
    spec_x, spec_b = np.abs(np.fft.rfft(x)), np.abs(np.fft.rfft(bright))
    f = np.fft.rfftfreq(len(x), 1 / SR)
    hi = f > 8000
    assert spec_b[hi].sum() > 2 * spec_x[hi].sum()


def test_reverb_keeps_the_dry_signal_until_the_predelay(x) -> None:
    y, p = augment.room_reverb(x, rng=np.random.default_rng(1), predelay_s=0.02, wet_db=-10)
    k = round(0.02 * SR)
    np.testing.assert_allclose(y[:k], x[:k], atol=1e-6)
    assert np.abs(y - x).max() > 1e-3 and p["predelay_s"] == 0.02


def test_compress_lowers_the_crest_factor(x) -> None:
    y, _ = augment.compress(x, rng=np.random.default_rng(0), threshold_db=-20, ratio=10)
    crest = lambda a: np.abs(a).max() / np.sqrt(np.mean(a.astype(np.float64) ** 2))  # noqa: E731
    assert crest(y) < 0.8 * crest(x)
    assert np.abs(y).max() == pytest.approx(np.abs(x).max(), rel=1e-5)  # make-up gain


def test_codec_lag_is_measured_and_small() -> None:
    for fmt in augment.CODECS:
        assert abs(augment.codec_lag(fmt)) <= 44


def test_augment_mix_description(x) -> None:
    y, desc = augment.augment_mix(x, rng=np.random.default_rng(3))
    assert set(desc) == {"chain", "final_scale"}
    assert any(step["name"] == "gain" for step in desc["chain"])
    y2, desc2 = augment.augment_mix(x, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(y, y2)
    assert desc == desc2
