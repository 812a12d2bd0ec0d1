"""Rules-alone role accuracy on the labelled Debian one-shots, and feature throughput.

    .venv/bin/python bench/bench_roles_rules.py [--workers 2] [--labels PATH] [--root /usr/share]

Rows: ``confidence`` high or medium with a ``proposed_role`` (670 files, 19 kits); files not
installed are counted and skipped. Prints accuracy, macro-F1 over the five roles, the
confusion matrix (rows: label, columns: rules' choice after guards), per-kit accuracy, the
found-sound subset (class fx/other) and cold feature throughput including decoding.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread per worker: --workers is the core count

import numpy as np

from drumgenx.core.audio import read_audio
from drumgenx.core.roles import ROLES
from drumgenx.roles.features import FeatureParams, extract_features
from drumgenx.roles.rules import apply_guards, load_role_config, rule_probabilities

LABELS = Path(__file__).resolve().parents[1] / "../shared/data/drum_oneshots/labels.csv"


def _features(job: tuple[str, FeatureParams]) -> dict[str, float]:
    path, params = job
    y, sr = read_audio(path)
    return extract_features(y.mean(axis=1), sr=sr, params=params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", default=str(LABELS))
    parser.add_argument("--root", default="/usr/share")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--config", default=None)
    args = parser.parse_args()

    config = load_role_config(args.config)
    with open(args.labels, newline="", encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["confidence"] in ("high", "medium") and r["proposed_role"]
        ]
    paths = [os.path.join(args.root, r["path_in_package"]) for r in rows]
    present = [i for i, p in enumerate(paths) if os.path.isfile(p)]
    print(f"{len(rows)} labelled rows, {len(present)} files present")
    rows = [rows[i] for i in present]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        feats = list(
            pool.map(_features, [(paths[i], config.features) for i in present], chunksize=8)
        )
    elapsed = time.perf_counter() - t0
    print(
        f"features, cold, incl. decoding: {len(rows) / elapsed:.0f} one-shots/s "
        f"on {args.workers} workers ({elapsed:.1f} s)"
    )

    truth = np.array([ROLES.index(r["proposed_role"]) for r in rows])
    t0 = time.perf_counter()
    pred = np.array(
        [int(np.argmax(apply_guards(f, rule_probabilities(f, config), config)[0])) for f in feats]
    )
    print(f"rule scoring + guards: {len(rows) / (time.perf_counter() - t0):.0f} one-shots/s")
    _report("all labelled one-shots", truth, pred)
    found = np.array([r["proposed_class"] in ("fx", "other") for r in rows])
    print(
        f"\nfound sounds (class fx/other, n={found.sum()}): accuracy "
        f"{np.mean(truth[found] == pred[found]):.1%}; in CORE: {np.sum(pred[found] == 0)}"
    )
    print("\nper kit accuracy:")
    kits = sorted({r["kit"] for r in rows})
    for kit in kits:
        m = np.array([r["kit"] == kit for r in rows])
        print(f"  {kit:28s} {np.mean(truth[m] == pred[m]):6.1%}  (n={m.sum()})")


def _report(title: str, truth: np.ndarray, pred: np.ndarray) -> None:
    k = len(ROLES)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (truth, pred), 1)
    f1 = []
    for i in range(k):
        tp, fp, fn = cm[i, i], cm[:, i].sum() - cm[i, i], cm[i, :].sum() - cm[i, i]
        f1.append(2 * tp / max(2 * tp + fp + fn, 1))
    print(
        f"\n{title}: n={len(truth)}  accuracy {np.mean(truth == pred):.1%}  "
        f"macro-F1 {np.mean(f1):.3f}"
    )
    print("label \\ rules " + "".join(f"{r:>9s}" for r in ROLES) + "   recall     F1")
    for i, role in enumerate(ROLES):
        recall = cm[i, i] / max(cm[i].sum(), 1)
        print(f"{role:14s}" + "".join(f"{v:9d}" for v in cm[i]) + f"  {recall:6.1%}  {f1[i]:.3f}")


if __name__ == "__main__":
    main()
