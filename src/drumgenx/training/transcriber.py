"""Train the drum transcriber on a mixture corpus (:mod:`drumgenx.training.corpus`).

One command, reproducible from its seed (``python -m drumgenx.training.transcriber`` is the
same command; defaults: `training.settings.TranscriberTrainSettings`)::

    drumgenx train transcriber --corpus CORPUS --out DIR [--seed 0] [--threads 2] \
        [--max_minutes 95] [--steps 0]

``CORPUS/train`` (GMD *train* performances through the training kits) is learned from;
``CORPUS/validation`` (GMD *validation* performances, other drummers' sessions, through the
held-out validation kits, ``training.kits.kit_group``) chooses the checkpoint, the
peak-picking thresholds and the timing offset. Neither holds a frozen-test kit nor a GMD
test beat. ``DIR`` receives
``transcriber.npz`` (numpy weights with the command, data, splits and validation scores in
``meta``) and ``train_log.jsonl``.

Per step: a batch of random 4-second crops (items drawn in proportion to their length times
``n_family ** -family_balance``, where ``n_family`` counts the items whose kit comes from the
same family: two related fonts hold 60 of the 73 training kits, and without the balance their
sounds would fill four batches in five),
binary cross-entropy on six sigmoid outputs (five classes and "any hit") against targets
that are 1 at the frame nearest each note and 0.5 on its two neighbours (a hit's energy
spans frames; the widened target keeps the loss from punishing a one-frame miss as a
whole miss). Adam, learning rate 1e-3 with a cosine decay to 5 % over the run.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from drumgenx.core.console import silent
from drumgenx.core.errors import DrumgenxError
from drumgenx.training.flags import settings_from, standalone
from drumgenx.training.settings import TranscriberTrainSettings as TrainSettings
from drumgenx.training.settings import command_line
from drumgenx.transcribe.detect import TranscribeParams, hits_from_activations
from drumgenx.transcribe.features import (
    FPS,
    filter_centres_hz,
    n_filters,
    transcriber_features,
)
from drumgenx.transcribe.model import CLASSES, OUTPUTS, TranscriberModel

__all__ = [
    "Item",
    "TrainSettings",
    "cosine_lr",
    "evaluate",
    "load_split",
    "onset_f1",
    "sampling_weights",
    "train_transcriber",
    "tune_peak_picking",
]


@dataclass
class Item:
    """One corpus item in memory: its features and frame targets."""

    item_id: str
    kit_family: str
    features: np.ndarray  # (2, frames, filters) float16
    targets: np.ndarray  # (frames, 6) float32
    notes: np.ndarray  # (notes, 2): time_s, class index


def _class_index(value: str) -> int:
    return int(value) if value.strip().isdigit() else CLASSES.index(value.strip())


def read_labels(path: Path) -> np.ndarray:
    """``(notes, 2)`` array of (time_s, class index) from a corpus labels CSV."""
    with open(path, newline="") as fh:
        rows = [(float(r["time_s"]), _class_index(r["class"])) for r in csv.DictReader(fh)]
    return np.asarray(rows, dtype=np.float64).reshape(-1, 2)


def frame_targets(notes: np.ndarray, n_frames: int) -> np.ndarray:
    """``(n_frames, 6)`` targets: 1 at each note's nearest frame, 0.5 either side."""
    targets = np.zeros((n_frames, len(OUTPUTS)), dtype=np.float32)
    for t, cls in notes:
        i = round(t * FPS)
        for di, value in ((-1, 0.5), (1, 0.5), (0, 1.0)):
            j = i + di
            if 0 <= j < n_frames:
                for col in (int(cls), len(OUTPUTS) - 1):
                    targets[j, col] = max(targets[j, col], value)
    return targets


def load_split(split_dir: Path, *, limit: int | None = None) -> list[Item]:
    """Every item listed in ``split_dir/manifest.csv``, as features and targets."""
    import soundfile as sf

    with open(split_dir / "manifest.csv", newline="") as fh:
        rows = [(r["item_id"], r.get("kit_family", "")) for r in csv.DictReader(fh)]
    items = []
    for item_id, family in rows[:limit]:
        y, sr = sf.read(str(split_dir / "audio" / f"{item_id}.flac"), dtype="float32")
        if y.ndim == 2:
            y = y.mean(axis=1)
        feats = transcriber_features(y, sr=sr)
        notes = read_labels(split_dir / "labels" / f"{item_id}.csv")
        items.append(
            Item(
                item_id,
                family,
                feats.astype(np.float16),
                frame_targets(notes, feats.shape[1]),
                notes,
            )
        )
    return items


def merge_onsets(times: np.ndarray, *, window: float = 0.03) -> np.ndarray:
    """Keep an onset only if it is more than ``window`` s after the previous kept one."""
    kept: list[float] = []
    for t in np.sort(np.asarray(times, dtype=float)):
        if not kept or t - kept[-1] > window:
            kept.append(float(t))
    return np.asarray(kept)


def _matches(ref: np.ndarray, est: np.ndarray, window: float) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of sorted onsets within ``window`` (optimal on a line)."""
    pairs, i, j = [], 0, 0
    while i < len(ref) and j < len(est):
        d = est[j] - ref[i]
        if abs(d) <= window:
            pairs.append((i, j))
            i += 1
            j += 1
        elif d < 0:
            j += 1
        else:
            i += 1
    return pairs


def onset_f1(refs: list[np.ndarray], ests: list[np.ndarray], window: float) -> float:
    """F1 pooled over files (true positives summed, as mir_eval's per-file counts added)."""
    tp = sum(len(_matches(r, e, window)) for r, e in zip(refs, ests, strict=True))
    n_ref, n_est = sum(len(r) for r in refs), sum(len(e) for e in ests)
    return 2 * tp / (n_ref + n_est) if n_ref + n_est else 1.0


def evaluate(
    acts: list[np.ndarray], items: list[Item], model: TranscriberModel
) -> dict[str, float]:
    """Hit F1 at 50/20 ms and per-class F1 at 50 ms with ``model``'s thresholds."""
    refs = [merge_onsets(it.notes[:, 0]) for it in items]
    found = [hits_from_activations(a, model=model) for a in acts]
    scores = {
        "hit_f1_50": onset_f1(refs, [h.times for h in found], 0.05),
        "hit_f1_20": onset_f1(refs, [h.times for h in found], 0.02),
    }
    for c, name in enumerate(CLASSES):
        r = [merge_onsets(it.notes[it.notes[:, 1] == c, 0]) for it in items]
        e = [h.times[h.classes[:, c]] for h in found]
        scores[f"{name}_f1_50"] = onset_f1(r, e, 0.05)
    scores["class_f1_mean"] = float(np.mean([scores[f"{n}_f1_50"] for n in CLASSES]))
    return scores


def tune_peak_picking(
    acts: list[np.ndarray], items: list[Item], model: TranscriberModel
) -> TranscriberModel:
    """``model`` with the thresholds and timing offset that score best on ``items``."""
    refs = [merge_onsets(it.notes[:, 0]) for it in items]
    grid = np.round(np.arange(0.15, 0.86, 0.05), 2)
    best_hit = max(
        grid,
        key=lambda thr: onset_f1(
            refs,
            [
                hits_from_activations(
                    a, model=model, params=TranscribeParams(hit_threshold=thr)
                ).times
                for a in acts
            ],
            0.02,
        ),
    )
    model = replace(model, thresholds=(*model.thresholds[:-1], float(best_hit)))
    found = [hits_from_activations(a, model=model) for a in acts]
    errors = [
        h.times[j] - r[i]
        for h, r in zip(found, refs, strict=True)
        for i, j in _matches(r, h.times, 0.05)
    ]
    offset = -float(np.median(errors)) if errors else 0.0
    model = replace(model, time_offset_s=model.time_offset_s + offset)
    found = [hits_from_activations(a, model=model) for a in acts]
    thresholds = list(model.thresholds)
    for c in range(len(CLASSES)):
        r = [merge_onsets(it.notes[it.notes[:, 1] == c, 0]) for it in items]
        thresholds[c] = float(
            max(
                grid,
                key=lambda thr: onset_f1(
                    r, [h.times[h.class_probs[:, c] >= thr] for h in found], 0.05
                ),
            )
        )
    return replace(model, thresholds=tuple(thresholds))


def sampling_weights(items: list[Item], *, family_balance: float) -> np.ndarray:
    """Probability of drawing each item: its length times ``n_family ** -family_balance``."""
    counts: dict[str, int] = {}
    for it in items:
        counts[it.kit_family] = counts.get(it.kit_family, 0) + 1
    w = np.array(
        [it.features.shape[1] * counts[it.kit_family] ** -family_balance for it in items],
        dtype=np.float64,
    )
    return w / w.sum()


EQ_MAX_DB = 9.0
"""Largest boost or cut of `random_eq` (a kit's voicing or a mix's EQ moves bands by this much)."""


def random_eq(x: np.ndarray, rng: np.random.Generator, *, max_db: float = EQ_MAX_DB) -> np.ndarray:
    """Features ``x`` ``(2, frames, filters)`` as if the audio had passed a random smooth EQ.

    The curve over the filters is a tilt plus three cosines of random phase, clipped to
    ``+-max_db``; it is applied to the filterbank energies under the log (features.LOG_MUL),
    so quiet bands stay at the floor, and the rises are taken again from the new log
    spectrogram (the first frame keeps its rise: the frame before the crop is not at hand).
    """
    logspec = x[0].astype(np.float32)
    u = np.linspace(0.0, 1.0, logspec.shape[1])
    curve = rng.uniform(-1, 1) * max_db * (u - 0.5)
    for k in (1, 2, 3):
        curve += (
            rng.uniform(-1, 1)
            * max_db
            / (k + 1)
            * np.cos(np.pi * k * u + rng.uniform(0, 2 * np.pi))
        )
    gain = (10.0 ** (np.clip(curve, -max_db, max_db) / 20.0)).astype(np.float32)
    energy = (10.0**logspec - 1.0) * gain
    eq = np.log10(np.float32(1.0) + np.maximum(energy, 0.0)).astype(np.float32)
    rises = np.empty_like(eq)
    rises[0] = x[1, 0]
    rises[1:] = np.maximum(eq[1:] - eq[:-1], 0.0)
    return np.stack([eq, rises])


PITCH_MAX_SEMITONES = 3.0


def random_pitch(
    x: np.ndarray,
    rng: np.random.Generator,
    *,
    centres_hz: np.ndarray,
    max_semitones: float = PITCH_MAX_SEMITONES,
) -> np.ndarray:
    """Features ``x`` ``(2, frames, filters)`` as if every sound were tuned up or down by a
    random interval within ``+-max_semitones`` (the same for the whole crop).

    Another kit's kick or snare is mostly the same drum tuned elsewhere: each filter takes
    the log energy found at its centre over the factor, interpolated between the filters
    around it (by log frequency; beyond the ends, the end filter), and the rises are taken
    again from the new log spectrogram (the first frame's rise moved alike). Onsets and
    their targets keep their times.
    """
    factor = 2.0 ** (rng.uniform(-max_semitones, max_semitones) / 12.0)
    log_f = np.log(centres_hz)
    pos = np.interp(log_f - np.log(factor), log_f, np.arange(len(log_f), dtype=np.float64))
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, len(log_f) - 1)
    w = (pos - lo).astype(np.float32)
    logspec = x[0].astype(np.float32)
    warped = logspec[:, lo] * (1 - w) + logspec[:, hi] * w
    rises = np.empty_like(warped)
    rises[0] = x[1, 0, lo] * (1 - w) + x[1, 0, hi] * w
    rises[1:] = np.maximum(warped[1:] - warped[:-1], 0.0)
    return np.stack([warped, rises])


def _standardisation(items: list[Item]) -> tuple[np.ndarray, np.ndarray]:
    total = sum(it.features.shape[1] for it in items)
    s = sum(it.features.astype(np.float64).sum(axis=1) for it in items)
    mean = s / total
    sq = sum(((it.features.astype(np.float64) - mean[:, None, :]) ** 2).sum(axis=1) for it in items)
    std = np.sqrt(sq / total) + 1e-3
    return mean.astype(np.float32), std.astype(np.float32)


class _CropSampler:
    """Training batches: random crops of items drawn by `sampling_weights`, retuned and
    EQ'd at random."""

    def __init__(self, items: list[Item], settings: TrainSettings, rng: np.random.Generator):
        self.items, self.settings, self.rng = items, settings, rng
        self.weights = sampling_weights(items, family_balance=settings.family_balance)
        self.centres_hz = filter_centres_hz()

    def crop(self, it: Item) -> tuple[np.ndarray, np.ndarray]:
        """One crop of ``it`` (zero-padded past its end) and its targets."""
        frames, rng, share = self.settings.crop_frames, self.rng, self.settings.eq_augment
        start = int(rng.integers(0, max(1, it.features.shape[1] - frames + 1)))
        x = np.zeros((2, frames, it.features.shape[2]), dtype=np.float32)
        y = np.zeros((frames, len(OUTPUTS)), dtype=np.float32)
        seg = it.features[:, start : start + frames]
        pitch = self.settings.pitch_augment
        if pitch and rng.random() < pitch:
            seg = random_pitch(seg, rng, centres_hz=self.centres_hz)
        x[:, : seg.shape[1]] = seg
        if share and rng.random() < share:
            x[:, : seg.shape[1]] = random_eq(seg, rng)
        y[: seg.shape[1]] = it.targets[start : start + frames]
        return x, y

    def batch(self) -> tuple[np.ndarray, np.ndarray]:
        """``(batch, 2, frames, filters)`` features and ``(batch, frames, 6)`` targets."""
        picks = self.rng.choice(len(self.items), size=self.settings.batch_size, p=self.weights)
        xs, ys = zip(*(self.crop(self.items[k]) for k in picks), strict=True)
        return np.stack(xs), np.stack(ys)


def cosine_lr(settings: TrainSettings, *, step: int, elapsed_s: float) -> float:
    """Learning rate: cosine decay to 5 % over the run (steps or minutes, whichever ends first)."""
    budget_s = settings.max_minutes * 60
    progress = min(1.0, max(elapsed_s / budget_s, step / settings.steps if settings.steps else 0))
    return settings.learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def _standardised(x: np.ndarray, mean: np.ndarray, std: np.ndarray):
    """``(batch, 2, frames, filters)`` features as the network's standardised input tensor."""
    import torch

    mean_t, std_t = torch.from_numpy(mean[:, None, :]), torch.from_numpy(std[:, None, :])
    return (torch.from_numpy(x) - mean_t) / std_t


def _activations(net, items: list[Item], mean: np.ndarray, std: np.ndarray) -> list[np.ndarray]:
    """The network's sigmoid outputs on every item, whole (eval mode, no gradients)."""
    import torch

    was_training = net.training
    net.eval()
    acts = []
    with torch.no_grad():
        for it in items:
            x = _standardised(it.features.astype(np.float32)[None], mean, std)
            acts.append(torch.sigmoid(net(x))[0].numpy())
    net.train(was_training)
    return acts


def _fit(
    net,
    train: list[Item],
    valid: list[Item],
    settings: TrainSettings,
    *,
    mean: np.ndarray,
    std: np.ndarray,
    log_path: Path,
    log: Callable[[str], None],
) -> tuple[int, dict | None]:
    """The training loop: Adam on crops until steps or time run out, checkpoint chosen on
    validation (hit F1 @20 ms plus mean class F1). Leaves ``net`` at the chosen checkpoint;
    returns the steps taken and the chosen checkpoint's log record."""
    import torch

    from drumgenx.transcribe.network import export_model

    sampler = _CropSampler(train, settings, np.random.default_rng(settings.seed))
    opt = torch.optim.Adam(net.parameters(), lr=settings.learning_rate)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    best: tuple[float, dict, dict] | None = None
    step, start = 0, time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if (settings.steps and step >= settings.steps) or elapsed > settings.max_minutes * 60:
            break
        lr = cosine_lr(settings, step=step, elapsed_s=elapsed)
        for g in opt.param_groups:
            g["lr"] = lr
        xb, yb = sampler.batch()
        loss = loss_fn(net(_standardised(xb, mean, std)), torch.from_numpy(yb))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % settings.eval_every:
            continue
        acts = _activations(net, valid, mean, std)
        scores = evaluate(acts, valid, export_model(net, mean=mean, std=std))
        record = {"step": step, "minutes": round(elapsed / 60, 2), "loss": loss.item(), "lr": lr}
        record.update(scores)
        with open(log_path, "a") as fh:
            fh.write(json.dumps(record) + "\n")
        log(json.dumps(record))
        key = scores["hit_f1_20"] + scores["class_f1_mean"]
        if best is None or key > best[0]:
            best = (key, {k: v.clone() for k, v in net.state_dict().items()}, record)
    if best is not None:
        net.load_state_dict(best[1])
    return step, best[2] if best else None


def _provenance(corpus: Path, settings: TrainSettings, **facts) -> dict:
    """The weights' ``meta``: command, settings, data and splits, plus ``facts``."""
    return {
        "command": command_line(),
        "settings": asdict(settings),
        "trained_on": "GMD train split via drumgenx.training.corpus, training kits",
        "chosen_on": "GMD validation split through the held-out validation kits "
        "(checkpoint, thresholds, time offset)",
        "corpus": {
            split: json.loads((corpus / split / "corpus.json").read_text())
            for split in ("train", "validation")
            if (corpus / split / "corpus.json").is_file()
        },
        **facts,
        "date": time.strftime("%Y-%m-%d"),
    }


def train_transcriber(
    *,
    corpus: Path,
    out_dir: Path,
    settings: TrainSettings | None = None,
    log: Callable[[str], None] = silent,
) -> TranscriberModel:
    """Train, choose on validation, write ``out_dir/transcriber.npz``; return the model
    (``settings``: default `TrainSettings`, the shipped weights'). ``log`` receives a line
    per validation (the JSON of ``train_log.jsonl``) and the final scores."""
    import torch

    from drumgenx.transcribe.model import save_model
    from drumgenx.transcribe.network import NetworkSpec, TranscriberNet, export_model

    settings = settings or TrainSettings()
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    train, valid = load_split(corpus / "train"), load_split(corpus / "validation")
    log(
        f"loaded {len(train)} train / {len(valid)} validation items"
        f" in {time.monotonic() - t0:.0f} s"
    )
    mean, std = _standardisation(train)
    width = settings.conv_channels
    spec = NetworkSpec(
        n_filters=n_filters(),
        conv_channels=(width, width, 2 * width),
        temporal_channels=settings.temporal_channels,
    )
    net = TranscriberNet(spec)
    steps, chosen = _fit(
        net,
        train,
        valid,
        settings,
        mean=mean,
        std=std,
        log_path=out_dir / "train_log.jsonl",
        log=log,
    )
    acts = _activations(net, valid, mean, std)
    model = tune_peak_picking(acts, valid, export_model(net, mean=mean, std=std))
    scores = evaluate(acts, valid, model)
    meta = _provenance(
        corpus,
        settings,
        corpus_items={"train": len(train), "validation": len(valid)},
        steps=steps,
        best_step=chosen["step"] if chosen else steps,
        validation=scores,
        spec=asdict(net.spec),
    )
    model = replace(model, meta=meta)
    save_model(out_dir / "transcriber.npz", model)
    log(f"validation after tuning: {json.dumps(scores)}; wrote {out_dir / 'transcriber.npz'}")
    return model


def run_command(args: argparse.Namespace) -> None:
    """``drumgenx train transcriber`` (flags: `training.flags`)."""
    settings = settings_from(args, TrainSettings)
    corpus, out_dir = Path(args.corpus), Path(args.out)
    for split in ("train", "validation"):
        if not (corpus / split / "manifest.csv").is_file():
            raise DrumgenxError(f"{corpus / split}: no manifest.csv (drumgenx train corpus)")
    train_transcriber(
        corpus=corpus, out_dir=out_dir, settings=settings, log=lambda m: print(m, flush=True)
    )
    print(f"[DONE] transcriber trained: {out_dir / 'transcriber.npz'}")
    print(f" - use it with: drumgenx transcribe --model {out_dir / 'transcriber.npz'} ...")


def main(argv: list[str] | None = None) -> int:
    """``python -m drumgenx.training.transcriber``: ``drumgenx train transcriber``."""
    return standalone("transcriber", run_command, argv)


if __name__ == "__main__":
    raise SystemExit(main())
