"""GrooVAE on the Groove MIDI Dataset test split: humanize and vary beside baselines, and speed.

Usage (by hand, never by CI; needs ../shared/data/gmd)::

    .venv/bin/python bench/bench_groovae.py [--gmd PATH]

Test windows are made as for training (`training.groove.load_gmd_windows`: 4-4 files, 2-bar
windows every bar). Everything below is measured in one run, on the shipped weights (or
the humanize model `--humanize_model` names).

Humanize: each window quantized at one velocity (hits only reach the model), the performance
predicted, and scored on the true hits: velocity MAE (MIDI units), timing-offset MAE (ms, at
each file's tempo) and the Pearson correlation of predicted and true values over all true
hits. Baselines in the same run:

- *none*: every hit at the train split's mean velocity, on the grid;
- *DAW jitter*: that, plus uniform random jitter of +-10 velocity and +-10 ticks at 480 PPQ
  (Logic Pro's Humanize transform set), seeded;
- *groove template*: the train split's mean velocity and offset per (class, step in bar).

Lag-1 autocorrelation of offsets: per window and class, successive hits' offsets paired in
time order, Pearson r over all pairs; beside the same for the real drummers.

Vary: each test window encoded and decoded (`GrooveModel.vary`): hit F1 against the input, and
the density change (hits out / hits in - 1), at temperature 0 and, averaged over 3 seeds, at
0.5 and 1.0.

Through the user's path: the first 8 bars of each test file become the seed's JSON files
(`grid_1.json` at the file's tempo, `event_grid_1.json` with every hit on its step at velocity
100/127, `pools_1.json` naming one sample per drum class), `groove.run.run_groove` (what
`run_model_groovae.py` and `drumgenx groove` call) humanizes them, and each output event is
scored against the performance's hit on that step and class, beside the groove template
applied to the same events.

Speed: loading each model (after ``import torch``), and humanizing 8 bars (4 windows, one
batch), median of 50 calls after 5 warm-ups, on the CPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_GMD = REPO.parent / "shared" / "data" / "gmd"
C = 9  # drum classes
DAW_VELOCITY = 10 / 127  # +-10 MIDI velocity
DAW_TICKS = 10 / 120  # +-10 ticks of 480 PPQ, in 16th-note steps (120 ticks)
SEEDS = (0, 1, 2)


def split(tensors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, 32, 27) model tensors -> hits (bool), velocities 0..1, offsets in steps."""
    return tensors[..., :C] > 0.5, tensors[..., C : 2 * C], tensors[..., 2 * C :] / 2


def template(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean velocity and offset of the train hits per (step in bar, class): each (16, 9)."""
    hits, velocities, offsets = split(train)
    folded = lambda a: (a * hits).reshape(-1, 2, 16, C).sum((0, 1))  # noqa: E731
    count = np.maximum(hits.reshape(-1, 2, 16, C).sum((0, 1)), 1)
    return folded(velocities) / count, folded(offsets) / count


def lag1(offsets: np.ndarray, hits: np.ndarray) -> float:
    """Pearson r of successive hits' offsets, per window and class, all pairs pooled."""
    first, second = [], []
    for w, c in zip(*np.nonzero(hits.any(axis=1)), strict=True):
        values = offsets[w, hits[w, :, c], c]
        first.append(values[:-1])
        second.append(values[1:])
    a, b = np.concatenate(first), np.concatenate(second)
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 else float("nan")


def f1(predicted: np.ndarray, truth: np.ndarray) -> float:
    return 2 * float((predicted & truth).sum()) / max(float(predicted.sum() + truth.sum()), 1.0)


def fmt(value: float, digits: int = 2) -> str:
    return "—" if np.isnan(value) else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gmd", type=Path, default=DEFAULT_GMD)
    parser.add_argument(
        "--humanize_model", type=Path, help="a humanize model folder instead of the shipped one"
    )
    args = parser.parse_args(argv)
    if not (args.gmd / "info.csv").is_file():
        print(f"SKIP: the Groove MIDI Dataset is not at {args.gmd} (no info.csv)")
        return 0

    started = time.perf_counter()
    import torch

    import_s = time.perf_counter() - started
    from drumgenx.groove.model import GrooveModel
    from drumgenx.training.groove import encoder_input, load_gmd_windows

    train = load_gmd_windows(args.gmd, "train")
    test = load_gmd_windows(args.gmd, "test")
    load_s = {}
    models = {}
    for task in ("humanize", "vary"):
        t0 = time.perf_counter()
        folder = args.humanize_model if task == "humanize" else None
        models[task] = GrooveModel.load(folder, task=task, device="cpu")
        load_s[task] = time.perf_counter() - t0

    hits, velocities, offsets = split(test.tensors)
    ms_per_step = (60_000 / test.bpm / 4)[:, None, None] * np.ones_like(offsets)
    mean_velocity = float(split(train.tensors)[1][split(train.tensors)[0]].mean())
    rng = np.random.default_rng(0)

    predictions: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    predictions["none (mean velocity, on the grid)"] = (
        np.full_like(velocities, mean_velocity),
        np.zeros_like(offsets),
    )
    predictions["DAW jitter (+-10 vel, +-10 ticks)"] = (
        np.clip(mean_velocity + rng.uniform(-DAW_VELOCITY, DAW_VELOCITY, hits.shape), 0, 1),
        rng.uniform(-DAW_TICKS, DAW_TICKS, hits.shape),
    )
    t_velocity, t_offset = template(train.tensors)
    predictions["groove template (train means)"] = (
        np.broadcast_to(np.tile(t_velocity, (2, 1)), hits.shape),
        np.broadcast_to(np.tile(t_offset, (2, 1)), hits.shape),
    )
    humanizer = models["humanize"]
    batches = [slice(i, i + 512) for i in range(0, len(hits), 512)]
    with torch.no_grad():
        raw = []
        for b in batches:
            h = torch.from_numpy(hits[b].astype(np.float32))
            mu = humanizer.net.encode(
                encoder_input(torch.from_numpy(test.tensors[b]), "humanize")
            ).mu
            raw.append(humanizer.net.generate(mu, hits=h, hit_conditional=False))
    predictions["GrooVAE, Magenta's readout"] = (
        torch.cat([r[1] for r in raw]).numpy(),
        torch.cat([r[2] for r in raw]).numpy(),
    )
    ours = [humanizer.humanize(hits[b].astype(np.float32)) for b in batches]
    predictions["GrooVAE humanize"] = (
        np.concatenate([o[0] for o in ours]),
        np.concatenate([o[1] for o in ours]),
    )

    true_v, true_o = velocities[hits], offsets[hits]
    n_hits = int(hits.sum())
    print(f"GMD test split: {len(test)} windows of 2 bars, {len(test.files)} files, {n_hits} hits")
    print()
    print("Humanize (input: hits at one velocity; scored on the true hits)")
    header = (
        f"{'method':<38}{'vel MAE':>9}{'off MAE ms':>12}{'vel r':>8}{'off r':>8}{'off lag-1':>11}"
    )
    print(header)
    print("-" * len(header))
    scores = {}
    for name, (v, o) in predictions.items():
        v_mae = float(np.abs(v[hits] - true_v).mean() * 127)
        o_mae = float((np.abs(o[hits] - true_o) * ms_per_step[hits]).mean())
        scores[name] = (v_mae, o_mae)
        print(
            f"{name:<38}{v_mae:>9.2f}{o_mae:>12.2f}{fmt(pearson(v[hits], true_v)):>8}"
            f"{fmt(pearson(o[hits], true_o)):>8}{fmt(lag1(np.asarray(o), hits)):>11}"
        )
    print(f"{'real drummers':<38}{'':>9}{'':>12}{'':>8}{'':>8}{fmt(lag1(offsets, hits)):>11}")
    shipped, tmpl = scores["GrooVAE humanize"], scores["groove template (train means)"]
    beats = shipped[0] < tmpl[0] and shipped[1] < tmpl[1]
    print(f"goal, beat the groove template on both MAEs: {'met' if beats else 'NOT met'}")

    print()
    print("Vary (input: the whole test window; hits F1 and density against the input)")
    header = f"{'temperature':<14}{'hit F1':>8}{'density change':>16}{'vel MAE, kept hits':>20}"
    print(header)
    print("-" * len(header))
    varier = models["vary"]
    for temperature in (0.0, 0.5, 1.0):
        rows = []
        for seed in SEEDS[:1] if temperature == 0 else SEEDS:
            out = [
                varier.vary(
                    hits[b].astype(np.float32),
                    velocities[b],
                    offsets[b],
                    temperature=temperature,
                    seed=seed,
                )
                for b in batches
            ]
            out_hits = np.concatenate([o[0] for o in out]) > 0.5
            out_velocities = np.concatenate([o[1] for o in out])
            kept = out_hits & hits
            rows.append(
                (
                    f1(out_hits, hits),
                    out_hits.sum() / hits.sum() - 1,
                    np.abs(out_velocities[kept] - velocities[kept]).mean() * 127,
                )
            )
        f, d, v = np.mean(rows, axis=0)
        print(f"{temperature:<14.1f}{f:>8.3f}{d:>+15.1%} {v:>19.2f}")

    print()
    user_path(args.gmd, t_velocity, t_offset, model_dir=args.humanize_model)

    print()
    window = hits[:4].astype(np.float32)
    for _ in range(5):
        humanizer.humanize(window)
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        humanizer.humanize(window)
        times.append(time.perf_counter() - t0)
    print(
        f"Speed (CPU, {torch.get_num_threads()} threads, torch {torch.__version__}): "
        f"import torch {import_s:.2f} s; load humanize {load_s['humanize'] * 1000:.0f} ms, "
        f"vary {load_s['vary'] * 1000:.0f} ms; humanize 8 bars (4 windows, one batch) "
        f"{statistics.median(times) * 1000:.1f} ms median, {max(times) * 1000:.1f} ms max"
    )
    return 0


USER_BARS = 8


def user_path(
    gmd: Path, t_velocity: np.ndarray, t_offset: np.ndarray, *, model_dir: Path | None
) -> None:
    """Humanize through `run_groove` from JSON files; print the per-hit scores."""
    import tempfile

    from _gmd_cases import event_cell, info_rows, load_case, run_case, write_case

    errors: dict[str, list[tuple[float, float]]] = {"GrooVAE via run_groove": [], "template": []}
    n_files = 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for row in info_rows(gmd, "test"):
            case = load_case(gmd, row, USER_BARS)
            if case is None:
                continue
            n_files += 1
            folder = write_case(case, Path(tmp) / f"case_{n_files}")
            for event in run_case(folder, "out", model_dir=model_dir):
                bar, step, c = event_cell(event)
                true_v, true_ms = case.truth[(bar, step, c)]
                true_v *= 127
                errors["GrooVAE via run_groove"].append(
                    (abs(event.vel * 127 - true_v), abs(event.micro_offset_ms - true_ms))
                )
                errors["template"].append(
                    (
                        abs(t_velocity[step, c] * 127 - true_v),
                        abs(t_offset[step, c] * case.grid.tstep * 1000 - true_ms),
                    )
                )
    n_hits = len(errors["template"])
    print(
        f"Through run_groove ({n_files} test files x {USER_BARS} bars, {n_hits} hits, "
        f"{time.perf_counter() - t0:.0f} s incl. loading the model per file)"
    )
    print(f"{'method':<38}{'vel MAE':>9}{'off MAE ms':>12}")
    for name, pairs in errors.items():
        v, o = np.mean(pairs, axis=0)
        print(f"{name:<38}{v:>9.2f}{o:>12.2f}")


if __name__ == "__main__":
    sys.exit(main())
