"""The onset activation's trainer: a tiny real run on made-up clicks writes weights stage 1's
learned detector loads; without its renders' inputs the command fails in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drumgenx.cli import main
from drumgenx.preprocess.onsets_learned import (
    detect_onsets_learned,
    learned_features,
    load_model,
    save_model,
)
from drumgenx.training.settings import OnsetTrainSettings

pytest.importorskip("torch", reason="training needs torch (the [groove] extra)")

from drumgenx.training import onsets

SR = 44100


def _item(seed: int) -> dict:
    """3 s of decaying noise bursts at random times (the reference onsets), as a training item."""
    rng = np.random.default_rng(seed)
    times = np.sort(rng.choice(np.arange(0.1, 2.8, 0.05), size=14, replace=False))
    y = rng.standard_normal(3 * SR) * 1e-4
    burst = rng.standard_normal(SR // 10) * np.exp(-np.arange(SR // 10) / 600)
    for t in times:
        start = round(t * SR)
        y[start : start + burst.size] += burst[: y.size - start] * rng.uniform(0.3, 1.0)
    x, fps = learned_features(y.astype(np.float32), sr=SR)
    assert fps == pytest.approx(onsets.FPS)
    target, weight = onsets._targets(times, len(x))
    return {"x": x, "t": target, "w": weight, "ref": times, "desc": "clean", "name": str(seed)}


def test_a_tiny_run_writes_weights_the_learned_detector_loads(tmp_path: Path) -> None:
    settings = OnsetTrainSettings(epochs=2, steps=3, batch_size=4, threads=1)
    lines: list[str] = []
    train, val = [_item(0), _item(1), _item(2)], [_item(3)]
    fitted = onsets.fit_onset_activation(train, val, settings, log=lines.append)
    assert 1 <= fitted.best_epoch <= 2 and any("epoch  2" in line for line in lines)
    model = fitted.model
    assert model.threshold in onsets.GRID["threshold"]
    assert model.min_gap_s in onsets.GRID["gap"] and abs(model.time_offset_s) <= 0.05
    assert 0.0 <= fitted.validation[0.05][2] <= 1.0
    save_model(tmp_path / "onsets.npz", model)
    loaded = load_model(tmp_path / "onsets.npz")
    assert loaded.n_params == model.n_params > 0 and loaded.threshold == model.threshold
    y = np.zeros(SR, dtype=np.float32)
    y[SR // 2 : SR // 2 + 400] = np.hanning(800)[400:]
    found = detect_onsets_learned(y, sr=SR, model=loaded)
    assert found.times.ndim == 1
    again = onsets.fit_onset_activation(train, val, settings, log=lambda _: None)
    for a, b in zip(again.model.weights, model.weights, strict=True):  # seeded
        np.testing.assert_array_equal(a, b)


def test_train_onsets_without_gmd_is_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "w.npz"
    assert main(["train", "onsets", "--gmd", str(tmp_path / "no_gmd"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no_gmd" in err and "info.csv" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
