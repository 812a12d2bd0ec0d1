"""Train the learned onset activation (``drumgenx.preprocess.onsets_learned``).

Run (by hand, never by CI; needs torch, pretty_midi, ``../shared`` and the Debian kits;
defaults: `training.settings.OnsetTrainSettings`, the shipped weights' settings)::

    drumgenx train onsets --gmd ../shared/data/gmd \\
        --out src/drumgenx/preprocess/weights/onset_activation.npz

Data: Groove MIDI Dataset performances rendered through the five Debian kits by
`training.gmd_render` (first 30 s of each):

- **train** split (all 897 performances, shuffled with seed 2), twice: once clean through the
  kit dealt to it, once through another kit with augmentation: white or pink noise at -65 to
  -35 dB re the peak, or the synthesized non-drum bed (``make_bed``) at a drum-to-bed ratio of
  -8 to +4 dB, or clean. (Random gain is not an augmentation here: the features are computed
  after peak normalisation, so gain changes nothing.)
- **validation** split (all 124 performances, seed 1: the set the flux defaults were tuned
  on) for early stopping and for the peak-picking grid (threshold, minimum gap, local-max
  window, time offset). Scores use the bench's rule: reference = MIDI note starts merged
  within 30 ms; F1 at +-50 and +-20 ms, pooled over files (one-to-one matching; for events
  on a line the greedy two-pointer match is a maximum matching, as mir_eval's).
- The **test** split is never read.

Targets (Schlüter & Böck, ICASSP 2014): the frame nearest each merged reference onset is 1,
its two neighbours are 1 with loss weight 0.25, every other frame 0; binary cross-entropy.
Training uses random 2 s chunks with valid convolutions, so every trained output frame sees
real context; frames within the receptive field of a file boundary get no loss.

Seeded (numpy and torch, 2 threads) and deterministic on one machine: :func:`load_renders`
makes the data, :func:`fit_onset_activation` trains and chooses the epoch and the peak
picking, :func:`train_onsets` adds the validation mix scores and the metadata and writes the
weights.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from drumgenx.core.console import silent
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.peaks import refine_peaks
from drumgenx.preprocess.onsets_flux import OnsetParams, pick_peaks
from drumgenx.preprocess.onsets_learned import (
    LearnedOnsetModel,
    activation_from_features,
    learned_features,
    save_model,
)
from drumgenx.training import gmd_render as gmd
from drumgenx.training.flags import settings_from
from drumgenx.training.settings import OnsetTrainSettings, command_line

SR = gmd.SR
# The frame rate of the features: the hop is round(0.005 * 44100) = 220 samples, so 200.45
# fps, not 200 (over 30 s the difference is 68 ms: targets must use the exact rate).
FPS = SR / round(OnsetParams().hop_s * SR)
DURATION = 30.0
CHANNELS = 24
KERNELS = (5, 5, 5)
DILATIONS = (1, 2, 2)
CHUNK = 400  # output frames per training chunk (2 s)
EPOCH_THRESHOLDS = (0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
"""Thresholds each epoch is scored at (its best one selects the epoch)."""
GRID = {
    "threshold": (0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5),
    "gap": (0.015, 0.02, 0.025, 0.03),
    "window": (0.01, 0.015),
}
"""The peak-picking grid searched on validation after training."""

Log = Callable[[str], None]
Item = dict[str, Any]
"""One render: ``x`` features, ``t`` targets, ``w`` loss weights, ``ref`` onsets (s), ``desc``
its augmentation, ``name``."""


# --- data ---------------------------------------------------------------------------------


def _noise(n: int, rng: np.random.Generator, *, pink: bool) -> np.ndarray:
    w = rng.standard_normal(n)
    if not pink:
        return w
    spec = np.fft.rfft(w)
    f = np.arange(len(spec), dtype=float)
    f[0] = 1.0
    return np.fft.irfft(spec / np.sqrt(f), n)


def _augment(y: np.ndarray, perf: gmd.Performance, rng: np.random.Generator) -> tuple:
    u = rng.random()
    if u < 0.4:
        pink = bool(rng.random() < 0.5)
        level_db = rng.uniform(-65.0, -35.0)
        noise = _noise(len(y), rng, pink=pink)
        noise *= 10 ** (level_db / 20) * np.max(np.abs(y)) / np.sqrt(np.mean(noise**2))
        return (y + noise).astype(np.float32), f"{'pink' if pink else 'white'} {level_db:.0f} dB"
    if u < 0.8:
        ratio = rng.uniform(-8.0, 4.0)
        seed = int(rng.integers(0, 2**31))
        return gmd.mix_under_bed(y, bpm=perf.bpm, seed=seed, drum_to_bed_db=ratio), "bed"
    return y, "clean"


def _targets(ref: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    target = np.zeros(n, dtype=np.float32)
    weight = np.ones(n, dtype=np.float32)
    idx = np.round(np.asarray(ref) * FPS).astype(int)
    idx = idx[(idx >= 0) & (idx < n)]
    for off in (-1, 1):  # widened targets with a reduced weight
        j = np.clip(idx + off, 0, n - 1)
        target[j] = 1.0
        weight[j] = 0.25
    target[idx] = 1.0
    weight[idx] = 1.0
    return target, weight


def _make_item(job: tuple) -> Item:
    perf, augment, aug_seed = job
    y, ref, _ = gmd.render_performance(perf, duration=DURATION)
    desc = "clean"
    if augment:
        y, desc = _augment(y, perf, np.random.default_rng(aug_seed))
    feats, fps = learned_features(y, sr=SR)
    assert abs(fps - FPS) < 1e-9
    target, weight = _targets(ref, len(feats))
    return {"x": feats, "t": target, "w": weight, "ref": ref, "desc": desc, "name": perf.name}


def build_split(
    split: str,
    *,
    seed: int,
    augment: bool,
    workers: int,
    limit: int | None = None,
    gmd_root: Path = gmd.GMD_DIR,
) -> list[Item]:
    """The renders of one GMD split (clean; with ``augment`` each also once augmented)."""
    perfs = gmd.select_performances(split, limit, seed=seed, gmd_root=gmd_root)
    jobs = [(p, False, 0) for p in perfs]
    if augment:
        rng = np.random.default_rng(seed + 7)
        for i, p in enumerate(perfs):
            other = gmd.KIT_NAMES[(i + 1 + int(rng.integers(0, 4))) % len(gmd.KIT_NAMES)]
            jobs.append((replace(p, kit=other), True, int(rng.integers(0, 2**31))))
    with get_context("fork").Pool(workers) as pool:
        return pool.map(_make_item, jobs, chunksize=8)


def build_val_mix(
    *, seed: int, workers: int, limit: int | None, gmd_root: Path = gmd.GMD_DIR
) -> list[Item]:
    """The bench's "mix" condition on the validation split (reported, not used to select)."""
    perfs = gmd.select_performances("validation", limit, seed=seed, gmd_root=gmd_root)
    with get_context("fork").Pool(workers) as pool:
        return pool.map(_make_mix, perfs, chunksize=8)


def _make_mix(perf: gmd.Performance) -> Item:
    y, ref, _ = gmd.render_performance(perf, duration=DURATION)
    y = gmd.mix_under_bed(y, bpm=perf.bpm, seed=perf.seed)
    feats, _ = learned_features(y, sr=SR)
    return {"x": feats, "ref": ref, "name": perf.name}


# --- scoring ------------------------------------------------------------------------------


def n_matched(ref: np.ndarray, est: np.ndarray, window: float) -> int:
    """One-to-one matches within ``window`` (greedy on sorted events: a maximum matching)."""
    i = j = m = 0
    while i < len(ref) and j < len(est):
        if est[j] < ref[i] - window:
            j += 1
        elif est[j] > ref[i] + window:
            i += 1
        else:
            m += 1
            i += 1
            j += 1
    return m


def pick(act: np.ndarray, *, threshold: float, gap: float, pre: float, post: float) -> np.ndarray:
    params = OnsetParams(
        delta=threshold, avg_mult=0.0, pre_max_s=pre, post_max_s=post, min_gap_s=gap
    )
    peaks = pick_peaks(act, FPS, params)
    if peaks.size == 0:
        return np.zeros(0)
    return refine_peaks(act, peaks) / FPS


def score(acts: list[np.ndarray], refs: list[np.ndarray], *, offset: float = 0.0, **kw) -> dict:
    tp = {0.05: 0, 0.02: 0}
    n_est = n_ref = 0
    errs = []
    for act, ref in zip(acts, refs, strict=True):
        est = pick(act, **kw) + offset
        n_est += len(est)
        n_ref += len(ref)
        for w in tp:
            tp[w] += n_matched(ref, est, w)
        if len(est):
            k = np.searchsorted(est, ref)
            left = est[np.clip(k - 1, 0, len(est) - 1)]
            right = est[np.clip(k, 0, len(est) - 1)]
            near = np.where(np.abs(left - ref) <= np.abs(right - ref), left, right)
            d = near - ref
            errs.append(d[np.abs(d) <= 0.05])
    out = {}
    for w, m in tp.items():
        p = m / n_est if n_est else 0.0
        r = m / n_ref if n_ref else 0.0
        out[w] = (p, r, 2 * p * r / (p + r) if p + r else 0.0)
    e = np.concatenate([*errs, np.zeros(0)])
    out["median_err"] = float(np.median(e)) if e.size else 0.0  # 0: nothing matched
    return out


def fmt(res: dict) -> str:
    p5, r5, f5 = res[0.05]
    p2, r2, f2 = res[0.02]
    return (
        f"P@50 {p5:.3f} R@50 {r5:.3f} F1@50 {f5:.3f} | P@20 {p2:.3f} R@20 {r2:.3f} "
        f"F1@20 {f2:.3f} | median err {res['median_err'] * 1000:+.1f} ms"
    )


# --- model --------------------------------------------------------------------------------


def make_net(n_in: int):
    import torch

    layers: list = []
    c_in = n_in
    for k, d in zip(KERNELS, DILATIONS, strict=True):
        layers += [torch.nn.Conv1d(c_in, CHANNELS, k, dilation=d), torch.nn.ReLU()]
        c_in = CHANNELS
    layers.append(torch.nn.Conv1d(c_in, 1, 1))
    return torch.nn.Sequential(*layers)


def export(net, mean: np.ndarray, std: np.ndarray, **kw) -> LearnedOnsetModel:
    convs = [m for m in net if m.__class__.__name__ == "Conv1d"]
    return LearnedOnsetModel(
        weights=tuple(c.weight.detach().numpy().transpose(2, 1, 0).copy() for c in convs),
        biases=tuple(c.bias.detach().numpy().copy() for c in convs),
        dilations=tuple(int(c.dilation[0]) for c in convs),
        mean=mean.astype(np.float32),
        std=std.astype(np.float32),
        **kw,
    )


def activations(model: LearnedOnsetModel, items: list[Item]) -> list[np.ndarray]:
    return [activation_from_features((it["x"] - model.mean) / model.std, model) for it in items]


# --- training -----------------------------------------------------------------------------


def load_renders(
    gmd_root: Path, settings: OnsetTrainSettings | None = None, *, log: Log = silent
) -> tuple[list[Item], list[Item]]:
    """The train renders (clean and augmented) and the validation renders (clean).

    Raises
    ------
    DrumgenxError
        GMD, ``labels.csv`` or a Debian kit is missing (`gmd_render.missing_inputs`).
    """
    settings = settings or OnsetTrainSettings()
    why = gmd.missing_inputs(gmd_root)
    if why:
        raise DrumgenxError(why)
    t0 = time.perf_counter()
    limit = settings.limit or None
    train = build_split(
        "train",
        seed=settings.train_seed,
        augment=True,
        workers=settings.workers,
        limit=limit,
        gmd_root=gmd_root,
    )
    val = build_split(
        "validation",
        seed=settings.validation_seed,
        augment=False,
        workers=settings.workers,
        limit=limit,
        gmd_root=gmd_root,
    )
    descs = [it["desc"] for it in train]
    log(
        f"[{time.perf_counter() - t0:5.0f} s] train: {len(train)} renders "
        f"({sum(len(it['x']) for it in train) / FPS / 3600:.2f} h, "
        f"{sum(len(it['ref']) for it in train)} onsets; augmented: "
        f"{descs.count('bed')} bed, {sum('dB' in d for d in descs)} noise); "
        f"validation: {len(val)} renders, {sum(len(it['ref']) for it in val)} onsets"
    )
    return train, val


def receptive_field() -> int:
    """Frames the network sees per output frame."""
    return 1 + sum((k - 1) * d for k, d in zip(KERNELS, DILATIONS, strict=True))


def _training_arrays(train: list[Item]) -> tuple[np.ndarray, ...]:
    """Features (standardised), targets, loss weights, mean and deviation, all renders
    end to end; no loss where the receptive field straddles two renders."""
    x = np.concatenate([it["x"] for it in train]).astype(np.float32)
    t = np.concatenate([it["t"] for it in train])
    w = np.concatenate([it["w"] for it in train])
    half = receptive_field() // 2
    pos = 0
    for it in train:
        n = len(it["x"])
        w[pos : pos + half] = 0.0
        w[pos + n - half : pos + n] = 0.0
        pos += n
    mean = x.mean(axis=0, dtype=np.float64)
    std = x.std(axis=0, dtype=np.float64) + 1e-3
    return ((x - mean) / std).astype(np.float32), t, w, mean, std


@dataclass(frozen=True)
class Fitted:
    """What :func:`fit_onset_activation` chose: the model (peak picking set) and its scores."""

    model: LearnedOnsetModel
    best_epoch: int
    validation: dict
    """`score` on the validation drum stems with the chosen peak picking and offset."""


def fit_onset_activation(
    train: list[Item],
    val: list[Item],
    settings: OnsetTrainSettings | None = None,
    *,
    log: Log = silent,
) -> Fitted:
    """Train on ``train``; keep the epoch whose best threshold scores highest on ``val``;
    choose the peak picking (:data:`GRID`) and the time offset on ``val``."""
    import torch

    settings = settings or OnsetTrainSettings()
    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    t0 = time.perf_counter()
    x, t, w, mean, std = _training_arrays(train)
    xt, tt, wt = torch.from_numpy(x), torch.from_numpy(t), torch.from_numpy(w)
    rf = receptive_field()
    half = rf // 2
    net = make_net(x.shape[1])
    n_params = sum(p.numel() for p in net.parameters())
    log(f"model: {net}\nparameters: {n_params}, receptive field {rf} frames")
    opt = torch.optim.Adam(net.parameters(), lr=settings.learning_rate)
    total = settings.epochs * settings.steps
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=settings.learning_rate, total_steps=total
    )
    span = CHUNK + rf - 1
    if len(x) <= span:
        raise DrumgenxError(f"the training renders hold {len(x)} frames; a chunk needs {span + 1}")
    offs = torch.arange(span)
    best: tuple[float, Any, int] = (-1.0, None, 0)
    val_refs = [it["ref"] for it in val]
    for epoch in range(settings.epochs):
        net.train()
        losses = []
        for _ in range(settings.steps):
            starts = torch.from_numpy(rng.integers(0, len(x) - span, size=settings.batch_size))
            idx = starts[:, None] + offs[None, :]
            xb = xt[idx].transpose(1, 2)  # (batch, features, span)
            tb = tt[idx[:, half : half + CHUNK]]
            wb = wt[idx[:, half : half + CHUNK]]
            logits = net(xb)[:, 0, :]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, tb, weight=wb, reduction="sum"
            ) / wb.sum().clamp(min=1.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        net.eval()
        acts = activations(export(net, mean, std), val)
        res = {
            thr: score(acts, val_refs, threshold=thr, gap=0.025, pre=0.01, post=0.01)
            for thr in EPOCH_THRESHOLDS
        }
        thr, r = max(res.items(), key=lambda kv: kv[1][0.05][2] + kv[1][0.02][2])
        sel = r[0.05][2] + r[0.02][2]
        if sel > best[0]:
            best = (sel, {k: v.clone() for k, v in net.state_dict().items()}, epoch)
        log(
            f"[{time.perf_counter() - t0:5.0f} s] epoch {epoch + 1:2d} loss {np.mean(losses):.4f} "
            f"| val thr {thr}: {fmt(r)}"
        )
    net.load_state_dict(best[1])
    base = export(net, mean, std)
    log(f"best epoch {best[2] + 1}; peak-picking grid on validation:")
    model, final = choose_peak_picking(base, val, log=log)
    return Fitted(model=model, best_epoch=best[2] + 1, validation=final)


def choose_peak_picking(
    base: LearnedOnsetModel, val: list[Item], *, log: Log = silent
) -> tuple[LearnedOnsetModel, dict]:
    """``base`` with the best peak picking of :data:`GRID` on ``val`` and the time offset
    that centres the typical hit (1 ms steps); the scores with them."""
    acts = activations(base, val)
    val_refs = [it["ref"] for it in val]
    grid = []
    for thr in GRID["threshold"]:
        for gap in GRID["gap"]:
            for win in GRID["window"]:
                r = score(acts, val_refs, threshold=thr, gap=gap, pre=win, post=win)
                grid.append((r[0.05][2] + r[0.02][2], thr, gap, win, r))
    grid.sort(key=lambda g: -g[0])
    for g in grid[:5]:
        log(f"  thr {g[1]:.2f} gap {g[2]:.3f} max-win {g[3]:.3f}: {fmt(g[4])}")
    _, thr, gap, win, r = grid[0]
    offset = -round(r["median_err"] * 1000) / 1000
    final = score(acts, val_refs, threshold=thr, gap=gap, pre=win, post=win, offset=offset)
    log(f"chosen: thr {thr} gap {gap} max-win {win} offset {offset * 1000:+.0f} ms")
    log(f"validation drum stems: {fmt(final)}")
    model = replace(
        base,
        threshold=thr,
        pre_max_s=win,
        post_max_s=win,
        min_gap_s=gap,
        time_offset_s=offset,
    )
    return model, final


def train_onsets(
    *,
    gmd_root: Path,
    out: Path,
    settings: OnsetTrainSettings | None = None,
    log: Log = silent,
) -> LearnedOnsetModel:
    """Render the data, train and choose (:func:`fit_onset_activation`), score the
    validation mix, write the weights with their metadata to ``out`` (replaced).

    Raises
    ------
    DrumgenxError
        An input is missing (:func:`load_renders`).
    """
    import torch

    settings = settings or OnsetTrainSettings()
    t0 = time.perf_counter()
    train, val = load_renders(gmd_root, settings, log=log)
    fitted = fit_onset_activation(train, val, settings, log=log)
    model = fitted.model
    mix = build_val_mix(
        seed=settings.validation_seed,
        workers=settings.workers,
        limit=settings.limit or None,
        gmd_root=gmd_root,
    )
    mix_res = score(
        activations(model, mix),
        [it["ref"] for it in mix],
        threshold=model.threshold,
        gap=model.min_gap_s,
        pre=model.pre_max_s,
        post=model.post_max_s,
        offset=model.time_offset_s,
    )
    log(f"validation mix (drums -6 dB, no separation): {fmt(mix_res)}")
    final = fitted.validation
    meta = {
        "command": command_line(),
        "settings": asdict(settings),
        "date": dt.date.today().isoformat(),
        "train": "GMD v1.0.0 train split, all 897 performances (seed 2), first 30 s, "
        "each clean through its dealt kit + once through another kit with noise/bed augmentation",
        "validation": "GMD validation split, all 124 performances (seed 1), drum stems; "
        "early stopping and peak-picking grid",
        "test": "never used in training or tuning",
        "kits": list(gmd.KIT_NAMES),
        "architecture": f"Conv1d k={KERNELS} dilation={DILATIONS} channels={CHANNELS}, ReLU, "
        "1x1 conv + sigmoid",
        "parameters": model.n_params,
        "best_epoch": fitted.best_epoch,
        "validation_drums": {
            "f1_50": round(final[0.05][2], 4),
            "f1_20": round(final[0.02][2], 4),
            "p_50": round(final[0.05][0], 4),
            "r_50": round(final[0.05][1], 4),
        },
        "validation_mix": {
            "f1_50": round(mix_res[0.05][2], 4),
            "f1_20": round(mix_res[0.02][2], 4),
        },
        "seed": settings.seed,
        "torch": torch.__version__,
    }
    model = replace(model, meta=meta)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model(out, model)
    log(
        f"[{time.perf_counter() - t0:5.0f} s] wrote {out} "
        f"({os.path.getsize(out) / 1024:.0f} kB, {model.n_params} parameters)"
    )
    return model


def run_command(args: argparse.Namespace) -> None:
    """``drumgenx train onsets`` (flags: `training.flags`)."""
    settings = settings_from(args, OnsetTrainSettings)
    train_onsets(gmd_root=Path(args.gmd), out=Path(args.out), settings=settings, log=_print)
    print(f"[DONE] onset activation trained: {args.out}")


def _print(message: str) -> None:
    print(message, flush=True)
