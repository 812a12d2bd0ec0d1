"""Benchmark de-duplication: precision and recall on near-duplicates, speed, memory.

Usage::

    python bench/bench_dedup.py [--originals 400] [--seed 0] [--sizes 10000,100000]

1. **Real one-shots** (needs the Debian packages ``hydrogen-drumkits hydrogen-data
   sonic-pi-samples lmms-common``; skipped, saying so, when their files are missing). The
   files listed in ``shared/data/drum_oneshots/labels.csv`` (root ``/usr/share``) are grouped
   so that no two "distinct originals" are really one sound:

   - the velocity layers of one instrument (same kit and instrument name) form one group,
     since they are separate recordings but often near-identical: one layer per instrument
     is used (how often layers would be merged is reported apart, not scored);
   - files that are one recording shipped twice (GMRockKit and The Black Pearl share 81
     files, others were re-encoded or re-trimmed) are joined: a pair whose peak normalised
     cross-correlation over its first 0.5 s is >= 0.9. Only pairs with fingerprint cosine
     > 0.9 are checked, which cannot bias the result: a pair below 0.9 is never merged at the
     0.98 threshold anyway.

   ``--originals`` groups are drawn (seeded), one file each: its first 2 s (the slicer's
   ``max_length_s``), with 5 ms of silence in front standing in for the slicer's pre-roll.
   Each gets 8 near-duplicates: gain +6 dB and -6 dB; white noise at -60 and -50 dB re the
   original's peak; a shift of 1-5 ms later (more lead-in) and earlier (less lead-in, the
   attack intact); and two combinations (random gain within +-6 dB, noise at -60 or -50 dB,
   a shift of +-1-5 ms). Float audio, no clipping. ``find_duplicates`` runs over all of them
   with random scores; every pair of items is scored: positive if both come from one
   original, "duplicate" if both got the same representative.

   Not scored, reported: cutting 1-5 ms off the attack itself (a slicer that starts late),
   and velocity-layer pairs.

2. **Bundled kit**: the 10 synthesized voices must all stay apart.

3. **Scaling**: ``find_duplicates`` on random unit vectors of the fingerprint's length (no
   two alike, so every item is kept: the worst case for time and memory), 10,000 and 100,000
   of them; wall time and tracemalloc's peak of what it allocated, next to what one n x n
   float32 similarity matrix would take.

4. **Fingerprint speed**: slices per second over the real items (or the kit's), one process.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

import numpy as np

from drumgenx.core.audio import resample
from drumgenx.kit.synth import KIT_SR, KIT_VOICES, synthesize_voice
from drumgenx.preprocess.dedup import DedupParams, find_duplicates, mfcc_fingerprint

REPO = Path(__file__).resolve().parent.parent
LABELS_CANDIDATES = (
    REPO / "shared/data/drum_oneshots/labels.csv",
    REPO.parent / "shared/data/drum_oneshots/labels.csv",
    Path("/work/shared/data/drum_oneshots/labels.csv"),
)
PACKAGES = "hydrogen-drumkits hydrogen-data sonic-pi-samples lmms-common"
ROOT = Path("/usr/share")
LEAD_IN_S = 0.005  # stands in for the slicer's pre-roll
MAX_LEN_S = 2.0  # the slicer's max_length_s
SAME_RECORDING_XCORR = 0.9
GOAL_PRECISION, GOAL_RECALL = 0.99, 0.95
THR = DedupParams().threshold


# --------------------------------------------------------------------------------------------
# Real one-shots
# --------------------------------------------------------------------------------------------


def find_labels() -> Path | None:
    return next((p for p in LABELS_CANDIDATES if p.is_file()), None)


def load_real(labels: Path) -> tuple[list[dict], list[str]]:
    """Rows whose files exist, each with its first 2 s of audio; and the missing paths."""
    import soundfile

    rows = list(csv.DictReader(labels.open(newline="", encoding="utf-8")))
    missing = [r["path_in_package"] for r in rows if not (ROOT / r["path_in_package"]).is_file()]
    if missing:
        return [], missing
    for r in rows:
        path = ROOT / r["path_in_package"]
        sr = soundfile.info(str(path)).samplerate
        y, sr = soundfile.read(
            str(path), dtype="float32", always_2d=True, frames=int(MAX_LEN_S * sr)
        )
        lead = np.zeros((round(LEAD_IN_S * sr), y.shape[1]), dtype=np.float32)
        r["y"], r["sr"] = np.vstack([lead, y]), int(sr)
    return rows, []


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _xcorr_prep(y: np.ndarray, sr: int) -> np.ndarray:
    x = resample(y.mean(axis=1, keepdims=True), sr, 22050)[:11025, 0].astype(np.float64)
    return x / max(float(np.linalg.norm(x)), 1e-30)


def max_xcorr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak of the normalised cross-correlation over all lags (inputs are unit length)."""
    n = a.size + b.size
    c = np.fft.irfft(np.fft.rfft(a, n) * np.conj(np.fft.rfft(b, n)), n)
    return float(np.abs(c).max())


def group_files(rows: list[dict], fps: np.ndarray) -> tuple[UnionFind, list[float], int]:
    """Velocity layers and same-recording files joined.

    Returns the groups, the fingerprint cosine of each same-recording pair found, and how
    many pairs were checked.
    """
    uf = UnionFind(len(rows))
    by_instrument: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):  # rumpf's files have no instrument name: each its own
        by_instrument[(r["kit"], r["instrument_name"] or r["path_in_package"])].append(i)
    for members in by_instrument.values():
        for j in members[1:]:
            uf.union(j, members[0])
    sims = fps @ fps.T
    ii, jj = np.nonzero(np.triu(sims > 0.9, k=1))
    prepped: dict[int, np.ndarray] = {}
    joins: list[float] = []
    checked = 0
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        if uf.find(i) == uf.find(j):
            continue
        for k in (i, j):
            if k not in prepped:
                prepped[k] = _xcorr_prep(rows[k]["y"], rows[k]["sr"])
        checked += 1
        if max_xcorr(prepped[i], prepped[j]) >= SAME_RECORDING_XCORR:
            uf.union(i, j)
            joins.append(float(sims[i, j]))
    return uf, joins, checked


VARIANT_NAMES = (
    "gain +6 dB",
    "gain -6 dB",
    "noise -60 dB",
    "noise -50 dB",
    "shift later 1-5 ms",
    "shift earlier 1-5 ms",
    "gain+noise-60+shift",
    "gain+noise-50+shift",
)


def make_variants(y: np.ndarray, sr: int, rng: np.random.Generator) -> list[np.ndarray]:
    peak = float(np.abs(y).max())

    def gain(x: np.ndarray, db: float) -> np.ndarray:
        return x * np.float32(10 ** (db / 20))

    def noise(x: np.ndarray, db: float) -> np.ndarray:
        level = peak * 10 ** (db / 20)
        return (x + level * rng.standard_normal(x.shape)).astype(np.float32)

    def shift(x: np.ndarray, ms: float) -> np.ndarray:
        k = round(abs(ms) * sr / 1000)
        if ms > 0:
            return np.vstack([np.zeros((k, x.shape[1]), np.float32), x])
        return x[k:]  # at most 5 ms: only the lead-in goes

    def any_shift() -> float:
        return float(rng.choice([-1.0, 1.0]) * rng.uniform(1, 5))

    return [
        gain(y, 6.0),
        gain(y, -6.0),
        noise(y, -60.0),
        noise(y, -50.0),
        shift(y, rng.uniform(1, 5)),
        shift(y, -rng.uniform(1, 5)),
        shift(noise(gain(y, rng.uniform(-6, 6)), -60.0), any_shift()),
        shift(noise(gain(y, rng.uniform(-6, 6)), -50.0), any_shift()),
    ]


def pair_scores(truth: np.ndarray, predicted: np.ndarray) -> tuple[int, int, int]:
    """(true positive, predicted positive, actual positive) pair counts, without n x n."""
    pairs = lambda counts: int(np.sum(counts * (counts - 1) // 2))  # noqa: E731
    _, joint = np.unique(np.stack([truth, predicted]), axis=1, return_counts=True)
    _, pred = np.unique(predicted, return_counts=True)
    _, act = np.unique(truth, return_counts=True)
    return pairs(joint), pairs(pred), pairs(act)


def bench_real(n_originals: int, seed: int) -> tuple[float, float] | None:
    labels = find_labels()
    if labels is None:
        print("SKIPPED real one-shots: shared/data/drum_oneshots/labels.csv not found\n")
        return None
    rows, missing = load_real(labels)
    if missing:
        print(
            f"SKIPPED real one-shots: {len(missing)} of the files in {labels} are missing "
            f"under {ROOT} (first: {missing[0]}).\n"
            f"  Install them with: apt-get install -y --no-install-recommends {PACKAGES}\n"
        )
        return None
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    fps = np.stack([mfcc_fingerprint(r["y"], sr=r["sr"]) for r in rows])
    t_fp = time.perf_counter() - t0
    uf, joins, checked = group_files(rows, fps)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        groups[uf.find(i)].append(i)
    roots = sorted(groups)
    print(
        f"real one-shots: {len(rows)} files from {labels.name}, fingerprinted at "
        f"{len(rows) / t_fp:.0f} files/s; {len(roots)} groups after joining velocity layers "
        f"and {len(joins)} same-recording pairs (xcorr >= {SAME_RECORDING_XCORR}, of {checked} "
        f"pairs with cosine > 0.9 checked)\n"
        f"the library's own duplicates: {sum(c > THR for c in joins)} of those "
        f"{len(joins)} same-recording pairs are above {THR} (found as duplicates)"
    )
    chosen = rng.choice(len(roots), size=min(n_originals, len(roots)), replace=False)
    originals = [int(rng.choice(groups[roots[g]])) for g in sorted(chosen.tolist())]

    items: list[tuple[np.ndarray, int]] = []
    owner: list[int] = []
    kind: list[int] = []  # 0 = original, k = VARIANT_NAMES[k - 1]
    for o, idx in enumerate(originals):
        y, sr = rows[idx]["y"], rows[idx]["sr"]
        for k, v in enumerate([y, *make_variants(y, sr, rng)]):
            items.append((v, sr))
            owner.append(o)
            kind.append(k)
    # Timed in chunks of 300: the best chunk shows the speed on an otherwise idle machine,
    # the overall rate what this run got (other processes may share the CPUs).
    chunk_rates, fps_list = [], []
    t_all = time.perf_counter()
    for lo in range(0, len(items), 300):
        t0 = time.perf_counter()
        fps_list.extend(mfcc_fingerprint(v, sr=sr) for v, sr in items[lo : lo + 300])
        chunk_rates.append(len(items[lo : lo + 300]) / (time.perf_counter() - t0))
    fp_rate = len(items) / (time.perf_counter() - t_all)
    item_fps = np.stack(fps_list)
    t0 = time.perf_counter()
    rep = find_duplicates(item_fps, scores=rng.random(len(items)))
    t_dedup = time.perf_counter() - t0
    owner_arr, kind_arr = np.asarray(owner), np.asarray(kind)
    tp, pred, act = pair_scores(owner_arr, rep)
    precision, recall = tp / max(pred, 1), tp / max(act, 1)

    print(
        f"{len(originals)} originals (seed {seed}) x 9 = {len(items)} items, fingerprinted "
        f"at {fp_rate:.0f} slices/s overall, {max(chunk_rates):.0f} in the best chunk of 300 "
        f"(one process); find_duplicates {t_dedup * 1000:.0f} ms; "
        f"threshold {THR}\n"
    )
    header = f"{'near-duplicate of its original':<34}{'in its cluster':>16}{'cos min':>9}"
    print(header)
    print("-" * len(header))
    first = {o: i for i, o in reversed(list(enumerate(owner)))}
    for k, name in enumerate(VARIANT_NAMES, start=1):
        members = np.flatnonzero(kind_arr == k)
        same = rep[members] == rep[[first[owner[m]] for m in members]]
        cos = np.sum(item_fps[members] * item_fps[[first[owner[m]] for m in members]], axis=1)
        print(f"{name:<34}{same.mean():>15.1%} {cos.min():>9.4f}")

    # Not scored: the attack itself cut by 1-5 ms, and velocity layers.
    cut_cos = []
    for idx in originals:
        y, sr = rows[idx]["y"], rows[idx]["sr"]
        k = round(LEAD_IN_S * sr) + round(rng.uniform(1, 5) * sr / 1000)
        cut_cos.append(float(mfcc_fingerprint(y[k:], sr=sr) @ fps[idx]))
    cut = np.asarray(cut_cos)
    print(f"{'(stress) attack cut 1-5 ms':<34}{np.mean(cut > THR):>15.1%} {cut.min():>9.4f}")

    merged_originals = {
        (int(owner_arr[a]), int(owner_arr[b]))
        for a, b in zip(*np.nonzero(rep[:, None] == rep[None, :]), strict=True)
        if owner_arr[a] < owner_arr[b]
    }
    print(
        f"\npairs: {act} positive, {pred} called duplicate, {tp} correct\n"
        f"precision {precision:.4f} (goal >= {GOAL_PRECISION})  "
        f"recall {recall:.4f} (goal >= {GOAL_RECALL})  "
        f"-> {'PASS' if precision >= GOAL_PRECISION and recall >= GOAL_RECALL else 'FAIL'}"
    )
    print(f"distinct originals merged with each other: {len(merged_originals)} pairs")
    for a, b in sorted(merged_originals):
        ia, ib = originals[a], originals[b]
        xc = max_xcorr(
            _xcorr_prep(rows[ia]["y"], rows[ia]["sr"]), _xcorr_prep(rows[ib]["y"], rows[ib]["sr"])
        )
        print(
            f"  cos {float(fps[ia] @ fps[ib]):.4f} xcorr {xc:.2f}  "
            f"{rows[ia]['path_in_package']}  ~  {rows[ib]['path_in_package']}"
        )

    layer_sims = []
    by_instrument: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if r["instrument_name"]:
            by_instrument[(r["kit"], r["instrument_name"])].append(i)
    for members in by_instrument.values():
        m = fps[members]
        s = m @ m.T
        layer_sims.extend(s[np.triu_indices(len(members), 1)].tolist())
    layers = np.asarray(layer_sims)
    print(
        f"velocity layers (not scored): {np.mean(layers > THR):.1%} of {layers.size} pairs of "
        f"layers of one instrument are above {THR} and would be merged\n"
    )
    return precision, recall


# --------------------------------------------------------------------------------------------
# Bundled kit, scaling
# --------------------------------------------------------------------------------------------


def bench_kit() -> None:
    voices = [synthesize_voice(v.name) for v in KIT_VOICES]
    fps = np.stack([mfcc_fingerprint(y, sr=KIT_SR) for y in voices])
    sims = fps @ fps.T
    np.fill_diagonal(sims, -1.0)
    a, b = np.unravel_index(np.argmax(sims), sims.shape)
    rep = find_duplicates(fps)
    print(
        f"bundled kit: {len(KIT_VOICES)} voices, {len(set(rep.tolist()))} kept; closest pair "
        f"{KIT_VOICES[a].name} / {KIT_VOICES[b].name} at cos {sims[a, b]:.4f}\n"
    )


def bench_scaling(sizes: list[int], seed: int) -> None:
    dim = DedupParams().dim
    print(f"scaling: find_duplicates on n random unit vectors of length {dim} (all kept)")
    header = (
        f"{'n':>8}{'kept':>8}{'time s':>9}{'peak MiB':>10}{'input MiB':>10}"
        f"{'peak/n KiB':>11}{'n x n f32 MiB':>15}"
    )
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(seed)
    for n in sizes:
        fp = rng.standard_normal((n, dim), dtype=np.float32)
        fp /= np.linalg.norm(fp, axis=1, keepdims=True)
        t0 = time.perf_counter()
        rep = find_duplicates(fp)
        elapsed = time.perf_counter() - t0
        tracemalloc.start()
        find_duplicates(fp)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        mib = 1024.0**2
        print(
            f"{n:>8}{len(np.unique(rep)):>8}{elapsed:>9.2f}{peak / mib:>10.1f}"
            f"{fp.nbytes / mib:>10.1f}{peak / n / 1024:>11.2f}{n * n * 4 / mib:>15.0f}"
        )
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--originals", type=int, default=400, help="distinct originals (400)")
    parser.add_argument("--seed", type=int, default=0, help="seed for every draw (0)")
    parser.add_argument(
        "--sizes", default="10000,100000", help="scaling sizes, comma-separated (10000,100000)"
    )
    args = parser.parse_args()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"de-duplication bench: numpy {np.__version__}, {cpus} CPUs, threshold {THR}\n")
    result = bench_real(args.originals, args.seed)
    bench_kit()
    bench_scaling([int(s) for s in args.sizes.split(",") if s], args.seed)
    if result is None:
        return 0
    precision, recall = result
    return 0 if precision >= GOAL_PRECISION and recall >= GOAL_RECALL else 1


if __name__ == "__main__":
    raise SystemExit(main())
