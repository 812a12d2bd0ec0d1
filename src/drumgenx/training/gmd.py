"""Groove MIDI Dataset (GMD) performances, their drum notes and the 5 transcription classes.

GMD v1.0.0 (``info.csv`` + MIDI files, Roland TD-11 note numbers on channel 10) is read with
mido. Only notes whose pitch is in :data:`CLASS_OF_PITCH` are returned: they are the notes a
transcriber is trained to find. Each class is written as one General MIDI note
(:data:`CLASS_PITCH`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import mido

DRUM_CLASSES: tuple[str, ...] = ("kick", "snare", "hihat", "tom", "cymbal")
"""The 5 classes, in class-index order."""

CLASS_PITCH: tuple[int, ...] = (36, 38, 42, 45, 49)
"""The General MIDI note each class is written as (kick, snare, closed hat, low tom, crash)."""

_CLASS_PITCHES: dict[str, tuple[int, ...]] = {
    "kick": (35, 36),
    "snare": (37, 38, 39, 40),  # side stick, snare, clap, electric snare / rim
    # hi-hat (22/26 are the TD-11 hat edge hits), ride (51, 53 bell, 59), tambourine 54,
    # cabasa 69, maracas 70, shaker 82: the timekeeping "motion" sounds
    "hihat": (22, 26, 42, 44, 46, 51, 53, 59, 54, 69, 70, 82),
    "tom": (41, 43, 45, 47, 48, 50, 58),  # 58 is the TD-11 floor-tom rim
    "cymbal": (49, 52, 55, 57),  # crash 1/2, china, splash
}

CLASS_OF_PITCH: dict[int, int] = {
    pitch: DRUM_CLASSES.index(name) for name, pitches in _CLASS_PITCHES.items() for pitch in pitches
}
"""GM / Roland TD-11 (GMD) drum pitch -> class index into :data:`DRUM_CLASSES`."""

SPLITS: tuple[str, ...] = ("train", "validation", "test")


@dataclass(frozen=True)
class Performance:
    """One GMD performance (one row of ``info.csv``).

    Attributes
    ----------
    midi_path : Path
        Absolute path of the MIDI file.
    split : str
        ``"train"``, ``"validation"`` or ``"test"``.
    drummer : str
        e.g. ``"drummer1"``.
    style : str
        e.g. ``"funk/groove1"``.
    bpm : float
        Tempo of the performance.
    beat_type : str
        ``"beat"`` or ``"fill"``.
    gmd_id : str
        The ``id`` column, e.g. ``"drummer1/eval_session/1"``.
    duration_s : float
        The ``duration`` column (seconds); 0.0 when unknown.
    time_signature : str
        The ``time_signature`` column, e.g. ``"4-4"`` (``"4-4"`` when the column is absent).
    """

    midi_path: Path
    split: str
    drummer: str
    style: str
    bpm: float
    beat_type: str
    gmd_id: str
    duration_s: float = 0.0
    time_signature: str = "4-4"


@dataclass(frozen=True)
class DrumNote:
    """One drum hit.

    Attributes
    ----------
    time_s : float
        Onset in seconds (relative to the excerpt start where one was given).
    pitch : int
        GM / Roland drum pitch as written in the MIDI file.
    velocity : int
        MIDI velocity, 1..127.
    """

    time_s: float
    pitch: int
    velocity: int


def load_performances(gmd_dir: str | Path, split: str) -> list[Performance]:
    """All performances of one GMD split, sorted by ``gmd_id``.

    Parameters
    ----------
    gmd_dir : str or Path
        The GMD folder holding ``info.csv``.
    split : str
        ``"train"``, ``"validation"`` or ``"test"`` (any split is accepted here; the corpus
        CLI refuses ``"test"``).

    Returns
    -------
    list of Performance
    """
    if split not in SPLITS:
        raise ValueError(f"unknown GMD split {split!r}; expected one of {SPLITS}")
    gmd_dir = Path(gmd_dir).resolve()
    info = gmd_dir / "info.csv"
    if not info.is_file():
        raise FileNotFoundError(f"GMD info.csv not found at {info}")
    with open(info, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == split]
    perfs = [
        Performance(
            midi_path=gmd_dir / r["midi_filename"],
            split=split,
            drummer=r["drummer"],
            style=r["style"],
            bpm=float(r["bpm"]),
            beat_type=r["beat_type"],
            gmd_id=r["id"],
            duration_s=float(r["duration"]) if r.get("duration") else 0.0,
            time_signature=r.get("time_signature") or "4-4",
        )
        for r in rows
    ]
    perfs.sort(key=lambda p: p.gmd_id)
    return perfs


def read_drum_notes(
    midi_path: str | Path, *, start_s: float = 0.0, duration_s: float | None = None
) -> list[DrumNote]:
    """The classed drum notes of a MIDI file, sorted by time then pitch.

    Parameters
    ----------
    midi_path : str or Path
        A GMD (or any General MIDI) file. Every channel is read; note-ons with velocity 0 are
        note-offs and are skipped, as are pitches outside :data:`CLASS_OF_PITCH`.
    start_s : float
        Notes before this time are dropped; returned times are relative to it.
    duration_s : float, optional
        Keep notes with ``start_s <= time < start_s + duration_s`` (all later notes if None).

    Returns
    -------
    list of DrumNote
    """
    mid = mido.MidiFile(str(midi_path))
    end = None if duration_s is None else start_s + duration_s
    notes: list[DrumNote] = []
    t = 0.0
    for msg in mid:  # merged tracks, delta times in seconds (tempo map applied)
        t += msg.time
        if msg.type != "note_on" or msg.velocity == 0 or msg.note not in CLASS_OF_PITCH:
            continue
        if t < start_s or (end is not None and t >= end):
            continue
        notes.append(DrumNote(time_s=t - start_s, pitch=int(msg.note), velocity=int(msg.velocity)))
    notes.sort(key=lambda n: (n.time_s, n.pitch))
    return notes
