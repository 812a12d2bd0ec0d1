"""Score transcriber weights on a corpus split with the trainer's own metrics.

Usage (by hand)::

    .venv/bin/python bench/score_transcriber_corpus.py CORPUS/validation \\
        [--weights A.npz B.npz ...] [--exclude_kit KIT_ID ...]

Per weights file: hit F1 at ±50/±20 ms and per-class F1 at ±50 ms (``training.transcriber``'s
scoring: reference onsets merged within 30 ms, counts pooled over items), first with the
file's own thresholds, then with thresholds and timing offset re-tuned on these items (as the
trainer does for the weights it writes), so weights chosen on other items compare fairly.
``--exclude_kit`` leaves out the items of a kit (e.g. ``sf:sf_GMbank:128-048``, an Orchestra
kit whose hat and cymbal keys play timpani).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from drumgenx.training.transcriber import evaluate, load_split, tune_peak_picking
from drumgenx.transcribe.model import CLASSES, activations, load_model


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("split_dir", type=Path, help="a corpus split folder (manifest.csv)")
    ap.add_argument("--weights", nargs="+", default=[None], help="default: the shipped ones")
    ap.add_argument("--exclude_kit", nargs="*", default=[], help="kit ids to leave out")
    a = ap.parse_args(argv)
    with open(a.split_dir / "manifest.csv", newline="") as fh:
        kit_of = {r["item_id"]: r["kit_id"] for r in csv.DictReader(fh)}
    items = [it for it in load_split(a.split_dir) if kit_of[it.item_id] not in a.exclude_kit]
    print(f"{a.split_dir}: {len(items)} items (left out: {', '.join(a.exclude_kit) or 'none'})")
    cols = ["hit_f1_50", "hit_f1_20", *(f"{c}_f1_50" for c in CLASSES), "class_f1_mean"]
    print("\n| weights | thresholds | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for weights in a.weights:
        model = load_model(weights)
        acts = [activations(it.features.astype(np.float32), model=model) for it in items]
        for label, m in (("own", model), ("re-tuned here", tune_peak_picking(acts, items, model))):
            scores = evaluate(acts, items, m)
            row = " | ".join(f"{scores[c]:.3f}" for c in cols)
            print(f"| {weights or 'shipped'} | {label} | {row} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
