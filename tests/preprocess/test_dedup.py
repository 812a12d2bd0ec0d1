"""Tests for MFCC fingerprints and greedy blocked de-duplication."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from drumgenx.core.audio import resample
from drumgenx.kit.synth import KIT_SR, KIT_VOICES, synthesize_voice
from drumgenx.preprocess.dedup import DedupParams, find_duplicates, mfcc_fingerprint

NAMES = [voice.name for voice in KIT_VOICES]
THR = DedupParams().threshold


@cache
def _voice(name: str) -> np.ndarray:
    y = synthesize_voice(name, sr=KIT_SR)
    y.flags.writeable = False
    return y


def _pair_at_cosine(c: float) -> np.ndarray:
    """Two unit vectors in 8-D whose cosine is exactly ``c`` (to float rounding)."""
    a = np.zeros(8)
    a[0] = 1.0
    b = np.zeros(8)
    b[0], b[1] = c, np.sqrt(1.0 - c * c)
    return np.stack([a, b]).astype(np.float32)


def _naive(fp: np.ndarray, scores: np.ndarray, thr: float) -> np.ndarray:
    """Reference semantics, one item at a time: best-scored first, most similar kept rep."""
    unit = fp / np.maximum(np.linalg.norm(fp, axis=1, keepdims=True), 1e-30)
    rep = np.empty(len(fp), dtype=np.int64)
    kept: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        sims = [float(unit[i] @ unit[k]) for k in kept]
        if sims and max(sims) > thr:
            rep[i] = kept[int(np.argmax(sims))]
        else:
            rep[i] = i
            kept.append(int(i))
    return rep


# --- the duplicate decision -----------------------------------------------------------------


@pytest.mark.parametrize(("cosine", "merged"), [(0.9805, True), (0.9795, False), (0.5, False)])
def test_threshold_is_a_strict_cosine_cut(cosine: float, merged: bool) -> None:
    rep = find_duplicates(_pair_at_cosine(cosine))
    assert rep.tolist() == ([0, 0] if merged else [0, 1])


def test_threshold_argument_moves_the_cut() -> None:
    pair = _pair_at_cosine(0.95)
    assert find_duplicates(pair, threshold=0.9).tolist() == [0, 0]
    assert find_duplicates(pair, threshold=0.96).tolist() == [0, 1]


def test_representative_is_the_highest_score() -> None:
    rng = np.random.default_rng(0)
    base = rng.standard_normal(16)
    copies = np.stack([base + 0.01 * rng.standard_normal(16) for _ in range(3)])
    other = rng.standard_normal((1, 16))
    fp = np.vstack([copies, other]).astype(np.float32)
    rep = find_duplicates(fp, scores=np.array([0.1, 0.9, 0.5, 0.0]))
    assert rep.tolist() == [1, 1, 1, 3]
    # Without scores, input order decides: the first copy is kept.
    assert find_duplicates(fp).tolist() == [0, 0, 0, 3]


def test_greedy_is_not_transitive() -> None:
    # A, B, C on a circle, 10 degrees apart: A~B and B~C (cos 0.985) but not A~C (cos 0.940).
    angles = np.deg2rad([0.0, 10.0, 20.0])
    fp = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    assert np.cos(angles[1]) > THR > np.cos(angles[2])
    # A is best: B joins A; C is compared with A only (B is not a representative), so it stays.
    assert find_duplicates(fp, scores=np.array([3.0, 2.0, 1.0])).tolist() == [0, 0, 2]
    # B is best: both neighbours join B.
    assert find_duplicates(fp, scores=np.array([2.0, 3.0, 1.0])).tolist() == [1, 1, 1]


def test_duplicate_joins_the_most_similar_representative() -> None:
    # At threshold 0.9 the first two are distinct (cos 30 deg = 0.866); the third is within the
    # threshold of both (0.956 and 0.974) and joins the closer one, not the better-scored one.
    angles = np.deg2rad([0.0, 30.0, 17.0])
    fp = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    assert find_duplicates(fp, threshold=0.9).tolist() == [0, 1, 1]


@pytest.mark.parametrize("seed", [0, 1])
def test_block_size_does_not_change_the_result(seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, 24))
    # Clusters of noisy copies (some tight, some straddling the threshold) plus loners.
    spread = rng.choice([0.02, 0.08, 0.15], size=40)
    members = [c + s * rng.standard_normal((6, 24)) for c, s in zip(centres, spread, strict=True)]
    fp = np.vstack([*members, rng.standard_normal((30, 24))]).astype(np.float32)
    fp = fp[rng.permutation(len(fp))]
    scores = rng.random(len(fp))
    results = [find_duplicates(fp, scores=scores, block_size=b).tolist() for b in (1, 7, 64, 2048)]
    assert all(r == results[0] for r in results)
    assert results[0] == _naive(fp, scores, THR).tolist()
    rep = np.asarray(results[0])
    assert np.all(rep[rep] == rep)  # every representative represents itself: no chains
    assert 40 <= len(set(results[0])) < len(fp)


def test_existing_library_passed_first_is_kept_and_matched() -> None:
    rng = np.random.default_rng(3)
    library = rng.standard_normal((5, 12))
    new = np.vstack([library[2] + 0.005 * rng.standard_normal(12), rng.standard_normal(12)])
    fp = np.vstack([library, new]).astype(np.float32)
    scores = np.r_[np.full(5, np.inf), 10.0, 10.0]  # new slices may score high: still after
    rep = find_duplicates(fp, scores=scores, block_size=4)
    assert rep.tolist() == [0, 1, 2, 3, 4, 2, 6]


def test_zero_rows_match_nothing_and_inputs_are_checked() -> None:
    fp = np.zeros((3, 4), dtype=np.float32)
    assert find_duplicates(fp).tolist() == [0, 1, 2]
    assert find_duplicates(np.zeros((0, 4), dtype=np.float32)).tolist() == []
    with pytest.raises(ValueError):
        find_duplicates(np.ones(4))
    with pytest.raises(ValueError):
        find_duplicates(np.ones((2, 4)), scores=np.ones(3))
    with pytest.raises(ValueError):
        find_duplicates(np.ones((2, 4)), scores=np.array([1.0, np.nan]))
    with pytest.raises(ValueError):
        find_duplicates(np.ones((2, 4)), block_size=0)


# --- fingerprints of drum hits --------------------------------------------------------------


def _shift(y: np.ndarray, ms: float) -> np.ndarray:
    """Delay by ``ms`` of silence (positive) or drop ``-ms`` of leading samples (negative)."""
    n = round(abs(ms) * KIT_SR / 1000)
    return np.r_[np.zeros(n, np.float32), y] if ms > 0 else y[n:]


def _variants(y: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Near-duplicates the fingerprint must see through; ``y`` has 5 ms of lead-in."""

    def noise(x: np.ndarray, db: float) -> np.ndarray:
        level = np.abs(y).max() * 10 ** (db / 20)
        return (x + level * rng.standard_normal(x.size)).astype(np.float32)

    return {
        "+6 dB": y * np.float32(2.0),
        "-6 dB": y * np.float32(0.5),
        "noise -60 dB": noise(y, -60),
        "delay 1 ms": _shift(y, 1.0),
        "delay 3 ms": _shift(y, 3.0),
        "advance 3 ms": _shift(y, -3.0),
        "-6 dB, noise, delay 2 ms": _shift(noise(y * np.float32(0.5), -60), 2.0),
    }


@pytest.mark.parametrize("name", NAMES)
def test_near_duplicates_of_each_kit_voice_are_merged_into_the_original(name: str) -> None:
    rng = np.random.default_rng(NAMES.index(name))
    original = _shift(np.asarray(_voice(name)), 5.0)  # as sliced: 5 ms pre-roll
    variants = _variants(original, rng)
    fp = np.stack([mfcc_fingerprint(v, sr=KIT_SR) for v in (original, *variants.values())])
    sims = dict(zip(variants, (fp[1:] @ fp[0]).round(4).tolist(), strict=True))
    assert min(sims.values()) > THR, sims
    scores = np.r_[1.0, np.zeros(len(variants))]  # the original is the strongest hit
    assert find_duplicates(fp, scores=scores).tolist() == [0] * len(fp)


def test_distinct_kit_voices_are_never_merged() -> None:
    fp = np.stack([mfcc_fingerprint(_voice(n), sr=KIT_SR) for n in NAMES])
    sims = fp @ fp.T
    np.fill_diagonal(sims, -1.0)
    worst = np.unravel_index(np.argmax(sims), sims.shape)
    assert sims.max() < THR, (NAMES[worst[0]], NAMES[worst[1]], float(sims.max()))
    assert find_duplicates(fp).tolist() == list(range(len(NAMES)))


def test_kit_voices_and_their_variants_form_one_group_per_voice() -> None:
    rng = np.random.default_rng(7)
    fps, owner = [], []
    for k, name in enumerate(NAMES):
        original = _shift(np.asarray(_voice(name)), 5.0)
        for v in (original, *_variants(original, rng).values()):
            fps.append(mfcc_fingerprint(v, sr=KIT_SR))
            owner.append(k)
    owner_arr = np.asarray(owner)
    rep = find_duplicates(np.stack(fps), scores=rng.random(len(fps)), block_size=16)
    assert np.all(owner_arr[rep] == owner_arr)  # nothing merged across voices
    assert len(set(rep.tolist())) == len(NAMES)  # and each voice is one group


def test_fingerprint_shape_units_and_invariances() -> None:
    y = np.asarray(_voice("snare"))
    params = DedupParams()
    fp = mfcc_fingerprint(y, sr=KIT_SR)
    assert fp.dtype == np.float32 and fp.shape == (params.dim,)
    assert np.linalg.norm(fp) == pytest.approx(1.0, abs=1e-5)
    # Another sample rate: the analysis runs at a fixed rate, so the sound still matches.
    y48 = resample(y[:, None], KIT_SR, 48000)[:, 0]
    assert float(fp @ mfcc_fingerprint(y48, sr=48000)) > 0.999
    # Stereo is averaged to mono.
    stereo = np.stack([y, y], axis=1)
    np.testing.assert_allclose(mfcc_fingerprint(stereo, sr=KIT_SR), fp, atol=1e-6)
    # Digital silence: all zeros, which matches nothing.
    assert not mfcc_fingerprint(np.zeros(4410, np.float32), sr=KIT_SR).any()
    with pytest.raises(ValueError):
        mfcc_fingerprint(np.array([0.1, np.nan], np.float32), sr=KIT_SR)
    with pytest.raises(ValueError):
        mfcc_fingerprint(np.zeros(0, np.float32), sr=KIT_SR)


def test_params_from_a_config_file_stay_hashable() -> None:
    params = DedupParams(segment_frames=[0, 2, 4, 8])  # type: ignore[arg-type]  # YAML list
    assert params.segment_frames == (0, 2, 4, 8) and params.dim == 3 * 29
    fp = mfcc_fingerprint(_voice("kick"), sr=KIT_SR, params=params)
    assert fp.shape == (params.dim,)


def test_dedup_params_are_checked() -> None:
    with pytest.raises(ValueError):
        DedupParams(threshold=1.5)
    with pytest.raises(ValueError):
        DedupParams(segment_frames=(0, 4, 2))
    with pytest.raises(ValueError):
        DedupParams(n_mfcc=50)
