"""Step-grid picture: cell shades, micro-timing ticks, polyphony, the PNG itself."""

from __future__ import annotations

import io
import itertools
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.image import imread

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.records import Event, Grid
from drumgenx.core.roles import ROLES
from drumgenx.pictures.palette import ROLE_COLOURS, role_rgb, velocity_rgb
from drumgenx.pictures.step_grid import (
    MAX_TICK_SHIFT,
    ROW,
    step_grid_cells,
    step_grid_png,
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
