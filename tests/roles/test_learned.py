"""Tests for the learned role scorer (numpy inference, shipped weights)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from drumgenx.core.roles import ROLES
from drumgenx.kit.synth import KIT_VOICES, synthesize_voice
from drumgenx.roles.learned import (
    FEATURE_NAMES,
    LearnedRoleScorer,
    TreeEnsemble,
    forward_reference,
    role_features,
    save_scorer,
)


@pytest.fixture(scope="module")
def scorer() -> LearnedRoleScorer:
    return LearnedRoleScorer.load()


def _random_scorer(rng: np.random.Generator, hidden: tuple[int, ...]) -> LearnedRoleScorer:
    n = len(FEATURE_NAMES)
    members = []
    for _ in range(2):
        sizes = (n, *hidden, len(ROLES))
        members.append(
            tuple(
                (rng.standard_normal((a, b)) * 0.3, rng.standard_normal(b) * 0.1)
                for a, b in itertools.pairwise(sizes)
            )
        )
    return LearnedRoleScorer(
        members=tuple(members),
        mean=rng.standard_normal(n),
        scale=rng.uniform(0.5, 2.0, n),
        meta={"test": True},
    )


def test_shipped_weights_load_and_shapes(scorer: LearnedRoleScorer) -> None:
    assert scorer.roles == ROLES
    assert scorer.mean.shape == (len(FEATURE_NAMES),)
    assert scorer.n_params < 200_000
    assert "command" in scorer.meta and "loko" in scorer.meta
    p = scorer.predict_proba(synthesize_voice("kick"), sr=44100)
    assert p.shape == (5,)
    assert np.all(p >= 0) and p.sum() == pytest.approx(1.0)


def test_batch_matches_single_and_is_deterministic(scorer: LearnedRoleScorer) -> None:
    clips = [
        (synthesize_voice(v.name, sr=sr), sr)
        for v, sr in zip(KIT_VOICES, [44100, 48000] * 5, strict=True)
    ]
    batch = scorer.predict_proba_batch(clips)
    assert batch.shape == (len(clips), 5)
    np.testing.assert_allclose(batch.sum(axis=1), 1.0)
    single = np.stack([scorer.predict_proba(y, sr=sr) for y, sr in clips])
    np.testing.assert_allclose(batch, single, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(batch, scorer.predict_proba_batch(clips))
    assert scorer.predict_proba_batch([]).shape == (0, 5)


# The issue-#15 scorer alone reads the synthetic open hat (an unchoked noise burst) as FILL,
# 0.54 to 0.46: the crash-vs-open-hat boundary it was chosen on is the GM fonts'. Stage 2's
# fused role is right (tests/roles/test_run.py); strict, so a model that fixes it says so.
OPEN_HAT_XFAIL = pytest.mark.xfail(
    strict=True, reason="learned scorer alone: synthetic open hat read as FILL (issue #15)"
)


@pytest.mark.parametrize(
    "voice",
    [pytest.param(v, marks=OPEN_HAT_XFAIL) if v.name == "hat_open" else v for v in KIT_VOICES],
    ids=lambda v: v.name,
)
def test_bundled_kit_voices_get_their_role(scorer: LearnedRoleScorer, voice) -> None:
    p = scorer.predict_proba(synthesize_voice(voice.name), sr=44100)
    assert ROLES[int(np.argmax(p))] == voice.role, dict(zip(ROLES, p.round(3), strict=True))


def test_stereo_and_rate_invariance(scorer: LearnedRoleScorer) -> None:
    y = synthesize_voice("snare", sr=48000)
    stereo = np.stack([y, y], axis=1)
    np.testing.assert_allclose(
        role_features(stereo, sr=48000), role_features(y, sr=48000), atol=1e-9
    )
    # Gain does not matter (peak normalisation).
    np.testing.assert_allclose(
        role_features(0.1 * y, sr=48000), role_features(y, sr=48000), atol=1e-5
    )
    assert ROLES[int(np.argmax(scorer.predict_proba(stereo, sr=48000)))] == "ACCENT"


def test_numpy_forward_equals_loop_reference() -> None:
    rng = np.random.default_rng(3)
    feats = rng.standard_normal((4, len(FEATURE_NAMES)))
    for hidden in ((), (7,), (6, 4)):
        model = _random_scorer(rng, hidden)
        np.testing.assert_allclose(
            model.predict_proba_features(feats), forward_reference(model, feats), atol=1e-10
        )


def test_save_load_round_trip(tmp_path) -> None:
    model = _random_scorer(np.random.default_rng(0), (8,))
    path = tmp_path / "s.npz"
    save_scorer(path, model)
    back = LearnedRoleScorer.load(path)
    feats = np.random.default_rng(1).standard_normal((3, len(FEATURE_NAMES)))
    # float32 storage: close, not bit-equal
    np.testing.assert_allclose(
        back.predict_proba_features(feats), model.predict_proba_features(feats), atol=1e-5
    )
    assert back.meta == {"test": True}


def test_feature_vector_is_finite_for_edge_clips() -> None:
    for y in (np.ones(1), np.r_[1.0, np.zeros(10)], np.random.default_rng(0).standard_normal(30)):
        f = role_features(y, sr=44100)
        assert f.shape == (len(FEATURE_NAMES),) and np.all(np.isfinite(f))


@pytest.mark.parametrize(
    ("y", "sr"),
    [
        (np.zeros(0), 44100),
        (np.zeros((0, 2)), 44100),
        (np.zeros(100), 44100),
        (np.full(10, np.nan), 44100),
        (np.ones(10), 0),
        (np.ones((2, 2, 2)), 44100),
    ],
)
def test_bad_input_raises_value_error(scorer: LearnedRoleScorer, y, sr) -> None:
    with pytest.raises(ValueError):
        scorer.predict_proba(y, sr=sr)


def _stump_ensemble() -> TreeEnsemble:
    """Two trees by hand: tree 0 (role 0) splits feature 0 at 1.0; tree 1 (role 1) is a leaf."""
    return TreeEnsemble(
        feature=np.array([0, -1, -1, -1], dtype=np.int32),
        threshold=np.array([1.0, 0.0, 0.0, 0.0]),
        left=np.array([1, 0, 0, 0], dtype=np.int32),
        right=np.array([2, 0, 0, 0], dtype=np.int32),
        value=np.array([0.0, -2.0, 3.0, 0.5]),
        roots=np.array([0, 3], dtype=np.int32),
        tree_role=np.array([0, 1], dtype=np.int32),
        baseline=np.array([0.1, 0.2, 0.0, 0.0, -0.1]),
    )


def test_tree_ensemble_logits_follow_the_splits() -> None:
    trees = _stump_ensemble()
    x = np.zeros((3, len(FEATURE_NAMES)))
    x[:, 0] = [0.5, 1.0, 1.5]  # <= threshold goes left, including equality
    logits = trees.logits(x)
    np.testing.assert_allclose(logits[:, 0], [0.1 - 2.0, 0.1 - 2.0, 0.1 + 3.0])
    np.testing.assert_allclose(logits[:, 1], [0.7, 0.7, 0.7])
    np.testing.assert_allclose(logits[:, 2:], np.tile([0.0, 0.0, -0.1], (3, 1)))


def test_tree_ensemble_rejects_bad_arrays() -> None:
    good = _stump_ensemble()
    with pytest.raises(ValueError, match="outside"):
        TreeEnsemble(**{**good.__dict__, "left": np.array([9, 0, 0, 0], dtype=np.int32)})
    with pytest.raises(ValueError, match="length"):
        TreeEnsemble(**{**good.__dict__, "value": np.zeros(3)})


def test_trees_are_averaged_with_the_linear_members_and_saved(tmp_path) -> None:
    base = _random_scorer(np.random.default_rng(5), ())
    feats = np.random.default_rng(6).standard_normal((4, len(FEATURE_NAMES)))
    model = LearnedRoleScorer(
        members=base.members,
        mean=base.mean,
        scale=base.scale,
        trees=_stump_ensemble(),
        tree_weight=0.25,
    )
    logits = _stump_ensemble().logits(feats)
    p_trees = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = 0.75 * base.predict_proba_features(feats) + 0.25 * p_trees
    np.testing.assert_allclose(model.predict_proba_features(feats), expected, atol=1e-12)
    save_scorer(tmp_path / "t.npz", model)
    back = LearnedRoleScorer.load(tmp_path / "t.npz")
    assert back.tree_weight == 0.25 and back.trees is not None
    np.testing.assert_allclose(back.predict_proba_features(feats), expected, atol=1e-5)
