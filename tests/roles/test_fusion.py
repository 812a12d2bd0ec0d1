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


def test_class_probs_map_to_roles() -> None:
    from drumgenx.core.roles import ROLES
    from drumgenx.roles.fusion import TEXTURE_FLOOR, class_probs_to_roles

    kick = class_probs_to_roles(
        {"kick": 0.95, "snare": 0.05, "hihat": 0.05, "tom": 0.1, "cymbal": 0.05}
    )
    assert kick.sum() == pytest.approx(1.0) and ROLES[int(kick.argmax())] == "CORE"
    assert kick[ROLES.index("FILL")] == pytest.approx(
        0.1 / (0.95 + 0.05 + 0.05 + 0.1 + TEXTURE_FLOOR)
    )
    crash = class_probs_to_roles(
        {"kick": 0.0, "snare": 0.0, "hihat": 0.3, "tom": 0.2, "cymbal": 0.9}
    )
    assert ROLES[int(crash.argmax())] == "FILL"  # the larger of tom and cymbal, not their sum
    assert crash[ROLES.index("FILL")] == pytest.approx(0.9 / (0.3 + 0.9 + TEXTURE_FLOOR))
    alike = class_probs_to_roles(dict.fromkeys(("kick", "snare", "hihat", "tom", "cymbal"), 0.3))
    assert confidence(alike) < 0.1 and alike[ROLES.index("TEXTURE")] > 0
    assert class_probs_to_roles(dict.fromkeys(("kick", "tom"), 0.0)) is None


def test_the_hits_source_is_a_fourth_source_only_when_given() -> None:
    p_rule = np.array([0.6, 0.1, 0.1, 0.1, 0.1])
    base, weights = fuse(p_rule=p_rule, p_clap=None, p_model=CERTAIN, alpha=0.9, model_weight=2)
    same, same_weights = fuse(
        p_rule=p_rule, p_clap=None, p_model=CERTAIN, alpha=0.9, model_weight=2, hits_weight=3
    )
    assert np.array_equal(base, same) and weights == same_weights and "hits" not in weights
    fill = np.array([0, 0, 0, 1.0, 0])
    fused, weights = fuse(
        p_rule=p_rule, p_clap=None, p_model=CERTAIN, alpha=0.9, model_weight=2,
        p_hits=fill, hits_weight=3,
    )  # fmt: skip
    assert weights["hits"] == pytest.approx(3 / (0.9 * (1 + confidence(p_rule)) / 2 + 2 + 3))
    assert fused[3] == pytest.approx(weights["hits"] + 0.1 * weights["rule"])
    with pytest.raises(ValueError):
        fuse(p_rule=p_rule, p_clap=None, p_model=None, alpha=0.9, model_weight=1, hits_weight=-1)


def test_the_heard_role_is_the_clear_reading_only() -> None:
    from drumgenx.roles.fusion import class_probs_to_roles, heard_role

    hat = class_probs_to_roles({"kick": 0.03, "snare": 0.02, "hihat": 0.97, "tom": 0.01})
    torn = class_probs_to_roles({"kick": 0.6, "snare": 0.02, "hihat": 0.5, "tom": 0.01})
    assert heard_role(hat, above=0.7) == "MOTION" and heard_role(hat, above=0.0) == "MOTION"
    assert heard_role(torn, above=0.7) is None and heard_role(torn, above=0.0) == "CORE"
    assert heard_role(hat, above=1.01) is None and heard_role(None, above=0.0) is None
