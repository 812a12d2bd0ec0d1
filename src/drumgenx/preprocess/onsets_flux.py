"""The flux onset detector: multi-band log spectral flux, adaptive peak picking, backtracking.

Numpy and scipy's FFT, no librosa (the STFT and filterbank are `drumgenx.core.spectral`'s):
a 30 s mono file at 44.1 kHz takes a few tens of milliseconds on one core. See
``OnsetParams`` for every setting and where its default came from, and ``bench/ONSETS.md``
for the measured accuracy against librosa and madmom.

The other two detectors build on this module (and it on neither): ``onsets_learned`` reads
its log filterbank and uses its peak picking, both backtrack with `_backtrack`, and all three
take `OnsetParams` and return `Onsets`. `drumgenx.preprocess.onsets.detect_onsets` picks the
detector by ``OnsetParams.method``.

Pipeline
--------
1. **Spectrogram.** The input is scaled to a peak of 1 (so every threshold below is
   level-independent), framed (Hann, ``win_s``, centred frames every ``hop_s``) with
   ``sliding_window_view`` and transformed with one batched ``rfft``.
2. **Log filterbank.** Triangular filters, ``bands_per_octave`` per octave from ``fmin`` to
   ``fmax`` (filters that would cover the same FFT bins are merged), then
   ``log10(1 + E / knee)``: a log (dB-like) scale above the knee, linear and hence
   compressed below it. The knee is ``1 / log_mul`` of full scale (-80 dB), raised per filter
   to ``noise_knee`` times the file's noise floor in that filter, so steady hiss does not
   flicker into false rises.
3. **SuperFlux difference** (Böck & Widmer, DAFx 2013), extended in time. Each filter is
   compared with the *maximum* of its neighbours (``max_bins``) over the frames from
   ``lag_s + ref_span_s`` to ``lag_s`` earlier: vibrato and glides move energy between
   neighbouring filters and so cancel, a decaying, beating cymbal or tom tail never rises
   above its own recent maximum, while a hit raises all of them. Half-wave rectified: only
   rises count. At the very start of the file the reference is each filter's median level
   (the first frame, which has no earlier one, included), so a downbeat at t=0 is an onset
   but a noise floor that starts there is not.
4. **Multi-band combination and normalisation.** The filters are grouped into coarse bands
   (``band_edges_hz``: kick, low drums/body, snare/mid, presence, hats/air). Each band's flux
   is the *mean* over its filters (so a band counts the same however many filters it holds),
   and the novelty is the weighted mean over bands (``band_weights``). A hi-hat, which only
   moves the top bands, therefore scores on the same scale as a kick, which only moves the
   bottom ones. The novelty is in log10 units: 0.1 means the average band rose by 2 dB.
5. **Adaptive peak picking.** A frame is an onset when it is the maximum within
   ``[-pre_max_s, +post_max_s]``, exceeds ``delta`` plus ``avg_mult`` times the local mean of
   the novelty over ``[-pre_avg_s, +post_avg_s]`` (dense playing and ringing tails raise the
   bar locally), and comes more than ``min_gap_s`` after the previous onset (flams and the
   double peak of a kick's click and body are one perceptual onset).
6. **Timing.** The peak is refined to sub-frame precision by a parabola through the peak and
   its neighbours, then moved by ``time_offset_s`` (the flux peak comes ~2 ms before the
   true attack start, measured).
7. **Backtracking** (``starts``): on a 1 ms-resolution log-energy envelope, the hit's maximum
   is found near the onset and the minimum before it; the attack starts at the last point
   before the maximum that is below ``backtrack_rise`` of the way (in dB) from that minimum
   to the maximum. The search looks back at most ``backtrack_max_s`` and never before the
   previous onset. ``starts <= times`` always.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drumgenx.core.peaks import keep_apart, moving_max, refine_peaks
from drumgenx.core.spectral import filterbank_magnitude, frame_signal, hann_window, log_filterbank

__all__ = ["OnsetParams", "Onsets", "detect_onsets_flux", "onset_strength", "pick_peaks"]


@dataclass(frozen=True)
class OnsetParams:
    """Settings of the onset detector.

    Defaults were chosen on renders of the Groove MIDI Dataset *validation* split through
    five Debian drum kits (``bench/bench_onsets.py --split validation --n 0 --seed 1``, and
    grid searches over the ranges noted below); the test split is only used for the reported
    numbers (``bench/ONSETS.md``). Where a default is a textbook value it says so.
    """

    # --- analysis -------------------------------------------------------------------------
    win_s: float = 0.023
    """Window length (s); the FFT size is the nearest power of two (1024 at 44.1/48 kHz,
    512 at 22.05 kHz).
    ~23 ms: short enough to place attacks to a few ms, long enough to resolve a kick's
    fundamental from the snare body (SuperFlux and librosa use 46 ms for general music)."""
    hop_s: float = 0.005
    """Hop (s): 200 frames per second, SuperFlux's rate; peaks are refined below a frame."""
    fmin: float = 30.0
    """Lowest filter centre (Hz): below any kick's fundamental (SuperFlux's 30 Hz)."""
    fmax: float = 16000.0
    """Highest filter centre (Hz), capped at 0.45 * sr (SuperFlux's 17 kHz, rounded down)."""
    bands_per_octave: int = 12
    """Resolution of the triangular log filterbank (semitones; SuperFlux uses 24)."""
    min_half_bins: int = 1
    """Every filter spans at least this many FFT bins each side of its centre (1: no
    widening; 2 and 3 were within 0.002 F1 on GMD validation renders)."""
    log_mul: float = 1e4
    """``log10(1 + log_mul * E)``: log scale above about -80 dB re the file's peak (E is a
    magnitude, so 1e4 is -80 dB); quieter changes are compressed. Tuned on GMD validation
    renders (1e2 to 1e5 tried: 1e3 loses ghost notes, 1e4 and 1e5 tie)."""

    noise_knee: float = 3.0
    """Each filter's log knee is raised to ``noise_knee`` times its own noise floor (its
    10th-percentile magnitude over the file), when that is above ``1 / log_mul``: steady
    hiss then sits in the compressed part and its flicker is not read as rises. 0 turns
    it off. The floor used is the lowest among neighbouring filters, so that SuperFlux's
    comparison across neighbours stays on one scale. Tuned on GMD validation renders with
    white noise added at -60..-40 dB (3, 5, 10 tried): 3 gives 2 false onsets in 3 s of
    steady white noise instead of 10, for -0.002 F1 on clean renders and +0.002 on noisy
    ones; it costs some vibrato suppression (4 onsets in 3 s of a 6 Hz vibrato tone, 1
    without)."""

    # --- flux -----------------------------------------------------------------------------
    lag_s: float = 0.005
    """The difference is taken against the frame this much earlier (one hop). Tuned: 5 and
    10 ms tie at +-50 ms; 5 ms times attacks better."""
    ref_span_s: float = 0.02
    """The reference is the maximum over this span of frames ending ``lag_s`` earlier (a
    temporal maximum filter, the time-axis twin of SuperFlux's frequency one): a decaying,
    beating cymbal or tom tail never rises above its own recent maximum, a new hit does.
    Tuned on GMD validation renders: 0 gives 4x the false positives, 0.04 s loses rolls and
    flams; 0.015-0.02 s is the optimum."""
    max_bins: int = 3
    """SuperFlux's frequency maximum filter over the reference frame (3 filters, as in
    Böck & Widmer 2013): suppresses vibrato and glides."""
    band_edges_hz: tuple[float, ...] = (30.0, 150.0, 400.0, 1500.0, 5000.0, 16000.0)
    """Coarse bands: kick (30-150 Hz), toms and snare body (150-400), snare and mid
    (400-1500), presence and snare crack (1.5-5 kHz), hats and cymbals (5-16 kHz)."""
    band_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)
    """Weight of each band in the novelty (equal: every drum family counts the same)."""

    # --- peak picking ---------------------------------------------------------------------
    delta: float = 0.02
    """Absolute threshold on the novelty in log10 units (0.02: the average band rose by
    0.4 dB, or one band of five by 2 dB). Tuned on GMD validation renders (0.01-0.05)."""
    avg_mult: float = 0.5
    """The local mean of the novelty is multiplied by this and added to ``delta`` (tuned,
    0.25-1.0 are within 0.003 F1)."""
    pre_avg_s: float = 0.10
    """Local mean window before the frame (madmom/SuperFlux use 0.15 s)."""
    post_avg_s: float = 0.07
    """Local mean window after the frame (offline: the future is known)."""
    pre_max_s: float = 0.01
    """A peak must be the maximum of the novelty this far back..."""
    post_max_s: float = 0.01
    """...and this far ahead (SuperFlux: 0.01 / 0.05 s). Wider windows swallow the second
    hit of a drag or of a kick-then-hat 30-60 ms apart (0.03 s lost 2 points of recall)."""
    min_gap_s: float = 0.03
    """Minimum time between onsets; closer ones are one onset (madmom's ``combine=0.03``,
    and the 30 ms merge of the benchmark's reference)."""
    time_offset_s: float = 0.002
    """Added to every peak time. The refined flux peak is already within ~2 ms of the
    attack start for this window and lag (median -2.5 ms on GMD validation renders, with a
    late tail from masked hits): offsets of -1..+2 ms change F1 at +-20 ms by < 0.003, and
    +2 ms centres the typical hit (synthetic hits: within 3 ms instead of 5)."""

    # --- backtracking ---------------------------------------------------------------------
    backtrack_max_s: float = 0.05
    """How far before the detected onset the attack start is looked for."""
    backtrack_rise: float = 0.2
    """Fraction (in dB) of the rise from the pre-hit minimum to the hit's maximum at which
    the attack is said to start (the start is the last envelope point below that level
    before the maximum)."""
    env_hop_s: float = 0.001
    """Resolution of the energy envelope used for backtracking (1 ms)."""

    method: str = "flux"
    """``"flux"`` (this module, and :func:`~drumgenx.preprocess.onsets.detect_onsets`'s
    default), ``"learned"``: a small
    conv net over the same log filterbank (``onsets_learned``, pure numpy; uses only the
    backtracking settings here), or
    ``"transcribe"``: the drum transcriber (``onsets_transcribe``; in stage 1 it listens to
    the original audio, the starts are backtracked on the stem, and every hit keeps its five
    class probabilities). Stage 1's default is ``"transcribe"`` (``PreprocessConfig``)."""
    transcriber_weights: str = ""
    """``method="transcribe"`` only: the transcriber's weights file (empty: the shipped
    ``transcribe/weights/transcriber.npz``)."""


@dataclass(frozen=True)
class Onsets:
    """Detected onsets, sorted by time; the three arrays have the same length."""

    times: np.ndarray
    """Seconds: the onset (peak of the novelty curve, refined)."""
    starts: np.ndarray
    """Seconds: the attack start, backtracked for slicing; ``starts <= times``."""
    strengths: np.ndarray
    """The novelty at each onset divided by the file's largest novelty peak (0..1): ranks
    hits (a clean, loud hit near 1, a ghost note or a masked hit near 0)."""


def _check_audio(y: np.ndarray, sr: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"onset detection needs mono 1-D audio, got shape {y.shape}: downmix first "
            "(e.g. y.mean(axis=1) for (frames, channels))"
        )
    if not np.issubdtype(y.dtype, np.floating):
        raise TypeError(f"audio must be floating point, got {y.dtype}")
    if int(sr) != sr or sr < 8000:
        raise ValueError(f"sample rate must be an integer >= 8000 Hz, got {sr}")
    if not np.all(np.isfinite(y)):
        raise ValueError("audio contains NaN or infinity")
    return y.astype(np.float32, copy=False)


def _fft_size(params: OnsetParams, sr: int) -> tuple[int, int]:
    # The nearest power of two (in log terms): 1024 at 32-64 kHz... so the window stays
    # within a factor 1.41 of win_s at every rate (a ceiling would double it at 48 kHz).
    n_fft = 1 << int(np.round(np.log2(max(16, params.win_s * sr))))
    hop = max(1, round(params.hop_s * sr))
    return n_fft, hop


def _filterbank(sr: int, n_fft: int, params: OnsetParams) -> tuple[np.ndarray, np.ndarray]:
    """Triangular log-frequency filters (n_bins, n_filters) and each filter's centre (Hz).

    Centres are ``bands_per_octave`` per octave; each is snapped to an FFT bin and duplicates
    are dropped, so at low frequencies (narrower than a bin) one filter per bin remains. At
    least ``min_half_bins`` bins each side: a one-bin filter of a noisy sound flickers by
    +-5 dB from frame to frame (a chi-square with 2 degrees of freedom), which reads as rises
    in the low bands. Each filter averages its bins, so levels are comparable.
    """
    return log_filterbank(
        sr=sr,
        n_fft=n_fft,
        fmin_hz=params.fmin,
        fmax_hz=min(params.fmax, 0.45 * sr),
        bands_per_octave=params.bands_per_octave,
        min_half_bins=params.min_half_bins,
    )


def _log_filterbank(
    y: np.ndarray, sr: int, params: OnsetParams
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Log filterbank spectrogram (frames, filters), filter centres (Hz), FFT size and hop.

    Shared by the flux detector and ``onsets_learned`` (the learned activation's input).
    """
    n_fft, hop = _fft_size(params, sr)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0:
        y = y * np.float32(1.0 / peak)  # level-independent thresholds
    fb, centres = _filterbank(sr, n_fft, params)
    # Centred Hann frames, magnitude scaled so a full-scale sine peaks at ~1, in float32.
    frames = frame_signal(y, n_fft=n_fft, hop=hop)
    filt = filterbank_magnitude(frames, window=hann_window(n_fft), filterbank=fb)
    knee = np.full(filt.shape[1], 1.0 / params.log_mul, dtype=np.float32)
    if params.noise_knee > 0 and len(filt) >= 10:
        # Each filter's log scale starts above its own noise floor (its 10th percentile
        # over the file, times noise_knee): hiss and hum stay in the compressed, linear
        # part and their flicker no longer looks like rises; clean digital audio keeps
        # the fixed -80 dB knee.
        p10 = np.partition(filt, len(filt) // 10, axis=0)[len(filt) // 10]
        # The lowest floor among neighbouring filters: the SuperFlux comparison across
        # neighbours needs them on one scale, or vibrato moving a partial from a filter
        # with a high floor (the partial's own) into one with a low floor reads as a rise.
        reach = params.max_bins // 2 + 1
        low = p10.copy()
        for k in range(1, reach + 1):
            np.minimum(low[k:], p10[:-k], out=low[k:])
            np.minimum(low[:-k], p10[k:], out=low[:-k])
        np.maximum(knee, np.float32(params.noise_knee) * low, out=knee)
    logspec = np.log10(np.float32(1.0) + filt / knee[None, :])
    return logspec, centres, n_fft, hop


def _band_flux(y: np.ndarray, sr: int, params: OnsetParams) -> tuple[np.ndarray, float]:
    """Per-band rectified SuperFlux (frames, bands) and the frame rate."""
    logspec, centres, n_fft, hop = _log_filterbank(y, sr, params)
    fps = sr / hop
    lag = max(1, round(params.lag_s * fps))
    # SuperFlux: compare with the max over neighbouring filters of earlier frames (shifted
    # np.maximum calls: a few passes over the array, faster than a sliding-window max).
    ref = logspec.copy()
    half = max(0, params.max_bins // 2)
    for k in range(1, half + 1):
        np.maximum(ref[:, k:], logspec[:, :-k], out=ref[:, k:])
        np.maximum(ref[:, :-k], logspec[:, k:], out=ref[:, :-k])
    span = max(1, round(params.ref_span_s * fps) + 1)
    if span > 1:
        fmax_ref = ref.copy()
        for k in range(1, span):
            np.maximum(ref[k:], fmax_ref[:-k], out=ref[k:])
    # The first frames' references reach into the zero padding before the signal: there,
    # compare with each filter's median level instead, so audio that starts with a noise
    # floor or a held sound is no onset, while a hit at t=0 (a loop's downbeat) still is.
    n_edge = min(len(ref), -(-n_fft // (2 * hop)) + span)
    median = np.median(logspec, axis=0)
    np.maximum(ref[:n_edge], median[None, :], out=ref[:n_edge])
    diff = np.empty_like(logspec)
    diff[lag:] = logspec[lag:] - ref[:-lag]
    # The first frames have no earlier frame: their reference is that median too (a hit on
    # the first sample rises in frame 0, which a difference of frames alone never scores).
    diff[:lag] = logspec[:lag] - median[None, :]
    np.maximum(diff, 0.0, out=diff)  # half-wave rectification: only rises count
    edges = np.asarray(params.band_edges_hz, dtype=float)
    band_of = np.searchsorted(edges, centres, side="right") - 1
    n_bands = len(edges) - 1
    weights = np.zeros((len(centres), n_bands), dtype=np.float32)
    valid = (band_of >= 0) & (band_of < n_bands)
    weights[np.flatnonzero(valid), band_of[valid]] = 1.0
    counts = weights.sum(axis=0)
    weights[:, counts > 0] /= counts[counts > 0]  # mean over each band's filters
    return diff @ weights, fps


def onset_strength(
    y: np.ndarray, *, sr: int, params: OnsetParams = OnsetParams()
) -> tuple[np.ndarray, float]:
    """Multi-band spectral-flux novelty curve and its frame rate.

    Parameters
    ----------
    y : np.ndarray
        Mono audio, 1-D float (callers downmix).
    sr : int
        Sample rate of ``y`` (any; the analysis settings are in seconds and Hz).
    params : OnsetParams
        Detector settings.

    Returns
    -------
    novelty : np.ndarray
        float32, one value per frame; frame ``i`` is centred at ``i / fps`` seconds. In
        log10 units (0.1 is a 2 dB rise of the average band), not normalised to 0..1.
    fps : float
        Frames per second (``sr / hop``).
    """
    y = _check_audio(y, sr)
    if y.size == 0:
        return np.zeros(0, dtype=np.float32), sr / _fft_size(params, sr)[1]
    bands, fps = _band_flux(y, sr, params)
    w = np.asarray(params.band_weights, dtype=np.float32)
    if len(w) != bands.shape[1]:
        raise ValueError(
            f"band_weights has {len(w)} values for {bands.shape[1]} bands (band_edges_hz)"
        )
    novelty = bands @ (w / w.sum())
    return novelty.astype(np.float32, copy=False), fps


def _moving_mean(x: np.ndarray, before: int, after: int) -> np.ndarray:
    """Mean of ``x[i - before : i + after + 1]`` (clipped at the ends), via a cumulative sum."""
    c = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
    idx = np.arange(len(x))
    lo = np.maximum(idx - before, 0)
    hi = np.minimum(idx + after + 1, len(x))
    return (c[hi] - c[lo]) / (hi - lo)


def pick_peaks(novelty: np.ndarray, fps: float, params: OnsetParams) -> np.ndarray:
    """Frame indices of the onsets (adaptive threshold, local maximum, minimum gap)."""
    if novelty.size < 3:
        return np.zeros(0, dtype=np.int64)

    def frames(s: float) -> int:
        return max(0, round(s * fps))

    local_max = moving_max(novelty, frames(params.pre_max_s), frames(params.post_max_s))
    threshold = params.delta + params.avg_mult * _moving_mean(
        novelty, frames(params.pre_avg_s), frames(params.post_avg_s)
    )
    cand = np.flatnonzero((novelty >= local_max) & (novelty > threshold))
    return keep_apart(cand, params.min_gap_s * fps)


def _backtrack(y: np.ndarray, sr: int, times: np.ndarray, params: OnsetParams) -> np.ndarray:
    """Attack starts (s) for onsets at ``times`` from a fine log-energy envelope."""
    if times.size == 0:
        return times.copy()
    hop = max(1, round(params.env_hop_s * sr))
    # Energy of each hop-long block, then of 2 blocks centred on each envelope point k*hop.
    n_blocks = -(-len(y) // hop)
    blocks = np.zeros(n_blocks * hop, dtype=np.float32)
    blocks[: len(y)] = y
    energy = np.square(blocks).reshape(n_blocks, hop).sum(axis=1)
    energy[1:] += energy[:-1].copy()
    env_db = 10.0 * np.log10(energy / (2 * hop) + 1e-12)
    env_rate = sr / hop
    n_back = max(1, round(params.backtrack_max_s * env_rate))
    n_fwd = max(1, round(0.02 * env_rate))  # the hit's maximum may follow the flux peak
    n_pre = max(1, round(0.005 * env_rate))  # the attack peaks at most ~5 ms before
    onset_idx = np.round(times * env_rate).astype(np.int64)
    offsets = np.arange(-n_back, n_fwd + 1)
    idx = onset_idx[:, None] + offsets[None, :]  # (onsets, window): vectorised over onsets
    prev = np.concatenate([[-(10**9)], onset_idx[:-1]])
    valid = (idx >= 0) & (idx < len(env_db)) & (idx > prev[:, None])
    win = np.where(valid, env_db[np.clip(idx, 0, len(env_db) - 1)], np.inf)
    rows = np.arange(len(times))
    # The hit's maximum: near the detected onset, never the previous hit's.
    near = valid & (offsets[None, :] >= -n_pre)
    peak_pos = np.argmax(np.where(near, win, -np.inf), axis=1)
    top = win[rows, peak_pos]
    upto_peak = valid & (offsets[None, :] <= offsets[peak_pos][:, None])
    floor = np.min(np.where(upto_peak, win, np.inf), axis=1)
    level = floor + params.backtrack_rise * (top - floor)
    # The attack starts after the last point below `level` before the maximum; that point
    # is taken (not the next), so a slice never cuts into the attack.
    below = upto_peak & (win < level[:, None])
    last_below = len(offsets) - 1 - np.argmax(below[:, ::-1], axis=1)
    start_pos = np.where(below.any(axis=1), last_below, peak_pos)
    start_idx = idx[rows, start_pos]
    starts = start_idx / env_rate
    return np.minimum(np.maximum(starts, 0.0), times)


def detect_onsets_flux(y: np.ndarray, *, sr: int, params: OnsetParams = OnsetParams()) -> Onsets:
    """Detect drum onsets: multi-band spectral flux, adaptive peaks, backtracked starts.

    Parameters
    ----------
    y : np.ndarray
        Mono audio, 1-D float32/float64 (callers downmix; 2-D input raises ``ValueError``).
    sr : int
        Sample rate of ``y`` (any; the analysis settings are in seconds and Hz).
    params : OnsetParams
        Detector settings; the defaults are tuned for drum stems. ``method`` is not read
        here (`drumgenx.preprocess.onsets.detect_onsets` reads it).

    Returns
    -------
    Onsets
        ``times`` (refined novelty peaks), ``starts`` (attack starts, for slicing) and
        ``strengths`` (0..1), all sorted by time. Silence gives empty arrays.
    """
    y = _check_audio(y, sr)
    empty = np.zeros(0, dtype=np.float64)
    if y.size == 0 or not np.any(y):
        return Onsets(empty, empty.copy(), empty.copy())
    novelty, fps = onset_strength(y, sr=sr, params=params)
    peaks = pick_peaks(novelty, fps, params)
    if peaks.size == 0:
        return Onsets(empty, empty.copy(), empty.copy())
    times = refine_peaks(novelty, peaks) / fps + params.time_offset_s
    times = np.clip(times, 0.0, len(y) / sr)
    top = float(novelty[peaks].max())
    strengths = (novelty[peaks] / top if top > 0 else np.zeros(len(peaks))).astype(np.float64)
    starts = _backtrack(y, sr, times, params)
    return Onsets(times.astype(np.float64), starts.astype(np.float64), strengths)
