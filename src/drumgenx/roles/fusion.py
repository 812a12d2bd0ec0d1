"""Fusing the role sources: rules, CLAP, the learned scorer, the transcriber's drum classes.

The seed's fusion is ``p = alpha * p_rule + (1 - alpha) * p_clap`` with ``alpha = 0.9``. Here
each source ``s`` gets a weight

    w_s = base_s * (1 + confidence_s) / 2

with ``base_rule = alpha``, ``base_clap = 1 - alpha``, ``base_model = model_weight``,
``base_hits = transcriber_weight`` (all from the config) and
``confidence = 1 - H(p_s) / log(5)`` (1 for a one-hot distribution, 0 for a uniform one),
and ``p = sum_s w_s p_s / sum_s w_s``. A source that is sure of itself counts up to twice as
much as one that is guessing; a missing source (CLAP without weights) has weight 0. With
rules and CLAP alone and equally confident, this is the seed's formula.

The fourth source, ``hits``, exists only for a one-shot whose stage-1 manifest entry carries
the transcriber's ``class_probs`` (``--onset_method transcribe``): `class_probs_to_roles`
maps them to roles. A one-shot without them is fused from the other three exactly as
before (its ``weights`` have no ``hits`` entry).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from drumgenx.core.roles import CLASS_ROLES, ROLES

TEXTURE_FLOOR = 0.05
"""TEXTURE's share before normalising: no drum class is a bed, but a hit the transcriber
barely tells apart may still be one; with a clear class it keeps ~4 %."""


def class_probs_to_roles(class_probs: Mapping[str, float]) -> np.ndarray | None:
    """A role distribution from the transcriber's five class probabilities.

    Each role takes the largest probability of the classes that map to it (`CLASS_ROLES`:
    FILL is a tom or a cymbal, the larger of the two; the classes are independent
    probabilities, not shares, so they are not added), TEXTURE takes `TEXTURE_FLOOR`, and
    the five are normalised to sum 1. A confident kick (0.95, the rest 0.05-0.1) gives
    CORE 0.79; classes that are all alike give a near-uniform distribution, which the
    fusion's confidence weighting counts little. None when every class is ~0 (nothing to
    say). Unknown class names are ignored.
    """
    v = dict.fromkeys(ROLES, 0.0)
    for name, role in CLASS_ROLES.items():
        p = float(class_probs.get(name, 0.0))
        if math.isfinite(p):
            v[role] = max(v[role], min(max(p, 0.0), 1.0))
    if sum(v.values()) < 1e-6:
        return None
    v["TEXTURE"] = TEXTURE_FLOOR
    out = np.array([v[role] for role in ROLES], dtype=np.float64)
    return out / out.sum()


def heard_role(p_hits: np.ndarray | None, *, above: float) -> str | None:
    """The role the transcriber heard clearly: the most probable of ``p_hits`` (from
    `class_probs_to_roles`) where it holds at least ``above`` (config
    ``fusion.spare_heard_above``), else None; the role stage 2's guards spare
    (`roles.rules.apply_guards`)."""
    if p_hits is None or float(np.max(p_hits)) < above:
        return None
    return ROLES[int(np.argmax(p_hits))]


def confidence(p: np.ndarray) -> float:
    """``1 - entropy / log(n)``: 0 for a uniform distribution, 1 for a certain one."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1.0)
    return float(1.0 + (p * np.log(p)).sum() / math.log(len(p)))


def fuse(
    *,
    p_rule: np.ndarray,
    p_clap: np.ndarray | None,
    p_model: np.ndarray | None,
    alpha: float,
    model_weight: float,
    adaptive: bool = True,
    p_hits: np.ndarray | None = None,
    hits_weight: float = 0.0,
) -> tuple[np.ndarray, dict[str, float]]:
    """Fused role probabilities and the normalised weight each source got.

    Parameters
    ----------
    p_rule, p_clap, p_model
        Distributions over the five roles; ``None`` for a source that is not available.
    p_hits
        The transcriber's classes as roles (`class_probs_to_roles`), or None: then the
        result, weights included, is exactly that of the three other sources.
    hits_weight
        Base weight of ``p_hits`` (config ``fusion.transcriber_weight``).
    alpha
        The seed's rule-vs-CLAP balance (0.9, config ``fusion.alpha``).
    model_weight
        Base weight of the learned scorer (config ``fusion.model_weight``).
    adaptive
        Scale each base weight by the source's confidence (see the module docstring).
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be 0..1, got {alpha}")
    if model_weight < 0:
        raise ValueError(f"model_weight must be >= 0, got {model_weight}")
    if hits_weight < 0:
        raise ValueError(f"hits_weight must be >= 0, got {hits_weight}")
    sources = {
        "rule": (p_rule, alpha),
        "clap": (p_clap, 1.0 - alpha),
        "model": (p_model, model_weight),
    }
    if p_hits is not None:
        sources["hits"] = (p_hits, hits_weight)
    weights: dict[str, float] = {}
    for name, (p, base) in sources.items():
        if p is None:
            weights[name] = 0.0
        else:
            weights[name] = base * ((1.0 + confidence(p)) / 2.0 if adaptive else 1.0)
    total = sum(weights.values())
    if total <= 0.0:  # e.g. alpha 0 and no CLAP: fall back to the rules alone
        weights = {name: float(name == "rule") for name in sources}
        total = 1.0
    fused = sum(
        (weights[name] / total) * np.asarray(p, dtype=np.float64)
        for name, (p, _) in sources.items()
        if p is not None and weights[name] > 0
    )
    fused = np.asarray(fused, dtype=np.float64)
    return fused / fused.sum(), {name: w / total for name, w in weights.items()}
