"""PNG pictures a producer would rather look at than read.

* `step_grid_png`: the pattern as a drum-machine step grid (velocity shade, micro-timing
  ticks, a magnified timing lane in ms), one panel per event grid, e.g. the skeleton above
  its GrooVAE humanization; `step_grid_figure` the same as a matplotlib figure.
* `library_map_png`: the sample library as a 2-D map coloured by role (PCA of the DSP
  features), with the samples the pattern uses marked.
* `plot_step_grid_file`, `plot_library_file`: the same from files on disk, written as new
  versioned PNGs.

matplotlib is imported only when a picture is drawn, so importing this package stays cheap.
"""

from __future__ import annotations

from drumgenx.pictures.library_map import library_map_png, project_2d
from drumgenx.pictures.palette import ROLE_COLOURS, role_rgb, velocity_rgb
from drumgenx.pictures.run import plot_library_file, plot_step_grid_file
from drumgenx.pictures.step_grid import (
    step_grid_cells,
    step_grid_figure,
    step_grid_png,
    timing_marks,
)

__all__ = [
    "ROLE_COLOURS",
    "library_map_png",
    "plot_library_file",
    "plot_step_grid_file",
    "project_2d",
    "role_rgb",
    "step_grid_cells",
    "step_grid_figure",
    "step_grid_png",
    "timing_marks",
    "velocity_rgb",
]
