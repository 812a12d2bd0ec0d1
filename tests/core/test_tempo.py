"""Tempo of transcribed hits: click trains and drum patterns at known tempi, and too few hits;
beats, downbeats and steadiness of played grooves (swing, jitter) and of hits at random times."""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.core.tempo import (
    LOOP_MAX_S,
    estimate_tempo,
    in_one_turn,
    tempo_from_activation,
    track_beats,
    track_loop,
)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 150.0])
def test_clicks_at_a_known_tempo(bpm: float) -> None:
    times = np.arange(0.3, 20.0, 60.0 / bpm)
    assert estimate_tempo(times) == pytest.approx(bpm, rel=0.02)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 150.0])
def test_a_played_pattern_with_eighth_hats_and_jitter(bpm: float) -> None:
    """Kick and snare on the beats, hats on the eighths, 5 ms of timing jitter, accents."""
    rng = np.random.default_rng(int(bpm))
    eighths = np.arange(0.0, 24.0, 30.0 / bpm)
    times = eighths + rng.normal(0.0, 0.005, eighths.size)
    strengths = np.where(np.arange(eighths.size) % 2 == 0, 1.0, 0.4)
    assert estimate_tempo(times, strengths=strengths) == pytest.approx(bpm, rel=0.02)


def test_the_order_of_the_hits_does_not_matter() -> None:
    times = np.arange(0.0, 10.0, 0.5)
    assert estimate_tempo(times[::-1]) == pytest.approx(estimate_tempo(times))


@pytest.mark.parametrize("estimate", [estimate_tempo, track_beats])
def test_too_few_hits_give_no_tempo(estimate) -> None:
    """Both the tempo and the beat grid: None, never a guess."""
    assert estimate(np.array([])) is None
    assert estimate(np.array([0.0, 0.5, 1.0])) is None  # fewer than 4 hits
    assert estimate(np.array([0.0, 0.4, 0.8, 1.2, 1.6])) is None  # within 2 s
    assert estimate(np.arange(0.0, 3.0, 0.5), strengths=np.zeros(6)) is None
    with pytest.raises(ValueError):
        estimate(np.arange(5.0), strengths=np.ones(3))


def test_from_an_activation_curve() -> None:
    fps = 100.0
    act = np.zeros(3000)
    act[::50] = 1.0  # a hit every 0.5 s
    assert tempo_from_activation(act, fps=fps) == pytest.approx(120.0, rel=0.02)
    assert tempo_from_activation(np.ones(3000), fps=fps) is None  # no periodicity
    assert tempo_from_activation(np.zeros(50), fps=fps) is None  # too short


# --- track_beats: beats, downbeats and steadiness -----------------------------------------


def _groove(
    bpm: float,
    *,
    swing: float = 0.5,
    jitter: float = 0.01,
    bars: int = 12,
    start: float = 0.37,
    kick_beats: tuple[int, ...] = (0, 2),
    first_beat: int = 0,
    crash_every: int = 0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A played 4/4 groove: kick on ``kick_beats``, snare on 2 and 4, a hat on every eighth
    (the off-beat one at ``swing`` of a beat; a crash instead on the downbeat of every
    ``crash_every`` bars, when more than 0), uniform timing jitter of +-``jitter`` s, the kick
    on 1 a little louder than the one on 3. The hits start at beat ``first_beat`` of the first
    bar. Returns times, strengths, kick and snare probabilities, the true bar starts, and
    each hit's cymbal probability."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    times, strengths, kick, snare, cymbal = [], [], [], [], []
    for i in range(first_beat, bars * 4):
        on = start + i * beat
        b = i % 4
        times += [on, on + swing * beat]
        strengths += [1.0 if b == 0 else 0.9, 0.5]
        kick += [float(b in kick_beats), 0.0]
        snare += [float(b in (1, 3)), 0.0]
        cymbal += [float(crash_every > 0 and i % (4 * crash_every) == 0), 0.0]
    times = np.asarray(times) + rng.uniform(-jitter, jitter, len(times))
    bar_starts = start + np.arange(1 if first_beat else 0, bars) * 4 * beat
    return (
        times,
        np.asarray(strengths),
        np.asarray(kick),
        np.asarray(snare),
        bar_starts,
        np.asarray(cymbal),
    )


def _nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of ``a``, the distance to the nearest of ``b``."""
    return np.abs(np.asarray(a)[:, None] - np.asarray(b)[None, :]).min(axis=1)


@pytest.mark.parametrize("swing", [0.5, 0.62])
@pytest.mark.parametrize("bpm", [70.0, 96.0, 110.0, 128.0, 174.0])
def test_beats_and_downbeats_of_a_played_groove(bpm: float, swing: float) -> None:
    # kick on 1 and 3, snare on 2 and 4: the crash every 4 bars says which beat starts them
    times, strengths, kick, snare, bars, cymbal = _groove(
        bpm, swing=swing, crash_every=4, seed=int(bpm)
    )
    grid = track_beats(times, strengths=strengths, kick=kick, snare=snare, cymbal=cymbal)
    assert grid is not None
    assert grid.bpm == pytest.approx(bpm, rel=0.02)
    true_beats = bars[0] + np.arange(len(bars) * 4) * 60.0 / bpm
    # every beat found and nothing else: within 30 ms both ways
    assert _nearest(true_beats, grid.beats).max() < 0.03
    assert _nearest(grid.beats, true_beats).max() < 0.03
    assert len(grid.downbeats) == len(bars)
    assert _nearest(bars, grid.downbeats).max() < 0.03
    assert grid.steady and grid.confidence > 0.5


def test_the_downbeat_follows_the_kick_after_a_pickup() -> None:
    """Kick on 1 only, the hits starting on beat 3: the bar starts where the kick is."""
    times, strengths, kick, snare, bars, _ = _groove(100.0, kick_beats=(0,), first_beat=2)
    grid = track_beats(times, strengths=strengths, kick=kick, snare=snare)
    assert grid is not None
    assert grid.beats[0] == pytest.approx(times.min(), abs=0.03)  # the pickup's beats count
    assert _nearest(bars, grid.downbeats).max() < 0.03
    assert _nearest(grid.downbeats, bars).max() < 0.03


def _sixteenths_with_a_late_fill(
    *, late: float, seed: int, beat: float = 60.0 / 95, bars: int = 12, fill=(5, 6, 7)
):
    """A busy 16th groove (hats on the eighths, kick on steps 0, 10, 11, snare on 4 and 12,
    ghost snares on 7, 9, 15: every hit's strength near 1, as the transcriber gives them)
    with a ``fill`` of 16th snares played ``late`` of a beat behind the grid; timing jitter
    of 8 ms (deviation). Returns times, strengths, kick and snare probabilities."""
    rng = np.random.default_rng(seed)
    rows = []  # (time, strength, kick, snare)
    for bar in range(bars):
        for step in range(16):
            on = (bar * 16 + step) / 4 * beat
            if bar in fill:
                rows.append((on + late * beat, 1.0, 0.9 * (step % 4 == 2), 0.9))
                continue
            if step % 2 == 0:
                rows.append((on, 0.9, 0.0, 0.0))
            if step in (0, 10, 11):
                rows.append((on, 1.0, 1.0, 0.0))
            if step in (4, 12):
                rows.append((on, 1.0, 0.0, 1.0))
            if step in (7, 9, 15):
                rows.append((on, 0.95, 0.0, 0.9))
    times, strengths, kick, snare = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    return times + rng.normal(0.0, 0.008, times.size), strengths, kick, snare


def test_the_beats_come_back_to_the_groove_after_a_fill_played_late() -> None:
    """The beat tracker's tightness: at librosa's 100, 3 of these 20 grooves kept their beats
    a third of a beat off the grid for the rest of the piece after the fill."""
    beat = 60.0 / 95
    for late in (0.06, 0.08):
        for seed in range(10):
            times, strengths, kick, snare = _sixteenths_with_a_late_fill(late=late, seed=seed)
            grid = track_beats(times, strengths=strengths, kick=kick, snare=snare)
            assert grid is not None
            after = grid.beats[grid.beats > 32.5 * beat] / beat  # from the bar after the fill
            assert np.abs(after - np.round(after)).max() < 0.1, (late, seed)


def test_a_one_bar_loop_is_tracked_end_to_end_at_its_exact_tempo() -> None:
    # one bar at 123 bpm (1.95 s): too short for the tracker alone
    times, strengths, kick, snare, _, _ = _groove(123.0, bars=1, start=0.0, jitter=0.004)
    length = 4 * 60.0 / 123.0
    assert track_beats(times, strengths=strengths, kick=kick, snare=snare) is None
    loop = track_loop(times, duration_s=length, strengths=strengths, kick=kick, snare=snare)
    assert loop is not None and (loop.bars, loop.period_s) == (1, length)
    assert loop.grid.bpm == pytest.approx(123.0, abs=1e-9)  # the bar's, not an estimate
    assert loop.turns * length >= 30.0 and loop.grid.steady
    assert _nearest(loop.grid.downbeats[:3], length * np.arange(3)).max() < 0.03
    # the same hits in a file a third of a bar longer, or a long file: not a loop
    assert track_loop(times, duration_s=length * 4 / 3, strengths=strengths) is None
    long_times, long_strengths, *_ = _groove(120.0, bars=12, start=0.0)
    assert track_loop(long_times, duration_s=LOOP_MAX_S + 4, strengths=long_strengths) is None
    # a one-shot of 4 s (a crash) repeated would be a bar at 60 bpm: it is no loop
    assert track_loop(np.array([0.0]), duration_s=4.0, cymbal=np.array([0.9])) is None


def test_a_loop_cut_a_little_late_leaves_the_next_turns_first_hit_out() -> None:
    times, strengths, kick, snare, _, _ = _groove(123.0, bars=1, start=0.0, jitter=0.0)
    length = 4 * 60.0 / 123.0
    late = length + 0.02  # the file runs 20 ms into the next turn: its downbeat cut in
    with_seam = np.append(times, length)
    keep = in_one_turn(with_seam, period_s=late)
    assert keep[:-1].all() and not keep[-1]
    args = {"strengths": np.append(strengths, 1.0), "kick": np.append(kick, 1.0)}
    loop = track_loop(with_seam, duration_s=late, snare=np.append(snare, 0.0), **args)
    assert loop is not None and loop.bars == 1
    assert loop.grid.bpm == pytest.approx(60.0 * 4 / late)  # the file's length is the bar


def test_without_class_probabilities_the_tempo_still_comes() -> None:
    times, strengths, *_ = _groove(110.0, seed=3)
    grid = track_beats(times, strengths=strengths)
    assert grid is not None and grid.steady
    assert grid.bpm == pytest.approx(110.0, rel=0.02)


@pytest.mark.parametrize("rate", [1.0, 4.0, 12.0])
@pytest.mark.parametrize("span", [10.0, 30.0, 120.0])
def test_hits_at_random_times_have_no_steady_beat(rate: float, span: float) -> None:
    """Poisson hits (an ambience, found sounds) with random strengths and classes."""
    rng = np.random.default_rng(int(rate * span))
    for _ in range(5):
        n = max(int(rng.poisson(rate * span)), 8)
        grid = track_beats(
            rng.uniform(0.0, span, n),
            strengths=rng.uniform(0.2, 1.0, n),
            kick=rng.uniform(0, 1, n) * (rng.uniform(size=n) < 0.3),
            snare=rng.uniform(0, 1, n) * (rng.uniform(size=n) < 0.3),
        )
        assert grid is not None and not grid.steady, grid.confidence


def test_beat_tracking_refuses_mismatched_options() -> None:
    with pytest.raises(ValueError):
        track_beats(np.arange(5.0), kick=np.ones(3))
    with pytest.raises(ValueError):
        track_beats(np.arange(5.0), cymbal=np.ones(4))


def test_the_grid_is_read_only_and_in_the_callers_time() -> None:
    times, strengths, kick, snare, *_ = _groove(120.0, start=100.0, bars=8)
    grid = track_beats(times[::-1], strengths=strengths[::-1], kick=kick[::-1], snare=snare[::-1])
    assert grid is not None
    assert grid.beats[0] == pytest.approx(100.0, abs=0.03)
    assert np.all(np.diff(grid.beats) > 0)
    assert set(np.round(grid.downbeats, 6)) <= set(np.round(grid.beats, 6))
    with pytest.raises(ValueError):
        grid.beats[0] = 0.0
    with pytest.raises(AttributeError):
        grid.bpm = 60.0  # type: ignore[misc]
