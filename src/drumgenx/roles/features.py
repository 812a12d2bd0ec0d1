"""Eleven DSP features per one-shot, for rule-based drum-role scoring, and their disk cache.

Every feature is computed from the mono signal resampled to one analysis rate (22.05 kHz by
default), so a file's rate never changes its values. Two views of the sound are used:

* an **amplitude envelope**: the magnitude of the analytic signal (Hilbert transform; a sine
  has a flat envelope, so a 50 Hz kick does not ripple), smoothed over 5 ms and sampled
  every 1 ms. All time features read it, relative to its own peak (one-shots are
  peak-normalised, so absolute level says nothing about the sound);
* an **average power spectrum**: Hann frames (1024 samples, 46 ms, hop 256) averaged over the
  whole sound (Welch's method). Loud frames dominate the average, so it describes the hit's
  body rather than its faint tail. All spectral features read it.

The features, in :data:`FEATURE_NAMES` order (why each separates roles in brackets):

``attack_time_ms``
    Time for the envelope to rise from 10 % to 90 % of its peak, ms. [Drum hits: < 10 ms;
    swells, drones, risers (TEXTURE): hundreds of ms.]
``decay_time_ms``
    Time from the envelope's peak to the last moment it is within 20 dB of the peak, ms
    (for an exponential decay ``exp(-t/tau)`` that is ``tau * ln 10``). [Closed hats ~30 ms,
    kicks and snares 100-400 ms, toms 300-800 ms, crashes and rides > 1 s.]
``effective_duration_s``
    From the first to the last moment the envelope is within 40 dB of its peak, s. [Length
    of the audible sound regardless of the file's silent padding: long for cymbals and beds.]
``sustain_fraction``
    Share of the effective duration during which the envelope stays within 10 dB of its peak
    (0-1). Any exponential decay gives 0.25 (10 dB of 40); a held or stationary sound
    approaches 1.
    [Separates sustained beds, drones, rain (TEXTURE) from every decaying hit.]
``crest_factor_db``
    Peak over RMS level within the effective duration, dB. [Transient sharpness: a short
    spike on a quiet tail is high; a steady bed is low (~10-15 dB).]
``spectral_centroid_hz``
    Power-weighted mean frequency of the average spectrum (20 Hz up), Hz. [Brightness: kicks
    ~100-300 Hz, toms a few hundred, snares 1-4 kHz, hats and shakers > 5 kHz.]
``spectral_flatness``
    Geometric over arithmetic mean of the average spectrum within each octave band from
    100 Hz to 10 kHz, averaged weighted by band power (0-1; white noise ~1, a sine ~0, and
    band-limited noise ~1 too). [Noisy hits (snare wires, claps, hats, shakers) against
    pitched ones (kick, toms, tonal pads).]
``low_band_ratio``
    Share of spectral power below 150 Hz (0-1). [The kick's sub/boom: near 1 for kicks,
    well above 0 for floor toms, ~0 for hats.]
``mid_band_ratio``
    Share of spectral power between 150 Hz and 2 kHz (0-1). [Drum-head bodies: toms,
    snare heads, claps, most pads.]
``high_band_ratio``
    Share of spectral power above 5 kHz (0-1). [Hats, shakers, rides and crash wash.]
``low_peak_hz``
    Frequency of the strongest spectral peak between 30 Hz and 1 kHz, parabolically
    interpolated, Hz. [The drum's body pitch: kicks ~40-80 Hz, toms ~80-300 Hz, snare heads
    ~150-250 Hz; the CORE/FILL boundary among low drums.]

A silent (or empty) signal gives all features 0.0, never NaN.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import os
import secrets
import socket
import threading
from pathlib import Path

import numpy as np
import scipy.fft

from drumgenx.core.audio import resample
from drumgenx.core.spectral import frame_signal, hann_window, power_spectrogram
from drumgenx.roles.feature_params import FEATURE_NAMES, FeatureParams
from drumgenx.roles.rules import shipped_role_config

__all__ = ["FEATURE_NAMES", "FEATURE_VERSION", "FeatureCache", "FeatureParams", "extract_features"]

# Bump when the feature code changes meaning: it is part of the cache key, so stale cached
# values are never read back after an upgrade.
FEATURE_VERSION = 2

_TINY = 1e-12  # power floor: keeps logs and ratios finite on digital silence


def _settings_digest(params: FeatureParams) -> str:
    """Hash of ``params`` and :data:`FEATURE_VERSION` (part of the cache key)."""
    text = json.dumps({"version": FEATURE_VERSION, **dataclasses.asdict(params)}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _envelope(y: np.ndarray, sr: int, params: FeatureParams) -> tuple[np.ndarray, float]:
    """Smoothed Hilbert envelope sampled every ``envelope_hop_ms``; returns (env, hop_s)."""
    n = y.size
    # The Hilbert transform via a real FFT (half the work of scipy.signal.hilbert's complex
    # one): multiply positive frequencies by -j, zero DC and Nyquist. Zero-padded to twice
    # the length: the transform is circular, and without room the loud start would wrap
    # around onto the quiet tail. Single precision: an envelope needs no more, and it halves
    # the dominant cost of the whole feature set.
    n_fft = scipy.fft.next_fast_len(2 * n, real=True)
    y = y.astype(np.float32)
    spectrum = scipy.fft.rfft(y, n_fft)
    spectrum *= -1j
    spectrum[0] = 0.0
    if n_fft % 2 == 0:
        spectrum[-1] = 0.0
    quadrature = scipy.fft.irfft(spectrum, n_fft)[:n]
    mag = np.sqrt(y * y + quadrature * quadrature)
    smooth = max(1, round(params.envelope_smooth_ms * 1e-3 * sr))
    step = max(1, round(params.envelope_hop_ms * 1e-3 * sr))
    # Centred moving average via a cumulative sum, evaluated only at the kept samples.
    csum = np.concatenate(([0.0], np.cumsum(mag, dtype=np.float64)))
    centres = np.arange(0, n, step)
    lo = np.clip(centres - smooth // 2, 0, n)
    hi = np.clip(centres - smooth // 2 + smooth, 0, n)
    return (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1), step / sr


def _crossing(env: np.ndarray, i: int, level: float) -> float:
    """Fractional index where the envelope crosses ``level`` between ``i`` and ``i + 1``."""
    if i + 1 >= env.size:
        return float(i)
    a, b = env[i], env[i + 1]
    if a == b:
        return float(i)
    return i + float(np.clip((level - a) / (b - a), 0.0, 1.0))


def _time_features(y: np.ndarray, sr: int, params: FeatureParams) -> dict[str, float]:
    env, hop_s = _envelope(y, sr, params)
    i_peak = int(np.argmax(env))
    peak = float(env[i_peak])

    # Attack: last sample below attack_low before the peak to first reaching attack_high.
    pre = env[: i_peak + 1]
    lo_level, hi_level = params.attack_low * peak, params.attack_high * peak
    below = np.flatnonzero(pre < lo_level)
    i_lo = int(below[-1]) if below.size else 0
    t_lo = _crossing(env, i_lo, lo_level) if below.size else 0.0
    i_hi = i_lo + int(np.argmax(pre[i_lo:] >= hi_level))
    t_hi = _crossing(env, i_hi - 1, hi_level) if i_hi > 0 else 0.0
    attack_s = max(0.0, t_hi - t_lo) * hop_s

    # Decay: peak to the last time the envelope is within decay_db of the peak ("last", not
    # "first", so a clap's repeated bursts or a ringing cymbal count as one sound).
    decay_level = peak * 10.0 ** (-params.decay_db / 20.0)
    i_dec = i_peak + int(np.flatnonzero(env[i_peak:] >= decay_level)[-1])
    decay_s = max(0.0, _crossing(env, i_dec, decay_level) - i_peak) * hop_s

    # Effective duration and sustain share, over the span within duration_db of the peak.
    above = np.flatnonzero(env >= peak * 10.0 ** (-params.duration_db / 20.0))
    first, last = int(above[0]), int(above[-1])
    span = env[first : last + 1]
    duration_s = (last - first + 1) * hop_s
    sustain = float(np.mean(span >= peak * 10.0 ** (-params.sustain_db / 20.0)))

    # Crest factor on the waveform over the same span (the envelope would hide the spike).
    step = max(1, round(params.envelope_hop_ms * 1e-3 * sr))
    seg = y[first * step : (last + 1) * step]
    rms = float(np.sqrt(np.mean(seg.astype(np.float64) ** 2)))
    crest_db = 20.0 * np.log10(max(float(np.max(np.abs(seg))), _TINY) / max(rms, _TINY))
    return {
        "attack_time_ms": 1e3 * attack_s,
        "decay_time_ms": 1e3 * decay_s,
        "effective_duration_s": duration_s,
        "sustain_fraction": sustain,
        "crest_factor_db": float(crest_db),
    }


def _average_spectrum(y: np.ndarray, params: FeatureParams) -> np.ndarray:
    """Mean Hann-windowed power spectrum over all frames (Welch), shape ``(n_fft//2 + 1,)``."""
    n_fft, hop = params.n_fft, params.hop
    # Zero-padded to at least one frame, then to a whole number of frames: one copy.
    n_frames = 1 + (max(y.size, n_fft) - n_fft + hop - 1) // hop
    padded = np.zeros((n_frames - 1) * hop + n_fft, dtype=np.float32)
    padded[: y.size] = y
    y = padded
    frames = frame_signal(y, n_fft=n_fft, hop=hop, centre=False)
    power = power_spectrogram(frames, window=hann_window(n_fft, periodic=False))
    return np.mean(power, axis=0, dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class _SpectralLayout:
    """Where each spectral feature reads the average spectrum (its bins ascend in frequency,
    so every band is a contiguous run of bins: a slice)."""

    freqs: np.ndarray
    audible: slice  # >= 20 Hz: DC and sub-sonic rumble are not part of the timbre
    octave: np.ndarray  # octave band of each bin inside the flatness range
    inside: slice  # the bins inside the flatness range
    n_octaves: int
    n_bins: np.ndarray  # bins per octave band
    low: slice  # of the audible bins
    mid: slice
    high: slice
    peak: slice  # the low_peak_hz search range


@functools.cache
def _spectral_layout(sr: int, params: FeatureParams) -> _SpectralLayout:
    freqs = np.fft.rfftfreq(params.n_fft, 1.0 / sr)
    f = freqs[freqs >= 20.0]

    def run(mask: np.ndarray) -> slice:
        idx = np.flatnonzero(mask)
        return slice(int(idx[0]), int(idx[-1]) + 1) if idx.size else slice(0, 0)

    # Octave bands for the flatness, from flatness_min_hz up to at most 95 % of Nyquist.
    top = min(params.flatness_max_hz, 0.95 * sr / 2)
    edges = params.flatness_min_hz * 2.0 ** np.arange(0, np.log2(top / params.flatness_min_hz))
    edges = np.append(edges, top)
    which = np.digitize(freqs, edges) - 1  # octave index of each bin, -1 / len: outside
    inside = run((which >= 0) & (which < edges.size - 1))
    octave = which[inside]
    for array in (freqs, octave):
        array.flags.writeable = False
    return _SpectralLayout(
        freqs=freqs,
        audible=run(freqs >= 20.0),
        octave=octave,
        inside=inside,
        n_octaves=edges.size - 1,
        n_bins=np.bincount(octave, minlength=edges.size - 1),
        low=run(f < params.low_band_hz),
        mid=run((f >= params.low_band_hz) & (f < params.mid_band_hz)),
        high=run(f >= params.high_band_hz),
        peak=run((freqs >= params.peak_min_hz) & (freqs <= params.peak_max_hz)),
    )


def _spectral_features(y: np.ndarray, sr: int, params: FeatureParams) -> dict[str, float]:
    power = _average_spectrum(y, params)
    layout = _spectral_layout(sr, params)
    p, f = power[layout.audible], layout.freqs[layout.audible]
    total = max(float(p.sum()), _TINY)
    centroid = float(np.sum(f * p) / total)

    # Flatness per octave band, then averaged weighted by each band's power: noisiness
    # wherever the sound's energy is. One flatness over the whole range would call a hat
    # (noise above 7 kHz, nothing below) tonal, just because most of the range is empty.
    inside = power[layout.inside]
    n_bins = layout.n_bins
    mean_p = np.bincount(layout.octave, inside, minlength=layout.n_octaves)
    mean_log = np.bincount(layout.octave, np.log(inside + _TINY), minlength=layout.n_octaves)
    ok = n_bins > 0
    band_flat = np.exp(mean_log[ok] / n_bins[ok]) / (mean_p[ok] / n_bins[ok] + _TINY)
    weight = mean_p[ok]
    flatness = float(np.sum(band_flat * weight) / max(float(weight.sum()), _TINY))

    low = float(p[layout.low].sum()) / total
    mid = float(p[layout.mid].sum()) / total
    high = float(p[layout.high].sum()) / total

    # Strongest peak in the drum-head range, refined by a parabola through log power.
    k = layout.peak.start + int(np.argmax(power[layout.peak]))
    offset = 0.0
    if 0 < k < power.size - 1:
        a, b, c = np.log(power[k - 1 : k + 2] + _TINY)
        denom = a - 2.0 * b + c
        offset = float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) if denom < 0 else 0.0
    peak_hz = (k + offset) * sr / params.n_fft
    return {
        "spectral_centroid_hz": centroid,
        "spectral_flatness": flatness,
        "low_band_ratio": low,
        "mid_band_ratio": mid,
        "high_band_ratio": high,
        "low_peak_hz": float(peak_hz),
    }


def default_feature_params() -> FeatureParams:
    """The shipped role config's ``features`` section."""
    return shipped_role_config().features


def extract_features(
    y: np.ndarray, *, sr: int, params: FeatureParams | None = None
) -> dict[str, float]:
    """The eleven features of one mono one-shot.

    Parameters
    ----------
    y : numpy.ndarray
        Mono float audio, 1-D (a ``(frames, 1)`` array is accepted too). Any level: every
        feature is relative to the sound's own peak or total power.
    sr : int
        Sample rate of ``y``, Hz; resampled to ``params.analysis_sr``.
    params : FeatureParams, optional
        Analysis settings; default: the shipped role config's (documented on
        :class:`FeatureParams`).

    Returns
    -------
    dict[str, float]
        One finite float per name in :data:`FEATURE_NAMES`, in that order. All 0.0 for a
        silent or empty signal.
    """
    params = params if params is not None else default_feature_params()
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"extract_features expects mono audio, got shape {y.shape}")
    y = np.nan_to_num(y[: round(params.max_duration_s * sr)])
    if sr != params.analysis_sr and y.size:
        y = resample(y[:, None], sr, params.analysis_sr)[:, 0]
    if y.size == 0 or not np.any(y):
        return dict.fromkeys(FEATURE_NAMES, 0.0)
    y = y / np.max(np.abs(y))  # level-free from here on; float32 is plenty for features
    features = {
        **_time_features(y, params.analysis_sr, params),
        **_spectral_features(y, params.analysis_sr, params),
    }
    return {name: float(features[name]) for name in FEATURE_NAMES}


class FeatureCache:
    """Features on disk, keyed by a file's content (SHA-256) and the analysis settings.

    Entries live under ``folder/<digest>/``, where the digest covers every
    :class:`FeatureParams` value, :data:`FEATURE_VERSION` and ``tag`` (the caller's name for
    anything else stored, e.g. the learned scorer's feature version), so changing any of them
    starts a fresh namespace, and editing a file changes its hash: stale features are never
    returned. Renaming or moving a file keeps its cached features.

    Each writer (one cache object in one process) appends its entries to a shard of its own,
    ``<host>-<pid>-<token>.lines``, one line each: the content hash, a tab, then the entry as
    JSON. Appending a line costs a fraction of creating a file per entry, which was a tenth of
    a cold stage-2 run; no two writers share a file, so concurrent workers (also on several
    machines over a shared folder) never interleave, and a line cut short by an interrupted
    run has no newline and is never read. A reader indexes every shard once (hash -> shard
    and offset) on its first lookup; entries written later by other writers are not seen
    until the next cache object.

    Each entry holds the eleven DSP features and, optionally, one more vector (the learned
    scorer's input), so a cache hit needs no decoding at all.

    Parameters
    ----------
    folder : str or pathlib.Path
        Cache folder (created on first ``put``).
    params : FeatureParams, optional
        The settings the cached features were, or will be, computed with (default: the
        shipped role config's).
    tag : str, optional
        Names the version of the extra vector; part of the namespace.
    """

    SHARD_SUFFIX = ".lines"

    def __init__(
        self, folder: str | Path, *, params: FeatureParams | None = None, tag: str = ""
    ) -> None:
        params = params if params is not None else default_feature_params()
        digest = _settings_digest(params) if not tag else f"{_settings_digest(params)}-{tag}"
        self.folder = Path(folder) / digest
        self._reset()

    def _reset(self) -> None:
        # (path, size, mtime_ns) -> sha256: hashes each unchanged file once per process,
        # since a caller typically calls get() and then put() on the same path.
        self._hashes: dict[tuple[str, int, int], str] = {}
        self._index: dict[str, tuple[Path, int]] | None = None  # sha256 -> (shard, offset)
        self._writer = None  # this writer's shard, open for appending
        self._lock = threading.Lock()  # a Dask worker's threads share one cache object

    def __getstate__(self) -> dict[str, object]:
        # Sent to workers before any use: only where it lives; handles and index stay here.
        return {"folder": self.folder}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.folder = state["folder"]
        self._reset()

    def _sha256(self, path: Path) -> str:
        stat = path.stat()
        key = (os.fspath(path), stat.st_size, stat.st_mtime_ns)
        digest = self._hashes.get(key)
        if digest is None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            self._hashes[key] = digest
        return digest

    def _load_index(self) -> dict[str, tuple[Path, int]]:
        index: dict[str, tuple[Path, int]] = {}
        if self.folder.is_dir():
            for shard in sorted(self.folder.glob(f"*{self.SHARD_SUFFIX}")):
                try:
                    data = shard.read_bytes()
                except OSError:
                    continue
                offset = 0
                while (end := data.find(b"\n", offset)) != -1:  # complete lines only
                    index[data[offset : min(offset + 64, end)].decode("ascii", "replace")] = (
                        shard,
                        offset,
                    )
                    offset = end + 1
        return index

    def get(self, path: str | Path) -> tuple[dict[str, float], np.ndarray | None] | None:
        """Cached ``(features, extra vector or None)`` of the file at ``path``, or None
        (never cached, or an unreadable entry)."""
        try:
            digest = self._sha256(Path(path))
            with self._lock:
                if self._index is None:
                    self._index = self._load_index()
                where = self._index.get(digest)
            if where is None:
                return None
            shard, offset = where
            with open(shard, "rb") as handle:
                handle.seek(offset)
                line = handle.readline()
            key, _, text = line.partition(b"\t")
            if key.decode("ascii") != digest:
                return None
            data = json.loads(text)
            features = data["features"]
            extra = data["extra"]
            if set(features) != set(FEATURE_NAMES):
                return None
            return (
                {name: float(features[name]) for name in FEATURE_NAMES},
                None if extra is None else np.asarray(extra, dtype=np.float64),
            )
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def put(
        self, path: str | Path, features: dict[str, float], extra: np.ndarray | None = None
    ) -> None:
        """Store ``features`` (and ``extra``) for the file's current content."""
        digest = self._sha256(Path(path))
        text = json.dumps(
            {
                "features": {name: float(features[name]) for name in FEATURE_NAMES},
                # repr-exact floats: a cache hit must score exactly like a cold run
                "extra": None if extra is None else [float(v) for v in extra],
            }
        )
        line = f"{digest}\t{text}\n".encode()
        with self._lock:
            if self._writer is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                token = secrets.token_hex(4)
                name = f"{socket.gethostname()}-{os.getpid()}-{token}{self.SHARD_SUFFIX}"
                self._writer = open(self.folder / name, "ab")  # noqa: SIM115 (see close())
            offset = self._writer.tell()
            self._writer.write(line)
            # Flushed line by line: what a crash or Ctrl-C leaves is every finished entry.
            self._writer.flush()
            if self._index is not None:
                self._index[digest] = (Path(self._writer.name), offset)

    def __enter__(self) -> FeatureCache:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close this writer's shard (also done on leaving a ``with`` block, or when the
        object is collected); a later ``put`` starts a new one."""
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def __del__(self) -> None:
        # No module globals here: at interpreter exit they may already be gone (None).
        writer = getattr(self, "_writer", None)
        if writer is not None:
            try:  # noqa: SIM105 (contextlib may be gone by then)
                writer.close()
            except Exception:
                pass


# --- Shape features of the learned scorer (issue #15's confusions) ---------------------------
# Pure functions on the learned scorer's onset-cut, peak-normalised clip and its STFT power
# (`roles.learned.role_features` appends them to its vector). Each targets one confusion left
# by the v4 features on kits nobody trained on: a crash's long broadband decay against a hat's
# (``*_t30_ms``, ``high_tail_db``), a tom's pitched body against a kick's sub and click
# (``body_*``, ``sub_share``, ``click_db``), an impact's smooth decay against an ambience's
# fluctuating level (``decay_residual``).

SHAPE_FEATURE_NAMES: tuple[str, ...] = (
    "high_t30_ms",
    "broad_t30_ms",
    "decay_residual",
    "high_tail_db",
    "body_glide_st",
    "body_salience_db",
    "sub_share",
    "click_db",
)
"""The shape features, in the order `shape_features` returns them."""

DECAY_FIT_DB = 50.0
"""The decay slope is fitted from the peak down to this far below it (or to the clip's end):
deep enough to skip a kick's first drop, shallow enough to stay above a render's noise."""
MAX_T30_S = 30.0
"""Cap of the extrapolated 30 dB decay time: a held bed's level barely falls at all."""
HIGH_BAND_HZ = 4000.0
"""Above this, a cymbal's wash and a hat's sizzle; a drum head's body is far below."""
TAIL_AT_S = 0.5
"""`high_tail_db` reads the high bands this long after the peak: an open hat has faded by
~30 dB there, a crash by ~15, a closed hat is gone."""


def _bins(freqs: np.ndarray, lo: float, hi: float) -> slice:
    """The bins of ascending ``freqs`` with ``lo <= f < hi``, as a slice."""
    return slice(int(np.searchsorted(freqs, lo, "left")), int(np.searchsorted(freqs, hi, "left")))


def _band_sum(power: np.ndarray, bins: slice) -> np.ndarray:
    """Per-frame power of a band of ``(frames, bins)`` spectra, summed bin after bin on a
    column-major copy: the order (and so the float32 totals, to the last bit) of the boolean
    mask this replaces, whose copy is column-major, i.e. the values the scorer trained on."""
    return np.asfortranarray(power[:, bins]).sum(axis=1)


def _fit_decay(level_db: np.ndarray, frame_s: float) -> tuple[float, float]:
    """Extrapolated 30 dB decay time (s) and RMS residual (dB) of a line fitted to a level
    curve from its peak to `DECAY_FIT_DB` below it (only rate matters, so a tail cut short
    by a slicer still reads as slow)."""
    peak = int(np.argmax(level_db))
    after = level_db[peak:] - level_db[peak]
    below = np.flatnonzero(after < -DECAY_FIT_DB)
    seg = after[: below[0] if below.size else after.size]
    if seg.size < 3:  # gone within two frames: as short as this analysis can tell
        return seg.size * frame_s, 0.0
    t = np.arange(seg.size) * frame_s
    # Least squares in closed form (`np.polyfit(t, seg, 1)`'s line, without its LAPACK
    # call; they differ in the last bits only).
    dt = t - t.mean()
    slope = float(np.dot(dt, seg) / np.dot(dt, dt))
    intercept = float(seg.mean()) - slope * float(t.mean())
    residual = float(np.sqrt(np.mean((seg - (slope * t + intercept)) ** 2)))
    rate = max(-float(slope), 30.0 / MAX_T30_S)  # dB/s; flat or rising: the cap
    return 30.0 / rate, residual


def decay_shape_features(
    power: np.ndarray, freqs: np.ndarray, *, frame_s: float
) -> dict[str, float]:
    """How the sound decays: broadband, above `HIGH_BAND_HZ`, and how smoothly.

    Parameters
    ----------
    power : numpy.ndarray
        ``(frames, bins)`` power spectra, frame 0 at the onset.
    freqs : numpy.ndarray
        ``(bins,)`` centre frequency of each bin, Hz.
    frame_s : float
        Seconds between frames.

    Returns
    -------
    dict[str, float]
        ``high_t30_ms``, ``broad_t30_ms``: ``log(1 + ms)`` of the 30 dB decay time
        extrapolated from the fitted slope (`_fit_decay`); ``decay_residual``: the broadband
        fit's RMS residual / 10 (0 for a clean exponential, large for an ambience whose level
        wanders); ``high_tail_db``: mean level / 10 of the third-octave bands from 2 kHz up,
        `TAIL_AT_S` after the peak, each relative to its own peak and floored at -100 dB
        (-10 when the clip has ended).
    """
    tiny = 1e-20
    # Bin frequencies ascend, so each band is a contiguous run of bins: a slice, copied
    # (`_band_sum`) rather than gathered through a boolean mask.
    broad_db = 10.0 * np.log10(power.sum(axis=1) + tiny)
    high_db = 10.0 * np.log10(_band_sum(power, _bins(freqs, HIGH_BAND_HZ, np.inf)) + tiny)
    broad_t30, residual = _fit_decay(broad_db, frame_s)
    high_t30, _ = _fit_decay(high_db, frame_s)
    peak = int(np.argmax(broad_db))
    at = peak + round(TAIL_AT_S / frame_s)
    edges = 2000.0 * 2.0 ** (np.arange(0, 3 * np.log2(freqs[-1] / 2000.0)) / 3.0)
    tail = -10.0
    if at < power.shape[0] and edges.size > 1:
        levels = []
        for lo, hi in itertools.pairwise(edges):
            band = 10.0 * np.log10(_band_sum(power, _bins(freqs, lo, hi)) + tiny)
            levels.append(max(band[at] - band.max(), -100.0))
        tail = float(np.mean(levels)) / 10.0
    return {
        "high_t30_ms": float(np.log1p(1e3 * high_t30)),
        "broad_t30_ms": float(np.log1p(1e3 * broad_t30)),
        "decay_residual": residual / 10.0,
        "high_tail_db": tail,
    }


BODY_N = 1024
"""Samples per window of the body analysis (46 ms at 22.05 kHz): short enough to follow a
kick's pitch drop, long enough to resolve 40 Hz."""
BODY_FFT = 8192
"""Zero-padded FFT size: 2.7 Hz bins, refined further by a parabola."""
BODY_HZ = (40.0, 500.0)
"""Where a drum head's fundamental is: kicks 40-100 Hz, toms 70-300, snares 150-250."""


@functools.cache
def _body_bins(sr: int) -> tuple[np.ndarray, int, int]:
    """`BODY_FFT` bin frequencies at ``sr`` (read-only), and the first and one past the last
    bin inside `BODY_HZ` (ascending frequencies: a contiguous run)."""
    freqs = np.fft.rfftfreq(BODY_FFT, 1.0 / sr)
    freqs.flags.writeable = False
    idx = np.flatnonzero((freqs >= BODY_HZ[0]) & (freqs <= BODY_HZ[1]))
    return freqs, int(idx[0]), int(idx[-1]) + 1


def _peak_hz(seg: np.ndarray, sr: int) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Strongest partial in `BODY_HZ` of a Hann-windowed segment (parabola-refined Hz),
    its power, and the segment's power spectrum and bin frequencies."""
    seg = np.pad(seg, (0, max(0, BODY_N - seg.size)))
    window = hann_window(seg.size, periodic=False, dtype=np.float64)
    spec = np.abs(np.fft.rfft(seg * window, n=BODY_FFT)) ** 2
    freqs, lo, hi = _body_bins(sr)
    k = lo + int(np.argmax(spec[lo:hi]))
    a, b, c = np.log(spec[k - 1 : k + 2] + 1e-20)
    denom = a - 2.0 * b + c
    offset = float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) if denom < 0 else 0.0
    return (k + offset) * sr / BODY_FFT, float(spec[k]), spec, freqs


def body_pitch_features(x: np.ndarray, *, sr: int) -> dict[str, float]:
    """A drum head's body: its pitch glide, how pitched it is, its sub and its click.

    Parameters
    ----------
    x : numpy.ndarray
        Mono clip cut at its onset (sample 0 is the hit).
    sr : int
        Its rate, Hz.

    Returns
    -------
    dict[str, float]
        ``body_glide_st``: semitones from the strongest `BODY_HZ` partial of the first
        window (0-46 ms) to that of the third (93-139 ms); a kick's falls an octave or more,
        a tom's holds within a few semitones, a steady tone 0 (also 0 when the third window
        is 60 dB below the first: nothing left to follow). ``body_salience_db``: that first
        partial over the median power of the band, dB / 10 (a pitched tom or a sine kick high,
        a noise burst low). ``sub_share``: power below 70 Hz over power below 2 kHz in the
        first 139 ms (a kick's sub). ``click_db``: power of the second difference (highs, +12 dB
        per octave) in the first 12 ms over that in 46-139 ms, dB / 10, within +-6 (a
        kick's beater click over its silent top; a tom's shell keeps ringing up there).
    """
    first = x[:BODY_N]
    later = x[2 * BODY_N : 3 * BODY_N]
    f0, p0, spec0, freqs = _peak_hz(first, sr)
    f1, _, _, _ = _peak_hz(later, sr)
    e0, e1 = float(np.sum(first**2)), float(np.sum(later**2))
    glide = 12.0 * np.log2(f1 / f0) if e1 > e0 * 1e-6 else 0.0
    _, lo, hi = _body_bins(sr)
    salience = 10.0 * np.log10(p0 / (float(np.median(spec0[lo:hi])) + 1e-20) + 1e-20)
    body = x[: 3 * BODY_N]
    spec = np.abs(np.fft.rfft(body, n=BODY_FFT)) ** 2
    sub_bins, body_bins = _bins(freqs, -np.inf, 70.0), _bins(freqs, -np.inf, 2000.0)
    sub = float(spec[sub_bins].sum() / (spec[body_bins].sum() + 1e-20))

    # Highs by a second difference (+12 dB/octave, no window to leak a loud low body up)
    d2 = np.diff(x[: 3 * BODY_N], 2)
    n_click = int(0.012 * sr)
    early = float(np.mean(d2[:n_click] ** 2)) if d2.size else 0.0
    late = float(np.mean(d2[BODY_N:] ** 2)) if d2.size > BODY_N else 0.0
    ratio = (early + 1e-20) / (late + 1e-20)
    click = float(np.clip(10.0 * np.log10(ratio), -60.0, 60.0)) / 10.0
    return {
        "body_glide_st": float(glide),
        "body_salience_db": salience / 10.0,
        "sub_share": sub,
        "click_db": click,
    }


def shape_features(
    x: np.ndarray, power: np.ndarray, freqs: np.ndarray, *, sr: int, frame_s: float
) -> np.ndarray:
    """`decay_shape_features` and `body_pitch_features` as one vector in
    `SHAPE_FEATURE_NAMES` order (float64)."""
    values = {
        **decay_shape_features(power, freqs, frame_s=frame_s),
        **body_pitch_features(x, sr=sr),
    }
    return np.array([values[name] for name in SHAPE_FEATURE_NAMES], dtype=np.float64)
