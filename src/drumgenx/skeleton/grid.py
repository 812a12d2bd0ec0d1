"""The beat grid: 4/4, sixteen 16th-note steps a bar, times in seconds."""

from __future__ import annotations

from drumgenx.core.errors import ParameterError
from drumgenx.core.records import Grid

STEPS_PER_BAR = 16  # 16th notes in 4/4 (seed, stage 3)
BEATS_PER_BAR = 4


def check_bpm(bpm: float) -> None:
    """A `ParameterError` for a tempo outside 20..999 bpm (NaN included)."""
    if not 20 <= bpm <= 999:
        raise ParameterError("bpm", f"must be between 20 and 999, got {bpm:g}")


def build_grid(*, bpm: float, num_bars: int) -> Grid:
    """Build the grid for ``num_bars`` bars of 4/4 at ``bpm``.

    Times are products of the index and the period (not running sums), so they carry no
    accumulated rounding error and are identical on every machine.
    """
    check_bpm(bpm)
    if not 1 <= num_bars <= 1024:
        raise ParameterError("num_bars", f"must be between 1 and 1024, got {num_bars}")
    tbeat = 60.0 / bpm
    tbar = tbeat * BEATS_PER_BAR
    tstep = tbar / STEPS_PER_BAR
    return Grid(
        bpm=float(bpm),
        meter=f"{BEATS_PER_BAR}/4",
        steps_per_bar=STEPS_PER_BAR,
        num_bars=num_bars,
        tbeat=tbeat,
        tbar=tbar,
        tstep=tstep,
        bar_start=[b * tbar for b in range(num_bars)],
        t_step=[i * tstep for i in range(num_bars * STEPS_PER_BAR)],
    )
