"""Stage 4's settings: one frozen dataclass, the one place its defaults live.

Kept free of heavy imports (no torch), so the command line reads its defaults from here at
start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MODES", "PLAYED_CHOICES", "GrooveSettings"]

MODES: tuple[str, ...] = ("humanize", "vary")
"""humanize: the same hits, a drummer's velocities and micro-timing; vary: hits may change."""
PLAYED_CHOICES: tuple[str, ...] = ("keep", "replace")
"""What stage 4 does with played hits (the input's own pattern, a GMD drummer's)."""


@dataclass(frozen=True)
class GrooveSettings:
    """How ``drumgenx groove`` runs (`groove.run.run_groove`).

    Attributes
    ----------
    mode
        One of `MODES` (humanize).
    temperature
        ``vary``'s sampling temperature, 0 or more (0.5: halfway between the model's
        closest reconstruction, 0, and free sampling, 1).
    seed
        ``vary``'s random seed and ``feel``'s draws (42, as stage 3).
    feel
        ``humanize`` with the humanizer: 0..1, 0 the most likely performance (the lowest
        timing and velocity error), 1 a drummer's spread drawn from the model; 0 by default
        so a run gives the same loop every time unless asked.
    drummer
        ``humanize``: play like GMD's drummer 1..10; 0 (default): any drummer.
    style
        ``humanize``: a GMD style (``funk``, ``jazz``, ... as the shipped humanizer lists);
        empty (default): any style.
    played
        One of `PLAYED_CHOICES`: ``keep`` (default) leaves the hits stage 3 took as played
        (``--pattern source``, ``style``) with their own velocity and micro-timing, the
        groove the loop was taken for (the model gives its feel to the other hits);
        ``replace`` gives them the model's like any hit. Chosen on the pattern bench's GMD
        validation beats: the model's timing correlates 0.32 / 0.13 with the performance
        the loop was heard in (drums alone / at 0 dB), the hits' own 0.49 / 0.63.
    """

    mode: str = "humanize"
    temperature: float = 0.5
    seed: int = 42
    feel: float = 0.0
    drummer: int = 0
    style: str = ""
    played: str = "keep"
