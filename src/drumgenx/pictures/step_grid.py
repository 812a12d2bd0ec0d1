"""The pattern as a drum-machine step grid, one panel per event grid.

Rows are the five roles (CORE at the bottom, as a kick lane sits lowest in a drum rack),
columns the 16th-note steps, with beat lines and heavier bar lines. A hit shades its cell
in the role's colour, darker the harder it is played; a thin dark tick inside the cell shows
when it sounds: at the centre on the grid, left of it early, right of it late, the cell edge
being half a step. Several hits of one role on one step stack their ticks, one per hit, and
the strongest hit shades the cell. Long patterns wrap, ``bars_per_line`` bars to a strip.

A tick moves only a pixel or two for the ~10 ms a drummer (or GrooVAE) plays off the grid,
so under each strip a timing lane magnifies it: every hit is a dot in its role's colour,
above the zero line when late, below when early, on a ms scale shared by all panels
of a picture (5 ms is at least 5 pixels at the default dpi), so the panels'
timing can be compared at a glance.

`step_grid_cells` and `timing_marks` compute that geometry without drawing (what the tests
check); `step_grid_figure` draws it and `step_grid_png` returns it as a PNG.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.records import Event, Grid
from drumgenx.core.roles import ROLES
from drumgenx.pictures.palette import RGB, ROLE_COLOURS, check_dpi, velocity_rgb

# Row of each role counted from the bottom: CORE lowest, TEXTURE on top.
ROW: dict[str, int] = {role: i for i, role in enumerate(ROLES)}

CELL_PAD_X = 0.1  # gap left and right of a cell, in steps: the grid lines show through it
CELL_PAD_Y = 0.1  # gap above and below a cell, in rows
NOTCH_H = 0.1  # white marks at a hit cell's top and bottom centre: where "on the grid" is
MAX_TICK_SHIFT = 0.5  # a tick never leaves its cell: half a step either way
DEFAULT_DPI = 100

# The timing lane's half-height in ms: the smallest that holds every offset with 10 % to
# spare, at least 20 ms (so a grid with no offsets still shows a readable scale), at most
# 100 ms (GrooVAE keeps offsets within half a step, 62.5 ms at 120 BPM); beyond, a dot stops
# at the edge as a triangle. Each range comes with the spacing of its labelled ticks.
LANE_RANGES_MS: dict[int, int] = {20: 10, 30: 10, 40: 20, 50: 25, 60: 20, 80: 40, 100: 50}
LANE_HEADROOM = 1.1
LANE_IN_PER_MS = 0.02  # 2 px per ms at 100 dpi ...
LANE_MIN_H = 0.8  # ... in a lane 0.8 to 2 inches tall
LANE_MAX_H = 2.0

# Sizes in inches; a picture is laid out by hand so its size is known before drawing.
_ROW_H = 0.3
_MARGIN_LEFT = 1.05
_MARGIN_RIGHT = 0.2
_LEGEND_GAP = 0.45
_LEGEND_W = 2.0
_TITLE_H = 0.55
_TOP_H = 0.2
_PANEL_HEAD_H = 0.32
_AXIS_H = 0.42
_PANEL_GAP = 0.2
_BOTTOM_H = 0.1
_LANE_GAP = 0.22  # below a timing lane, before the next strip or panel
_LEGEND_NEEDS = 4.4  # the legend's height from the top of the first strip

_EMPTY_LIGHT = "#efefef"  # empty cell on beats 1 and 3
_EMPTY_DARK = "#e1e1e1"  # empty cell on beats 2 and 4: groups of four, as on a TR-808
_BEAT_LINE = "#a8a8a8"
_BAR_LINE = "#303030"
_TICK = "#1a1a1a"
_LANE_BACK = "#f6f6f6"
_LANE_MINOR = "#e8e8e8"  # every 5 ms
_LANE_MAJOR = "#c8c8c8"  # at the labelled ticks
_LANE_MARK_S = 18.0  # dot area in points²: ~4.8 pt across


@dataclass(frozen=True)
class Tick:
    """The micro-timing mark of one hit, in strip-free pattern coordinates.

    ``x`` is in steps from the pattern's start (a hit on the grid sits at its cell's centre,
    ``step + 0.5``); ``y0``..``y1`` in rows from the bottom. ``clipped`` is true when the
    hit lies more than half a step off and the tick stops at the cell edge.
    """

    x: float
    y0: float
    y1: float
    vel: float
    micro_offset_ms: float
    clipped: bool


@dataclass(frozen=True)
class Cell:
    """One role's hits on one step: the cell's shade and a tick per hit.

    ``step`` counts steps from the pattern's start (``bar * steps_per_bar + step``); ``row``
    from the bottom (`ROW`). ``rgb`` is the shade of the strongest hit, ``vel`` its velocity.
    """

    role: str
    row: int
    bar: int
    step: int
    vel: float
    rgb: RGB
    ticks: tuple[Tick, ...]


def offset_steps(micro_offset_ms: float, grid: Grid) -> float:
    """A micro-timing offset as a fraction of a step (positive = late); 0 if not finite."""
    if not math.isfinite(micro_offset_ms):
        return 0.0
    return micro_offset_ms / (grid.tstep * 1000.0)


@dataclass(frozen=True)
class TimingMark:
    """One hit in the timing lane.

    ``x`` is in steps from the pattern's start: inside the hit's step, in a sub-column of
    its role (CORE leftmost) so hits of several roles on one step stay apart. ``y`` is the
    offset in ms drawn (``micro_offset_ms`` held to the lane's range; 0 if not finite);
    ``clipped`` is true when it was held.
    """

    role: str
    bar: int
    step: int
    x: float
    y: float
    micro_offset_ms: float
    clipped: bool


def timing_range_ms(offsets_ms: Iterable[float]) -> int:
    """Half the timing lane's height in ms for these offsets (one of `LANE_RANGES_MS`).

    The smallest range that holds the largest finite ``|offset|`` with 10 % to spare; the
    largest range if none does.
    """
    largest = max((abs(o) for o in offsets_ms if math.isfinite(o)), default=0.0)
    for range_ms in LANE_RANGES_MS:
        if largest * LANE_HEADROOM <= range_ms:
            return range_ms
    return max(LANE_RANGES_MS)


def lane_height_in(range_ms: float) -> float:
    """The timing lane's height in inches for a lane of ``-range_ms..+range_ms``."""
    return min(LANE_MAX_H, max(LANE_MIN_H, 2 * range_ms * LANE_IN_PER_MS))


def lane_px_per_ms(range_ms: float, dpi: int = DEFAULT_DPI) -> float:
    """Pixels per millisecond in a timing lane of ``-range_ms..+range_ms`` at ``dpi``."""
    return lane_height_in(range_ms) * dpi / (2 * range_ms)


def _check_event(i: int, event: Event, grid: Grid) -> None:
    if event.role not in ROW:
        raise DrumgenxError(
            f"event {i}: unknown role {event.role!r} (expected one of {', '.join(ROLES)})"
        )
    if not (0 <= event.bar < grid.num_bars and 0 <= event.step < grid.steps_per_bar):
        raise DrumgenxError(
            f"event {i}: bar {event.bar}, step {event.step} lies outside the grid "
            f"({grid.num_bars} bars of {grid.steps_per_bar} steps)"
        )


def timing_marks(events: Sequence[Event], grid: Grid, range_ms: float) -> list[TimingMark]:
    """The dots a timing lane of ``-range_ms..+range_ms`` draws for ``events``.

    Parameters
    ----------
    events
        Hits of one event grid, in any order.
    grid
        The beat grid they lie on.
    range_ms
        Half the lane's height, e.g. from `timing_range_ms` over every panel.

    Returns
    -------
    list of TimingMark
        One per hit, ordered by step, row, then offset.

    Raises
    ------
    DrumgenxError
        An event has an unknown role or lies outside the grid, or ``range_ms`` is not
        positive.
    """
    if not (math.isfinite(range_ms) and range_ms > 0):
        raise DrumgenxError(f"range_ms must be a positive number of ms, got {range_ms!r}")
    marks = []
    for i, event in enumerate(events):
        _check_event(i, event, grid)
        step = event.bar * grid.steps_per_bar + event.step
        offset = event.micro_offset_ms if math.isfinite(event.micro_offset_ms) else 0.0
        y = max(-range_ms, min(range_ms, offset))
        marks.append(
            TimingMark(
                role=event.role,
                bar=event.bar,
                step=step,
                # Sub-columns over the middle 60 % of the step, CORE leftmost.
                x=step + 0.2 + 0.6 * ROW[event.role] / (len(ROLES) - 1),
                y=y,
                micro_offset_ms=event.micro_offset_ms,
                clipped=y != offset,
            )
        )
    return sorted(marks, key=lambda m: (m.step, ROW[m.role], m.y))


def step_grid_cells(events: Sequence[Event], grid: Grid) -> list[Cell]:
    """The cells and ticks a panel draws for ``events`` on ``grid``.

    Parameters
    ----------
    events
        Hits of one event grid, in any order.
    grid
        The beat grid they lie on.

    Returns
    -------
    list of Cell
        One per (role, bar, step) that has hits, ordered by step then row; each cell's
        ticks split its height evenly, strongest hit lowest.

    Raises
    ------
    DrumgenxError
        An event has an unknown role or lies outside the grid.
    """
    groups: dict[tuple[int, str], list[Event]] = {}
    for i, event in enumerate(events):
        _check_event(i, event, grid)
        groups.setdefault((event.bar * grid.steps_per_bar + event.step, event.role), []).append(
            event
        )
    cells: list[Cell] = []
    for (step, role), hits in sorted(groups.items(), key=lambda kv: (kv[0][0], ROW[kv[0][1]])):
        # Strongest first (lowest tick); ties broken by timing, then sample, so the layout
        # does not depend on the order of the file.
        hits = sorted(hits, key=lambda e: (-e.vel, e.micro_offset_ms, e.sample_id))
        row = ROW[role]
        # Ticks leave the cell's top and bottom edges free for the on-grid notches.
        bottom, height = row + CELL_PAD_Y + NOTCH_H, 1.0 - 2 * (CELL_PAD_Y + NOTCH_H)
        share = height / len(hits)
        gap = min(0.04, share * 0.15)  # a sliver between stacked ticks keeps them countable
        ticks = []
        for k, hit in enumerate(hits):
            shift = offset_steps(hit.micro_offset_ms, grid)
            clipped = abs(shift) > MAX_TICK_SHIFT
            shift = max(-MAX_TICK_SHIFT, min(MAX_TICK_SHIFT, shift))
            ticks.append(
                Tick(
                    x=step + 0.5 + shift,
                    y0=bottom + k * share + gap,
                    y1=bottom + (k + 1) * share - gap,
                    vel=hit.vel,
                    micro_offset_ms=hit.micro_offset_ms,
                    clipped=clipped,
                )
            )
        strongest = hits[0]
        cells.append(
            Cell(
                role=role,
                row=row,
                bar=strongest.bar,
                step=step,
                vel=strongest.vel,
                rgb=velocity_rgb(role, strongest.vel),
                ticks=tuple(ticks),
            )
        )
    return cells


def _summary(label: str, events: Sequence[Event], *, wrap: bool = False) -> str:
    """Panel heading: the label and what a producer checks first (density, dynamics, feel).

    ``wrap`` puts the numbers on a second line, for grids too narrow for one.
    """
    sep = "\n" if wrap else "  ·  "
    if not events:
        return f"{label}{sep}no hits"
    vels = [e.vel for e in events]
    offsets = [abs(e.micro_offset_ms) for e in events if math.isfinite(e.micro_offset_ms)]
    timing = sum(offsets) / len(offsets) if offsets else 0.0
    feel = "on the grid" if timing < 0.05 else f"mean |offset| {timing:.1f} ms"
    return (
        f"{label}{sep}{len(events)} hits  ·  velocity {min(vels):.2f}–{max(vels):.2f}"
        f"  ·  timing {feel}"
    )


def _check_options(dpi: int, bars_per_line: int) -> None:
    check_dpi(dpi)
    if not isinstance(bars_per_line, int) or bars_per_line < 1:
        raise DrumgenxError(f"bars_per_line must be a whole number >= 1, got {bars_per_line!r}")


def step_grid_figure(
    panels: Sequence[tuple[str, Sequence[Event]]],
    grid: Grid,
    *,
    title: str | None = None,
    dpi: int = DEFAULT_DPI,
    bars_per_line: int = 4,
) -> Any:
    """Draw event grids as stacked step-grid panels, each strip over its timing lane.

    Parameters are those of `step_grid_png`.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot. Its axes are labelled ``strip P L`` and ``timing P L``
        (panel ``P``, strip ``L``, from 0), so their data-to-pixel transforms can be read.

    Raises
    ------
    DrumgenxError
        As `step_grid_png`.
    """
    _check_options(dpi, bars_per_line)
    if not panels:
        raise DrumgenxError("nothing to draw: no event grids given")
    cells = [step_grid_cells(events, grid) for _, events in panels]  # validates before drawing
    range_ms = timing_range_ms(e.micro_offset_ms for _, events in panels for e in events)
    marks = [timing_marks(events, grid, range_ms) for _, events in panels]

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    spb = grid.steps_per_bar
    lines = math.ceil(grid.num_bars / bars_per_line)
    line_bars = min(bars_per_line, grid.num_bars)
    line_steps = line_bars * spb
    step_w = min(0.32, max(0.12, 12.0 / line_steps))  # 1 bar ~5 in wide, 4 bars ~12 in
    grid_w = line_steps * step_w
    strip_h = len(ROLES) * _ROW_H
    lane_h = lane_height_in(range_ms)
    wrap = grid_w < 8.0  # a heading line is ~7 in long at 10.5 pt
    head_h = _PANEL_HEAD_H + (0.2 if wrap else 0.0)
    panel_h = head_h + lines * (strip_h + _AXIS_H + lane_h + _LANE_GAP)
    top = _TITLE_H if title else _TOP_H
    content_h = top + len(panels) * panel_h + (len(panels) - 1) * _PANEL_GAP + _BOTTOM_H
    height = max(content_h, top + head_h + _LEGEND_NEEDS)
    width = _MARGIN_LEFT + grid_w + _LEGEND_GAP + _LEGEND_W + _MARGIN_RIGHT

    fig = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)

    def axes_at(left: float, top_in: float, w: float, h: float, label: str = "") -> Any:
        """Axes placed in inches from the top-left corner."""
        box = (left / width, 1 - (top_in + h) / height, w / width, h / height)
        return fig.add_axes(box, label=label)

    if title:
        fig.text(
            _MARGIN_LEFT / width,
            1 - 0.18 / height,
            title,
            ha="left",
            va="top",
            fontsize=13,
            fontweight="bold",
        )
    y = top
    for p, ((label, events), panel_cells, panel_marks) in enumerate(
        zip(panels, cells, marks, strict=True)
    ):
        fig.text(
            _MARGIN_LEFT / width,
            1 - (y + head_h - 0.08) / height,
            _summary(label, events, wrap=wrap),
            ha="left",
            va="bottom",
            fontsize=10.5,
        )
        y += head_h
        for line in range(lines):
            first_bar = line * bars_per_line
            bars_here = min(bars_per_line, grid.num_bars - first_bar)
            strip_w = bars_here * spb * step_w
            ax = axes_at(_MARGIN_LEFT, y, strip_w, strip_h, f"strip {p} {line}")
            strip = [c for c in panel_cells if first_bar <= c.bar < first_bar + bars_here]
            _draw_strip(ax, strip, grid, first_bar=first_bar, bars=bars_here)
            y += strip_h + _AXIS_H
            lane = axes_at(_MARGIN_LEFT, y, strip_w, lane_h, f"timing {p} {line}")
            here = [m for m in panel_marks if first_bar <= m.bar < first_bar + bars_here]
            _draw_lane(lane, here, grid, first_bar=first_bar, bars=bars_here, range_ms=range_ms)
            y += lane_h + _LANE_GAP
        y += _PANEL_GAP
    legend_left = _MARGIN_LEFT + grid_w + _LEGEND_GAP
    _draw_legend(axes_at, legend_left, top + head_h, grid)
    return fig


def step_grid_png(
    panels: Sequence[tuple[str, Sequence[Event]]],
    grid: Grid,
    *,
    title: str | None = None,
    dpi: int = DEFAULT_DPI,
    bars_per_line: int = 4,
) -> bytes:
    """Draw event grids as stacked step-grid panels and return the PNG.

    Parameters
    ----------
    panels
        ``(label, events)`` per panel, drawn top to bottom, e.g.
        ``[("skeleton", skeleton), ("GrooVAE humanize", humanized)]``.
    grid
        The beat grid every panel lies on.
    title
        Heading over the whole picture; none if omitted.
    dpi
        Pixels per inch (20..600); the picture's size in inches follows from the number of
        bars and panels, and from the timing lanes' range (`timing_range_ms` over every
        panel's offsets).
    bars_per_line
        Bars per strip; a longer pattern wraps onto further strips, so 16 bars stay
        readable.

    Returns
    -------
    bytes
        A PNG; the same input gives the same bytes.

    Raises
    ------
    DrumgenxError
        No panels, a bad option, or an event outside the grid or with an unknown role.
    """
    fig = step_grid_figure(panels, grid, title=title, dpi=dpi, bars_per_line=bars_per_line)
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        fig.clear()  # no pyplot: nothing global to close, just free the artists now


def _cell_rect(step: float, row: float) -> list[tuple[float, float]]:
    x0, x1 = step + CELL_PAD_X, step + 1 - CELL_PAD_X
    y0, y1 = row + CELL_PAD_Y, row + 1 - CELL_PAD_Y
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _notches(cells: Sequence[Cell], origin: int) -> list[list[tuple[float, float]]]:
    """Short marks at the centre of each hit cell's top and bottom edge."""
    marks = []
    for cell in cells:
        x = cell.step - origin + 0.5
        y0, y1 = cell.row + CELL_PAD_Y, cell.row + 1 - CELL_PAD_Y
        marks += [[(x, y0), (x, y0 + NOTCH_H)], [(x, y1 - NOTCH_H), (x, y1)]]
    return marks


def _draw_hits(ax: Any, cells: Sequence[Cell], origin: int) -> None:
    """Hit cells, their ticks and their on-grid notches; ``origin`` is the axes' step 0."""
    from matplotlib.collections import LineCollection, PolyCollection

    hits = [_cell_rect(c.step - origin, c.row) for c in cells]
    ax.add_collection(
        PolyCollection(hits, facecolors=[c.rgb for c in cells], linewidths=0, zorder=3)
    )
    ticks = [[(t.x - origin, t.y0), (t.x - origin, t.y1)] for c in cells for t in c.ticks]
    ax.add_collection(
        LineCollection(ticks, colors=_TICK, linewidths=1.4, capstyle="butt", zorder=4)
    )
    notches = _notches(cells, origin)
    ax.add_collection(LineCollection(notches, colors="white", linewidths=1.2, zorder=5))


def _draw_strip(ax: Any, cells: Sequence[Cell], grid: Grid, *, first_bar: int, bars: int) -> None:
    """One strip of ``bars`` bars: empty cells, grid lines, hit cells, ticks, axis labels."""
    from matplotlib.collections import LineCollection, PolyCollection

    spb = grid.steps_per_bar
    beat = max(1, spb // 4)  # 4/4: four steps to the beat
    steps = bars * spb
    origin = first_bar * spb  # cells carry pattern steps; this strip starts here

    empty, empty_colours = [], []
    for s in range(steps):
        shade = _EMPTY_LIGHT if (s // beat) % 2 == 0 else _EMPTY_DARK
        for row in range(len(ROLES)):
            empty.append(_cell_rect(s, row))
            empty_colours.append(shade)
    ax.add_collection(PolyCollection(empty, facecolors=empty_colours, linewidths=0, zorder=1))

    beat_lines = [[(s, 0), (s, len(ROLES))] for s in range(beat, steps, beat) if s % spb]
    bar_lines = [[(s, 0), (s, len(ROLES))] for s in range(0, steps + 1, spb)]
    ax.add_collection(LineCollection(beat_lines, colors=_BEAT_LINE, linewidths=1.0, zorder=2))
    ax.add_collection(LineCollection(bar_lines, colors=_BAR_LINE, linewidths=2.0, zorder=2))

    _draw_hits(ax, cells, origin)

    ax.set_xlim(0, steps)
    ax.set_ylim(0, len(ROLES))
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_yticks([r + 0.5 for r in range(len(ROLES))], list(ROLES), fontsize=9)
    for label, role in zip(ax.get_yticklabels(), ROLES, strict=True):
        label.set_color(ROLE_COLOURS[role])
        label.set_fontweight("bold")
    ax.tick_params(axis="y", length=0, pad=6)
    # Bar numbers centred over their bars (1-based, as a DAW counts), beats as minor ticks.
    ax.set_xticks([b * spb + spb / 2 for b in range(bars)])
    ax.set_xticklabels([f"bar {first_bar + b + 1}" for b in range(bars)], fontsize=9)
    ax.set_xticks([s + 0.5 for s in range(0, steps, beat)], minor=True)
    ax.set_xticklabels(
        [str((s % spb) // beat + 1) for s in range(0, steps, beat)], minor=True, fontsize=7
    )
    ax.tick_params(axis="x", which="major", length=0, pad=13)
    ax.tick_params(axis="x", which="minor", length=0, pad=2, labelcolor="#777777")


def _ms_label(ms: float) -> str:
    return "0" if ms == 0 else f"{ms:+g}".replace("-", "\u2212")


def _draw_lane(
    ax: Any,
    marks: Sequence[TimingMark],
    grid: Grid,
    *,
    first_bar: int,
    bars: int,
    range_ms: int,
) -> None:
    """One strip's timing lane: a dot per hit at its offset on a ms scale, a stem to 0."""
    from matplotlib.collections import LineCollection

    spb = grid.steps_per_bar
    beat = max(1, spb // 4)
    steps = bars * spb
    origin = first_bar * spb
    major = LANE_RANGES_MS[range_ms]
    minor = 5 if range_ms <= 50 else 10

    ax.set_facecolor(_LANE_BACK)
    minors = [[(0, v), (steps, v)] for v in range(-range_ms, range_ms + 1, minor) if v % major]
    majors = [[(0, v), (steps, v)] for v in range(-range_ms, range_ms + 1, major) if v]
    ax.add_collection(LineCollection(minors, colors=_LANE_MINOR, linewidths=0.6, zorder=1))
    ax.add_collection(LineCollection(majors, colors=_LANE_MAJOR, linewidths=0.8, zorder=1))
    beat_lines = [[(s, -range_ms), (s, range_ms)] for s in range(beat, steps, beat) if s % spb]
    bar_lines = [[(s, -range_ms), (s, range_ms)] for s in range(0, steps + 1, spb)]
    ax.add_collection(LineCollection(beat_lines, colors=_LANE_MAJOR, linewidths=0.8, zorder=1))
    ax.add_collection(LineCollection(bar_lines, colors=_BAR_LINE, linewidths=2.0, zorder=2))
    ax.add_collection(
        LineCollection([[(0, 0), (steps, 0)]], colors=_BAR_LINE, linewidths=1.0, zorder=2)
    )

    colours = [ROLE_COLOURS[m.role] for m in marks]
    stems = [[(m.x - origin, 0), (m.x - origin, m.y)] for m in marks]
    ax.add_collection(LineCollection(stems, colors=colours, linewidths=1.0, zorder=3))
    for shape, chosen in (
        ("o", [m for m in marks if not m.clipped]),
        ("^", [m for m in marks if m.clipped and m.y > 0]),
        ("v", [m for m in marks if m.clipped and m.y < 0]),
    ):
        if chosen:
            ax.scatter(
                [m.x - origin for m in chosen],
                [m.y for m in chosen],
                s=_LANE_MARK_S * (1.6 if shape != "o" else 1.0),
                c=[ROLE_COLOURS[m.role] for m in chosen],
                marker=shape,
                linewidths=0,
                zorder=4,
                clip_on=False,
            )

    ax.set_xlim(0, steps)
    ax.set_ylim(-range_ms, range_ms)
    ax.set_xticks([])
    labelled = list(range(-range_ms, range_ms + 1, major))
    ax.set_yticks(labelled, [_ms_label(v) for v in labelled], fontsize=7.5)
    ax.tick_params(axis="y", length=2, pad=2, colors="#444444")
    ax.set_ylabel("early   ms   late", fontsize=7.5, color="#444444", labelpad=2)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _draw_legend(axes_at: Any, left: float, top: float, grid: Grid) -> None:
    """The key: velocity shades per role, then what the ticks mean, in this grid's ms."""
    from matplotlib.collections import PolyCollection

    levels = (0.25, 0.5, 0.75, 1.0)
    cell_w = 0.42
    ramp = axes_at(left, top, cell_w * len(levels), len(ROLES) * _ROW_H)
    rects, colours = [], []
    for role in ROLES:
        for i, vel in enumerate(levels):
            rects.append(_cell_rect(i, ROW[role]))
            colours.append(velocity_rgb(role, vel))
    ramp.add_collection(PolyCollection(rects, facecolors=colours, linewidths=0))
    ramp.set_xlim(0, len(levels))
    ramp.set_ylim(0, len(ROLES))
    ramp.set_yticks([])
    ramp.set_xticks([i + 0.5 for i in range(len(levels))], [f"{v:g}" for v in levels])
    ramp.tick_params(axis="x", length=0, labelsize=8, pad=2)
    ramp.set_title("velocity (shade)", fontsize=9, loc="left", pad=4)
    for spine in ramp.spines.values():
        spine.set_visible(False)

    half_ms = grid.tstep * 1000 / 2
    step_ms = grid.tstep * 1000
    examples = {"early": (-0.3,), "on grid": (0.0,), "late": (0.3,), "2 hits": (-0.2, 0.25)}
    # The key is drawn by the same code as the pattern, from hits on a one-bar grid.
    key_grid = replace(grid, num_bars=1, bar_start=grid.bar_start[:1])
    key_events = [
        Event(0, i, "CORE", f"key{k}", 0.55 - 0.1 * k, 1.0, shift * step_ms)
        for i, shifts in enumerate(examples.values())
        for k, shift in enumerate(shifts)
    ]
    key_top = top + len(ROLES) * _ROW_H + 0.62
    key = axes_at(left, key_top, cell_w * len(examples), _ROW_H * 1.6)
    _draw_hits(key, step_grid_cells(key_events, key_grid), 0)
    key.set_xlim(0, len(examples))
    key.set_ylim(0, 1)
    key.set_yticks([])
    key.set_xticks([i + 0.5 for i in range(len(examples))], list(examples))
    key.tick_params(axis="x", length=0, labelsize=7.5, pad=2)
    key.set_title("timing (tick)", fontsize=9, loc="left", pad=4)
    for spine in key.spines.values():
        spine.set_visible(False)
    key.text(
        0,
        -0.75,
        f"½ step (to the cell edge)\n= {half_ms:.0f} ms at {grid.bpm:g} BPM\n"
        "white notch = on the grid\n"
        "several hits: a tick each,\nthe strongest shades the cell\n\n"
        "under each strip, magnified:\na dot per hit at its offset (ms),\n"
        "up = late, down = early",
        transform=key.transAxes,
        ha="left",
        va="top",
        fontsize=7.5,
        color="#444444",
    )
