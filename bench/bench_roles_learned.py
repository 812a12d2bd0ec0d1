"""Leave-one-kit-out table of the learned role scorer on the labelled Debian one-shots.

Re-runs the cross-validation of ``bench/train_role_scorer.py`` with the shipped
hyperparameters (read from the shipped weights' ``meta``) and prints accuracy, macro-F1, the
confusion matrix, found sounds apart from drum-kit hits, and per-kit accuracy. Writes
nothing. Also prints the shipped model's feature + scoring throughput (clips/s, 1 process).

    .venv/bin/python bench/bench_roles_learned.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import train_role_scorer as trs

from drumgenx.core.audio import read_audio
from drumgenx.roles.learned import LearnedRoleScorer


def main() -> int:
    scorer = LearnedRoleScorer.load()
    meta = scorer.meta
    cfg = trs.Config(**meta["config"])
    rows = trs.load_rows()
    feats, _ = trs.extract(rows, n_aug=4, seed=int(meta["seed"]))
    proba = trs.loko(feats, rows, cfg, seed=int(meta["seed"]), n_members=3)
    text, _ = trs.report(proba, rows)
    print(f"shipped: {meta['command']} ({meta['date']}), {scorer.n_params} params")
    print(f"config: {cfg}\n\nleave-one-kit-out, original clips ({len(rows)} files):")
    print(text)
    clips = [read_audio(r.path) for r in rows[::5]]
    t0 = time.perf_counter()
    scorer.predict_proba_batch(clips)
    dt = time.perf_counter() - t0
    print(f"\nthroughput (decoded audio in memory): {len(clips) / dt:.0f} clips/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
