"""``--pattern source`` against the performance it was heard in (issue #13, "Measured:
Pattern" and "Measured: Feel"), beside the loops a user would pick instead (``seed``,
``style``), on Groove MIDI Dataset test beats rendered through the frozen kits.

Usage (by hand, never by CI; set-up: ``bash bench/setup_bench_venv.sh``, as for
``bench_transcriber.py``; the tables and the command are in ``bench/PATTERN.md``)::

    .venv-bench/bin/python bench/bench_pattern.py [--n 24] [--duration 30] [--seed 0]
        [--conditions drums mix0] [--keep DIR [--reuse]]
    .venv/bin/python bench/bench_pattern.py --groove ...   # stage 4 too (needs torch)

Audio: ``bench_transcriber.render`` (imported, not copied): the first ``duration`` s of ``n``
GMD *test* beats (seeded choice) through the *frozen* kits, drums alone and under TimGM6mb
accompaniment at 0 dB drum-to-rest RMS. Nothing here was tuned on them.

Pipeline: each render is written as a WAV file in a folder of its own and run through
stages 1-3 exactly as ``drumgenx run INPUT --pattern source`` runs them (`chain.run`:
``run_preprocess`` with ``ChainParams().preprocess_config()``, ``run_roles``, then
``run_skeleton`` with ``ChainParams(pattern=...).skeleton_params()``, ``bpm`` auto, 8 bars,
seed 42; the stage functions, since stage 4 needs torch, which the bench venv does not
install). The pattern scored is the skeleton's event grid, stage 3's output; with
``--groove`` (the project's venv, which has torch) each loop is scored again after stage 4
as ``drumgenx run`` makes it (its defaults: the humanizer at feel 0, a pattern's played hits
kept as played). CLAP does not load (offline, not installed): stage 2 fuses its rules, its
learned scorer and the transcriber's classes. The same stage-2 pools then give the peers'
loops: ``--pattern seed`` (the seed's rules) and ``--pattern style`` (a GMD train drummer's
pattern, the style whose tempo range holds the loop's tempo).

Reference: the render's sounding notes (``render_item``'s labels) on the TRUE grid: 16 steps
a bar at ``info.csv``'s bpm, bar 0 at 0 s (a GMD file starts on its first downbeat), each
note on its nearest step, its offset from the step in ms; roles from GrooVAE's classes
(`groove.representation.PITCH_TO_CLASS` -> `groove.convert.CLASS_ROLE`, as the style
library reads GMD; the few pitches outside it by `training.gmd`'s class ->
`core.roles.CLASS_ROLES`); of several notes of one role on one cell, the loudest.

Alignment: ``skeleton_meta``'s ``pattern`` says which bars of the input the loop is
(``section_start_s``, ``section_bars``); the reference bars are the true bars from the one
whose start is nearest ``section_start_s``, as many as the section has. A section whose start
is more than one step from every true bar start is "off a true bar" (a downbeat or tempo
error: its cells then land on the wrong steps, and count so). Where ``source`` found no
section (it fell back to a style), its loop is scored against true bars 0-1.
The peers' loops are scored against the same true bars as the source loop of their item.
``--keep DIR --reuse`` reads stages 1 and 2 back from an earlier ``--keep DIR`` run (same
items) and redoes stage 3 alone: stage-3 choices compared on the very same hits, in seconds.

Scores, pooled over items: per role (CORE, ACCENT, MOTION, FILL) the F1 of (bar, step)
cells of the loop's first ``section_bars`` bars against the reference bars. Goal: CORE and
ACCENT >= 0.9 drums alone, >= 0.8 at 0 dB. Tempo: the loop's tempo within 4 % of the true
one. Feel, over the cells the loop and the reference share (same bar, step and role):
Pearson r of the loop's ``micro_offset_ms`` against the reference notes' offsets (ms at the
true tempo), and of the loop's velocities (0..1) against the MIDI velocities; pooled, and
within (item, role) groups (each group's mean removed from both first: what is left is the
groove inside one drum of one loop, not "kicks are louder than hats" or one file's latency).
A quantized loop (every offset 0) and a loop at one velocity score 0 by definition.

Also printed: where each reference cell went (the loop's role at its bar and step, or
nothing); the per-item table (tempo, section, its distance from a true bar, F1 per role,
the roles whose stage-2 pool was empty); the source loop's F1 over only the items whose
tempo is right and whose section starts on a true bar (a diagnostic, not the score); and
where the feel is lost (`hit_rows`): over stage-1 hits near a note, the correlation of the
hit's offset with the note's on the true grid and on the tracked grid, and of the hit's
strength (what the loop's velocity is made of) and of the audio's peak level after it with
the note's MIDI velocity.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import _onecore  # first: one thread per pool, before numpy loads
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))  # the bench venv need not install drumgenx

from bench_transcriber import GMD_DIR, SR, render

ROLES4 = ("CORE", "ACCENT", "MOTION", "FILL")
PATTERNS = ("source", "seed", "style")
GROOVED = ", after stage 4"
"""``--groove``: the name of a pattern's loop after `drumgenx run`'s stage 4 (its defaults)."""
CONDITION_NAMES = {"drums": "drums alone", "mix0": "mix 0 dB"}
STEPS_PER_BAR = 16
TEMPO_TOLERANCE = 0.04
ON_BAR_STEPS = 1.0  # a section start within a step of a true bar start is on that bar
FALLBACK_BARS = 2  # a source loop with no section is scored against true bars 0..1
GOAL = {"drums": 0.9, "mix0": 0.8}  # CORE and ACCENT F1

Cells = dict[tuple[int, int, str], tuple[float, float]]  # (bar, step, role) -> (vel, ms)


def role_of_pitch(pitch: int) -> str:
    """A GMD pitch's role: GrooVAE's class -> role, else the 5-class map's role."""
    from drumgenx.core.roles import CLASS_ROLES
    from drumgenx.groove.convert import CLASS_ROLE
    from drumgenx.groove.representation import DRUM_CLASSES, PITCH_TO_CLASS
    from drumgenx.training.gmd import CLASS_OF_PITCH
    from drumgenx.training.gmd import DRUM_CLASSES as GMD_CLASSES

    if pitch in PITCH_TO_CLASS:
        return CLASS_ROLE[DRUM_CLASSES[PITCH_TO_CLASS[pitch]]]
    return CLASS_ROLES[GMD_CLASSES[CLASS_OF_PITCH[pitch]]]


def reference_cells(labels, bpm: float) -> Cells:
    """The sounding notes on the true grid: the loudest note of each (bar, step, role),
    its MIDI velocity and its offset from the step in ms."""
    step_s = 60.0 / bpm / 4
    cells: Cells = {}
    for lab in labels:
        position = lab.time_s / step_s
        nearest = int(np.floor(position + 0.5))
        bar, step = divmod(nearest, STEPS_PER_BAR)
        key = (bar, step, role_of_pitch(lab.pitch))
        if key not in cells or lab.velocity > cells[key][0]:
            cells[key] = (float(lab.velocity), (position - nearest) * step_s * 1000.0)
    return cells


def loop_cells(events: list[dict], n_bars: int) -> Cells:
    """The loop's cells of its first ``n_bars`` bars (the four scored roles)."""
    return {
        (e["bar"], e["step"], e["role"]): (float(e["vel"]), float(e["micro_offset_ms"]))
        for e in events
        if e["role"] in ROLES4 and e["bar"] < n_bars
    }


@dataclass
class Outcome:
    """One loop of one item in one condition, scored."""

    name: str
    true_bpm: float
    kind: str  # what the loop came from: source, seed or style
    loop_bpm: float
    n_bars: int
    true_bar0: int
    off_steps: float | None  # section start from the nearest true bar start (None: no section)
    section: dict
    counts: dict[str, list[int]]  # role -> [tp, fp, fn]
    matched: list[tuple[str, float, float, float, float]]  # role, loop vel, ref vel, ms, ms
    confusion: Counter = field(default_factory=Counter)  # (ref role | -, loop role | -)
    notices: list[str] = field(default_factory=list)


def score_loop(
    name: str, true_bpm: float, ref: Cells, meta: dict, events: list[dict], align: tuple[int, int]
) -> Outcome:
    """Score one loop against the reference bars ``align`` = (first true bar, bars)."""
    true_bar0, n_bars = align
    loop = loop_cells(events, n_bars)
    window = {
        (bar - true_bar0, step, role): v
        for (bar, step, role), v in ref.items()
        if true_bar0 <= bar < true_bar0 + n_bars and role in ROLES4
    }
    counts = {r: [0, 0, 0] for r in ROLES4}
    matched = []
    for key in loop.keys() | window.keys():
        role = key[2]
        if key in loop and key in window:
            counts[role][0] += 1
            (lv, lms), (rv, rms) = loop[key], window[key]
            matched.append((role, lv, rv, lms, rms))
        elif key in loop:
            counts[role][1] += 1
        else:
            counts[role][2] += 1
    confusion: Counter = Counter()
    loop_at = defaultdict(set)
    ref_at = defaultdict(set)
    for bar, step, role in loop:
        loop_at[bar, step].add(role)
    for bar, step, role in window:
        ref_at[bar, step].add(role)
    for pos in loop_at.keys() | ref_at.keys():
        heard, played = loop_at.get(pos, set()), ref_at.get(pos, set())
        others = sorted(heard - played, key=ROLES4.index)
        for role in played:  # a missed note: the loop's other role there, else nothing
            confusion[role, role if role in heard else (others[0] if others else "-")] += 1
        if not played:  # the loop plays where the performance has no note
            for role in heard:
                confusion["-", role] += 1
    pattern = meta["pattern"]
    return Outcome(
        name=name,
        true_bpm=true_bpm,
        kind=pattern["kind"],
        loop_bpm=float(meta["params"]["bpm"]),
        n_bars=n_bars,
        true_bar0=true_bar0,
        off_steps=None,
        section=pattern,
        counts=counts,
        matched=matched,
        confusion=confusion,
        notices=list(meta.get("notices", [])),
    )


def alignment(meta: dict, true_bpm: float) -> tuple[int, int, float | None]:
    """(first true bar, bars, start's distance from it in steps) of a source loop."""
    pattern = meta["pattern"]
    if pattern["kind"] != "source":
        return 0, FALLBACK_BARS, None
    bar_s = 4 * 60.0 / true_bpm
    start = float(pattern["section_start_s"])
    bar0 = max(0, round(start / bar_s))
    return bar0, int(pattern["section_bars"]), (start - bar0 * bar_s) / (bar_s / STEPS_PER_BAR)


def run_item(
    wav: Path, work: Path, notices: list[str], *, reuse: bool = False, groove: bool = False
) -> dict[str, tuple[dict, list[dict]]]:
    """Stages 1-3 of ``drumgenx run`` on one file: ``{pattern: (skeleton_meta, events)}``;
    with ``reuse``, stages 1 and 2 are read back from ``work`` where an earlier run left them.
    With ``groove``, each pattern's loop after stage 4 too, as ``drumgenx run`` makes it
    (its defaults), under ``pattern + GROOVED``."""
    from drumgenx.chain.run import ChainParams
    from drumgenx.core.formats import read_json
    from drumgenx.preprocess.run import run_preprocess
    from drumgenx.roles.run import run_roles
    from drumgenx.skeleton.run import run_skeleton

    params = ChainParams(pattern="source")
    library = work / "library_1"
    pools_path = work / "roles" / "pools_1.json"
    if not (reuse and pools_path.is_file() and (library / "manifest_1.json").is_file()):
        run_preprocess(
            dataset_root=wav.parent,
            output_root=library,
            config=params.preprocess_config(),
            notify=notices.append,
        )
        pools_path = run_roles(
            input_dir=library,
            out_dir=work / "roles",
            limit=0,
            clap_model=params.clap_model,
            notify=notices.append,
        ).pools_path
    out = {}
    for pattern in PATTERNS:
        chosen = replace(params, pattern=pattern)
        run = run_skeleton(
            out_dir=work / f"skeleton_{pattern}",
            bpm=chosen.bpm,
            pools_json=pools_path,
            params=chosen.skeleton_params(),
            sample_root=library,
            render=False,
            swing=chosen.swing,
            loop=chosen.loop,
            notify=lambda m: None,
        )
        meta = read_json(run.paths["skeleton_meta"], "skeleton_meta")
        events = read_json(run.paths["event_grid"], "event_grid")
        out[pattern] = (meta, events)
        if groove:
            from drumgenx.groove.run import run_groove

            grooved = run_groove(
                grid_json=run.paths["grid"],
                events_json=run.paths["event_grid"],
                pools_json=pools_path,
                out_dir=work / f"groove_{pattern}",
                mode=chosen.mode,
                temperature=chosen.temperature,
                seed=chosen.seed,
                feel=chosen.feel,
                drummer=chosen.drummer or None,
                style=chosen.style or None,
                sample_root=library,
                swing=chosen.swing,
                loop=chosen.loop,
                notify=lambda m: None,
            )
            out[pattern + GROOVED] = (meta, read_json(grooved.events_path, "event_grid"))
    return out


def hit_rows(work: Path, y: np.ndarray, labels, true_bpm: float) -> list[tuple]:
    """Where the feel is lost: each stage-1 hit within 30 ms of a sounding note, as
    ``(its offset on the true grid, on the tracked grid, the note's offset (ms), its
    strength, the audio's peak dB in the 30 ms after it, the note's MIDI velocity)``,
    the note being the loudest within 30 ms. Only for inputs with a steady grid
    (`origin.source_candidates`, the one ``--pattern source`` uses) at the right tempo."""
    from drumgenx.core.formats import load_pools
    from drumgenx.skeleton.origin import read_transcription, source_candidates
    from drumgenx.skeleton.source import SourceHit, place_on_grid

    transcription = read_transcription(sorted((work / "library_1").glob("manifest_*.json")))
    pools = load_pools(next((work / "roles").glob("pools_*.json")))
    candidates = source_candidates(transcription, pools)
    if not candidates or abs(candidates[0].grid.bpm / true_bpm - 1.0) > TEMPO_TOLERANCE:
        return []
    grid = candidates[0].grid
    listed = transcription["files"][0]["hit_list"]
    hits = [SourceHit(float(h["time_s"]), float(h["strength"]), "-", None) for h in listed]
    placed = place_on_grid(hits, beats=grid.beats, downbeats=grid.downbeats)
    tstep = 60.0 / round(grid.bpm) / 4
    step_s = 60.0 / true_bpm / 4
    times = np.array([lab.time_s for lab in labels])
    rows = []
    for hit in placed:
        near = [lab for lab, t in zip(labels, times, strict=True) if abs(t - hit.time_s) < 0.03]
        if not near:
            continue
        note = max(near, key=lambda lab: lab.velocity)
        start = int(hit.time_s * SR)
        peak = np.abs(y[max(0, start - SR // 200) : start + int(0.03 * SR)]).max()
        on_true = hit.time_s / step_s
        rows.append(
            (
                (on_true - round(on_true)) * step_s * 1000.0,
                hit.offset * tstep * 1000.0,
                (note.time_s / step_s - round(note.time_s / step_s)) * step_s * 1000.0,
                hit.vel,
                20.0 * np.log10(peak + 1e-9),
                float(note.velocity),
            )
        )
    return rows


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")


def pooled(outcomes: list[Outcome]) -> dict[str, float]:
    total = {r: np.sum([o.counts[r] for o in outcomes], axis=0) for r in ROLES4}
    return {r: f1(*total[r]) if outcomes else float("nan") for r in ROLES4}


def pearson(x, y) -> float:
    """Pearson r; 0 where either side is constant (a quantized loop) or too short."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 3 or np.ptp(x) < 1e-9 or np.ptp(y) < 1e-9:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def feel(outcomes: list[Outcome]) -> dict[str, float]:
    """Timing and velocity r over the matched cells, pooled and within (item, role)."""
    rows = [(i, *m) for i, o in enumerate(outcomes) for m in o.matched]
    if not rows:
        return {"n": 0, "t": 0.0, "t_in": 0.0, "v": 0.0, "v_in": 0.0}
    group = np.array([f"{i}:{m[0]}" for i, *m in rows])
    data = np.array([m[1:] for _, *m in rows], dtype=float)  # loop vel, ref vel, ms, ms
    centred = data.copy()
    for g in np.unique(group):
        centred[group == g] -= data[group == g].mean(axis=0)
    return {
        "n": len(rows),
        "t": pearson(data[:, 2], data[:, 3]),
        "t_in": pearson(centred[:, 2], centred[:, 3]),
        "v": pearson(data[:, 0], data[:, 1]),
        "v_in": pearson(centred[:, 0], centred[:, 1]),
    }


def tempo_right(o: Outcome, factor: float = 1.0) -> bool:
    return abs(o.loop_bpm / (o.true_bpm * factor) - 1.0) <= TEMPO_TOLERANCE


def fmt(v: float) -> str:
    return "—" if np.isnan(v) else f"{v:.3f}"


def loop_label(pattern: str) -> str:
    name, grooved, _ = pattern.partition(GROOVED)
    return f"`--pattern {name}`{GROOVED if grooved else ''}"


def print_tables(results: dict[str, dict[str, list[Outcome]]], styles: dict[str, str]) -> None:
    conds = list(results)
    print("\n## Grid and sections (`--pattern source`)\n")
    print(
        "| condition | items | loop tempo within 4 % | x2 | x1/2 | other | section found "
        "| found, tempo right | of those: on a true bar (±1 step) | whole beats off | otherwise |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for cond in conds:
        src = results[cond]["source"]
        n = len(src)
        right = sum(tempo_right(o) for o in src)
        double = sum(tempo_right(o, 2.0) for o in src)
        half = sum(tempo_right(o, 0.5) for o in src)
        found = [o for o in src if o.kind == "source"]
        timed = [o for o in found if tempo_right(o)]
        on_bar = [o for o in timed if abs(o.off_steps) <= ON_BAR_STEPS]
        beats = [  # a whole number of beats off: a downbeat phase error
            o
            for o in timed
            if abs(o.off_steps) > ON_BAR_STEPS
            and abs(o.off_steps - 4 * round(o.off_steps / 4)) <= ON_BAR_STEPS
        ]
        other = len(timed) - len(on_bar) - len(beats)
        print(
            f"| {CONDITION_NAMES[cond]} | {n} | **{right / n:.0%}** ({right}) | {double} | "
            f"{half} | {n - right - double - half} | **{len(found) / n:.0%}** ({len(found)}) | "
            f"{len(timed)} | {len(on_bar)} | {len(beats)} | {other} |"
        )

    print("\n## Pattern: per-role F1 of (bar, step) cells, pooled over items\n")
    print("| loop | condition | items | CORE | ACCENT | MOTION | FILL | reference cells |")
    print("|---|---|---|---|---|---|---|---|")
    for pattern in results[conds[0]]:
        for cond in conds:
            outs = results[cond][pattern]
            f = pooled(outs)
            ref = sum(o.counts[r][0] + o.counts[r][2] for o in outs for r in ROLES4)
            label = loop_label(pattern)
            cells = " | ".join(
                f"**{fmt(f[r])}**" if r in ("CORE", "ACCENT") else fmt(f[r]) for r in ROLES4
            )
            print(f"| {label} | {CONDITION_NAMES[cond]} | {len(outs)} | {cells} | {ref} |")
    for cond in conds:
        src = results[cond]["source"]
        good = [
            o
            for o in src
            if o.kind == "source" and tempo_right(o) and abs(o.off_steps) <= ON_BAR_STEPS
        ]
        f = pooled(good)
        cells = " | ".join(fmt(f[r]) for r in ROLES4)
        ref = sum(o.counts[r][0] + o.counts[r][2] for o in good for r in ROLES4)
        print(
            f"| source, only items with the right tempo and bar | {CONDITION_NAMES[cond]} | "
            f"{len(good)} | {cells} | {ref} |"
        )

    print("\n## Feel: over the cells the loop shares with the reference\n")
    print(
        "| loop | condition | matched cells | timing r | timing r within (item, role) "
        "| velocity r | velocity r within (item, role) |"
    )
    print("|---|---|---|---|---|---|---|")
    for pattern in results[conds[0]]:
        for cond in conds:
            r = feel(results[cond][pattern])
            print(
                f"| {loop_label(pattern)} | {CONDITION_NAMES[cond]} | {r['n']} | "
                f"**{r['t']:.3f}** | {r['t_in']:.3f} | **{r['v']:.3f}** | {r['v_in']:.3f} |"
            )
    print("| a quantized loop at one velocity (any pattern) | both | — | 0 | 0 | 0 | 0 |")

    print("\n## Where the reference's cells went (`--pattern source`, cells of all items)\n")
    for cond in conds:
        total: Counter = Counter()
        for o in results[cond]["source"]:
            total += o.confusion
        cols = [*ROLES4, "-"]
        print(f"{CONDITION_NAMES[cond]}: rows the reference's role, columns the loop's\n")
        print("| reference \\ loop | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols))
        for row in cols:
            print(f"| {row} | " + " | ".join(str(total[row, c]) for c in cols) + " |")
        print()

    print("## Per item (`--pattern source`)\n")
    print(
        "| item | style | true bpm | condition | loop bpm | from | section s | bars | score "
        "| off bar (steps) | CORE | ACCENT | MOTION | FILL | empty pools |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for i in range(len(results[conds[0]]["source"])):
        for cond in conds:
            o = results[cond]["source"][i]
            s = o.section
            start = f"{s['section_start_s']:.2f}" if o.kind == "source" else "—"
            score = f"{s['section_score']:.2f}" if o.kind == "source" else "—"
            off = f"{o.off_steps:+.1f}" if o.off_steps is not None else "—"
            per = " | ".join(fmt(f1(*o.counts[r])) for r in ROLES4)
            empty = ",".join(
                n.split("_POOL")[0] for n in o.notices if "_POOL is empty" in n and "TEXT" not in n
            )
            print(
                f"| {o.name} | {styles[o.name]} | {o.true_bpm:g} | {cond} | {o.loop_bpm:g} | "
                f"{o.kind} | {start} | {o.n_bars} | {score} | {off} | {per} | {empty or '—'} |"
            )


def print_diagnostics(diagnostics: dict[str, list[tuple]]) -> None:
    print("## Where the feel is lost (stage-1 hits within 30 ms of a note; right tempo only)\n")
    print(
        "| condition | hits | timing r, hit on the true grid | timing r, hit on the tracked grid "
        "| velocity r, hit strength | velocity r, peak dB of the audio after the hit |"
    )
    print("|---|---|---|---|---|---|")
    for cond, rows in diagnostics.items():
        d = np.array(rows, dtype=float).reshape(-1, 6)
        print(
            f"| {CONDITION_NAMES[cond]} | {len(d)} | {pearson(d[:, 0], d[:, 2]):.3f} | "
            f"{pearson(d[:, 1], d[:, 2]):.3f} | {pearson(d[:, 3], d[:, 5]):.3f} | "
            f"{pearson(d[:, 4], d[:, 5]):.3f} |"
        )
    print()


def checkout() -> str:
    """The commit measured, and whether src/ differs from it (others edit it meanwhile)."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown commit"
    return head + (" + uncommitted changes in src/" if git("status", "--short", "src") else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=24, help="GMD beats (default 24)")
    ap.add_argument(
        "--split",
        default="test",
        choices=["test", "validation"],
        help="test: the frozen kits (the report); validation: the validation kits, where "
        "choices are made (default: test)",
    )
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of each beat")
    ap.add_argument("--seed", type=int, default=0, help="which beats (default 0)")
    ap.add_argument("--conditions", nargs="+", default=["drums", "mix0"], choices=["drums", "mix0"])
    ap.add_argument("--keep", help="keep every run's files under this folder")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: read stages 1 and 2 back from an earlier run there and redo only "
        "stage 3 (to compare stage-3 choices on the same hits)",
    )
    ap.add_argument(
        "--groove",
        action="store_true",
        help="also score each loop after stage 4 at `drumgenx run`'s defaults (needs torch: "
        "run with the project's .venv)",
    )
    args = ap.parse_args(argv)
    if args.reuse and not args.keep:
        ap.error("--reuse reads an earlier run's files: give --keep DIR")
    warnings.filterwarnings("ignore")
    if not GMD_DIR.joinpath("info.csv").is_file():
        print(f"SKIP: no GMD at {GMD_DIR}")
        return 0
    from drumgenx.training.gmd import load_performances

    started = time.time()
    perfs = {p.gmd_id.replace("/", "_"): p for p in load_performances(GMD_DIR, args.split)}
    data = render(args.n, args.duration, args.seed, args.split)
    print(f"drumgenx at {checkout()}")
    print(
        f"GMD {args.split} beats: {len(data)} (seed {args.seed}), first {args.duration:g} s, "
        f"rendered in {time.time() - started:.0f} s; {_onecore.pin_one_core()}, 1 thread"
    )
    import soundfile as sf

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-pattern-"))
    results: dict[str, dict[str, list[Outcome]]] = {c: {} for c in args.conditions}
    diagnostics: dict[str, list[tuple]] = {c: [] for c in args.conditions}
    notices: list[str] = []
    try:
        for name, _kit, labels, audio in data:
            true_bpm = perfs[name].bpm
            ref = reference_cells(labels, true_bpm)
            for cond in args.conditions:
                work = root / cond / name
                (work / "input").mkdir(parents=True, exist_ok=True)
                wav = work / "input" / f"{name}.wav"
                sf.write(wav, audio[cond], SR, subtype="PCM_16")
                loops = run_item(wav, work, notices, reuse=args.reuse, groove=args.groove)
                bar0, n_bars, off = alignment(loops["source"][0], true_bpm)
                for pattern, (meta, events) in loops.items():
                    outcome = score_loop(name, true_bpm, ref, meta, events, (bar0, n_bars))
                    outcome.off_steps = off if pattern == "source" else None
                    results[cond].setdefault(pattern, []).append(outcome)
                diagnostics[cond] += hit_rows(work, audio[cond], labels, true_bpm)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"stages 1-3 on {len(data) * len(args.conditions)} files: {time.time() - started:.0f} s")
    for line, count in Counter(n.split(";")[0].split(" (")[0] for n in notices).items():
        print(f"- stage notice ({count}x): {line}")
    print_tables(results, {name: perfs[name].style for name, *_ in data})
    print()
    print_diagnostics(diagnostics)
    for cond in args.conditions:
        f = pooled(results[cond]["source"])
        met = min(f["CORE"], f["ACCENT"]) >= GOAL[cond]
        print(
            f"Goal, {CONDITION_NAMES[cond]}: CORE and ACCENT >= {GOAL[cond]}: "
            f"{'met' if met else 'not met'} (CORE {f['CORE']:.3f}, ACCENT {f['ACCENT']:.3f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
