"""The transcriber's input: a log-frequency spectrogram and its rises, 100 frames a second.

Pure numpy and scipy's FFT (the framing, window, FFT and filterbank are
`drumgenx.core.spectral`'s): the shipped model and its trainer call the same function, so what
the network saw in training is what it sees at run time.

1. The input is resampled to 44.1 kHz (the rate the filterbank was laid out for) and
   scaled to a peak of 1, so a quiet file and a loud one look alike.
2. Centred Hann frames of 2048 samples (46 ms: a kick's fundamental is resolved from a
   tom's) every 441 samples (10 ms, the frame rate of madmom's and ADTOF's drum models).
3. Triangular filters, 12 per octave from 30 Hz to 17 kHz, each averaging its FFT bins;
   below ~250 Hz, where a semitone is narrower than a bin, one filter per bin remains.
4. ``log10(1 + 1000 * E)``: a log scale above -60 dB re full scale.
5. A second channel holds the positive change from the previous frame (the spectral flux
   every onset detector is built on), so the first layer need not learn to difference.
"""

from __future__ import annotations

import functools

import numpy as np

from drumgenx.core.spectral import filterbank_magnitude, frame_signal, hann_window, log_filterbank

__all__ = ["FPS", "HOP", "N_FFT", "SR", "n_filters", "transcriber_features"]

SR = 44100
"""Analysis rate: inputs at other rates are resampled to it."""
N_FFT = 2048
HOP = 441
FPS = SR / HOP
"""Frames per second (100)."""
FMIN_HZ = 30.0
FMAX_HZ = 17000.0
BANDS_PER_OCTAVE = 12
LOG_MUL = 1000.0
STFT_CHUNK = 4096
"""Frames transformed at a time (41 s of audio): bounds memory on long files."""


@functools.cache
def _layout() -> tuple[np.ndarray, np.ndarray]:
    """`core.spectral.log_filterbank` at the transcriber's settings: filters and centres."""
    return log_filterbank(
        sr=SR, n_fft=N_FFT, fmin_hz=FMIN_HZ, fmax_hz=FMAX_HZ, bands_per_octave=BANDS_PER_OCTAVE
    )


def _filterbank() -> np.ndarray:
    """Triangular log filters ``(N_FFT // 2 + 1, n_filters)``, each summing to 1."""
    return _layout()[0]


def filter_centres_hz() -> np.ndarray:
    """Each filter's centre frequency (Hz, on its FFT bin), ``(n_filters,)``: a copy."""
    return _layout()[1].copy()


def n_filters() -> int:
    """Number of filters (the feature width per channel)."""
    return _filterbank().shape[1]


def n_frames(n_samples: int) -> int:
    """Frames for ``n_samples`` samples at `SR` (centred frames: one per hop, plus one)."""
    return 1 + n_samples // HOP


def transcriber_features(
    y: np.ndarray, *, sr: int, peak: float | None = None, silence: int = 0
) -> np.ndarray:
    """The network's input for mono audio ``y`` at ``sr``.

    Parameters
    ----------
    y : np.ndarray
        Mono audio, 1-D float.
    sr : int
        Sample rate of ``y``; other rates than 44.1 kHz are resampled (soxr).
    peak : float, optional
        The level that scales to 1 (the features see peak-normalised audio). Default: the
        peak of ``y`` after resampling; a block of a longer file passes the whole file's.
    silence : int
        Frames of digital silence put before and after the audio (default 0). The network
        then hears a file's first hit after silence, as it hears any other, instead of
        after nothing: without it, a hit on a file's very first sample scored low.

    Returns
    -------
    np.ndarray
        float32 ``(2, silence + frames + silence, filters)``: the log filterbank spectrogram
        and its positive first difference. Frame ``silence + i`` is centred on ``i / FPS``
        seconds.
    """
    if silence < 0:
        raise ValueError(f"silence must be >= 0 frames, got {silence}")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"y must be mono (1-D), got shape {y.shape}")
    if sr != SR:
        from drumgenx.core.audio import resample

        y = resample(y, sr, SR).astype(np.float32)
    if peak is None:
        peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0:
        y = y * np.float32(1.0 / peak)
    if silence:
        quiet = np.zeros(silence * HOP, dtype=np.float32)
        y = np.concatenate([quiet, y, quiet])
    frames = frame_signal(y, n_fft=N_FFT, hop=HOP)
    # Windowed and transformed STFT_CHUNK frames at a time: a long file's windowed frames
    # would otherwise take n_fft floats per frame (~3 GB for an hour).
    filt = filterbank_magnitude(
        frames, window=hann_window(N_FFT), filterbank=_filterbank(), chunk=STFT_CHUNK
    )
    logspec = np.log10(np.float32(1.0) + np.float32(LOG_MUL) * filt)
    rises = np.zeros_like(logspec)
    np.subtract(logspec[1:], logspec[:-1], out=rises[1:])
    np.maximum(rises, 0.0, out=rises)
    return np.stack([logspec, rises]).astype(np.float32, copy=False)
