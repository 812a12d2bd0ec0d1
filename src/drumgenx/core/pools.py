"""Stage 2's pools as the later stages use them: seeded draws, and where a sample's file is.

`choose_samples` is the rotation a role's hits take in turn (the skeleton's, and GrooVAE's new
hits); `seeded_rng` and `weighted_order` are the seeded streams and the confidence-weighted
order it is built on; `resolve_sample_path` finds a sample's file as the renderer and the kit
export do. The draws are pure functions of their inputs and seed: no clock, no global random
state.
"""

from __future__ import annotations

import random
from pathlib import Path

from drumgenx.core.audio import AUDIO_EXTENSIONS
from drumgenx.core.records import PoolItem, Pools
from drumgenx.core.roles import ROLES

__all__ = ["ROTATION", "choose_samples", "resolve_sample_path", "seeded_rng", "weighted_order"]

ROTATION = 3  # distinct samples a role cycles through when its pool has them


def seeded_rng(seed: int, purpose: str) -> random.Random:
    """An independent random stream for one decision (``purpose``) of a seeded choice.

    One stream per decision, so changing one rule never reshuffles the others;
    `random.Random` seeded from a str is stable across Python versions and platforms.
    """
    return random.Random(f"drumgenx:{seed}:{purpose}")


def weighted_order(weights: list[float], rng: random.Random) -> list[int]:
    """Indices in a weighted random order without replacement (Efraimidis-Spirakis keys)."""
    keys = [rng.random() ** (1.0 / w) for w in weights]
    return sorted(range(len(weights)), key=lambda i: -keys[i])


def choose_samples(
    pools: Pools, *, seed: int, rotation: int = ROTATION
) -> dict[str, list[PoolItem]]:
    """Up to ``rotation`` samples per role, drawn by confidence with the seed.

    Higher confidence makes a sample likelier to be drawn and to come first in the rotation;
    samples stage 2 marked unsure come after every sure one of their pool (drawn only when
    the sure ones are fewer than ``rotation``).

    Parameters
    ----------
    pools
        Stage 2's pools; a role without a pool gets an empty list.
    seed
        Any integer; each role draws from its own stream of it (`seeded_rng`).
    rotation
        The most samples per role (at least 1).

    Returns
    -------
    dict
        ``{role: [PoolItem, ...]}`` for every role in `ROLES`, in rotation order.
    """
    chosen = {}
    for role in ROLES:
        pool = pools.pool(role)
        rng = seeded_rng(seed, f"samples:{role}")
        # A floor keeps zero-confidence samples drawable rather than dividing by zero.
        order = weighted_order([max(item.confidence, 1e-3) for item in pool], rng)
        # a stable sort: sure samples first, each group in its drawn order (a pool without
        # unsure samples is drawn exactly as before)
        order.sort(key=lambda i: pool[i].unsure)
        chosen[role] = [pool[i] for i in order[:rotation]]
    return chosen


def resolve_sample_path(
    sample_id: str,
    *,
    pools: Pools | None,
    pools_dir: Path | None,
    sample_root: Path | None,
) -> Path | None:
    """Where the file of ``sample_id`` is, or None.

    Tried in order: the pool's ``filepath`` as given (absolute, or relative to the current
    folder), relative to the pools file's folder, under ``sample_root`` as given or by file
    name; then ``sample_root/<sample_id>.<audio extension>`` (stage 1 names files by id).
    """
    candidates: list[Path] = []
    item = pools.find(sample_id) if pools else None
    if item is not None:
        given = Path(item.filepath)
        candidates.append(given)
        if not given.is_absolute():
            if pools_dir is not None:
                candidates.append(pools_dir / given)
            if sample_root is not None:
                candidates.append(sample_root / given)
        if sample_root is not None:
            candidates.append(sample_root / given.name)
    if sample_root is not None:
        candidates += [sample_root / f"{sample_id}{ext}" for ext in sorted(AUDIO_EXTENSIONS)]
    return next((c for c in candidates if c.is_file()), None)
