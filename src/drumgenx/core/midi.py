"""General MIDI drum files: the writer shared by the event-grid export and the transcriber.

``drum_midi_file`` turns notes already placed on ticks into a type-1 Standard MIDI File: a
conductor track (name, tempo, 4/4) and one drum track on channel 10. What a note *is* (a
role's key, a drum class's key) and where it lands (a grid step, a transcribed time) is the
caller's business; this module only encodes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

DRUM_CHANNEL = 9  # channel 10 counted from 1
"""General MIDI's percussion channel, as mido numbers channels (from 0)."""


def velocity_to_midi(vel: float) -> int:
    """0..1 -> MIDI 1..127 (1 rather than 0: a note-on with velocity 0 is a note-off)."""
    return max(1, min(127, round(1 + vel * 126)))


def midi_to_velocity(velocity: int) -> float:
    return (velocity - 1) / 126


def bpm_to_tempo(bpm: float) -> int:
    """Microseconds per beat, as the ``set_tempo`` meta event stores it (an integer)."""
    return max(1, round(60_000_000 / bpm))


def drum_midi_file(
    notes: Iterable[tuple[int, int, int, int]],
    *,
    tempo: int,
    ticks_per_beat: int,
    track_name: str = "drums",
) -> bytes:
    """Encode drum notes as a type-1 Standard MIDI File on channel 10.

    Parameters
    ----------
    notes
        ``(tick, key, velocity 1..127, length in ticks)`` per note, any order. A note ends
        after its length, or earlier at the next note-on of the same key, so no note-on is
        cut by its own key's previous note-off.
    tempo
        Microseconds per beat (`bpm_to_tempo`), written once at tick 0 with a 4/4 meter.
    ticks_per_beat
        The file's time resolution.

    Returns
    -------
    bytes
        The ``.mid`` file.
    """
    import mido

    onsets = sorted(notes)
    messages = []  # (tick, order, message): note-offs sort before note-ons at one tick
    for i, (tick, note, velocity, length) in enumerate(onsets):
        end = tick + max(1, length)
        # A drum note ends before the next hit of the same note, or that hit's note-on is cut.
        later = [t for t, n, _, _ in onsets[i + 1 :] if n == note and t > tick]
        end = min([end, *later[:1]])
        messages.append(
            (tick, 1, mido.Message("note_on", channel=DRUM_CHANNEL, note=note, velocity=velocity))
        )
        messages.append(
            (end, 0, mido.Message("note_off", channel=DRUM_CHANNEL, note=note, velocity=0))
        )
    messages.sort(key=lambda m: (m[0], m[1]))

    conductor = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name="drumgenx", time=0),
            mido.MetaMessage("set_tempo", tempo=tempo, time=0),
            mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
        ]
    )
    drums = mido.MidiTrack([mido.MetaMessage("track_name", name=track_name, time=0)])
    previous = 0
    for tick, _, message in messages:
        drums.append(message.copy(time=tick - previous))
        previous = tick
    song = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat, tracks=[conductor, drums])
    buffer = io.BytesIO()
    song.save(file=buffer)
    return buffer.getvalue()
