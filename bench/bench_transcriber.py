"""The drum transcriber against the onset detectors a user would pick instead, on held-out
kits and accompaniment, drums alone and in mixes; then roles of the slices stage 1 cuts.

Usage (by hand, never by CI; set-up: ``bash bench/setup_bench_venv.sh``, which installs the
SoundFonts, FluidSynth, the Debian kits and the peers' venv)::

    .venv-bench/bin/python bench/bench_transcriber.py [--n 40] [--duration 30] [--seed 0]
        [--conditions drums mix-6 mix0 mix+6] [--no-madmom] [--roles] [--separation]
        [--weights FILE] [--split test|validation]

Audio (``drumgenx.training.corpus.render_item``, no augmentation): the first ``duration`` s of
``n`` Groove MIDI Dataset *test* beats (seeded choice; the test split is never trained or
tuned on) rendered sample-exactly through the *frozen test* kits (``training.kits``: the 8
kits of TimGM6mb, Debian's BJA_Pacific and TR808EmulationKit; no model saw them, no choice
was made on them), dealt round-robin; for mixes, under accompaniment composed at the beat's
tempo and rendered through TimGM6mb's melodic programs (never used in training), at a drum-to-
rest RMS ratio of -6, 0 or +6 dB. Reference onsets: every sounding note's start, merged where
one falls within 30 ms of the previous kept one (flams are one onset; madmom's
``combine=0.03``).

Detectors, same audio, same run, one thread pinned to one core: the transcriber
(``transcribe_audio``), drumgenx ``flux`` and ``learned`` on the audio as given, ``flux``
after HPSS (what stage 1 did with its defaults before the transcriber, when Demucs weights
are absent), madmom's CNN onset detector (its CLI settings) and ``librosa.onset.onset_detect``
(defaults). Scores: ``mir_eval.onset.f_measure`` at 50 and 20 ms, counts pooled over files.
Per class (transcriber only): the hits transcribed as that class against that class's notes.

``--split validation`` renders GMD *validation* beats through the held-out validation kits
(``training.kits.VALIDATION_FAMILIES``: csound's sf_GMbank, never trained on) under that
font's accompaniment instead: the set on which stage settings (the fusion weight of the hit
classes, the separator, the default onset method) are chosen. The frozen group is only ever
reported.

``--roles``: the 0 dB mixes are written as WAV files and run through ``drumgenx preprocess``
(separator ``auto`` = HPSS here) with ``--onset_method flux`` and with ``transcribe``, then
``drumgenx roles`` (all files, no CLAP). Each slice is labelled by the notes starting within
-20/+30 ms of its start (the loudest one; classes map to roles kick->CORE, snare->ACCENT,
hi-hat/ride->MOTION, tom/crash->FILL); slices with no note there are counted apart. For the
transcriber it also prints the fusion-weight sweep, the sweep of ``spare_heard_above`` (the
guards sparing the role the transcriber heard; above 1 they never do: the baseline), the
share of slices whose notes span several roles, and a candidate mapping (class
probabilities relative to their thresholds).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import _onecore  # first: one thread per pool, before numpy loads
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))  # the bench venv need not install drumgenx

from bench_onsets import build_detectors as peer_detectors

from drumgenx.core.roles import CLASS_ROLES
from drumgenx.training.transcriber import merge_onsets as merge
from drumgenx.transcribe.model import CLASSES

SR = 44100
WINDOWS = (0.05, 0.02)
GMD_DIR = (HERE.parent.parent / "shared" / "data" / "gmd").resolve()
CACHE_DIR = HERE.parent / ".bench-cache" / "oneshots"
CONDITIONS = {"drums": None, "mix-6": -6.0, "mix0": 0.0, "mix+6": 6.0}
GOAL = {"drums": (0.97, 0.93), "mix0": (0.90, 0.85)}
ADTOF_MDB_F = 0.887  # ADTOF (Zehren et al. 2023), MDB-Drums, 5 classes: other data


def render(n: int, duration: float, seed: int, split: str = "test"):
    """``[(name, kit_id, labels, {condition: audio})]`` for ``n`` GMD beats of ``split``.

    ``test``: the frozen kits under TimGM6mb accompaniment (the report). ``validation``: the
    held-out validation kits under their own font's accompaniment (sf_GMbank; where settings
    are chosen, on kits the network never trained on).
    """
    from drumgenx.training import kits as kitlib
    from drumgenx.training.corpus import SilentExcerpt, render_item
    from drumgenx.training.gmd import load_performances

    perfs = [p for p in load_performances(GMD_DIR, split) if p.beat_type == "beat"]
    order = np.random.default_rng(seed).permutation(len(perfs))
    from drumgenx.training.accompaniment import GROUP_FONTS

    group = "frozen" if split == "test" else "validation"
    kits = kitlib.kits_of_group(group)
    font = GROUP_FONTS[group][0]
    out = []
    for i in order:
        if len(out) == n:
            break
        perf, kit = perfs[i], kits[len(out) % len(kits)]
        audio, labels = {}, None
        try:
            for cond, ratio in CONDITIONS.items():
                item = render_item(
                    perf,
                    kit=kit,
                    accompaniment_font=None if ratio is None else font,
                    start_s=0.0,
                    duration_s=min(duration, perf.duration_s),
                    drum_to_rest_db=ratio,
                    seed=seed * 100_003 + int(i),
                    cache_dir=CACHE_DIR,
                    augment=False,
                )
                audio[cond] = item.mix
                if cond == "mix0":  # the isolated drums at the level they have in the mix
                    audio["drums_of_mix0"] = item.drums
                labels = item.labels
        except SilentExcerpt:
            continue
        out.append((perf.gmd_id.replace("/", "_"), kit.kit_id, labels, audio))
    return out


def build_detectors(use_madmom: bool, weights: str | None):
    from drumgenx.preprocess.onsets import OnsetParams, detect_onsets
    from drumgenx.preprocess.separation import SeparationParams, make_separator
    from drumgenx.transcribe.detect import transcribe_audio
    from drumgenx.transcribe.model import load_model

    model = load_model(weights)
    notes = [f"transcriber: {weights or 'shipped weights'}, {model.n_params} parameters"]
    hpss = make_separator(SeparationParams(method="hpss"))
    flux, learned = OnsetParams(), OnsetParams(method="learned")
    dets = {
        "drumgenx transcriber": lambda y: transcribe_audio(y, sr=SR, model=model),
        "drumgenx flux": lambda y: detect_onsets(y, sr=SR, params=flux).times,
        "drumgenx learned": lambda y: detect_onsets(y, sr=SR, params=learned).times,
        "drumgenx flux after HPSS": lambda y: (
            detect_onsets(hpss(y[:, None], SR)[0][:, 0], sr=SR, params=flux).times
        ),
    }
    # the peers exactly as bench_onsets.py runs them (madmom CNN with its CLI settings)
    peers, peer_notes = peer_detectors(use_madmom)
    dets |= {name: peers[name] for name in ("librosa onset_detect", "madmom CNN") if name in peers}
    notes += peer_notes
    return dets, notes


def f_counts(ref: np.ndarray, est: np.ndarray, window: float) -> tuple[int, int, int]:
    import mir_eval

    if len(ref) == 0 or len(est) == 0:
        return 0, len(est), len(ref)
    return len(mir_eval.util.match_events(ref, np.sort(est), window)), len(est), len(ref)


def prf(counts) -> tuple[float, float, float]:
    tp, ne, nr = counts
    p, r = (tp / ne if ne else 0.0), (tp / nr if nr else 0.0)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def onset_table(data, cond: str, dets) -> dict[str, dict]:
    results = {}
    for name, det in dets.items():
        det(data[0][3][cond][: SR * 3])  # warm-up: numba, model loading
        counts = {w: np.zeros(3, dtype=np.int64) for w in WINDOWS}
        per_class = {c: np.zeros(3, dtype=np.int64) for c in CLASSES}
        seconds = audio_s = 0.0
        for _, _, labels, audio in data:
            y = audio[cond]
            t0 = time.perf_counter()
            out = det(y)
            seconds += time.perf_counter() - t0
            audio_s += len(y) / SR
            times = out.times if hasattr(out, "times") else np.asarray(out, dtype=float)
            ref = merge(np.array([lab.time_s for lab in labels]))
            for w in WINDOWS:
                counts[w] += f_counts(ref, times, w)
            if hasattr(out, "classes"):
                for c, cname in enumerate(CLASSES):
                    ref_c = merge(np.array([lab.time_s for lab in labels if lab.drum_class == c]))
                    per_class[cname] += f_counts(ref_c, out.times[out.classes[:, c]], 0.05)
        results[name] = {
            "f": {w: prf(counts[w]) for w in WINDOWS},
            "rtf": audio_s / seconds,
            "per_class": {c: prf(v) for c, v in per_class.items()}
            if hasattr(out, "classes")
            else None,
        }
    return results


def print_onsets(cond: str, data, results) -> None:
    n_ref = sum(len(merge(np.array([lab.time_s for lab in labels]))) for _, _, labels, _ in data)
    audio_s = sum(len(a[cond]) for *_, a in data) / SR
    print(f"\n## {cond}: {audio_s:.0f} s of audio, {n_ref} reference onsets\n")
    print("| detector | P@50 | R@50 | F1@50 | P@20 | R@20 | F1@20 | speed (x real time, 1 core) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        (p5, r5, f5), (p2, r2, f2) = r["f"][0.05], r["f"][0.02]
        print(
            f"| {name} | {p5:.3f} | {r5:.3f} | **{f5:.3f}** | {p2:.3f} | {r2:.3f} "
            f"| **{f2:.3f}** | {r['rtf']:.0f}x |"
        )
    for r in results.values():
        if r["per_class"]:
            cells = " | ".join(f"{r['per_class'][c][2]:.3f}" for c in CLASSES)
            header = " | ".join(CLASSES)
            print(f"\nTranscriber per class, F1@50: | {header} |\n|{'---|' * 5}\n| {cells} |")
            mean = np.mean([r["per_class"][c][2] for c in CLASSES])
            print(
                f"(mean {mean:.3f}; ADTOF's published F {ADTOF_MDB_F} is on MDB-Drums, other data)"
            )


FUSION_SWEEP = (0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0)
SPARE_SWEEP = (0.0, 0.5, 0.7, 0.8, 0.9, 2.0)


def role_accuracy(
    labelled, config, *, hits_weight: float, p_hits=None, spare_above: float | None = None
) -> str:
    """Share of ``labelled`` slices ``(score, true_role, _)`` whose role as stage 2 fuses and
    guards it (`roles.run.guarded_fusion`) is the true one, the hit classes at
    ``hits_weight``; ``p_hits`` (sample id -> role distribution) replaces a slice's own
    where it has an entry; ``spare_above`` replaces the config's ``fusion.spare_heard_above``."""
    from dataclasses import replace

    from drumgenx.core.roles import ROLES
    from drumgenx.roles.run import guarded_fusion

    fusion = replace(config.fusion, transcriber_weight=hits_weight)
    if spare_above is not None:
        fusion = replace(fusion, spare_heard_above=spare_above)
    config = replace(config, fusion=fusion)
    right = 0
    for score, true_role, _ in labelled:
        stem = Path(score.filepath).stem
        if p_hits and stem in p_hits:
            score = replace(score, p_hits=p_hits[stem])
        p, _, _ = guarded_fusion(score, config)
        right += ROLES[int(np.argmax(p))] == true_role
    return f"{right / max(1, len(labelled)):.1%}"


def roles_check(data, weights: str | None) -> None:
    import soundfile as sf

    from drumgenx.core.formats import read_json
    from drumgenx.core.roles import ROLES as roles
    from drumgenx.preprocess.config import PreprocessConfig, with_overrides
    from drumgenx.preprocess.run import run_preprocess
    from drumgenx.roles.rules import load_role_config
    from drumgenx.roles.run import run_roles

    with tempfile.TemporaryDirectory(prefix="bench-roles-") as tmp:
        tmp = Path(tmp)
        (tmp / "songs").mkdir()
        truth = {}
        for name, _, labels, audio in data:
            sf.write(tmp / "songs" / f"{name}.wav", audio["mix0"], SR, subtype="PCM_16")
            truth[f"{name}.wav"] = labels
        print("\n## Roles of slices cut from the 0 dB mixes (stage 1 -> stage 2, HPSS, no CLAP)\n")
        for method in ("flux", "transcribe"):
            config = with_overrides(PreprocessConfig(), onset_method=method)
            if method == "transcribe" and weights:
                from dataclasses import replace

                config = replace(config, onsets=replace(config.onsets, transcriber_weights=weights))
            lib = tmp / f"lib_{method}"
            run_preprocess(
                dataset_root=tmp / "songs", output_root=lib, config=config, notify=lambda m: None
            )
            result = run_roles(
                input_dir=lib, out_dir=tmp / f"roles_{method}", limit=0, notify=lambda m: None
            )
            manifest = read_json(sorted(lib.glob("manifest_*.json"))[-1], "manifest")
            start_of = {
                s["sample_id"]: (Path(s["source"]).name, s["start_s"]) for s in manifest["samples"]
            }
            confusion = np.zeros((5, 5), dtype=np.int64)
            unlabelled = 0
            labelled = []
            for score in result.scores:
                src, start = start_of[Path(score.filepath).stem]
                near = [lab for lab in truth[src] if -0.02 <= lab.time_s - start <= 0.03]
                if not near:
                    unlabelled += 1
                    continue
                true_role = CLASS_ROLES[CLASSES[max(near, key=lambda lab: lab.velocity).drum_class]]
                confusion[roles.index(true_role), roles.index(score.role)] += 1
                present = {CLASS_ROLES[CLASSES[lab.drum_class]] for lab in near}
                labelled.append((score, true_role, present))
            if method == "transcribe":  # what the fusion weight of the hit classes does
                config = load_role_config(None)
                sweep = [
                    f"{w:g}: {role_accuracy(labelled, config, hits_weight=w)}" for w in FUSION_SWEEP
                ]
                print("transcriber_weight sweep (accuracy): " + ", ".join(sweep) + "\n")
                weight = config.fusion.transcriber_weight
                spares = [
                    f"{a:g}: {role_accuracy(labelled, config, hits_weight=weight, spare_above=a)}"
                    for a in SPARE_SWEEP
                ]
                print(
                    "spare_heard_above sweep (accuracy; above 1: every guard applies): "
                    + ", ".join(spares)
                    + "\n"
                )
                # A candidate for the next choice: each class probability taken relative to
                # that class's peak-picking threshold (p / 2 thr: the threshold maps to 0.5),
                # so classes whose probabilities run high do not win by calibration alone.
                from drumgenx.roles.fusion import class_probs_to_roles
                from drumgenx.transcribe.model import load_model

                thr = dict(zip(CLASSES, load_model(weights).thresholds, strict=False))
                relative = {}
                for s in manifest["samples"]:
                    if s.get("class_probs"):
                        rel = {
                            c: min(1.0, v / (2 * thr[c]))
                            for c, v in s["class_probs"].items()
                            if c in thr
                        }
                        relative[s["sample_id"]] = class_probs_to_roles(rel)
                print(
                    f"class probabilities relative to their thresholds, weight {weight:g}: "
                    f"{role_accuracy(labelled, config, hits_weight=weight, p_hits=relative)}\n"
                )
            acc = np.trace(confusion) / max(1, confusion.sum())
            print(
                f"**{method}**: {confusion.sum()} slices labelled, {unlabelled} with no note "
                f"within -20/+30 ms; accuracy **{acc:.1%}**\n"
            )
            # Slices where notes of several roles start together (a kick under a hat) have no
            # single right answer; the figure above takes the loudest note's role.
            single = [(sc, t) for sc, t, present in labelled if len(present) == 1]
            right_single = sum(sc.role == t for sc, t in single)
            right_any = sum(sc.role in present for sc, _, present in labelled)
            print(
                f"- {len(labelled) - len(single)} of {len(labelled)} labelled slices start "
                f"notes of two or more roles; accuracy on the {len(single)} others "
                f"{right_single / max(1, len(single)):.1%}; counting a slice right when its "
                f"role is any of its notes' roles {right_any / max(1, len(labelled)):.1%}\n"
            )
            print("| true \\ given | " + " | ".join(roles) + " |\n|---|" + "---|" * 5)
            for i, r in enumerate(roles[:4]):
                print(f"| {r} | " + " | ".join(str(v) for v in confusion[i]) + " |")
            print()


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant SDR (dB) of ``estimate`` against ``reference`` (Le Roux et al. 2019)."""
    ref = reference.astype(np.float64) - reference.mean()
    est = estimate.astype(np.float64) - estimate.mean()
    target = (est @ ref) / max(ref @ ref, 1e-12) * ref
    noise = est - target
    return float(10 * np.log10(max(target @ target, 1e-12) / max(noise @ noise, 1e-12)))


def separation_check(data, weights: str | None, slice_s: float = 0.25) -> None:
    """Drum SI-SDR of slices cut at the transcriber's hits, per separator, on the 0 dB mixes.

    Each hit's slice (``slice_s`` from its backtracked start, or up to the next hit) is cut
    from the separator's output and from the isolated drum render of the same item (the
    reference); the table gives the median over slices.
    """
    from drumgenx.preprocess.separation import SeparationParams, make_separator
    from drumgenx.transcribe.detect import transcribe_audio
    from drumgenx.transcribe.model import load_model

    model = load_model(weights)
    hpss = make_separator(SeparationParams(method="hpss"))
    separators = {"none": lambda y: y, "hpss": lambda y: hpss(y[:, None], SR)[0][:, 0]}
    scores: dict[str, list[float]] = {name: [] for name in separators}
    for _, _, _, audio in data:
        mix, drums = audio["mix0"], audio["drums_of_mix0"]
        hits = transcribe_audio(mix, sr=SR, model=model).times
        bounds = [
            (int(t * SR), int(min(t + slice_s, nxt) * SR))
            for t, nxt in zip(hits, [*hits[1:], 1e9], strict=True)
        ]
        for name, separate in separators.items():
            stem = separate(mix)
            scores[name] += [si_sdr(drums[a:b], stem[a:b]) for a, b in bounds if b - a > 441]
    print("\n## Separation before slicing, 0 dB mixes: drum SI-SDR of the slices (dB)\n")
    print("| separator | median | 25th pct | 75th pct | slices |\n|---|---|---|---|---|")
    for name, v in scores.items():
        q = np.percentile(v, [50, 25, 75])
        print(f"| {name} | {q[0]:.1f} | {q[1]:.1f} | {q[2]:.1f} | {len(v)} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="test", choices=["test", "validation"])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    ap.add_argument("--no-madmom", action="store_true")
    ap.add_argument(
        "--roles", action="store_true", help="also run stages 1 and 2 on the 0 dB mixes"
    )
    ap.add_argument("--separation", action="store_true", help="also score separators (0 dB)")
    ap.add_argument("--weights", help="transcriber weights (default: the shipped ones)")
    args = ap.parse_args(argv)
    if not (GMD_DIR / "info.csv").is_file():
        print(f"SKIP: GMD not found at {GMD_DIR}")
        return 0
    warnings.filterwarnings("ignore")
    t0 = time.time()
    data = render(args.n, args.duration, args.seed, args.split)
    kits = sorted({k for _, k, _, _ in data})
    print(
        f"GMD {args.split} beats: {len(data)} (seed {args.seed}), first {args.duration:g} s "
        f"each; kits: {', '.join(kits)}; rendered in {time.time() - t0:.0f} s"
    )
    pinned = _onecore.pin_one_core()
    dets, notes = build_detectors(not args.no_madmom, args.weights)
    print(f"{pinned}, 1 thread; " + "; ".join(notes))
    for cond in args.conditions:
        print_onsets(cond, data, onset_table(data, cond, dets))
    for cond, (g50, g20) in GOAL.items():
        print(
            f"\nGoal ({cond}): F1 >= {g50} @50 ms and >= {g20} @20 ms, ahead of madmom and librosa"
        )
    if args.roles:
        roles_check(data, args.weights)
    if args.separation:
        separation_check(data, args.weights)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
