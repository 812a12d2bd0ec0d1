"""Train the learned onset activation (``drumgenx.preprocess.onsets_learned``).

Usage (by hand, never by CI; needs torch and pretty_midi, both in the project's ``.venv``)::

    .venv/bin/python bench/train_onset_activation.py [--epochs 16] [--seed 0] [--out PATH]

Data: Groove MIDI Dataset performances rendered through the five Debian kits by
``bench/_gmd_render.py`` (first 30 s of each):

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

Seeded (numpy and torch, 2 threads) and deterministic on one machine; prints a training log
and writes ``src/drumgenx/preprocess/weights/onset_activation.npz``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import _gmd_render as gmd

from drumgenx.core.peaks import refine_peaks
from drumgenx.preprocess.onsets_flux import OnsetParams, _pick_peaks
from drumgenx.preprocess.onsets_learned import (
    DEFAULT_WEIGHTS,
    LearnedOnsetModel,
    _forward,
    learned_features,
    save_model,
)

SR = gmd.SR
# The frame rate of the features: the hop is round(0.005 * 44100) = 220 samples, so 200.45
# fps, not 200 (over 30 s the difference is 68 ms: targets must use the exact rate).
FPS = SR / round(OnsetParams().hop_s * SR)
DURATION = 30.0
CHANNELS = 24
KERNELS = (5, 5, 5)
DILATIONS = (1, 2, 2)
CHUNK = 400  # output frames per training chunk (2 s)


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


def _make_item(job: tuple) -> dict:
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
    split: str, *, seed: int, augment: bool, workers: int, limit: int | None = None
) -> list[dict]:
    perfs = gmd.select_performances(split, limit, seed=seed)
    jobs = [(p, False, 0) for p in perfs]
    if augment:
        rng = np.random.default_rng(seed + 7)
        for i, p in enumerate(perfs):
            other = gmd.KIT_NAMES[(i + 1 + int(rng.integers(0, 4))) % len(gmd.KIT_NAMES)]
            jobs.append((replace(p, kit=other), True, int(rng.integers(0, 2**31))))
    with get_context("fork").Pool(workers) as pool:
        return pool.map(_make_item, jobs, chunksize=8)


def build_val_mix(*, seed: int, workers: int, limit: int | None) -> list[dict]:
    """The bench's "mix" condition on the validation split (reported, not used to select)."""
    perfs = gmd.select_performances("validation", limit, seed=seed)
    with get_context("fork").Pool(workers) as pool:
        return pool.map(_make_mix, perfs, chunksize=8)


def _make_mix(perf: gmd.Performance) -> dict:
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
    peaks = _pick_peaks(act, FPS, params)
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
    e = np.concatenate(errs) if errs else np.zeros(1)
    out["median_err"] = float(np.median(e))
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


def activations(model: LearnedOnsetModel, items: list[dict]) -> list[np.ndarray]:
    return [_forward((it["x"] - model.mean) / model.std, model) for it in items]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--steps", type=int, default=400, help="batches per epoch")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    ap.add_argument("--limit", type=int, default=0, help="debug: first N of each split")
    args = ap.parse_args(argv)

    why = gmd.missing_inputs()
    if why:
        print(f"SKIP: {why}")
        return 1
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()

    limit = args.limit or None
    train = build_split("train", seed=2, augment=True, workers=args.workers, limit=limit)
    val = build_split("validation", seed=1, augment=False, workers=args.workers, limit=limit)
    descs = [it["desc"] for it in train]
    print(
        f"[{time.perf_counter() - t0:5.0f} s] train: {len(train)} renders "
        f"({sum(len(it['x']) for it in train) / FPS / 3600:.2f} h, "
        f"{sum(len(it['ref']) for it in train)} onsets; augmented: "
        f"{descs.count('bed')} bed, {sum('dB' in d for d in descs)} noise); "
        f"validation: {len(val)} renders, {sum(len(it['ref']) for it in val)} onsets",
        flush=True,
    )

    x = np.concatenate([it["x"] for it in train]).astype(np.float32)
    t = np.concatenate([it["t"] for it in train])
    w = np.concatenate([it["w"] for it in train])
    rf = 1 + sum((k - 1) * d for k, d in zip(KERNELS, DILATIONS, strict=True))
    half = rf // 2
    pos = 0
    for it in train:  # no loss where the receptive field straddles two renders
        n = len(it["x"])
        w[pos : pos + half] = 0.0
        w[pos + n - half : pos + n] = 0.0
        pos += n
    mean = x.mean(axis=0, dtype=np.float64)
    std = x.std(axis=0, dtype=np.float64) + 1e-3
    x = ((x - mean) / std).astype(np.float32)
    xt = torch.from_numpy(x)
    tt = torch.from_numpy(t)
    wt = torch.from_numpy(w)

    net = make_net(x.shape[1])
    n_params = sum(p.numel() for p in net.parameters())
    print(f"model: {net}\nparameters: {n_params}, receptive field {rf} frames", flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    total = args.epochs * args.steps
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total)
    span = CHUNK + rf - 1
    offs = torch.arange(span)
    best = (-1.0, None, None)
    val_refs = [it["ref"] for it in val]
    for epoch in range(args.epochs):
        net.train()
        losses = []
        for _ in range(args.steps):
            starts = torch.from_numpy(rng.integers(0, len(x) - span, size=args.batch))
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
        model = export(net, mean, std)
        acts = activations(model, val)
        res = {
            thr: score(acts, val_refs, threshold=thr, gap=0.025, pre=0.01, post=0.01)
            for thr in (0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
        }
        thr, r = max(res.items(), key=lambda kv: kv[1][0.05][2] + kv[1][0.02][2])
        sel = r[0.05][2] + r[0.02][2]
        if sel > best[0]:
            best = (sel, {k: v.clone() for k, v in net.state_dict().items()}, epoch)
        print(
            f"[{time.perf_counter() - t0:5.0f} s] epoch {epoch + 1:2d} loss {np.mean(losses):.4f} "
            f"| val thr {thr}: {fmt(r)}",
            flush=True,
        )

    net.load_state_dict(best[1])
    base = export(net, mean, std)
    acts = activations(base, val)
    print(f"best epoch {best[2] + 1}; peak-picking grid on validation:", flush=True)
    grid = []
    for thr in (0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        for gap in (0.015, 0.02, 0.025, 0.03):
            for win in (0.01, 0.015):
                r = score(acts, val_refs, threshold=thr, gap=gap, pre=win, post=win)
                grid.append((r[0.05][2] + r[0.02][2], thr, gap, win, r))
    grid.sort(key=lambda g: -g[0])
    for g in grid[:5]:
        print(f"  thr {g[1]:.2f} gap {g[2]:.3f} max-win {g[3]:.3f}: {fmt(g[4])}")
    _, thr, gap, win, r = grid[0]
    offset = -round(r["median_err"] * 1000) / 1000  # centre the typical hit, 1 ms steps
    final = score(acts, val_refs, threshold=thr, gap=gap, pre=win, post=win, offset=offset)
    print(f"chosen: thr {thr} gap {gap} max-win {win} offset {offset * 1000:+.0f} ms")
    print(f"validation drum stems: {fmt(final)}", flush=True)
    mix = build_val_mix(seed=1, workers=args.workers, limit=limit)
    mix_res = score(
        activations(base, mix),
        [it["ref"] for it in mix],
        threshold=thr,
        gap=gap,
        pre=win,
        post=win,
        offset=offset,
    )
    print(f"validation mix (drums -6 dB, no separation): {fmt(mix_res)}", flush=True)

    meta = {
        "command": "python bench/train_onset_activation.py "
        + " ".join(f"--{k} {v}" for k, v in vars(args).items() if k != "out"),
        "date": dt.date.today().isoformat(),
        "train": "GMD v1.0.0 train split, all 897 performances (seed 2), first 30 s, "
        "each clean through its dealt kit + once through another kit with noise/bed augmentation",
        "validation": "GMD validation split, all 124 performances (seed 1), drum stems; "
        "early stopping and peak-picking grid",
        "test": "never used in training or tuning",
        "kits": list(gmd.KIT_NAMES),
        "architecture": f"Conv1d k={KERNELS} dilation={DILATIONS} channels={CHANNELS}, ReLU, "
        "1x1 conv + sigmoid",
        "parameters": n_params,
        "best_epoch": best[2] + 1,
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
        "seed": args.seed,
        "torch": torch.__version__,
    }
    model = replace(
        base,
        threshold=thr,
        pre_max_s=win,
        post_max_s=win,
        min_gap_s=gap,
        time_offset_s=offset,
        meta=meta,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_model(args.out, model)
    print(
        f"[{time.perf_counter() - t0:5.0f} s] wrote {args.out} "
        f"({os.path.getsize(args.out) / 1024:.0f} kB, {model.n_params} parameters)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
