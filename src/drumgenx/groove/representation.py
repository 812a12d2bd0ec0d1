"""Drum performances as GrooVAE sees them: hits, velocities and offsets on a 16th-note grid.

The representation of Magenta's ``GrooveConverter`` (``magenta/models/music_vae/data.py``):
per 16th-note step and per drum class, a hit (0/1), a velocity (0..1, MIDI velocity / 127)
and a timing offset in steps (-0.5..0.5), the velocity and the offset zero where there is no
hit. Nine classes, Magenta's ``ROLAND_DRUM_PITCH_CLASSES``; one note per step and class, the
loudest, as Magenta keeps it. Models see 2-bar windows of 32 steps.

Two conventions differ from Magenta's code, on purpose:

- **Offset sign**: positive is *late* (the note sounds after its grid step), as
  ``micro_offset_ms`` in the event grids. Magenta stores ``(grid - onset) / step``, positive
  early. The model tensors (`groove_to_tensor`) keep Magenta's scaling (offset x 2, so
  -1..1 for ``tanh``) with our sign.
- **Time base**: notes are placed on the grid by their MIDI tick (quarter notes), not by
  seconds at the first tempo. For GMD's single-tempo files the two are the same; a file with
  tempo changes still lands on its bars. `midi_to_groove` returns the first tempo's bpm, which
  turns offsets into milliseconds.

Numpy and mido only: no torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from drumgenx.core.errors import DrumgenxError

STEPS_PER_BAR = 16  # 16th notes in 4/4: Magenta steps_per_quarter=4, quarters_per_bar=4
WINDOW_BARS = 2  # groovae_2bar_*: split_bars=2
WINDOW_STEPS = STEPS_PER_BAR * WINDOW_BARS  # max_seq_len 16 * 2
NUM_CLASSES = 9
DEPTH = 3 * NUM_CLASSES  # per step: 9 hits, 9 velocities, 9 offsets (Magenta's layout)

# Magenta's 9 classes (data.py, ROLAND_DRUM_PITCH_CLASSES, Roland TD-11 / GM pitches), in order.
DRUM_CLASSES: tuple[str, ...] = (
    "kick",
    "snare",
    "closed_hihat",
    "open_hihat",
    "low_tom",
    "mid_tom",
    "high_tom",
    "crash",
    "ride",
)
CLASS_PITCHES: tuple[tuple[int, ...], ...] = (
    (36,),
    (38, 37, 40),
    (42, 22, 44),
    (46, 26),
    (43, 58),
    (47, 45),
    (50, 48),
    (49, 52, 55, 57),
    (51, 53, 59),
)
# Magenta's from_tensors writes each class as its first pitch: all General MIDI drum keys.
CLASS_OUTPUT_PITCH: tuple[int, ...] = tuple(pitches[0] for pitches in CLASS_PITCHES)
PITCH_TO_CLASS: dict[int, int] = {p: c for c, ps in enumerate(CLASS_PITCHES) for p in ps}

DEFAULT_BPM = 120.0  # a MIDI file without a tempo event plays at 500,000 µs per quarter
DRUM_CHANNEL = 9  # General MIDI percussion, channel 10 counted from 1
TICKS_PER_BEAT = 480  # what groove_to_midi writes: 1/120 step, ~1 ms at 120 bpm
NOTE_STEPS = 0.5  # written note length (drums ignore it), shortened before the next same note


class GrooveFileError(DrumgenxError):
    """A MIDI file that cannot be read or holds no drum notes of the nine classes."""


@dataclass(frozen=True)
class Groove:
    """A drum performance on the 16th-note grid: three float32 arrays of shape (steps, 9).

    Attributes
    ----------
    hits : numpy.ndarray
        1 where a class is struck on a step, else 0.
    velocities : numpy.ndarray
        MIDI velocity / 127 (0..1) of each hit; 0 where there is no hit.
    offsets : numpy.ndarray
        Where each hit sounds relative to its step, in steps (-0.5..0.5, positive late);
        0 where there is no hit.

    The arrays are copied to read-only float32 on construction and checked: a groove that
    breaks these rules raises ``ValueError``.
    """

    hits: np.ndarray
    velocities: np.ndarray
    offsets: np.ndarray

    def __post_init__(self) -> None:
        arrays = {}
        for name in ("hits", "velocities", "offsets"):
            a = np.array(getattr(self, name), dtype=np.float32)  # a copy: frozen means frozen
            if a.ndim != 2 or a.shape[1] != NUM_CLASSES:
                raise ValueError(f"Groove.{name} must have shape (steps, 9), got {a.shape}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"Groove.{name} has NaN or infinite values")
            a.setflags(write=False)
            object.__setattr__(self, name, a)
            arrays[name] = a
        hits, velocities, offsets = arrays["hits"], arrays["velocities"], arrays["offsets"]
        if not hits.shape == velocities.shape == offsets.shape:
            raise ValueError(
                f"Groove arrays differ in shape: {hits.shape}, {velocities.shape}, {offsets.shape}"
            )
        if not np.all((hits == 0) | (hits == 1)):
            raise ValueError("Groove.hits must be 0 or 1")
        if velocities.min(initial=0) < 0 or velocities.max(initial=0) > 1:
            raise ValueError("Groove.velocities must lie in [0, 1]")
        if offsets.min(initial=0) < -0.5 or offsets.max(initial=0) > 0.5:
            raise ValueError("Groove.offsets must lie in [-0.5, 0.5] steps")
        if np.any((hits == 0) & ((velocities != 0) | (offsets != 0))):
            raise ValueError("Groove velocities and offsets must be 0 where there is no hit")

    @property
    def steps(self) -> int:
        """Number of 16th-note steps."""
        return int(self.hits.shape[0])


def midi_to_groove(
    source: str | Path | mido.MidiFile, *, steps_per_bar: int = STEPS_PER_BAR
) -> tuple[Groove, float]:
    """Read a drum MIDI file onto the grid, as Magenta's ``GrooveConverter.to_tensors``.

    Parameters
    ----------
    source : str, Path or mido.MidiFile
        The file. Notes of every channel count when their pitch is in `CLASS_PITCHES`;
        other pitches are ignored.
    steps_per_bar : int
        Grid steps per 4/4 bar (default 16: Magenta's 4 steps per quarter).

    Returns
    -------
    groove : Groove
        Each note goes to its nearest step (half a step rounds up, as note-seq's
        quantizer); the offset is the rest, in steps, positive late. Of several notes of
        one class on one step the loudest is kept (Magenta's ``_get_feature``). The length is
        padded to whole bars after the last note (Magenta pads to the end of the bar).
    bpm : float
        The file's first tempo (120 when it has none).

    Raises
    ------
    GrooveFileError
        The file cannot be read, or has no note of the nine classes.
    """
    midi = _open_midi(source)
    if midi.type == 2:
        raise GrooveFileError(f"{_name(source)}: MIDI type 2 (independent tracks) is not read")
    step_ticks = midi.ticks_per_beat * 4 / steps_per_bar
    tempo: tuple[int, int] | None = None
    cells: dict[tuple[int, int], tuple[int, float]] = {}  # (step, class) -> (velocity, offset)
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "set_tempo" and (tempo is None or tick < tempo[0]):
                tempo = (tick, message.tempo)  # the earliest, whichever track holds it
            if message.type != "note_on" or message.velocity == 0:
                continue
            drum = PITCH_TO_CLASS.get(message.note)
            if drum is None:
                continue
            position = tick / step_ticks
            step = math.floor(position + 0.5)
            kept = cells.get((step, drum))
            if kept is None or message.velocity > kept[0]:
                cells[(step, drum)] = (message.velocity, position - step)
    if not cells:
        raise GrooveFileError(f"{_name(source)}: no drum notes of the nine GrooVAE classes")
    last = max(step for step, _ in cells)
    length = (last // steps_per_bar + 1) * steps_per_bar
    hits = np.zeros((length, NUM_CLASSES), np.float32)
    velocities = np.zeros_like(hits)
    offsets = np.zeros_like(hits)
    for (step, drum), (velocity, offset) in cells.items():
        hits[step, drum] = 1
        velocities[step, drum] = velocity / 127
        offsets[step, drum] = offset
    bpm = mido.tempo2bpm(tempo[1]) if tempo is not None else DEFAULT_BPM
    return Groove(hits, velocities, offsets), float(bpm)


def groove_to_midi(
    groove: Groove, *, bpm: float, steps_per_bar: int = STEPS_PER_BAR
) -> mido.MidiFile:
    """Write a groove as a one-track General MIDI drum file (channel 10, 480 ticks a beat).

    Each hit is one note of the class's `CLASS_OUTPUT_PITCH`, velocity ``round(v * 127)``
    (at least 1: velocity 0 is a note-off), at tick ``(step + offset) * ticks_per_step``.
    Two limits of the file format: a note before tick 0 (a negative offset on step 0) is
    written at tick 0, and an offset is held to at most half a step less one tick late, so
    that `midi_to_groove` reads every note back on its own step.

    Parameters
    ----------
    groove : Groove
        The performance.
    bpm : float
        Tempo written to the file (quarter notes per minute).
    steps_per_bar : int
        Grid steps per 4/4 bar (default 16).
    """
    if not bpm > 0:
        raise ValueError(f"bpm must be positive, got {bpm}")
    step_ticks = TICKS_PER_BEAT * 4 // steps_per_bar
    # (tick, order, message): note-offs sort before note-ons on the same tick
    events: list[tuple[int, int, mido.Message]] = []
    for drum in range(NUM_CLASSES):
        pitch = CLASS_OUTPUT_PITCH[drum]
        steps = np.flatnonzero(groove.hits[:, drum])
        offset_ticks = np.clip(
            np.round(groove.offsets[steps, drum] * step_ticks),
            -(step_ticks // 2),
            math.ceil(step_ticks / 2) - 1,
        )
        ticks = np.maximum(steps * step_ticks + offset_ticks.astype(int), 0)
        for i, (step, tick) in enumerate(zip(steps, ticks, strict=True)):
            velocity = int(np.clip(round(float(groove.velocities[step, drum]) * 127), 1, 127))
            end = tick + round(NOTE_STEPS * step_ticks)
            if i + 1 < len(ticks):
                end = max(tick + 1, min(end, int(ticks[i + 1])))
            on = mido.Message("note_on", channel=DRUM_CHANNEL, note=pitch, velocity=velocity)
            off = mido.Message("note_off", channel=DRUM_CHANNEL, note=pitch, velocity=0)
            events += [(int(tick), 1, on), (int(end), 0, off)]
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    previous = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - previous))
        previous = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    return midi


def split_windows(
    groove: Groove,
    *,
    hop_bars: int,
    window_bars: int = WINDOW_BARS,
    steps_per_bar: int = STEPS_PER_BAR,
) -> list[Groove]:
    """Every full window of ``window_bars`` bars, starting every ``hop_bars`` bars.

    GMD's 2-bar data set (tensorflow_datasets ``groove/2bar-midionly``) slides 2-bar windows
    by one bar: ``hop_bars=1``. A groove shorter than one window gives no window (nothing is
    padded).
    """
    if hop_bars < 1 or window_bars < 1:
        raise ValueError(f"hop_bars and window_bars must be >= 1, got {hop_bars}, {window_bars}")
    size, hop = window_bars * steps_per_bar, hop_bars * steps_per_bar
    return [
        Groove(
            groove.hits[start : start + size],
            groove.velocities[start : start + size],
            groove.offsets[start : start + size],
        )
        for start in range(0, groove.steps - size + 1, hop)
    ]


def groove_to_tensor(groove: Groove) -> np.ndarray:
    """The model's (steps, 27) float32 view: hits, velocities, then offsets x 2 (-1..1).

    The layout and the x 2 are Magenta's ``GrooveConverter`` tensors (our offset sign).
    """
    return np.concatenate([groove.hits, groove.velocities, 2 * groove.offsets], axis=1)


def tensor_to_groove(tensor: np.ndarray, *, hit_threshold: float = 0.5) -> Groove:
    """Back from a (steps, 27) tensor: a hit where its value is above ``hit_threshold``.

    ``hit_threshold`` 0.5 is Magenta's ``from_tensors``. Velocities are clipped to 0..1 and
    offsets (halved) to -0.5..0.5, as there; both are zeroed where there is no hit.
    """
    tensor = np.asarray(tensor, dtype=np.float32)
    if tensor.ndim != 2 or tensor.shape[1] != DEPTH:
        raise ValueError(f"tensor must have shape (steps, {DEPTH}), got {tensor.shape}")
    hits = (tensor[:, :NUM_CLASSES] > hit_threshold).astype(np.float32)
    velocities = np.clip(tensor[:, NUM_CLASSES : 2 * NUM_CLASSES], 0, 1) * hits
    offsets = np.clip(tensor[:, 2 * NUM_CLASSES :] / 2, -0.5, 0.5) * hits
    return Groove(hits, velocities, offsets)


def quantize(groove: Groove, *, velocity: float) -> Groove:
    """The same hits, all at ``velocity`` (0..1) and on the grid: what ``humanize`` undoes.

    (The humanize model itself sees hits only: Magenta's converter zeroes the input's
    velocities and offsets, so ``velocity`` matters to baselines, not to the model.)
    """
    if not 0 <= velocity <= 1:
        raise ValueError(f"velocity must lie in [0, 1], got {velocity}")
    return Groove(groove.hits, groove.hits * np.float32(velocity), np.zeros_like(groove.hits))


def _open_midi(source: str | Path | mido.MidiFile) -> mido.MidiFile:
    if isinstance(source, mido.MidiFile):
        return source
    try:
        return mido.MidiFile(source)
    except FileNotFoundError:
        raise GrooveFileError(f"{source}: no such MIDI file") from None
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise GrooveFileError(f"{source}: not a readable MIDI file ({exc})") from None


def _name(source: str | Path | mido.MidiFile) -> str:
    return str(source.filename) if isinstance(source, mido.MidiFile) else str(source)
