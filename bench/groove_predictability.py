"""How much of a drummer's timing can any model predict from a quantized pattern?

Usage (by hand; needs ../shared/data/gmd and scikit-learn, `pip install -e '.[train]'`)::

    .venv/bin/python bench/groove_predictability.py [--gmd PATH]

GMD *train* fits, *validation* scores (the test split is never read). Per hit of every 4-4
performance: the offset in ms (positive late) and the velocity. Printed, as mean absolute
errors on validation:

- *template*: the train mean (and median) per (drum class, step in bar);
- *per-hit regressor*: scikit-learn's gradient-boosted trees with an absolute-error loss
  (so they estimate the conditional median) on what a drummer knows: drummer, style, tempo,
  fill or beat, step in bar, bar in the phrase, class, the classes hit on this step and the
  8 steps either side, the bar's hits per class; the same without drummer and style;
- *oracle bias*: the regressor's errors after subtracting each validation performance's
  own median error, a bound no model of the pattern can reach (it needs the performance).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from drumgenx.groove.representation import NUM_CLASSES, STEPS_PER_BAR
from drumgenx.training.humanizer import Performance, load_performances

CONTEXT = 8  # steps either side


def hit_table(performances: list[Performance]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features per hit, targets (offset ms, velocity) and each hit's performance index."""
    styles = sorted({p.style for p in performances})
    rows, targets, owner = [], [], []
    for index, perf in enumerate(performances):
        hits = perf.hits.astype(np.float32)
        padded = np.pad(hits, ((CONTEXT, CONTEXT), (0, 0)))
        for step, c in zip(*np.nonzero(hits), strict=True):
            bar = hits[step - step % STEPS_PER_BAR : step - step % STEPS_PER_BAR + STEPS_PER_BAR]
            rows.append(
                [
                    perf.drummer,
                    styles.index(perf.style) if perf.style in styles else -1,
                    perf.bpm,
                    step % STEPS_PER_BAR,
                    step // STEPS_PER_BAR % 4,
                    c,
                    *padded[step : step + 2 * CONTEXT + 1].ravel(),
                    *bar.sum(0),
                ]
            )
            targets.append([perf.offsets_ms[step, c], perf.velocities[step, c]])
            owner.append(index)
    return np.asarray(rows), np.asarray(targets), np.asarray(owner)


def template(x_train, y_train, x_val, stat) -> np.ndarray:
    """``stat`` of the train targets per (class, step in bar), looked up for validation."""
    key_train = (x_train[:, 5] * STEPS_PER_BAR + x_train[:, 3]).astype(int)
    key_val = (x_val[:, 5] * STEPS_PER_BAR + x_val[:, 3]).astype(int)
    table = np.array([stat(y_train[key_train == k]) for k in range(NUM_CLASSES * STEPS_PER_BAR)])
    return table[key_val]


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gmd", default=str(REPO.parent / "shared" / "data" / "gmd"))
    args = parser.parse_args()
    train = load_performances(args.gmd, "train")
    validation = load_performances(args.gmd, "validation")
    x_train, y_train, _ = hit_table(train)
    x_val, y_val, owner = hit_table(validation)
    print(f"{len(x_train)} train hits, {len(x_val)} validation hits\n")
    print("| MAE on GMD validation | offset (ms) | velocity |\n|---|---|---|")
    for name, stat in (("template, mean", np.mean), ("template, median", np.median)):
        errors = [
            np.abs(template(x_train, y_train[:, i], x_val, stat) - y_val[:, i]).mean()
            for i in range(2)
        ]
        print(f"| {name} | {errors[0]:.2f} | {errors[1]:.3f} |")
    without = list(range(2, x_train.shape[1]))  # no drummer (0), no style (1)
    for name, columns in (
        ("per-hit regressor", slice(None)),
        ("  without drummer, style", without),
    ):
        residuals = []
        for i in range(2):
            model = HistGradientBoostingRegressor(
                loss="absolute_error", max_iter=300, random_state=0
            )
            model.fit(x_train[:, columns], y_train[:, i])
            residuals.append(y_val[:, i] - model.predict(x_val[:, columns]))
        print(f"| {name} | {np.abs(residuals[0]).mean():.2f} | {np.abs(residuals[1]).mean():.3f} |")
        if columns == slice(None):
            oracle = []
            for r in residuals:
                shifted = r.copy()
                for perf in np.unique(owner):
                    shifted[owner == perf] -= np.median(r[owner == perf])
                oracle.append(np.abs(shifted).mean())
            print(
                f"| oracle bias (each performance's median error known) | {oracle[0]:.2f} "
                f"| {oracle[1]:.3f} |"
            )


if __name__ == "__main__":
    main()
