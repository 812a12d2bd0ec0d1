"""Editor operations: pure functions from events to new events, with user-facing errors."""

from __future__ import annotations

import pytest

from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.core.events import DUR_STEPS, sort_events, velocity
from drumgenx.core.records import Event, PoolItem, Pools
from drumgenx.edit.operations import (
    POOL_SEED,
    Selection,
    change_velocity,
    draw_pool_sample,
    most_used_sample,
    parse_index_list,
    remove_hits,
    set_hit,
)


def ev(bar, step, role, sample_id, vel=0.8, dur_steps=4, **kwargs) -> Event:
    return Event(bar, step, role, sample_id, vel, dur_steps, **kwargs)


# CORE uses kick_a twice and kick_b once; bar 0 step 0 holds three hits (the limit).
EVENTS = [
    ev(0, 0, "CORE", "kick_a", 1.0),
    ev(0, 0, "ACCENT", "snare_a", 0.95),
    ev(0, 0, "TEXTURE", "pad", 0.5, 16),
    ev(0, 2, "MOTION", "hat_a", 0.6, 2, micro_offset_ms=-3.5),
    ev(0, 4, "CORE", "kick_b", 0.85),
    ev(0, 4, "ACCENT", "snare_a", 0.95),
    ev(1, 0, "CORE", "kick_a", 1.0),
    ev(1, 6, "MOTION", "hat_b", 0.6, 2),
    ev(1, 12, "ACCENT", "snare_b", 0.95),
]


def keys(events: list[Event]) -> list[tuple[int, int, str]]:
    return [(e.bar, e.step, e.role) for e in events]


# --- parse_index_list ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", {3}),
        (" 3 ", {3}),
        ("0,2,4-7", {0, 2, 4, 5, 6, 7}),
        ("1-1", {1}),
        ("0-3, 2-5", {0, 1, 2, 3, 4, 5}),
        ("15", {15}),
    ],
)
def test_parse_index_list(text, expected):
    """Single values, comma lists and inclusive ranges, overlaps merged."""
    assert parse_index_list(text, name="step", upper=16) == frozenset(expected)


def test_parse_index_list_without_upper_bound():
    """Bars have no upper bound at parse time."""
    assert parse_index_list("100-101", name="bar") == {100, 101}


@pytest.mark.parametrize("text", ["", "a", "1-", "-1", "1,,2", "1.5", "3-1", "16", "0-16", "2-x"])
def test_parse_index_list_errors(text):
    """Non-numbers, empty parts, reversed ranges and values past the bound are refused,
    naming the parameter (the command line names its flag)."""
    with pytest.raises(ParameterError, match=r"^step "):
        parse_index_list(text, name="step", upper=16)


# --- Selection -----------------------------------------------------------------------------


def test_selection_unknown_role():
    """A role outside CORE/ACCENT/MOTION/FILL/TEXTURE is a user error."""
    with pytest.raises(DrumgenxError, match="unknown role"):
        Selection(roles=frozenset({"CORE", "SNARE"}))


def test_selection_matching():
    """Every given filter must match; an absent filter matches anything."""
    hit = ev(1, 6, "MOTION", "hat_b")
    assert Selection().is_everything
    assert Selection().matches(hit)
    assert Selection(bars=frozenset({1})).matches(hit)
    assert Selection(bars=frozenset({1}), steps=frozenset({6})).matches(hit)
    assert Selection(roles=frozenset({"MOTION", "CORE"})).matches(hit)
    assert not Selection(bars=frozenset({0})).matches(hit)
    assert not Selection(bars=frozenset({1}), steps=frozenset({7})).matches(hit)
    assert not Selection(bars=frozenset({1}), roles=frozenset({"CORE"})).matches(hit)
    assert not Selection(steps=frozenset()).is_everything


# --- set_hit -------------------------------------------------------------------------------


def test_set_hit_adds_a_hit_sorted():
    """A new hit is added with source 'edit'; the output is in time then priority order."""
    out = set_hit(EVENTS, bar=0, step=4, role="MOTION", sample_id="hat_b", vel=0.4)
    assert len(out) == len(EVENTS) + 1
    assert out == sort_events(out)
    (new,) = [e for e in out if e not in EVENTS]
    assert new == Event(0, 4, "MOTION", "hat_b", 0.4, DUR_STEPS["MOTION"], 0.0, "edit")
    assert keys(out)[4:7] == [(0, 4, "CORE"), (0, 4, "ACCENT"), (0, 4, "MOTION")]


def test_set_hit_replaces_same_bar_step_role():
    """Setting an existing (bar, step, role) replaces that hit; others are kept as they were."""
    out = set_hit(EVENTS, bar=0, step=4, role="CORE", sample_id="kick_a", vel=0.3)
    assert len(out) == len(EVENTS)
    (core,) = [e for e in out if (e.bar, e.step, e.role) == (0, 4, "CORE")]
    assert (core.sample_id, core.vel, core.source) == ("kick_a", 0.3, "edit")
    assert [e for e in out if e is not core] == [e for e in EVENTS if e != EVENTS[4]]


def test_set_hit_defaults():
    """No sample -> the role's most used one; no vel/dur -> the skeleton's rule for the step."""
    out = set_hit(EVENTS, bar=1, step=8, role="CORE")
    (new,) = [e for e in out if (e.bar, e.step) == (1, 8)]
    assert new.sample_id == "kick_a"
    assert new.vel == velocity("CORE", 8) == 0.9
    assert new.dur_steps == DUR_STEPS["CORE"]
    assert new.micro_offset_ms == 0.0

    out = set_hit(EVENTS, bar=1, step=3, role="MOTION", micro_offset_ms=7.25)
    (new,) = [e for e in out if (e.bar, e.step) == (1, 3)]
    assert new.vel == velocity("MOTION", 3) == 0.4
    assert new.dur_steps == DUR_STEPS["MOTION"]
    assert new.micro_offset_ms == 7.25


def test_set_hit_explicit_length():
    """dur_steps can be given instead of the role's default."""
    out = set_hit(EVENTS, bar=1, step=1, role="ACCENT", dur_steps=0.5)
    assert [e.dur_steps for e in out if (e.bar, e.step) == (1, 1)] == [0.5]


@pytest.mark.parametrize("step", range(16))
def test_set_hit_fill_default_velocity_is_playable_on_every_step(step):
    """A FILL off the crescendo steps (12-15) gets 0.7, not a negative or zero velocity."""
    out = set_hit(EVENTS, bar=1, step=step, role="FILL", sample_id="tom")
    (fill,) = [e for e in out if e.role == "FILL"]
    assert fill.vel == (velocity("FILL", step) if step >= 12 else 0.7)
    assert 0.7 <= fill.vel <= 1.0


def test_set_hit_polyphony_limit():
    """A fourth hit on a step is refused; replacing one of three is allowed."""
    with pytest.raises(DrumgenxError, match="polyphony limit"):
        set_hit(EVENTS, bar=0, step=0, role="MOTION", sample_id="hat_a")
    out = set_hit(EVENTS, bar=0, step=0, role="TEXTURE", sample_id="pad_b")
    assert sum(e.position == (0, 0) for e in out) == 3
    out = set_hit(EVENTS, bar=0, step=0, role="MOTION", sample_id="hat_a", max_voices=4)
    assert sum(e.position == (0, 0) for e in out) == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"step": 16}, "no step 16"),
        ({"step": -1}, "no step -1"),
        ({"bar": -1}, "bars count from 0"),
        ({"vel": 1.5}, "vel must be 0..1"),
        ({"vel": -0.1}, "vel must be 0..1"),
        ({"vel": float("nan")}, "vel must be 0..1"),
        ({"role": "SNARE"}, "unknown role"),
        ({"role": "FILL", "sample_id": None}, "no FILL hit to take a sample from"),
        ({"micro_offset_ms": 1000.5}, "micro_offset_ms must be -1000..1000"),
        ({"micro_offset_ms": float("nan")}, "micro_offset_ms must be"),
    ],
)
def test_set_hit_errors(kwargs, message):
    """Bad step, bar, velocity, role, offset, or no sample to default to -> DrumgenxError."""
    args = {"bar": 1, "step": 2, "role": "CORE", "sample_id": "kick_a", **kwargs}
    with pytest.raises(DrumgenxError, match=message):
        set_hit(EVENTS, **args)


def test_set_hit_does_not_modify_its_input():
    """Operations are pure: the input list is left as it was."""
    before = list(EVENTS)
    set_hit(EVENTS, bar=0, step=4, role="CORE", vel=0.1)
    assert before == EVENTS


# --- remove_hits ---------------------------------------------------------------------------


def test_remove_hits_by_selection():
    """Only hits matching every filter go; the rest keep their order."""
    out = remove_hits(EVENTS, Selection(bars=frozenset({0}), roles=frozenset({"ACCENT"})))
    assert out == [e for e in EVENTS if not (e.bar == 0 and e.role == "ACCENT")]
    out = remove_hits(EVENTS, Selection(steps=frozenset({0, 6})))
    assert keys(out) == [(0, 2, "MOTION"), (0, 4, "CORE"), (0, 4, "ACCENT"), (1, 12, "ACCENT")]


def test_remove_hits_refuses_empty_selection():
    """No filter would remove every hit: refused."""
    with pytest.raises(DrumgenxError, match="select hits"):
        remove_hits(EVENTS, Selection())


def test_remove_hits_no_match():
    """A selection that matches nothing is an error, not a silent no-op."""
    with pytest.raises(DrumgenxError, match="matches no hit"):
        remove_hits(EVENTS, Selection(bars=frozenset({5})))
    with pytest.raises(DrumgenxError, match="matches no hit"):
        remove_hits(EVENTS, Selection(roles=frozenset({"FILL"})))


# --- change_velocity -----------------------------------------------------------------------


def test_change_velocity_set():
    """--set gives the selected hits that velocity and source 'edit'; others are untouched."""
    selection = Selection(roles=frozenset({"CORE"}), bars=frozenset({0}))
    out = change_velocity(EVENTS, selection, value=0.25)
    assert len(out) == len(EVENTS)
    for before, after in zip(EVENTS, out, strict=True):
        if selection.matches(before):
            assert (after.vel, after.source) == (0.25, "edit")
            assert after.sample_id == before.sample_id
            assert after.micro_offset_ms == before.micro_offset_ms
        else:
            assert after == before


def test_change_velocity_scale_and_cap():
    """--scale multiplies; results above 1 are capped at 1."""
    out = change_velocity(EVENTS, Selection(roles=frozenset({"MOTION"})), scale=0.5)
    assert [e.vel for e in out if e.role == "MOTION"] == [0.3, 0.3]
    assert all(e.source == "edit" for e in out if e.role == "MOTION")
    out = change_velocity(EVENTS, Selection(steps=frozenset({4})), scale=2.0)
    assert [e.vel for e in out if e.step == 4] == [1.0, 1.0]
    assert [e for e in out if e.step != 4] == [e for e in EVENTS if e.step != 4]


def test_change_velocity_everything():
    """Without filters, velocity applies to every hit (unlike remove)."""
    out = change_velocity(EVENTS, Selection(), scale=0.0)
    assert all(e.vel == 0.0 and e.source == "edit" for e in out)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of value and scale"),
        ({"value": 0.5, "scale": 2.0}, "exactly one of value and scale"),
        ({"value": 1.5}, "value must be 0..1"),
        ({"value": -0.5}, "value must be 0..1"),
        ({"scale": -1.0}, "scale must be >= 0"),
    ],
)
def test_change_velocity_errors(kwargs, message):
    """Both or neither of set/scale, or a value out of range -> DrumgenxError."""
    with pytest.raises(DrumgenxError, match=message):
        change_velocity(EVENTS, Selection(), **kwargs)


def test_change_velocity_no_match():
    """A selection matching nothing is an error."""
    with pytest.raises(DrumgenxError, match="matches no hit"):
        change_velocity(EVENTS, Selection(bars=frozenset({3})), value=0.5)


def test_change_velocity_refuses_nan_scale() -> None:
    """NaN compares false with everything; it must not slip through as a scale."""
    events = [Event(0, 0, "CORE", "kick", 0.5, 4)]
    with pytest.raises(DrumgenxError, match="scale must be >= 0"):
        change_velocity(events, Selection(), scale=float("nan"))


# --- samples for new hits ------------------------------------------------------------------


def test_most_used_sample():
    """The role's most used sample; None when the role has no hit."""
    assert most_used_sample(EVENTS, role="CORE") == "kick_a"
    assert most_used_sample(EVENTS, role="FILL") is None


def _fill_pools(*confidences: float) -> Pools:
    items = [PoolItem(f"tom_{i}", f"tom_{i}.wav", c) for i, c in enumerate(confidences)]
    return Pools({"FILL": items})


def test_draw_pool_sample_is_seeded_and_covers_the_pool():
    """The same seed gives the same sample (default POOL_SEED); seeds reach every sample."""
    pools = _fill_pools(0.9, 0.8, 0.7, 0.6)
    assert draw_pool_sample(pools, role="FILL") == draw_pool_sample(
        pools, role="FILL", seed=POOL_SEED
    )
    drawn = {draw_pool_sample(pools, role="FILL", seed=seed) for seed in range(60)}
    assert drawn == {"tom_0", "tom_1", "tom_2", "tom_3"}


def test_draw_pool_sample_weights_by_confidence():
    """A sample of confidence 1 against one of 0 (floored at 0.001) wins ~999 draws in 1000."""
    pools = _fill_pools(0.0, 1.0)
    drawn = [draw_pool_sample(pools, role="FILL", seed=seed) for seed in range(1000)]
    assert drawn.count("tom_1") >= 990


def test_draw_pool_sample_empty_pool_and_unknown_role():
    """An empty (or absent) pool gives None; an unknown role is an error naming `role`."""
    assert draw_pool_sample(_fill_pools(0.5), role="TEXTURE") is None
    assert draw_pool_sample(Pools(), role="FILL") is None
    with pytest.raises(DrumgenxError, match="role must be one of"):
        draw_pool_sample(_fill_pools(0.5), role="SNARE")
