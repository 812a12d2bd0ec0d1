"""Fusion math: the seed's formula as a special case, confidence weighting, missing sources."""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.roles.fusion import confidence, fuse

UNIFORM = np.full(5, 0.2)
CERTAIN = np.array([1.0, 0, 0, 0, 0])


def test_confidence_bounds() -> None:
    assert confidence(UNIFORM) == pytest.approx(0.0, abs=1e-9)
    assert confidence(CERTAIN) == pytest.approx(1.0, abs=1e-6)
    assert 0 < confidence(np.array([0.5, 0.5, 0, 0, 0])) < 1


def test_seed_formula_when_rules_and_clap_are_equally_sure() -> None:
    p_rule = np.array([0.6, 0.1, 0.1, 0.1, 0.1])
    p_clap = np.array([0.1, 0.6, 0.1, 0.1, 0.1])  # same confidence, other role
    fused, weights = fuse(p_rule=p_rule, p_clap=p_clap, p_model=None, alpha=0.9, model_weight=0.5)
    assert np.allclose(fused, 0.9 * p_rule + 0.1 * p_clap)
    assert weights == pytest.approx({"rule": 0.9, "clap": 0.1, "model": 0.0})
    plain, _ = fuse(
        p_rule=p_rule, p_clap=CERTAIN, p_model=None, alpha=0.9, model_weight=0, adaptive=False
    )
    assert np.allclose(plain, 0.9 * p_rule + 0.1 * CERTAIN)


def test_a_confident_source_counts_more() -> None:
    _, weights = fuse(p_rule=UNIFORM, p_clap=None, p_model=CERTAIN, alpha=0.5, model_weight=0.5)
    assert weights["model"] == pytest.approx(2 * weights["rule"] / 1.0, rel=1e-6)
    fused, _ = fuse(p_rule=UNIFORM, p_clap=None, p_model=CERTAIN, alpha=0.5, model_weight=0.5)
    assert fused.argmax() == 0 and fused.sum() == pytest.approx(1.0)


def test_missing_sources_and_bad_settings() -> None:
    fused, weights = fuse(p_rule=CERTAIN, p_clap=None, p_model=None, alpha=0.9, model_weight=1)
    assert np.allclose(fused, CERTAIN) and weights["clap"] == weights["model"] == 0.0
    fused, weights = fuse(p_rule=UNIFORM, p_clap=None, p_model=None, alpha=0.0, model_weight=0)
    assert np.allclose(fused, UNIFORM) and weights["rule"] == 1.0
    with pytest.raises(ValueError):
        fuse(p_rule=UNIFORM, p_clap=None, p_model=None, alpha=1.5, model_weight=0)
