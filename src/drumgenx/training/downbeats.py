"""``drumgenx train downbeats``: the model that tells the beat tracker where bars start.

`core.tempo.track_beats` finds the beats, then scores each of the four bar phases (which of
the first four beats is a downbeat) by ``downbeat_features @ weights``. This module fits
those weights by conditional logistic regression (one softmax over an excerpt's four
phases) on the transcriber corpus's *train* excerpts, and scores them on its *validation*
excerpts::

    drumgenx train downbeats --corpus corpus --out src/drumgenx/core/weights/downbeat.npz

What it reads: every ``beat`` excerpt in 4/4 at least `MIN_EXCERPT_S` long of
``CORPUS/train`` and ``CORPUS/validation`` (GMD performances through the corpus's kits,
alone or under accompaniment). Each is transcribed with the shipped transcriber once (cached
under ``--cache_dir``). The truth: GMD files start on bar 1's downbeat at the ``info.csv``
tempo, so an excerpt from ``start_s`` has its downbeats at whole bars from the file's start.
An excerpt teaches only where the tracker's tempo is right (within 4 %) and its beats lie on
the file's beats (median distance under an eighth of a beat; in some GMD files every note
sits half a beat off the file's grid, and those say nothing true about bars). Each excerpt is
seen twice: with the hits' class probabilities (the transcriber's path) and with their
strengths only (stage 1's ``flux`` path). GMD's test split is never read.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from drumgenx.core.errors import DrumgenxError
from drumgenx.training.flags import settings_from
from drumgenx.training.settings import DownbeatTrainSettings, command_line, default_cache_dir

__all__ = ["MIN_EXCERPT_S", "Example", "examples", "fit_weights", "phase_accuracy", "run_command"]

FOUR_FOUR = "_4-4.mid"
"""How a GMD file name ends in 4/4 (``..._funk_95_beat_4-4.mid``): bars of four beats."""
MIN_EXCERPT_S = 8.0
"""Shorter excerpts hold too few bars to tell where they start (most are 20 s)."""
TEMPO_TOLERANCE = 0.04
"""The tracker's tempo must be this close to the truth for an excerpt to teach."""
ON_BEAT = 0.125
"""...and its beats this close to the file's (median, in beats)."""
Example = tuple[np.ndarray, int, str]
"""One excerpt: ``(4, features)`` per bar phase, the true phase, its group (GMD drummer)."""


def _rows(split_dir: Path) -> list[dict[str, str]]:
    manifest = split_dir / "manifest.csv"
    if not manifest.is_file():
        raise DrumgenxError(f"{manifest} not found: build the corpus first (drumgenx train corpus)")
    with manifest.open(newline="") as f:
        return [
            r
            for r in csv.DictReader(f)
            if r["beat_type"] == "beat"
            and r["midi_path"].endswith(FOUR_FOUR)
            and float(r["duration_s"]) >= MIN_EXCERPT_S
        ]


def _transcribe(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import soundfile as sf

    from drumgenx.transcribe.detect import transcribe_audio

    y, sr = sf.read(path, dtype="float32", always_2d=True)
    hits = transcribe_audio(y.mean(axis=1), sr=sr)
    return hits.times, hits.strengths, hits.class_probs


def transcribed(
    split_dir: str | Path,
    cache: str | Path,
    *,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[dict[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Each beat excerpt's manifest row and hits ``(times, strengths, class_probs)``.

    Transcribed once: ``cache`` (an ``.npz``) keeps them, and a later run reads them back
    (written when all are done; an interrupted run starts again).
    """
    from drumgenx.core.parallel import map_in_processes

    split_dir, cache = Path(split_dir), Path(cache)
    rows = _rows(split_dir)
    stored: dict[str, np.ndarray] = {}
    if cache.is_file():
        with np.load(cache) as data:
            stored = {k: data[k] for k in data.files}
    todo = [r for r in rows if f"{r['item_id']}/times" not in stored]
    if todo:
        paths = [str(split_dir / "audio" / f"{r['item_id']}.flac") for r in todo]
        for i, (row, hits) in enumerate(
            zip(todo, map_in_processes(_transcribe, paths, workers=workers), strict=True)
        ):
            for key, value in zip(("times", "strengths", "probs"), hits, strict=True):
                stored[f"{row['item_id']}/{key}"] = np.asarray(value, dtype=np.float32)
            if progress:
                progress(i + 1, len(todo))
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(cache.name + ".part.npz")
        np.savez(partial, **stored)
        partial.replace(cache)
    return [
        (
            r,
            tuple(
                stored[f"{r['item_id']}/{k}"].astype(np.float64)
                for k in ("times", "strengths", "probs")
            ),
        )
        for r in rows
    ]


def examples(items, *, classes: bool) -> list[Example]:
    """The excerpts of ``items`` (`transcribed`) that teach (see the module), with the class
    probabilities (``classes``) or the strengths only."""
    from drumgenx.core.tempo import (
        BEATS_PER_BAR,
        DOWNBEAT_CLASSES,
        DOWNBEAT_FEATURES,
        downbeat_features,
        track_beats,
    )

    any_weights = np.zeros(len(DOWNBEAT_FEATURES))  # the beats do not depend on them
    out: list[Example] = []
    for row, (times, strengths, probs) in items:
        bpm, start = float(row["bpm"]), float(row["start_s"])
        columns = dict(zip(DOWNBEAT_CLASSES, probs.T, strict=True))
        grid = track_beats(
            times,
            strengths=strengths,
            **(columns if classes else {}),
            downbeat_weights=any_weights,
        )
        if grid is None or abs(grid.bpm / bpm - 1.0) > TEMPO_TOLERANCE:
            continue
        beat_s = 60.0 / bpm
        on_file = (grid.beats + start) / beat_s
        if np.median(np.abs(on_file - np.round(on_file))) > ON_BEAT:
            continue
        bar_position = np.round(on_file).astype(np.int64) % BEATS_PER_BAR
        first = np.flatnonzero(bar_position[:BEATS_PER_BAR] == 0)
        if not len(first):
            continue
        features = downbeat_features(
            grid.beats, times, strengths, probs if classes else None, beat_s=60.0 / grid.bpm
        )
        out.append((features, int(first[0]), row["gmd_id"].split("/")[0]))
    return out


def phase_accuracy(examples_: Sequence[Example], weights: np.ndarray) -> float:
    """Share of ``examples_`` whose best-scoring phase is the true one."""
    right = sum(int(np.argmax(x @ weights)) == y for x, y, _ in examples_)
    return right / max(1, len(examples_))


def fit_weights(examples_: Sequence[Example], *, l2: float) -> np.ndarray:
    """Conditional logistic regression: the weights maximising each example's log softmax
    probability of its true phase, less ``l2 / 2`` times their squared norm."""
    from scipy.optimize import minimize

    if not examples_:
        raise DrumgenxError("no excerpt to learn from (none had the right tempo on the beat)")
    x = np.stack([e[0] for e in examples_])  # (n, phases, features)
    y = np.array([e[1] for e in examples_])
    rows = np.arange(len(y))

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        top = z.max(axis=1, keepdims=True)
        p = np.exp(z - top)
        total = p.sum(axis=1)
        p /= total[:, None]
        value = float(np.sum(np.log(total) + top[:, 0] - z[rows, y])) + 0.5 * l2 * float(w @ w)
        grad = np.einsum("np,npf->f", p, x) - x[rows, y].sum(axis=0) + l2 * w
        return value, grad

    return minimize(loss, np.zeros(x.shape[2]), jac=True, method="L-BFGS-B").x


def save_weights(path: str | Path, weights: np.ndarray, meta: dict) -> None:
    """Write the model `core.tempo.load_downbeat_weights` reads (atomically)."""
    from drumgenx.core.tempo import DOWNBEAT_FEATURES

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part.npz")
    np.savez(
        partial,
        features=np.array(DOWNBEAT_FEATURES),
        weights=np.asarray(weights, dtype=np.float64),
        meta=np.array(json.dumps(meta, sort_keys=True)),
    )
    partial.replace(path)


def run_command(args: argparse.Namespace) -> None:
    """``drumgenx train downbeats`` (flags: `training.flags`)."""
    from drumgenx.core.console import progress_printer
    from drumgenx.core.tempo import DEFAULT_DOWNBEAT_WEIGHTS, load_downbeat_weights

    settings = settings_from(args, DownbeatTrainSettings)
    if args.workers < 1:
        raise DrumgenxError("--workers must be at least 1")
    corpus = Path(args.corpus)
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir() / "downbeats"
    t0 = time.perf_counter()
    sets: dict[str, list[Example]] = {}
    for split in ("train", "validation"):
        items = transcribed(
            corpus / split,
            cache_dir / f"{split}.npz",
            workers=args.workers,
            progress=progress_printer(f"transcribing {split} excerpts", unit=""),
        )
        sets[f"{split}_classes"] = examples(items, classes=True)
        sets[f"{split}_strengths"] = examples(items, classes=False)
    weights = fit_weights(sets["train_classes"] + sets["train_strengths"], l2=settings.l2)
    scores = {name: round(phase_accuracy(ex, weights), 4) for name, ex in sets.items()}
    shipped = load_downbeat_weights() if DEFAULT_DOWNBEAT_WEIGHTS.is_file() else None
    print(f"{'set':<24} {'excerpts':>8} {'new':>6} {'shipped':>8}")
    for name, ex in sets.items():
        old = f"{phase_accuracy(ex, shipped):.3f}" if shipped is not None else "-"
        print(f"{name:<24} {len(ex):>8} {scores[name]:>6.3f} {old:>8}")
    meta = {
        "command": command_line(),
        "settings": asdict(settings),
        "corpus": str(corpus.resolve()),
        "excerpts": {name: len(ex) for name, ex in sets.items()},
        "accuracy": scores,
        "data": "fitted on the corpus's GMD train excerpts, scored on its validation ones; "
        "GMD test never read",
    }
    save_weights(args.out, weights, meta)
    print(f"[DONE] downbeat model: {args.out} ({time.perf_counter() - t0:.0f} s)")
