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

Beats, downbeats and steadiness (:func:`track_beats`, a :class:`BeatGrid`): for stage 3's
``--pattern source`` and ``drumgenx run --bpm auto``, which need where the beats are, not
only how fast. Each hit weighs its strength times ``1 + kick + snare`` (its kick and snare
probabilities, when given: the transcriber's strengths saturate near 1, and the kick and
snare carry the accents that hi-hats on every 16th hide).

1. **Tempo.** The weighted onset train's autocorrelation, normalised to 1 at lag 0, scores
   each period of 60-200 bpm by its mean at an eighth, a beat, two beats and a 4/4 bar
   (`PULSE_MULTIPLES`: a beat repeats at the bar, a dotted-eighth pulse of 16th hats does
   not); the best under the mild `PRIOR_BPM` prior names the pulse. Its octave (the
   pulse's halves and doubles within 60-200 bpm) is then chosen by the log of the mean at
   one beat, two beats and a bar (`COMB_MULTIPLES`) plus a log-normal prior fitted to the
   tempi of the Groove MIDI Dataset's *train* beats (`OCTAVE_PRIOR_BPM`,
   `OCTAVE_PRIOR_OCTAVES`) plus a backbeat bonus when snare probabilities are given (snares
   on alternate beats: their autocorrelation high at two beats and low at one;
   `BACKBEAT_WEIGHT`). The chosen lag is refined by a parabola through the autocorrelation.
2. **Beats.** Ellis's (2007) dynamic programme on the weighted, smoothed train: each frame's
   score is its onset strength plus the best earlier score at a half to two beat periods
   before it, less ``tightness * log(gap / period) ** 2``; the beats are the best path back
   from the best frame of the last beat period.
3. **Downbeats** (4/4 bars): a small learned model. Per beat, and per eighth between
   beats, the hits within `DOWNBEAT_WINDOW` sum their strength times each class probability
   (kick, snare, hi-hat, tom, cymbal) and their strength; each of the four bar phases reads
   those at the four positions of its bars (relative to their means), plus whether it is
   the phase of the first beat the accent leads on (pieces mostly start on a downbeat).
   The phase with the highest score under `DEFAULT_DOWNBEAT_WEIGHTS` starts the bars: a
   conditional logistic regression fitted on GMD *train* excerpts of the transcriber's
   corpus (``drumgenx train downbeats``; GMD files start on bar 1). A crash marks a bar's 1,
   fills lead into it; the kick on 1 and 3 alone cannot tell them apart. Without class
   probabilities only the strengths speak (the class features are then constant).
4. **Steadiness.** ``confidence`` is the beat period's score from step 1 (0..1): 0.1-0.55
   for GMD drummers (median 0.3), 0.02-0.18 for hits at random (Poisson) times, higher the
   shorter the hits' span (chance correlations shrink as one over its square root).
   ``steady`` is ``confidence >= STEADY_THRESHOLD * sqrt(STEADY_SPAN_S / span)``, at most
   `STEADY_MAX`.

Loops (:func:`track_loop`): a file of one, two, four or eight bars made to be played end to
end is tracked that way, its hits laid end to end to `LOOP_SPAN_S`; when its length is whole
bars at the beat found, the tempo is the exact tempo of those bars.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from drumgenx.core.errors import FormatError
from drumgenx.core.peaks import refine_peaks

__all__ = [
    "BPM_RANGE",
    "DEFAULT_DOWNBEAT_WEIGHTS",
    "DOWNBEAT_FEATURES",
    "MIN_HITS",
    "STEADY_THRESHOLD",
    "BeatGrid",
    "LoopGrid",
    "downbeat_features",
    "estimate_tempo",
    "load_downbeat_weights",
    "tempo_from_activation",
    "track_beats",
    "track_loop",
]

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
    return tempo_from_activation(_smooth(_impulses(t, w, n, fps), SMOOTH_S * fps), fps=fps)


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
    acf = _autocorrelation(a, lag_max + 1)
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


def _impulses(t: np.ndarray, w: np.ndarray, n: int, fps: float) -> np.ndarray:
    """A train of ``n`` samples at ``fps`` with weight ``w`` at each time ``t`` (s, >= 0)."""
    train = np.zeros(n, dtype=np.float64)
    # each hit split between its two nearest samples: timing finer than a sample survives
    pos = t * fps
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    np.add.at(train, lo, w * (1 - frac))
    np.add.at(train, np.minimum(lo + 1, n - 1), w * frac)
    return train


def _autocorrelation(a: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation of ``a`` less its mean, lags 0..``max_lag`` (not normalised)."""
    a = a - a.mean()
    size = 1 << int(np.ceil(np.log2(2 * a.size)))
    spectrum = np.fft.rfft(a, size)
    return np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1]


# --- beats, downbeats, steadiness ---------------------------------------------------------

BEAT_FPS = 200.0
"""Rate of the onset train the beat tracker runs on (5 ms: 1 % of a beat at 120 bpm)."""
PULSE_MULTIPLES = (0.5, 1, 2, 4)
"""The pulse (any octave) scores the mean autocorrelation at these multiples of its period:
eighth, beat, two beats, a 4/4 bar. GMD validation, transcribed drums, Acc1: 0.88 against
0.81 with (1, 2, 4) and 0.81 with the 16th added."""
COMB_MULTIPLES = (1, 2, 4)
"""A beat period (one octave of the pulse) scores the mean autocorrelation at these multiples
of it: beat, two beats, a 4/4 bar; this is also ``confidence``."""
COMB_TOLERANCE = 0.02
"""Each multiple takes the autocorrelation's maximum within this share of its lag (timing
drift and the lag grid)."""
OCTAVE_PRIOR_BPM = 108.0
OCTAVE_PRIOR_OCTAVES = 0.32
"""The octave's prior: log-normal, centre and deviation of the tempi of the 378 Groove MIDI
Dataset *train* beats (geometric mean 108 bpm, 0.32 octave). On GMD validation 100 or 115 bpm
and 0.25 octave did worse, 0.4 the same."""
BACKBEAT_WEIGHT = 4.0
"""Weight (log-score units) of the backbeat bonus in the octave choice: snare autocorrelation
at two beats less at one, floored at 0. GMD validation: 3-5 alike (one beat more right than
0), 8 and up worse (half-time feels read double)."""
TIGHTNESS = 300.0
"""How strongly the beat tracker keeps the period (Ellis 2007). librosa's 100 suits its
smooth onset envelope; this train of 10 ms Gaussians, divided by its deviation, has far
taller peaks, so at 100 a fill's dense hits could pull the beats off the grid for the rest
of a piece. GMD corpus excerpts at the right tempo with 90 % of their beats within a tenth
of a beat of the file's (`bench/score_beats_corpus.py`): train 57 % at 100, 63 % at 300, 64 %
at 500; validation 56 %, 64 % at 300, 61 % at 1000, where fewer excerpts were on the beat at
all (69 % against 75 %: a fixed period cannot follow a drummer's drift). The pattern bench's
validation run is in `bench/PATTERN.md`."""
DOWNBEAT_WINDOW = 0.05
"""Hits within this many seconds of a beat (at most an eighth of a beat) count for it."""
BEATS_PER_BAR = 4
"""The bar the downbeats mark (the tempo's comb assumes 4/4 too)."""
DOWNBEAT_CLASSES = ("kick", "snare", "hihat", "tom", "cymbal")
"""The class probabilities `downbeat_features` reads, in this order."""
DOWNBEAT_FEATURES = (
    *(
        f"{where}{q + 1}_{signal}"
        for q in range(BEATS_PER_BAR)
        for where in ("beat", "eighth")
        for signal in (*DOWNBEAT_CLASSES, "hit")
    ),
    "first_accent",
)
"""The downbeat model's features per bar phase (:func:`downbeat_features`)."""
DEFAULT_DOWNBEAT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "downbeat.npz"
"""The shipped downbeat model: `DOWNBEAT_FEATURES` weights (``drumgenx train downbeats``)."""
STEADY_THRESHOLD = 0.12
STEADY_SPAN_S = 30.0
STEADY_MAX = 0.5
"""``confidence`` from which hits spanning `STEADY_SPAN_S` have a steady beat (scaled by the
square root of that over their span, at most `STEADY_MAX`). GMD validation drummers,
transcribed, first 30 s: minimum 0.09, 5th percentile 0.14-0.17, median 0.3; hits at Poisson
times, 0.5-16 a second, 20 draws each: the largest 0.18 over 10 s (threshold 0.21), 0.10 over
30 s, 0.05 over 120 s (threshold 0.06)."""


@dataclass(frozen=True, eq=False)
class BeatGrid:
    """Where the beats of a piece are (:func:`track_beats`). Times in seconds, as given."""

    bpm: float
    """The tempo (beats per minute)."""
    beats: np.ndarray
    """Beat times, ascending (read-only)."""
    downbeats: np.ndarray
    """The beats that start a bar (a subset of `beats`, read-only)."""
    steady: bool
    """Whether the hits repeat at the beat clearly enough to build a loop on (``confidence``
    above chance for their span; see the module)."""
    confidence: float
    """How clearly the hits repeat at the beat, two beats and a bar (0..1; see the module)."""


def track_beats(
    times: np.ndarray,
    *,
    strengths: np.ndarray | None = None,
    kick: np.ndarray | None = None,
    snare: np.ndarray | None = None,
    hihat: np.ndarray | None = None,
    tom: np.ndarray | None = None,
    cymbal: np.ndarray | None = None,
    fps: float = BEAT_FPS,
    tightness: float = TIGHTNESS,
    steady_threshold: float = STEADY_THRESHOLD,
    downbeat_weights: str | Path | np.ndarray | None = None,
) -> BeatGrid | None:
    """Tempo, beats, downbeats and steadiness of hits at ``times``, or None for too few hits.

    Parameters
    ----------
    times, strengths : np.ndarray
        As for :func:`estimate_tempo` (seconds, any order; a weight per hit, default 1).
    kick, snare : np.ndarray, optional
        Each hit's kick and snare probability (0..1); they weigh the hits, choose the tempo's
        octave (backbeat) and, with the other classes, place the downbeats. Without any
        class probabilities the hits' strengths do.
    hihat, tom, cymbal : np.ndarray, optional
        Each hit's probability of the other three classes (0..1): they place the downbeats.
    fps : float
        Rate of the onset train (default `BEAT_FPS`).
    tightness : float
        How strongly the tracker keeps the period (default `TIGHTNESS`, Ellis 2007).
    steady_threshold : float
        ``confidence`` from which ``steady`` is true for hits spanning `STEADY_SPAN_S`
        (default `STEADY_THRESHOLD`; scaled as the module says).
    downbeat_weights : str, Path or np.ndarray, optional
        The downbeat model (`DOWNBEAT_FEATURES` weights, or a file of them); default the
        shipped `DEFAULT_DOWNBEAT_WEIGHTS` (``drumgenx train downbeats``).

    Returns
    -------
    BeatGrid or None
        None when there are fewer than `MIN_HITS` weighted hits or they span less than
        `MIN_SPAN_S` (as :func:`estimate_tempo`).

    Raises
    ------
    ValueError
        Per-hit arrays whose lengths differ from ``times``.
    """
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    per_hit = []
    classes = {"kick": kick, "snare": snare, "hihat": hihat, "tom": tom, "cymbal": cymbal}
    for name, values, default in (
        ("strengths", strengths, 1.0),
        *((name, values, 0.0) for name, values in classes.items()),
    ):
        v = np.full_like(t, default) if values is None else np.asarray(values, np.float64)
        v = v.reshape(-1)
        if v.shape != t.shape:
            raise ValueError(f"{name} ({v.size}) and times ({t.size}) differ in length")
        per_hit.append(v)
    s, probs = per_hit[0], np.column_stack(per_hit[1:])
    keep = np.isfinite(t) & np.isfinite(s) & (s > 0) & np.isfinite(probs).all(axis=1)
    if keep.sum() < MIN_HITS or np.ptp(t[keep]) < MIN_SPAN_S:
        return None
    order = np.argsort(t[keep], kind="stable")
    t, s, probs = t[keep][order], s[keep][order], np.clip(probs[keep][order], 0, 1)
    k, sn = probs[:, 0], probs[:, 1]
    start = t[0]
    rel = t - start
    weight = s * (1.0 + k + sn)
    max_lag = int(np.ceil(60.0 / BPM_RANGE[0] * fps * max(COMB_MULTIPLES)))
    n = int(np.ceil(rel[-1] * fps)) + int(fps * SMOOTH_S * 4) + 2
    onsets = _smooth(_impulses(rel, weight, n, fps), SMOOTH_S * fps)
    acf = _normalised_acf(onsets, max_lag)
    backbeat = None
    if snare is not None and np.any(sn > 0):
        snares = _smooth(_impulses(rel, s * sn, n, fps), SMOOTH_S * fps)
        backbeat = _normalised_acf(snares, 2 * int(np.ceil(60.0 / BPM_RANGE[0] * fps)))
    lag = _beat_period(acf, fps, backbeat)
    confidence = float(np.clip(_comb(acf, lag), 0.0, 1.0))
    beat_frames = _dp_beats(onsets, lag, tightness)
    beats = start + beat_frames / fps
    has_classes = any(values is not None for values in classes.values())
    features = downbeat_features(beats, t, s, probs if has_classes else None, beat_s=lag / fps)
    first = int(np.argmax(features @ load_downbeat_weights(downbeat_weights)))
    beats.setflags(write=False)
    downbeats = beats[first::BEATS_PER_BAR].copy()
    downbeats.setflags(write=False)
    return BeatGrid(
        bpm=float(60.0 * fps / lag),
        beats=beats,
        downbeats=downbeats,
        steady=bool(
            confidence >= min(STEADY_MAX, steady_threshold * np.sqrt(STEADY_SPAN_S / rel[-1]))
        ),
        confidence=confidence,
    )


LOOP_MAX_S = 20.0
"""Files up to this long may be loops (`track_loop`): 8 bars at 96 bpm, 4 at 48."""
LOOP_BARS = (1, 2, 4, 8)
"""The bar counts a loop file holds."""
LOOP_TOLERANCE = 0.06
"""How close a file's length must come to whole bars at its tracked tempo (the tempo's own
error on a syncopated break reaches 3 %). Chosen on cuts of GMD validation beats
(`bench/bench_loop_cuts.py`): of 1-, 2- and 4-bar cuts, 70.0 % taken with the right tempo
at 2 %, 77.8 % at 4 %, 81.3 % at 6 % and 8 %; of cuts of 1.3-3.4 bars, 4.9 %, 8.8 %, 9.1 %
and 10.4 % taken for loops."""
LOOP_SPAN_S = 30.0
"""A loop is repeated to at least this long for the tracker (`STEADY_SPAN_S`)."""
LOOP_SEAM_S = 0.03
"""Hits this close to a loop file's end are the next turn's first hit, cut into the file
(loops are often cut a little late): they are left out, the turn's own first hit counts."""


def in_one_turn(times: np.ndarray, *, period_s: float) -> np.ndarray:
    """Which of a loop file's hit ``times`` (s) belong to one turn of it, ``period_s`` long:
    all but those within `LOOP_SEAM_S` of its end (the next turn's first hit)."""
    return np.asarray(times, dtype=np.float64).reshape(-1) < period_s - LOOP_SEAM_S


@dataclass(frozen=True, eq=False)
class LoopGrid:
    """A loop file's beat grid (:func:`track_loop`)."""

    grid: BeatGrid
    """The beats of the loop played ``turns`` times over (times from the file's start)."""
    bars: int
    """Whole 4/4 bars the file holds (one of `LOOP_BARS`)."""
    turns: int
    """How many times the loop was laid end to end for the tracker (the hits of one turn:
    `in_one_turn`)."""
    period_s: float
    """The file's length: one turn."""


def track_loop(
    times: np.ndarray,
    *,
    duration_s: float,
    strengths: np.ndarray | None = None,
    tolerance: float = LOOP_TOLERANCE,
    **classes: np.ndarray | None,
) -> LoopGrid | None:
    """The beat grid of a file that is a loop, or None when it is not one.

    A drum loop holds one, two, four or eight bars and is meant to be played end to end, so
    its hits are tracked that way: laid end to end `LOOP_SPAN_S` long (a one-bar loop alone
    is too short for :func:`track_beats`, and a four-bar loop of four different bars never
    repeats inside itself). It is a loop when it is at most `LOOP_MAX_S` long, holds at least
    `MIN_HITS` hits (a one-shot is none), the turns have a steady beat, and its length is
    within ``tolerance`` of a whole number of bars (`LOOP_BARS`) at that beat; the grid's
    tempo is then the exact one of those bars.

    Parameters
    ----------
    times, strengths : np.ndarray
        The file's hits (seconds from its start) and their weights, as for `track_beats`.
    duration_s : float
        The file's length in seconds.
    tolerance : float
        How far from whole bars the length may be (default `LOOP_TOLERANCE`, chosen on
        cuts of GMD validation beats).
    **classes
        ``kick``, ``snare``, ``hihat``, ``tom``, ``cymbal`` per hit, as for `track_beats`.
    """
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    keep = in_one_turn(t, period_s=duration_s)
    n_kept = int(keep.sum())
    # a one-shot repeats too, but a crash every 4 s is no drum pattern
    if not 0 < duration_s <= LOOP_MAX_S or n_kept < MIN_HITS:
        return None
    turns = max(2, int(np.ceil(LOOP_SPAN_S / duration_s)))
    shifts = np.repeat(np.arange(turns) * duration_s, n_kept)

    def laid(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else np.tile(np.asarray(values, np.float64)[keep], turns)

    grid = track_beats(
        np.tile(t[keep], turns) + shifts,
        strengths=laid(strengths),
        **{name: laid(values) for name, values in classes.items()},
    )
    if grid is None or not grid.steady:
        return None
    bars = duration_s * grid.bpm / 60.0 / BEATS_PER_BAR
    whole = round(bars)
    if whole not in LOOP_BARS or abs(bars / whole - 1.0) > tolerance:
        return None
    exact = replace(grid, bpm=60.0 * BEATS_PER_BAR * whole / duration_s)
    return LoopGrid(grid=exact, bars=whole, turns=turns, period_s=float(duration_s))


def _normalised_acf(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation of ``x`` less its mean, 1 at lag 0, lags 0..``max_lag`` (0 past its
    end; all 0 for a constant)."""
    out = np.zeros(max_lag + 1)
    acf = _autocorrelation(x, min(max_lag, x.size - 1))
    if acf[0] > 0:
        out[: acf.size] = acf / acf[0]
    return out


def _near_max(acf: np.ndarray, lag: float) -> float:
    """The maximum of ``acf`` within `COMB_TOLERANCE` of ``lag`` (0 past its end)."""
    lo = int(np.floor(lag * (1 - COMB_TOLERANCE)))
    hi = min(int(np.ceil(lag * (1 + COMB_TOLERANCE))), acf.size - 1)
    return float(acf[lo : hi + 1].max()) if lo <= hi else 0.0


def _comb(acf: np.ndarray, lag: float, multiples: tuple[float, ...] = COMB_MULTIPLES) -> float:
    """A period's score: the mean autocorrelation at its ``multiples``."""
    return float(np.mean([_near_max(acf, m * lag) for m in multiples]))


def _log_normal(bpm, centre: float, octaves: float):
    """Log of an (unnormalised) log-normal prior."""
    return -0.5 * (np.log2(bpm / centre) / octaves) ** 2


def _beat_period(acf: np.ndarray, fps: float, backbeat: np.ndarray | None) -> float:
    """The beat period (frames): the pulse by its comb score, then its octave; refined."""
    grid = np.arange(BPM_RANGE[0], BPM_RANGE[1] + 0.25, 0.5)
    prior = np.exp(_log_normal(grid, PRIOR_BPM, PRIOR_OCTAVES))
    pulse = [_comb(acf, 60.0 * fps / b, PULSE_MULTIPLES) for b in grid] * prior
    found = float(grid[int(np.argmax(pulse))])
    best, best_score = found, -np.inf
    for bpm in found * 2.0 ** np.arange(-2, 3):
        if not BPM_RANGE[0] <= bpm <= BPM_RANGE[1]:
            continue
        lag = 60.0 * fps / bpm
        score = np.log(max(_comb(acf, lag), 1e-6))
        score += _log_normal(bpm, OCTAVE_PRIOR_BPM, OCTAVE_PRIOR_OCTAVES)
        if backbeat is not None:
            bonus = _near_max(backbeat, 2 * lag) - _near_max(backbeat, lag)
            score += BACKBEAT_WEIGHT * max(0.0, bonus)
        if score > best_score:
            best, best_score = bpm, score
    lag = 60.0 * fps / best
    lo = int(np.floor(lag * (1 - 1.5 * COMB_TOLERANCE)))
    hi = min(int(np.ceil(lag * (1 + 1.5 * COMB_TOLERANCE))), acf.size - 2)
    peak = lo + int(np.argmax(acf[lo : hi + 1]))
    if not lo < peak < hi:  # no peak near the lag (swung eighths at double tempo): keep it
        return lag
    return float(refine_peaks(acf, np.array([peak]))[0])


def _dp_beats(onsets: np.ndarray, period: float, tightness: float) -> np.ndarray:
    """Beat frames by Ellis's (2007) dynamic programme on an onset curve, ``period`` frames."""
    sd = onsets.std()
    local = onsets / sd if sd > 0 else onsets
    gaps = np.arange(max(1, round(period / 2)), round(2 * period) + 1)
    penalty = -tightness * np.log(gaps / period) ** 2
    score = local.copy()
    back = np.full(local.size, -1, dtype=np.int64)
    for i in range(int(gaps[0]), local.size):
        prev = i - gaps
        ok = prev >= 0
        cand = score[prev[ok]] + penalty[ok]
        j = int(np.argmax(cand))
        if cand[j] > 0:
            score[i] += cand[j]
            back[i] = prev[ok][j]
    tail = np.arange(max(0, local.size - round(period)), local.size)
    i = int(tail[np.argmax(score[tail])])
    frames = [i]
    while back[i] >= 0:
        i = int(back[i])
        frames.append(i)
    return np.asarray(frames[::-1], dtype=np.float64)


def downbeat_features(
    beats: np.ndarray,
    times: np.ndarray,
    strengths: np.ndarray,
    class_probs: np.ndarray | None,
    *,
    beat_s: float,
) -> np.ndarray:
    """``(BEATS_PER_BAR, len(DOWNBEAT_FEATURES))``: each bar phase's features (row ``p``:
    the bar starts on ``beats[p]``).

    Per beat, and per eighth between two beats, the hits within `DOWNBEAT_WINDOW` (at most
    an eighth of a beat) sum their strength times each class probability
    (`DOWNBEAT_CLASSES`; ``class_probs`` is ``(hits, 5)``, None for none), and their
    strength. For a phase, each of those is averaged over the beats at each position of the
    bar, relative to that signal's mean over all beats and eighths (less 1). The
    last feature is 1 for the phase of the first beat the hits' accent leads on (the kick
    less the snare, or the strength without classes; at least half the largest): pieces
    mostly start on a downbeat.
    """
    t = np.asarray(times, dtype=np.float64)
    s = np.asarray(strengths, dtype=np.float64)
    probs = np.zeros((t.size, len(DOWNBEAT_CLASSES))) if class_probs is None else class_probs
    window = min(DOWNBEAT_WINDOW, beat_s / 8)
    order = np.argsort(t, kind="stable")
    t = t[order]
    # Running sums: each window's total is a difference of two rows (an hour of hits and
    # beats needs no beats-by-hits matrix).
    running = np.vstack(
        [
            np.zeros(probs.shape[1] + 1),
            np.cumsum(np.column_stack([probs[order] * s[order, None], s[order]]), axis=0),
        ]
    )

    def near(centres: np.ndarray) -> np.ndarray:
        lo = np.searchsorted(t, centres - window, side="left")
        hi = np.searchsorted(t, centres + window, side="right")
        return running[hi] - running[lo]

    at_beats = near(beats)
    at_eighths = np.zeros_like(at_beats)
    at_eighths[:-1] = near(beats[:-1] + np.diff(beats) / 2)
    per_beat = np.hstack([at_beats, at_eighths])
    # One scale per signal, on the beats and the eighths alike: an eighth position that is
    # almost always empty stays near -1 whatever a few stray hits there do.
    overall = np.tile((at_beats.mean(axis=0) + at_eighths.mean(axis=0)) / 2 + 1e-6, 2)
    accent = at_beats[:, 0] - at_beats[:, 1] if class_probs is not None else at_beats[:, -1]
    led = np.flatnonzero(accent >= 0.5 * accent.max()) if accent.size else []
    first_led = int(led[0]) % BEATS_PER_BAR if len(led) else 0
    rows = []
    for phase in range(BEATS_PER_BAR):
        position = (np.arange(len(beats)) - phase) % BEATS_PER_BAR
        means = [
            per_beat[position == q].mean(axis=0) / overall - 1.0
            if (position == q).any()
            else np.zeros(per_beat.shape[1])
            for q in range(BEATS_PER_BAR)
        ]
        rows.append(np.concatenate([*means, [float(phase == first_led)]]))
    return np.asarray(rows)


@functools.lru_cache(maxsize=4)
def _read_downbeat_weights(path: Path) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as data:
            names, weights = tuple(str(n) for n in data["features"]), data["weights"]
    except (OSError, ValueError, KeyError) as exc:
        raise FormatError(f"{path}: not a downbeat model ({exc})") from None
    if names != DOWNBEAT_FEATURES or weights.shape != (len(DOWNBEAT_FEATURES),):
        raise FormatError(f"{path}: its features are not this version's DOWNBEAT_FEATURES")
    weights = weights.astype(np.float64)
    weights.setflags(write=False)
    return weights


def load_downbeat_weights(weights: str | Path | np.ndarray | None = None) -> np.ndarray:
    """The downbeat model's weights: ``weights`` itself if an array, else read from the file
    (default `DEFAULT_DOWNBEAT_WEIGHTS`; read once per process)."""
    if isinstance(weights, np.ndarray):
        return weights
    return _read_downbeat_weights(Path(weights or DEFAULT_DOWNBEAT_WEIGHTS).resolve())
