"""Fusing the role sources: rules, CLAP, the learned scorer.

The seed's fusion is ``p = alpha * p_rule + (1 - alpha) * p_clap`` with ``alpha = 0.9``. Here
each source ``s`` gets a weight

    w_s = base_s * (1 + confidence_s) / 2

with ``base_rule = alpha``, ``base_clap = 1 - alpha``, ``base_model = model_weight`` (all from
the config) and ``confidence = 1 - H(p_s) / log(5)`` (1 for a one-hot distribution, 0 for a
uniform one), and ``p = sum_s w_s p_s / sum_s w_s``. A source that is sure of itself counts
up to twice as much as one that is guessing; a missing source (CLAP without weights) has
weight 0. With rules and CLAP alone and equally confident, this is the seed's formula.
"""

from __future__ import annotations

import math

import numpy as np


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
) -> tuple[np.ndarray, dict[str, float]]:
    """Fused role probabilities and the normalised weight each source got.

    Parameters
    ----------
    p_rule, p_clap, p_model
        Distributions over the five roles; ``None`` for a source that is not available.
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
    sources = {
        "rule": (p_rule, alpha),
        "clap": (p_clap, 1.0 - alpha),
        "model": (p_model, model_weight),
    }
    weights: dict[str, float] = {}
    for name, (p, base) in sources.items():
        if p is None:
            weights[name] = 0.0
        else:
            weights[name] = base * ((1.0 + confidence(p)) / 2.0 if adaptive else 1.0)
    total = sum(weights.values())
    if total <= 0.0:  # e.g. alpha 0 and no CLAP: fall back to the rules alone
        weights = {"rule": 1.0, "clap": 0.0, "model": 0.0}
        total = 1.0
    fused = sum(
        (weights[name] / total) * np.asarray(p, dtype=np.float64)
        for name, (p, _) in sources.items()
        if p is not None and weights[name] > 0
    )
    fused = np.asarray(fused, dtype=np.float64)
    return fused / fused.sum(), {name: w / total for name, w in weights.items()}
