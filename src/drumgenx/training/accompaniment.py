"""Procedurally composed non-drum accompaniment, rendered with the ``fluidsynth`` CLI.

:func:`compose_accompaniment` writes a seeded piece in 4/4 at a performance's tempo: a key
and mode, a chord progression (one or two chords a bar) and 2 to 5 parts drawn from bass,
chords (comping rhythms), a sustained pad, an arpeggio and a melody (a chord-aware random
walk). Each part gets its own MIDI channel (never channel 10) and a General MIDI program drawn
from the families of :func:`melodic_programs` that suit its role. Bar 1 starts at time 0, so a
drum excerpt starting on the GMD beat grid lines up with it.

:func:`render_midi` renders through a SoundFont (reverb and chorus off, float output) and trims
or pads to a length. Timing precision does not matter here (note-ons are quantized to
FluidSynth's 64-sample blocks); nothing here is labelled.

Accompaniment fonts, per kit group (:data:`GROUP_FONTS`): FluidR3_GM, MuseScore_General and the
OPL-3 FM bank for training kits, csound's sf_GMbank for the validation kits, TimGM6mb only for
the frozen test group.
FluidR3_GS is left out: the Debian ``FluidR3_GS.sf2`` is a GS supplement holding only SFX
presets, no melodic program.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import mido
import numpy as np

from drumgenx.training._fluidsynth import render_to_array

GROUP_FONTS: dict[str, tuple[str, ...]] = {
    "train": ("FluidR3_GM", "MuseScore_General", "OPL-3_FM_128M"),
    "validation": ("sf_GMbank",),
    "frozen": ("TimGM6mb",),
}

_FAMILIES: dict[str, tuple[int, ...]] = {
    "piano": tuple(range(0, 8)),
    "organ": tuple(range(16, 24)),
    "guitar": tuple(range(24, 32)),
    "bass": tuple(range(32, 40)),
    "strings": (40, 41, 42, 43, 44, 45, 46, 48, 49, 50, 51),  # no 47 (timpani: a drum)
    "brass": tuple(range(56, 64)),
    "synth_lead": tuple(range(80, 88)),
    "synth_pad": tuple(range(88, 96)),
}
_ROLE_FAMILIES: dict[str, tuple[str, ...]] = {
    "bass": ("bass",),
    "chords": ("piano", "guitar", "organ", "strings", "brass", "synth_pad"),
    "pad": ("synth_pad", "strings", "organ"),
    "arpeggio": ("piano", "guitar", "synth_lead", "strings"),
    "melody": ("synth_lead", "brass", "strings", "guitar", "piano", "organ"),
}
_ROLES = ("bass", "chords", "pad", "arpeggio", "melody")

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
# scale degrees (0-based) of chord roots, one per chord
_PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (1, 4, 0, 0), (0, 3, 4, 3), (5, 3, 0, 4), (0, 2, 3, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2), (0, 5, 3, 4)),
}
TPB = 480  # ticks per beat


def melodic_programs() -> dict[str, tuple[int, ...]]:
    """The General MIDI programs the accompaniment draws from, by family.

    Returns
    -------
    dict of str to tuple of int
        ``piano, organ, guitar, bass, strings, brass, synth_lead, synth_pad`` -> programs
        (0-based). Timpani (47) is left out of ``strings``: it is a drum.
    """
    return dict(_FAMILIES)


def _family_of(program: int) -> str:
    return next(f for f, progs in _FAMILIES.items() if program in progs)


def _chord_tones(root_pc: int, degree: int, scale: tuple[int, ...], n: int = 3) -> list[int]:
    """Pitch classes (semitones above the key root) of the diatonic chord on ``degree``."""
    return [root_pc + scale[(degree + 2 * i) % 7] + 12 * ((degree + 2 * i) // 7) for i in range(n)]


def _nearest(pitch_class_tones: list[int], lo: int, hi: int) -> list[int]:
    """All MIDI notes in ``[lo, hi]`` whose pitch class is one of the tones."""
    pcs = {t % 12 for t in pitch_class_tones}
    return [p for p in range(lo, hi + 1) if p % 12 in pcs]


def compose_accompaniment(
    *, bpm: float, duration_s: float, seed: int, n_parts: int | None = None
) -> mido.MidiFile:
    """A seeded piece of non-drum accompaniment at ``bpm``, at least ``duration_s`` long.

    Parameters
    ----------
    bpm : float
        Tempo (quarter notes per minute); bars are 4/4 and bar 1 starts at time 0.
    duration_s : float
        Minimum length; whole bars are written (notes may ring a little past the end).
    seed : int
        Everything (key, mode, progression, parts, programs, rhythms, notes) follows from it.
    n_parts : int, optional
        Number of parts (1-5); drawn from 2..5 when None.

    Returns
    -------
    mido.MidiFile
        Type 1: track 0 holds the tempo and a ``text`` meta event with the composition as
        JSON (read it with :func:`accompaniment_info`); one track per part.
    """
    if bpm <= 0 or duration_s <= 0:
        raise ValueError("bpm and duration_s must be positive")
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / bpm
    n_bars = max(1, math.ceil(duration_s / (4 * beat_s)))
    key = int(rng.integers(0, 12))
    mode = "major" if rng.random() < 0.6 else "minor"
    scale = _MAJOR if mode == "major" else _MINOR
    progs = _PROGRESSIONS[mode]
    progression = progs[int(rng.integers(0, len(progs)))]
    chords_per_bar = 2 if (bpm < 100 and rng.random() < 0.35) else 1
    if n_parts is None:
        n_parts = int(rng.integers(2, 6))
    n_parts = max(1, min(5, n_parts))
    roles = ["bass"] if rng.random() < 0.85 else []
    others = [r for r in _ROLES if r != "bass"]
    rng.shuffle(others)
    roles += others[: n_parts - len(roles)]
    roles.sort(key=_ROLES.index)

    # chord per half-bar slot: (degree, tones as semitones above key root)
    n_slots = n_bars * chords_per_bar
    slot_ticks = 4 * TPB // chords_per_bar
    chords = []
    for i in range(n_slots):
        degree = progression[i % len(progression)]
        chords.append((degree, _chord_tones(key, degree, scale, 4 if rng.random() < 0.3 else 3)))

    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    meta = mido.MidiTrack()
    mid.tracks.append(meta)
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))

    parts = []
    channels = [c for c in range(16) if c != 9]
    for ch, role in zip(channels, roles, strict=False):
        family = _ROLE_FAMILIES[role][int(rng.integers(0, len(_ROLE_FAMILIES[role])))]
        program = int(rng.choice(_FAMILIES[family]))
        volume = int(rng.integers(80, 118))
        pan = int(np.clip(round(64 + rng.normal(0, 20)), 20, 108))
        notes = _PART_WRITERS[role](rng, chords, slot_ticks, n_slots, key, scale)
        parts.append({"role": role, "channel": ch, "program": program, "family": family})
        track = mido.MidiTrack()
        mid.tracks.append(track)
        track.append(mido.MetaMessage("track_name", name=f"{role}:{program}", time=0))
        track.append(mido.Message("program_change", channel=ch, program=program, time=0))
        track.append(mido.Message("control_change", channel=ch, control=7, value=volume, time=0))
        track.append(mido.Message("control_change", channel=ch, control=10, value=pan, time=0))
        _write_notes(track, ch, notes)
    info = {
        "seed": int(seed),
        "bpm": float(bpm),
        "key": int(key),
        "mode": mode,
        "progression": list(progression),
        "chords_per_bar": chords_per_bar,
        "n_bars": n_bars,
        "parts": parts,
    }
    meta.insert(0, mido.MetaMessage("text", text=json.dumps(info, sort_keys=True), time=0))
    return mid


def accompaniment_info(midi: mido.MidiFile) -> dict:
    """The composition record written by :func:`compose_accompaniment` (key, parts, programs)."""
    for msg in midi.tracks[0]:
        if msg.type == "text" and msg.text.startswith("{"):
            return json.loads(msg.text)
    raise ValueError("not a compose_accompaniment MIDI file (no JSON text event)")


def _write_notes(track: mido.MidiTrack, ch: int, notes: list[tuple[int, int, int, int]]) -> None:
    """``notes``: (start tick, length ticks, pitch, velocity), as absolute-tick events."""
    events = []
    for start, length, pitch, vel in notes:
        length = max(1, length)
        events.append((start + length, 0, pitch, 0))
        events.append((start, 1, pitch, int(np.clip(vel, 1, 127))))
    events.sort()
    last = 0
    for tick, is_on, pitch, vel in events:
        kind = "note_on" if is_on else "note_off"
        track.append(mido.Message(kind, channel=ch, note=pitch, velocity=vel, time=tick - last))
        last = tick


def _bass(rng, chords, slot_ticks, n_slots, key, scale):
    e = TPB // 2
    patterns = (
        ((0, 4 * e, 0),),  # whole slot root
        ((0, e * 2, 0), (2 * e, 2 * e, 0), (4 * e, 2 * e, 0), (6 * e, 2 * e, 0)),  # quarters
        ((0, 3 * e, 0), (3 * e, e, 0), (4 * e, 2 * e, 7), (6 * e, 2 * e, 12)),  # root/5th/8ve
        tuple((i * e, e, 12 if i % 4 == 3 else 0) for i in range(8)),  # driving eighths
        ((0, 2 * e, 0), (3 * e, e, 0), (4 * e, 2 * e, 7), (7 * e, e, 5)),  # syncopated
    )
    pattern = patterns[int(rng.integers(0, len(patterns)))]
    base = 28 + (key % 12)  # E1..D#2
    if base > 40:
        base -= 12
    out = []
    for i, (_, tones) in enumerate(chords):
        root = base + (tones[0] - key) % 12
        for off, length, interval in pattern:
            if off >= slot_ticks:
                continue
            length = min(length, slot_ticks - off)
            vel = int(rng.integers(80, 110))
            out.append((i * slot_ticks + off, int(length * 0.9), root + interval, vel))
    return out


def _voicing(rng, tones, lo, hi):
    cands = _nearest(tones, lo, hi)
    start = int(rng.integers(0, max(1, len(cands) - len(tones))))
    return cands[start : start + len(tones)]


def _chords(rng, chords, slot_ticks, n_slots, key, scale):
    e = TPB // 2
    rhythms = (
        ((0, 8 * e),),  # sustained
        tuple((i * 2 * e, int(1.6 * e)) for i in range(4)),  # quarter stabs
        ((0, 3 * e), (3 * e, 5 * e)),  # charleston
        tuple((i * 2 * e + e, int(0.7 * e)) for i in range(4)),  # off-beat eighths
        ((0, 2 * e), (3 * e, e), (4 * e, 2 * e), (6 * e, 2 * e)),
    )
    rhythm = rhythms[int(rng.integers(0, len(rhythms)))]
    out = []
    for i, (_, tones) in enumerate(chords):
        voicing = _voicing(rng, tones, 48, 76)
        for off, length in rhythm:
            if off >= slot_ticks:
                continue
            vel = int(rng.integers(60, 95))
            for p in voicing:
                out.append((i * slot_ticks + off, min(length, slot_ticks - off), p, vel))
    return out


def _pad(rng, chords, slot_ticks, n_slots, key, scale):
    out = []
    for i, (_, tones) in enumerate(chords):
        vel = int(rng.integers(45, 75))
        for p in _voicing(rng, tones, 53, 81):
            out.append((i * slot_ticks, slot_ticks, p, vel))
    return out


def _arpeggio(rng, chords, slot_ticks, n_slots, key, scale):
    step = TPB // 2 if rng.random() < 0.6 else TPB // 4
    shape = ("up", "updown", "random")[int(rng.integers(0, 3))]
    lo = int(rng.integers(52, 64))
    out = []
    for i, (_, tones) in enumerate(chords):
        cands = _nearest(tones, lo, lo + 19)
        seq = cands if shape != "updown" else cands + cands[-2:0:-1]
        for j in range(slot_ticks // step):
            p = seq[j % len(seq)] if shape != "random" else int(rng.choice(cands))
            vel = int(rng.integers(55, 90)) + (10 if j % 4 == 0 else 0)
            out.append((i * slot_ticks + j * step, int(step * 0.95), p, vel))
    return out


def _melody(rng, chords, slot_ticks, n_slots, key, scale):
    lengths = np.array([TPB // 2, TPB, TPB * 3 // 2, TPB * 2])
    probs = np.array([0.35, 0.35, 0.15, 0.15])
    lo, hi = 64, 88
    scale_notes = [p for p in range(lo, hi + 1) if (p - key) % 12 in scale]
    idx = len(scale_notes) // 2
    total = n_slots * slot_ticks
    t = 0
    out = []
    while t < total:
        length = int(rng.choice(lengths, p=probs))
        if rng.random() < 0.2:  # rest
            t += length
            continue
        slot = min(n_slots - 1, t // slot_ticks)
        tones = chords[slot][1]
        idx = int(np.clip(idx + int(rng.choice([-2, -1, -1, 0, 1, 1, 2])), 0, len(scale_notes) - 1))
        p = scale_notes[idx]
        if t % TPB == 0:  # strong beats: snap to the nearest chord tone
            ct = _nearest(tones, lo, hi)
            p = min(ct, key=lambda c: (abs(c - p), c))
            idx = min(range(len(scale_notes)), key=lambda k: abs(scale_notes[k] - p))
        out.append((t, int(min(length, total - t) * 0.92), p, int(rng.integers(70, 105))))
        t += length
    return out


_PART_WRITERS = {
    "bass": _bass,
    "chords": _chords,
    "pad": _pad,
    "arpeggio": _arpeggio,
    "melody": _melody,
}


def render_midi(
    midi: mido.MidiFile, *, font: str | Path, n_samples: int, sr: int = 44100
) -> np.ndarray:
    """Render a MIDI file with the ``fluidsynth`` CLI; mono float32 of exactly ``n_samples``.

    Parameters
    ----------
    midi : mido.MidiFile
        Written to a temporary folder and rendered there.
    font : str or Path
        An SF2/SF3 SoundFont.
    n_samples : int
        Output length: the render is cut or zero-padded to it.
    sr : int
        Sample rate.

    Returns
    -------
    ndarray
        float32, the channel mean of FluidSynth's stereo output (reverb and chorus off,
        gain 1.0).

    Raises
    ------
    RuntimeError
        If ``fluidsynth`` is not installed (the message names ``apt-get install fluidsynth``)
        or fails.
    """
    y = render_to_array(midi, font=font, sr=sr).mean(axis=1, dtype=np.float64)
    out = np.zeros(n_samples, dtype=np.float32)
    n = min(n_samples, len(y))
    out[:n] = y[:n]
    return out


def program_family(program: int) -> str:
    """The :func:`melodic_programs` family of a program (KeyError if it is not one)."""
    try:
        return _family_of(program)
    except StopIteration:
        raise KeyError(program) from None
