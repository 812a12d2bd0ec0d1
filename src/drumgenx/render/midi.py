"""Event grids to and from Standard MIDI Files (General MIDI drums, channel 10).

Hits keep their micro-timing and swing: a note's tick is its exact onset (`render.timing`),
never re-quantized. Reading a file back (`midi_to_events`) snaps each note to the nearest
step (after removing swing) and keeps the rest as ``micro_offset_ms``; this is exact to one
tick as long as each hit stays nearer its own step than its neighbour's. Swing narrows the gap
from an off-beat 16th to the next step to ``1 - swing`` steps, so the safe bound is
``|offset| < (1 - swing) / 2`` steps: half a step straight, a quarter step (31 ms at 120 bpm)
at swing 0.5. Past it the file is ambiguous and the hit reads back on the neighbouring step.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping

from drumgenx.core.console import silent
from drumgenx.core.errors import ParameterError
from drumgenx.core.midi import drum_midi_file, midi_to_velocity, velocity_to_midi
from drumgenx.core.records import Event, Grid
from drumgenx.core.roles import ROLES
from drumgenx.render.settings import GM_DRUM_NOTES  # where the defaults live
from drumgenx.render.timing import check_swing, onset_steps, swing_delay

TICKS_PER_BEAT = 480  # common DAW resolution: one tick is ~1 ms at 120 bpm
STEPS_PER_BEAT = 4


def parse_note_overrides(specs: list[str] | None) -> dict[str, int]:
    """``["FILL=47", "MOTION=44"]`` -> the GM map with those roles changed."""
    notes = dict(GM_DRUM_NOTES)
    for spec in specs or []:
        role, _, number = spec.partition("=")
        role = role.strip().upper()
        if role not in ROLES or not number.strip().isdigit() or not 0 <= int(number) <= 127:
            raise ParameterError(
                "note_overrides", f"expects ROLE=0..127 with ROLE in {'/'.join(ROLES)}: {spec!r}"
            )
        notes[role] = int(number)
    if len(set(notes.values())) != len(notes):
        raise ParameterError("note_overrides", f"would make two roles share one MIDI note: {notes}")
    return notes


def events_to_midi(
    events: list[Event],
    grid: Grid,
    *,
    swing: float = 0.0,
    notes: Mapping[str, int] = GM_DRUM_NOTES,
    sample_keys: Mapping[str, int] | None = None,
    notify: Callable[[str], None] | None = None,
) -> bytes:
    """Encode events as a type-1 Standard MIDI File with tempo and 4/4 meter: its bytes.

    Parameters
    ----------
    events, grid
        The hits and the grid they sit on.
    swing
        As the render's (`render.timing`), so the notes land where the render plays them.
    notes
        Each role's key (default: the General MIDI drum map, `GM_DRUM_NOTES`).
    sample_keys
        ``{sample_id: key}``: a hit whose sample is listed plays on that key instead of its
        role's, so a kit with a key per sample (`drumgenx export-kit` from a loop) plays each
        hit with its own sample. Default None: every hit on its role's key.
    notify
        Receives a line for anything that could not be kept exactly (a hit pulled before
        time 0); None: dropped.
    """
    import mido

    check_swing(swing)
    notify = notify or silent
    ticks_per_step = TICKS_PER_BEAT / STEPS_PER_BEAT
    onsets = []
    for event in events:
        steps = onset_steps(event, grid, swing=swing)
        tick = round(steps * ticks_per_step)
        if tick < 0:
            early_ms = -steps * grid.tstep * 1000
            notify(
                f"MIDI: the {event.role} hit at bar {event.bar} step {event.step} would start "
                f"{early_ms:.0f} ms before the file does; it starts at 0"
            )
            tick = 0
        length = max(1, round(event.dur_steps * ticks_per_step))
        key = notes[event.role]
        if sample_keys is not None:
            key = sample_keys.get(event.sample_id, key)
        onsets.append((tick, key, velocity_to_midi(event.vel), length))
    return drum_midi_file(onsets, tempo=mido.bpm2tempo(grid.bpm), ticks_per_beat=TICKS_PER_BEAT)


def midi_to_events(
    data: bytes,
    *,
    swing: float = 0.0,
    notes: Mapping[str, int] = GM_DRUM_NOTES,
    steps_per_bar: int = 16,
) -> tuple[list[Event], float]:
    """Decode drum notes of a MIDI file back to events; returns ``(events, bpm)``.

    Notes whose key is not in ``notes`` are ignored. ``sample_id`` is ``midi:<key>``.
    """
    import mido

    song = mido.MidiFile(file=io.BytesIO(data))
    role_of = {note: role for role, note in notes.items()}
    tempo, hits = 500000, []
    for track in song.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "set_tempo":
                tempo = message.tempo
            elif message.type == "note_on" and message.velocity > 0 and message.note in role_of:
                hits.append((tick, message.note, message.velocity))
    bpm = mido.tempo2bpm(tempo)
    tstep_ms = 60000.0 / bpm / STEPS_PER_BEAT
    events = []
    for tick, note, velocity in sorted(hits):
        steps = tick * STEPS_PER_BEAT / song.ticks_per_beat
        near = math.floor(steps)
        index = min(
            (k for k in (near - 1, near, near + 1) if k >= 0),
            key=lambda k: abs(steps - k - swing_delay(k, swing)),
        )
        offset = (steps - index - swing_delay(index, swing)) * tstep_ms
        events.append(
            Event(
                bar=index // steps_per_bar,
                step=index % steps_per_bar,
                role=role_of[note],
                sample_id=f"midi:{note}",
                vel=midi_to_velocity(velocity),
                dur_steps=1,
                micro_offset_ms=offset,
                source="edit",
            )
        )
    return events, bpm
