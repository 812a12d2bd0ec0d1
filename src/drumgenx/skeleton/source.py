"""``--pattern source``: a loop from the input's own drum pattern.

Stage 1's manifest is a full transcription of each input: every hit's time and strength
(``files[].hit_list``), its drum classes where the transcriber heard them, and which one-shot
each hit became (kept as a sample, or absorbed into a like one). Here the hits of one input:

1. take the roles of the drums the transcriber heard in it (its ``classes``, by
   `core.roles.CLASS_ROLES`: a kick under a crash is a CORE and a FILL hit), or without a
   transcription the pool role stage 2 gave the slice cut from it; the slice cut from that
   very hit plays the role its pool gives it (where that drum was heard; else the likeliest
   drum's), so the loop sounds like the source, and the other roles take their pools'
   samples; a hit with no role is left out;
2. are placed on the input's beat grid, smoothed (`smooth_beats`: a tracker's beats sit on
   the hits, which would hide the drummer's timing in the grid): 4 steps a beat, 16 a 4/4
   bar counted from a downbeat, each hit on its nearest step; what lies between is its
   micro-timing, kept as a fraction of a step so that it scales with the loop's tempo;
3. are searched for the 1-, 2- or 4-bar section that loops best (`best_section`: the one
   the rest of the input repeats most faithfully);
4. and that section is tiled to the loop's length (`tile_section`).

A hit's velocity is its level (stage 1's ``level_db``: the drum stem's peak just after it)
against the input's loud hits (`_velocities`): the accents and ghost notes stay where the
drummer put them. Pure functions, no disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from drumgenx.core.roles import CLASS_ROLES
from drumgenx.core.tempo import LoopGrid, in_one_turn

__all__ = [
    "SECTION_BARS",
    "STEADY_SCORE",
    "PlacedHit",
    "Section",
    "SourceHit",
    "best_section",
    "laid_end_to_end",
    "place_on_grid",
    "smooth_beats",
    "source_hits",
    "tile_section",
]

STEPS_PER_BEAT = 4
BEATS_PER_BAR = 4
SECTION_BARS: tuple[int, ...] = (1, 2, 4)
"""Section lengths searched, in bars (the issue's 1-, 2- or 4-bar loops)."""
STEADY_SCORE = 0.6
"""A best section at least this alike its repeats (mean F1 of their cells) is a steady drum
pattern; below it ``--pattern auto`` looks elsewhere."""
LOUD_PERCENTILE = 95.0
VEL_DB_RANGE = 30.0
"""Decibels from the loud hits' level to velocity 0 (a ghost note 20 dB down plays at 1/3)."""
VEL_FLOOR = 0.15
"""Softest velocity a hit keeps (a ghost note stays audible)."""
PHRASE_MARGIN = 0.02
"""How much better (mean F1) a section off the phrase grid must loop to win (`best_section`)."""
MATCH_S = 0.002
"""A hit and a manifest slice are the same hit when their onsets are this close (the
manifest rounds times to the microsecond)."""


@dataclass(frozen=True)
class SourceHit:
    """One hit of an input, as stage 1 heard it."""

    time_s: float
    vel: float
    """0..1, relative to the input's loud hits."""
    role: str
    sample_id: str | None
    """The one-shot cut from this hit (or that absorbed it), None when there is none."""


@dataclass(frozen=True)
class PlacedHit:
    """A hit on the bar/step grid; ``offset`` is its distance from the step, in steps
    (-0.5..0.5, positive late)."""

    bar: int
    step: int
    offset: float
    role: str
    vel: float
    sample_id: str | None
    time_s: float | None
    """Where it sounded in its input (None for a pattern that comes from no input)."""


@dataclass(frozen=True)
class Section:
    """The bars ``start_bar .. start_bar + n_bars - 1`` of an input; ``hits`` are counted
    from the section's first bar. ``score`` is how faithfully the rest of the input repeats
    it (mean F1 of the cells of each other bar with hits; 1: every repeat identical; 0:
    nothing recurs, or nothing else to compare with)."""

    start_bar: int
    n_bars: int
    score: float
    hits: tuple[PlacedHit, ...]


def _hit_samples(manifest: Mapping, source: str) -> list[tuple[float, str]]:
    """``(onset_s, sample_id)`` of every hit of ``source`` that became or joined a sample."""
    found = []
    for sample in manifest.get("samples", []):
        for hit in [sample, *sample.get("absorbed", [])]:
            if hit.get("source") == source and hit.get("onset_s") is not None:
                found.append((float(hit["onset_s"]), str(sample["sample_id"])))
    for hit in manifest.get("absorbed_by_existing", []):
        if hit.get("source") == source and hit.get("onset_s") is not None and "sample_id" in hit:
            found.append((float(hit["onset_s"]), str(hit["sample_id"])))
    return sorted(found)


def _roles_heard(hit: Mapping) -> list[str]:
    """The roles of the drums the transcriber heard in ``hit``: its ``classes``' (the
    likeliest first), else its likeliest class's; none without class probabilities."""
    probs = hit.get("class_probs") or {}
    if not probs:
        return []
    ranked = sorted(CLASS_ROLES, key=lambda c: -probs.get(c, 0.0))
    classes = [c for c in ranked if c in hit.get("classes", [])] or ranked[:1]
    return list(dict.fromkeys(CLASS_ROLES[c] for c in classes))


def _velocities(listed: Sequence[Mapping]) -> np.ndarray:
    """Each hit's velocity (0..1): its level (``level_db``) against the input's loud hits
    (their 95th percentile), 1 there and `VEL_DB_RANGE` dB below it at 0, floored at
    `VEL_FLOOR`; without levels (an older manifest), its strength against the loud hits'."""
    if all("level_db" in h for h in listed):
        db = np.array([float(h["level_db"]) for h in listed])
        vel = 1.0 + (db - np.percentile(db, LOUD_PERCENTILE)) / VEL_DB_RANGE
    else:
        strength = np.array([float(h["strength"]) for h in listed])
        vel = strength / (float(np.percentile(strength, LOUD_PERCENTILE)) or 1.0)
    return np.clip(vel, VEL_FLOOR, 1.0)


def source_hits(
    manifest: Mapping, source: str, *, pool_roles: Mapping[str, str]
) -> list[SourceHit]:
    """The hits stage 1 found in ``source`` (one of ``manifest["files"]``), with roles.

    Parameters
    ----------
    manifest : Mapping
        A stage-1 manifest (``manifest_N.json``, validated).
    source : str
        The input file, as the manifest names it.
    pool_roles : Mapping[str, str]
        Sample id -> the role of the pool that holds it (stage 2's pools).

    Returns
    -------
    list[SourceHit]
        In time order; empty when the manifest lists no hits for ``source``.
    """
    entry = next((f for f in manifest.get("files", []) if f.get("source") == source), None)
    listed = [] if entry is None else entry.get("hit_list", [])
    if not listed:
        return []
    samples = _hit_samples(manifest, source)
    onsets = np.array([t for t, _ in samples])
    vels = _velocities(listed)
    hits = []
    for h, vel in zip(listed, vels, strict=True):
        t = float(h["time_s"])
        own = None
        if onsets.size:
            k = int(np.argmin(np.abs(onsets - t)))
            if abs(onsets[k] - t) <= MATCH_S and samples[k][1] in pool_roles:
                own = samples[k][1]
        heard = _roles_heard(h)
        if not heard:  # no transcription: the role stage 2 gave its slice
            heard = [pool_roles[own]] if own else []
        # its own slice plays the role its pool gives it where that drum was heard, else
        # the likeliest drum's; the other drums struck with it take their pools' samples
        keeper = pool_roles.get(own) if own and pool_roles.get(own) in heard else None
        for i, role in enumerate(heard):
            mine = role == keeper if keeper else i == 0
            hits.append(SourceHit(t, vel, role, own if mine else None))
    return sorted(hits, key=lambda x: x.time_s)


def laid_end_to_end(hits: Sequence[SourceHit], *, loop: LoopGrid) -> list[SourceHit]:
    """A loop file's hits played as `core.tempo.track_loop` heard them: the hits of one turn
    (`core.tempo.in_one_turn`) ``loop.turns`` times, one turn every ``loop.period_s``
    seconds. Every copy keeps its hit's own slice."""
    keep = in_one_turn(np.array([h.time_s for h in hits]), period_s=loop.period_s)
    once = [h for h, kept in zip(hits, keep, strict=True) if kept]
    return [
        replace(h, time_s=h.time_s + turn * loop.period_s)
        for turn in range(loop.turns)
        for h in once
    ]


SMOOTH_BEATS = 8
"""Beats each side of a beat in the line `smooth_beats` fits (two bars: a tempo that drifts
is followed, a single late or early hit is not)."""


def smooth_beats(beats: Sequence[float], *, half_window: int = SMOOTH_BEATS) -> np.ndarray:
    """Each beat moved onto the straight line (time against beat number) fitted to the
    ``half_window`` beats each side of it: a beat tracker puts each beat on a nearby hit, so
    the drummer's push and drag would become the grid's; the local line keeps the tempo and
    its drift and leaves the timing to the hits."""
    b = np.asarray(beats, dtype=np.float64)
    if b.size < 3:
        return b
    out = np.empty_like(b)
    index = np.arange(b.size, dtype=np.float64)
    for i in range(b.size):
        lo, hi = max(0, i - half_window), min(b.size, i + half_window + 1)
        slope, intercept = np.polyfit(index[lo:hi], b[lo:hi], 1)
        out[i] = slope * i + intercept
    return out


def place_on_grid(
    hits: Iterable[SourceHit], *, beats: Sequence[float], downbeats: Sequence[float]
) -> list[PlacedHit]:
    """Hits on 16 steps a bar of the grid of ``beats`` (seconds), bar 0 at ``downbeats[0]``.

    The beats are smoothed first (`smooth_beats`); a hit's position is interpolated between
    the beats around it (one beat's length is extrapolated before the first and after the
    last); its bar counts 4 beats from the first downbeat. Hits before bar 0 are left out.
    """
    b = smooth_beats(beats)
    if b.size < 2 or not len(downbeats):
        return []
    first = int(np.argmin(np.abs(np.asarray(beats, dtype=np.float64) - float(downbeats[0]))))
    placed = []
    for hit in hits:
        k = int(np.clip(np.searchsorted(b, hit.time_s, side="right") - 1, 0, b.size - 2))
        position = k + (hit.time_s - b[k]) / (b[k + 1] - b[k])  # in beats
        steps = (position - first) * STEPS_PER_BEAT
        nearest = round(steps)
        if nearest < 0 or position < -1 or position > b.size:
            continue
        bar, step = divmod(nearest, STEPS_PER_BEAT * BEATS_PER_BAR)
        placed.append(
            PlacedHit(
                bar=bar,
                step=step,
                offset=float(steps - nearest),
                role=hit.role,
                vel=hit.vel,
                sample_id=hit.sample_id,
                time_s=hit.time_s,
            )
        )
    return placed


def _cells(hits: Iterable[PlacedHit], bar: int) -> set[tuple[int, str]]:
    return {(h.step, h.role) for h in hits if h.bar == bar}


def _f1(a: set, b: set) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0


def best_section(
    placed: Sequence[PlacedHit], *, lengths: Sequence[int] = SECTION_BARS
) -> Section | None:
    """The section of ``placed`` that loops best.

    Every candidate (a start bar and a length of ``lengths``) is laid over the whole input,
    repeating: each bar outside it that holds hits is compared with the candidate's bar at
    the same place in the repeat, and the mean F1 of their (step, role) cells is its score.
    The highest score wins; on a tie the shorter section, then the one with more hits, then
    the earlier one. Of the winning length, a start a whole number of sections from bar 0
    wins over a better one by less than `PHRASE_MARGIN`: a phrase, fill last, is what a
    producer loops, and a few hits heard differently should not move the loop off it. Bars
    without hits (an intro before the drums) count for no candidate. A candidate with no
    hits is never chosen; when no bar lies outside any candidate, the fullest shortest
    section wins with score 0. None when there are no hits.

    A 2-bar groove played three times and then varied scores 5/6 + 0.2/6 from its first bar
    (the varied bar shares one cell of ten with its counterpart); one bar of it scores ~0.5,
    so the 2-bar section wins.
    """
    if not placed:
        return None
    n_bars = max(h.bar for h in placed) + 1
    bars = [_cells(placed, b) for b in range(n_bars)]
    scored: dict[tuple[int, int], tuple] = {}  # (length, start) -> ranking key
    for length in sorted(lengths):
        for start in range(n_bars - length + 1):
            own = bars[start : start + length]
            if not any(own):
                continue
            others = [
                _f1(bars[b], own[(b - start) % length])
                for b in range(n_bars)
                if bars[b] and not start <= b < start + length
            ]
            score = round(float(np.mean(others)), 9) if others else 0.0
            scored[(length, start)] = (score, -length, sum(map(len, own)), -start)
    if not scored:
        return None
    length, start = max(scored, key=scored.__getitem__)
    best_score = scored[(length, start)][0]
    phrased = [
        (key, s)
        for (n, s), key in scored.items()
        if n == length and s % length == 0 and key[0] >= best_score - PHRASE_MARGIN
    ]
    if phrased:
        start = max(phrased)[1]
    hits = tuple(
        PlacedHit(**{**h.__dict__, "bar": h.bar - start})
        for h in placed
        if start <= h.bar < start + length
    )
    return Section(start, length, scored[(length, start)][0], hits)


def tile_section(section: Section, *, bars: int) -> list[PlacedHit]:
    """The section's hits repeated over ``bars`` bars (cut at the end)."""
    return [
        PlacedHit(**{**h.__dict__, "bar": h.bar + repeat * section.n_bars})
        for repeat in range(-(-bars // section.n_bars))
        for h in section.hits
        if h.bar + repeat * section.n_bars < bars
    ]
