"""GrooVAE model: shapes, objective, training steps, inference API, shipped weights, training
run end to end on a made-up GMD folder."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from drumgenx.core.errors import DrumgenxError, OutputExistsError  # noqa: E402
from drumgenx.groove.model import (  # noqa: E402
    WEIGHTS_DIR,
    GrooVAE,
    GrooVAEConfig,
    GrooveModel,
    GrooveModelError,
    Posterior,
    reconstruction_terms,
)
from drumgenx.groove.representation import (  # noqa: E402
    Groove,
    groove_to_midi,
    groove_to_tensor,
    tensor_to_groove,
)
from drumgenx.training.groove import encoder_input, train_groovae  # noqa: E402
from drumgenx.training.settings import GrooveTrainSettings  # noqa: E402

TINY = {"enc_rnn_size": 16, "dec_rnn_size": (12, 12), "z_size": 8, "batch_size": 8}


def windows(n: int, *, seed: int = 0) -> np.ndarray:
    """(n, 32, 27) tensors of random grooves: hits, velocities, offsets x 2."""
    rng = np.random.default_rng(seed)
    hits = (rng.random((n, 32, 9)) < 0.2).astype(np.float32)
    velocities = rng.uniform(0.2, 1.0, hits.shape).astype(np.float32) * hits
    offsets = rng.uniform(-0.4, 0.4, hits.shape).astype(np.float32) * hits
    return np.concatenate([hits, velocities, 2 * offsets], axis=-1)


def test_shapes_of_every_stage() -> None:
    torch.manual_seed(0)
    net = GrooVAE(GrooVAEConfig(**TINY))
    x = torch.from_numpy(windows(5))
    q = net.encode(x)
    assert q.mu.shape == q.sigma.shape == (5, 8) and bool((q.sigma > 0).all())
    raw, _ = net(x, x)
    assert raw.shape == (5, 32, 27)
    state = net.initial_state(q.mu)
    assert [s[0].shape for s in state] == [(1, 5, 12), (1, 5, 12)]
    hits, velocities, offsets = net.generate(q.mu, temperature=1.0)
    assert hits.shape == velocities.shape == offsets.shape == (5, 32, 9)
    assert float(offsets.abs().max()) <= 0.5 and float(velocities.max()) <= 1


def test_magenta_sizes_give_magentas_parameter_count() -> None:
    net = GrooVAE(GrooVAEConfig())
    lstm = lambda i, h: 4 * h * (i + h) + 8 * h  # noqa: E731  (torch keeps two bias vectors)
    expected = (
        2 * lstm(27, 512)  # bidirectional encoder
        + 2 * (1024 * 256 + 256)  # mu, sigma
        + (256 * 1024 + 1024)  # z -> (c, h) of both decoder layers
        + lstm(27 + 256, 256)
        + lstm(256, 256)
        + (256 * 27 + 27)
    )
    assert sum(p.numel() for p in net.parameters()) == expected


def test_loss_is_magentas_sum_of_terms_and_free_bits() -> None:
    torch.manual_seed(0)
    net = GrooVAE(GrooVAEConfig(**TINY, free_bits=0.0))
    x = torch.from_numpy(windows(4))
    loss, parts = net.loss(x, x, beta=0.5, sample=False)
    assert parts["r_loss"] == pytest.approx(parts["hits"] + parts["velocities"] + parts["offsets"])
    assert parts["kl_cost"] == pytest.approx(parts["kl"], rel=1e-5)
    assert float(loss.detach()) == pytest.approx(parts["r_loss"] + 0.5 * parts["kl"], rel=1e-5)
    free = GrooVAE(GrooVAEConfig(**TINY))  # 48 free bits: a fresh posterior is well inside
    assert free.loss(x, x, beta=0.5)[1]["kl_cost"] == 0.0


def test_value_loss_hits_counts_errors_only_where_a_hit_is_played() -> None:
    x = torch.from_numpy(windows(3, seed=4))
    raw = torch.randn(3, 32, 27)
    everywhere = reconstruction_terms(raw, x)
    on_hits = reconstruction_terms(raw, x, hits_only=True)
    hits = x[..., :9]
    expected = ((torch.sigmoid(raw[..., 9:18]) - x[..., 9:18]) ** 2 * hits).sum((1, 2))
    assert torch.allclose(on_hits["velocities"], expected)
    assert torch.all(on_hits["offsets"] < everywhere["offsets"])
    assert torch.equal(on_hits["hits"], everywhere["hits"])
    with pytest.raises(ValueError, match="value_loss"):
        GrooVAEConfig(value_loss="some")


def test_a_hits_only_model_reads_its_values_as_they_are() -> None:
    torch.manual_seed(1)
    config = GrooVAEConfig(**TINY, value_loss="hits")
    net = GrooVAE(config).eval()
    x = torch.from_numpy(windows(2, seed=5))
    mu = net.encode(encoder_input(x, "humanize")).mu
    hits = x[..., :9]
    # The reading "given a hit" changes nothing when the outputs were trained as such.
    assert all(
        torch.equal(a, b)
        for a, b in zip(
            net.generate(mu, hits=hits, hit_conditional=True),
            net.generate(mu, hits=hits, hit_conditional=False),
            strict=True,
        )
    )


def test_kl_of_the_prior_is_zero() -> None:
    q = Posterior(torch.zeros(2, 3), torch.ones(2, 3))
    assert torch.allclose(q.kl(), torch.zeros(2))


def test_schedules_follow_magentas_formulas() -> None:
    config = GrooVAEConfig()
    assert config.learning_rate_at(0) == pytest.approx(1e-3)
    assert config.learning_rate_at(10**6) == pytest.approx(1e-5)
    assert config.beta(0) == 0.0
    assert config.beta(1000) == pytest.approx(0.2 * (1 - 0.999**1000))
    assert GrooVAEConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="unknown"):
        GrooVAEConfig.from_dict({"zsize": 3})
    with pytest.raises(ValueError, match="task"):
        GrooVAEConfig(task="swing")


def test_a_few_training_steps_lower_the_loss() -> None:
    torch.manual_seed(0)
    net = GrooVAE(GrooVAEConfig(**TINY))
    target = torch.from_numpy(windows(8))
    inputs = encoder_input(target, "humanize")
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    first = net.loss(inputs, target, beta=0.2)[1]["loss"]
    for _ in range(25):
        loss, _ = net.loss(inputs, target, beta=0.2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert net.loss(inputs, target, beta=0.2)[1]["loss"] < 0.8 * first


def test_humanize_input_has_hits_only() -> None:
    target = torch.from_numpy(windows(2))
    x = encoder_input(target, "humanize")
    assert torch.equal(x[..., :9], target[..., :9]) and not x[..., 9:].any()
    assert encoder_input(target, "vary") is target


def tiny_model(task: str, *, seed: int = 0, **settings: object) -> GrooveModel:
    torch.manual_seed(seed)
    net = GrooVAE(GrooVAEConfig(**{**TINY, **settings}, task=task))
    return GrooveModel(net, device=torch.device("cpu"))


def test_humanize_keeps_hits_and_is_deterministic() -> None:
    model = tiny_model("humanize")
    hits = windows(3)[..., :9]
    v1, o1 = model.humanize(hits)
    v2, o2 = model.humanize(hits)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(o1, o2)
    assert v1.shape == o1.shape == (3, 32, 9) and v1.dtype == np.float32
    assert not v1[hits == 0].any() and not o1[hits == 0].any()
    with pytest.raises(ValueError, match="shape"):
        model.humanize(hits[:, :16])
    with pytest.raises(DrumgenxError, match="humanize, not vary"):
        model.vary(hits, hits, hits, temperature=0.5, seed=0)


def test_vary_is_seeded_and_exact_at_temperature_zero() -> None:
    model = tiny_model("vary")
    w = windows(4)
    hits, velocities, offsets = w[..., :9], w[..., 9:18], w[..., 18:] / 2
    a = model.vary(hits, velocities, offsets, temperature=1.0, seed=7)
    b = model.vary(hits, velocities, offsets, temperature=1.0, seed=7)
    c = model.vary(hits, velocities, offsets, temperature=1.0, seed=8)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    zero = [model.vary(hits, velocities, offsets, temperature=0.0, seed=s) for s in (1, 2)]
    for x, y in zip(*zero, strict=True):
        np.testing.assert_array_equal(x, y)
    assert set(np.unique(a[0])) <= {0.0, 1.0}
    assert not a[1][a[0] == 0].any()
    with pytest.raises(DrumgenxError, match="temperature"):
        model.vary(hits, velocities, offsets, temperature=-1.0, seed=0)


def test_same_seed_same_network() -> None:
    a, b = tiny_model("humanize", seed=3).net, tiny_model("humanize", seed=3).net
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), name


@pytest.mark.parametrize("task", ["humanize", "vary"])
def test_shipped_weights_load_and_give_valid_outputs(task: str) -> None:
    model = GrooveModel.load(task=task, device="cpu")
    assert model.task == task
    info = json.loads((WEIGHTS_DIR / task / "config.json").read_text())
    assert info["validation"] and info["data"]["train_windows"] > 10_000
    rng = np.random.default_rng(0)
    hits = (rng.random((2, 32, 9)) < 0.15).astype(np.float32)
    hits[:, ::2, 2] = 1  # eighth-note hats
    if task == "humanize":
        velocities, offsets = model.humanize(hits)
    else:
        w = rng.uniform(0.3, 0.9, hits.shape).astype(np.float32) * hits
        hits, velocities, offsets = model.vary(hits, w, w * 0, temperature=0.5, seed=0)
    assert velocities.shape == offsets.shape == (2, 32, 9)
    assert velocities.min() >= 0 and velocities.max() <= 1
    assert offsets.min() >= -0.5 and offsets.max() <= 0.5
    assert velocities[hits == 1].mean() > 0.1  # a trained model plays the hits it is given


def test_load_errors_are_one_line_drumgenx_errors(tmp_path: Path) -> None:
    with pytest.raises(GrooveModelError, match="missing"):
        GrooveModel.load(tmp_path, task="humanize")
    with pytest.raises(GrooveModelError, match="task"):
        GrooveModel.load(task="swing")
    model = tiny_model("vary")
    (tmp_path / "config.json").write_text(
        json.dumps(
            {"format": "drumgenx-groovae", "format_version": 1, "config": model.config.to_dict()}
        )
    )
    (tmp_path / "model.pt").write_bytes(b"garbage")
    with pytest.raises(GrooveModelError, match="not a matching GrooVAE state"):
        GrooveModel.load(tmp_path, task="vary")
    with pytest.raises(GrooveModelError, match="holds a GrooVAE vary model"):
        GrooveModel.load(tmp_path, task="humanize")
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(GrooveModelError, match="unreadable"):
        GrooveModel.load(tmp_path, task="vary")


def fake_gmd(root: Path) -> Path:
    """A GMD-shaped folder: info.csv and a few 3-bar 4-4 files per split (one 3-4)."""
    rows = []
    for i in range(6):
        split = ("train", "train", "train", "validation", "validation", "test")[i]
        rng = np.random.default_rng(i)
        hits = (rng.random((48, 9)) < 0.25).astype(np.float32)
        velocities = rng.integers(30, 128, hits.shape) / 127 * hits
        offsets = rng.integers(-50, 50, hits.shape) / 120 * hits
        offsets[0] = np.abs(offsets[0])
        name = f"drummer1/session1/{i}_rock_100_beat_4-4.mid"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        groove_to_midi(Groove(hits, velocities, offsets), bpm=100).save(root / name)
        rows.append({"midi_filename": name, "split": split, "time_signature": "4-4"})
    rows.append({"midi_filename": name, "split": "train", "time_signature": "3-4"})
    with (root / "info.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["midi_filename", "split", "time_signature"])
        writer.writeheader()
        writer.writerows(rows)
    return root


def test_training_run_writes_a_loadable_reproducible_model(tmp_path: Path) -> None:
    gmd = fake_gmd(tmp_path / "gmd")
    events: list[dict] = []
    runs = []
    for name in ("a", "b"):
        result = train_groovae(
            gmd_root=gmd,
            task="humanize",
            out_dir=tmp_path / name,
            settings=GrooveTrainSettings(seed=1, epochs=2),
            config=GrooVAEConfig(**TINY),
            cache_dir=tmp_path / "cache",
            progress=events.append,
        )
        runs.append(result)
    result = runs[0]
    assert result.train_windows == 6 and result.validation_windows == 4  # 2 per 3-bar file
    assert result.epochs_run == 2 and 1 <= result.best_epoch <= 2
    assert {"data", "update", "validation", "done"} <= {e["event"] for e in events}
    info = json.loads((tmp_path / "a" / "config.json").read_text())
    assert info["config"]["task"] == "humanize" and info["sources"]["z_size"]
    assert math.isfinite(info["validation"]["velocity_mae"])
    lines = (tmp_path / "a" / "train_log.jsonl").read_text().splitlines()
    assert sum(json.loads(line)["event"] == "validation" for line in lines) == 2
    a = GrooveModel.load(tmp_path / "a", task="humanize", device="cpu")
    b = GrooveModel.load(tmp_path / "b", task="humanize", device="cpu")
    for x, y in zip(a.net.state_dict().values(), b.net.state_dict().values(), strict=True):
        assert torch.equal(x, y)
    with pytest.raises(OutputExistsError):
        train_groovae(gmd_root=gmd, task="humanize", out_dir=tmp_path / "a")


def test_drumgenx_train_groove_writes_a_model_the_groove_stage_loads(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from drumgenx.cli import main

    gmd = fake_gmd(tmp_path / "gmd")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    tiny = json.dumps({**TINY, "dec_rnn_size": [12, 12]})
    argv = ["train", "groove", "--gmd", str(gmd), "--task", "vary", "--epochs", "1"]
    assert main([*argv, "--config", tiny, "--threads", "1"]) == 0
    out = tmp_path / "output" / "groovae_vary" / "run_1"
    shown = capsys.readouterr()
    assert f"trained: {Path('output/groovae_vary/run_1')}" in shown.out
    assert "train groove: validation epoch=1" in shown.err and "event=update" not in shown.err
    info = json.loads((out / "config.json").read_text())
    assert info["seed"] == 0 and info["settings"]["epochs"] == 1 and info["threads"] == 1
    assert info["config"]["z_size"] == TINY["z_size"]
    assert GrooveModel.load(out, task="vary", device="cpu").task == "vary"
    assert main([*argv, "--out", str(out)]) == 2  # a model is there: --overwrite replaces it
    assert "overwrite" in capsys.readouterr().err


def test_windows_of_the_fake_gmd_are_model_tensors(tmp_path: Path) -> None:
    from drumgenx.training.groove import load_gmd_windows

    gmd = fake_gmd(tmp_path / "gmd")
    first = load_gmd_windows(gmd, "validation", cache_dir=tmp_path / "cache")
    cached = load_gmd_windows(gmd, "validation", cache_dir=tmp_path / "cache")
    assert first.tensors.shape == (4, 32, 27) and len(first.files) == 2
    np.testing.assert_array_equal(first.tensors, cached.tensors)
    assert first.bpm == pytest.approx(100.0)
    np.testing.assert_array_equal(
        groove_to_tensor(tensor_to_groove(first.tensors[0])), first.tensors[0]
    )
