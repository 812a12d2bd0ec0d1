"""``--pattern source``: hits from a stage-1 manifest, on the beat grid, the section that loops."""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.skeleton.source import (
    SourceHit,
    best_section,
    laid_end_to_end,
    place_on_grid,
    smooth_beats,
    source_hits,
    tile_section,
)

BPM = 100.0
BEAT = 60.0 / BPM
STEP = BEAT / 4


def bar_hits(bar: int, cells: list[tuple[int, str]], *, swing_steps: float = 0.0) -> list:
    """SourceHits at ``(step, role)`` cells of ``bar``; odd 16ths late by ``swing_steps``."""
    return [
        SourceHit(
            time_s=(bar * 16 + step + (swing_steps if step % 2 else 0.0)) * STEP,
            vel=1.0,
            role=role,
            sample_id=None,
        )
        for step, role in cells
    ]


GROOVE_A = [(0, "CORE"), (4, "ACCENT"), (0, "MOTION"), (2, "MOTION"), (6, "MOTION")]
GROOVE_B = [(0, "CORE"), (10, "CORE"), (12, "ACCENT"), (8, "MOTION"), (14, "MOTION")]
VARIATION = [(0, "CORE"), (4, "FILL"), (8, "FILL"), (12, "FILL"), (14, "FILL")]


def grid(n_bars: int):
    beats = np.arange(n_bars * 4 + 1) * BEAT
    return beats, beats[::4]


def test_the_two_bar_groove_wins_over_its_bars_and_the_variation() -> None:
    # A B A B A B A VARIATION: the 2-bar groove repeats three times, then is varied
    hits = []
    for bar, cells in enumerate([GROOVE_A, GROOVE_B] * 3 + [GROOVE_A, VARIATION]):
        hits += bar_hits(bar, cells)
    beats, downbeats = grid(8)
    placed = place_on_grid(hits, beats=beats, downbeats=downbeats)
    section = best_section(placed)
    assert (section.n_bars, section.start_bar) == (2, 0)
    assert section.score == pytest.approx((5 + 0.2) / 6)  # the varied bar shares 1 cell of 10
    assert {(h.bar, h.step, h.role) for h in section.hits} == {
        *((0, s, r) for s, r in GROOVE_A),
        *((1, s, r) for s, r in GROOVE_B),
    }
    tiled = tile_section(section, bars=5)
    assert max(h.bar for h in tiled) == 4 and len(tiled) == 2 * 10 + 5


def test_a_one_bar_groove_loops_as_one_bar_and_nothing_recurring_scores_low() -> None:
    beats, downbeats = grid(4)
    steady = place_on_grid(
        [h for bar in range(4) for h in bar_hits(bar, GROOVE_A)], beats=beats, downbeats=downbeats
    )
    assert (best_section(steady).n_bars, best_section(steady).score) == (1, 1.0)
    rng = np.random.default_rng(0)
    random_hits = [
        SourceHit(float(t), 1.0, str(rng.choice(["CORE", "ACCENT", "MOTION"])), None)
        for t in np.sort(rng.uniform(0, 16 * BEAT, 40))
    ]
    loose = best_section(place_on_grid(random_hits, beats=beats, downbeats=downbeats))
    assert loose.score < 0.6
    assert best_section([]) is None


def test_swing_and_micro_timing_are_kept_as_fractions_of_a_step() -> None:
    beats, downbeats = grid(2)
    hits = bar_hits(0, [(0, "CORE"), (1, "MOTION"), (3, "MOTION")], swing_steps=0.3)
    hits.append(SourceHit(time_s=4 * STEP - 0.2 * STEP, vel=0.5, role="ACCENT", sample_id="s1"))
    placed = place_on_grid(hits, beats=beats, downbeats=downbeats)
    by_step = {h.step: h for h in placed}
    assert by_step[0].offset == pytest.approx(0.0, abs=1e-9)
    assert by_step[1].offset == pytest.approx(0.3) and by_step[3].offset == pytest.approx(0.3)
    assert by_step[4].offset == pytest.approx(-0.2) and by_step[4].sample_id == "s1"


def test_bars_count_from_the_downbeat_and_follow_a_changing_tempo() -> None:
    # beats drift from 0.5 s to 0.55 s apart; the first downbeat is the second beat
    beats = np.cumsum([0.0, *np.linspace(0.5, 0.55, 12)])
    hits = [
        SourceHit(float(beats[1]), 1.0, "CORE", None),
        SourceHit(float(beats[5]), 1, "CORE", None),
    ]
    hits.append(SourceHit(float((beats[7] + beats[8]) / 2), 1.0, "MOTION", None))
    hits.append(SourceHit(float(beats[0]), 1.0, "CORE", None))  # before bar 0: left out
    placed = place_on_grid(hits, beats=beats, downbeats=beats[1::4])
    assert [(h.bar, h.step, h.role) for h in placed] == [
        (0, 0, "CORE"),
        (1, 0, "CORE"),
        (1, 10, "MOTION"),
    ]


def test_source_hits_take_the_transcribed_roles_and_their_own_slices() -> None:
    probs = {"kick": 0.1, "snare": 0.2, "hihat": 0.9, "tom": 0.0, "cymbal": 0.0}
    manifest = {
        "files": [
            {
                "source": "song.wav",
                "hit_list": [
                    {"time_s": 0.5, "strength": 0.8, "class_probs": probs},
                    {"time_s": 1.0, "strength": 0.4, "class_probs": probs},
                    {"time_s": 1.5, "strength": 0.02, "class_probs": probs},
                    {"time_s": 2.0, "strength": 0.8},
                ],
            },
            {"source": "other.wav", "hit_list": [{"time_s": 0.5, "strength": 1.0}]},
        ],
        "samples": [
            {
                "sample_id": "dummy_00001",
                "source": "song.wav",
                "onset_s": 0.5,
                "absorbed": [
                    {
                        "source": "song.wav",
                        "onset_s": 1.0,
                        "start_s": 0.99,
                        "end_s": 1.2,
                        "similarity": 0.99,
                    }
                ],
            },
            {"sample_id": "dummy_00002", "source": "other.wav", "onset_s": 0.5, "absorbed": []},
        ],
    }
    hits = source_hits(manifest, "song.wav", pool_roles={"dummy_00001": "CORE"})
    assert [(h.time_s, h.role, h.sample_id) for h in hits] == [
        (0.5, "MOTION", "dummy_00001"),  # the hat heard; its own slice, whatever its pool
        (1.0, "MOTION", "dummy_00001"),  # absorbed into that slice: plays it
        (1.5, "MOTION", None),  # no slice: its most probable class
    ]  # 2.0 s: no slice, no classes -> left out
    untranscribed = {
        "files": [{**manifest["files"][0], "hit_list": [{"time_s": 0.5, "strength": 1}]}]
    }
    untranscribed["samples"] = manifest["samples"]
    (hit,) = source_hits(untranscribed, "song.wav", pool_roles={"dummy_00001": "CORE"})
    assert (hit.role, hit.sample_id) == ("CORE", "dummy_00001")  # stage 2's role for its slice
    assert hits[0].vel == 1.0 and hits[1].vel == pytest.approx(0.5, abs=0.01)
    assert hits[2].vel == 0.15  # a ghost note keeps the floor
    assert source_hits(manifest, "missing.wav", pool_roles={}) == []


def test_a_section_on_the_phrase_grid_wins_over_a_marginally_better_one_off_it() -> None:
    a = [(0, "CORE"), (4, "ACCENT"), (8, "CORE"), (12, "ACCENT")]
    b = [(0, "CORE"), (4, "ACCENT"), (10, "CORE"), (12, "ACCENT"), (14, "FILL")]
    hits = []
    for bar, cells in enumerate([[*a, (6, "MOTION")], b, a, b, a, b]):  # bar 0: one extra hat
        hits += bar_hits(bar, cells)
    beats, downbeats = grid(6)
    placed = place_on_grid(hits, beats=beats, downbeats=downbeats)
    # bars 1-2 (B A) and 2-3 (A B) both match all but the odd first bar: the phrase (A B) wins
    section = best_section(placed, lengths=(2,))
    assert (section.start_bar, section.n_bars) == (2, 2)


def test_the_other_drums_struck_with_a_hit_join_the_pattern_in_their_roles() -> None:
    crash_and_kick = {"kick": 0.8, "snare": 0.05, "hihat": 0.3, "tom": 0.0, "cymbal": 0.9}
    manifest = {
        "files": [
            {
                "source": "song.wav",
                "hit_list": [
                    {
                        "time_s": 1.0,
                        "strength": 1.0,
                        "class_probs": crash_and_kick,
                        "classes": ["kick", "cymbal"],
                    },
                ],
            }
        ],
        "samples": [{"sample_id": "d1", "source": "song.wav", "onset_s": 1.0, "absorbed": []}],
    }
    hits = source_hits(manifest, "song.wav", pool_roles={"d1": "MOTION"})
    assert [(h.role, h.sample_id) for h in hits] == [
        ("FILL", "d1"),  # the likeliest drum, the crash, plays the hit's own slice
        ("CORE", None),  # the kick under it, from the CORE pool
    ]
    in_core = source_hits(manifest, "song.wav", pool_roles={"d1": "CORE"})
    assert [(h.role, h.sample_id) for h in in_core] == [("FILL", None), ("CORE", "d1")]


def test_velocity_follows_the_hits_level_and_the_grid_is_smoothed() -> None:
    listed = [{"time_s": float(t), "strength": 0.99, "level_db": db} for t, db in
              [(0.5, -6.0), (1.0, -6.0), (1.5, -21.0), (2.0, -60.0)]]  # fmt: skip
    hits = source_hits({"files": [{"source": "s", "hit_list": [
        {**h, "class_probs": {"kick": 0.9}} for h in listed]}]}, "s", pool_roles={})  # fmt: skip
    assert [round(h.vel, 2) for h in hits] == [1.0, 1.0, 0.5, 0.15]  # 15 dB down: half
    rng = np.random.default_rng(0)
    line = 0.3 + 0.5 * np.arange(32)
    smoothed = smooth_beats(line + rng.normal(0, 0.015, 32))
    assert np.abs(smoothed - line).max() < 0.012  # the tracker's wobble mostly gone
    late = place_on_grid(
        [SourceHit(float(line[8]) + 0.02, 1.0, "ACCENT", None)], beats=line, downbeats=line[::4]
    )
    assert late[0].offset == pytest.approx(0.02 / 0.125)  # 20 ms late on a 125 ms step


def test_a_loop_is_laid_end_to_end_without_the_next_turns_cut_in_hit() -> None:
    from drumgenx.core.tempo import BeatGrid, LoopGrid

    period = 2.0
    hits = [
        SourceHit(0.0, 1.0, "CORE", "kick"),
        SourceHit(1.0, 0.8, "ACCENT", "snare"),
        SourceHit(period - 0.01, 0.9, "CORE", "kick_cut_in"),  # the next downbeat, cut in
    ]
    grid = BeatGrid(
        bpm=120.0,
        beats=np.arange(8) * 0.5,
        downbeats=np.arange(2) * 2.0,
        steady=True,
        confidence=1.0,
    )
    loop = LoopGrid(grid=grid, bars=1, turns=3, period_s=period)
    played = laid_end_to_end(hits, loop=loop)
    assert [(h.time_s, h.sample_id) for h in played] == [
        (0.0, "kick"),
        (1.0, "snare"),
        (2.0, "kick"),
        (3.0, "snare"),
        (4.0, "kick"),
        (5.0, "snare"),
    ]
