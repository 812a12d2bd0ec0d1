"""Step-grid picture: cell shades, micro-timing ticks, polyphony, the timing lane, the PNG."""

from __future__ import annotations

import io
import itertools
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import imread

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.records import Event, Grid
from drumgenx.core.roles import ROLES
from drumgenx.pictures.palette import ROLE_COLOURS, role_rgb, velocity_rgb
from drumgenx.pictures.step_grid import (
    DEFAULT_DPI,
    LANE_RANGES_MS,
    MAX_TICK_SHIFT,
    ROW,
    lane_px_per_ms,
    step_grid_cells,
    step_grid_figure,
    step_grid_png,
    timing_marks,
    timing_range_ms,
)
from drumgenx.skeleton.grid import build_grid


def _hit(bar: int, step: int, role: str = "CORE", vel: float = 0.8, ms: float = 0.0) -> Event:
    return Event(bar, step, role, f"{role.lower()}_{bar}_{step}_{vel}", vel, 1.0, ms, "groovae")


def _decode(png: bytes) -> np.ndarray:
    return imread(io.BytesIO(png), format="png")


@pytest.fixture
def grid() -> Grid:
    return build_grid(bpm=120, num_bars=2)  # tstep 0.125 s: half a step is 62.5 ms


def test_palette_has_a_distinct_colour_per_role() -> None:
    assert set(ROLE_COLOURS) == set(ROLES)
    assert len({role_rgb(r) for r in ROLES}) == len(ROLES)
    with pytest.raises(DrumgenxError, match="unknown role"):
        role_rgb("COWBELL")


@pytest.mark.parametrize("role", ROLES)
def test_a_harder_hit_is_darker_and_full_velocity_is_the_role_colour(role: str) -> None:
    soft, hard = velocity_rgb(role, 0.3), velocity_rgb(role, 1.0)
    assert all(h < s for h, s in zip(hard, soft, strict=True))
    assert hard == pytest.approx(role_rgb(role))
    assert sum(velocity_rgb(role, 0.0)) < 3.0  # even a silent hit shows as a tint


def test_cells_shade_by_velocity_and_sit_on_their_role_row(grid: Grid) -> None:
    cells = step_grid_cells([_hit(1, 4, "ACCENT", 0.3), _hit(0, 0, "CORE", 1.0)], grid)
    assert [(c.role, c.row, c.step) for c in cells] == [("CORE", 0, 0), ("ACCENT", 1, 20)]
    core, accent = cells
    assert sum(core.rgb) < sum(velocity_rgb("CORE", 0.3))
    assert accent.rgb == velocity_rgb("ACCENT", 0.3)
    assert ROW["CORE"] == 0 and ROW["TEXTURE"] == len(ROLES) - 1  # CORE at the bottom


def test_ticks_move_by_the_offset_as_a_fraction_of_a_step(grid: Grid) -> None:
    cells = step_grid_cells(
        [_hit(0, 0, ms=0.0), _hit(0, 1, ms=25.0), _hit(0, 2, ms=-12.5), _hit(0, 3, ms=300.0)],
        grid,
    )
    on, late, early, far = (c.ticks[0] for c in cells)
    assert on.x == pytest.approx(0.5)  # the centre of step 0's cell
    assert late.x == pytest.approx(1.5 + 25.0 / 125.0)
    assert early.x == pytest.approx(2.5 - 12.5 / 125.0)
    assert not (on.clipped or late.clipped or early.clipped)
    assert far.clipped and far.x == pytest.approx(3.5 + MAX_TICK_SHIFT)  # stays in its cell


def test_several_hits_on_one_step_get_a_tick_each_and_the_strongest_shades(grid: Grid) -> None:
    hits = [_hit(0, 8, "MOTION", v, ms) for v, ms in ((0.4, -5.0), (0.9, 3.0), (0.6, 0.0))]
    (cell,) = step_grid_cells([*hits, _hit(0, 8, "CORE", 0.2)], grid)[1:]
    assert cell.role == "MOTION" and len(cell.ticks) == 3
    assert cell.vel == 0.9 and cell.rgb == velocity_rgb("MOTION", 0.9)
    assert [t.vel for t in cell.ticks] == [0.9, 0.6, 0.4]  # strongest lowest
    spans = [(t.y0, t.y1) for t in cell.ticks]
    assert all(ROW["MOTION"] < y0 < y1 < ROW["MOTION"] + 1 for y0, y1 in spans)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))  # no overlap
    # The order of the file does not change the picture.
    assert step_grid_cells(hits[::-1], grid) == step_grid_cells(hits, grid)


def test_events_off_the_grid_or_with_unknown_roles_are_refused(grid: Grid) -> None:
    with pytest.raises(DrumgenxError, match="outside the grid"):
        step_grid_cells([_hit(2, 0)], grid)
    with pytest.raises(DrumgenxError, match="unknown role"):
        step_grid_cells([Event(0, 0, "COWBELL", "x", 0.5, 1.0)], grid)


def test_png_decodes_with_the_size_of_its_layout(grid: Grid) -> None:
    panels = [("skeleton", [_hit(0, 0)]), ("GrooVAE humanize", [_hit(0, 0, ms=-8.0)])]
    one = _decode(step_grid_png(panels[:1], grid, dpi=50))
    two = _decode(step_grid_png(panels, grid, dpi=50))
    assert one.shape[2] in (3, 4) and two.shape[1] == one.shape[1]
    assert two.shape[0] > one.shape[0]  # a second panel adds height, not width
    doubled = _decode(step_grid_png(panels, grid, dpi=100))
    assert doubled.shape[:2] == pytest.approx((2 * two.shape[0], 2 * two.shape[1]), abs=1)


def test_long_patterns_wrap_into_strips_of_bounded_width() -> None:
    sizes = {}
    for bars in (1, 4, 16):
        png = step_grid_png([("x", [_hit(bars - 1, 15)])], build_grid(bpm=90, num_bars=bars))
        sizes[bars] = _decode(png).shape[:2]
    assert sizes[4][1] == sizes[16][1] > sizes[1][1]  # 16 bars: 4 strips as wide as 4 bars
    assert sizes[16][0] > 1.8 * sizes[4][0]  # ... stacked one under another


def _pixels_of(image: np.ndarray, rgb: tuple[float, float, float]) -> int:
    return int(np.all(np.abs(image[..., :3] - np.array(rgb)) < 2.5 / 255, axis=-1).sum())


def test_the_drawn_cell_has_the_velocity_shade(grid: Grid) -> None:
    hard = _decode(step_grid_png([("p", [_hit(0, 5, "FILL", 0.9)])], grid))
    soft = _decode(step_grid_png([("p", [_hit(0, 5, "FILL", 0.3)])], grid))
    shade = velocity_rgb("FILL", 0.9)  # not a level the legend shows
    assert _pixels_of(hard, shade) > 50
    assert _pixels_of(soft, shade) == 0
    assert _pixels_of(soft, velocity_rgb("FILL", 0.3)) > 50


def test_same_input_gives_the_same_bytes(grid: Grid) -> None:
    panels = [("a", [_hit(0, 0), _hit(1, 3, "TEXTURE", 0.5, 7.0)])]
    assert step_grid_png(panels, grid, title="t") == step_grid_png(panels, grid, title="t")


def test_bad_options_and_no_panels_are_user_errors(grid: Grid) -> None:
    with pytest.raises(DrumgenxError, match="nothing to draw"):
        step_grid_png([], grid)
    with pytest.raises(DrumgenxError, match="dpi"):
        step_grid_png([("a", [])], grid, dpi=0)
    with pytest.raises(DrumgenxError, match="bars_per_line"):
        step_grid_png([("a", [])], grid, bars_per_line=0)


def test_importing_the_package_does_not_import_matplotlib() -> None:
    code = "import sys, drumgenx.pictures; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


# The timing lane: the ~10 ms a drummer plays off the grid, magnified.


def test_the_lane_range_comes_from_the_offsets_with_a_minimum() -> None:
    assert timing_range_ms([]) == timing_range_ms([0.0, -0.0]) == 20  # the minimum
    assert timing_range_ms([3.0, -9.0]) == 20
    assert timing_range_ms([19.0]) == 30  # 10 % headroom: no dot sits on the edge
    assert timing_range_ms([-22.2, 10.0, float("nan")]) == 30  # a GrooVAE humanize
    assert timing_range_ms([45.0]) == 50
    assert timing_range_ms([500.0, float("inf")]) == max(LANE_RANGES_MS)


@pytest.mark.parametrize("range_ms", sorted(LANE_RANGES_MS))
def test_five_ms_is_at_least_four_pixels_in_every_lane(range_ms: int) -> None:
    assert 5 * lane_px_per_ms(range_ms, DEFAULT_DPI) >= 4.0
    assert 5 * lane_px_per_ms(30, DEFAULT_DPI) >= 8.0  # a usual humanize: 10 px


def test_marks_sit_at_their_offset_held_to_the_range_in_a_column_per_role(grid: Grid) -> None:
    hits = [
        _hit(1, 3, "TEXTURE", ms=-7.5),
        _hit(0, 2, "MOTION", ms=float("nan")),
        _hit(0, 2, "CORE", ms=12.0),
        _hit(1, 0, "FILL", ms=-90.0),
        _hit(1, 0, "ACCENT", ms=35.0),
    ]
    marks = timing_marks(hits, grid, 30)
    assert [(m.role, m.step) for m in marks] == [
        ("CORE", 2),
        ("MOTION", 2),
        ("ACCENT", 16),
        ("FILL", 16),
        ("TEXTURE", 19),
    ]
    assert [m.y for m in marks] == [12.0, 0.0, 30.0, -30.0, -7.5]
    assert [m.clipped for m in marks] == [False, False, True, True, False]
    assert all(m.step < m.x < m.step + 1 for m in marks)
    core, motion = marks[:2]
    assert core.x < motion.x  # two roles on one step stay apart, CORE leftmost
    assert timing_marks(hits[::-1], grid, 30) == marks
    with pytest.raises(DrumgenxError, match="outside the grid"):
        timing_marks([_hit(2, 0)], grid, 30)
    with pytest.raises(DrumgenxError, match="range_ms"):
        timing_marks(hits, grid, 0)


def _lane(fig: Figure, panel: int, line: int = 0) -> Axes:
    (ax,) = [a for a in fig.axes if a.get_label() == f"timing {panel} {line}"]
    return ax


def test_the_drawn_lane_moves_a_dot_at_least_four_pixels_for_five_ms(grid: Grid) -> None:
    before = [_hit(0, s, "MOTION", 0.5) for s in (0, 8)]
    after = [_hit(0, 0, "MOTION", 0.5, 0.0), _hit(0, 8, "MOTION", 0.5, 5.0)]
    panels = [("skeleton", before), ("GrooVAE humanize", after)]
    fig = step_grid_figure(panels, grid)
    ax = _lane(fig, 1)
    on, late = ax.transData.transform([(0.5, 0.0), (0.5, 5.0)])
    assert late[1] - on[1] >= 4.0  # pixels up, for 5 ms late
    assert late[1] - on[1] == pytest.approx(5 * lane_px_per_ms(20, DEFAULT_DPI), abs=0.5)
    # ... and in the PNG: the late dot's top lies that much higher than the on-grid one's.
    image = _decode(step_grid_png(panels, grid))
    height = image.shape[0]
    box = ax.get_window_extent()
    rows = slice(int(height - box.y1), int(height - box.y0))
    colour = np.array(role_rgb("MOTION"))

    def top_row(mark_x: float) -> int:
        cx = round(ax.transData.transform((mark_x, 0.0))[0])
        patch = image[rows, cx - 2 : cx + 3, :3]
        hit_rows = np.flatnonzero(np.all(np.abs(patch - colour) < 3 / 255, axis=-1).any(axis=1))
        assert hit_rows.size, "no dot drawn in the lane"
        return int(hit_rows[0])

    on_mark, late_mark = timing_marks(after, grid, 20)
    displacement = top_row(on_mark.x) - top_row(late_mark.x)
    assert displacement >= 4
    assert displacement == pytest.approx(5 * lane_px_per_ms(20, DEFAULT_DPI), abs=1.5)
    # The skeleton's lane, same scale: both dots on the zero line, level with each other.
    ax = _lane(fig, 0)
    box = ax.get_window_extent()
    rows = slice(int(height - box.y1), int(height - box.y0))
    first, second = timing_marks(before, grid, 20)
    assert top_row(first.x) == top_row(second.x)


def test_every_panel_shares_the_lane_scale(grid: Grid) -> None:
    panels = [("a", [_hit(0, 0)]), ("b", [_hit(0, 0, ms=-22.0)])]
    fig = step_grid_figure(panels, grid)
    assert [_lane(fig, p).get_ylim() for p in (0, 1)] == [(-30, 30), (-30, 30)]
    labels = [t.get_text() for t in _lane(fig, 0).get_yticklabels()]
    assert labels[0] == "\u221230" and "0" in labels and labels[-1] == "+30"
    wrapped = step_grid_figure(panels, build_grid(bpm=120, num_bars=6), bars_per_line=4)
    assert _lane(wrapped, 1, 1).get_xlim() == (0, 2 * 16)  # each strip has its lane
