"""Stage 4's settings: one frozen dataclass, the one place its defaults live.

Kept free of heavy imports (no torch), so the command line reads its defaults from here at
start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MODES", "GrooveSettings"]

MODES: tuple[str, ...] = ("humanize", "vary")
"""humanize: the same hits, a drummer's velocities and micro-timing; vary: hits may change."""


@dataclass(frozen=True)
class GrooveSettings:
    """How ``drumgenx groove`` runs GrooVAE (`groove.run.run_groove`).

    Attributes
    ----------
    mode
        One of `MODES` (humanize).
    temperature
        ``vary``'s sampling temperature, 0 or more (0.5: halfway between the model's
        closest reconstruction, 0, and free sampling, 1).
    seed
        ``vary``'s random seed (42, as stage 3).
    """

    mode: str = "humanize"
    temperature: float = 0.5
    seed: int = 42
