"""Mix events into audio: the renderer.

Pure function of (events, grid, decoded samples); no disk. The mix is a loop over hits of
vectorised slice-adds (memory-bound), never a Python loop over samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from drumgenx.core.audio import resample
from drumgenx.core.events import velocity_gain
from drumgenx.core.records import Event, Grid
from drumgenx.render.settings import RenderSettings
from drumgenx.render.timing import check_swing, loop_frames, onset_seconds

RELEASE_MS = (
    10.0  # fade after dur_steps: short enough to keep steps tight, long enough to not click
)
TEXTURE_CROSSFADE_MS = 20.0  # where a held TEXTURE sample repeats to fill its length
CEILING_DBFS = -1.0  # peak ceiling: headroom for lossy encoders' inter-sample peaks


@dataclass
class Mix:
    """A rendered mix: ``audio`` is ``(frames, channels)`` float32 within the ceiling."""

    audio: np.ndarray
    sr: int
    loop_frames: int  # frames of the loop itself; audio is longer only with tails kept
    gain_db: float  # safety gain applied to stay under the ceiling (0.0 if none)


def _fade_out(n: int) -> np.ndarray:
    return (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float32)))[:, None]


def _hold(y: np.ndarray, frames: int, crossfade: int) -> np.ndarray:
    """Repeat ``y`` with crossfades until it lasts ``frames`` (a TEXTURE holds its length)."""
    if len(y) >= frames or len(y) <= 2 * crossfade:
        return y
    # Every repeat after the first is the same: y's head cross-faded with y's tail, then the
    # rest of y. Built once and tiled, so a long hold costs linear time, not quadratic.
    fade_in = 1.0 - _fade_out(crossfade)
    joint = y[:crossfade] * fade_in + y[-crossfade:] * (1.0 - fade_in)
    period = np.concatenate([joint, y[crossfade:-crossfade]])
    repeats = -(-(frames - len(y)) // len(period))
    tail = y[-crossfade:]
    body = np.concatenate([y[:-crossfade], np.tile(period, (repeats, 1))])
    # the last repeat ends with y's own tail, as the loop version did
    out = np.concatenate([body, tail])
    return out


def shape_voice(
    y: np.ndarray, *, dur_frames: int, release_frames: int, hold: bool, crossfade_frames: int
) -> np.ndarray:
    """Gate a sample to ``dur_frames`` plus a raised-cosine release; hold it if ``hold``."""
    if hold:
        y = _hold(y, dur_frames + release_frames, crossfade_frames)
    if len(y) <= dur_frames:
        return y
    end = min(len(y), dur_frames + release_frames)
    out = y[:end].copy()
    out[dur_frames:] *= _fade_out(release_frames)[: end - dur_frames]
    return out


def render_events(
    events: list[Event],
    grid: Grid,
    samples: Mapping[str, tuple[np.ndarray, int]],
    *,
    sr: int = RenderSettings.sr,
    swing: float = RenderSettings.swing,
    loop: bool = RenderSettings.loop,
    release_ms: float = RELEASE_MS,
    ceiling_dbfs: float = CEILING_DBFS,
) -> Mix:
    """Mix ``events`` on ``grid`` with the decoded ``samples``.

    Parameters
    ----------
    events, grid
        What to play and when. Events whose sample is absent from ``samples`` are silent
        (the caller decides whether that is an error).
    samples
        ``{sample_id: (audio (frames, channels), rate)}``; resampled to ``sr`` with soxr.
    sr
        Output rate (default `RenderSettings.sr`: 44100, the seed's ``--render_sr``).
    swing
        Off-beat 16th delay in steps, 0..0.75 (see `render.timing`; default 0, straight).
    loop
        True (default, `RenderSettings.loop`): the output is exactly one loop long,
        `render.timing.loop_frames` samples, and whatever rings past the end is added onto
        the start (more than once for a sample longer than the loop), for a seamless loop;
        a hit pulled before the start wraps to the end. It is the ``loop=False`` render
        folded onto one loop length, so no sample is lost. False (``--tails``): tails are
        kept after the loop end and a hit pulled before the start plays at 0.
    release_ms
        Fade after each hit's ``dur_steps``; TEXTURE hits hold their whole length.
    ceiling_dbfs
        Peak ceiling; a louder mix is scaled down as a whole (never clipped).
    """
    check_swing(swing)
    n_loop = loop_frames(grid, sr=sr)
    release = max(1, round(release_ms * sr / 1000.0))
    crossfade = round(TEXTURE_CROSSFADE_MS * sr / 1000.0)
    at_rate = {sid: resample(y, rate, sr) for sid, (y, rate) in samples.items()}
    channels = min(2, max((y.shape[1] for y in at_rate.values()), default=1))

    voices: dict[tuple[str, int, bool], np.ndarray] = {}
    hits: list[tuple[int, float, np.ndarray]] = []
    for event in events:
        if event.sample_id not in at_rate:
            continue
        dur = round(event.dur_steps * grid.tstep * sr)
        key = (event.sample_id, dur, event.role == "TEXTURE")
        if key not in voices:
            y = at_rate[event.sample_id]
            y = y[:, :2] if y.shape[1] >= channels else np.repeat(y, channels, axis=1)
            voices[key] = shape_voice(
                y, dur_frames=dur, release_frames=release, hold=key[2], crossfade_frames=crossfade
            )
        start = round(onset_seconds(event, grid, swing=swing) * sr)
        hits.append((start, float(velocity_gain(event.vel)), voices[key]))

    if loop:
        out = np.zeros((n_loop, channels), dtype=np.float32)
        for start, gain, voice in hits:
            pos, rest = start % n_loop, voice
            while len(rest):  # wrap tails (and early hits) around the loop
                n = min(len(rest), n_loop - pos)
                out[pos : pos + n] += gain * rest[:n]
                rest, pos = rest[n:], 0
    else:
        hits = [(max(0, start), gain, voice) for start, gain, voice in hits]
        frames = max([n_loop] + [start + len(voice) for start, _, voice in hits])
        out = np.zeros((frames, channels), dtype=np.float32)
        for start, gain, voice in hits:
            out[start : start + len(voice)] += gain * voice

    ceiling = 10.0 ** (ceiling_dbfs / 20.0)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    gain_db = 0.0
    if peak > ceiling:
        out *= ceiling / peak
        gain_db = 20.0 * np.log10(ceiling / peak)
    return Mix(audio=out, sr=sr, loop_frames=n_loop, gain_db=gain_db)
