"""Mix augmentations: pure functions of an array and a numpy Generator, none moving onsets.

Every function takes a mono float array and ``rng`` (parameters left as None are drawn from
it) and returns ``(audio, params)``: float32 of the same length, and the parameters used. None
of them shifts the signal in time: the EQ and the low-pass are zero-phase FFT filters, the
reverb keeps the dry direct sound at lag 0, the compressor is a gain, and the codec round
trip is aligned.

Codec: both MP3 (LAME through libsndfile) and Ogg Vorbis are used. libsndfile >= 1.1 writes
the LAME/Xing header with the encoder delay and padding, and its mpg123 decoder removes them
(gapless), so the decoded MP3 has the input's length and no delay; measured with
libsndfile 1.2.2: lag 0 samples for MP3 and Vorbis. :func:`codec` does not rely on that: it
measures the round-trip lag of each format once per process (cross-correlation of a click
train) and compensates it, then cuts or pads to the input length, so labels stay aligned
within a sample.
"""

from __future__ import annotations

import functools
import io
from typing import Any

import numpy as np
import soundfile as sf
from scipy import fft as sp_fft
from scipy import ndimage, signal

SR = 44100
CODECS: dict[str, tuple[str, str]] = {"mp3": ("MP3", "MPEG_LAYER_III"), "ogg": ("OGG", "VORBIS")}


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def gain(
    x: np.ndarray, *, rng: np.random.Generator, db: float | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Scale by ``db`` decibels (drawn uniform in [-9, +3] when None)."""
    if db is None:
        db = float(rng.uniform(-9.0, 3.0))
    return _f32(np.asarray(x, dtype=np.float64) * 10 ** (db / 20)), {"db": round(db, 4)}


def eq_tilt(
    x: np.ndarray,
    *,
    rng: np.random.Generator,
    sr: int = SR,
    db_per_octave: float | None = None,
    pivot_hz: float = 1000.0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Spectral tilt of ``db_per_octave`` around ``pivot_hz`` (zero phase, clamped to ±18 dB).

    ``db_per_octave`` is drawn uniform in [-3, 3] when None.
    """
    if db_per_octave is None:
        db_per_octave = float(rng.uniform(-3.0, 3.0))
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n == 0:
        return _f32(x), {"db_per_octave": round(db_per_octave, 4), "pivot_hz": pivot_hz}
    n_fft = sp_fft.next_fast_len(n + 2048, real=True)
    f = np.fft.rfftfreq(n_fft, 1 / sr)
    octaves = np.log2(np.maximum(f, 20.0) / pivot_hz)
    g_db = np.clip(db_per_octave * octaves, -18.0, 18.0)
    spec = np.fft.rfft(x, n_fft) * 10 ** (g_db / 20)
    y = np.fft.irfft(spec, n_fft)[:n]
    return _f32(y), {"db_per_octave": round(db_per_octave, 4), "pivot_hz": pivot_hz}


def lowpass(
    x: np.ndarray,
    *,
    rng: np.random.Generator,
    sr: int = SR,
    cutoff_hz: float | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Zero-phase low-pass: flat to ``cutoff_hz``, a raised-cosine fall to zero at 1.25x.

    Stands in for band-limited sources (22.05 kHz files, low-bitrate streams, old samplers),
    whose hats have no energy above ~11 kHz. ``cutoff_hz`` is drawn uniform in [5, 11] kHz
    when None.
    """
    if cutoff_hz is None:
        cutoff_hz = float(rng.uniform(5000.0, 11000.0))
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    params = {"cutoff_hz": round(cutoff_hz, 1)}
    if n == 0:
        return _f32(x), params
    n_fft = sp_fft.next_fast_len(n + 2048, real=True)
    f = np.fft.rfftfreq(n_fft, 1 / sr)
    ramp = np.clip((f - cutoff_hz) / (0.25 * cutoff_hz), 0.0, 1.0)
    g = 0.5 * (1.0 + np.cos(np.pi * ramp))
    y = np.fft.irfft(np.fft.rfft(x, n_fft) * g, n_fft)[:n]
    return _f32(y), params


def room_reverb(
    x: np.ndarray,
    *,
    rng: np.random.Generator,
    sr: int = SR,
    rt60_s: float | None = None,
    wet_db: float | None = None,
    predelay_s: float | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Add a synthetic room: exponentially decaying noise IR after a pre-delay, dry kept.

    Parameters
    ----------
    x : ndarray
        Mono audio.
    rng : numpy.random.Generator
        Draws the parameters left as None and the IR's noise.
    sr : int
        Sample rate.
    rt60_s : float, optional
        Decay time to -60 dB (uniform 0.2-1.6 s).
    wet_db : float, optional
        Energy of the reverberant part re the dry signal (uniform -20..-6 dB).
    predelay_s : float, optional
        Gap between the direct sound and the reverb (uniform 5-25 ms).

    Returns
    -------
    (ndarray, dict)
        ``x + wet`` (same length, direct sound at lag 0) and the parameters.
    """
    if rt60_s is None:
        rt60_s = float(rng.uniform(0.2, 1.6))
    if wet_db is None:
        wet_db = float(rng.uniform(-20.0, -6.0))
    if predelay_s is None:
        predelay_s = float(rng.uniform(0.005, 0.025))
    x = np.asarray(x, dtype=np.float64)
    n_ir = max(1, int(rt60_s * 1.2 * sr))
    t = np.arange(n_ir) / sr
    ir = rng.standard_normal(n_ir) * np.exp(-6.9078 * t / rt60_s)
    # high frequencies die faster: a one-pole low-pass whose cut-off falls along the tail
    ir = signal.lfilter([0.6], [1.0, -0.4], ir)
    ir = np.concatenate([np.zeros(int(predelay_s * sr)), ir])
    ir /= np.sqrt(np.sum(ir**2)) + 1e-12  # unit energy
    wet = signal.fftconvolve(x, ir)[: len(x)]
    e_dry, e_wet = float(np.sum(x**2)), float(np.sum(wet**2))
    if e_wet > 0 and e_dry > 0:
        wet *= np.sqrt(e_dry / e_wet) * 10 ** (wet_db / 20)
    params = {"rt60_s": round(rt60_s, 4), "wet_db": round(wet_db, 4)}
    params["predelay_s"] = round(predelay_s, 4)
    return _f32(x + wet), params


def compress(
    x: np.ndarray,
    *,
    rng: np.random.Generator,
    sr: int = SR,
    threshold_db: float | None = None,
    ratio: float | None = None,
    release_s: float | None = None,
    makeup: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Feed-forward compressor / limiter (a time-varying gain, no delay).

    The level is the peak over a 5 ms window (centred, so it acts like a short look-ahead);
    gain reduction above ``threshold_db`` (re the signal's peak; uniform -24..-6 dB) is
    ``(level - threshold) * (1 - 1 / ratio)`` (ratio uniform 2..20; 20 is a limiter),
    smoothed by a one-pole release (uniform 50-300 ms). With ``makeup`` the peak is restored.
    """
    if threshold_db is None:
        threshold_db = float(rng.uniform(-24.0, -6.0))
    if ratio is None:
        ratio = float(rng.uniform(2.0, 20.0))
    if release_s is None:
        release_s = float(rng.uniform(0.05, 0.3))
    x = np.asarray(x, dtype=np.float64)
    params = {"threshold_db": round(threshold_db, 4), "ratio": round(ratio, 4)}
    params["release_s"] = round(release_s, 4)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 0:
        return _f32(x), params
    win = max(1, int(0.005 * sr))
    level = ndimage.maximum_filter1d(np.abs(x), size=win, mode="nearest")
    level_db = 20 * np.log10(np.maximum(level, 1e-9) / peak)
    gr_db = np.maximum(0.0, level_db - threshold_db) * (1.0 - 1.0 / ratio)
    a = np.exp(-1.0 / (release_s * sr))
    # peak-hold release: the smoothed reduction never falls below the instantaneous one
    smooth = signal.lfilter([1 - a], [1, -a], gr_db)
    gr_db = np.maximum(gr_db, smooth)
    y = x * 10 ** (-gr_db / 20)
    if makeup:
        y_peak = float(np.max(np.abs(y)))
        if y_peak > 0:
            y *= peak / y_peak
    return _f32(y), params


def _encode_decode(x: np.ndarray, fmt: str, level: float, sr: int) -> np.ndarray:
    container, subtype = CODECS[fmt]
    buf = io.BytesIO()
    clipped = np.clip(x, -1.0, 1.0)
    sf.write(buf, clipped, sr, format=container, subtype=subtype, compression_level=level)
    buf.seek(0)
    y, _ = sf.read(buf, dtype="float32")
    return y if y.ndim == 1 else y.mean(axis=1)


@functools.cache
def codec_lag(fmt: str, sr: int = SR) -> int:
    """Measured round-trip lag of a codec in samples (decoded = input delayed by the lag)."""
    n = sr  # one second of clicks
    x = np.zeros(n)
    rng = np.random.default_rng(12345)
    for s in range(2000, n - 4000, 4410):
        x[s : s + 200] += rng.standard_normal(200) * np.exp(-np.arange(200) / 40) * 0.5
    y = _encode_decode(x, fmt, 0.3, sr)
    m = min(len(x), len(y))
    c = signal.correlate(y[:m], x[:m], mode="full", method="fft")
    lags = np.arange(-m + 1, m)
    keep = np.abs(lags) <= 3000
    return int(lags[keep][np.argmax(c[keep])])


def codec(
    x: np.ndarray,
    *,
    rng: np.random.Generator,
    sr: int = SR,
    fmt: str | None = None,
    level: float | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Lossy round trip through MP3 or Ogg Vorbis (libsndfile), aligned and length-kept.

    Parameters
    ----------
    x : ndarray
        Mono audio in [-1, 1] (clipped there before encoding).
    rng : numpy.random.Generator
        Draws ``fmt`` ("mp3" or "ogg") and ``level`` when None.
    sr : int
        Sample rate.
    fmt : {"mp3", "ogg"}, optional
    level : float, optional
        libsndfile ``compression_level`` in [0, 1] (uniform 0.2-0.8; higher is smaller and
        worse: about 130 down to 45 kbit/s for MP3 VBR).

    Returns
    -------
    (ndarray, dict)
        The decoded audio shifted back by :func:`codec_lag` and cut or zero-padded to
        ``len(x)``; the parameters (with the compensated lag).
    """
    if fmt is None:
        fmt = str(rng.choice(sorted(CODECS)))
    if level is None:
        level = float(rng.uniform(0.2, 0.8))
    x = np.asarray(x, dtype=np.float64)
    y = _encode_decode(x, fmt, level, sr).astype(np.float64)
    lag = codec_lag(fmt, sr)
    if lag > 0:
        y = y[lag:]
    elif lag < 0:
        y = np.concatenate([np.zeros(-lag), y])
    out = np.zeros(len(x))
    k = min(len(x), len(y))
    out[:k] = y[:k]
    return _f32(out), {"format": fmt, "level": round(level, 4), "lag_samples": lag}


AUGMENT_PROBABILITY = {
    "lowpass": 0.15,
    "eq_tilt": 0.5,
    "room_reverb": 0.35,
    "compress": 0.4,
    "codec": 0.3,
}


def augment_mix(
    mix: np.ndarray, *, rng: np.random.Generator, sr: int = SR
) -> tuple[np.ndarray, dict[str, Any]]:
    """A random chain: lowpass, eq_tilt, room_reverb, compress (each maybe), gain, codec (maybe).

    Probabilities are :data:`AUGMENT_PROBABILITY`; the gain always applies. A final scale
    brings the peak to at most 0.999 (so a 16-bit file does not clip).

    Returns
    -------
    (ndarray, dict)
        float32 audio of the same length, aligned with ``mix``; ``{"chain": [{"name": ...,
        **params}, ...], "final_scale": float}``.
    """
    y = np.asarray(mix, dtype=np.float32)
    chain: list[dict[str, Any]] = []
    steps = [
        ("lowpass", lambda a: lowpass(a, rng=rng, sr=sr)),
        ("eq_tilt", lambda a: eq_tilt(a, rng=rng, sr=sr)),
        ("room_reverb", lambda a: room_reverb(a, rng=rng, sr=sr)),
        ("compress", lambda a: compress(a, rng=rng, sr=sr)),
        ("gain", lambda a: gain(a, rng=rng)),
        ("codec", lambda a: codec(a, rng=rng, sr=sr)),
    ]
    for name, fn in steps:
        if name != "gain" and rng.random() >= AUGMENT_PROBABILITY[name]:
            continue
        if name == "codec":  # the encoder needs [-1, 1]
            y, _ = _peak_guard(y)
        y, params = fn(y)
        chain.append({"name": name, **params})
    y, scale = _peak_guard(y)
    return y, {"chain": chain, "final_scale": round(scale, 6)}


def _peak_guard(y: np.ndarray, limit: float = 0.999) -> tuple[np.ndarray, float]:
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if peak > limit:
        scale = limit / peak
        return _f32(np.asarray(y, dtype=np.float64) * scale), scale
    return _f32(y), 1.0
