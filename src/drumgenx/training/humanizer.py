"""Train the humanizer (`groove.humanizer`) on the Groove MIDI Dataset.

One command, reproducible from its seed and thread count (defaults:
`training.settings.HumanizerTrainSettings`)::

    drumgenx train humanizer --gmd ../shared/data/gmd --out humanizer.npz [--loss laplace]

GMD *train* 4-4 performances, as 2-bar windows slid by one bar (the windows GrooVAE trains
on), are learned from; *validation* chooses the checkpoint and the offset correlation of
``--feel 1``; the test split is never read. Per window the network sees the quantized hits,
the tempo, the drummer, the primary style (``funk`` of ``funk/groove1``) and the window's
bar in a 4-bar phrase; drummer and style are each replaced by "any" in
``condition_dropout`` of the training windows, so the model also plays for a user who names
neither. Losses (``--loss``): ``laplace`` (negative log-likelihood of a Laplace
distribution: its location is the conditional median, what a mean absolute error rewards,
and its scale is what ``--feel`` samples), ``l1`` (the median alone, no scale: ``--feel``
then has nothing to draw) or ``l2`` (the mean, as GrooVAE's squared errors). Offsets are
in milliseconds (the loss in units of 20 ms, velocities 0..1).
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.versioning import replace_file
from drumgenx.groove.convert import humanizer_prediction
from drumgenx.groove.humanizer import (
    OFFSET_LIMIT_MS,
    REFERENCE_BPM,
    SCALE_UNIT_MS,
    FeelCalibration,
    Humanizer,
    perform,
)
from drumgenx.groove.representation import (
    NUM_CLASSES,
    STEPS_PER_BAR,
    WINDOW_STEPS,
    midi_to_groove,
)
from drumgenx.training.flags import settings_from, standalone
from drumgenx.training.settings import HumanizerTrainSettings, command_line

__all__ = [
    "HumanizerNet",
    "Performance",
    "Windows",
    "calibrate_feel",
    "load_performances",
    "run_command",
    "to_windows",
    "train_humanizer",
]

NUM_DRUMMERS = 10  # GMD's drummer1..drummer10
OFFSET_CORRELATIONS = tuple(round(0.1 * i, 1) for i in range(10))  # --feel 1's grid
Log = Callable[[dict[str, Any]], None]


def _silent(_: dict[str, Any]) -> None:
    """The default ``log``: library code never prints."""


@dataclass(frozen=True)
class Windows:
    """One GMD split as 2-bar windows: hits, velocities (0..1), offsets (ms) ``(n, 32, 9)``;
    per window its tempo, drummer (1..10), style index (1.., 0 is "any"), first bar."""

    hits: np.ndarray
    velocities: np.ndarray
    offsets_ms: np.ndarray
    bpm: np.ndarray
    drummer: np.ndarray
    style: np.ndarray
    first_bar: np.ndarray

    def __len__(self) -> int:
        return len(self.hits)

    def tensors(self, index: np.ndarray | slice = slice(None)) -> dict[str, torch.Tensor]:
        return {
            name: torch.as_tensor(getattr(self, name)[index])
            for name in ("hits", "velocities", "offsets_ms", "bpm", "drummer", "style", "first_bar")
        }


def gmd_styles(gmd: Path) -> tuple[str, ...]:
    """The primary styles of GMD's 4-4 files (every split: a name list, no data), sorted."""
    with open(gmd / "info.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["time_signature"] == "4-4"]
    return tuple(sorted({r["style"].split("/")[0] for r in rows}))


@dataclass(frozen=True)
class Performance:
    """One GMD file on the grid, whole bars: hits, velocities (0..1), offsets (ms)
    ``(bars * 16, 9)``, its tempo, drummer (1..10) and primary style."""

    hits: np.ndarray
    velocities: np.ndarray
    offsets_ms: np.ndarray
    bpm: float
    drummer: int
    style: str


def load_performances(gmd: str | Path, split: str) -> list[Performance]:
    """``split``'s 4-4 files (train or validation: the test split is never read).

    Raises
    ------
    DrumgenxError
        ``gmd`` has no ``info.csv``, or the split is not train or validation.
    """
    gmd = Path(gmd)
    if split not in ("train", "validation"):
        raise DrumgenxError(f"the humanizer trains on train and chooses on validation, not {split}")
    if not (gmd / "info.csv").is_file():
        raise DrumgenxError(f"{gmd}: not the Groove MIDI Dataset (no info.csv)")
    with open(gmd / "info.csv", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["split"] == split and r["time_signature"] == "4-4"
        ]
    performances = []
    for row in rows:
        groove, bpm = midi_to_groove(gmd / row["midi_filename"])
        steps = groove.steps // STEPS_PER_BAR * STEPS_PER_BAR
        performances.append(
            Performance(
                hits=groove.hits[:steps],
                velocities=groove.velocities[:steps],
                offsets_ms=groove.offsets[:steps] * 60_000.0 / bpm / 4,
                bpm=bpm,
                drummer=int(row["drummer"].removeprefix("drummer")),
                style=row["style"].split("/")[0],
            )
        )
    return performances


def to_windows(performances: list[Performance], *, styles: tuple[str, ...]) -> Windows:
    """Every 2-bar window (hop one bar, as GrooVAE's data; second bar not empty).

    Raises
    ------
    DrumgenxError
        No performance holds such a window.
    """
    columns: dict[str, list[Any]] = {name: [] for name in Windows.__dataclass_fields__}
    for perf in performances:
        bars = len(perf.hits) // STEPS_PER_BAR
        for first_bar in range(bars - 1):
            window = slice(first_bar * STEPS_PER_BAR, first_bar * STEPS_PER_BAR + WINDOW_STEPS)
            if not perf.hits[window][STEPS_PER_BAR:].any():
                continue
            columns["hits"].append(perf.hits[window])
            columns["velocities"].append(perf.velocities[window])
            columns["offsets_ms"].append(perf.offsets_ms[window])
            columns["bpm"].append(perf.bpm)
            columns["drummer"].append(perf.drummer)
            columns["style"].append(styles.index(perf.style) + 1)
            columns["first_bar"].append(first_bar)
    if not columns["hits"]:
        raise DrumgenxError("no 4-4 performance holds 2 bars of drums")
    types = {"drummer": np.int64, "style": np.int64, "first_bar": np.int64}
    return Windows(**{k: np.asarray(v, types.get(k, np.float32)) for k, v in columns.items()})


class HumanizerNet(nn.Module):
    """The network of `groove.humanizer` in torch (the numpy module documents it)."""

    def __init__(self, *, width: int, layers: int, heads: int, num_styles: int) -> None:
        super().__init__()
        self.inp = nn.Linear(NUM_CLASSES, width)
        self.pos = nn.Parameter(torch.randn(WINDOW_STEPS, width) * 0.02)
        self.phase = nn.Embedding(4, width)
        self.drummer = nn.Embedding(NUM_DRUMMERS + 1, width)
        self.style = nn.Embedding(num_styles + 1, width)
        self.tempo = nn.Linear(1, width)
        layer = nn.TransformerEncoderLayer(
            width, heads, 2 * width, dropout=0.1, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, 4 * NUM_CLASSES)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        tempo = torch.log(batch["bpm"] / REFERENCE_BPM)[:, None]
        context = (
            self.phase(batch["first_bar"] % 4)
            + self.drummer(batch["drummer"])
            + self.style(batch["style"])
            + self.tempo(tempo)
        )
        x = self.inp(batch["hits"]) + self.pos + context[:, None, :]
        y = self.out(self.norm(self.encoder(x)))
        return y.view(*y.shape[:2], 4, NUM_CLASSES)

    def numpy_weights(self) -> dict[str, np.ndarray]:
        """The weights under `groove.humanizer.Humanizer`'s names."""
        state = {
            k: v.detach().cpu().numpy().astype(np.float32) for k, v in self.state_dict().items()
        }
        names = {
            "inp.weight": "in_w",
            "inp.bias": "in_b",
            "pos": "pos",
            "phase.weight": "phase",
            "drummer.weight": "drummer",
            "style.weight": "style",
            "norm.weight": "ln_w",
            "norm.bias": "ln_b",
            "out.weight": "out_w",
            "out.bias": "out_b",
        }
        weights = {ours: state[theirs] for theirs, ours in names.items()}
        weights["tempo_w"] = state["tempo.weight"][:, 0]
        weights["tempo_b"] = state["tempo.bias"]
        per_layer = {
            "self_attn.in_proj_weight": "qkv_w",
            "self_attn.in_proj_bias": "qkv_b",
            "self_attn.out_proj.weight": "proj_w",
            "self_attn.out_proj.bias": "proj_b",
            "linear1.weight": "ff1_w",
            "linear1.bias": "ff1_b",
            "linear2.weight": "ff2_w",
            "linear2.bias": "ff2_b",
            "norm1.weight": "ln1_w",
            "norm1.bias": "ln1_b",
            "norm2.weight": "ln2_w",
            "norm2.bias": "ln2_b",
        }
        for i in range(len(self.encoder.layers)):
            for theirs, ours in per_layer.items():
                weights[f"l{i}.{ours}"] = state[f"encoder.layers.{i}.{theirs}"]
        return weights


def outputs(y: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Velocity (0..1), log velocity scale, offset (ms), log offset scale (in 20 ms)."""
    return (
        torch.sigmoid(y[:, :, 0]),
        y[:, :, 1],
        OFFSET_LIMIT_MS * torch.tanh(y[:, :, 2]),
        y[:, :, 3],
    )


def loss_terms(y: torch.Tensor, batch: dict[str, torch.Tensor], *, loss: str) -> torch.Tensor:
    """The mean loss over the played hits (velocity term + offset term)."""
    velocity, log_vs, offset, log_os = outputs(y)
    played = batch["hits"] > 0
    dv = velocity - batch["velocities"]
    do = (offset - batch["offsets_ms"]) / SCALE_UNIT_MS
    if loss == "laplace":
        terms = dv.abs() / log_vs.exp() + log_vs + do.abs() / log_os.exp() + log_os
    elif loss == "l1":
        terms = dv.abs() + do.abs()
    else:  # l2; velocity x 10 puts its errors on the offsets' scale
        terms = 10 * dv**2 + do**2
    return terms[played].mean()


@torch.no_grad()
def evaluate(net: HumanizerNet, windows: Windows) -> dict[str, float]:
    """Velocity and offset MAE over the played hits: with drummer and style "any"
    (``_any``) and with the true ones (``_known``)."""
    net.eval()
    known = windows.tensors()
    unknown = {**known, "drummer": torch.zeros_like(known["drummer"])}
    unknown["style"] = torch.zeros_like(known["style"])
    played = known["hits"] > 0
    scores = {}
    for tag, batch in (("any", unknown), ("known", known)):
        velocity, _, offset, _ = outputs(net(batch))
        scores[f"velocity_mae_{tag}"] = float((velocity - batch["velocities"]).abs()[played].mean())
        scores[f"offset_mae_ms_{tag}"] = float((offset - batch["offsets_ms"]).abs()[played].mean())
    return scores


def template_scores(train: Windows, validation: Windows) -> dict[str, float]:
    """The groove template's MAE on ``validation``: the train split's mean velocity and
    offset per (step in bar, class), the baseline the issue measures against."""

    def template(values: np.ndarray) -> np.ndarray:
        played = train.hits.reshape(-1, 16, NUM_CLASSES)
        sums = (values.reshape(played.shape) * played).sum(0)
        return sums / np.maximum(played.sum(0), 1)

    played = validation.hits > 0
    scores = {}
    for name, values, truth in (
        ("velocity_mae", train.velocities, validation.velocities),
        ("offset_mae_ms", train.offsets_ms, validation.offsets_ms),
    ):
        predicted = np.tile(template(values), (2, 1))[None]
        scores[name] = float(np.abs(predicted - truth)[np.broadcast_to(played, truth.shape)].mean())
    return scores


def lag1(offsets: list[np.ndarray], hits: list[np.ndarray]) -> float:
    """Pearson r of each class's successive offsets (in time order) within each performance
    ``(steps, 9)``, pairs pooled over classes and performances."""
    pairs = [
        pair
        for offset, hit in zip(offsets, hits, strict=True)
        for c in range(NUM_CLASSES)
        for pair in itertools.pairwise(offset[hit[:, c] > 0, c])
    ]
    a = np.asarray(pairs)
    return float(np.corrcoef(a[:, 0], a[:, 1])[0, 1]) if len(a) > 2 else 0.0


def calibrate_feel(
    humanizer: Humanizer, performances: list[Performance], *, seed: int
) -> dict[str, Any]:
    """`FeelCalibration` that gives ``--feel 1`` the drummers' spread and lag-1 on whole
    ``performances`` (validation), at the defaults (any drummer, any style).

    The noise factors make the variance of the played offsets (velocities) that of the
    drummers' (location variance plus noise variance, clipping aside); then the AR(1)
    correlation whose lag-1 over whole performances is nearest the drummers' is taken from
    `OFFSET_CORRELATIONS`.
    """
    predictions = [humanizer_prediction(humanizer, p.hits, bpm=p.bpm) for p in performances]
    hits = [p.hits for p in performances]

    def played(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([a[h > 0] for a, h in zip(arrays, hits, strict=True)])

    def draws(calibration: FeelCalibration) -> list[tuple[np.ndarray, np.ndarray]]:
        return [
            perform(pred, p.hits, feel=1.0, seed=seed + i, calibration=calibration)
            for i, (pred, p) in enumerate(zip(predictions, performances, strict=True))
        ]

    unit = draws(FeelCalibration())
    factors = {}
    for name, index, truth, location in (
        (
            "velocity_noise",
            0,
            [p.velocities for p in performances],
            [q.velocity for q in predictions],
        ),
        (
            "offset_noise",
            1,
            [p.offsets_ms for p in performances],
            [q.offset_ms for q in predictions],
        ),
    ):
        noise = played([d[index] for d in unit]) - played(location)
        wanted = played(truth).var() - played(location).var()
        factors[name] = round(float(np.sqrt(max(wanted, 0.0) / noise.var())), 3)
    truth_lag1 = lag1([p.offsets_ms for p in performances], hits)
    measured = {
        rho: lag1([d[1] for d in draws(FeelCalibration(rho, **factors))], hits)
        for rho in OFFSET_CORRELATIONS
    }
    best = min(measured, key=lambda rho: abs(measured[rho] - truth_lag1))
    return {
        "calibration": {"offset_correlation": best, **factors},
        "drummers_lag1": round(truth_lag1, 4),
        "lag1_by_correlation": {str(k): round(v, 4) for k, v in measured.items()},
    }


@dataclass(frozen=True)
class TrainResult:
    """What `train_humanizer` wrote and chose."""

    out: Path
    best_step: int
    steps: int
    minutes: float
    validation: dict[str, float]
    template: dict[str, float]
    feel_calibration: dict[str, float]


def train_humanizer(
    gmd: str | Path,
    out: str | Path,
    *,
    settings: HumanizerTrainSettings | None = None,
    command: str = "",
    log: Log = _silent,
) -> TrainResult:
    """Train on GMD train, keep the checkpoint with the best validation score, write ``out``.

    The score is the velocity and offset MAE, each relative to the groove template's, summed
    over "any" and the true drummer and style. ``log`` receives one record per evaluation
    (also written to ``train_log.jsonl`` beside ``out``).
    """
    settings = settings or HumanizerTrainSettings()
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    rng = np.random.default_rng(settings.seed)
    gmd, out = Path(gmd), Path(out)
    styles = gmd_styles(gmd)
    performances = {s: load_performances(gmd, s) for s in ("train", "validation")}
    train, validation = (to_windows(performances[s], styles=styles) for s in performances)
    template = template_scores(train, validation)
    net = HumanizerNet(
        width=settings.width, layers=settings.layers, heads=settings.heads, num_styles=len(styles)
    )
    best_state, best_step, steps, minutes = _fit(
        net, train, validation, template, settings, rng, log
    )
    net.load_state_dict(best_state)
    meta = {
        "model": "humanizer",
        "styles": list(styles),
        "num_drummers": NUM_DRUMMERS,
        "layers": settings.layers,
        "heads": settings.heads,
        "loss": settings.loss,
        "settings": asdict(settings),
        "command": command,
        "data": "GMD train 4-4 (2-bar windows, hop 1 bar); validation chose the checkpoint "
        "and the feel calibration; test never read",
        "best_step": best_step,
        "validation": evaluate(net, validation),
        "template_validation": template,
    }
    weights = net.numpy_weights()
    humanizer = Humanizer({k: v.astype(np.float64) for k, v in weights.items()}, meta)
    if settings.loss == "laplace":  # the other losses predict no scale: nothing to draw
        feel = calibrate_feel(humanizer, performances["validation"], seed=settings.seed)
        meta["feel_calibration"] = feel.pop("calibration")
        meta["feel_calibration_choice"] = feel
    _save(out, weights, meta)
    return TrainResult(
        out=out,
        best_step=best_step,
        steps=steps,
        minutes=round(minutes, 2),
        validation=meta["validation"],
        template=template,
        feel_calibration=meta.get("feel_calibration", {}),
    )


def _fit(
    net: HumanizerNet,
    train: Windows,
    validation: Windows,
    template: dict[str, float],
    settings: HumanizerTrainSettings,
    rng: np.random.Generator,
    log: Log,
) -> tuple[dict[str, torch.Tensor], int, int, float]:
    """AdamW with a cosine decay until ``steps`` or ``max_minutes``: the best checkpoint's
    state and step, the steps run and the minutes taken."""
    optimizer = torch.optim.AdamW(net.parameters(), lr=settings.learning_rate, weight_decay=0.01)
    started, step = time.monotonic(), 0
    best: tuple[float, int, dict[str, torch.Tensor]] = (math.inf, 0, {})
    budget_s = settings.max_minutes * 60
    while True:
        elapsed = time.monotonic() - started
        if (settings.steps and step >= settings.steps) or elapsed > budget_s:
            break
        progress = step / settings.steps if settings.steps else elapsed / budget_s
        for group in optimizer.param_groups:
            group["lr"] = settings.learning_rate * (
                0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
            )
        index = rng.integers(0, len(train), settings.batch_size)
        batch = train.tensors(index)
        for key in ("drummer", "style"):  # condition dropout: also learn "any"
            dropped = torch.as_tensor(rng.random(settings.batch_size) < settings.condition_dropout)
            batch[key] = torch.where(dropped, 0, batch[key])
        net.train()
        loss = loss_terms(net(batch), batch, loss=settings.loss)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % settings.eval_every == 0:
            scores = evaluate(net, validation)
            score = sum(
                scores[f"{name}_{tag}"] / template[name]
                for name in ("velocity_mae", "offset_mae_ms")
                for tag in ("any", "known")
            )
            minutes = (time.monotonic() - started) / 60
            log(
                {
                    "step": step,
                    "minutes": round(minutes, 2),
                    "loss": float(loss.detach()),
                    "score": score,
                    **scores,
                }
            )
            if score < best[0]:
                best = (score, step, {k: v.clone() for k, v in net.state_dict().items()})
    if not best[2]:
        raise DrumgenxError(
            f"no checkpoint scored: fewer than --eval_every {settings.eval_every} steps ran"
        )
    return best[2], best[1], step, (time.monotonic() - started) / 60


def _save(out: Path, weights: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, meta=np.asarray(json.dumps(meta, sort_keys=True)), **weights)
    out.parent.mkdir(parents=True, exist_ok=True)
    replace_file(out, buffer.getvalue())


def run_command(args: argparse.Namespace) -> None:
    """``drumgenx train humanizer``: train, log each evaluation, say what was written."""
    settings = settings_from(args, HumanizerTrainSettings)
    out = Path(args.out)
    log_path = out.with_name("train_log.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as handle:

        def log(record: dict[str, Any]) -> None:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            print(
                f"step {record['step']}: score {record['score']:.4f}, offset MAE "
                f"{record['offset_mae_ms_known']:.2f} ms, velocity MAE "
                f"{record['velocity_mae_known']:.4f} (true drummer and style)",
                flush=True,
            )

        result = train_humanizer(args.gmd, out, settings=settings, command=command_line(), log=log)
    print(
        f"wrote {result.out} (best step {result.best_step}; validation {result.validation}; "
        f"template {result.template}; --feel 1 calibration {result.feel_calibration})"
    )


if __name__ == "__main__":
    raise SystemExit(standalone("humanizer", run_command))
