"""Events <-> GrooVAE arrays: the role/class map, the windows' continuity, humanize and vary.

No trained weights: small deterministic stand-ins for the model make every property exact.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.records import Event, PoolItem, Pools
from drumgenx.core.roles import ROLES
from drumgenx.groove.convert import (
    CLASS_ROLE,
    ROLE_CLASSES,
    blend_windows,
    class_roles,
    encode_events,
    event_class,
    humanize_events,
    pool_rotation,
    to_windows,
    vary_events,
    window_index,
    window_weights,
)
from drumgenx.groove.representation import DRUM_CLASSES, STEPS_PER_BAR, WINDOW_STEPS
from drumgenx.skeleton.grid import build_grid

GRID = build_grid(bpm=120, num_bars=4)  # tstep 0.125 s: one step is 125 ms
STEP_MS = GRID.tstep * 1000


def hit(bar: int, step: int, role: str, sample: str = "x", **kw) -> Event:
    return Event(bar, step, role, sample, kw.pop("vel", 0.8), kw.pop("dur_steps", 2), **kw)


def kit_pools(**empty: bool) -> Pools:
    """The bundled kit's pools; ``MOTION=True`` empties MOTION_POOL, and so on."""
    names = {
        "CORE": ["kick"],
        "ACCENT": ["snare", "clap"],
        "MOTION": ["hat_closed", "hat_open"],
        "FILL": ["tom_low", "tom_mid", "tom_high", "crash"],
        "TEXTURE": ["pad"],
    }
    return Pools(
        {
            role: [] if empty.get(role) else [PoolItem(n, f"kit/{n}.wav", 1.0) for n in ids]
            for role, ids in names.items()
        }
    )


class PeriodicModel:
    """Predicts from the step within the bar and the class only: a step gets the same
    prediction in both windows that hold it, wherever they cut."""

    @staticmethod
    def expected(step: int, c: int) -> tuple[float, float]:
        phase = 2 * np.pi * step / STEPS_PER_BAR + c
        return 0.5 + 0.4 * np.sin(phase), 0.45 * np.cos(phase)

    def humanize(self, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.arange(WINDOW_STEPS)[:, None] % STEPS_PER_BAR
        vel, off = self.expected(t, np.arange(len(DRUM_CLASSES))[None, :])
        return np.broadcast_to(vel, hits.shape), np.broadcast_to(off, hits.shape)


class ContextModel:
    """Looks at the whole window (how many hits, where) and jumps at the window's edges, as a
    real model may where it lacks context on one side."""

    def __init__(self, edge_jump: float = 0.0) -> None:
        self.edge_jump = edge_jump
        self.seen: list[np.ndarray] = []

    def humanize(self, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.seen.append(hits.copy())
        density = hits.sum(axis=(1, 2), keepdims=True) / hits[0].size
        t = np.arange(WINDOW_STEPS)[None, :, None]
        vel = np.clip(0.3 + density + 0.01 * t, 0, 1) * np.ones_like(hits)
        off = 0.2 * np.sin(t / 5 + 7 * density) * np.ones_like(hits)
        off[:, [0, -1], :] += self.edge_jump
        return vel.astype(np.float32), np.clip(off, -0.5, 0.5).astype(np.float32)


class ScriptedVary:
    """vary(): keeps the input hits except the ones ``remove`` names, and adds ``add``; both
    are ``{window position: class}`` applied in every window."""

    def __init__(self, *, add: dict[int, list[str]], remove: tuple[str, ...] = ()) -> None:
        self.add, self.remove, self.calls = add, remove, []

    def vary(self, hits, velocities, offsets, *, temperature, seed):
        self.calls.append((temperature, seed))
        out = hits.copy()
        for name in self.remove:
            out[:, :, DRUM_CLASSES.index(name)] = 0
        for position, names in self.add.items():
            for name in names:
                out[:, position, DRUM_CLASSES.index(name)] = 1
        return out, np.full(hits.shape, 0.7, np.float32), np.full(hits.shape, 0.1, np.float32)


def rich_pattern(num_bars: int) -> list[Event]:
    """Bars that differ from each other, every role, hits on window edges and centres."""
    events = [hit(0, 0, "TEXTURE", "pad", dur_steps=16)]
    for bar in range(num_bars):
        events += [hit(bar, 0, "CORE", "kick"), hit(bar, 15, "MOTION", "hat_closed")]
        events += [hit(bar, s, "MOTION", "hat_closed") for s in range(2, 14, 2 + bar % 3)]
        events += [hit(bar, 4 + bar % 4, "ACCENT", "snare"), hit(bar, 12, "ACCENT", "snare")]
    events.append(hit(num_bars - 1, 14, "FILL", "tom_low"))
    return events


# --- roles <-> classes ---------------------------------------------------------------------


def test_the_class_table_covers_the_model_classes_once() -> None:
    assert sorted(CLASS_ROLE) == sorted(DRUM_CLASSES)
    assert set(ROLE_CLASSES) == set(ROLES) - {"TEXTURE"}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (hit(0, 0, "CORE", "kick_low"), "kick"),  # a hint outside the role is ignored
        (hit(0, 4, "ACCENT", "clap"), "snare"),
        (hit(0, 2, "MOTION", "dummy_00001"), "closed_hihat"),
        (hit(0, 2, "MOTION", "hat_open"), "open_hihat"),
        (hit(0, 2, "MOTION", "OpenHat"), "open_hihat"),
        (hit(0, 2, "MOTION", "Ride02"), "ride"),
        (hit(0, 12, "FILL", "dummy_7"), "high_tom"),
        (hit(0, 13, "FILL", "dummy_7"), "high_tom"),
        (hit(0, 14, "FILL", "dummy_7"), "mid_tom"),
        (hit(0, 15, "FILL", "hollow"), "low_tom"),  # "low" inside a word is no hint
        (hit(0, 14, "FILL", "tom_high"), "high_tom"),
        (hit(0, 12, "FILL", "floor_tom"), "low_tom"),
        (hit(0, 12, "FILL", "crash"), "crash"),
        (hit(0, 12, "FILL", "dummy_7", dur_steps=16), "crash"),  # it rings: a cymbal
    ],
)
def test_event_class(event: Event, expected: str) -> None:
    assert event_class(event) == expected


def test_event_class_reads_the_pool_file_name_and_refuses_texture() -> None:
    pools = Pools({"MOTION": [PoolItem("dummy_00003", "/lib/kit/Ride 02.wav", 0.9)]})
    assert event_class(hit(0, 2, "MOTION", "dummy_00003"), pools=pools) == "ride"
    with pytest.raises(DrumgenxError, match="TEXTURE is passed through"):
        event_class(hit(0, 0, "TEXTURE", "pad"))
    with pytest.raises(DrumgenxError, match="'COWBELL' has no drum class"):
        encode_events([hit(0, 0, "COWBELL")], GRID)


def test_classes_fall_back_to_the_nearest_role_with_samples() -> None:
    assert class_roles(kit_pools()) == CLASS_ROLE
    no_hats = class_roles(kit_pools(MOTION=True))
    assert no_hats["closed_hihat"] == "ACCENT"
    assert no_hats["open_hihat"] == no_hats["ride"] == "FILL"
    no_cymbals = class_roles(kit_pools(MOTION=True, FILL=True))
    assert no_cymbals["crash"] == no_cymbals["ride"] == "ACCENT"
    assert no_cymbals["low_tom"] == "CORE" and no_cymbals["mid_tom"] == "ACCENT"
    only_texture = class_roles(Pools({"TEXTURE": [PoolItem("pad", "pad.wav", 1.0)]}))
    assert set(only_texture.values()) == {None}  # a bed never stands in for a hit


def test_pool_rotation_prefers_samples_named_for_the_class_and_is_seeded() -> None:
    pools = kit_pools()
    assert [i.sample_id for i in pool_rotation(pools, "FILL", "crash", seed=1)] == ["crash"]
    no_ride = pool_rotation(pools, "MOTION", "ride", seed=1)  # none named ride: the whole pool
    assert sorted(i.sample_id for i in no_ride) == ["hat_closed", "hat_open"]
    unnamed = Pools({"CORE": [PoolItem(f"dummy_{i}", f"d{i}.wav", 0.5) for i in range(6)]})
    draws = {
        tuple(i.sample_id for i in pool_rotation(unnamed, "CORE", "kick", seed=s)) for s in range(8)
    }
    assert all(len(d) == 3 for d in draws) and len(draws) > 1  # 3 of the pool, by the seed


# --- windows -------------------------------------------------------------------------------


def test_weights_of_a_steps_two_windows_sum_to_one_and_edges_barely_count() -> None:
    w = window_weights()
    np.testing.assert_allclose(w[:16] + w[16:], 1.0, atol=1e-15)
    np.testing.assert_allclose(w, w[::-1], atol=1e-15)
    assert w[0] < 0.003  # a window's edge steps barely count
    assert (w[8:24] > 0.5).all() and (np.r_[w[:8], w[24:]] < 0.5).all()  # never a tie


@pytest.mark.parametrize("num_bars", [1, 2, 3, 5])
def test_any_bar_count_every_step_in_two_windows_once_per_half(num_bars: int) -> None:
    index = window_index(num_bars)
    assert index.shape == (num_bars, WINDOW_STEPS)
    for half in (index[:, :16], index[:, 16:]):
        assert sorted(half.ravel()) == list(range(num_bars * STEPS_PER_BAR))
    steps = np.arange(num_bars * STEPS_PER_BAR, dtype=float)[:, None]
    assert (to_windows(steps)[:, :, 0] == index).all()


@pytest.mark.parametrize("num_bars", [1, 2, 3])
def test_a_consistent_model_comes_back_exactly_at_window_edges_and_centres(
    num_bars: int,
) -> None:
    """Hits on all 16 steps, window edges included: no jump where windows cut."""
    grid = build_grid(bpm=120, num_bars=num_bars)
    events = [hit(b, s, "MOTION", "hat_closed") for b in range(num_bars) for s in range(16)]
    out = humanize_events(events, grid, model=PeriodicModel())
    c = DRUM_CLASSES.index("closed_hihat")
    for event in out.events:
        vel, off = PeriodicModel.expected(event.step, c)
        assert event.vel == pytest.approx(vel, abs=1e-4)
        assert event.micro_offset_ms == pytest.approx(off * STEP_MS, abs=1e-3)


def test_an_edge_jump_of_the_model_barely_moves_the_hits_there() -> None:
    """A model off by half a step at its window edges moves those hits < 0.2 ms."""
    windows = to_windows(encode_events(rich_pattern(4), GRID).hits)
    smooth = ContextModel()
    jumpy = ContextModel(edge_jump=0.5)
    _, _, off_smooth = blend_windows(windows, *smooth.humanize(windows))
    _, _, off_jumpy = blend_windows(windows, *jumpy.humanize(windows))
    moved = np.abs(off_jumpy - off_smooth) * STEP_MS
    assert moved.max() <= 0.5 * window_weights()[0] * STEP_MS + 1e-6 < 0.2
    edges = np.arange(GRID.num_steps) % 16 == 0
    assert (
        moved[edges].max() > 0 and moved[~edges & (np.arange(GRID.num_steps) % 16 != 15)].max() == 0
    )


@pytest.mark.parametrize("num_bars", [1, 3, 4, 5])
def test_rotating_the_loop_by_whole_bars_rotates_the_result(num_bars: int) -> None:
    """Where the windows cut (which bar the loop starts on) does not change the groove."""
    grid = build_grid(bpm=97, num_bars=num_bars)
    events = rich_pattern(num_bars)
    reference = humanize_events(events, grid, model=ContextModel(edge_jump=0.3)).events

    def timing(evs: list[Event], shift: int) -> Counter:
        return Counter(
            ((e.bar + shift) % num_bars, e.step, e.role, e.vel, e.micro_offset_ms) for e in evs
        )

    for shift in range(1, num_bars):
        rotated = [replace(e, bar=(e.bar + shift) % num_bars) for e in events]
        out = humanize_events(rotated, grid, model=ContextModel(edge_jump=0.3)).events
        assert timing(out, 0) == timing(reference, shift)


# --- humanize ------------------------------------------------------------------------------


def test_humanize_keeps_every_hit_and_only_replaces_velocity_and_timing() -> None:
    events = rich_pattern(4)
    model = ContextModel()
    out = humanize_events(events, GRID, model=model)

    def identity(e: Event) -> tuple:
        return (e.bar, e.step, e.role, e.sample_id, e.dur_steps)

    assert Counter(map(identity, out.events)) == Counter(map(identity, events))
    assert {e.source for e in out.events} == {"groovae"}
    model_hits = [e for e in out.events if e.role != "TEXTURE"]
    assert all(0 <= e.vel <= 1 and abs(e.micro_offset_ms) <= STEP_MS / 2 for e in model_hits)
    assert len({e.micro_offset_ms for e in model_hits}) > 10  # really the model's timing
    assert out.added == out.removed == 0


def test_played_hits_keep_how_they_were_played_when_asked() -> None:
    events = [
        replace(e, source="played", vel=0.3 + 0.01 * i, micro_offset_ms=-7.0 + i)
        if e.role in ("CORE", "ACCENT")
        else e
        for i, e in enumerate(rich_pattern(4))
    ]
    played = [e for e in events if e.source == "played"]
    model = ContextModel()
    kept = humanize_events(events, GRID, model=model, keep_played=True).events
    assert Counter(e for e in kept if e.source == "played") == Counter(played)  # untouched
    assert {e.source for e in kept if e.role not in ("CORE", "ACCENT")} == {"groovae"}
    # the model still heard them: the others' timing is the same as without keeping
    replaced = humanize_events(events, GRID, model=ContextModel()).events
    assert {e.source for e in replaced} == {"groovae"}
    assert [e for e in kept if e.source == "groovae"] == [
        e for e in replaced if e.role not in ("CORE", "ACCENT")
    ]
    assert sorted((e.vel, e.micro_offset_ms) for e in replaced if e.role == "CORE") != sorted(
        (e.vel, e.micro_offset_ms) for e in played if e.role == "CORE"
    )


def test_vary_keeps_the_played_hits_it_does_not_remove() -> None:
    events = [replace(e, source="played", vel=0.42) for e in rich_pattern(4)]
    model = ScriptedVary(add={19: ["kick"]}, remove=("snare",))
    out = vary_events(
        events, GRID, kit_pools(), model=model, temperature=0.7, seed=5, keep_played=True
    )
    assert not [e for e in out.events if e.role == "ACCENT"]  # removed all the same
    old = [e for e in out.events if e.source == "played"]
    assert old and all(e.vel == 0.42 and e.micro_offset_ms == 0.0 for e in old)
    new = [e for e in out.events if e.source == "groovae"]
    assert new and all(e.vel == 0.7 for e in new)


def test_texture_never_reaches_the_model_and_is_kept_as_it_is() -> None:
    bed = hit(0, 0, "TEXTURE", "pad", vel=0.5, dur_steps=16, micro_offset_ms=-3.0)
    model = ContextModel()
    out = humanize_events([bed, hit(0, 0, "CORE", "kick")], GRID, model=model)
    assert model.seen[0].sum() == 2 * 1  # the kick, once in each of its two windows
    assert out.events[1] == replace(bed, source="groovae")


def test_encoding_clips_offsets_and_the_loudest_of_a_cell_speaks_for_it() -> None:
    events = [
        hit(1, 3, "MOTION", "a", vel=0.3, micro_offset_ms=-500.0),
        hit(1, 3, "MOTION", "b", vel=0.9, micro_offset_ms=20.0),
        hit(1, 5, "MOTION", "c", micro_offset_ms=500.0),
    ]
    encoded = encode_events(events, GRID)
    c = DRUM_CLASSES.index("closed_hihat")
    assert encoded.cells == [(19, c), (19, c), (21, c)]
    assert encoded.velocities[19, c] == pytest.approx(0.9)
    assert encoded.offsets[19, c] == pytest.approx(20 / STEP_MS)
    assert encoded.offsets[21, c] == 0.5 and encoded.hits.sum() == 2


def test_a_grid_that_is_not_16_steps_per_bar_is_refused() -> None:
    with pytest.raises(DrumgenxError, match="GrooVAE needs 16"):
        encode_events([], replace(GRID, steps_per_bar=12))


# --- vary ----------------------------------------------------------------------------------


def test_vary_drops_removed_hits_and_adds_new_ones_from_the_pools() -> None:
    events = rich_pattern(4)
    # window position 19 is step 3 of the window's second bar (central); 16 is its step 0
    model = ScriptedVary(add={19: ["open_hihat", "kick"], 16: ["crash"]}, remove=("snare",))
    out = vary_events(events, GRID, kit_pools(), model=model, temperature=0.7, seed=5)
    assert model.calls == [(0.7, 5)]
    assert not [e for e in out.events if e.role == "ACCENT"]
    assert out.removed == sum(e.role == "ACCENT" for e in events)
    new = [e for e in out.events if e.step == 3]
    assert sorted((e.role, e.sample_id, e.dur_steps) for e in new if e.bar == 2) == [
        ("CORE", "kick", 4),
        ("MOTION", "hat_open", 2),
    ]
    crashes = [e for e in out.events if e.sample_id == "crash"]
    assert [(e.bar, e.step, e.role, e.dur_steps) for e in crashes] == [
        (b, 0, "FILL", 8) for b in range(4)
    ]
    assert out.added == 4 * 3 and {e.source for e in out.events} == {"groovae"}
    assert all(
        e.vel == 0.7 and e.micro_offset_ms == 12.5 for e in out.events if e.role != "TEXTURE"
    )


def test_vary_new_hits_are_decided_by_the_window_where_they_are_central() -> None:
    """Adding at a window position near its edge (weight < 1/2) is outvoted by the window
    where that step is central; adding at a central position always wins."""
    out = vary_events(
        [],
        GRID,
        kit_pools(),
        model=ScriptedVary(add={2: ["kick"], 9: ["snare"]}),
        temperature=1,
        seed=0,
    )
    assert sorted((e.bar, e.step, e.role) for e in out.events) == [
        (b, 9, "ACCENT") for b in range(4)
    ]


def test_vary_reapplies_the_3_voice_limit_and_texture_keeps_its_voice() -> None:
    events = [hit(0, 0, "TEXTURE", "pad", dur_steps=16), hit(0, 0, "CORE", "kick")]
    model = ScriptedVary(add={16: list(DRUM_CLASSES)})  # every class on every downbeat
    out = vary_events(events, GRID, kit_pools(), model=model, temperature=0.5, seed=1)
    per_step = Counter(e.position for e in out.events)
    assert max(per_step.values()) == 3
    assert [e.role for e in out.events if e.position == (0, 0)] == ["CORE", "ACCENT", "TEXTURE"]
    assert [e.role for e in out.events if e.position == (1, 0)] == ["CORE", "ACCENT", "FILL"]
    # bar 0: 4 FILL + 3 MOTION classes over the limit, bars 1-3: 3 + 3 each
    assert out.polyphony_dropped == {"FILL": 4 + 3 * 3, "MOTION": 3 * 4}
    assert out.events[0].sample_id == "kick" and out.removed == 0


def test_vary_new_hits_rotate_samples_and_fall_back_to_the_nearest_role() -> None:
    pools = kit_pools(MOTION=True)
    model = ScriptedVary(add={p: ["closed_hihat"] for p in (10, 12, 14, 18, 20)})
    said: list[str] = []
    out = vary_events([], GRID, pools, model=model, temperature=0.5, seed=3, notify=said.append)
    hats = [e for e in out.events if e.step in (2, 4, 10, 12, 14)]
    assert {e.role for e in hats} == {"ACCENT"} and {e.dur_steps for e in hats} == {4}
    assert {e.sample_id for e in hats} == {"snare", "clap"}  # in turn, not one file
    assert said == ["new closed_hihat hits use ACCENT samples (MOTION_POOL is empty)"]
    again = vary_events([], GRID, pools, model=model, temperature=0.5, seed=3)
    assert again.events == out.events
    said.clear()
    bare = vary_events(
        [], GRID, Pools({}), model=model, temperature=0.5, seed=3, notify=said.append
    )
    assert bare.events == [] and "no pool has samples for 20 new closed_hihat" in said[0]
