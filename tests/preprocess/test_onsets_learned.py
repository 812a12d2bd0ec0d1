"""The learned onset activation: shipped weights, numpy forward pass, synthetic kit hits."""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.kit.synth import KIT_SR, synthesize_voice
from drumgenx.preprocess.onsets import OnsetParams, Onsets, detect_onsets
from drumgenx.preprocess.onsets_learned import (
    DEFAULT_WEIGHTS,
    LearnedOnsetModel,
    activation_from_features,
    detect_onsets_learned,
    learned_activation,
    learned_features,
    load_model,
    save_model,
)

TOL = 0.005

# (time s, voice, gain dB): a groove with a ghost snare and close pairs 40-60 ms apart.
PATTERN = [
    (0.20, "kick", 0),
    (0.45, "hat_closed", -8),
    (0.70, "snare", 0),
    (0.95, "hat_closed", -10),
    (1.16, "snare", -20),  # ghost note
    (1.20 + 0.02, "snare", -3),  # 60 ms after the ghost
    (1.45, "kick", -2),
    (1.49, "hat_closed", -6),  # 40 ms after the kick
    (1.75, "tom_high", -4),
    (2.00, "tom_low", -4),
    (2.25, "tom_mid", -6),  # (not "clap": its several slaps are several onsets)
    (2.50, "kick", 0),
    (2.50, "crash", -6),  # one onset with the kick
]


def _render(sr: int = KIT_SR) -> tuple[np.ndarray, np.ndarray]:
    hits = [synthesize_voice(name, sr=sr, seed=3) for _, name, _ in PATTERN]
    # Long enough for every tail to fade out: a cut-off tail is a spectral change too.
    ends = [round(t0 * sr) + len(h) for (t0, _, _), h in zip(PATTERN, hits, strict=True)]
    y = np.zeros(max(ends) + sr // 5)
    for (t0, _, gain_db), hit in zip(PATTERN, hits, strict=True):
        s = round(t0 * sr)
        y[s : s + len(hit)] += hit.astype(np.float64) * 10 ** (gain_db / 20)
    y += np.random.default_rng(0).standard_normal(len(y)) * 1e-4  # -80 dB floor
    y *= 0.9 / np.max(np.abs(y))
    truth = np.unique([round(t * sr) / sr for t, _, _ in PATTERN])
    return y.astype(np.float32), truth


def _random_model(n_in: int, seed: int = 0) -> LearnedOnsetModel:
    rng = np.random.default_rng(seed)
    shapes = [(3, n_in, 4, 1), (5, 4, 3, 2), (1, 3, 1, 1)]
    return LearnedOnsetModel(
        weights=tuple(
            rng.standard_normal((k, i, o)).astype(np.float32) * 0.3 for k, i, o, _ in shapes
        ),
        biases=tuple(rng.standard_normal(o).astype(np.float32) * 0.1 for _, _, o, _ in shapes),
        dilations=tuple(d for *_, d in shapes),
        mean=np.zeros(n_in, dtype=np.float32),
        std=np.ones(n_in, dtype=np.float32),
    )


def _loop_forward(x: np.ndarray, model: LearnedOnsetModel) -> np.ndarray:
    """The textbook definition: zero-padded dilated convolution, one output at a time."""
    h = x.astype(np.float64)
    for i, (w, b, d) in enumerate(zip(model.weights, model.biases, model.dilations, strict=True)):
        k, _, n_out = w.shape
        out = np.zeros((len(h), n_out))
        for t in range(len(h)):
            acc = b.astype(np.float64).copy()
            for j in range(k):
                src = t + (j - (k - 1) // 2) * d
                if 0 <= src < len(h):
                    acc += h[src] @ w[j]
            out[t] = acc
        h = np.maximum(out, 0.0) if i < len(model.weights) - 1 else out
    return 1.0 / (1.0 + np.exp(-h[:, 0]))


def test_shipped_weights_load_and_shapes_match() -> None:
    assert DEFAULT_WEIGHTS.is_file()
    assert DEFAULT_WEIGHTS.stat().st_size < 1_000_000
    model = load_model()
    feats, fps = learned_features(np.zeros(KIT_SR, dtype=np.float32) + 1e-3, sr=KIT_SR)
    assert fps == pytest.approx(200.0, rel=0.01)
    assert model.mean.shape == model.std.shape == (feats.shape[1],)
    assert model.weights[0].shape[1] == feats.shape[1]
    for w, b, w_next in zip(model.weights, model.biases, model.weights[1:], strict=False):
        assert b.shape == (w.shape[2],)
        assert w_next.shape[1] == w.shape[2]
        assert w.shape[0] % 2 == 1
    assert model.weights[-1].shape[2] == 1
    assert 1_000 <= model.n_params <= 60_000
    assert 0.0 < model.threshold < 1.0
    for key in ("command", "date", "train", "validation", "validation_drums"):
        assert key in model.meta
    assert model.meta["test"].startswith("never")


def test_numpy_forward_equals_loop_reference() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((37, 6)).astype(np.float32)
    model = _random_model(6)
    np.testing.assert_allclose(
        activation_from_features(x, model), _loop_forward(x, model), atol=1e-5
    )


def test_numpy_forward_equals_torch() -> None:
    torch = pytest.importorskip("torch")
    model = load_model()
    x = np.random.default_rng(2).standard_normal((300, model.mean.shape[0])).astype(np.float32)
    h = torch.from_numpy(x.T[None])
    with torch.no_grad():
        for i, (w, b, d) in enumerate(
            zip(model.weights, model.biases, model.dilations, strict=True)
        ):
            weight = torch.from_numpy(np.ascontiguousarray(w.transpose(2, 1, 0)))
            h = torch.nn.functional.conv1d(
                h, weight, torch.from_numpy(b), dilation=d, padding="same"
            )
            if i < len(model.weights) - 1:
                h = torch.relu(h)
        ref = torch.sigmoid(h)[0, 0].numpy()
    np.testing.assert_allclose(activation_from_features(x, model), ref, atol=1e-5)


def test_save_load_round_trip(tmp_path) -> None:
    model = _random_model(6)
    path = tmp_path / "m.npz"
    save_model(path, model)
    back = load_model(path)
    x = np.random.default_rng(3).standard_normal((20, 6)).astype(np.float32)
    np.testing.assert_array_equal(
        activation_from_features(x, back), activation_from_features(x, model)
    )
    assert back.dilations == model.dilations and back.threshold == model.threshold


@pytest.mark.parametrize("sr", [44100, 48000])
def test_synthetic_kit_hits_found_within_5_ms(sr: int) -> None:
    y, truth = _render(sr)
    onsets = detect_onsets_learned(y, sr=sr)
    assert isinstance(onsets, Onsets)
    est = onsets.times
    err = np.min(np.abs(est[None, :] - truth[:, None]), axis=1)
    assert np.all(err <= TOL), np.round(err * 1000, 1)
    assert len(est) <= len(truth) + 1, np.round(est, 4)
    assert np.all(onsets.starts <= onsets.times)
    assert np.all((onsets.strengths > 0) & (onsets.strengths <= 1.0))


def test_method_hook_dispatches() -> None:
    y, _ = _render()
    a = detect_onsets(y, sr=KIT_SR, params=OnsetParams(method="learned"))
    b = detect_onsets_learned(y, sr=KIT_SR)
    np.testing.assert_array_equal(a.times, b.times)
    with pytest.raises(ValueError, match="method"):
        detect_onsets(y, sr=KIT_SR, params=OnsetParams(method="nope"))


@pytest.mark.parametrize("n", [0, 100, 3 * KIT_SR])
def test_silence_gives_no_onsets(n: int) -> None:
    onsets = detect_onsets_learned(np.zeros(n, dtype=np.float32), sr=KIT_SR)
    assert onsets.times.size == onsets.starts.size == onsets.strengths.size == 0


def test_deterministic() -> None:
    y, _ = _render()
    act1, _, _ = learned_activation(y, sr=KIT_SR)
    act2, _, _ = learned_activation(y.copy(), sr=KIT_SR)
    np.testing.assert_array_equal(act1, act2)
    a, b = detect_onsets_learned(y, sr=KIT_SR), detect_onsets_learned(y, sr=KIT_SR)
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.starts, b.starts)
