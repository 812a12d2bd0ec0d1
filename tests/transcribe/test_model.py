"""The transcriber's features, numpy network (against its torch twin) and peak picking."""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.transcribe import model as model_module
from drumgenx.transcribe.detect import (
    TranscribeParams,
    hits_from_activations,
    pick_peaks,
    transcribe_audio,
)
from drumgenx.transcribe.features import FPS, SR, n_filters, n_frames, transcriber_features
from drumgenx.transcribe.model import (
    CLASSES,
    OUTPUTS,
    TranscriberModel,
    activations,
    load_model,
    save_model,
)

torch = pytest.importorskip("torch", reason="torch (the [groove] extra) builds the twin network")

from drumgenx.transcribe.network import NetworkSpec, TranscriberNet, export_model  # noqa: E402


def _net(seed: int = 0) -> TranscriberNet:
    torch.manual_seed(seed)
    net = TranscriberNet(NetworkSpec(n_filters=n_filters()))
    for m in net.modules():  # batch norms with statistics, so folding is exercised
        if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)
    return net.eval()


def _noise(seconds: float, seed: int = 0, sr: int = SR) -> np.ndarray:
    return (np.random.default_rng(seed).normal(0, 0.1, int(seconds * sr))).astype(np.float32)


@pytest.fixture(scope="module")
def twin() -> tuple[TranscriberNet, TranscriberModel, np.ndarray]:
    net = _net()
    feats = transcriber_features(_noise(3.0), sr=SR)
    mean, std = feats.mean(axis=1), feats.std(axis=1) + 1e-3
    return net, export_model(net, mean=mean, std=std), feats


def test_features_shape_frames_and_level_independence() -> None:
    y = _noise(2.0)
    feats = transcriber_features(y, sr=SR)
    assert feats.shape == (2, n_frames(len(y)), n_filters())
    assert feats.dtype == np.float32
    assert n_frames(len(y)) == 1 + len(y) // 441
    np.testing.assert_allclose(transcriber_features(0.01 * y, sr=SR), feats, atol=1e-5)
    assert (feats[1] >= 0).all()  # the second channel holds rises only
    with pytest.raises(ValueError, match="mono"):
        transcriber_features(np.zeros((10, 2)), sr=SR)


def test_features_in_stft_chunks_equal_one_pass(monkeypatch) -> None:
    from drumgenx.transcribe import features

    y = _noise(3.0, seed=3)
    whole = transcriber_features(y, sr=SR)
    monkeypatch.setattr(features, "STFT_CHUNK", 37)
    np.testing.assert_allclose(transcriber_features(y, sr=SR), whole, rtol=1e-6, atol=1e-7)


def test_features_resample_other_rates_to_the_same_frames() -> None:
    t = np.arange(int(2.0 * 22050)) / 22050
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    feats = transcriber_features(tone, sr=22050)
    assert feats.shape[1] == n_frames(2 * SR)
    # a 440 Hz tone peaks in the filter nearest 440 Hz (12 per octave from 30 Hz)
    peak = int(np.argmax(feats[0, 100]))
    from drumgenx.transcribe.features import _filterbank

    centre_bin = int(np.argmax(_filterbank()[:, peak]))
    assert abs(centre_bin * SR / 2048 - 440) < 25


def test_numpy_network_equals_the_torch_twin(twin) -> None:
    net, model, feats = twin
    act = activations(feats, model=model)
    x = torch.from_numpy(((feats - model.mean[:, None]) / model.std[:, None])[None]).float()
    with torch.no_grad():
        ref = torch.sigmoid(net(x))[0].numpy()
    assert act.shape == (feats.shape[1], len(OUTPUTS))
    np.testing.assert_allclose(act, ref, atol=2e-5)


def test_chunked_inference_equals_one_pass(twin, monkeypatch) -> None:
    _, model, feats = twin
    whole = activations(feats, model=model)
    monkeypatch.setattr(model_module, "CHUNK_FRAMES", 37)
    np.testing.assert_allclose(activations(feats, model=model), whole, atol=1e-6)


def test_inference_is_deterministic(twin) -> None:
    _, model, feats = twin
    assert np.array_equal(activations(feats, model=model), activations(feats, model=model))


def test_features_of_the_wrong_width_are_refused(twin) -> None:
    _, model, feats = twin
    with pytest.raises(ValueError, match="features must be"):
        activations(feats[:, :, :-1], model=model)


def test_save_and_load_round_trip_once_per_process(twin, tmp_path) -> None:
    _, model, feats = twin
    path = tmp_path / "t.npz"
    save_model(path, model)
    loaded = load_model(path)
    assert load_model(path) is loaded  # loaded once per process
    np.testing.assert_array_equal(activations(feats, model=loaded), activations(feats, model=model))
    assert loaded.thresholds == model.thresholds
    assert loaded.n_params == model.n_params < 500_000  # well under the 2 MB budget
    with pytest.raises(FileNotFoundError, match="transcriber weights not found"):
        load_model(tmp_path / "missing.npz")


def test_shipped_weights_load_and_fit_the_budget() -> None:
    if not model_module.DEFAULT_WEIGHTS.is_file():
        pytest.fail(f"shipped weights missing: {model_module.DEFAULT_WEIGHTS}")
    model = load_model()
    assert model_module.DEFAULT_WEIGHTS.stat().st_size <= 2 * 1024 * 1024
    assert model.mean.shape == (2, n_filters())
    assert "validation" in model.meta and "command" in model.meta


def test_pick_peaks_threshold_window_gap_and_refinement() -> None:
    a = np.zeros(100)
    a[10], a[9], a[11] = 0.9, 0.5, 0.7  # vertex right of frame 10
    a[12] = 0.6  # within the window of 10: not a peak of its own
    a[40] = 0.3  # below the threshold
    a[60], a[62] = 0.8, 0.7  # 62 is within min_gap of 60
    pos = pick_peaks(a, threshold=0.5, window=2, min_gap=3)
    assert len(pos) == 2
    assert 10.0 < pos[0] < 10.5
    assert round(pos[1]) == 60


def test_hits_take_class_probabilities_near_the_peak(twin) -> None:
    _, model, _ = twin
    act = np.zeros((50, len(OUTPUTS)), dtype=np.float32)
    act[20, -1] = 0.9
    act[21, CLASSES.index("tom")] = 0.8  # a frame late: still the hit's class
    act[20, CLASSES.index("kick")] = 0.3
    hits = hits_from_activations(act, model=model, params=TranscribeParams(hit_threshold=0.5))
    assert len(hits.times) == 1
    assert abs(hits.times[0] - 20 / FPS - model.time_offset_s) < 1e-9
    assert hits.class_probs[0, CLASSES.index("tom")] == pytest.approx(0.8)
    assert hits.classes[0].tolist() == [name == "tom" for name in CLASSES]
    # no class reaches its threshold: the most probable one is still given
    act[21, CLASSES.index("tom")] = 0.2
    hits = hits_from_activations(act, model=model, params=TranscribeParams(hit_threshold=0.5))
    assert hits.classes[0].sum() == 1 and hits.classes[0, CLASSES.index("kick")]


def test_silence_around_the_audio_leaves_its_frames_as_they_were() -> None:
    y = _noise(1.0)
    plain = transcriber_features(y, sr=SR)
    padded = transcriber_features(y, sr=SR, silence=5)
    assert padded.shape[1] == plain.shape[1] + 10
    np.testing.assert_array_equal(padded[0, 5:-5], plain[0])  # centred frames were zero-padded
    np.testing.assert_array_equal(padded[1, 6:-5], plain[1, 1:])
    assert plain[1, 0].sum() == 0 < padded[1, 5].sum()  # the first frame rises from silence
    assert not padded[0, :2].any() and not padded[0, -2:].any()
    with pytest.raises(ValueError, match="silence"):
        transcriber_features(y, sr=SR, silence=-1)


def test_a_hit_on_the_first_sample_is_heard_like_any_other() -> None:
    """A file that starts with its first hit (a loop cut on the beat, a one-shot): the
    shipped transcriber heard that hit only a third of the time before the network was fed
    silence before the file (23 of 80 Debian one-shots missed at 0 s, none at 1 s)."""
    t = np.arange(int(0.4 * SR)) / SR
    thump = (np.sin(2 * np.pi * 60 * t) * np.exp(-30 * t)).astype(np.float32)
    y = np.zeros(3 * SR, dtype=np.float32)
    for start in (0.0, 1.0, 2.0):
        i = int(start * SR)
        y[i : i + thump.size] += thump
    hits = transcribe_audio(y, sr=SR)
    for start in (0.0, 1.0, 2.0):
        assert np.min(np.abs(hits.times - start)) < 0.02, (start, hits.times)
    assert hits.activations.shape[0] == n_frames(y.size)  # frame i is still at i / FPS


def test_silence_has_no_hits(twin) -> None:
    _, model, _ = twin
    hits = transcribe_audio(np.zeros(SR), sr=SR, model=model)
    assert hits.times.size == 0 and hits.class_probs.shape == (0, len(CLASSES))


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="hit_threshold"):
        TranscribeParams(hit_threshold=1.5)
    with pytest.raises(ValueError, match="class_thresholds"):
        TranscribeParams(class_thresholds=(0.5,))
