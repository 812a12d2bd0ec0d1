"""GMD performances as the seed's stage-4 inputs, for the groove benches (not a test helper).

A case is the first ``bars`` bars of one Groove MIDI Dataset file, quantized to the seed's
event format at one velocity: every hit on its step at velocity 100/127, one sample per drum
class, named so `groove.convert.event_class` maps it back to its class (`SAMPLE_OF_CLASS`),
beside the performance's true velocity and offset of each hit. `write_case` writes it as
``grid_1.json``, ``event_grid_1.json`` and ``pools_1.json``; `run_case` runs
`groove.run.run_groove` (what ``drumgenx groove`` and ``pipeline/run_model_groovae.py``
call) on them. Used by ``bench_groovae.py`` and ``bench_groove.py``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from drumgenx.core.formats import dump_json, load_events
from drumgenx.core.records import Event, Grid, PoolItem, Pools, events_to_json
from drumgenx.groove.representation import DRUM_CLASSES, STEPS_PER_BAR, midi_to_groove
from drumgenx.skeleton.grid import build_grid

SAMPLE_OF_CLASS: dict[str, tuple[str, str]] = {
    "kick": ("CORE", "kick"),
    "snare": ("ACCENT", "snare"),
    "closed_hihat": ("MOTION", "hat_closed"),
    "open_hihat": ("MOTION", "hat_open"),
    "ride": ("MOTION", "ride"),
    "low_tom": ("FILL", "tom_low"),
    "mid_tom": ("FILL", "tom_mid"),
    "high_tom": ("FILL", "tom_high"),
    "crash": ("FILL", "crash"),
}
"""Role and sample name of each drum class: the names are what stage 4 reads classes from."""
CLASS_OF_SAMPLE: dict[str, int] = {
    name: DRUM_CLASSES.index(c) for c, (_, name) in SAMPLE_OF_CLASS.items()
}
QUANTIZED_VELOCITY = 100 / 127
BPM_RANGE = (20.0, 999.0)  # what a grid accepts

Cell = tuple[int, int, int]  # (bar, step, class index)


@dataclass
class Case:
    """One performance's first bars: the quantized events and the truth of every hit.

    ``truth[(bar, step, class)]`` is the performance's (velocity 0..1, offset in ms, positive
    late) of the hit the event on that cell stands for.
    """

    row: dict[str, str]
    grid: Grid
    events: list[Event]
    truth: dict[Cell, tuple[float, float]] = field(default_factory=dict)


def info_rows(gmd: Path, split: str, *, beat_type: str | None = None) -> list[dict[str, str]]:
    """The 4-4 rows of ``info.csv`` in ``split`` (and ``beat_type`` when given), file order."""
    with open(gmd / "info.csv", newline="") as handle:
        return [
            row
            for row in csv.DictReader(handle)
            if row["split"] == split
            and row["time_signature"] == "4-4"
            and beat_type in (None, row["beat_type"])
        ]


def seed_pools() -> Pools:
    """One sample per drum class, in its class's role (`SAMPLE_OF_CLASS`)."""
    by_role: dict[str, list[PoolItem]] = {}
    for role, name in SAMPLE_OF_CLASS.values():
        by_role.setdefault(role, []).append(PoolItem(name, f"{name}.wav", 1.0))
    return Pools(by_role)


def load_case(gmd: Path, row: dict[str, str], bars: int) -> Case | None:
    """The first ``bars`` bars of ``row``'s file as a `Case`; None if shorter or off-tempo."""
    groove, bpm = midi_to_groove(gmd / row["midi_filename"])
    steps = bars * STEPS_PER_BAR
    if groove.steps < steps or not BPM_RANGE[0] <= bpm <= BPM_RANGE[1]:
        return None
    grid = build_grid(bpm=bpm, num_bars=bars)
    case = Case(row, grid, [])
    for step, c in zip(*np.nonzero(groove.hits[:steps]), strict=True):
        role, name = SAMPLE_OF_CLASS[DRUM_CLASSES[c]]
        bar, pos = divmod(int(step), STEPS_PER_BAR)
        case.events.append(Event(bar, pos, role, name, QUANTIZED_VELOCITY, 1.0))
        case.truth[(bar, pos, int(c))] = (
            float(groove.velocities[step, c]),
            float(groove.offsets[step, c]) * grid.tstep * 1000,
        )
    return case


def event_cell(event: Event) -> Cell:
    """The (bar, step, class) an output event stands on: its class from its sample's name."""
    return (event.bar, event.step, CLASS_OF_SAMPLE[event.sample_id])


def write_case(case: Case, folder: Path) -> Path:
    """``grid_1.json``, ``event_grid_1.json`` and ``pools_1.json`` of ``case`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "grid_1.json").write_bytes(dump_json(case.grid.to_json()))
    (folder / "event_grid_1.json").write_bytes(dump_json(events_to_json(case.events)))
    (folder / "pools_1.json").write_bytes(dump_json(seed_pools().to_json()))
    return folder


def run_case(folder: Path, out_name: str, **options: Any) -> list[Event]:
    """`run_groove` on a `write_case` folder, writing to ``folder/out_name``; its events."""
    from drumgenx.groove.run import run_groove

    result = run_groove(
        grid_json=folder / "grid_1.json",
        events_json=folder / "event_grid_1.json",
        pools_json=folder / "pools_1.json",
        out_dir=folder / out_name,
        **options,
    )
    return load_events(result.events_path)
