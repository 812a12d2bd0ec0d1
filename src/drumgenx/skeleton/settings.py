"""Stage 3's settings: the pattern's choices, and where the command finds its samples.

Kept free of heavy imports, so the command line reads its defaults from here at start-up.
`skeleton.patterns.SkeletonParams` extends `PatternSettings` with the two limits the
command line does not set (``max_voices``, ``rotation``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AUTO", "MOTION_MODES", "PATTERNS", "RANDOM_POOLS", "SAMPLE_ROOT", "PatternSettings"]

AUTO = "auto"
"""``--bpm auto`` and ``--pattern auto``: the input decides (`skeleton.origin`)."""
PATTERNS: tuple[str, ...] = ("seed", "source", "style", AUTO)
"""The ``--pattern`` kinds (``style`` also as ``style:NAME``)."""

MOTION_MODES: tuple[str, ...] = ("A", "B")
"""A: the same eighth-note hats every bar; B: weighted 16th hats redrawn per bar."""
RANDOM_POOLS = "random"
"""``--pools_json random``: deal the files under the sample root to roles at random."""
SAMPLE_ROOT = "examples/input_samples"
"""Where sample files are looked up by default: the bundled kit in a checkout."""


@dataclass(frozen=True)
class PatternSettings:
    """The skeleton's choices (``drumgenx skeleton``'s flags); defaults are the seed's.

    Attributes
    ----------
    bars
        Pattern length in bars, 1 or more (4).
    seed
        Seeds every random choice (42).
    motion_mode
        One of `MOTION_MODES` (B).
    motion_keep
        MOTION hits per bar, 4..8 (6).
    fill_prob
        Chance of a fill closing each 4-bar phrase, 0..1 (0.25).
    texture
        A TEXTURE bed from bar 0 for 16 steps (True).
    pattern
        Where the hits come from: ``seed`` (the seed's rules), ``source`` (an input's own
        pattern), ``style`` or ``style:NAME`` (a GMD drummer's), ``auto`` (``source`` where
        an input has a steady pattern, else ``style``); see `skeleton.origin` (seed).
    """

    bars: int = 4
    seed: int = 42
    motion_mode: str = "B"
    motion_keep: int = 6
    fill_prob: float = 0.25
    texture: bool = True
    pattern: str = "seed"
