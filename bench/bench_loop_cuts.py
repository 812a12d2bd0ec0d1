"""Which files `core.tempo.track_loop` takes for loops: cuts of GMD beats, whole bars or not.

Usage (by hand, never by CI; set-up as for ``bench_transcriber.py``)::

    .venv-bench/bin/python bench/bench_loop_cuts.py [--split validation] [--n 40]
        [--tolerance 0.02 0.03 0.04 0.06]

Audio: ``bench_transcriber.render``: the first 30 s of ``n`` GMD beats of ``--split`` through
that split's kits (validation: csound's sf_GMbank, where `LOOP_TOLERANCE` is chosen), drums
alone and under accompaniment at 0 dB. From each, cuts starting on bar 3 (GMD files start on
a bar at ``info.csv``'s tempo): 1, 2 and 4 whole bars (loops, as a sample pack cuts them,
but played by a drummer whose tempo drifts a little from the click), and 1.3, 1.6, 2.5 and
3.4 bars (not loops). Each cut is transcribed alone, as stage 1 does, and given to
``track_loop`` with every ``--tolerance`` in turn: the whole-bar cuts it takes and whose
tempo is then within 4 % of the true one, and the other cuts it takes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _onecore  # first: one thread per pool, before numpy loads
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from bench_transcriber import GMD_DIR, SR, render

WHOLE = (1, 2, 4)
NOT_WHOLE = (1.3, 1.6, 2.5, 3.4)
FIRST_BAR = 2  # from bar 3: past any count-in


def main(argv: list[str] | None = None) -> int:
    from drumgenx.core.tempo import track_loop
    from drumgenx.training.gmd import load_performances
    from drumgenx.transcribe.detect import transcribe_audio
    from drumgenx.transcribe.model import CLASSES

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="validation", choices=["validation", "test"])
    ap.add_argument("--n", type=int, default=40, help="GMD beats (default 40)")
    ap.add_argument("--tolerance", type=float, nargs="+", default=[0.02, 0.03, 0.04, 0.06, 0.08])
    a = ap.parse_args(argv)
    if not GMD_DIR.joinpath("info.csv").is_file():
        print(f"SKIP: no GMD at {GMD_DIR}")
        return 0
    bpm_of = {p.gmd_id.replace("/", "_"): p.bpm for p in load_performances(GMD_DIR, a.split)}
    cuts = []  # (bars, true bpm, seconds, hits)
    for name, _kit, _labels, audio in render(a.n, 30.0, 0, a.split):
        bar_s = 240.0 / bpm_of[name]
        for bars in (*WHOLE, *NOT_WHOLE):
            lo, hi = round(FIRST_BAR * bar_s * SR), round((FIRST_BAR + bars) * bar_s * SR)
            for condition in ("drums", "mix0"):
                y = audio[condition][lo:hi]
                if y.size == hi - lo:
                    cuts.append((bars, bpm_of[name], y.size / SR, transcribe_audio(y, sr=SR)))
    n_whole = sum(bars in WHOLE for bars, *_ in cuts)
    print(
        f"GMD {a.split}: {n_whole} whole-bar cuts ({WHOLE} bars), {len(cuts) - n_whole} others "
        f"({NOT_WHOLE}); {_onecore.pin_one_core()}, 1 thread\n"
    )
    print("| tolerance | whole bars: taken | ...tempo right | not whole bars: taken |")
    print("|---|---|---|---|")
    for tolerance in a.tolerance:
        taken = right = wrongly = 0
        for bars, bpm, seconds, hits in cuts:
            loop = track_loop(
                hits.times,
                duration_s=seconds,
                strengths=hits.strengths,
                tolerance=tolerance,
                **dict(zip(CLASSES, hits.class_probs.T, strict=True)),
            )
            if loop is None:
                continue
            if bars in WHOLE:
                taken += 1
                right += bool(np.isclose(loop.grid.bpm, bpm, rtol=0.04))
            else:
                wrongly += 1
        n_other = max(1, len(cuts) - n_whole)
        print(
            f"| {tolerance:g} | {taken / max(1, n_whole):.1%} | **{right / max(1, n_whole):.1%}** "
            f"| {wrongly / n_other:.1%} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
