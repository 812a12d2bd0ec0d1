"""Tempo from audio (issue #13): drumgenx's beat tracker beside librosa's, on Groove MIDI
Dataset test beats rendered through the frozen kits and on the Debian drum loops.

Usage (by hand, never by CI; set-up: ``bash bench/setup_bench_venv.sh``, as for
``bench_transcriber.py``; the table and the command are in ``bench/TEMPO.md``)::

    .venv-bench/bin/python bench/bench_tempo.py [--n 40] [--duration 30] [--seed 0]
        [--split test|validation] [--no-loops] [--madmom]

GMD audio: ``bench_transcriber.render`` (imported, not copied): the first ``duration`` s of
``n`` GMD *test* beats (seeded choice) rendered through the *frozen* kits, drums alone and
under TimGM6mb accompaniment at 0 dB drum-to-rest RMS. True tempo: ``info.csv``'s ``bpm``
(the drummer's click). ``--split validation``: validation beats through the validation kits
(sf_GMbank), the set the tracker's settings were tuned on (``core/tempo.py`` says which).

Loops: the drum loops of ``shared/data/drum_oneshots/drum_loops.csv`` (Debian's lmms-common
and sonic-pi-samples, read from ``/usr/share``), each repeated end to end to at least
`LOOP_MIN_S` seconds (a loop is made to be looped; the shortest are under a second). True
tempo: the loop's beats (`LOOP_BEATS`, 4/4) over its decoded length. How many beats a loop
holds was read off its length and its kick/snare layout (snare on 2 and 4; the CSV's own
bar counts for the two Amen loops); the octave of a few (jungle01, break01, the rave loops)
is a judgement, which Acc2 forgives. The two loops that are not drums (3D printer, drone)
have no true tempo: the table reports whether each method's tracker calls them steady.

Methods, same audio, same run, one thread pinned to one core:

- ``drumgenx track_beats``: hits from ``transcribe_audio`` (strengths, kick and snare
  probabilities) -> ``core.tempo.track_beats`` (the new tracker).
- ``drumgenx estimate_tempo``: the same hits -> ``core.tempo.estimate_tempo`` (the
  transcriber's tempo before this issue).
- ``drumgenx flux + track_beats``: stage 1's ``flux`` onsets (``detect_onsets`` defaults,
  their strengths; no classes) -> ``track_beats``.
- ``librosa beat_track`` and ``librosa feature.tempo``: librosa's defaults on the same audio.
- ``madmom RNN + comb`` (``--madmom``): ``RNNBeatProcessor`` -> ``TempoEstimationProcessor``
  (comb, its defaults), the strongest tempo.
- Then, on the loops, ``drumgenx track_loop``: each loop file transcribed as it is (played
  once, as stage 1 reads it) -> ``core.tempo.track_loop`` (what ``drumgenx run`` does with
  a loop file): how many it takes for loops, and their tempo (the exact one of their bars).

Scores (Gouyon et al. 2006; mir_eval's convention): Acc1, the share of items whose estimate
is within 4 % of the true tempo; Acc2, the same allowing the estimate to be 2, 1/2, 3 or 1/3
times it (octave errors). No estimate counts as wrong. "s/min": seconds of computing per
minute of audio, detection included. Goal (issue #13): Acc1 >= 95 % on the GMD renders.
"""

from __future__ import annotations

import argparse
import csv
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

from bench_transcriber import GMD_DIR, SR, render

LOOPS_CSV = (HERE.parent.parent / "shared" / "data" / "drum_oneshots" / "drum_loops.csv").resolve()
LOOPS_ROOT = Path("/usr/share")
LOOP_MIN_S = 16.0
TOLERANCE = 0.04
OCTAVES = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)
GOAL_ACC1 = 0.95
LOOP_BEATS = {
    "909beat01.ogg": 8,  # 2 bars: kick 1 and 3, snare 2 and 4, hats on 8ths
    "break01.ogg": 4,
    "break02.ogg": 4,
    "break03.ogg": 4,
    "electro_beat01.ogg": 8,
    "electro_beat02.ogg": 4,
    "house_loop01.ogg": 4,
    "jungle01.ogg": 4,  # snare on 2 and 4 at 86 bpm (jungle's 173 reads double)
    "rave_hihat01.ogg": 8,  # the four rave layers: 2 bars, the kick on every beat at 180
    "rave_hihat02.ogg": 8,
    "rave_kick01.ogg": 8,
    "rave_kick02.ogg": 8,
    "rave_snare01.ogg": 8,
    "loop_amen.flac": 4,  # the CSV: 1 bar
    "loop_amen_full.flac": 16,  # the CSV: 4 bars
    "loop_breakbeat.flac": 4,
    "loop_compus.flac": 16,
    "loop_electric.flac": 4,
    "loop_garzul.flac": 16,
    "loop_industrial.flac": 2,  # half a bar: kick on 1, snare on 2 at 136
    "loop_mehackit1.flac": 4,
    "loop_mehackit2.flac": 4,
    "loop_mika.flac": 16,
    "loop_perc1.flac": 4,
    "loop_perc2.flac": 4,
    "loop_safari.flac": 16,
    "loop_tabla.flac": 16,
    "loop_weirdo.flac": 8,
}
NOT_DRUMS = ("loop_3d_printer.flac", "loop_drone_g_97.flac")
LOOP_ONCE: dict[str, np.ndarray] = {}  # file name -> its audio played once, by loop_items

Estimate = tuple[float | None, bool | None]  # tempo, and "steady" where the method says


def gmd_items(n: int, duration: float, seed: int, split: str) -> list[tuple[str, float, dict]]:
    """``[(name, true bpm, {"drums": audio, "mix0": audio})]`` from ``bench_transcriber``."""
    from drumgenx.training.gmd import load_performances

    bpm_of = {p.gmd_id.replace("/", "_"): p.bpm for p in load_performances(GMD_DIR, split)}
    return [
        (name, float(bpm_of[name]), {c: audio[c] for c in ("drums", "mix0")})
        for name, _, _, audio in render(n, duration, seed, split)
    ]


def loop_items() -> tuple[list[tuple[str, float, np.ndarray]], list[tuple[str, np.ndarray]]]:
    """The drum loops (name, true bpm, audio repeated to `LOOP_MIN_S`) and the non-drum ones
    (name, audio repeated); each file's audio played once goes to `LOOP_ONCE`."""
    from drumgenx.core.audio import downmix, read_audio, resample

    drums, others = [], []
    with LOOPS_CSV.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        path = LOOPS_ROOT / row["path_in_package"]
        name = path.name
        if name not in LOOP_BEATS and name not in NOT_DRUMS:
            raise SystemExit(f"{name}: a loop of drum_loops.csv the bench has no tempo for")
        y, sr = read_audio(path)
        y = LOOP_ONCE[name] = downmix(resample(y, sr, SR))
        looped = np.tile(y, int(np.ceil(LOOP_MIN_S * SR / y.size)))
        if name in NOT_DRUMS:
            others.append((name, looped))
        else:
            drums.append((name, 60.0 * LOOP_BEATS[name] * SR / y.size, looped))
    return drums, others


def loop_file_row(loops, others) -> str:
    """``core.tempo.track_loop`` on each loop file's own hits, played once: how many it
    takes for loops, their Acc1 / Acc2 (the exact tempo of the bars it found), and the
    non-drum loops' calls."""
    from drumgenx.core.tempo import track_loop
    from drumgenx.transcribe.detect import transcribe_audio
    from drumgenx.transcribe.model import CLASSES

    def found(name: str):
        y = LOOP_ONCE[name]
        hits = transcribe_audio(y, sr=SR)
        probs = dict(zip(CLASSES, hits.class_probs.T, strict=True))
        return track_loop(hits.times, duration_s=y.size / SR, strengths=hits.strengths, **probs)

    acc1 = acc2 = taken = 0
    misses = []
    for name, true, _ in loops:
        loop = found(name)
        taken += loop is not None
        est = None if loop is None else loop.grid.bpm
        acc1 += correct(est, true, OCTAVES[:1])
        acc2 += correct(est, true, OCTAVES)
        if not correct(est, true, OCTAVES[:1]):
            misses.append(f"{name} {true:.1f} -> {'not a loop' if est is None else f'{est:.1f}'}")
    n = max(1, len(loops))
    calls = ", ".join(
        f"{name}: {'a loop' if found(name) is not None else 'not a loop'}" for name, _ in others
    )
    return (
        f"- drumgenx track_loop on each loop file played once (`drumgenx run --pattern auto`'s "
        f"path): taken for a loop {taken} of {len(loops)}, Acc1 **{acc1 / n:.1%}** / Acc2 "
        f"{acc2 / n:.1%}; misses: {', '.join(misses) or 'none'}; not drums: {calls or 'none'}"
    )


def build_methods(use_madmom: bool) -> dict[str, Callable[[np.ndarray], Estimate]]:
    """Each method: mono audio at `SR` -> (bpm or None, steady or None)."""
    import librosa

    from drumgenx.core.tempo import estimate_tempo, track_beats
    from drumgenx.preprocess.onsets import OnsetParams, detect_onsets
    from drumgenx.transcribe.detect import transcribe_audio
    from drumgenx.transcribe.model import CLASSES, load_model

    model = load_model(None)
    kick, snare = CLASSES.index("kick"), CLASSES.index("snare")

    def ours(y: np.ndarray) -> Estimate:
        hits = transcribe_audio(y, sr=SR, model=model)
        grid = track_beats(
            hits.times,
            strengths=hits.strengths,
            kick=hits.class_probs[:, kick],
            snare=hits.class_probs[:, snare],
        )
        return (grid.bpm, grid.steady) if grid else (None, False)

    def before(y: np.ndarray) -> Estimate:
        hits = transcribe_audio(y, sr=SR, model=model)
        return estimate_tempo(hits.times, strengths=hits.strengths), None

    def flux(y: np.ndarray) -> Estimate:
        onsets = detect_onsets(y, sr=SR, params=OnsetParams())
        grid = track_beats(onsets.times, strengths=onsets.strengths)
        return (grid.bpm, grid.steady) if grid else (None, False)

    def beat_track(y: np.ndarray) -> Estimate:
        tempo, _ = librosa.beat.beat_track(y=y, sr=SR)
        return float(np.atleast_1d(tempo)[0]), None

    def feature_tempo(y: np.ndarray) -> Estimate:
        return float(librosa.feature.tempo(y=y, sr=SR)[0]), None

    methods = {
        "drumgenx track_beats": ours,
        "drumgenx estimate_tempo": before,
        "drumgenx flux + track_beats": flux,
        "librosa beat_track": beat_track,
        "librosa feature.tempo": feature_tempo,
    }
    if use_madmom:
        from bench_onsets import import_madmom

        madmom, why = import_madmom()
        if madmom is None:
            print(f"madmom skipped: {why}")
        else:
            from madmom.features.beats import RNNBeatProcessor
            from madmom.features.tempo import TempoEstimationProcessor

            rnn, comb = RNNBeatProcessor(), TempoEstimationProcessor(fps=100)

            def madmom_tempo(y: np.ndarray) -> Estimate:
                tempi = comb(rnn(y.astype(np.float32)))
                return (float(tempi[0][0]) if len(tempi) else None), None

            methods["madmom RNN + comb"] = madmom_tempo
    return methods


def correct(est: float | None, true: float, octaves: tuple[float, ...]) -> bool:
    """Whether ``est`` is within `TOLERANCE` of ``true`` times one of ``octaves``."""
    return est is not None and any(abs(est / (true * m) - 1.0) <= TOLERANCE for m in octaves)


def score(method: Callable[[np.ndarray], Estimate], items) -> dict:
    """Acc1, Acc2, misses, steady share and speed of one method over ``(name, bpm, y)``."""
    acc1 = acc2 = steady = 0
    misses = []
    seconds = audio_s = 0.0
    for name, true, y in items:
        t0 = time.perf_counter()
        est, is_steady = method(y)
        seconds += time.perf_counter() - t0
        audio_s += y.size / SR
        acc1 += correct(est, true, OCTAVES[:1])
        acc2 += correct(est, true, OCTAVES)
        steady += bool(is_steady)
        if not correct(est, true, OCTAVES[:1]):
            misses.append(f"{name} {true:.1f} -> {'none' if est is None else f'{est:.1f}'}")
    n = max(1, len(items))
    return {
        "acc1": acc1 / n,
        "acc2": acc2 / n,
        "steady": steady / n,
        "misses": misses,
        "s_per_min": 60.0 * seconds / max(audio_s, 1e-9),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=40, help="GMD beats (default 40)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of each beat")
    ap.add_argument("--seed", type=int, default=0, help="which beats (default 0)")
    ap.add_argument("--split", default="test", choices=["test", "validation"], help="GMD split")
    ap.add_argument("--no-loops", action="store_true", help="skip the Debian drum loops")
    ap.add_argument("--madmom", action="store_true", help="add madmom's RNN tempo (slow)")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    if not GMD_DIR.joinpath("info.csv").is_file():
        print(f"SKIP: no GMD at {GMD_DIR}")
        return 0
    started = time.time()
    gmd = gmd_items(args.n, args.duration, args.seed, args.split)
    sets = {
        f"GMD {args.split}, drums": [(nm, bpm, a["drums"]) for nm, bpm, a in gmd],
        f"GMD {args.split}, mix 0 dB": [(nm, bpm, a["mix0"]) for nm, bpm, a in gmd],
    }
    others = []
    if not args.no_loops and LOOPS_CSV.is_file() and LOOPS_ROOT.joinpath("sonic-pi").is_dir():
        loops, others = loop_items()
        sets["Debian drum loops"] = loops
    print(
        f"GMD {args.split} beats: {len(gmd)} (seed {args.seed}), first {args.duration:g} s; "
        f"{len(sets.get('Debian drum loops', []))} drum loops repeated to >= {LOOP_MIN_S:g} s; "
        f"prepared in {time.time() - started:.0f} s; {_onecore.pin_one_core()}, 1 thread"
    )
    methods = build_methods(args.madmom)
    for method in methods.values():
        method(next(iter(sets.values()))[0][2][: SR * 3])  # warm-up: numba, model loading
    results = {
        name: {s: score(m, items) for s, items in sets.items()} for name, m in methods.items()
    }
    header = " | ".join(f"{s} ({len(items)}): Acc1 / Acc2" for s, items in sets.items())
    print(f"\n| method | {header} | s/min |")
    print("|---|" + "---|" * len(sets) + "---|")
    for name, per_set in results.items():
        cells = " | ".join(f"**{r['acc1']:.1%}** / {r['acc2']:.1%}" for r in per_set.values())
        speed = np.mean([r["s_per_min"] for r in per_set.values()])
        print(f"| {name} | {cells} | {speed:.2f} |")
    ours = results["drumgenx track_beats"]
    print()
    for s, r in ours.items():
        print(
            f"- drumgenx track_beats, {s}: steady {r['steady']:.0%}; Acc1 misses: "
            + (", ".join(r["misses"]) or "none")
        )
    if others:
        track = {k: methods[k] for k in ("drumgenx track_beats", "drumgenx flux + track_beats")}
        calls = [
            f"{name}: {k.removeprefix('drumgenx ')} {'steady' if track[k](y)[1] else 'not steady'}"
            for name, y in others
            for k in track
        ]
        print("- not drums: " + "; ".join(calls))
    if "Debian drum loops" in sets:
        print(loop_file_row(sets["Debian drum loops"], others))
    gmd_acc1 = [r["acc1"] for s, r in ours.items() if s.startswith("GMD")]
    verdict = "met" if min(gmd_acc1) >= GOAL_ACC1 else "not met"
    print(
        f"\nGoal: Acc1 >= {GOAL_ACC1:.0%} on the GMD renders: {verdict} "
        f"({', '.join(f'{a:.1%}' for a in gmd_acc1)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
