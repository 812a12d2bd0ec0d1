"""Where an event sounds: grid step + swing + micro-timing.

Swing follows drum machines: every off-beat 16th (odd step) is delayed by ``swing`` steps.
``swing`` is 0..0.75; 0 is straight, 1/3 a triplet shuffle (an MPC's 66 %), 0.5 an MPC's
75 %. In MPC terms, ``mpc_percent = 50 + 50 * swing``. Render and MIDI export both use
`onset_steps`, so they always agree.
"""

from __future__ import annotations

from fractions import Fraction

from drumgenx.core.errors import ParameterError
from drumgenx.core.records import Event, Grid

MAX_SWING = 0.75  # past this an off-beat 16th would land on the next step
BEATS_PER_BAR = 4  # the grid is 4/4 (skeleton.grid; load_grid checks tbar)


def check_swing(swing: float) -> float:
    if not 0.0 <= swing <= MAX_SWING:
        raise ParameterError("swing", f"must be 0..{MAX_SWING}, got {swing:g}")
    return swing


def swing_delay(step: int, swing: float) -> float:
    """Delay of ``step`` in steps: ``swing`` for off-beat 16ths (odd steps), else 0."""
    return swing if step % 2 == 1 else 0.0


def onset_steps(event: Event, grid: Grid, *, swing: float = 0.0) -> float:
    """Onset of ``event`` in steps from the loop start (fractional: swing + micro-timing)."""
    offset_steps = event.micro_offset_ms / 1000.0 / grid.tstep
    return (
        event.bar * grid.steps_per_bar + event.step + swing_delay(event.step, swing) + offset_steps
    )


def onset_seconds(event: Event, grid: Grid, *, swing: float = 0.0) -> float:
    """Onset of ``event`` in seconds from the loop start."""
    return onset_steps(event, grid, swing=swing) * grid.tstep


def loop_frames(grid: Grid, *, sr: int) -> int:
    """Length of one loop of ``grid`` in samples at ``sr``.

    The loop lasts ``num_bars * 4 * 60 / bpm`` seconds (the grid is 4/4; `load_grid` checks
    its ``tbar`` is four beats). That times ``sr`` is computed exactly (as a fraction of the
    stored ``bpm``, so float rounding never shifts it) and rounded to the nearest sample,
    a tie (half a sample, e.g. one bar at 128 bpm and 44.1 kHz) to the even one, as Python's
    ``round`` does. The error is at most half a sample per loop, never accumulated per bar.
    """
    seconds = Fraction(grid.num_bars * BEATS_PER_BAR * 60) / Fraction(grid.bpm)
    return round(seconds * sr)
