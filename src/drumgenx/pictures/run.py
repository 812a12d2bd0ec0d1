"""The pictures from files on disk, each written as a new versioned PNG (never overwriting)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.formats import check_events_fit_grid, load_events, load_grid, read_json
from drumgenx.core.records import Grid
from drumgenx.core.versioning import write_versioned
from drumgenx.pictures.library_map import DEFAULT_DPI as LIBRARY_DPI
from drumgenx.pictures.library_map import library_map_png
from drumgenx.pictures.step_grid import DEFAULT_DPI as GRID_DPI
from drumgenx.pictures.step_grid import step_grid_png

_FAMILY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def _check_family(family: str) -> None:
    # The family becomes a file name: no folders, no dots that would confuse versioning.
    if not _FAMILY.match(family):
        raise DrumgenxError(
            f"family {family!r}: use letters, digits, '_' or '-', starting with a letter"
        )


def step_grid_title(events_jsons: Sequence[str | Path], grid: Grid) -> str:
    """The step-grid picture's default heading: the files it drew (the event grids, top
    panel first, not the beat grid they share), the tempo and the length."""
    names = ", ".join(Path(path).name for path in events_jsons)
    bars = f"{grid.num_bars} bar{'s' if grid.num_bars != 1 else ''}"
    return f"{names}  ·  {grid.bpm:g} BPM  ·  {bars}"


def plot_step_grid_file(
    grid_json: str | Path,
    events_jsons: Sequence[tuple[str, str | Path]],
    *,
    out_dir: str | Path,
    family: str = "grid_picture",
    title: str | None = None,
    dpi: int = GRID_DPI,
    bars_per_line: int = 4,
) -> Path:
    """Draw event grids on their beat grid as one step-grid PNG, ``<family>_<N>.png``.

    Parameters
    ----------
    grid_json
        ``grid_N.json``.
    events_jsons
        ``(label, path)`` per panel, top to bottom, e.g.
        ``[("skeleton", "event_grid_1.json"), ("GrooVAE humanize",
        "event_grid_groovae_1.json")]``.
    out_dir
        Output folder (created if needed).
    family
        File name stem; N is one higher than any existing ``<family>_<N>.*``.
    title
        Heading; by default `step_grid_title`: the event grids' file names, the tempo and
        the length. Each panel's heading also names its file.
    dpi, bars_per_line
        As in `step_grid_png`.

    Returns
    -------
    Path
        The new PNG.

    Raises
    ------
    DrumgenxError
        A file is missing or malformed, an event grid does not fit the grid, no event
        grids are given, or an option is bad.
    """
    _check_family(family)
    if not events_jsons:
        raise DrumgenxError("nothing to draw: give at least one event grid")
    grid = load_grid(grid_json)
    panels = []
    for label, path in events_jsons:
        events = load_events(path)
        check_events_fit_grid(events, grid, events_path=path)
        name = Path(path).name
        panels.append((f"{label}  ·  {name}" if label else name, events))
    if title is None:
        title = step_grid_title([path for _, path in events_jsons], grid)
    png = step_grid_png(panels, grid, title=title, dpi=dpi, bars_per_line=bars_per_line)
    _, paths = write_versioned(out_dir, {family: (".png", png)})
    return paths[family]


def chosen_sample_ids(skeleton_meta_json: str | Path) -> list[str]:
    """The sample ids in ``skeleton_meta_N.json``'s ``chosen`` lists, in role order."""
    meta = read_json(skeleton_meta_json, "skeleton_meta")
    seen: dict[str, None] = {}
    for items in meta["chosen"].values():
        for item in items:
            seen.setdefault(item["sample_id"], None)
    return list(seen)


def plot_library_file(
    per_sample_json: str | Path,
    *,
    out_dir: str | Path,
    skeleton_meta_json: str | Path | None = None,
    family: str = "library_map",
    title: str | None = None,
    dpi: int = LIBRARY_DPI,
) -> Path:
    """Draw ``per_sample_N.json``'s library as a role-coloured map, ``<family>_<N>.png``.

    Parameters
    ----------
    per_sample_json
        ``per_sample_N.json`` from stage 2.
    out_dir
        Output folder (created if needed).
    skeleton_meta_json
        ``skeleton_meta_N.json``: its ``chosen`` samples are marked as used in the pattern.
    family
        File name stem; N is one higher than any existing ``<family>_<N>.*``.
    title
        Heading; by default the file's name, the library's folder and its size.
    dpi
        As in `library_map_png`.

    Returns
    -------
    Path
        The new PNG.

    Raises
    ------
    DrumgenxError
        A file is missing or malformed, the library is empty, or an option is bad.
    """
    _check_family(family)
    data = read_json(per_sample_json, "per_sample")
    samples = data["samples"]
    if not samples:
        skipped = len(data["skipped"])
        raise DrumgenxError(
            f"{per_sample_json}: no samples to map ({skipped} file(s) skipped by stage 2)"
        )
    chosen = chosen_sample_ids(skeleton_meta_json) if skeleton_meta_json is not None else []
    if title is None:
        n = len(samples)
        title = (
            f"{Path(per_sample_json).name} · sample library · {data['input_dir']}"
            f" · {n} one-shot{'s' if n != 1 else ''}"
        )
    png = library_map_png(samples, chosen=chosen, title=title, dpi=dpi)
    _, paths = write_versioned(out_dir, {family: (".png", png)})
    return paths[family]
