"""The transcriber's trainer: targets, scoring, a loss that falls, one reproducible run."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from drumgenx.training.transcriber import (
    Item,
    TrainSettings,
    cosine_lr,
    frame_targets,
    merge_onsets,
    onset_f1,
    random_eq,
    random_pitch,
    sampling_weights,
    train_transcriber,
)
from drumgenx.transcribe.features import (
    FPS,
    SR,
    filter_centres_hz,
    n_filters,
    transcriber_features,
)
from drumgenx.transcribe.model import OUTPUTS, load_model

torch = pytest.importorskip("torch", reason="training needs torch (the [groove] extra)")


def test_frame_targets_peak_at_the_note_and_widen_by_half() -> None:
    notes = np.array([[0.1, 0], [0.1, 2], [0.5, 3]])
    t = frame_targets(notes, 100)
    assert t.shape == (100, len(OUTPUTS))
    assert t[10, 0] == 1.0 and t[9, 0] == 0.5 and t[11, 0] == 0.5 and t[12, 0] == 0.0
    assert t[10, 2] == 1.0 and t[10, -1] == 1.0 and t[50, 3] == 1.0
    assert t[:, 1].sum() == 0.0  # no snare note
    assert t[round(0.5 * FPS), -1] == 1.0


def test_onset_f1_matches_one_to_one_within_the_window() -> None:
    ref = [np.array([1.0, 2.0, 3.0])]
    assert onset_f1(ref, [np.array([1.01, 2.04, 3.2])], 0.05) == pytest.approx(2 * 2 / 6)
    assert onset_f1(ref, [np.array([1.01, 1.02])], 0.05) == pytest.approx(2 * 1 / 5)
    assert merge_onsets(np.array([1.0, 1.02, 1.04, 1.2])).tolist() == [1.0, 1.04, 1.2]


def test_a_few_steps_lower_the_loss_on_a_tiny_batch() -> None:
    from drumgenx.transcribe.network import NetworkSpec, TranscriberNet

    torch.manual_seed(0)
    net = TranscriberNet(NetworkSpec(n_filters=n_filters(), dropout=0.0))
    x = torch.randn(2, 2, 64, n_filters())
    y = (torch.rand(2, 64, len(OUTPUTS)) > 0.9).float()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def _tiny_corpus(root, rng) -> None:
    import soundfile as sf

    for split, n in (("train", 2), ("validation", 1)):
        d = root / split
        (d / "audio").mkdir(parents=True)
        (d / "labels").mkdir()
        for k in range(n):
            y = rng.normal(0, 0.005, 2 * SR).astype(np.float32)
            notes = [(0.3 + 0.4 * j, j % 5) for j in range(4)]
            for t, _ in notes:
                i = int(t * SR)
                y[i : i + 2000] += np.exp(-np.arange(2000) / 300.0).astype(np.float32) * 0.5
            sf.write(d / "audio" / f"{split}{k}.flac", y, SR)
            with open(d / "labels" / f"{split}{k}.csv", "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["time_s", "pitch", "velocity", "class"])
                w.writerows([t, 36, 100, c] for t, c in notes)
        with open(d / "manifest.csv", "w", newline="") as fh:
            fh.write("item_id\n" + "".join(f"{split}{k}\n" for k in range(n)))


def test_training_writes_loadable_weights_with_provenance(tmp_path) -> None:
    _tiny_corpus(tmp_path / "corpus", np.random.default_rng(0))
    settings = TrainSettings(steps=3, eval_every=2, batch_size=2, crop_frames=64, threads=1)
    runs = []
    for out in ("a", "b"):
        train_transcriber(
            corpus=tmp_path / "corpus",
            out_dir=tmp_path / out,
            settings=settings,
            log=lambda m: None,
        )
        runs.append(load_model(tmp_path / out / "transcriber.npz"))
    a, b = runs
    assert a.meta["steps"] == 3 and a.meta["corpus_items"] == {"train": 2, "validation": 1}
    assert "hit_f1_50" in a.meta["validation"]
    for la, lb in zip(a.layers, b.layers, strict=True):  # same seed, same weights
        if la.weight is not None:
            np.testing.assert_array_equal(la.weight, lb.weight)
    assert (tmp_path / "a" / "train_log.jsonl").is_file()


def test_the_network_widths_are_settings(tmp_path) -> None:
    _tiny_corpus(tmp_path / "corpus", np.random.default_rng(0))
    settings = TrainSettings(
        steps=1, batch_size=2, crop_frames=64, threads=1, conv_channels=5, temporal_channels=7
    )
    train_transcriber(
        corpus=tmp_path / "corpus", out_dir=tmp_path / "w", settings=settings, log=lambda m: None
    )
    model = load_model(tmp_path / "w" / "transcriber.npz")
    convs = [la.weight.shape[0] for la in model.layers if la.kind == "conv2d"]
    temporal = [la.weight.shape[0] for la in model.layers if la.kind == "conv1d"]
    assert convs == [5, 5, 10] and temporal[:-1] == [7] * (len(temporal) - 1)
    assert model.meta["settings"]["temporal_channels"] == 7


def test_the_command_and_its_module_alias_train_with_the_settings_flags(tmp_path, capsys) -> None:
    from drumgenx.cli import main
    from drumgenx.training.transcriber import main as module_main

    _tiny_corpus(tmp_path / "corpus", np.random.default_rng(0))
    tiny = ["--steps", "3", "--eval_every", "2", "--batch_size", "2", "--crop_frames", "64"]
    argv = ["--corpus", str(tmp_path / "corpus"), "--out", str(tmp_path / "a"), *tiny]
    assert main(["train", "transcriber", *argv, "--threads", "1"]) == 0
    model = load_model(tmp_path / "a" / "transcriber.npz")
    assert model.meta["settings"] == {
        **vars(TrainSettings()),
        "steps": 3,
        "eval_every": 2,
        "batch_size": 2,
        "crop_frames": 64,
        "threads": 1,
    }
    assert "[DONE] transcriber trained" in capsys.readouterr().out
    dashed = ["--corpus", str(tmp_path / "corpus"), "--out", str(tmp_path / "b"), "--steps", "3"]
    dashed += ["--eval-every", "2", "--batch-size", "2", "--crop-frames", "64", "--threads", "1"]
    assert module_main(dashed) == 0  # python -m drumgenx.training.transcriber, as recorded
    again = load_model(tmp_path / "b" / "transcriber.npz")
    assert again.meta["settings"] == model.meta["settings"]
    assert module_main(["--corpus", str(tmp_path / "none"), "--out", str(tmp_path / "c")]) == 2
    assert "no manifest.csv" in capsys.readouterr().err


def test_sampling_weights_balance_kit_families() -> None:
    def item(family: str, frames: int) -> Item:
        feats = np.zeros((2, frames, 4), dtype=np.float16)
        return Item("x", family, feats, np.zeros((frames, 6), np.float32), np.zeros((0, 2)))

    items = [item("big", 100)] * 4 + [item("small", 100), item("small", 300)]
    by_length = sampling_weights(items, family_balance=0.0)
    np.testing.assert_allclose(by_length, np.array([1, 1, 1, 1, 1, 3]) / 8)
    balanced = sampling_weights(items, family_balance=1.0)
    # a family's share follows its mean item length, no longer its number of items
    assert balanced[:4].sum() == pytest.approx(100 / 300)
    assert balanced[5] == pytest.approx(3 * balanced[4])  # length still counts within a family
    half = sampling_weights(items[:5], family_balance=0.5)  # 4 items vs 1: sqrt(4) : 1
    assert half[:4].sum() / half[4] == pytest.approx(2.0)


def test_random_eq_acts_on_energies_under_the_log_and_retakes_the_rises() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    y = (0.5 * np.sin(2 * np.pi * 1000 * t) * (t > 0.5)).astype(np.float32)
    x = transcriber_features(y, sr=SR)
    flat = random_eq(x, rng, max_db=0.0)
    np.testing.assert_allclose(flat, x, atol=1e-5)
    eq = random_eq(x, np.random.default_rng(1))
    band = int(x[0, 80].argmax())  # the sine's filter, loud: log10(1 + 1000 E) ~ 3 + log10 E
    delta_db = 20 * (eq[0, 80, band] - x[0, 80, band])
    assert 0.3 < abs(delta_db) <= 9.0 + 0.1
    assert np.all(eq[0, :40] == 0)  # silence stays at the floor whatever the gain
    np.testing.assert_allclose(eq[1, 1:], np.maximum(np.diff(eq[0], axis=0), 0), atol=1e-6)
    assert not np.allclose(eq, x)


def test_random_pitch_moves_a_tone_to_the_retuned_filter() -> None:
    """A 1 kHz tone retuned by the drawn interval peaks on the filter of 1 kHz times the
    factor (the sine at that pitch, analysed for real, peaks there too); times stay."""
    t = np.arange(SR) / SR
    centres = filter_centres_hz()

    def tone(hz: float) -> np.ndarray:
        y = (0.5 * np.sin(2 * np.pi * hz * t) * (t > 0.5)).astype(np.float32)
        return transcriber_features(y, sr=SR)

    x = tone(1000.0)
    moved = random_pitch(x, np.random.default_rng(3), centres_hz=centres)
    factor = 2.0 ** (np.random.default_rng(3).uniform(-3, 3) / 12.0)
    assert abs(np.log2(factor)) > 1 / 12  # the draw is a real retuning (over a semitone)
    assert int(moved[0, 80].argmax()) == int(tone(1000.0 * factor)[0, 80].argmax())
    assert int(moved[0, 80].argmax()) != int(x[0, 80].argmax())
    assert np.all(moved[0, :40] == 0) and moved[1, 50:].max() > 0.5  # silent, then the onset
    np.testing.assert_allclose(moved[1, 1:], np.maximum(np.diff(moved[0], axis=0), 0), atol=1e-6)
    same = random_pitch(x, np.random.default_rng(3), centres_hz=centres, max_semitones=0.0)
    np.testing.assert_allclose(same, x, atol=1e-6)


def test_eq_augment_is_a_share() -> None:
    assert TrainSettings(eq_augment=1.0).eq_augment == 1.0
    with pytest.raises(ValueError, match="eq_augment must be at most 1"):
        TrainSettings(eq_augment=1.5)
    with pytest.raises(ValueError, match="pitch_augment must be at most 1"):
        TrainSettings(pitch_augment=1.5)


def test_the_learning_rate_decays_to_five_percent_by_steps_or_by_time() -> None:
    by_steps = TrainSettings(steps=100, max_minutes=60.0, learning_rate=1e-3)
    assert cosine_lr(by_steps, step=0, elapsed_s=0.0) == pytest.approx(1e-3)
    assert cosine_lr(by_steps, step=50, elapsed_s=0.0) == pytest.approx(0.525e-3)
    assert cosine_lr(by_steps, step=100, elapsed_s=0.0) == pytest.approx(0.05e-3)
    # the clock ends a run that has no step count, or outruns its steps
    by_time = TrainSettings(steps=0, max_minutes=10.0, learning_rate=1e-3)
    assert cosine_lr(by_time, step=10_000, elapsed_s=300.0) == pytest.approx(0.525e-3)
    assert cosine_lr(by_steps, step=10, elapsed_s=3600.0) == pytest.approx(0.05e-3)
