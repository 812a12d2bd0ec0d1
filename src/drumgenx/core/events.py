"""What an event's numbers mean where several stages need the same answer.

The skeleton writes its hits with `velocity` and `DUR_STEPS`; the editor gives a new hit the
same defaults and GrooVAE's new hits the same lengths; every event grid file is in
`sort_events` order; no step holds more than `MAX_VOICES` hits the skeleton or GrooVAE
started; the renderer and the demo's played kit sound a velocity at `velocity_gain`. Pure
functions and constants, no disk.
"""

from __future__ import annotations

import numpy as np

from drumgenx.core.records import Event
from drumgenx.core.roles import ROLE_PRIORITY

__all__ = [
    "DUR_STEPS",
    "FILL_STEPS",
    "MAX_VOICES",
    "TEXTURE_STEPS",
    "sort_events",
    "step_class",
    "velocity",
    "velocity_gain",
]

FILL_STEPS = (12, 13, 14, 15)  # last beat of a phrase's last bar (seed)
TEXTURE_STEPS = 16  # the texture bed holds one bar from bar 0, step 0 (seed)
MAX_VOICES = 3  # simultaneous hits per step (seed, stage 3)

# How many steps each role's sample sounds before its release fade (render honours this).
DUR_STEPS = {"CORE": 4, "ACCENT": 4, "MOTION": 2, "FILL": 8, "TEXTURE": TEXTURE_STEPS}


def step_class(step: int) -> str:
    """``beat`` (0, 4, 8, 12), ``offbeat_8th`` (2, 6, 10, 14) or ``sixteenth`` (odd steps)."""
    if step % 4 == 0:
        return "beat"
    return "offbeat_8th" if step % 2 == 0 else "sixteenth"


def velocity(role: str, step: int) -> float:
    """Velocity (0..1) of a skeleton hit: musical accents, documented in the README.

    CORE: the downbeat 1.0, beat 3 0.9, beats 2 and 4 0.85. ACCENT: 0.95. MOTION: on the
    beat 0.75, off-beat eighths 0.6, 16ths ghosted at 0.4. FILL: a crescendo 0.7, 0.8, 0.9,
    1.0 over steps 12-15 (0.7 on any earlier step, where an edit may put one). TEXTURE: 0.5,
    a bed under the kit.
    """
    if role == "CORE":
        return {0: 1.0, 8: 0.9}.get(step, 0.85)
    if role == "ACCENT":
        return 0.95
    if role == "MOTION":
        return {"beat": 0.75, "offbeat_8th": 0.6, "sixteenth": 0.4}[step_class(step)]
    if role == "FILL":
        return round(0.7 + 0.1 * min(max(step - FILL_STEPS[0], 0), 3), 2)
    return 0.5


def sort_events(events: list[Event]) -> list[Event]:
    """Time order, then role priority: the order every event grid file uses."""
    return sorted(events, key=lambda e: (e.bar, e.step, ROLE_PRIORITY[e.role]))


def velocity_gain(vel: float | np.ndarray) -> float | np.ndarray:
    """Linear gain for a velocity 0..1: ``vel ** 2``.

    The square law most samplers use for MIDI velocity: vel 0.71 is -6 dB, 0.5 is -12 dB,
    0.1 is -40 dB.
    """
    return np.asarray(vel, dtype=np.float64) ** 2
