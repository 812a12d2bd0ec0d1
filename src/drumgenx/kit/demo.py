"""Demo input audio, synthesized offline from the bundled kit: a song, a loop, found sounds.

``drumgenx demo DIR`` writes what a newcomer's first ``drumgenx run DIR`` needs to show the
whole chain at work, with nothing downloaded:

- ``demo_song.wav``: a played drum part (kick, snare with ghost notes, closed and open hats,
  a tom fill and a crash at every phrase end, human timing and velocities) on the kit's
  voices, mixed *under* a synthesized bed of bass, chord pads and a soft lead, so stage 1
  really has to separate the drums and find the hits inside a mix.
- ``drum_loop.wav``: a drums-only loop at another tempo, exactly two bars long.
- ``found_sounds/``: a door slam, a metal clank and a cardboard tap, to show that any sound
  can take a role.
- ``demo_truth.json``: where every hit is and which kit voice (and role) played it.

Every file is a pure function of the seed: the same seed gives byte-identical files.
Each hit is rendered with its own variation (one of several seeds of the voice, a few cents
of pitch, a velocity-dependent brightness and gain), so the slices stage 1 cuts are not all
copies of one sample, as in a real recording.

The arrangement is written the way a band plays, which also keeps the chain's job fair
when stage 1 falls back to HPSS (no Demucs weights): the bass locks to the kick and, with
the pads, stops for each tom fill; the pads are mostly triangles (detuned saws' beating
upper partials leak into HPSS's percussive part); hats are lighter under the backbeat and
give way to the crash. Measured with HPSS, stage 1 finds about 90 % of the song's hits
within 50 ms, and stage 2 fills CORE (kicks), ACCENT (snares, claps) and MOTION (hats).
"""

from __future__ import annotations

import functools
import itertools
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drumgenx.core.audio import encode_wav
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.events import velocity_gain
from drumgenx.core.formats import dump_json
from drumgenx.core.versioning import write_new_files
from drumgenx.kit.settings import DemoSettings

# The kit's own oscillators and filters (private helpers), so the bed and the found sounds
# are made of the same material as the kit.
from drumgenx.kit.synth import (
    KIT_VOICES,
    _filter,
    _filtered_noise,
    _saw,
    _swept_sine,
    _triangle,
    synthesize_voice,
)

__all__ = [
    "BED_DB",
    "LOOP_BARS",
    "LOOP_BPM",
    "SONG_BARS",
    "SONG_BPM",
    "DemoAudio",
    "Hit",
    "build_demo",
    "found_sounds",
    "loop_duration_s",
    "loop_hits",
    "mix_song",
    "render_bed",
    "render_performance",
    "song_duration_s",
    "song_hits",
]

SONG_BPM = 110.0
SONG_BARS = 12  # three 4-bar phrases, each ending in a tom fill
SONG_TAIL_S = 1.6  # the final crash rings out for as long as the kit's crash lasts
LOOP_BPM = 90.0  # a different tempo from the song: the chain must not assume one
LOOP_BARS = 2
BED_DB = -10.0
"""RMS level of the non-drum bed relative to the drums in the song (dB)."""

SONG_FILE = "demo_song.wav"
LOOP_FILE = "drum_loop.wav"
FOUND_DIR = "found_sounds"
TRUTH_FILE = "demo_truth.json"

_STEPS = 16  # sixteenth notes per 4/4 bar
_PEAK = 10.0 ** (-1.0 / 20.0)  # -1 dBFS, the ceiling the renderer and stage 1 use too
_VARIANTS = 4  # seeds per voice: enough that repeated hits differ, few enough to stay fast
_ROLE = {voice.name: voice.role for voice in KIT_VOICES}
# Constant-power pan positions (-1 left .. 1 right): kick, snare and bass stay centred.
_PAN = {
    "kick": 0.0,
    "snare": -0.05,
    "clap": 0.1,
    "hat_closed": 0.3,
    "hat_open": 0.3,
    "tom_low": -0.35,
    "tom_mid": 0.0,
    "tom_high": 0.35,
    "crash": -0.3,
}
# Where each player sits against the beat (s): a slightly laid-back snare, pushed hats.
_FEEL_S = {"snare": 0.004, "clap": 0.006, "hat_closed": -0.002, "hat_open": -0.002}
# Kick steps per bar of a 4-bar phrase; the last bar leaves room for the tom fill.
_KICK_FIGURES = ((0, 8, 10), (0, 3, 8, 10), (0, 8, 11), (0, 3))
_CHOKE_FADE_S = 0.015  # a closed hat cuts the ringing open hat, as the pedal does
_PAD = 2048  # lead-in discarded after zero-phase filtering (absorbs the FFT wrap-around)


@dataclass(frozen=True)
class Hit:
    """One played drum hit.

    Attributes
    ----------
    time_s : float
        Onset in seconds, human timing included.
    voice : str
        Kit voice name (see `drumgenx.kit.synth.KIT_VOICES`).
    velocity : float
        0..1; the gain is ``velocity_gain(velocity)`` as in the renderer.
    """

    time_s: float
    voice: str
    velocity: float


@dataclass(frozen=True)
class DemoAudio:
    """What `build_demo` wrote.

    Attributes
    ----------
    out_dir : Path
        The folder everything is in.
    song, loop : Path
        ``demo_song.wav`` and ``drum_loop.wav``.
    found_sounds : tuple of Path
        The one-shots in ``found_sounds/``.
    truth : Path
        ``demo_truth.json``.
    """

    out_dir: Path
    song: Path
    loop: Path
    found_sounds: tuple[Path, ...]
    truth: Path

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written, audio first."""
        return (self.song, self.loop, *self.found_sounds, self.truth)


# --------------------------------------------------------------------------------------------
# The performances
# --------------------------------------------------------------------------------------------


def _step_s(bpm: float) -> float:
    return 60.0 / bpm / 4.0


def song_duration_s(*, bpm: float = SONG_BPM, bars: int = SONG_BARS) -> float:
    """Length of ``demo_song.wav``: the bars, a final downbeat and its crash ringing out."""
    return bars * _STEPS * _step_s(bpm) + SONG_TAIL_S


def loop_duration_s(*, bpm: float = LOOP_BPM, bars: int = LOOP_BARS) -> float:
    """Length of ``drum_loop.wav``: exactly its bars, so it loops seamlessly."""
    return bars * _STEPS * _step_s(bpm)


def _humanize(
    notes: list[tuple[int, str, float]],
    *,
    bpm: float,
    rng: np.random.Generator,
    timing_sd_s: float,
    velocity_sd: float,
) -> list[Hit]:
    """Place ``(step, voice, velocity)`` notes in time with a drummer's small inaccuracies."""
    step = _step_s(bpm)
    hits = []
    for index, voice, vel in notes:
        jitter = float(np.clip(rng.normal(0.0, timing_sd_s), -2.5 * timing_sd_s, 2.5 * timing_sd_s))
        t = index * step + _FEEL_S.get(voice, 0.0) + jitter  # may be < 0: callers decide
        v = float(np.clip(vel + rng.normal(0.0, velocity_sd), 0.12, 1.0))
        hits.append(Hit(round(t, 6), voice, round(v, 4)))
    return sorted(hits, key=lambda h: (h.time_s, h.voice))


def _hat_velocity(step: int) -> float:
    """Accented quarters, lighter off-beats, and lighter still under the snare's backbeat."""
    if step in (4, 12):
        return 0.35
    return 0.8 if step % 4 == 0 else 0.65 if step % 2 == 0 else 0.5


def song_hits(*, seed: int = 0, bpm: float = SONG_BPM, bars: int = SONG_BARS) -> list[Hit]:
    """The drum part of ``demo_song.wav``: 4-bar phrases, each ending in a fill.

    Parameters
    ----------
    seed : int
        Drives the ghost notes, the sixteenths of the second phrase, timing and velocities.
    bpm : float
        Tempo.
    bars : int
        Bars played; a final crash and kick land on the downbeat after them.

    Returns
    -------
    list of Hit
        Sorted by time.
    """
    rng = np.random.default_rng([seed, 1])
    notes: list[tuple[int, str, float]] = []
    for bar in range(bars):
        at = bar * _STEPS
        phrase, pos = divmod(bar, 4)
        fill = pos == 3
        if pos == 0:
            notes.append((at, "crash", 0.85))
        notes += [(at + s, "kick", 0.95 if s in (0, 8) else 0.8) for s in _KICK_FIGURES[pos]]
        # Backbeat: snare, a clap instead in the second phrase, both layered in the third.
        backbeats = [4] if fill else [4, 12]
        for s in backbeats:
            if phrase == 1 and s == 12:
                notes.append((at + s, "clap", 0.9))
            else:
                notes.append((at + s, "snare", 0.95))
                if phrase == 2:
                    notes.append((at + s, "clap", 0.7))
        for s in (7, 9) if fill else (7, 9, 15):
            if rng.random() < 0.4:
                notes.append((at + s, "snare", 0.3))  # ghost note
        # Hats: eighths, sixteenths from the second phrase on; quarters accented.
        hat_steps = range(0, _STEPS, 2 if phrase == 0 else 1)
        for s in hat_steps:
            if fill and s >= 8:
                break  # hands move to the toms
            if phrase == 1 and s % 2 and rng.random() < 0.5:
                continue  # sparse sixteenths first
            if pos == 1 and s == 14:
                notes.append((at + s, "hat_open", 0.75))
                continue
            if (pos == 1 and s == 15) or (pos == 0 and s == 0):
                continue  # the open hat rings to the downbeat; the crash takes the hand
            notes.append((at + s, "hat_closed", _hat_velocity(s)))
        if fill:  # eighth-note toms down the kit, each ringing until the next
            for s, tom in ((8, "tom_high"), (10, "tom_high"), (12, "tom_mid"), (14, "tom_low")):
                notes.append((at + s, tom, 0.85 if s in (8, 14) else 0.75))
    notes += [(bars * _STEPS, "crash", 0.9), (bars * _STEPS, "kick", 1.0)]
    hits = _humanize(notes, bpm=bpm, rng=rng, timing_sd_s=0.005, velocity_sd=0.05)
    return [Hit(max(0.0, h.time_s), h.voice, h.velocity) for h in hits]  # nothing before 0


def loop_hits(*, seed: int = 0, bpm: float = LOOP_BPM, bars: int = LOOP_BARS) -> list[Hit]:
    """The drum part of ``drum_loop.wav``: a sixteenth-hat groove with a short tom pickup.

    Parameters
    ----------
    seed : int
        Drives timing and velocities.
    bpm : float
        Tempo.
    bars : int
        Bars in the loop.

    Returns
    -------
    list of Hit
        Sorted by time, all within ``[0, loop_duration_s(bpm=bpm, bars=bars))``.
    """
    rng = np.random.default_rng([seed, 3])
    notes: list[tuple[int, str, float]] = [(0, "crash", 0.8)]
    for bar in range(bars):
        at = bar * _STEPS
        last = bar == bars - 1
        notes += [(at + s, "kick", v) for s, v in ((0, 1.0), (7, 0.75), (10, 0.9))]
        notes += [(at + 4, "snare", 0.95), (at + 12, "clap" if last else "snare", 0.95)]
        notes.append((at + 14, "snare", 0.28))  # ghost
        for s in range(13 if last else _STEPS):
            if not last and s == 6:
                notes.append((at + s, "hat_open", 0.7))
            elif not (not last and s == 7) and not (bar == 0 and s == 0):
                notes.append((at + s, "hat_closed", _hat_velocity(s) - 0.05))
        if last:
            notes += [(at + 13, "tom_high", 0.75), (at + 14, "tom_mid", 0.8)]
            notes.append((at + 15, "tom_low", 0.85))
    hits = _humanize(notes, bpm=bpm, rng=rng, timing_sd_s=0.004, velocity_sd=0.04)
    # A loop is cut at its downbeat: an early first hit is moved onto the cut, not wrapped to
    # the end (where stage 1 would slice a few milliseconds of it as a hit of its own).
    return [Hit(max(0.0, h.time_s), h.voice, h.velocity) for h in hits]


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _pan_gains(pan: float) -> tuple[float, float]:
    angle = (pan + 1.0) * math.pi / 4.0
    return math.cos(angle), math.sin(angle)


def _one_pole_lowpass(x: np.ndarray, cutoff: float, sr: int) -> np.ndarray:
    """Causal 6 dB/octave low-pass: darkens a hit without smearing its attack forwards.

    Applied as the one-pole's frequency response on a zero-padded FFT, long enough that
    its impulse response (decaying as ``a ** n``) never wraps around.
    """
    import scipy.fft  # as stage 1 uses; scipy.signal would cost a second just to import

    a = math.exp(-2.0 * math.pi * cutoff / sr)
    tail = math.ceil(math.log(1e-9) / math.log(a))
    n = scipy.fft.next_fast_len(len(x) + tail, real=True)
    w = 2.0 * np.pi * np.arange(n // 2 + 1) / n
    response = (1.0 - a) / (1.0 - a * np.exp(-1j * w))
    return scipy.fft.irfft(scipy.fft.rfft(x, n) * response, n)[: len(x)].astype(np.float32)


@functools.lru_cache(maxsize=128)
def _voice(name: str, sr: int, seed: int) -> np.ndarray:
    """A kit voice, synthesized once per process (the song, the loop and later builds share
    it; synthesis is deterministic, so caching never changes a file)."""
    y = synthesize_voice(name, sr=sr, seed=seed)
    y.flags.writeable = False  # shared between calls
    return y


def _repitch(x: np.ndarray, cents: float) -> np.ndarray:
    """Play ``x`` ``cents`` higher (shorter) by linear-interpolation resampling."""
    ratio = 2.0 ** (cents / 1200.0)
    n = max(2, int(len(x) / ratio))
    return np.interp(np.arange(n) * ratio, np.arange(len(x)), x).astype(np.float32)


def _choke_times(hits: Sequence[Hit]) -> dict[int, float]:
    """For each open-hat hit (by index), when the next hat hit cuts it."""
    hats = [i for i, h in enumerate(hits) if h.voice in ("hat_closed", "hat_open")]
    return {i: hits[j].time_s for i, j in itertools.pairwise(hats) if hits[i].voice == "hat_open"}


def render_performance(
    hits: Sequence[Hit],
    *,
    duration_s: float,
    sr: int = 44100,
    seed: int = 0,
    loop: bool = False,
) -> np.ndarray:
    """Render drum hits on the bundled kit's voices, each hit a little different.

    Parameters
    ----------
    hits : sequence of Hit
        What to play (any order).
    duration_s : float
        Length of the output; tails past it are cut, or wrapped to the start if ``loop``.
    sr : int
        Sample rate.
    seed : int
        Drives each hit's variation (voice seed, pitch, brightness, gain).
    loop : bool
        Wrap tails around the end, for a seamless loop.

    Returns
    -------
    numpy.ndarray
        ``(frames, 2)`` float32, not normalized (a velocity-1 hit peaks near -4 dBFS per
        channel at centre pan).
    """
    rng = np.random.default_rng([seed, 5])
    frames = round(duration_s * sr)
    out = np.zeros((frames, 2), dtype=np.float32)
    chokes = _choke_times(hits)
    for index, hit in enumerate(hits):
        variant = int(rng.integers(_VARIANTS))
        y = _voice(hit.voice, sr, seed * _VARIANTS + variant)
        y = _repitch(y, float(np.clip(rng.normal(0.0, 12.0), -30.0, 30.0)))
        # Softer hits are darker, as a drum head or a cymbal struck lightly is.
        cutoff = 1500.0 * 2.0 ** (5.0 * hit.velocity)
        if cutoff < 0.45 * sr:
            y = _one_pole_lowpass(y, cutoff, sr)
        gain = float(velocity_gain(hit.velocity)) * 10.0 ** (rng.normal(0.0, 0.5) / 20.0)
        y = y * np.float32(gain)
        if index in chokes:
            keep = max(1, round((chokes[index] - hit.time_s) * sr))
            if keep < len(y):
                fade = min(keep, round(_CHOKE_FADE_S * sr))
                y = y[:keep].copy()
                y[keep - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        left, right = _pan_gains(_PAN.get(hit.voice, 0.0))
        stereo = np.stack([y * np.float32(left), y * np.float32(right)], axis=1)
        start = round(hit.time_s * sr)
        if loop:
            pos, rest = start % frames, stereo
            while len(rest):  # tails past the end sound at the start when the loop repeats
                n = min(len(rest), frames - pos)
                out[pos : pos + n] += rest[:n]
                rest, pos = rest[n:], 0
        elif start < frames:
            n = min(len(stereo), frames - start)
            out[start : start + n] += stereo[:n]
    return out


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


# A minor: Am, F, C, G, one chord a bar. Pad voicings (MIDI notes) and bass roots.
_CHORDS = ((57, 60, 64), (53, 57, 60), (55, 60, 64), (55, 59, 62))
_BASS_ROOTS = (33, 29, 36, 31)
# (step, octave up?) of the bass figure, per bar of the phrase: the bass locks to the kick
# (`_KICK_FIGURES`), as bass players do; each note lasts until just before the next one.
_BASS_FIGURES = (
    ((0, 0), (8, 0), (10, 0)),
    ((0, 0), (3, 0), (8, 0), (10, 1)),
    ((0, 0), (8, 0), (11, 0)),
    ((0, 0), (3, 1), (8, None)),  # None: a rest; the bass leaves room for the tom fill
)
# The lead: (bar in the 4-bar cycle, step, MIDI note, length in steps); A minor pentatonic.
_LEAD = (
    (0, 0, 76, 6), (0, 6, 74, 2), (0, 8, 72, 8),
    (1, 0, 69, 6), (1, 6, 72, 2), (1, 8, 74, 8),
    (2, 0, 76, 4), (2, 4, 79, 4), (2, 8, 76, 8),
    (3, 0, 74, 8), (3, 8, 72, 4), (3, 12, 69, 4),
)  # fmt: skip


def _raised_cosine_env(n: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(n)
    attack, release = min(attack, n), min(release, n)
    env[:attack] = 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / max(attack, 1))
    if release:
        env[n - release :] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(release) / release)
    return env


def _add(track: np.ndarray, start: int, y: np.ndarray) -> None:
    n = min(len(y), len(track) - start)
    if n > 0:
        track[start : start + n] += y[:n]


def _bass(frames: int, sr: int, bpm: float, bars: int, rng: np.random.Generator) -> np.ndarray:
    """Mono bass: saw plus sub sine, a decaying filter envelope per note."""
    step = _step_s(bpm)
    track = np.zeros(frames)
    notes: list[tuple[int, int | None]] = [
        (bar * _STEPS + s, None if up is None else _BASS_ROOTS[bar % 4] + 12 * up)
        for bar in range(bars)
        for s, up in _BASS_FIGURES[bar % 4]
    ]
    notes.append((bars * _STEPS, _BASS_ROOTS[0]))  # the last note, under the final crash
    # One filtered saw per pitch, twice (dark and bright), filtered while stationary; each
    # note cuts its piece out at a random point, which also randomizes its start phase.
    longest = round((SONG_TAIL_S + 1.0) * sr)
    sources: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for note in sorted({note for _, note in notes if note is not None}):
        saw = _saw(_midi_hz(note), longest + _PAD, sr)
        sources[note] = (
            _filter(saw, sr, lowpass=220.0, order=2)[_PAD:],
            _filter(saw, sr, lowpass=600.0, order=2)[_PAD:],
        )
    for k, (at, note) in enumerate(notes):
        if note is None:
            continue
        length_s = (notes[k + 1][0] - at) * step - 0.01 if k + 1 < len(notes) else SONG_TAIL_S
        n = round(length_s * sr)
        t = np.arange(n) / sr
        offset = int(rng.integers(longest - n + 1))
        dark, bright = (x[offset : offset + n] for x in sources[note])
        sweep = np.exp(-t / 0.12)  # filter envelope: the note opens, then closes
        sub = np.sin(2.0 * np.pi * _midi_hz(note) * t)
        tone = dark * (1.0 - sweep) + bright * sweep + sub
        amp = 0.65 + 0.35 * np.exp(-t / 0.15)
        env = _raised_cosine_env(n, round(0.015 * sr), round(0.02 * sr))
        vel = 0.85 + 0.15 * rng.random()
        _add(track, round(at * step * sr), vel * tone * amp * env)
    return track


def _pad_chord(notes: Sequence[int], n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One chord as ``(n, 2)``: detuned triangles with a little saw, each channel its own
    phases (stereo width).

    Mostly triangles: the beating of detuned saws' many upper partials reads as percussive
    to HPSS and would leak into the drum stem far more than a real pad does under Demucs.
    """
    detune = 2.0 ** (8.0 / 1200.0)
    out = np.zeros((n, 2))
    for channel in range(2):
        tone = np.zeros(n + _PAD)
        for note in notes:
            for ratio in (1.0 / detune, detune):
                freq = _midi_hz(note) * ratio
                tone += _triangle(freq, n + _PAD, sr, phase0=float(rng.random()))
            tone += 0.25 * _saw(_midi_hz(note), n + _PAD, sr, phase0=float(rng.random()))
        root = _midi_hz(notes[0] - 12)
        tone += 1.2 * _triangle(root, n + _PAD, sr, phase0=float(rng.random()))
        out[:, channel] = _filter(tone, sr, lowpass=1300.0, order=2)[_PAD:]
    return out


def _lead(frames: int, sr: int, bpm: float, bars: int, rng: np.random.Generator) -> np.ndarray:
    """Mono soft lead from the second phrase on: sine and two harmonics, slow attack,
    gentle vibrato."""
    step = _step_s(bpm)
    track = np.zeros(frames)
    for bar in range(bars // 3, bars):
        for cycle_bar, s, note, length in _LEAD:
            if bar % 4 != cycle_bar:
                continue
            n = round(length * step * sr)
            t = np.arange(n) / sr
            freq = _midi_hz(note)
            vibrato = 1.0 + 0.004 * np.sin(2.0 * np.pi * 5.0 * t) * np.minimum(1.0, t / 0.3)
            phase = 2.0 * np.pi * np.cumsum(freq * vibrato) / sr + rng.random() * 2.0 * np.pi
            tone = np.sin(phase) + 0.3 * np.sin(2.0 * phase) + 0.1 * np.sin(3.0 * phase)
            env = _raised_cosine_env(n, round(0.04 * sr), round(0.08 * sr))
            _add(track, round((bar * _STEPS + s) * step * sr), tone * env)
    return track


def render_bed(
    *,
    duration_s: float,
    sr: int = 44100,
    seed: int = 0,
    bpm: float = SONG_BPM,
    bars: int = SONG_BARS,
) -> np.ndarray:
    """The song's non-drum bed: a bass line, chord pads and (later) a soft lead.

    Parameters
    ----------
    duration_s : float
        Length of the output.
    sr : int
        Sample rate.
    seed : int
        Drives oscillator phases and note velocities.
    bpm, bars : float, int
        The song's tempo and length; a last chord rings out after ``bars``.

    Returns
    -------
    numpy.ndarray
        ``(frames, 2)`` float32 at an arbitrary level (`mix_song` sets it).
    """
    rng = np.random.default_rng([seed, 2])
    frames = round(duration_s * sr)
    bar_frames = round(_STEPS * _step_s(bpm) * sr)
    bass = _bass(frames, sr, bpm, bars, rng)
    pads = np.zeros((frames, 2))
    overlap = round(0.3 * sr)  # chords crossfade instead of stopping dead
    longest = max(bar_frames + overlap, frames - bars * bar_frames)
    # Each chord is synthesized once and replayed, as a sequenced synth pad would be.
    chords = [_pad_chord(notes, longest, sr, rng) for notes in _CHORDS]
    for bar in range(bars + 1):
        last = bar == bars
        n = (frames - bar * bar_frames) if last else bar_frames + overlap
        if bar % 4 == 3 and not last:
            n = bar_frames // 2 + overlap  # the band stops for the drum fill (beats 3 and 4)
        if n <= 0:
            break
        chord = chords[bar % 4][:n]
        attack = round((0.25 if bar == 0 else 0.3) * sr)
        release = n if last else overlap
        env = _raised_cosine_env(n, attack, release)
        start = bar * bar_frames
        m = min(n, frames - start)
        pads[start : start + m] += (chord * env[:, None])[:m]
    pads /= max(float(np.sqrt(np.mean(pads**2))), 1e-12)
    bass /= max(float(np.sqrt(np.mean(bass**2))), 1e-12)
    lead = _lead(frames, sr, bpm, bars, rng)
    lead /= max(float(np.sqrt(np.mean(lead**2))), 1e-12)
    # Bass carries the bed; the pads sit a little under it, the lead further still.
    bed = 0.45 * pads
    bed += (0.7 * bass)[:, None] * np.array(_pan_gains(0.0)) * math.sqrt(2.0)
    lead_l, lead_r = _pan_gains(-0.2)
    bed += 0.2 * lead[:, None] * np.array([lead_l, lead_r]) * math.sqrt(2.0)
    return bed.astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _normalize(x: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(x)))
    return (x * (_PEAK / peak) if peak > 0 else x).astype(np.float32)


def mix_song(drums: np.ndarray, bed: np.ndarray, *, bed_db: float = BED_DB) -> np.ndarray:
    """Drums plus the bed at ``bed_db`` (RMS, relative to the drums), peak -1 dBFS."""
    scale = _rms(drums) / max(_rms(bed), 1e-12) * 10.0 ** (bed_db / 20.0)
    return _normalize(drums + np.float32(scale) * bed)


# --------------------------------------------------------------------------------------------
# Found sounds
# --------------------------------------------------------------------------------------------

_FOUND_LEAD_S = 0.01  # a little silence before each found sound, as a recording would have


def _door_slam(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A heavy door: a low boom of wood and air, a short knock, a latch click."""
    n = round(0.6 * sr)
    t = np.arange(n) / sr
    boom = _swept_sine(100.0, 48.0, 0.04, t, sr) * np.exp(-t / 0.12)
    air = _filtered_noise(n, sr, rng, highpass=30.0, lowpass=180.0) * np.exp(-t / 0.05)
    knock = _filtered_noise(n, sr, rng, highpass=200.0, lowpass=1200.0) * np.exp(-t / 0.015)
    # The latch: a bright click just after the impact, within one perceived onset. No long
    # noisy room tail: its flicker would read as extra hits.
    latch_t = np.maximum(t - 0.006, 0.0)
    latch = _filtered_noise(n, sr, rng, highpass=2500.0, lowpass=9000.0) * np.exp(-latch_t / 0.004)
    latch *= t >= 0.006
    return boom + 0.8 * air + 0.25 * knock + 0.12 * latch


def _metal_clank(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A struck bin lid: a cloud of inharmonic high partials, each ringing its own time."""
    n = round(0.8 * sr)
    t = np.arange(n) / sr
    out = 0.3 * np.sin(2 * np.pi * 620.0 * t) * np.exp(-t / 0.2)  # the lid's lowest mode
    for freq in np.exp(rng.uniform(np.log(2500.0), np.log(11000.0), 24)):
        tau = rng.uniform(0.05, 0.25)
        phase = rng.uniform(0.0, 2.0 * np.pi)
        out += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * freq * t + phase) * np.exp(-t / tau)
    strike = _filtered_noise(n, sr, rng, highpass=3000.0) * np.exp(-t / 0.003)
    return 0.4 * out + 0.8 * strike


def _cardboard_tap(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A knuckle on a cardboard box: a dull noise tap and the box's two resonances."""
    n = round(0.35 * sr)
    t = np.arange(n) / sr
    tap = _filtered_noise(n, sr, rng, highpass=250.0, lowpass=2500.0) * np.exp(-t / 0.012)
    box = np.sin(2 * np.pi * 165.0 * t) * np.exp(-t / 0.035)
    box += 0.5 * np.sin(2 * np.pi * 430.0 * t) * np.exp(-t / 0.018)
    return tap + 0.8 * box


_FOUND = {"door_slam": _door_slam, "metal_clank": _metal_clank, "cardboard_tap": _cardboard_tap}


def found_sounds(*, sr: int = 44100, seed: int = 0) -> dict[str, np.ndarray]:
    """The found-sound one-shots: ``{name: mono float32}``, peak -1 dBFS.

    Each starts with 10 ms of silence and a 0.5 ms fade-in, and fades out to exact zero.
    """
    out = {}
    for name, make in _FOUND.items():
        rng = np.random.default_rng([seed, 4, zlib.crc32(name.encode("utf-8"))])
        y = make(sr, rng)
        n_in, n_out = max(1, round(0.0005 * sr)), max(2, len(y) // 10)
        y[:n_in] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(n_in) / n_in)
        y[-n_out:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(n_out) / (n_out - 1))
        out[name] = _normalize(np.concatenate([np.zeros(round(_FOUND_LEAD_S * sr)), y]))
    return out


# --------------------------------------------------------------------------------------------
# The files
# --------------------------------------------------------------------------------------------


def _hit_records(hits: Sequence[Hit], sr: int) -> list[dict[str, object]]:
    # Times as rendered: rounded to the sample the hit starts on.
    return [
        {
            "time_s": round(round(h.time_s * sr) / sr, 6),
            "voice": h.voice,
            "role": _ROLE[h.voice],
            "velocity": h.velocity,
        }
        for h in hits
    ]


def build_demo(out_dir: str | Path, *, seed: int = DemoSettings.seed, sr: int = 44100) -> DemoAudio:
    """Write the demo audio and its ground truth into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Created if needed. No file in it is ever replaced.
    seed : int
        Non-negative; the same seed gives byte-identical files.
    sr : int
        Sample rate of every file (at least 22050, so the hats keep their sheen).

    Returns
    -------
    DemoAudio
        The paths written.

    Raises
    ------
    DrumgenxError
        A bad seed or rate, a target file that already exists (then nothing is written), or
        a folder that cannot be created or written.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DrumgenxError(f"demo seed must be a non-negative integer, got {seed!r}")
    if sr < 22050:
        raise DrumgenxError(f"demo sample rate must be at least 22050 Hz, got {sr}")
    out_dir = Path(out_dir)
    song_path, loop_path = out_dir / SONG_FILE, out_dir / LOOP_FILE
    found_paths = {name: out_dir / FOUND_DIR / f"{name}.wav" for name in _FOUND}
    truth_path = out_dir / TRUTH_FILE
    targets = [song_path, loop_path, *found_paths.values(), truth_path]
    existing = [p for p in targets if p.exists()]
    if existing:  # checked up front so no time is spent rendering; write_new_files rechecks
        raise DrumgenxError(
            f"{existing[0]} already exists; the demo never overwrites (use a new folder)"
        )
    try:
        (out_dir / FOUND_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DrumgenxError(f"cannot create {out_dir / FOUND_DIR}: {exc.strerror}") from None

    song_s = song_duration_s()
    drums_song = song_hits(seed=seed)
    song = mix_song(
        render_performance(drums_song, duration_s=song_s, sr=sr, seed=seed),
        render_bed(duration_s=song_s, sr=sr, seed=seed),
    )
    loop_s = loop_duration_s()
    drums_loop = loop_hits(seed=seed)
    # seed + 1: the loop gets its own voice seeds, so its samples are not the song's.
    loop = _normalize(
        render_performance(drums_loop, duration_s=loop_s, sr=sr, seed=seed + 1, loop=True)
    )
    found = found_sounds(sr=sr, seed=seed)

    truth = {
        "seed": seed,
        "sr": sr,
        "files": {
            SONG_FILE: {
                "bpm": SONG_BPM,
                "bars": SONG_BARS,
                "duration_s": round(len(song) / sr, 6),
                "bed": "bass, chord pads and a soft lead (no drums), "
                f"{BED_DB:g} dB RMS under the drums",
                "hits": _hit_records(drums_song, sr),
            },
            LOOP_FILE: {
                "bpm": LOOP_BPM,
                "bars": LOOP_BARS,
                "duration_s": round(len(loop) / sr, 6),
                "hits": _hit_records(drums_loop, sr),
            },
            **{
                f"{FOUND_DIR}/{name}.wav": {
                    "duration_s": round(len(y) / sr, 6),
                    # Not a kit voice: which role it takes is stage 2's call.
                    "hits": [{"time_s": _FOUND_LEAD_S, "voice": name, "role": None}],
                }
                for name, y in found.items()
            },
        },
    }
    contents = {
        song_path: encode_wav(song, sr),
        loop_path: encode_wav(loop, sr),
        **{found_paths[name]: encode_wav(y, sr) for name, y in found.items()},
        truth_path: dump_json(truth),
    }
    write_new_files(contents)
    return DemoAudio(
        out_dir=out_dir,
        song=song_path,
        loop=loop_path,
        found_sounds=tuple(found_paths.values()),
        truth=truth_path,
    )
