"""Benchmark the mixer: dense 3-voice polyphony, one CPU core.

Usage::

    python bench/bench_render.py [--bars 64] [--repeats 5] [--bpm 120]

Builds a pattern with three hits on every 16th step (kick, snare and open hat from the
bundled synth, 0.4-0.6 s each, already at 44.1 kHz so resampling is a no-op) and times
`render_events` end to end: voice shaping, the mix, and the peak ceiling. ``dur_steps`` is
long enough that no hit is gated, so every hit adds its whole sample (the worst case). The
goal is a real-time factor (audio seconds / render seconds) of at least 1000 on one core.
"""

from __future__ import annotations

import argparse
import statistics
import time

import _onecore  # first: one thread per pool, before numpy loads
import numpy as np

from drumgenx.core.records import Event, Grid
from drumgenx.kit.synth import synthesize_voice
from drumgenx.render.mixer import render_events
from drumgenx.skeleton.grid import build_grid

SR = 44100
GOAL_RTF = 1000.0
VOICES = (("kick", "CORE"), ("snare", "ACCENT"), ("hat_open", "MOTION"))


def build_case(
    bars: int, bpm: float
) -> tuple[list[Event], Grid, dict[str, tuple[np.ndarray, int]]]:
    """Three hits on every step of ``bars`` bars, with small micro-offsets and velocities."""
    grid = build_grid(bpm=bpm, num_bars=bars)
    samples = {name: (synthesize_voice(name, sr=SR)[:, None], SR) for name, _ in VOICES}
    longest = max(len(y) for y, _ in samples.values()) / SR
    dur_steps = float(np.ceil(longest / grid.tstep)) + 1.0  # never gated
    rng = np.random.default_rng(0)
    events = [
        Event(
            bar=bar,
            step=step,
            role=role,
            sample_id=name,
            vel=float(rng.uniform(0.4, 1.0)),
            dur_steps=dur_steps,
            micro_offset_ms=float(rng.uniform(-8.0, 8.0)),
        )
        for bar in range(bars)
        for step in range(grid.steps_per_bar)
        for name, role in VOICES
    ]
    return events, grid, samples


def time_render(
    events: list[Event],
    grid: Grid,
    samples: dict[str, tuple[np.ndarray, int]],
    *,
    loop: bool,
    repeats: int,
) -> tuple[float, float]:
    """Best and median wall time of `render_events` over ``repeats`` runs, after a warm-up."""
    render_events(events, grid, samples, sr=SR, loop=loop)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        render_events(events, grid, samples, sr=SR, loop=loop)
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=64, help="pattern length (default: 64)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (default: 5)")
    parser.add_argument("--bpm", type=float, default=120.0, help="tempo (default: 120)")
    args = parser.parse_args()

    pinned = _onecore.pin_one_core()
    events, grid, samples = build_case(args.bars, args.bpm)
    lengths = ", ".join(f"{k} {len(y) / SR:.2f} s" for k, (y, _) in samples.items())
    print(f"render_events, {SR} Hz, {args.bpm:g} bpm, {pinned}, numpy {np.__version__}")
    print(f"samples: {lengths}; best/median of {args.repeats} after 1 warm-up\n")

    header = (
        f"{'case':<22}{'bars':>5}{'hits':>7}{'audio s':>9}"
        f"{'best s':>9}{'median s':>10}{'RTF best':>10}{'RTF med':>9}{'goal':>7}  result"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for label, loop in (("3-voice, tails", False), ("3-voice, loop=True", True)):
        best, median = time_render(events, grid, samples, loop=loop, repeats=args.repeats)
        rtf_best, rtf_median = grid.duration / best, grid.duration / median
        ok = rtf_best >= GOAL_RTF
        failed |= not ok
        print(
            f"{label:<22}{args.bars:>5}{len(events):>7}{grid.duration:>9.1f}"
            f"{best:>9.4f}{median:>10.4f}{rtf_best:>9.0f}x{rtf_median:>8.0f}x"
            f"{GOAL_RTF:>6.0f}x  {'PASS' if ok else 'FAIL'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
