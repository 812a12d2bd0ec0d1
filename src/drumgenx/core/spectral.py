"""The one spectral front end: framing, Hann windows, batched real FFTs and filterbanks.

Every short-time spectrum in the package is made here: the flux onset detector and the learned
onset model's input (stage 1), the de-duplication fingerprint, the HPSS separator, the role
features and the learned role scorer (stage 2), and the drum transcriber's input. Each caller
keeps its own settings (frame length, hop, centring, filters); the arithmetic is shared, in
the same order and precision each of them used before it moved here, so the shipped learned
models see exactly the features they were trained on (``tests/test_spectral.py`` holds them
to a fixture written before the move).

Pure numpy; ``scipy.fft`` (several times faster than numpy's pocketfft on batched float32
frames) is imported on first use, so importing this module costs nothing.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

__all__ = [
    "filterbank_magnitude",
    "frame_signal",
    "hann_window",
    "log_filterbank",
    "mel_filterbank",
    "power_spectrogram",
    "stft",
]


def hann_window(n: int, *, periodic: bool = True, dtype: DTypeLike = np.float32) -> np.ndarray:
    """A Hann window of ``n`` samples.

    Parameters
    ----------
    n : int
        Window length in samples.
    periodic : bool
        ``True`` (the default, every STFT here): the DFT-even window, ``np.hanning(n + 1)[:-1]``
        (scipy's and librosa's ``"hann"``), whose overlapped copies sum to a constant at a
        hop of ``n / 4`` or ``n / 2``. ``False``: the symmetric ``np.hanning(n)``, what the
        role features' averaged spectrum and the role scorer's low-peak FFT were built on.
    dtype : numpy dtype
        Element type. float32 (the default) is what the float32 STFTs multiply by; the role
        scorer asks for float64.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` window, read-only (one cached copy per length, kind and type).
    """
    return _hann(int(n), bool(periodic), np.dtype(dtype).str)


@functools.lru_cache(maxsize=64)
def _hann(n: int, periodic: bool, dtype: str) -> np.ndarray:
    # Cached: per-clip analyses (stage 2's features) ask for the same few windows thousands
    # of times, and building one costs as much as a short FFT.
    window = (np.hanning(n + 1)[:-1] if periodic else np.hanning(n)).astype(dtype)
    window.flags.writeable = False
    return window


def frame_signal(x: np.ndarray, *, n_fft: int, hop: int, centre: bool = True) -> np.ndarray:
    """Overlapping frames along the last axis of ``x``, as a read-only view.

    Parameters
    ----------
    x : numpy.ndarray
        Signal(s), ``(..., samples)``.
    n_fft : int
        Frame length in samples.
    hop : int
        Step between frame starts in samples.
    centre : bool
        ``True`` (the default: onset detection, HPSS, the transcriber, the role scorer): ``x``
        is zero-padded by ``n_fft // 2`` at both ends, so frame ``t`` is centred on sample
        ``t * hop`` and there are ``1 + samples // hop`` frames for an even ``n_fft`` (librosa's
        ``center=True`` with zero padding, its default since 0.10). ``False`` (the
        de-duplication fingerprint and the role features, which pad or align ``x``
        themselves): frames start at sample 0 and only whole frames are kept,
        ``1 + (samples - n_fft) // hop`` of them.

    Returns
    -------
    numpy.ndarray
        ``(..., frames, n_fft)``, a strided view of ``x`` (of a padded copy when ``centre``).
    """
    x = np.asarray(x)
    if centre:
        half = n_fft // 2
        # Zeros then a copy (not np.pad): C order whatever the input's, so the frames of a
        # transposed (channels, samples) array are as cheap to read as any other.
        padded = np.zeros((*x.shape[:-1], x.shape[-1] + 2 * half), dtype=x.dtype)
        padded[..., half : half + x.shape[-1]] = x
        x = padded
    return np.lib.stride_tricks.sliding_window_view(x, n_fft, axis=-1)[..., ::hop, :]


def stft(frames: np.ndarray, *, window: np.ndarray) -> np.ndarray:
    """Complex spectra of windowed frames: one batched real FFT along the last axis.

    Parameters
    ----------
    frames : numpy.ndarray
        ``(..., frames, n_fft)``, e.g. from :func:`frame_signal`.
    window : numpy.ndarray
        ``(n_fft,)`` window (:func:`hann_window`).

    Returns
    -------
    numpy.ndarray
        complex64 ``(..., frames, n_fft // 2 + 1)``. The windowed frames are transformed in
        single precision, as every caller did before this module existed: about 4x faster
        than double, and their levels are floored far above float32's noise (-100 dB at the
        lowest, in the role scorer). A float64 frame times a float64 window is rounded once,
        after the product (the role scorer's order).
    """
    import scipy.fft  # several times numpy's pocketfft on batched float32 frames

    return scipy.fft.rfft((frames * window).astype(np.float32, copy=False), axis=-1)


def power_spectrogram(frames: np.ndarray, *, window: np.ndarray) -> np.ndarray:
    """``|stft(frames)|**2``: float32 ``(..., frames, n_fft // 2 + 1)``, unscaled.

    Parameters
    ----------
    frames : numpy.ndarray
        ``(..., frames, n_fft)``.
    window : numpy.ndarray
        ``(n_fft,)`` window.

    Returns
    -------
    numpy.ndarray
        float32 power, ``re**2 + im**2`` (no square root and no ``abs``: the power is what
        the mel filterbanks and averaged spectra of the callers use).
    """
    spec = stft(frames, window=window)
    return spec.real**2 + spec.imag**2


def filterbank_magnitude(
    frames: np.ndarray, *, window: np.ndarray, filterbank: np.ndarray, chunk: int | None = None
) -> np.ndarray:
    """Filtered magnitude spectrogram ``(|stft| * 2 / sum(window)) @ filterbank``.

    The scale makes a full-scale sine's peak bin read about 1, whatever the window length
    (the flux onset detector's and the transcriber's log thresholds are relative to it).

    Parameters
    ----------
    frames : numpy.ndarray
        ``(frames, n_fft)``, e.g. from :func:`frame_signal`.
    window : numpy.ndarray
        ``(n_fft,)`` window.
    filterbank : numpy.ndarray
        ``(n_fft // 2 + 1, filters)``, e.g. from :func:`log_filterbank`.
    chunk : int, optional
        Frames transformed at a time, bounding memory: the windowed frames and their spectra
        take ``n_fft`` floats per frame, ~3 GB for an hour at the transcriber's 100 fps. The
        result does not depend on it. None (the default, the onset detector's short inputs):
        all at once.

    Returns
    -------
    numpy.ndarray
        float32 ``(frames, filters)``.
    """
    scale = np.float32(2.0 / window.sum())
    n = frames.shape[0]
    step = n if chunk is None else chunk
    out = np.empty((n, filterbank.shape[1]), dtype=np.float32)
    for start in range(0, n, max(1, step)):
        mag = np.abs(stft(frames[start : start + step], window=window))
        mag *= scale
        out[start : start + step] = mag @ filterbank
    return out


def log_filterbank(
    *,
    sr: int,
    n_fft: int,
    fmin_hz: float,
    fmax_hz: float,
    bands_per_octave: float,
    min_half_bins: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Triangular log-frequency filters, each averaging its FFT bins (madmom-style).

    Centres are ``bands_per_octave`` per octave from ``fmin_hz`` up to ``fmax_hz``; each is
    snapped to an FFT bin and duplicates are dropped, so at low frequencies (narrower than a
    bin) one filter per bin remains. Each filter spans from the previous centre to the next
    (the first and last borrow one bin) and peaks at its own; its weights sum to 1, so
    filters of different widths give comparable levels. The layout of the flux onset
    detector and the transcriber (madmom's ``LogarithmicFilterbank`` with unit-area filters).

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    n_fft : int
        FFT size the filters apply to.
    fmin_hz, fmax_hz : float
        Lowest and highest centre frequency (the callers keep ``fmax_hz`` below Nyquist).
    bands_per_octave : float
        Centres per octave before snapping.
    min_half_bins : int
        Each filter reaches at least this many bins either side of its centre (the onset
        detector's ``min_half_bins``: a one-bin filter of a noisy sound flickers by +-5 dB
        from frame to frame). 0 (the default, the transcriber's): no widening.

    Returns
    -------
    filterbank : numpy.ndarray
        float32 ``(n_fft // 2 + 1, filters)``.
    centres_hz : numpy.ndarray
        ``(filters,)`` each filter's centre, on its FFT bin (Hz).
    """
    n_oct = np.log2(fmax_hz / fmin_hz)
    centres_hz = fmin_hz * 2.0 ** (np.arange(int(n_oct * bands_per_octave) + 1) / bands_per_octave)
    bin_hz = sr / n_fft
    bins = np.unique(np.round(centres_hz / bin_hz).astype(int))
    bins = bins[(bins >= 1) & (bins < n_fft // 2)]
    edges = np.concatenate([[bins[0] - 1], bins, [bins[-1] + 1]])
    k = np.arange(n_fft // 2 + 1)[:, None]
    lo, mid, hi = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    lo = np.minimum(lo, mid - min_half_bins)
    hi = np.maximum(hi, mid + min_half_bins)
    # Centres are distinct bins, so mid - lo >= 1 and every filter peaks at 1 on its centre.
    rise = (k - lo) / np.maximum(mid - lo, 1)
    fall = (hi - k) / np.maximum(hi - mid, 1)
    fb = np.clip(np.minimum(rise, fall), 0.0, None)
    fb /= fb.sum(axis=0, keepdims=True)
    return fb.astype(np.float32), bins * bin_hz


def _hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)  # HTK mel scale


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(
    *, sr: int, n_fft: int, n_mels: int, fmin_hz: float, sum_to_one: bool
) -> np.ndarray:
    """Triangular filters on the HTK mel scale, from ``fmin_hz`` to Nyquist.

    ``n_mels`` triangles with edges evenly spaced in HTK mel (``2595 log10(1 + f / 700)``),
    each rising from its lower neighbour's centre to its own and falling to its upper
    neighbour's. A band narrower than one FFT bin (the lowest ones) takes its nearest bin,
    weight 1, instead of coming out empty (it would read as silence for every sound).

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    n_fft : int
        FFT size the filters apply to.
    n_mels : int
        Number of bands.
    fmin_hz : float
        Lower edge of the lowest band.
    sum_to_one : bool
        True (the de-duplication fingerprint): each row sums to 1, so a band's value is the
        mean power density in it and white noise is flat across bands whatever their width.
        False (the role scorer): triangles of height 1, as trained.

    Returns
    -------
    numpy.ndarray
        float64 ``(n_mels, n_fft // 2 + 1)``.
    """
    freqs = np.fft.rfftfreq(n_fft, d=1.0 / sr)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin_hz), _hz_to_mel(sr / 2.0), n_mels + 2))
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    weights = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    for band in np.flatnonzero(weights.sum(axis=1) == 0.0):
        weights[band, np.argmin(np.abs(freqs - mid[band, 0]))] = 1.0
    if sum_to_one:
        weights /= weights.sum(axis=1, keepdims=True)
    return weights
