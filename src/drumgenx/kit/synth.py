"""Numpy-only synthesis of the one-shot drum kit that ships with DrumGen-X.

Every voice is a pure function of ``(sr, rng)``: no disk I/O and no dependency beyond numpy, so
the bundled WAV files can be regenerated bit-for-bit from this module.  The sound design follows
classic analogue drum machines (808/909): pitch-swept sines for kick and toms, filtered noise for
snare and clap, and inharmonic square-wave clusters for the metallic hats and crash.

Filtering is done in the frequency domain with Butterworth *magnitude* responses (zero phase).
Every filter is applied to a stationary source *before* its amplitude envelope, so the lack of
causality never smears an attack.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["KIT_SR", "KIT_VOICES", "KitVoice", "synthesize_voice"]

KIT_SR = 44100
"""Sample rate (Hz) of the bundled kit."""

_PEAK = 10.0 ** (-1.0 / 20.0)  # -1 dBFS leaves headroom for resampling/inter-sample overs
_FADE_IN_S = 0.0005  # long enough to remove a DC click, short enough to keep the transient
_FADE_OUT_FRACTION = 0.1  # tail taper, relative to the voice length
_MIN_SR = 8000  # below this the hats/crash have no room under Nyquist
_FILTER_PAD = 2048  # discarded lead-in that absorbs the circular-FFT wrap-around ringing

# Square-oscillator frequencies of the Roland TR-808 cymbal/hat circuit (Hz).  Their ratios are
# deliberately inharmonic, which is what makes the cluster sound metallic rather than pitched.
_METAL_HZ = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


def _time(n: int, sr: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / sr


def _butter_mag(
    freqs: np.ndarray, *, highpass: float | None, lowpass: float | None, order: int
) -> np.ndarray:
    """Butterworth magnitude response; only the magnitude matters for zero-phase filtering."""
    gain = np.ones_like(freqs)
    if highpass is not None:
        with np.errstate(divide="ignore"):
            ratio = np.where(freqs > 0, highpass / np.maximum(freqs, 1e-12), np.inf)
        gain /= np.sqrt(1.0 + ratio ** (2 * order))
    if lowpass is not None:
        gain /= np.sqrt(1.0 + (freqs / lowpass) ** (2 * order))
    return gain


def _filter(
    x: np.ndarray,
    sr: int,
    *,
    highpass: float | None = None,
    lowpass: float | None = None,
    order: int = 2,
) -> np.ndarray:
    """Zero-phase high/low/band-pass of a stationary signal via a single real FFT."""
    nyq = 0.5 * sr
    # Cut-offs above Nyquist (e.g. at low sample rates) would be meaningless; clamp them.
    if lowpass is not None and lowpass >= 0.98 * nyq:
        lowpass = None
    if highpass is not None:
        highpass = min(highpass, 0.9 * nyq)
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, d=1.0 / sr)
    spectrum *= _butter_mag(freqs, highpass=highpass, lowpass=lowpass, order=order)
    return np.fft.irfft(spectrum, n=x.size)


def _filtered_noise(
    n: int,
    sr: int,
    rng: np.random.Generator,
    *,
    highpass: float | None = None,
    lowpass: float | None = None,
    order: int = 2,
) -> np.ndarray:
    """Band-limited white noise, unit RMS, ``n`` samples long."""
    noise = rng.standard_normal(n + _FILTER_PAD)
    out = _filter(noise, sr, highpass=highpass, lowpass=lowpass, order=order)[_FILTER_PAD:]
    rms = float(np.sqrt(np.mean(out**2)))
    return out / rms if rms > 0 else out


def _polyblep(phase: np.ndarray, dt: float) -> np.ndarray:
    """PolyBLEP residual that rounds off a unit saw step, suppressing most aliasing."""
    out = np.zeros_like(phase)
    rise = phase < dt
    x = phase[rise] / dt
    out[rise] = x + x - x * x - 1.0
    fall = phase > 1.0 - dt
    x = (phase[fall] - 1.0) / dt
    out[fall] = x * x + x + x + 1.0
    return out


def _saw(freq: float, n: int, sr: int, *, phase0: float = 0.0) -> np.ndarray:
    """Band-limited (PolyBLEP) rising saw in [-1, 1]."""
    dt = freq / sr
    phase = (phase0 + dt * np.arange(n, dtype=np.float64)) % 1.0
    return 2.0 * phase - 1.0 - _polyblep(phase, dt)


def _square(freq: float, n: int, sr: int, *, phase0: float = 0.0) -> np.ndarray:
    """Band-limited square in [-1, 1], built as the difference of two half-period-offset saws."""
    return _saw(freq, n, sr, phase0=phase0) - _saw(freq, n, sr, phase0=(phase0 + 0.5) % 1.0)


def _triangle(freq: float, n: int, sr: int, *, phase0: float = 0.0) -> np.ndarray:
    """Naive triangle; its 1/k^2 harmonics make aliasing negligible at pad frequencies."""
    phase = (phase0 + freq / sr * np.arange(n, dtype=np.float64)) % 1.0
    return 4.0 * np.abs(phase - 0.5) - 1.0


def _swept_sine(f_start: float, f_end: float, tau: float, t: np.ndarray, sr: int) -> np.ndarray:
    """Sine whose frequency glides exponentially from ``f_start`` towards ``f_end``."""
    freq = f_end + (f_start - f_end) * np.exp(-t / tau)
    # Integrate frequency so the glide is phase-continuous; start at phase 0 (zero crossing).
    phase = 2.0 * np.pi * (np.cumsum(freq) - freq[0]) / sr
    return np.sin(phase)


def _metal(
    n: int,
    sr: int,
    rng: np.random.Generator,
    *,
    multipliers: tuple[float, ...],
) -> np.ndarray:
    """Cluster of inharmonic squares (808 cymbal circuit) with random start phases."""
    out = np.zeros(n + _FILTER_PAD)
    for mult in multipliers:
        for base in _METAL_HZ:
            freq = base * mult
            if freq < 0.45 * sr:  # PolyBLEP degrades close to Nyquist; drop such partials
                out += _square(freq, out.size, sr, phase0=float(rng.random()))
    return out


def _unit_rms(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x**2)))
    return x / rms if rms > 0 else x


# --------------------------------------------------------------------------------------------
# Voices (raw, un-normalized; ``synthesize_voice`` adds fades and peak normalization)
# --------------------------------------------------------------------------------------------


def _kick(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = round(0.6 * sr)
    t = _time(n, sr)
    # Fast exponential glide 150 -> 48 Hz gives the "punch" followed by the sub "boom".
    body = _swept_sine(150.0, 48.0, 0.035, t, sr) * np.exp(-t / 0.17)
    # Gentle tanh drive adds a few low harmonics so the kick reads on small speakers.
    body = np.tanh(1.6 * body) / np.tanh(1.6)
    # Beater click: ~2 ms of band-passed noise; quiet so the low end still dominates.
    click = _filtered_noise(n, sr, rng, highpass=1500.0, lowpass=7000.0) * np.exp(-t / 0.0015)
    return (body + 0.12 * click).astype(np.float32)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = round(0.4 * sr)
    t = _time(n, sr)
    # Two drum-head modes with a slight downward pitch bend, decaying quickly.
    head = 0.6 * _swept_sine(200.0, 185.0, 0.02, t, sr) * np.exp(-t / 0.05)
    head += 0.35 * _swept_sine(345.0, 330.0, 0.02, t, sr) * np.exp(-t / 0.035)
    # Snare wires: high-passed noise with a longer tail (~0.18 s audible decay).
    wires = _filtered_noise(n, sr, rng, highpass=1500.0, lowpass=9000.0, order=2)
    wires *= np.exp(-t / 0.06)
    return (head + 0.55 * wires).astype(np.float32)


def _clap(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = round(0.4 * sr)
    t = _time(n, sr)
    # 909-style clap: one band-passed noise source gated by several rapid bursts (the
    # "many hands" smear) and then a longer room-like tail.
    noise = _filtered_noise(n, sr, rng, highpass=900.0, lowpass=2600.0, order=2)
    env = np.zeros(n)
    onsets = (0.0, 0.0095, 0.0205, 0.031)  # slightly uneven spacing sounds more human
    for onset in onsets:
        dt = t - onset
        env = np.maximum(env, np.where(dt >= 0, np.exp(-np.maximum(dt, 0) / 0.0035), 0.0))
    tail_t = t - onsets[-1]
    tail = np.where(tail_t >= 0, 0.7 * np.exp(-np.maximum(tail_t, 0) / 0.075), 0.0)
    env = np.maximum(env, tail)
    return (noise * env).astype(np.float32)


def _hat(sr: int, rng: np.random.Generator, *, duration: float, tau: float) -> np.ndarray:
    n = round(duration * sr)
    t = _time(n, sr)
    metal = _metal(n, sr, rng, multipliers=(2.0,))
    metal = _unit_rms(_filter(metal, sr, highpass=7000.0, lowpass=16000.0, order=3)[_FILTER_PAD:])
    air = _filtered_noise(n, sr, rng, highpass=8000.0, order=3)
    return ((0.75 * metal + 0.45 * air) * np.exp(-t / tau)).astype(np.float32)


def _hat_closed(sr: int, rng: np.random.Generator) -> np.ndarray:
    return _hat(sr, rng, duration=0.12, tau=0.013)


def _hat_open(sr: int, rng: np.random.Generator) -> np.ndarray:
    return _hat(sr, rng, duration=0.6, tau=0.11)


def _tom(sr: int, rng: np.random.Generator, *, f0: float, tau: float) -> np.ndarray:
    n = round(0.5 * sr)
    t = _time(n, sr)
    # Small downward sweep (~25 % above pitch at the hit) like a tensioned head relaxing.
    body = _swept_sine(1.25 * f0, f0, 0.06, t, sr) * np.exp(-t / tau)
    # First inharmonic membrane mode (~1.59 x f0) gives a drum-like rather than sine-like tone.
    body += 0.2 * _swept_sine(1.25 * 1.59 * f0, 1.59 * f0, 0.06, t, sr) * np.exp(-t / (0.5 * tau))
    stick = _filtered_noise(n, sr, rng, highpass=1000.0, lowpass=6000.0) * np.exp(-t / 0.004)
    return (np.tanh(1.3 * body) / np.tanh(1.3) + 0.08 * stick).astype(np.float32)


def _tom_low(sr: int, rng: np.random.Generator) -> np.ndarray:
    return _tom(sr, rng, f0=90.0, tau=0.16)


def _tom_mid(sr: int, rng: np.random.Generator) -> np.ndarray:
    return _tom(sr, rng, f0=130.0, tau=0.14)


def _tom_high(sr: int, rng: np.random.Generator) -> np.ndarray:
    return _tom(sr, rng, f0=180.0, tau=0.12)


def _crash(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = round(1.5 * sr)
    t = _time(n, sr)
    # Two transposed copies of the 808 cluster plus a cloud of random high partials make the
    # spectrum dense enough to read as a cymbal wash rather than a chord.
    metal = _metal(n, sr, rng, multipliers=(1.0, 1.37, 2.11))
    n_partials = 40
    f_hi = min(13000.0, 0.45 * sr)
    partial_hz = np.exp(rng.uniform(np.log(3000.0), np.log(f_hi), n_partials))
    partial_amp = rng.uniform(0.3, 1.0, n_partials)
    partial_phase = rng.uniform(0.0, 2.0 * np.pi, n_partials)
    tt = _time(n + _FILTER_PAD, sr)
    for f, a, p in zip(partial_hz, partial_amp, partial_phase, strict=True):
        metal += 0.6 * a * np.sin(2.0 * np.pi * f * tt + p)
    metal = _unit_rms(_filter(metal, sr, highpass=3500.0, lowpass=15000.0, order=3)[_FILTER_PAD:])
    wash = _filtered_noise(n, sr, rng, highpass=5000.0, order=2)
    # Noise carries the initial "splash"; the metallic partials ring out longer.
    env_metal = np.exp(-t / 0.5)
    env_wash = 0.6 * np.exp(-t / 0.3) + 0.8 * np.exp(-t / 0.02)
    return (0.7 * metal * env_metal + 0.5 * wash * env_wash).astype(np.float32)


def _pad(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = round(2.0 * sr)
    m = n + _FILTER_PAD
    # A minor triad (A3, C4, E4): each note is two saws detuned by +/-7 cents for chorus width.
    detune = 2.0 ** (7.0 / 1200.0)
    tone = np.zeros(m)
    for freq in (220.0, 261.63, 329.63):
        for ratio in (1.0 / detune, detune):
            tone += _saw(freq * ratio, m, sr, phase0=float(rng.random()))
    # Soft triangle an octave below the root adds warmth without buzz.
    tone += 1.5 * _triangle(110.0, m, sr, phase0=float(rng.random()))
    tone = _filter(tone, sr, lowpass=1400.0, order=2)[_FILTER_PAD:]
    t = _time(n, sr)
    attack, release = 0.3, 0.7
    env = np.ones(n)
    # Raised-cosine ramps: slow swell in, long fade out (the shared fade then ends it at 0).
    rise = t < attack
    env[rise] = 0.5 - 0.5 * np.cos(np.pi * t[rise] / attack)
    fall = t > t[-1] - release
    env[fall] = 0.5 + 0.5 * np.cos(np.pi * (t[fall] - (t[-1] - release)) / release)
    return (tone * env).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KitVoice:
    """One voice of the bundled kit.

    Attributes
    ----------
    name : str
        File stem of the rendered sample, e.g. ``"kick"``.
    role : str
        Arrangement role: one of ``"CORE"``, ``"ACCENT"``, ``"MOTION"``, ``"FILL"``,
        ``"TEXTURE"``.
    synthesize : Callable[..., numpy.ndarray]
        ``(sr, rng) -> float32 mono 1-D array``; raw output, before fades and normalization.
    """

    name: str
    role: str
    synthesize: Callable[..., np.ndarray]


KIT_VOICES: tuple[KitVoice, ...] = (
    KitVoice("kick", "CORE", _kick),
    KitVoice("snare", "ACCENT", _snare),
    KitVoice("clap", "ACCENT", _clap),
    KitVoice("hat_closed", "MOTION", _hat_closed),
    KitVoice("hat_open", "MOTION", _hat_open),
    KitVoice("tom_low", "FILL", _tom_low),
    KitVoice("tom_mid", "FILL", _tom_mid),
    KitVoice("tom_high", "FILL", _tom_high),
    KitVoice("crash", "FILL", _crash),
    KitVoice("pad", "TEXTURE", _pad),
)
"""All kit voices, in canonical order."""

_BY_NAME: dict[str, KitVoice] = {voice.name: voice for voice in KIT_VOICES}


def _apply_fades(x: np.ndarray, sr: int) -> np.ndarray:
    out = x.astype(np.float64, copy=True)
    n_in = min(max(1, round(_FADE_IN_S * sr)), out.size)
    # Raised-cosine ramp starting at exactly 0 removes any DC step at the onset.
    out[:n_in] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(n_in) / n_in)
    n_out = min(max(2, round(_FADE_OUT_FRACTION * out.size)), out.size)
    out[-n_out:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(n_out) / (n_out - 1))
    out[-1] = 0.0  # guarantee an exact digital zero at the end
    return out


def synthesize_voice(name: str, *, sr: int = KIT_SR, seed: int = 0) -> np.ndarray:
    """Render one kit voice as a finished one-shot sample.

    Parameters
    ----------
    name : str
        Voice name, one of the names in :data:`KIT_VOICES`.
    sr : int, optional
        Sample rate in Hz (default :data:`KIT_SR`); at least 8000. At lower rates the
        cymbal partials are dropped or clamped below Nyquist, so the hats lose their sheen.
    seed : int, optional
        Non-negative seed for the noise and oscillator phases. Output is deterministic for
        ``(name, sr, seed)``.

    Returns
    -------
    numpy.ndarray
        float32 mono 1-D array, peak-normalized to -1 dBFS, with a <= 1 ms fade-in and a
        fade-out that ends at exactly 0.

    Raises
    ------
    ValueError
        If ``name`` is not a kit voice, or ``sr`` is below 8000 Hz.
    """
    voice = _BY_NAME.get(name)
    if voice is None:
        valid = ", ".join(v.name for v in KIT_VOICES)
        raise ValueError(f"unknown kit voice {name!r}; valid names: {valid}")
    if sr < _MIN_SR:
        raise ValueError(f"sr must be at least {_MIN_SR} Hz, got {sr}")
    # Mix the voice name into the seed (crc32 is stable across processes, unlike hash()) so
    # voices rendered with the same seed do not share identical noise.
    rng = np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])
    out = _apply_fades(np.asarray(voice.synthesize(sr, rng)), sr)
    peak = float(np.max(np.abs(out)))
    if peak > 0:
        out *= _PEAK / peak
    return out.astype(np.float32)
