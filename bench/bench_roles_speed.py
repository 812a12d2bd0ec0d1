"""Stage-2 throughput through `drumgenx roles` itself: one-shots per second, cold and cached.

Usage (by hand, never by CI; needs the Debian kits, see bench/setup_bench_venv.sh)::

    .venv/bin/python bench/bench_roles_speed.py [--workers 1 2] [--input_dir LIBRARY]

Input: every file listed in ``labels.csv`` that is installed (1,096 real one-shots, 0.02-12 s,
8-24 bit, 22.05-48 kHz, mono and stereo), linked into a temporary folder; or, with
``--input_dir``, any folder (e.g. the library stage 1 makes of the same kits:
``drumgenx preprocess --dataset_root /usr/share/hydrogen --separator none ...``). Each run is
`roles.run.run_roles` with ``limit=0`` and CLAP absent (HF_HUB_OFFLINE=1): decoding, the 11
DSP features, the learned scorer's features, rules, learned scorer, fusion, guards, pools and
both JSON files. "cold" starts from an empty feature cache; "cached" repeats the run on the
same output folder, so every file is a cache hit. Process start-up is not counted; worker
start-up (spawn) is. One worker is one core: BLAS gets one thread here (``--workers 1`` runs
in this process), as each of N spawned workers gets ``cores // N``; set OPENBLAS_NUM_THREADS
(and OMP_/MKL_) to measure another count. On a busy 2-core machine, the in-process default
of one OpenBLAS thread per core halves the cold figure (the role scorer's mel product spins).
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # CLAP weights cannot be fetched; fail fast
from drumgenx.core.parallel import THREAD_VARIABLES  # imports no numpy

# One core per worker: one BLAS thread in this process, before numpy loads (what
# `map_in_processes` gives each of N workers on N cores). `--workers 1` runs in this process,
# which would otherwise start one OpenBLAS thread per core; set OPENBLAS_NUM_THREADS to
# measure that instead.
for _name in THREAD_VARIABLES:
    os.environ.setdefault(_name, "1")

from drumgenx.core.audio import find_audio_files
from drumgenx.roles.run import run_roles

LABELS = Path(__file__).resolve().parents[1] / "../shared/data/drum_oneshots/labels.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--root", type=Path, default=Path("/usr/share"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--input_dir", type=Path, help="a folder of one-shots instead")
    args = parser.parse_args()
    if args.input_dir is not None:
        present = find_audio_files(args.input_dir)
        paths = present
    elif not args.labels.is_file():
        print(f"SKIP: {args.labels} not found (../shared is not beside the checkout)")
        return 0
    else:
        with open(args.labels, newline="", encoding="utf-8") as handle:
            paths = [args.root / r["path_in_package"] for r in csv.DictReader(handle)]
        present = [p for p in paths if p.is_file()]
    if not present:
        print("SKIP: the Debian one-shots are not installed (see bench/setup_bench_venv.sh)")
        return 0
    seconds = 0.0
    import soundfile

    for p in present:
        seconds += soundfile.info(str(p)).duration
    print(
        f"{len(present)} one-shots ({len(paths) - len(present)} not installed), "
        f"{seconds / 60:.1f} min of audio, {os.cpu_count()} cores"
    )
    print(f"{'workers':>7s} {'run':>7s} {'files/s':>8s} {'seconds':>8s}")
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library"
        library.mkdir()
        for i, p in enumerate(present):
            (library / f"{i:05d}{p.suffix.lower()}").symlink_to(p)
        for i, workers in enumerate(args.workers):
            out_dir = Path(tmp) / f"out_{i}"
            for label in ("cold", "cached"):
                t0 = time.perf_counter()
                result = run_roles(
                    input_dir=library,
                    out_dir=out_dir,
                    limit=0,
                    workers=workers,
                    notify=lambda _msg: None,
                )
                elapsed = time.perf_counter() - t0
                n = len(result.scores) + len(result.skipped)
                print(f"{workers:7d} {label:>7s} {n / elapsed:8.0f} {elapsed:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
