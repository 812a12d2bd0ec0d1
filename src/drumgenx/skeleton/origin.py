"""Where a loop's pattern comes from (``--pattern``) and at what tempo it plays (``--bpm auto``).

``--pattern`` takes:

- ``seed``: the seed's rules (`skeleton.patterns`), exactly as before; the default of
  ``drumgenx skeleton`` and ``run_grid_and_skeleton.py``.
- ``source``: an input's own drum pattern (`skeleton.source`), read from the stage-1
  manifests of the library the pools come from. Every input with a steady beat
  (`core.tempo.track_beats`) whose best section loops faithfully (a score of at least
  `source.STEADY_SCORE`) is a candidate; the one with the most hits wins (the input with
  the most drumming: a song over a two-bar loop beside it), then the higher score, then
  its name. An input that is itself a loop (`core.tempo.track_loop`) is heard played end
  to end, at the exact tempo of its bars.
- ``style`` or ``style:NAME``: a GMD drummer's pattern (`skeleton.styles`); without a name,
  the style whose tempo range holds the loop's tempo.
- ``auto`` (``drumgenx run``'s default): ``source`` where an input has a steady drum pattern
  (a best section scoring at least `source.STEADY_SCORE`), else ``style``.

A ``source`` that finds no steady pattern falls back like ``auto`` does, with one notice:
found sounds and ambiences are inputs too, never an error.

``--bpm auto``: the tempo of the input the pattern comes from; for other patterns the
library's dominant tempo (that of its steady input with the most hits); else 120. A tempo
read from an input is rounded to a whole bpm, as a DAW session would be set: the estimate
is no finer than that (109.9 for the demo song's 110), and the pattern's micro-timing is
kept in fractions of a step, so it follows the loop's tempo either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from drumgenx.core.errors import ParameterError
from drumgenx.core.formats import read_json
from drumgenx.core.pools import seeded_rng
from drumgenx.core.records import Pools
from drumgenx.core.roles import ROLES
from drumgenx.core.tempo import (
    DOWNBEAT_CLASSES,
    LOOP_SEAM_S,
    BeatGrid,
    LoopGrid,
    track_beats,
    track_loop,
)
from drumgenx.skeleton.grid import check_bpm
from drumgenx.skeleton.settings import AUTO, PATTERNS
from drumgenx.skeleton.source import (
    STEADY_SCORE,
    PlacedHit,
    Section,
    best_section,
    laid_end_to_end,
    place_on_grid,
    smooth_beats,
    source_hits,
    tile_section,
)

__all__ = [
    "AUTO",
    "DEFAULT_BPM",
    "PATTERNS",
    "PatternChoice",
    "SourceCandidate",
    "choose_pattern",
    "find_manifests",
    "needs_transcription",
    "parse_pattern",
    "read_transcription",
    "source_candidates",
]

DEFAULT_BPM = 120.0
"""The tempo where nothing tells another (the seed runner's example)."""


def parse_pattern(value: str) -> tuple[str, str | None]:
    """``(kind, style name)`` of a ``--pattern`` value; a `ParameterError` for another."""
    kind, _, name = str(value).partition(":")
    if kind not in PATTERNS or (name and kind != "style") or (not name and ":" in value):
        raise ParameterError(
            "pattern", f"must be seed, source, style, style:NAME or auto, got {value!r}"
        )
    return kind, name or None


def parse_bpm(value: float | str) -> float | None:
    """A tempo, or None for ``auto``; a `ParameterError` outside 20..999 (`grid.check_bpm`)."""
    if str(value) == AUTO:
        return None
    try:
        bpm = float(value)
    except ValueError:
        raise ParameterError("bpm", f"must be a number or auto, got {value!r}") from None
    check_bpm(bpm)
    return bpm


def needs_transcription(pattern: str, bpm: float | str) -> bool:
    """Whether `choose_pattern` reads the library's transcription for ``--pattern`` and
    ``--bpm``: for an input's pattern (``source``, ``auto``) or an input's tempo (``auto``)."""
    return parse_pattern(pattern)[0] in ("source", AUTO) or parse_bpm(bpm) is None


def find_manifests(sample_root: str | Path | None, pools: Pools) -> list[Path]:
    """The stage-1 manifests of the library the pools come from: ``manifest_*.json`` in
    ``sample_root``, else in the folder of the pools' first sample (or its parent)."""
    folders = [Path(sample_root)] if sample_root else []
    first = next((item for role in ROLES for item in pools.by_role.get(role, [])), None)
    if first is not None:
        folders += [Path(first.filepath).parent, Path(first.filepath).parent.parent]
    for folder in folders:
        found = sorted(folder.glob("manifest_*.json"))
        if found:
            return found
    return []


def read_transcription(paths: Sequence[Path]) -> dict[str, Any]:
    """The stage-1 manifests ``paths`` as one: every input's latest hit list, every sample."""
    files: dict[str, dict] = {}
    merged: dict[str, Any] = {"files": [], "samples": [], "absorbed_by_existing": []}
    for path in paths:
        manifest = read_json(path, "manifest")
        merged["samples"] += manifest["samples"]
        merged["absorbed_by_existing"] += manifest.get("absorbed_by_existing", [])
        for entry in manifest["files"]:
            if entry.get("hit_list"):
                files[entry["source"]] = entry
    merged["files"] = list(files.values())
    return merged


@dataclass(frozen=True)
class SourceCandidate:
    """One input's pattern: its beat grid and the section of it that loops best."""

    source: str
    grid: BeatGrid
    section: Section
    n_hits: int
    loop: LoopGrid | None = None
    """Set when the input is itself a loop (`core.tempo.track_loop`): ``grid`` is then its
    turns laid end to end."""


def source_candidates(transcription: Mapping, pools: Pools) -> list[SourceCandidate]:
    """Every input of ``transcription`` with a steady beat, best first (see the module;
    the caller keeps those that loop faithfully). An input that is itself a loop (one to
    eight whole bars, `core.tempo.track_loop`) is heard played end to end, as it is meant
    to be: its own bars are then its repeats."""
    pool_roles = {item.sample_id: role for role, items in pools.by_role.items() for item in items}
    found = []
    for entry in transcription["files"]:
        listed = entry["hit_list"]
        probs = [h.get("class_probs") or {} for h in listed]
        classes = (  # every hit's, or none: the tracker then reads the strengths alone
            {name: np.array([p.get(name, 0.0) for p in probs]) for name in DOWNBEAT_CLASSES}
            if all(probs)
            else {}
        )
        times = np.array([h["time_s"] for h in listed])
        strengths = np.array([h["strength"] for h in listed])
        hits = source_hits(transcription, entry["source"], pool_roles=pool_roles)
        loop = None
        if "duration_s" in entry:
            loop = track_loop(
                times, duration_s=float(entry["duration_s"]), strengths=strengths, **classes
            )
        if loop is not None:
            grid = loop.grid
            played = laid_end_to_end(hits, loop=loop)
        else:
            grid = track_beats(times, strengths=strengths, **classes)
            if grid is None or not grid.steady:
                continue
            played = hits
        section = best_section(place_on_grid(played, beats=grid.beats, downbeats=grid.downbeats))
        if section is not None:
            found.append(SourceCandidate(entry["source"], grid, section, len(hits), loop))
    return sorted(found, key=lambda c: (-c.n_hits, -c.section.score, c.source))


def dominant_tempo(candidates: Sequence[SourceCandidate]) -> float | None:
    """The tempo of the steady input with the most hits (None: no steady input)."""
    if not candidates:
        return None
    return float(round(max(candidates, key=lambda c: c.n_hits).grid.bpm))


@dataclass(frozen=True)
class PatternChoice:
    """What ``--pattern`` and ``--bpm`` came to.

    ``hits`` are the loop's hits (None: the seed's rules place them); ``origin`` is what
    ``skeleton_meta_N.json`` records to reproduce the choice; ``reason`` is the one line
    saying which pattern was taken and why.
    """

    kind: str
    bpm: float
    hits: list[PlacedHit] | None
    origin: dict[str, Any]
    reason: str
    notices: list[str] = field(default_factory=list)


def _source_choice(best: SourceCandidate, *, bpm: float | None, bars: int) -> PatternChoice:
    section = best.section
    beats = smooth_beats(best.grid.beats)  # the grid the section's hits were placed on
    first = int(np.argmin(np.abs(best.grid.beats - best.grid.downbeats[0])))
    start_s, end_s = (
        round(float(np.interp(first + 4 * bar, np.arange(beats.size), beats)), 3)
        for bar in (section.start_bar, section.start_bar + section.n_bars)
    )
    what = ""
    if best.loop is not None:  # seconds into the file, whichever turn the section began in
        period = best.loop.period_s
        turn = (start_s + LOOP_SEAM_S) // period * period  # a beat a hair before a turn: in it
        start_s, end_s = round(max(0.0, start_s - turn), 3), round(end_s - turn, 3)
        what = f"a {best.loop.bars}-bar loop; "
    origin = {
        "kind": "source",
        "file": best.source,
        "section_bars": section.n_bars,
        "section_start_bar": section.start_bar,
        "section_start_s": start_s,
        "section_end_s": end_s,
        "section_score": round(section.score, 4),
        "source_bpm": round(best.grid.bpm, 2),
        "beat_confidence": round(best.grid.confidence, 4),
    }
    if best.loop is not None:
        origin["loop_bars"] = best.loop.bars
    return PatternChoice(
        kind="source",
        bpm=float(round(best.grid.bpm)) if bpm is None else bpm,
        hits=tile_section(section, bars=bars),
        origin=origin,
        reason=(
            f"pattern: {Path(best.source).name}'s own ({what}its {section.n_bars}-bar section "
            f"from {start_s:g} s, repeats {section.score:.0%} alike, {best.grid.bpm:.1f} bpm)"
        ),
    )


def _style_choice(
    name: str | None, *, bpm: float, bars: int, seed: int, fill_bars: Sequence[int], why: str
) -> PatternChoice:
    from drumgenx.skeleton import styles

    style = styles.get_style(name) if name else styles.pick_style(bpm)
    pattern = styles.pick_pattern(style, seeded_rng(seed, "style:pattern"), bpm=bpm)
    fills = {
        bar: styles.pick_fill(style, seeded_rng(seed, f"style:fill:{bar}")) for bar in fill_bars
    }
    hits = [
        PlacedHit(
            bar=bar,
            step=hit.step,
            offset=hit.offset,
            role=hit.role,
            vel=hit.vel,
            sample_id=None,
            time_s=None,
        )
        for bar, hit in styles.loop_hits(pattern, bars=bars, fills=fills)
    ]
    origin = {
        "kind": "style",
        "style": style.name,
        "gmd_id": pattern.gmd_id,
        "midi_filename": pattern.midi_filename,
        "bar": pattern.bar,
        "bars": pattern.bars,
        "fills": {str(bar): fill.gmd_id for bar, fill in fills.items() if fill is not None},
    }
    return PatternChoice(
        kind="style",
        bpm=bpm,
        hits=hits,
        origin=origin,
        reason=f"pattern: style {style.name}, GMD {pattern.gmd_id} bar {pattern.bar} ({why})",
    )


def choose_pattern(
    pattern: str,
    *,
    bpm: float | str,
    bars: int,
    seed: int,
    fill_bars: Sequence[int],
    transcription: Mapping | None,
    pools: Pools,
) -> PatternChoice:
    """The loop's pattern and tempo for ``--pattern`` and ``--bpm`` (see the module).

    Parameters
    ----------
    pattern : str
        ``seed``, ``source``, ``style``, ``style:NAME`` or ``auto``.
    bpm : float or "auto"
        The loop's tempo, or ``auto``.
    bars : int
        The loop's length.
    seed : int
        Seeds the style's pattern and fills.
    fill_bars : sequence of int
        The bars a style's fills close (the seed's phrase rule, `patterns.fill_bars`).
    transcription : Mapping or None
        The library's stage-1 manifests as one (`read_transcription`); None: no library.
    pools : Pools
        Stage 2's pools: the role of each slice a source's hit became.
    """
    kind, name = parse_pattern(pattern)
    tempo = parse_bpm(bpm)
    looks = transcription and needs_transcription(pattern, bpm)
    candidates = source_candidates(transcription, pools) if looks else []
    if kind == "seed":
        tempo = tempo or dominant_tempo(candidates) or DEFAULT_BPM
        return PatternChoice("seed", tempo, None, {"kind": "seed"}, "pattern: the seed's rules")
    why, notices = "asked for", []
    if kind in ("source", AUTO):
        steady = [c for c in candidates if c.section.score >= STEADY_SCORE]
        if steady:
            return _source_choice(steady[0], bpm=tempo, bars=bars)
        why = "no input with a steady drum pattern" if transcription else "no stage-1 manifest"
        if kind == "source":
            notices.append(f"pattern source: {why}; a GMD style's pattern instead")
    tempo = tempo or dominant_tempo(candidates) or DEFAULT_BPM
    choice = _style_choice(name, bpm=tempo, bars=bars, seed=seed, fill_bars=fill_bars, why=why)
    return replace(choice, notices=notices)
