"""MIDI export: GM drums on channel 10, tempo and meter, micro-timing kept to one tick.

Files are written with `events_to_midi` (mido) and read back with pretty_midi, an independent
reader, so the tests pin the file itself, not just our own decoder.
"""

from __future__ import annotations

import io
import random
import re

import mido
import pretty_midi
import pytest

from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.core.records import Event, Grid
from drumgenx.core.roles import ROLES
from drumgenx.render.midi import (
    GM_DRUM_NOTES,
    events_to_midi,
    midi_to_events,
    midi_to_velocity,
    parse_note_overrides,
    velocity_to_midi,
)
from drumgenx.skeleton.grid import build_grid

GM = {"CORE": 36, "ACCENT": 38, "MOTION": 42, "FILL": 45, "TEXTURE": 52}
TICKS_PER_BEAT = 480
TICKS_PER_STEP = TICKS_PER_BEAT // 4
BPMS = [120.0, 93.5]
SWINGS = [0.0, 0.33, 0.5]


def tick_seconds(bpm: float) -> float:
    return 60.0 / bpm / TICKS_PER_BEAT


def tick_ms(bpm: float) -> float:
    return 60000.0 / bpm / TICKS_PER_BEAT


def offset_limit_ms(grid: Grid, swing: float) -> float:
    """Largest |offset| a hit may have and still read back on its own step.

    Swing leaves ``1 - swing`` steps between an off-beat 16th and the next step; a hit must
    stay under half of that (less two ticks of margin), and within the ±40 ms of the issue.
    """
    return min(40.0, ((1 - swing) / 2 - 2 / TICKS_PER_STEP) * grid.tstep * 1000)


def make_events(grid: Grid, *, max_offset_ms: float = 40.0, seed: int = 7) -> list[Event]:
    """Random hits on every bar, all roles, fractional offsets within ±max, vel across 0..1.

    At most one hit per (bar, step, role); the first few hits pin the extremes (vel 0 and 1,
    offset ±max). Nothing starts before time 0 (bar 0 step 0 is never early).
    """
    rng = random.Random(seed)
    fixed = {
        (0, 0, "CORE"): (1.0, 0.0),
        (0, 1, "MOTION"): (0.0, -max_offset_ms),
        (0, 2, "ACCENT"): (0.5, max_offset_ms),
        (0, 3, "FILL"): (0.123, max_offset_ms),
        (0, 4, "TEXTURE"): (0.999, -max_offset_ms),
    }
    events = []
    for bar in range(grid.num_bars):
        for step in range(grid.steps_per_bar):
            for role in ROLES:
                key = (bar, step, role)
                if key in fixed:
                    vel, offset = fixed[key]
                elif rng.random() < 0.4:
                    vel = round(rng.random(), 4)
                    offset = rng.uniform(-max_offset_ms, max_offset_ms)
                    if (bar, step) == (0, 0):
                        offset = abs(offset)
                else:
                    continue
                events.append(
                    Event(
                        bar=bar,
                        step=step,
                        role=role,
                        sample_id=f"{role.lower()}_a",
                        vel=vel,
                        dur_steps=rng.choice([0.25, 1, 2, 4, 8]),
                        micro_offset_ms=offset,
                    )
                )
    return events


def expected_onset_seconds(event: Event, bpm: float, swing: float) -> float:
    """Independent of render.timing: 16 steps a bar, off-beat 16ths delayed by ``swing``."""
    tstep = 60.0 / bpm / 4
    step = event.bar * 16 + event.step + (swing if event.step % 2 else 0.0)
    return step * tstep + event.micro_offset_ms / 1000.0


def read_pretty(data: bytes) -> pretty_midi.PrettyMIDI:
    return pretty_midi.PrettyMIDI(io.BytesIO(data))


def test_gm_map_is_the_general_midi_drum_map():
    """The default keys are GM's kick, snare, closed hat, low tom and Chinese cymbal."""
    assert GM_DRUM_NOTES == GM


@pytest.mark.parametrize("bpm", BPMS)
@pytest.mark.parametrize("swing", [0.0, 0.33])
def test_export_read_by_pretty_midi(bpm, swing):
    """Channel 10, GM keys, tempo, 4/4, velocities 1..127, onsets within one tick."""
    grid = build_grid(bpm=bpm, num_bars=4)
    events = make_events(grid, max_offset_ms=offset_limit_ms(grid, swing))
    said: list[str] = []
    data = events_to_midi(events, grid, swing=swing, notify=said.append)
    assert said == []

    pm = read_pretty(data)
    assert len(pm.instruments) == 1
    drums = pm.instruments[0]
    assert drums.is_drum  # pretty_midi: channel index 9, i.e. channel 10

    _, tempi = pm.get_tempo_changes()
    assert list(tempi) == [pytest.approx(bpm, rel=1e-5)]
    (meter,) = pm.time_signature_changes
    assert (meter.numerator, meter.denominator, meter.time) == (4, 4, 0.0)

    assert len(drums.notes) == len(events)
    assert {n.pitch for n in drums.notes} == set(GM.values())
    # Per key, notes in time order match events in time order (offsets keep them ordered).
    for role, key in GM.items():
        want = sorted((expected_onset_seconds(e, bpm, swing), e) for e in events if e.role == role)
        got = sorted((n for n in drums.notes if n.pitch == key), key=lambda n: n.start)
        assert len(got) == len(want)
        for note, (onset, event) in zip(got, want, strict=True):
            assert note.start == pytest.approx(onset, abs=tick_seconds(bpm))
            assert note.velocity == round(1 + event.vel * 126)
            assert 1 <= note.velocity <= 127
            assert note.end > note.start


def test_every_message_is_on_channel_10():
    """Read with mido too: every channel message uses channel index 9."""
    grid = build_grid(bpm=120, num_bars=2)
    data = events_to_midi(make_events(grid), grid)
    song = mido.MidiFile(file=io.BytesIO(data))
    channels = {m.channel for track in song.tracks for m in track if not m.is_meta}
    assert channels == {9}
    assert song.ticks_per_beat == TICKS_PER_BEAT


@pytest.mark.parametrize("bpm", BPMS)
@pytest.mark.parametrize("swing", SWINGS)
def test_round_trip_reproduces_every_event(bpm, swing):
    """midi_to_events gives back step, bar, role, velocity (±1/252) and offset (±1 tick)."""
    grid = build_grid(bpm=bpm, num_bars=4)
    events = make_events(grid, max_offset_ms=offset_limit_ms(grid, swing), seed=11)
    data = events_to_midi(events, grid, swing=swing)

    back, read_bpm = midi_to_events(data, swing=swing)
    assert read_bpm == pytest.approx(bpm, rel=1e-5)
    want = {(e.bar, e.step, e.role): e for e in events}
    got = {(e.bar, e.step, e.role): e for e in back}
    assert len(back) == len(events)
    assert got.keys() == want.keys()
    for key, event in want.items():
        assert got[key].vel == pytest.approx(event.vel, abs=1 / 252 + 1e-9)
        assert got[key].micro_offset_ms == pytest.approx(event.micro_offset_ms, abs=tick_ms(bpm))
        assert got[key].sample_id == f"midi:{GM[event.role]}"
        assert got[key].source == "edit"


def test_swing_moves_only_off_beat_16ths():
    """Swing 0.5 delays odd steps by half a step (60 ticks) and leaves even steps alone."""
    grid = build_grid(bpm=120, num_bars=1)
    events = [Event(0, s, "MOTION", "hat", 0.6, 1) for s in (0, 1, 2, 3)]
    data = events_to_midi(events, grid, swing=0.5)
    starts = sorted(n.start for n in read_pretty(data).instruments[0].notes)
    tick = tick_seconds(120)
    assert [round(s / tick) for s in starts] == [0, 180, 240, 420]


def test_velocity_mapping_is_1_to_127():
    """0 -> 1 (a velocity-0 note-on would be a note-off), 1 -> 127, and back within 1/252."""
    assert velocity_to_midi(0.0) == 1
    assert velocity_to_midi(1.0) == 127
    assert velocity_to_midi(0.5) == 64
    for i in range(101):
        vel = i / 100
        assert velocity_to_midi(vel) == round(1 + vel * 126)
        assert midi_to_velocity(velocity_to_midi(vel)) == pytest.approx(vel, abs=1 / 252 + 1e-9)


def test_note_overrides_change_keys_and_round_trip():
    """--note ROLE=KEY (any case) moves a role; reading with the same map gets it back."""
    notes = parse_note_overrides(["FILL=47", " motion = 44"])
    assert notes == {**GM, "FILL": 47, "MOTION": 44}
    grid = build_grid(bpm=120, num_bars=2)
    events = make_events(grid)
    data = events_to_midi(events, grid, notes=notes)

    pitches = {n.pitch for n in read_pretty(data).instruments[0].notes}
    assert pitches == {36, 38, 44, 47, 52}
    back, _ = midi_to_events(data, notes=notes)
    assert sorted((e.bar, e.step, e.role) for e in back) == sorted(
        (e.bar, e.step, e.role) for e in events
    )
    # Keys outside the map are ignored when reading.
    default_read, _ = midi_to_events(data)
    assert {e.role for e in default_read} == {"CORE", "ACCENT", "TEXTURE"}


def test_note_overrides_may_swap_two_roles():
    """Keys only have to be distinct after all overrides are applied."""
    assert parse_note_overrides(["CORE=38", "ACCENT=36"])["CORE"] == 38
    assert parse_note_overrides(None) == GM
    assert parse_note_overrides([]) == GM


@pytest.mark.parametrize(
    "spec",
    ["SNARE=38", "FILL=128", "FILL=-1", "FILL=abc", "FILL", "=45", "FILL=4.5"],
)
def test_note_override_errors(spec):
    """Unknown role, key outside 0..127 or not a number -> an error naming the parameter and
    the spec (the command line names its flag, --note)."""
    with pytest.raises(ParameterError, match=f"^note_overrides .*{re.escape(repr(spec))}"):
        parse_note_overrides([spec])


def test_note_override_two_roles_on_one_key():
    """Two roles sharing a key could not be told apart on reading: refused."""
    with pytest.raises(DrumgenxError, match="share one MIDI note"):
        parse_note_overrides(["FILL=36"])


def test_close_same_note_hits_do_not_cut_each_other():
    """Hits of one key closer than their length, or on one tick, all keep a note."""
    grid = build_grid(bpm=300, num_bars=1)  # tstep 50 ms: ±40 ms reorders neighbours
    events = [
        # Overlapping long MOTION hits on consecutive steps (2 steps long, 1 apart).
        *(Event(0, s, "MOTION", "hat", 0.6, 2) for s in (4, 5, 6, 7)),
        # Step 0 late, step 1 early: they swap order.
        Event(0, 0, "CORE", "kick", 1.0, 4, micro_offset_ms=40.0),
        Event(0, 1, "CORE", "kick", 0.8, 4, micro_offset_ms=-40.0),
        # Step 8 late and step 9 early land on the same tick.
        Event(0, 8, "FILL", "tom", 0.7, 8, micro_offset_ms=30.0),
        Event(0, 9, "FILL", "tom", 0.9, 8, micro_offset_ms=-20.0),
    ]
    data = events_to_midi(events, grid)
    notes = read_pretty(data).instruments[0].notes
    assert len(notes) == len(events)
    assert all(n.end > n.start for n in notes)
    for role, key in GM.items():
        want = sorted(
            round(expected_onset_seconds(e, 300, 0.0), 4) for e in events if e.role == role
        )
        got = sorted(round(n.start, 4) for n in notes if n.pitch == key)
        assert got == pytest.approx(want, abs=tick_seconds(300))
    # The same-tick FILL pair really is on one tick.
    fills = [n.start for n in notes if n.pitch == GM["FILL"]]
    assert fills[0] == fills[1]


def test_hit_before_time_zero_moves_to_zero_with_a_notice():
    """A hit pulled before the loop start is written at 0 and reported in one line."""
    grid = build_grid(bpm=120, num_bars=1)
    events = [
        Event(0, 0, "CORE", "kick", 1.0, 4, micro_offset_ms=-20.0),
        Event(0, 4, "ACCENT", "snare", 0.9, 4, micro_offset_ms=-20.0),
    ]
    said: list[str] = []
    data = events_to_midi(events, grid, notify=said.append)
    assert len(said) == 1
    assert said == [
        "MIDI: the CORE hit at bar 0 step 0 would start 20 ms before the file does; it starts at 0"
    ]
    starts = {n.pitch: n.start for n in read_pretty(data).instruments[0].notes}
    assert starts[GM["CORE"]] == 0.0
    assert starts[GM["ACCENT"]] == pytest.approx(0.5 - 0.020, abs=tick_seconds(120))


def test_bad_swing_is_refused():
    """Swing outside 0..0.75 is a user error, not a file with hits on the wrong step."""
    grid = build_grid(bpm=120, num_bars=1)
    with pytest.raises(DrumgenxError, match=r"swing must be 0\.\.0\.75"):
        events_to_midi([Event(0, 0, "CORE", "kick", 1.0, 4)], grid, swing=0.8)


def test_offsets_past_half_the_swung_gap_are_ambiguous():
    """Why the round trip bounds offsets by (1 - swing) / 2 steps: past it, two different
    hits make the same file (step 1 at +40 ms vs step 2 at -22.9 ms, swing 0.5, 120 bpm)."""
    grid = build_grid(bpm=120, num_bars=1)
    late = Event(0, 1, "MOTION", "hat", 0.5, 1, micro_offset_ms=40.0)
    early = Event(0, 2, "MOTION", "hat", 0.5, 1, micro_offset_ms=40.0 - 0.5 * 125.0)
    assert events_to_midi([late], grid, swing=0.5) == events_to_midi([early], grid, swing=0.5)
