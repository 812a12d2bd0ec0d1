"""How well the beat tracker keeps to the beat on the transcriber corpus's GMD excerpts.

Usage (by hand; the corpus and its transcriptions as ``drumgenx train downbeats`` makes and
caches them)::

    .venv/bin/python bench/score_beats_corpus.py CORPUS/train [--tightness 100 300 500]

For each ``--tightness`` of `core.tempo.track_beats`, over the 4/4 beat excerpts whose tracked
tempo is within 4 % of the file's (GMD files start on a beat, at ``info.csv``'s tempo): the
share whose median beat lies within an eighth of a beat of the file's beats ("on the beat"),
the mean share of beats within a tenth of a beat, and the shares of excerpts with 90 % and
with all of their beats that close. The tempo does not depend on the tightness.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from drumgenx.core.tempo import DOWNBEAT_CLASSES, DOWNBEAT_FEATURES, TIGHTNESS, track_beats
from drumgenx.training.downbeats import ON_BEAT, TEMPO_TOLERANCE, transcribed
from drumgenx.training.settings import default_cache_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("split_dir", type=Path, help="a corpus split folder (manifest.csv)")
    ap.add_argument("--tightness", type=float, nargs="+", default=[TIGHTNESS])
    ap.add_argument("--cache", type=Path, help="default: the downbeat trainer's cache")
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args(argv)
    cache = a.cache or default_cache_dir() / "downbeats" / f"{a.split_dir.name}.npz"
    items = transcribed(a.split_dir, cache, workers=a.workers)
    flat = np.zeros(len(DOWNBEAT_FEATURES))  # the beats do not depend on the downbeat model
    print(f"{a.split_dir}: {len(items)} excerpts in 4/4")
    columns = ("right tempo", "on the beat", "beats within 0.1 beat", ">= 90 % of them", "all")
    print("\n| tightness | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for tightness in a.tightness:
        shares, on_beat = [], 0
        for row, (times, strengths, probs) in items:
            grid = track_beats(
                times,
                strengths=strengths,
                **dict(zip(DOWNBEAT_CLASSES, probs.T, strict=True)),
                tightness=tightness,
                downbeat_weights=flat,
            )
            bpm = float(row["bpm"])
            if grid is None or abs(grid.bpm / bpm - 1.0) > TEMPO_TOLERANCE:
                continue
            position = (grid.beats + float(row["start_s"])) / (60.0 / bpm)
            off = np.abs(position - np.round(position))
            on_beat += np.median(off) <= ON_BEAT
            shares.append(np.mean(off <= 0.1))
        s = np.asarray(shares)
        n = max(1, s.size)
        print(
            f"| {tightness:g} | {s.size} | {on_beat / n:.1%} | {s.mean():.3f} | "
            f"{np.mean(s >= 0.9):.1%} | {np.mean(s >= 0.999):.1%} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
