"""The five drum roles and their fixed orders."""

from __future__ import annotations

# Output order of pools and tables: the seed's order.
ROLES: tuple[str, ...] = ("CORE", "ACCENT", "MOTION", "FILL", "TEXTURE")

# Who survives when more than `max_voices` hits start on one step (seed, stage 3):
# CORE > ACCENT > FILL > MOTION > TEXTURE. Lower number = kept first.
ROLE_PRIORITY: dict[str, int] = {"CORE": 0, "ACCENT": 1, "FILL": 2, "MOTION": 3, "TEXTURE": 4}


def pool_key(role: str) -> str:
    """Key of a role's list in ``pools_N.json`` (``"CORE"`` -> ``"CORE_POOL"``)."""
    return f"{role}_POOL"


# The role each of the drum transcriber's classes plays in a loop: kick -> CORE, snare/clap/
# rim -> ACCENT, hats/ride/shaker -> MOTION, toms and crashes -> FILL (stage 2 fuses the
# classes' probabilities with this map; stage 3 reads a source's pattern with it).
CLASS_ROLES: dict[str, str] = {
    "kick": "CORE",
    "snare": "ACCENT",
    "hihat": "MOTION",
    "tom": "FILL",
    "cymbal": "FILL",
}
