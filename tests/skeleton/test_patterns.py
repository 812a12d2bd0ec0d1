"""Every skeleton rule of the seed's stage 3, pinned down on the pure functions."""

from __future__ import annotations

from collections import Counter

import pytest

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.events import velocity
from drumgenx.core.records import PoolItem, Pools
from drumgenx.core.roles import ROLES
from drumgenx.skeleton.grid import build_grid
from drumgenx.skeleton.patterns import (
    MOTION_A_ORDER,
    SkeletonParams,
    build_skeleton,
    fill_bars,
    limit_polyphony,
    motion_steps,
)


def _pools(per_role: int = 3) -> Pools:
    return Pools(
        {
            role: [
                PoolItem(f"{role.lower()}_{i}", f"{role.lower()}_{i}.wav", 0.9 - 0.1 * i)
                for i in range(per_role)
            ]
            for role in ROLES
        }
    )


def _steps(events, role: str, bar: int | None = None) -> list[int]:
    return sorted(e.step for e in events if e.role == role and (bar is None or e.bar == bar))


def test_grid_times() -> None:
    grid = build_grid(bpm=120, num_bars=2)
    assert (grid.tbeat, grid.tbar, grid.tstep) == (0.5, 2.0, 0.125)
    assert grid.bar_start == [0.0, 2.0] and grid.t_step[17] == pytest.approx(2.125)
    assert len(grid.t_step) == 32
    with pytest.raises(DrumgenxError):
        build_grid(bpm=0, num_bars=1)


def test_core_and_accent_steps_every_bar() -> None:
    events = build_skeleton(_pools(), SkeletonParams(bars=8, fill_prob=0.0)).events
    for bar in range(8):
        assert _steps(events, "CORE", bar) == [0, 4, 8, 12]
        assert _steps(events, "ACCENT", bar) == [4, 12]


@pytest.mark.parametrize("keep", [4, 5, 6, 7, 8])
def test_motion_mode_a_is_the_same_eighths_every_bar(keep: int) -> None:
    bars = motion_steps(SkeletonParams(bars=4, motion_mode="A", motion_keep=keep))
    assert all(b == sorted(MOTION_A_ORDER[:keep]) for b in bars)
    assert all(s % 2 == 0 for s in bars[0])
    assert motion_steps(SkeletonParams(motion_mode="A", motion_keep=4))[0] == [2, 6, 10, 14]


@pytest.mark.parametrize("keep", [4, 6, 8])
def test_motion_mode_b_keeps_n_distinct_steps_redrawn_per_bar(keep: int) -> None:
    bars = motion_steps(SkeletonParams(bars=32, motion_mode="B", motion_keep=keep, seed=3))
    assert all(len(set(b)) == keep and all(0 <= s < 16 for s in b) for b in bars)
    assert len({tuple(b) for b in bars}) > 1  # redrawn, not one fixed bar
    counts = Counter(s for b in bars for s in b)
    offbeat = sum(counts[s] for s in (2, 6, 10, 14))
    sixteenth = sum(counts[s] for s in range(1, 16, 2)) / 2  # per 4 steps, like offbeat
    assert offbeat > sixteenth  # weighted towards off-beat eighths


def test_motion_keep_hits_per_bar_reach_the_events_when_nothing_collides() -> None:
    params = SkeletonParams(bars=4, motion_mode="A", motion_keep=4, fill_prob=0.0, texture=False)
    events = build_skeleton(_pools(), params).events
    assert all(_steps(events, "MOTION", bar) == [2, 6, 10, 14] for bar in range(4))


def test_fill_on_last_bar_of_each_phrase_with_probability() -> None:
    assert fill_bars(SkeletonParams(bars=8, fill_prob=1.0)) == [3, 7]
    assert fill_bars(SkeletonParams(bars=6, fill_prob=1.0)) == [3, 5]  # partial phrase: last bar
    assert fill_bars(SkeletonParams(bars=8, fill_prob=0.0)) == []
    events = build_skeleton(_pools(), SkeletonParams(bars=8, fill_prob=1.0)).events
    assert _steps(events, "FILL", 3) == [12, 13, 14, 15] and _steps(events, "FILL", 7) == [
        12,
        13,
        14,
        15,
    ]
    assert not _steps(events, "FILL", 0)
    # Over many phrases the share of fills follows fill_prob.
    share = len(fill_bars(SkeletonParams(bars=4000, fill_prob=0.25, seed=1))) / 1000
    assert 0.2 < share < 0.3


def test_texture_at_bar0_step0_for_16_steps_only_when_enabled() -> None:
    events = build_skeleton(_pools(), SkeletonParams(texture=True)).events
    textures = [e for e in events if e.role == "TEXTURE"]
    assert [(e.bar, e.step, e.dur_steps) for e in textures] == [(0, 0, 16)]
    assert not [
        e
        for e in build_skeleton(_pools(), SkeletonParams(texture=False)).events
        if e.role == "TEXTURE"
    ]


def test_polyphony_keeps_three_by_priority() -> None:
    hits = [(0, 12, r) for r in ("TEXTURE", "MOTION", "FILL", "ACCENT", "CORE")]
    kept, dropped = limit_polyphony(hits, max_voices=3)
    assert {h[2] for h in kept} == {"CORE", "ACCENT", "FILL"}
    assert dropped == Counter({"MOTION": 1, "TEXTURE": 1})
    kept, _ = limit_polyphony([(0, 0, "TEXTURE"), (0, 0, "MOTION")], max_voices=1)
    assert kept == [(0, 0, "MOTION")]


def test_no_step_ever_exceeds_three_voices() -> None:
    for seed in range(20):
        params = SkeletonParams(bars=8, seed=seed, motion_keep=8, fill_prob=1.0)
        skeleton = build_skeleton(_pools(), params)
        per_step = Counter(e.position for e in skeleton.events)
        assert max(per_step.values()) <= 3
        # FILL on 12 collides with CORE+ACCENT: the MOTION hit there is the one dropped.
        assert not [e for e in skeleton.events if e.role == "MOTION" and (e.bar, e.step) == (3, 12)]


def test_samples_rotate_and_follow_confidence() -> None:
    events = build_skeleton(_pools(), SkeletonParams(bars=4)).events
    core = [e.sample_id for e in events if e.role == "CORE"]
    assert len(set(core)) == 3
    assert all(core[i] != core[i + 1] for i in range(len(core) - 1))
    # With one confident sample among near-zero ones, it is almost always drawn first.
    pools = Pools({"CORE": [PoolItem("weak", "w.wav", 0.001), PoolItem("strong", "s.wav", 1.0)]})
    firsts = Counter(
        build_skeleton(pools, SkeletonParams(seed=s, rotation=1)).events[0].sample_id
        for s in range(50)
    )
    assert firsts["strong"] >= 45


def test_single_sample_pool_and_empty_pool_notice() -> None:
    pools = Pools({"CORE": [PoolItem("k", "k.wav", 0.5)]})
    said: list[str] = []
    skeleton = build_skeleton(pools, SkeletonParams(), notify=said.append)
    assert {e.role for e in skeleton.events} == {"CORE"}
    assert {e.sample_id for e in skeleton.events} == {"k"}
    assert any("ACCENT_POOL is empty" in n for n in said)
    assert set(skeleton.chosen) == {"CORE"}


def test_velocities_follow_accents() -> None:
    assert velocity("CORE", 0) > velocity("CORE", 8) > velocity("CORE", 4)
    assert velocity("MOTION", 0) > velocity("MOTION", 2) > velocity("MOTION", 3)
    assert [velocity("FILL", s) for s in (12, 13, 14, 15)] == [0.7, 0.8, 0.9, 1.0]
    events = build_skeleton(_pools(), SkeletonParams(bars=1)).events
    assert all(0 < e.vel <= 1 and e.source == "skeleton" and e.micro_offset_ms == 0 for e in events)


def test_same_seed_same_events_other_seed_differs() -> None:
    a = build_skeleton(_pools(), SkeletonParams(seed=5, bars=8)).events
    assert a == build_skeleton(_pools(), SkeletonParams(seed=5, bars=8)).events
    assert a != build_skeleton(_pools(), SkeletonParams(seed=6, bars=8)).events


def test_events_are_time_then_priority_ordered() -> None:
    from drumgenx.core.roles import ROLE_PRIORITY

    events = build_skeleton(_pools(), SkeletonParams(bars=4, fill_prob=1.0)).events
    keys = [(e.bar, e.step, ROLE_PRIORITY[e.role]) for e in events]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    "params",
    [
        SkeletonParams(motion_mode="C"),
        SkeletonParams(motion_keep=3),
        SkeletonParams(motion_keep=9),
        SkeletonParams(fill_prob=1.5),
        SkeletonParams(bars=0),
    ],
)
def test_bad_params_are_refused(params: SkeletonParams) -> None:
    with pytest.raises(DrumgenxError):
        build_skeleton(_pools(), params)


def test_a_patterns_hits_are_marked_played_and_the_rules_hits_and_the_bed_not() -> None:
    from drumgenx.skeleton.source import PlacedHit

    hits = [
        PlacedHit(bar=0, step=0, role="CORE", vel=0.9, offset=0.1, sample_id=None, time_s=None),
        PlacedHit(bar=0, step=4, role="ACCENT", vel=0.6, offset=-0.05, sample_id=None, time_s=None),
    ]
    events = build_skeleton(_pools(), SkeletonParams(bars=1, texture=True), hits=hits).events
    assert {(e.role, e.source) for e in events} == {
        ("CORE", "played"),
        ("ACCENT", "played"),
        ("TEXTURE", "skeleton"),
    }
    ruled = build_skeleton(_pools(), SkeletonParams(bars=1)).events
    assert {e.source for e in ruled} == {"skeleton"}
