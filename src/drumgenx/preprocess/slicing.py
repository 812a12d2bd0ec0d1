"""Cut one-shot slices out of a recording, given where its hits start.

Each slice runs from a short pre-roll before its attack to the next hit's slice start (so
slices never overlap) or a maximum length, whichever is first. It is then trimmed where its
level stays below a threshold relative to its own peak, faded in over the pre-roll and faded
out to an exact zero, and dropped if it is too short or too quiet. Every threshold lives in
:class:`SliceParams`. Numpy only; slices are not normalised (see :func:`peak_normalize`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Slice", "SliceParams", "peak_normalize", "slice_hits"]


@dataclass(frozen=True)
class SliceParams:
    """Every threshold of :func:`slice_hits`, with where its default comes from.

    Attributes
    ----------
    pre_roll_ms : float
        Audio kept before each attack start (5 ms). Onset detectors place the attack a few
        milliseconds late on soft transients (their frames are 5-12 ms); 5 ms keeps the whole
        transient without pulling in much of the previous hit's tail.
    max_length_s : float
        Longest slice (2.0 s): longer than any kick, snare, tom or closed hat rings and enough
        of a crash or an open hat to sound whole; the renderer gates hits at their step length
        anyway.
    decay_db : float
        The slice ends where its level stays more than this many dB below its own peak
        (50 dB). At -50 dB re peak a tail is inaudible under the next hit in a mix and, in
        most recordings, at the noise floor; the usual sampler "end trim" range is 40-60 dB.
    fade_out_ms : float
        Raised-cosine fade ending at an exact zero (10 ms, the renderer's own gate fade): long
        enough that cutting a still-ringing tail does not click, short enough not to change
        the tail's sound.
    fade_in_ms : float
        Raised-cosine fade at the start (1 ms). It lies inside the pre-roll (it must not be
        longer), so it only touches audio before the attack: it removes the step that a slice
        starting inside the previous hit's tail would otherwise begin with.
    min_length_ms : float
        Slices shorter than this after trimming are dropped (30 ms): shorter ones are clicks,
        or hits squeezed between two close onsets (flams, detector double-triggers) that do
        not sound like a drum on their own.
    min_peak_dbfs : float
        Slices whose peak is below this (-50 dBFS) are dropped as near-silent: room noise,
        bleed and reverb tails that an onset detector can still trigger on.
    cut_tail_ms : float
        A slice after the file's first hit that the file's end cuts off while it still
        sounds, shorter than this (80 ms), is dropped: it is the start of a hit the file was
        cut into (a loop cut a little late keeps 30-60 ms of its next downbeat), not a drum.
        0 keeps them.
    """

    pre_roll_ms: float = 5.0
    max_length_s: float = 2.0
    decay_db: float = 50.0
    fade_out_ms: float = 10.0
    fade_in_ms: float = 1.0
    min_length_ms: float = 30.0
    min_peak_dbfs: float = -50.0
    cut_tail_ms: float = 80.0

    def __post_init__(self) -> None:
        if self.pre_roll_ms < 0 or self.fade_out_ms < 0 or self.fade_in_ms < 0:
            raise ValueError("pre_roll_ms, fade_out_ms and fade_in_ms must be >= 0")
        if self.fade_in_ms > self.pre_roll_ms:
            raise ValueError(
                f"fade_in_ms ({self.fade_in_ms}) must not exceed pre_roll_ms "
                f"({self.pre_roll_ms}): the fade-in would cut into the attack"
            )
        if self.max_length_s <= 0:
            raise ValueError(f"max_length_s must be > 0, got {self.max_length_s}")
        if self.decay_db <= 0:
            raise ValueError(f"decay_db must be > 0 (dB below the peak), got {self.decay_db}")
        if self.min_length_ms < 0 or self.cut_tail_ms < 0:
            raise ValueError("min_length_ms and cut_tail_ms must be >= 0")


@dataclass
class Slice:
    """One hit cut out of a recording.

    Attributes
    ----------
    audio : numpy.ndarray
        ``(frames, channels)`` float32: trimmed and faded, not normalised.
    start_s : float
        Where the slice starts in the source, in seconds (the attack minus the pre-roll).
    end_s : float
        Where it ends in the source (exclusive), in seconds, after trimming.
    onset_strength : float
        The detector's strength of this hit, passed through (de-duplication keeps the
        strongest of several copies).
    hit_index : int
        Which hit of the ``starts`` given to :func:`slice_hits` this slice is (-1: unknown).
    onset_s : float or None
        The detected onset of its hit in the source (s), when the caller records it (None
        for sound before the first onset, which has no detected hit).
    class_probs : tuple of float or None
        The transcriber's five class probabilities of its hit, when it found the hit.
    """

    audio: np.ndarray
    start_s: float
    end_s: float
    onset_strength: float
    hit_index: int = -1
    onset_s: float | None = None
    class_probs: tuple[float, ...] | None = None


def _raised_cosine(n: int) -> np.ndarray:
    """Rising raised-cosine ramp of ``n`` samples, from exactly 0 towards 1."""
    return (0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)).astype(np.float32)


def _ms_to_frames(ms: float, sr: int) -> int:
    return round(ms * sr / 1000.0)


def _checked_inputs(
    y: np.ndarray, sr: int, starts: np.ndarray, strengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`slice_hits`' arguments checked: float32 ``(frames, channels)`` audio, starts, strengths."""
    audio = np.asarray(y, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[:, None]
    if audio.ndim != 2 or audio.shape[1] == 0:
        raise ValueError(f"y must be (frames, channels) or 1-D, got shape {np.shape(y)}")
    if sr <= 0:
        raise ValueError(f"sr must be positive, got {sr}")
    onsets = np.asarray(starts, dtype=np.float64).reshape(-1)
    weights = np.asarray(strengths, dtype=np.float64).reshape(-1)
    if onsets.shape != weights.shape:
        raise ValueError(f"starts ({onsets.size}) and strengths ({weights.size}) differ in length")
    if not np.all(np.isfinite(onsets)):
        raise ValueError("starts hold NaN or infinity")
    if np.any(np.diff(onsets) < 0):
        raise ValueError("starts must be sorted ascending")
    if not np.all(np.isfinite(audio)):
        raise ValueError("audio holds NaN or infinity")
    return audio, onsets, weights


def _decayed_length(window: np.ndarray, *, min_peak: float, decay: float) -> int | None:
    """Samples of ``window`` up to the last one at or above ``peak * decay``.

    None where the window's peak (loudest channel) is silent or below ``min_peak``.
    """
    # Loudest channel per sample, channel by channel (max over a short last axis is slow).
    level = np.abs(window[:, 0])
    for c in range(1, window.shape[1]):
        np.maximum(level, np.abs(window[:, c]), out=level)
    peak = float(level.max())
    if peak < min_peak or peak == 0.0:
        return None
    # Last sample at or above peak - decay_db: beyond it the level never comes back up.
    return int(np.flatnonzero(level >= peak * decay)[-1]) + 1


def _faded(segment: np.ndarray, *, n_in: int, fade_out: int) -> np.ndarray:
    """A copy of ``segment`` with a raised-cosine fade in over ``n_in`` samples and out."""
    length = segment.shape[0]
    out = segment.copy()
    if n_in > 0:
        out[:n_in] *= _raised_cosine(n_in)[:, None]
    n_out = min(fade_out, length)
    if n_out > 0:
        # The rising ramp reversed: the slice's last sample is multiplied by exactly 0.
        out[length - n_out :] *= _raised_cosine(n_out)[::-1][:, None]
    return out


def slice_hits(
    y: np.ndarray,
    *,
    sr: int,
    starts: np.ndarray,
    strengths: np.ndarray,
    params: SliceParams = SliceParams(),
) -> list[Slice]:
    """Cut one slice per hit, trim its decayed tail, fade it, drop the unusable ones.

    Parameters
    ----------
    y : numpy.ndarray
        ``(frames, channels)`` audio (1-D is taken as mono). Channels are kept.
    sr : int
        Sample rate in Hz.
    starts : numpy.ndarray
        Attack start of each hit in seconds, sorted ascending.
    strengths : numpy.ndarray
        Onset strength of each hit, same length as ``starts``.
    params : SliceParams, optional
        Thresholds (defaults documented there).

    Returns
    -------
    list of Slice
        In time order; hits whose slice is too short or too quiet are left out.

    Raises
    ------
    ValueError
        If ``y`` is not 1-D or 2-D or not finite, ``sr`` is not positive, ``starts`` and
        ``strengths`` differ in length, or ``starts`` is not sorted or not finite.

    Notes
    -----
    All positions are whole samples. Hit ``i`` begins at
    ``max(0, round(starts[i] * sr) - pre_roll)`` and may run to the next hit's begin sample,
    to ``max_length_s`` after its own begin, or to the end of the file, whichever comes first:
    slices never overlap and the last one runs to the file's end. The next hit bounds a slice
    even if that hit's own slice is then dropped: a slice never runs into another attack.
    Two hits closer than the pre-roll leave the first an empty slice, which is dropped as
    too short.

    The trim point is the last sample whose magnitude (the loudest channel) still reaches
    ``peak - decay_db``: after it the envelope stays below the threshold for good, which is
    what "has decayed" means. The slice's peak is measured before the fades; slices under
    ``min_peak_dbfs`` are dropped, and so are slices shorter than ``min_length_ms`` after
    the trim, and those after the first hit that run to the file's end untrimmed (still
    sounding there) and are shorter than ``cut_tail_ms``.
    """
    audio, onsets, weights = _checked_inputs(y, sr, starts, strengths)

    n_frames = audio.shape[0]
    pre_roll = _ms_to_frames(params.pre_roll_ms, sr)
    max_len = max(1, round(params.max_length_s * sr))
    min_len = _ms_to_frames(params.min_length_ms, sr)
    cut_tail = _ms_to_frames(params.cut_tail_ms, sr)
    fade_in = _ms_to_frames(params.fade_in_ms, sr)
    fade_out = _ms_to_frames(params.fade_out_ms, sr)
    min_peak = 10.0 ** (params.min_peak_dbfs / 20.0)
    decay = 10.0 ** (-params.decay_db / 20.0)

    # Integer begin samples for all hits first, so that "end <= next begin" is exact.
    attacks = np.clip(np.round(onsets * sr).astype(np.int64), 0, n_frames)
    begins = np.maximum(attacks - pre_roll, 0)
    ends = np.minimum(np.append(begins[1:], n_frames), begins + max_len)

    slices: list[Slice] = []
    for index, (attack, begin, end, strength) in enumerate(
        zip(attacks.tolist(), begins.tolist(), ends.tolist(), weights.tolist(), strict=True)
    ):
        if end - begin < max(min_len, 1):
            continue  # too short even before the trim
        length = _decayed_length(audio[begin:end], min_peak=min_peak, decay=decay)
        if length is None or length < min_len:
            continue
        if index > 0 and end == n_frames and length == end - begin and length < cut_tail:
            continue  # the file was cut into this hit
        # Fade in only over the pre-roll actually there: a hit at the file's very start has
        # none, and its attack is left untouched.
        n_in = min(fade_in, attack - begin, length)
        out = _faded(audio[begin : begin + length], n_in=n_in, fade_out=fade_out)
        slices.append(
            Slice(
                audio=out,
                start_s=begin / sr,
                end_s=(begin + length) / sr,
                onset_strength=strength,
                hit_index=index,
            )
        )
    return slices


def peak_normalize(y: np.ndarray, *, peak_dbfs: float = -1.0) -> np.ndarray:
    """Scale audio so that its highest sample magnitude is ``peak_dbfs``.

    Parameters
    ----------
    y : numpy.ndarray
        Audio of any shape.
    peak_dbfs : float, optional
        Target peak (-1 dBFS, the headroom the bundled kit and the renderer use against
        inter-sample overs after resampling).

    Returns
    -------
    numpy.ndarray
        A float32 copy; digital silence is returned unchanged (there is nothing to scale).
    """
    out = np.array(y, dtype=np.float32, copy=True)
    peak = float(np.max(np.abs(out), initial=0.0))
    if peak > 0.0 and np.isfinite(peak):
        out *= np.float32(10.0 ** (peak_dbfs / 20.0) / peak)
    return out
