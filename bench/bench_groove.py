"""Issue #16's groove benchmark: humanizing quantized GMD test beats, scored per hit.

Usage (by hand, never by CI; needs ../shared/data/gmd)::

    .venv/bin/python bench/bench_groove.py [--gmd PATH] [--n 40] [--bars 16] [--seed 42]
        [--split test|validation] [--humanizer_loader MODULE:FUNCTION]

Quick try: ``--n 3``. ``--split validation`` runs the same protocol on GMD validation beats
(there are fewer than 40 with 16 bars): where a model's choices may be measured; the test
split is for the report. Everything runs in one process pinned to one core (`_onecore`), one
thread per pool, and prints one markdown table, then the issue's goals (met or not, computed
from the measured numbers) and the speed.

Protocol
--------
- **Cases**: the Groove MIDI Dataset's ``info.csv`` rows of split *test*, time signature
  4-4, beat type ``beat``, sorted by ``id`` (as a string); the first ``--n`` whose MIDI file
  holds at least ``--bars`` bars (and a tempo of 20..999 bpm) are taken. Each case is the
  first ``--bars`` bars quantized to the seed's event format at one velocity
  (`_gmd_cases.load_case`: every hit on its step at velocity 100/127, one sample per drum
  class named so `groove.convert` maps it back to its class), written as ``grid_1.json``,
  ``event_grid_1.json`` and ``pools_1.json`` in a temporary folder.
- **Rows**, all from the same cases in the same run:

  - *drummers*: the performances themselves (spreads and lag-1 only);
  - *nothing*: the input as it is (on the grid, velocity 100/127);
  - *template (role, step)*, the issue's template: each hit gets the mean offset in ms and
    the mean velocity of its (role, step in bar) over every hit of every GMD *train* beat
    (4-4, beat type ``beat``, all bars; offsets in ms at each file's tempo; the role of a
    class as `groove.convert.CLASS_ROLE`); *template (class, step)* the same per drum class;
  - *GrooVAE humanize (previous)*: `run_groove` with ``model_dir`` the shipped GrooVAE
    humanize folder (`GROOVAE_DIR`);
  - *humanizer* rows: `run_groove(mode="humanize", feel=F, model_dir=None, seed=--seed)`,
    F = 0 and 1, each also with ``drummer`` = the GMD drummer's number (1-10) and ``style`` =
    the primary style (``funk`` of ``funk/groove1``). Until `run_groove` takes those
    keywords (`inspect.signature`), they print "not available in this checkout".
- **Scores**: each output event is matched to the performance's hit on its (bar, step,
  class) (class from its sample's name). Offset MAE in ms (``micro_offset_ms`` against the
  true offset at the file's tempo, positive late); velocity MAE on 0..1; offset spread and
  velocity spread: the standard deviation (population) of the row's offsets in ms and
  velocities over all its hits; offset lag-1: within each case and class, the hits in time
  order, each paired with the next, Pearson r over all pairs of all cases and classes pooled
  (— where the offsets are constant); hits kept: output hits / input hits.
- **Speed** (goal: 8 bars in < 50 ms after load on one core; load < 1 s): each model in a
  fresh process (`_fresh.run_fresh`) pinned to one core, one thread per pool: the load timed
  once (the first in the process, its module's import included), then
  `groove.convert.humanize_events` on the first case's first 8 bars, median of 50 calls
  after 5 warm-ups. GrooVAE: ``import torch`` (timed apart, one torch thread), then
  `GrooveModel.load(GROOVAE_DIR)`. The humanizer: ``--humanizer_loader`` (default
  `HUMANIZER_LOADER`, ``Humanizer.load``: called with no arguments, it returns the shipped
  humanizer), timed at `humanize_events`' defaults (feel 0); a run that fails prints the
  failure.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import _onecore  # first: one thread per pool, before numpy loads
import numpy as np
from _fresh import run_fresh, stage_main
from _gmd_cases import Case, event_cell, info_rows, load_case, run_case, write_case

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.records import Event
from drumgenx.groove.convert import CLASS_ROLE
from drumgenx.groove.representation import DRUM_CLASSES, STEPS_PER_BAR, midi_to_groove
from drumgenx.groove.settings import GrooveSettings

REPO = Path(__file__).resolve().parent.parent
DEFAULT_GMD = REPO.parent / "shared" / "data" / "gmd"
GROOVAE_DIR = REPO / "src" / "drumgenx" / "groove" / "weights" / "humanize"
HUMANIZER_LOADER = "drumgenx.groove.humanizer:Humanizer.load"
ROLES = ("CORE", "ACCENT", "MOTION", "FILL")
TEMPLATE = "template (role, step)"  # the template: the goals are relative to it
SPEED_BARS, WARMUPS, CALLS = 8, 5, 50
GOAL_SHARE, SPREAD_TOLERANCE, LAG1_TOLERANCE = 0.8, 0.15, 0.1
GOAL_MS, GOAL_LOAD_S = 50.0, 1.0
NOT_HERE = "not available in this checkout"

Produce = Callable[[Case, Path], list[Event]]  # a case and its folder -> output events


@dataclass
class Method:
    """A table row: how it makes events from a case, or why it cannot (``run`` None)."""

    name: str
    run: Produce | None
    note: str = ""


@dataclass
class Tally:
    """One row's hits over all cases: (velocity, offset ms) made and true, lag-1 pairs."""

    made: list[tuple[float, float]] = field(default_factory=list)
    true: list[tuple[float, float]] = field(default_factory=list)
    pairs: list[tuple[float, float]] = field(default_factory=list)
    hits_in: int = 0
    unmatched: int = 0

    def add(self, case: Case, events: list[Event]) -> None:
        self.hits_in += len(case.events)
        lines: dict[int, list[tuple[int, int, float]]] = {}
        for event in events:
            cell = event_cell(event)
            if cell not in case.truth:
                self.unmatched += 1
                continue
            self.made.append((event.vel, event.micro_offset_ms))
            self.true.append(case.truth[cell])
            lines.setdefault(cell[2], []).append((event.bar, event.step, event.micro_offset_ms))
        for line in lines.values():
            offsets = [ms for _, _, ms in sorted(line)]
            self.pairs.extend(pairwise(offsets))


@dataclass
class Row:
    """A row's figures (NaN where they do not apply)."""

    offset_mae: float
    velocity_mae: float
    offset_spread: float
    velocity_spread: float
    lag1: float
    kept: float
    unmatched: int


def pearson(pairs: list[tuple[float, float]]) -> float:
    a, b = np.asarray(pairs, float).reshape(-1, 2).T
    return float(np.corrcoef(a, b)[0, 1]) if len(a) > 1 and a.std() > 0 and b.std() > 0 else np.nan


def summarize(tally: Tally, *, truth: bool = False) -> Row:
    made, true = np.asarray(tally.made).reshape(-1, 2), np.asarray(tally.true).reshape(-1, 2)
    error = np.abs(made - true).mean(axis=0) if not truth else (np.nan, np.nan)
    return Row(
        offset_mae=float(error[1]),
        velocity_mae=float(error[0]),
        offset_spread=float(made[:, 1].std()),
        velocity_spread=float(made[:, 0].std()),
        lag1=pearson(tally.pairs),
        kept=(len(tally.made) + tally.unmatched) / max(tally.hits_in, 1),
        unmatched=tally.unmatched,
    )


# --- cases and the template ------------------------------------------------------------------


def protocol_cases(gmd: Path, n: int, bars: int, split: str = "test") -> list[Case]:
    """The protocol's cases: ``split``'s beats sorted by id, the first ``n`` of ``bars`` bars."""
    cases = []
    for row in sorted(info_rows(gmd, split, beat_type="beat"), key=lambda r: r["id"]):
        case = load_case(gmd, row, bars)
        if case is not None:
            cases.append(case)
        if len(cases) == n:
            break
    return cases


def train_sums(gmd: Path) -> np.ndarray:
    """``(3, 9, 16)``: hits, velocity sums and offset-ms sums per (class, step in bar) over
    every hit of every train 4-4 beat."""
    sums = np.zeros((3, len(DRUM_CLASSES), STEPS_PER_BAR))
    for row in info_rows(gmd, "train", beat_type="beat"):
        groove, bpm = midi_to_groove(gmd / row["midi_filename"])
        ms_per_step = 60_000 / bpm / 4
        for step, c in zip(*np.nonzero(groove.hits), strict=True):
            cell = (c, step % STEPS_PER_BAR)
            sums[0][cell] += 1
            sums[1][cell] += groove.velocities[step, c]
            sums[2][cell] += groove.offsets[step, c] * ms_per_step
    return sums


def template_table(sums: np.ndarray, group: list[int]) -> np.ndarray:
    """``(2, 9, 16)`` mean velocity and offset ms per step, pooled over classes of a group."""
    groups = np.asarray(group)
    pooled = np.stack([sums[:, groups == g].sum(axis=1) for g in groups], axis=1)
    return pooled[1:] / np.maximum(pooled[0], 1)


def templated(table: np.ndarray) -> Produce:
    """A method giving each event its (class or role, step) template velocity and offset."""

    def run(case: Case, folder: Path) -> list[Event]:
        out = []
        for event in case.events:
            _, step, c = event_cell(event)
            vel, ms = float(table[0, c, step]), float(table[1, c, step])
            out.append(replace(event, vel=vel, micro_offset_ms=ms))
        return out

    return run


def truth_events(case: Case, folder: Path) -> list[Event]:
    """The performance on the input's events: the drummers' row."""
    out = []
    for event in case.events:
        vel, ms = case.truth[event_cell(event)]
        out.append(replace(event, vel=vel, micro_offset_ms=ms))
    return out


# --- the rows ----------------------------------------------------------------------------------


def controls(case: Case) -> dict[str, Any]:
    """The case's drummer (1-10) and primary style (``funk`` of ``funk/groove1``)."""
    return {
        "drummer": int(case.row["drummer"].removeprefix("drummer")),
        "style": case.row["style"].split("/")[0],
    }


def humanizer(feel: int, *, by_drummer: bool, seed: int) -> Method:
    """A humanizer row, or "not available" while `run_groove` lacks its keywords."""
    from drumgenx.groove.run import run_groove

    name = f"humanizer --feel {feel}" + (" --drummer N --style S" if by_drummer else "")
    needed = ["feel", *(["drummer", "style"] if by_drummer else [])]
    missing = [k for k in needed if k not in inspect.signature(run_groove).parameters]
    if missing:
        return Method(name, None, f"{NOT_HERE} (run_groove has no {', '.join(missing)})")
    out_name = f"feel{feel}{'_drummer' if by_drummer else ''}"

    def run(case: Case, folder: Path) -> list[Event]:
        extra = controls(case) if by_drummer else {}
        options = {"mode": "humanize", "feel": feel, "seed": seed, "model_dir": None, **extra}
        return run_case(folder, out_name, **options)

    return Method(name, run)


def groovae_missing() -> str | None:
    """None while `GROOVAE_DIR` holds GrooVAE weights (``config.json`` format); else why not."""
    config = GROOVAE_DIR / "config.json"
    if config.is_file() and '"drumgenx-groovae"' in config.read_text(encoding="utf-8"):
        return None
    return f"not available: no GrooVAE weights at {GROOVAE_DIR}"


def methods(gmd: Path, seed: int) -> list[Method]:
    """Every row of the table, in order."""
    sums = train_sums(gmd)
    by_role = [ROLES.index(CLASS_ROLE[c]) for c in DRUM_CLASSES]
    groovae = lambda case, folder: run_case(folder, "groovae", model_dir=GROOVAE_DIR)  # noqa: E731
    missing = groovae_missing()
    return [
        Method("drummers", truth_events),
        Method("nothing", lambda case, folder: case.events),
        Method(TEMPLATE, templated(template_table(sums, by_role))),
        Method("template (class, step)", templated(template_table(sums, list(range(9))))),
        Method("GrooVAE humanize (previous)", None if missing else groovae, missing or ""),
        *(
            humanizer(feel, by_drummer=by_drummer, seed=seed)
            for feel in (0, 1)
            for by_drummer in (False, True)
        ),
    ]


def measure(cases: list[Case], rows: list[Method]) -> dict[str, Row | str]:
    """Every available row over every case (written once, in a temporary folder); a row
    whose run raises `DrumgenxError` (e.g. weights not shipped yet) shows that error."""
    tallies = {m.name: Tally() for m in rows if m.run}
    failed = {m.name: m.note for m in rows if not m.run}
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(cases):
            folder = write_case(case, Path(tmp) / f"case_{i + 1}")
            for m in rows:
                if m.run and m.name not in failed:
                    try:
                        tallies[m.name].add(case, m.run(case, folder))
                    except DrumgenxError as exc:
                        failed[m.name] = f"not available: {exc}".replace("|", "/")
    return {
        m.name: failed.get(m.name) or summarize(tallies[m.name], truth=m.name == "drummers")
        for m in rows
    }


# --- output ------------------------------------------------------------------------------------


def fmt(value: float, spec: str, unit: str = "") -> str:
    return "–" if np.isnan(value) else f"{format(value, spec)}{unit}"


def table(results: dict[str, Row | str]) -> list[str]:
    lines = [
        "| | offset MAE | velocity MAE | offset spread (std) | velocity spread | offset lag-1 "
        "| hits kept |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in results.items():
        if isinstance(row, str):
            lines.append(f"| {name} | {row} | | | | | |")
            continue
        kept = "–" if name == "drummers" else f"{row.kept:.1%}"
        lines.append(
            f"| {name} | {fmt(row.offset_mae, '.1f', ' ms')} | {fmt(row.velocity_mae, '.3f')} "
            f"| {row.offset_spread:.1f} ms | {row.velocity_spread:.3f} | {fmt(row.lag1, '.2f')} "
            f"| {kept} |"
        )
    return lines


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def feel0_goals(row: Row, tmpl: Row) -> list[str]:
    off, vel = GOAL_SHARE * tmpl.offset_mae, GOAL_SHARE * tmpl.velocity_mae
    return [
        f"offset MAE {row.offset_mae:.1f} ms ≤ {off:.1f} ms: {verdict(row.offset_mae <= off)}",
        f"velocity MAE {row.velocity_mae:.3f} ≤ {vel:.3f}: {verdict(row.velocity_mae <= vel)}",
        f"hits kept {row.kept:.1%}: {verdict(row.kept == 1 and row.unmatched == 0)}",
    ]


def feel1_goals(row: Row, tmpl: Row, drummers: Row) -> list[str]:
    def spread(what: str, value: float, truth: float, unit: str) -> str:
        ok = abs(value / truth - 1) <= SPREAD_TOLERANCE
        return (
            f"{what} spread {value:.3g}{unit} within {SPREAD_TOLERANCE:.0%} of the drummers' "
            f"{truth:.3g}{unit} ({value / truth - 1:+.0%}): {verdict(ok)}"
        )

    lag_ok = abs(row.lag1 - drummers.lag1) <= LAG1_TOLERANCE  # False on NaN
    below = row.offset_mae < tmpl.offset_mae and row.velocity_mae < tmpl.velocity_mae
    return [
        spread("offset", row.offset_spread, drummers.offset_spread, " ms"),
        spread("velocity", row.velocity_spread, drummers.velocity_spread, ""),
        f"lag-1 {fmt(row.lag1, '.2f')} within {LAG1_TOLERANCE} of the drummers' "
        f"{drummers.lag1:.2f}: {verdict(lag_ok)}",
        f"MAE {row.offset_mae:.1f} ms / {row.velocity_mae:.3f} below the template's "
        f"{tmpl.offset_mae:.1f} ms / {tmpl.velocity_mae:.3f}: {verdict(below)}",
    ]


def goals(results: dict[str, Row | str]) -> list[str]:
    """The issue's goals per row, from the measured numbers."""
    tmpl, drummers = results[TEMPLATE], results["drummers"]
    assert isinstance(tmpl, Row) and isinstance(drummers, Row)
    lines = []
    for name, row in results.items():
        feel0 = name.startswith("humanizer --feel 0") or name.startswith("GrooVAE")
        if not (feel0 or name.startswith("humanizer --feel 1")):
            continue
        label = f"{name}{' (reference: the feel-0 goals)' if name.startswith('GrooVAE') else ''}"
        if isinstance(row, str):
            lines.append(f"- {label}: {row}")
            continue
        checks = feel0_goals(row, tmpl) if feel0 else feel1_goals(row, tmpl, drummers)
        lines.append(f"- {label}: " + "; ".join(checks))
    return lines


# --- speed -------------------------------------------------------------------------------------


def resolve(spec: str) -> Callable[[], Any]:
    """``module:name.attribute`` -> that object (a function or a class's method)."""
    module, _, names = spec.partition(":")
    found: Any = importlib.import_module(module)
    for name in names.split("."):
        found = getattr(found, name)
    return found


def load_groovae() -> Any:
    from drumgenx.groove.model import GrooveModel

    return GrooveModel.load(GROOVAE_DIR, task="humanize", device="cpu")


def stage_speed(spec: dict) -> dict:
    """In a fresh process: import torch, load the model, time `humanize_events` on 8 bars."""
    where = _onecore.pin_one_core()
    import_s = None
    if spec["model"] == "groovae":
        t0 = time.perf_counter()
        import torch

        torch.set_num_threads(1)
        import_s = time.perf_counter() - t0
    from drumgenx.groove.convert import humanize_events

    t0 = time.perf_counter()
    try:
        model = load_groovae() if spec["model"] == "groovae" else resolve(spec["loader"])()
    except DrumgenxError as exc:  # e.g. weights not shipped yet
        return {"failed": f"not available: {exc}"}
    load_s = time.perf_counter() - t0
    case = load_case(Path(spec["gmd"]), spec["row"], SPEED_BARS)
    assert case is not None
    times = []
    for _ in range(WARMUPS + CALLS):
        t0 = time.perf_counter()
        humanize_events(case.events, case.grid, model=model)  # its defaults: feel 0
        times.append(time.perf_counter() - t0)
    calls = times[WARMUPS:]
    return {
        "where": where,
        "import_s": import_s,
        "load_s": load_s,
        "median_ms": statistics.median(calls) * 1000,
        "max_ms": max(calls) * 1000,
    }


def speed_available(loader: str) -> str | None:
    """None when the humanizer can be timed; else why not."""
    from drumgenx.groove.run import run_groove

    if "feel" not in inspect.signature(run_groove).parameters:
        return f"{NOT_HERE} (run_groove has no feel)"
    try:
        resolve(loader)
    except (ImportError, AttributeError):
        return f"not available: no public loader {loader} (--humanizer_loader names it)"
    return None


def speed(gmd: Path, case: Case, loader: str) -> dict[str, dict | str]:
    """Each model's load and 8-bar humanize times, each in a fresh process."""
    out: dict[str, dict | str] = {}
    spec = {"gmd": str(gmd), "row": case.row, "loader": loader}
    with tempfile.TemporaryDirectory() as tmp:
        for model, label in (("humanizer", "humanizer (shipped)"), ("groovae", "GrooVAE")):
            why = speed_available(loader) if model == "humanizer" else groovae_missing()
            out[label] = why or run_fresh(
                __file__, "speed", {**spec, "model": model}, Path(tmp), label=model
            )
    return out


def speed_lines(results: dict[str, dict | str]) -> list[str]:
    lines = []
    for label, r in results.items():
        if isinstance(r, str) or "failed" in r:
            lines.append(f"- {label}: {r if isinstance(r, str) else r['failed']}")
            continue
        fast, quick = r["median_ms"] < GOAL_MS, r["load_s"] < GOAL_LOAD_S
        after = f" after import torch ({r['import_s']:.2f} s)" if r["import_s"] else ""
        lines.append(
            f"- {label}: load {r['load_s'] * 1000:.0f} ms{after}, goal < {GOAL_LOAD_S:.0f} s: "
            f"{verdict(quick)}; humanize {SPEED_BARS} bars {r['median_ms']:.1f} ms median of "
            f"{CALLS} ({r['max_ms']:.1f} ms max), goal < {GOAL_MS:.0f} ms: {verdict(fast)} "
            f"({r['where']})"
        )
    return lines


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gmd", type=Path, default=DEFAULT_GMD)
    parser.add_argument("--n", type=int, default=40, help="beats (default 40)")
    parser.add_argument(
        "--split",
        choices=("test", "validation"),
        default="test",
        help="test: the report; validation: the same protocol where choices may be made",
    )
    parser.add_argument("--bars", type=int, default=16, help="bars of each (default 16)")
    parser.add_argument("--seed", type=int, default=GrooveSettings.seed, help="feel 1's seed")
    parser.add_argument("--humanizer_loader", default=HUMANIZER_LOADER)
    parser.add_argument("--_stage", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._stage is not None:
        return stage_main(args._stage, {"speed": stage_speed})
    if not (args.gmd / "info.csv").is_file():
        print(f"SKIP: the Groove MIDI Dataset is not at {args.gmd} (no info.csv)")
        return 0
    where = _onecore.pin_one_core()
    started = time.perf_counter()
    cases = protocol_cases(args.gmd, args.n, args.bars, args.split)
    results = measure(cases, methods(args.gmd, args.seed))
    n_hits = sum(len(c.events) for c in cases)
    print(
        f"GMD {args.split} beats (4-4, sorted by id, the first {len(cases)} with {args.bars} "
        f"bars), "
        f"first {args.bars} bars each, quantized at velocity 100/127: {n_hits:,} hits; "
        f"feel 1 seed {args.seed}; {where}; {time.perf_counter() - started:.0f} s"
    )
    print()
    print("\n".join(table(results)))
    print()
    print("Goals (issue #16; the template is 'template (role, step)' of this run):")
    print("\n".join(goals(results)))
    print()
    print(f"Speed (each model in a fresh process, {SPEED_BARS} bars of {cases[0].row['id']}):")
    print("\n".join(speed_lines(speed(args.gmd, cases[0], args.humanizer_loader))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
