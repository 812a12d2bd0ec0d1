"""Exports from the editor: the loop opened as WAV, as MIDI, and the run's kit, each written
into OUT as the command line writes it (a new N, never over a file), then downloaded.

The loop is rendered by the render stage's own function (`render.run.render_file`, exactly
its bars long unless the run kept tails), its MIDI by `render.run.export_midi_file`, both
beside the event grid as ``drumgenx edit render`` and ``edit export-midi`` write them; the
kit by `kit.export.export_kit` (SFZ and Hydrogen, with the loop's MIDI on the kit's keys)
into the run's ``kits/``. A kit is a folder, so its download is a zip built in memory.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from drumgenx.render.settings import RenderSettings
from drumgenx.studio.api import BadRequest, NotFound, StudioApi

__all__ = ["EXPORT_KINDS", "KITS_FOLDER", "download", "export"]

EXPORT_KINDS = ("wav", "midi", "kit")
KITS_FOLDER = "kits"  # in the run's folder: `drumgenx export-kit --out_dir` for the studio
_KIT_FOLDER = re.compile(r"^[^./][^/]*_kit_\d+$")  # export_kit's <name>_kit_N
_DOWNLOADED_FILES = frozenset({".wav", ".mid"})


def export(api: StudioApi, *, record: str, events: str, kind: str) -> dict[str, Any]:
    """Write ``events`` (an event grid of the run ``record``) as ``kind`` into OUT.

    Parameters
    ----------
    api
        The studio's API (paths, runs).
    record
        The run's ``run_N.json``: its pools, library and loop setting (tails kept or not);
        the grid and swing are the event grid's own (`StudioApi.loop_of`).
    events
        The event grid, as saved (the page exports what is on disk).
    kind
        ``wav`` (``render[_suffix]_N.wav`` beside ``events``), ``midi``
        (``midi[_suffix]_N.mid`` beside it) or ``kit`` (``kits/drumgenx_kit_N/``).

    Returns
    -------
    dict
        ``written``: what was written (relative to OUT); ``download``: its URL; ``notices``:
        the lines the export said (a sample pulled before the MIDI file's start, say).
    """
    if kind not in EXPORT_KINDS:
        raise BadRequest(f"field 'kind': expected {', '.join(EXPORT_KINDS)}, got {kind!r}"[:200])
    run = api.read_run(record)
    events_path = api.event_grid_path(events)
    pools = run.output("roles", "pools")
    if pools is None:
        raise NotFound(f"{record!r} names no pools: it stopped before stage 2")
    params = run.data["params"]
    loop, grid = api.loop_of(events_path)  # the bpm, bars and swing it was saved with
    swing = loop.swing
    library = run.output("preprocess", "library")
    notices: list[str] = []
    if kind == "wav":
        from drumgenx.render.run import render_file

        written = render_file(
            events_path,
            grid,
            pools_json=pools,
            sample_root=library,
            swing=swing,
            loop=bool(params.get("loop", RenderSettings.loop)),
            notify=notices.append,
        ).path
    elif kind == "midi":
        from drumgenx.render.run import export_midi_file

        written = export_midi_file(events_path, grid, swing=swing, notify=notices.append).path
    else:
        from drumgenx.kit.export import export_kit

        written = export_kit(
            pools_json=pools,
            out_dir=run.root / KITS_FOLDER,
            sample_root=library,
            events_json=events_path,
            grid_json=grid,
            swing=swing,
            notify=notices.append,
        ).folder
    name = api.name(written)
    return {"written": name, "download": f"/api/download?path={quote(name)}", "notices": notices}


def download(api: StudioApi, relative: str) -> tuple[str, bytes | Path]:
    """What ``GET /api/download`` sends for ``relative``: a WAV or MIDI file under OUT as it
    is, or a kit folder (``<name>_kit_N/``) as a zip built in memory.

    Returns
    -------
    (file name, content)
        The name the browser saves it under; the file's path or the zip's bytes.
    """
    path = api.inside(relative)
    if path.is_file() and path.suffix.lower() in _DOWNLOADED_FILES:
        return path.name, path
    if path.is_dir() and _KIT_FOLDER.match(path.name) and (path / "drumkit.xml").is_file():
        return f"{path.name}.zip", _zip_folder(path)
    raise NotFound(f"no WAV, MIDI file or exported kit {relative!r} to download")


def _zip_folder(folder: Path) -> bytes:
    """Every plain file under ``folder`` (no links, no hidden files), under its name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            parts = path.relative_to(folder).parts
            if path.is_file() and not path.is_symlink() and not any(p[0] == "." for p in parts):
                archive.write(path, Path(folder.name, *parts).as_posix())
    return buffer.getvalue()
