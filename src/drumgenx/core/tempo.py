"""A tempo for the transcribed hits: autocorrelation of their onset train, 60-200 bpm.

The hits become an impulse train (each hit weighted by its strength, smoothed by a Gaussian
of `SMOOTH_S` so that hits a few ms off the beat still line up) sampled at ``fps``; its
autocorrelation peaks at the lags the playing repeats at. Among the lags of 60-200 bpm the
one with the highest autocorrelation times a mild prior wins: a log-normal weight centred on
120 bpm with one octave's deviation (`PRIOR_OCTAVES`), so 75 and 150 bpm, equally good
readings of one pattern, resolve to 150, while a clear 90 bpm stays 90 (the prior is within
15 % over 85-170 bpm). The peak is refined by a parabola through its neighbours.

Too few hits to say (fewer than `MIN_HITS`, or all within two beats of 60 bpm) give
``None``: the caller decides the fallback (``drumgenx transcribe`` writes 120 bpm into the
MIDI file and ``null`` into ``hits.json``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["BPM_RANGE", "MIN_HITS", "estimate_tempo", "tempo_from_activation"]

BPM_RANGE = (60.0, 200.0)
"""Tempi considered (beats per minute)."""
PRIOR_BPM = 120.0
PRIOR_OCTAVES = 1.0
"""Deviation of the log-normal prior, in octaves: mild (a factor 0.78 at 60 and 240 bpm)."""
MIN_HITS = 4
"""Fewer hits than this give no tempo."""
MIN_SPAN_S = 2.0
"""Hits spanning less time than this (two beats at 60 bpm) give no tempo."""
SMOOTH_S = 0.01
"""Deviation of the Gaussian each hit is smoothed by (s)."""
TRAIN_FPS = 400.0
"""Rate of the impulse train built from hit times (2.5 ms: 0.5 % of a beat at 120 bpm)."""


def estimate_tempo(
    times: np.ndarray,
    *,
    strengths: np.ndarray | None = None,
    fps: float = TRAIN_FPS,
) -> float | None:
    """Tempo (bpm) of hits at ``times`` (seconds), or None when there are too few to tell.

    Parameters
    ----------
    times : np.ndarray
        Hit times in seconds, any order.
    strengths : np.ndarray, optional
        A weight per hit (e.g. the transcriber's strength); default 1 each.
    fps : float
        Rate of the impulse train the autocorrelation runs on (default `TRAIN_FPS`).
    """
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    w = np.ones_like(t) if strengths is None else np.asarray(strengths, np.float64).reshape(-1)
    if w.shape != t.shape:
        raise ValueError(f"strengths ({w.size}) and times ({t.size}) differ in length")
    keep = np.isfinite(t) & np.isfinite(w) & (w > 0)
    t, w = t[keep], w[keep]
    if t.size < MIN_HITS or t.max() - t.min() < MIN_SPAN_S:
        return None
    t = t - t.min()
    n = int(np.ceil(t.max() * fps)) + 1
    train = np.zeros(n, dtype=np.float64)
    # each hit split between its two nearest samples: timing finer than a sample survives
    pos = t * fps
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    np.add.at(train, lo, w * (1 - frac))
    np.add.at(train, np.minimum(lo + 1, n - 1), w * frac)
    return tempo_from_activation(_smooth(train, SMOOTH_S * fps), fps=fps)


def tempo_from_activation(activation: np.ndarray, *, fps: float) -> float | None:
    """Tempo (bpm) of an onset activation or novelty curve sampled at ``fps``, or None.

    The curve's mean is removed first, so a steady level (a constant activation, a noise
    floor) has no periodicity; a curve too short for two beats at the slowest tempo, or one
    with no repeating peak, gives None.
    """
    a = np.asarray(activation, dtype=np.float64).reshape(-1)
    lag_min = int(np.floor(60.0 / BPM_RANGE[1] * fps))
    lag_max = int(np.ceil(60.0 / BPM_RANGE[0] * fps))
    if a.size < 2 * lag_max or not np.all(np.isfinite(a)):
        return None
    a = a - a.mean()
    size = 1 << int(np.ceil(np.log2(2 * a.size)))
    spectrum = np.fft.rfft(a, size)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), size)[: lag_max + 2]
    if acf[0] <= 0:
        return None
    lags = np.arange(max(lag_min, 1), lag_max + 1)
    bpm = 60.0 * fps / lags
    prior = np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    # only true local maxima of the autocorrelation are beat periods
    peak = (acf[lags] >= acf[lags - 1]) & (acf[lags] >= acf[lags + 1]) & (acf[lags] > 0)
    if not peak.any():
        return None
    score = np.where(peak, acf[lags] * prior, -np.inf)
    k = int(lags[np.argmax(score)])
    left, mid, right = acf[k - 1], acf[k], acf[k + 1]
    den = left - 2 * mid + right
    shift = 0.5 * (left - right) / den if den < 0 else 0.0
    lag = k + float(np.clip(shift, -0.5, 0.5))
    return float(60.0 * fps / lag)


def _smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """``x`` convolved with a unit-area Gaussian of ``sigma`` samples (same length)."""
    if sigma <= 0:
        return x
    reach = int(np.ceil(4 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-reach, reach + 1) / sigma) ** 2)
    return np.convolve(x, kernel / kernel.sum(), mode="same")
