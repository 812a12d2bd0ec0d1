"""The shared spectral front end (`drumgenx.core.spectral`) and the features built on it.

Golden tests: every caller's public feature function against ``data/spectral_golden.npz``,
written by ``make_spectral_golden.py`` before the callers moved onto the shared module. The
shipped learned models (onset activation, role scorer, transcriber) were trained on these
features; a failure here means their inputs moved. The tolerance allows a different FFT
build's last-ulp differences, nothing more.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from drumgenx.core.spectral import (
    filterbank_magnitude,
    frame_signal,
    hann_window,
    log_filterbank,
    mel_filterbank,
    power_spectrogram,
    stft,
)

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "data" / "spectral_golden.npz"
GOLDEN_SCRIPT = "make_spectral_golden.py"
RTOL, ATOL = 1e-5, 1e-6


@functools.cache
def _generator() -> ModuleType:
    """``make_spectral_golden.py``, loaded by path (tests are not a package)."""
    spec = importlib.util.spec_from_file_location("make_spectral_golden", HERE / GOLDEN_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN) as data:
        return {key: data[key] for key in data.files}


@functools.cache
def _features(name: str) -> dict[str, np.ndarray]:
    gen = _generator()
    sr = gen.SIGNALS[name]
    return gen.features(gen.make_signal(name, sr), sr)


def _golden_cases() -> list[tuple[str, str]]:
    return [tuple(key.split("/")) for key in sorted(_golden())]  # type: ignore[misc]


def test_golden_fixture_is_small_and_complete() -> None:
    assert GOLDEN.stat().st_size < 300_000
    gen = _generator()
    expected = {f"{name}/{key}" for name in gen.SIGNALS for key in _features(name)}
    assert set(_golden()) == expected


@pytest.mark.parametrize(("signal", "feature"), _golden_cases())
def test_features_match_the_golden_fixture(signal: str, feature: str) -> None:
    got = np.asarray(_features(signal)[feature], dtype=np.float32)
    want = _golden()[f"{signal}/{feature}"]
    if feature == "role_features":
        # Issue #15 appended the shape features (learned FEATURE_VERSION 5, new weights
        # trained on them); the entries the fixture pinned must not move.
        from drumgenx.roles.features import SHAPE_FEATURE_NAMES

        assert got.shape == (want.size + len(SHAPE_FEATURE_NAMES),)
        got = got[: want.size]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


# --- windows --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [8, 1024, 1025])
def test_hann_window_periodic_and_symmetric(n: int) -> None:
    periodic = hann_window(n)
    assert periodic.dtype == np.float32 and periodic.shape == (n,)
    np.testing.assert_array_equal(periodic, np.hanning(n + 1)[:-1].astype(np.float32))
    assert periodic[0] == 0.0 and 0.99 < periodic.max() <= 1.0
    symmetric = hann_window(n, periodic=False, dtype=np.float64)
    assert symmetric.dtype == np.float64
    np.testing.assert_array_equal(symmetric, np.hanning(n))
    np.testing.assert_allclose(symmetric, symmetric[::-1], atol=1e-15)


def test_periodic_hann_overlap_adds_to_a_constant() -> None:
    n, hop = 256, 64
    w = hann_window(n, dtype=np.float64)
    total = w.reshape(n // hop, hop).sum(axis=0)  # every sample's sum over overlapping frames
    np.testing.assert_allclose(total, 2.0, atol=1e-12)


# --- framing --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 100, 1000, 1024, 1025])
def test_centred_frames_shape_and_padding(n: int) -> None:
    n_fft, hop = 256, 100
    x = np.arange(1, n + 1, dtype=np.float32)
    frames = frame_signal(x, n_fft=n_fft, hop=hop)
    assert frames.shape == (1 + n // hop, n_fft)
    # Frame t is centred on sample t * hop; what lies outside the signal is zero.
    for t in range(frames.shape[0]):
        idx = t * hop - n_fft // 2 + np.arange(n_fft)
        inside = (idx >= 0) & (idx < n)
        np.testing.assert_array_equal(frames[t][inside], x[idx[inside]])
        assert not frames[t][~inside].any()
    assert frames[0, n_fft // 2] == x[0]


def test_uncentred_frames_keep_only_whole_frames() -> None:
    x = np.arange(1000.0)
    frames = frame_signal(x, n_fft=256, hop=100, centre=False)
    assert frames.shape == (1 + (1000 - 256) // 100, 256)
    for t in range(frames.shape[0]):
        np.testing.assert_array_equal(frames[t], x[t * 100 : t * 100 + 256])


def test_frames_of_several_channels_equal_each_channels_frames() -> None:
    x = np.random.default_rng(0).standard_normal((777, 2)).astype(np.float32)
    both = frame_signal(x.T, n_fft=64, hop=16)  # a transposed (non C-contiguous) input
    assert both.shape == (2, 1 + 777 // 16, 64)
    for c in range(2):
        np.testing.assert_array_equal(both[c], frame_signal(x[:, c], n_fft=64, hop=16))


# --- transforms -----------------------------------------------------------------------------


def test_stft_and_power_match_numpy() -> None:
    rng = np.random.default_rng(1)
    frames = frame_signal(rng.standard_normal(5000).astype(np.float32), n_fft=512, hop=128)
    window = hann_window(512)
    spec = stft(frames, window=window)
    assert spec.dtype == np.complex64 and spec.shape == (frames.shape[0], 257)
    ref = np.fft.rfft(frames.astype(np.float64) * window, axis=-1)
    np.testing.assert_allclose(spec, ref, rtol=0, atol=1e-4 * np.abs(ref).max())
    power = power_spectrogram(frames, window=window)
    assert power.dtype == np.float32
    np.testing.assert_allclose(power, np.abs(spec) ** 2, rtol=1e-5)


def test_stft_rounds_float64_frames_after_the_window() -> None:
    x = np.random.default_rng(2).standard_normal(3000)
    frames = frame_signal(x, n_fft=256, hop=64)
    window = hann_window(256, dtype=np.float64)
    got = stft(frames, window=window)
    import scipy.fft

    want = scipy.fft.rfft((frames * window).astype(np.float32), axis=-1)
    np.testing.assert_array_equal(got, want)


def test_filterbank_magnitude_scale_a_full_scale_sine_peaks_near_one() -> None:
    sr, n_fft = 44100, 2048
    t = np.arange(sr) / sr
    y = np.sin(2 * np.pi * (100 * sr / n_fft) * t).astype(np.float32)  # on bin 100
    frames = frame_signal(y, n_fft=n_fft, hop=441)
    identity = np.eye(n_fft // 2 + 1, dtype=np.float32)
    mag = filterbank_magnitude(frames, window=hann_window(n_fft), filterbank=identity)
    assert mag.shape == (frames.shape[0], n_fft // 2 + 1)
    np.testing.assert_allclose(mag[5:-5, 100], 1.0, atol=1e-3)


@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_chunked_filterbank_magnitude_equals_unchunked(chunk: int) -> None:
    y = np.random.default_rng(3).standard_normal(44100).astype(np.float32)
    frames = frame_signal(y, n_fft=1024, hop=221)
    window = hann_window(1024)
    fb, _ = log_filterbank(sr=44100, n_fft=1024, fmin_hz=30, fmax_hz=17000, bands_per_octave=6)
    whole = filterbank_magnitude(frames, window=window, filterbank=fb)
    parts = filterbank_magnitude(frames, window=window, filterbank=fb, chunk=chunk)
    assert parts.shape == whole.shape == (frames.shape[0], fb.shape[1])
    np.testing.assert_allclose(parts, whole, rtol=1e-6, atol=1e-9)


# --- filterbanks ----------------------------------------------------------------------------


@pytest.mark.parametrize(("sr", "n_fft", "min_half_bins"), [(44100, 2048, 0), (22050, 512, 2)])
def test_log_filterbank_shape_sums_and_centres(sr: int, n_fft: int, min_half_bins: int) -> None:
    fb, centres = log_filterbank(
        sr=sr,
        n_fft=n_fft,
        fmin_hz=30.0,
        fmax_hz=0.45 * sr,
        bands_per_octave=12,
        min_half_bins=min_half_bins,
    )
    assert fb.dtype == np.float32 and fb.shape == (n_fft // 2 + 1, centres.size)
    np.testing.assert_allclose(fb.sum(axis=0), 1.0, rtol=1e-6)
    assert np.all(np.diff(centres) > 0) and centres[-1] <= 0.45 * sr
    centre_bins = np.round(centres * n_fft / sr).astype(int)
    np.testing.assert_array_equal(fb.argmax(axis=0), centre_bins)
    widths = (fb > 0).sum(axis=0)  # min_half_bins: the bins either side of the centre
    assert widths.min() >= max(1, 2 * min_half_bins - 1)


@pytest.mark.parametrize(("sr", "n_fft", "n_mels"), [(22050, 1024, 40), (22050, 1024, 32)])
def test_mel_filterbank_rows(sr: int, n_fft: int, n_mels: int) -> None:
    peak = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin_hz=30.0, sum_to_one=False)
    unit = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin_hz=30.0, sum_to_one=True)
    assert peak.shape == unit.shape == (n_mels, n_fft // 2 + 1)
    np.testing.assert_allclose(unit.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(unit, peak / peak.sum(axis=1, keepdims=True))
    # No empty band (the narrow low ones take their nearest bin); triangles peak at <= 1.
    assert np.all(peak.max(axis=1) > 0) and peak.max() <= 1.0
    assert np.all(np.diff(peak.argmax(axis=1)) >= 0)  # bands rise in frequency
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    assert not peak[:, freqs < 30.0].any()


def test_mel_bands_narrower_than_a_bin_take_their_nearest_bin() -> None:
    sr, n_fft = 22050, 128  # 172 Hz bins: the lowest 50 Hz wide bands fall between bins
    bank = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=40, fmin_hz=30.0, sum_to_one=False)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel = 2595.0 * np.log10(1.0 + np.array([30.0, sr / 2]) / 700.0)
    centres = 700.0 * (10.0 ** (np.linspace(*mel, 42)[1:-1] / 2595.0) - 1.0)
    single = np.flatnonzero((bank > 0).sum(axis=1) == 1)
    filled = [b for b in single if bank[b].max() == 1.0 and bank[b].sum() == 1.0]
    assert filled, "no band is narrower than a bin at this resolution"
    for band in filled:
        assert bank[band].argmax() == np.argmin(np.abs(freqs - centres[band]))
