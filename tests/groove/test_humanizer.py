"""The humanizer: numpy inference equals the torch network, conditioning, feel, training."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from drumgenx.core.errors import ParameterError
from drumgenx.groove.humanizer import (
    FeelCalibration,
    Humanizer,
    HumanizerError,
    Prediction,
    perform,
)
from drumgenx.groove.representation import Groove, groove_to_midi

torch = pytest.importorskip("torch", reason="the humanizer trains with torch ([groove])")

from drumgenx.groove.convert import humanizer_prediction  # noqa: E402
from drumgenx.training.humanizer import (  # noqa: E402  (after the torch check)
    HumanizerNet,
    Performance,
    calibrate_feel,
    lag1,
    loss_terms,
    train_humanizer,
)
from drumgenx.training.settings import HumanizerTrainSettings  # noqa: E402

STYLES = ("funk", "rock")


def tiny(seed: int = 0) -> tuple[HumanizerNet, Humanizer]:
    """A random tiny network and its numpy twin."""
    torch.manual_seed(seed)
    net = HumanizerNet(width=8, layers=2, heads=2, num_styles=len(STYLES)).eval()
    for p in net.parameters():  # weights large enough that every term matters
        torch.nn.init.normal_(p, std=0.3)
    meta = {
        "model": "humanizer",
        "styles": list(STYLES),
        "num_drummers": 10,
        "layers": 2,
        "heads": 2,
        "feel_calibration": {"offset_correlation": 0.5},
    }
    weights = {k: v.astype(np.float64) for k, v in net.numpy_weights().items()}
    return net, Humanizer(weights, meta)


def pattern(n: int = 3, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, 32, 9)) < 0.3).astype(np.float32)


def torch_outputs(net: HumanizerNet, hits: np.ndarray, **condition: object) -> np.ndarray:
    n = len(hits)
    batch = {
        "hits": torch.as_tensor(hits),
        "bpm": torch.full((n,), float(condition["bpm"])),
        "drummer": torch.full((n,), int(condition["drummer"])),
        "style": torch.full((n,), int(condition["style"])),
        "first_bar": torch.as_tensor(condition["first_bars"]),
    }
    with torch.no_grad():
        y = net(batch)
    return torch.stack(
        [
            torch.sigmoid(y[:, :, 0]),
            y[:, :, 1].exp(),
            50 * torch.tanh(y[:, :, 2]),
            20 * y[:, :, 3].exp(),
        ]
    ).numpy()


@pytest.mark.parametrize("bpm", [70.0, 160.0])
def test_numpy_inference_equals_the_torch_network(bpm: float) -> None:
    net, humanizer = tiny()
    hits, first_bars = pattern(), np.array([0, 1, 6])
    ours = humanizer.predict(hits, bpm=bpm, first_bars=first_bars, drummer=3, style="rock")
    theirs = torch_outputs(net, hits, bpm=bpm, drummer=3, style=2, first_bars=first_bars)
    np.testing.assert_allclose(np.stack(ours.arrays()), theirs, rtol=1e-4, atol=1e-4)


def test_tempo_drummer_style_and_bar_reach_the_model() -> None:
    _, humanizer = tiny()
    hits, bars = pattern(1), np.array([0])
    base = humanizer.predict(hits, bpm=100, first_bars=bars).offset_ms
    for changed in (
        humanizer.predict(hits, bpm=140, first_bars=bars),
        humanizer.predict(hits, bpm=100, first_bars=bars, drummer=7),
        humanizer.predict(hits, bpm=100, first_bars=bars, style="funk"),
        humanizer.predict(hits, bpm=100, first_bars=np.array([1])),
    ):
        assert np.abs(changed.offset_ms - base).max() > 1e-3


def test_unknown_drummer_or_style_is_a_parameter_error() -> None:
    _, humanizer = tiny()
    hits, bars = pattern(1), np.array([0])
    for bad in ({"drummer": 0}, {"drummer": 11}, {"style": "polka"}):
        with pytest.raises(ParameterError, match=next(iter(bad))):
            humanizer.predict(hits, bpm=100, first_bars=bars, **bad)


def prediction(steps: int = 64, scale_ms: float = 10.0) -> tuple[Prediction, np.ndarray]:
    hits = np.zeros((steps, 9))
    hits[::2, 2] = hits[::4, 0] = 1
    shape = hits.shape
    p = Prediction(
        np.full(shape, 0.6), np.full(shape, 0.1), np.full(shape, 5.0), np.full(shape, scale_ms)
    )
    return p, hits


def test_feel_zero_is_the_location_and_ignores_the_seed() -> None:
    p, hits = prediction()
    a = perform(p, hits, feel=0.0, seed=1, calibration=FeelCalibration(0.5))
    b = perform(p, hits, feel=0.0, seed=2, calibration=FeelCalibration(0.5))
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[1], p.offset_ms)
    np.testing.assert_array_equal(a[0], p.velocity)


def test_feel_one_samples_with_the_seed_and_has_the_predicted_spread() -> None:
    p, hits = prediction(steps=4096)
    a = perform(p, hits, feel=1.0, seed=1, calibration=FeelCalibration(0.0))
    again = perform(p, hits, feel=1.0, seed=1, calibration=FeelCalibration(0.0))
    other = perform(p, hits, feel=1.0, seed=2, calibration=FeelCalibration(0.0))
    np.testing.assert_array_equal(a[1], again[1])
    assert np.abs(a[1] - other[1]).max() > 1
    played = hits > 0
    # Laplace(5, 10): mean absolute deviation 10 ms around 5
    assert abs(np.mean(np.abs(a[1][played] - 5.0)) - 10.0) < 0.6
    assert np.all(a[1][~played] == 5.0)  # no noise where nothing is played
    half = perform(p, hits, feel=0.5, seed=1, calibration=FeelCalibration(0.0))
    np.testing.assert_allclose(half[1] - 5.0, (a[1] - 5.0) / 2)


def test_offset_correlation_sets_the_lag1_of_the_draws() -> None:
    p, hits = prediction(steps=4096)
    for rho in (0.0, 0.8):
        offsets = perform(p, hits, feel=1.0, seed=3, calibration=FeelCalibration(rho))[1]
        assert abs(lag1([offsets], [hits]) - rho) < 0.06


def test_feel_outside_0_1_is_a_parameter_error() -> None:
    p, hits = prediction()
    with pytest.raises(ParameterError, match="feel"):
        perform(p, hits, feel=1.5, seed=0, calibration=FeelCalibration(0.0))


@pytest.mark.parametrize("loss", ["laplace", "l1", "l2"])
def test_a_few_steps_lower_each_loss_on_a_tiny_batch(loss: str) -> None:
    torch.manual_seed(0)
    net = HumanizerNet(width=16, layers=1, heads=2, num_styles=2)
    rng = np.random.default_rng(0)
    hits = torch.as_tensor(pattern(8))
    batch = {
        "hits": hits,
        "velocities": torch.as_tensor(rng.random((8, 32, 9)), dtype=torch.float32) * hits,
        "offsets_ms": torch.as_tensor(rng.normal(5, 10, (8, 32, 9)), dtype=torch.float32) * hits,
        "bpm": torch.full((8,), 100.0),
        "drummer": torch.ones(8, dtype=torch.long),
        "style": torch.ones(8, dtype=torch.long),
        "first_bar": torch.zeros(8, dtype=torch.long),
    }
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    net.eval()  # no dropout: the same batch, a falling loss
    with torch.no_grad():
        first = float(loss_terms(net(batch), batch, loss=loss))
    for _ in range(40):
        optimizer.zero_grad()
        value = loss_terms(net(batch), batch, loss=loss)
        value.backward()
        optimizer.step()
    assert float(value.detach()) < first - 0.05


def fake_gmd(root: Path) -> Path:
    """info.csv with drummer and style, 4-bar 4-4 files in train and validation."""
    rows = []
    for i, (split, drummer, style) in enumerate(
        [("train", 1, "rock"), ("train", 2, "funk/groove3"), ("validation", 1, "funk")]
    ):
        rng = np.random.default_rng(i)
        hits = (rng.random((64, 9)) < 0.3).astype(np.float32)
        velocities = rng.integers(30, 128, hits.shape) / 127 * hits
        offsets = rng.integers(-40, 40, hits.shape) / 120 * hits
        name = f"drummer{drummer}/s/{i}_{style.replace('/', '-')}_100_beat_4-4.mid"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        groove_to_midi(Groove(hits, velocities, offsets), bpm=100 + 20 * i).save(root / name)
        rows.append(
            {
                "drummer": f"drummer{drummer}",
                "style": style,
                "midi_filename": name,
                "split": split,
                "time_signature": "4-4",
            }
        )
    with (root / "info.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root


def test_training_writes_weights_the_numpy_model_loads_reproducibly(tmp_path: Path) -> None:
    gmd = fake_gmd(tmp_path / "gmd")
    settings = HumanizerTrainSettings(steps=6, eval_every=3, width=8, layers=1, heads=2, threads=1)
    logs: list[dict] = []
    for name in ("a", "b"):
        train_humanizer(gmd, tmp_path / name / "h.npz", settings=settings, log=logs.append)
    a, b = (Humanizer.load(tmp_path / n / "h.npz") for n in ("a", "b"))
    assert a.styles == ("funk", "rock") and a.meta["best_step"] in (3, 6)
    assert 0.0 <= a.calibration.offset_correlation <= 0.9
    assert a.calibration.offset_noise >= 0 and a.calibration.velocity_noise >= 0
    assert [r["step"] for r in logs] == [3, 6, 3, 6]
    for key, value in a.w.items():
        np.testing.assert_array_equal(value, b.w[key])
    out = a.predict(pattern(2), bpm=120, first_bars=np.arange(2), drummer=2, style="funk")
    assert out.velocity.shape == (2, 32, 9) and np.all(np.abs(out.offset_ms) <= 50)


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "humanizer.npz"
    np.savez(bad, meta=np.asarray(json.dumps({"model": "other"})))
    with pytest.raises(HumanizerError, match="not humanizer weights"):
        Humanizer.load(tmp_path)  # a folder holding the file
    with pytest.raises(HumanizerError, match=r"missing\.npz"):
        Humanizer.load(tmp_path / "missing.npz")


def test_calibrated_feel_1_has_the_drummers_spread_and_lag1() -> None:
    """Drummers' offsets with a 30 ms spread drifting at lag-1 ~0.6, velocities spread 0.25:
    the calibration's draws reproduce both spreads and come nearest that lag-1."""
    _, humanizer = tiny()
    rng = np.random.default_rng(0)
    performances = []
    for i in range(6):
        hits = np.zeros((128, 9), np.float32)
        hits[::2, 2] = 1
        drift = np.zeros(128)
        for s in range(1, 128):
            drift[s] = 0.6 * drift[s - 1] + 0.8 * rng.normal(0, 30)
        performances.append(
            Performance(
                hits,
                np.clip(rng.normal(0.5, 0.25, hits.shape), 0, 1) * hits,
                drift[:, None] * hits,
                100.0,
                1 + i % 3,
                "rock",
            )
        )
    chosen = calibrate_feel(humanizer, performances, seed=0)
    calibration = FeelCalibration(**chosen["calibration"])
    hits = [p.hits for p in performances]
    played = [
        perform(
            humanizer_prediction(humanizer, p.hits, bpm=p.bpm),
            p.hits,
            feel=1.0,
            seed=100 + i,
            calibration=calibration,
        )
        for i, p in enumerate(performances)
    ]

    def spread(arrays: list[np.ndarray]) -> float:
        return float(np.concatenate([a[h > 0] for a, h in zip(arrays, hits, strict=True)]).std())

    truth = spread([p.offsets_ms for p in performances])
    assert abs(spread([o for _, o in played]) / truth - 1) < 0.12
    assert abs(lag1([o for _, o in played], hits) - chosen["drummers_lag1"]) < 0.15


def test_a_draw_never_silences_a_hit() -> None:
    p, hits = prediction(steps=4096)
    loud_noise = Prediction(p.velocity, np.full(hits.shape, 2.0), p.offset_ms, p.offset_scale_ms)
    velocity, _ = perform(loud_noise, hits, feel=1.0, seed=0, calibration=FeelCalibration())
    assert velocity[hits > 0].min() == pytest.approx(1 / 127) and velocity.max() == 1.0
