"""Tempo of transcribed hits: click trains and drum patterns at known tempi, and too few hits."""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.core.tempo import estimate_tempo, tempo_from_activation


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


def test_too_few_hits_give_no_tempo() -> None:
    assert estimate_tempo(np.array([])) is None
    assert estimate_tempo(np.array([0.0, 0.5, 1.0])) is None  # fewer than 4 hits
    assert estimate_tempo(np.array([0.0, 0.4, 0.8, 1.2, 1.6])) is None  # within 2 s
    assert estimate_tempo(np.arange(0.0, 3.0, 0.5), strengths=np.zeros(6)) is None
    with pytest.raises(ValueError):
        estimate_tempo(np.arange(5.0), strengths=np.ones(3))


def test_from_an_activation_curve() -> None:
    fps = 100.0
    act = np.zeros(3000)
    act[::50] = 1.0  # a hit every 0.5 s
    assert tempo_from_activation(act, fps=fps) == pytest.approx(120.0, rel=0.02)
    assert tempo_from_activation(np.ones(3000), fps=fps) is None  # no periodicity
    assert tempo_from_activation(np.zeros(50), fps=fps) is None  # too short
