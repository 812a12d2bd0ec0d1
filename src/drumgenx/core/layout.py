"""Where `drumgenx run` puts each stage's files, and how to find a run's files again.

Layout under a run's output folder ``out``::

    library_K/   stage 1: dummy_NNNNN.wav, manifest_N.json (a new K for every stage-1 run)
    roles/       stage 2: pools_N.json, per_sample_N.json
    skeleton/    stage 3: grid_N.json, event_grid_N.json, skeleton_meta_N.json, render_N.wav,
                 midi_N.mid
    groove/      stage 4: event_grid_groovae_N.json, render_groovae_N.wav, midi_groovae_N.mid,
                 grid_picture_N.png (before and after GrooVAE), library_map_N.png
    run_N.json   what this run did: parameters, each stage's key and outputs, the final files
    .drumgenx-run/  one record per finished stage, keyed by its inputs and parameters

`drumgenx run` (``chain.run``) writes this layout; the editor reads it back
(`find_run_files`) to find the pools and the library an event grid's samples come from.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

STATE_DIR = ".drumgenx-run"  # the stage records, under the run's output folder
RUN_FAMILY = "run"  # run_N.json, one per run
LIBRARY_PREFIX = "library_"  # library_K/, one per stage-1 run
STAGE_FOLDERS: dict[str, str] = {"roles": "roles", "skeleton": "skeleton", "groove": "groove"}

_RUN_RECORD = re.compile(rf"^{RUN_FAMILY}_(\d+)\.json$")


def stage_folder(out: str | Path, stage: str) -> Path:
    """The folder of ``stage``'s files (``roles``, ``skeleton`` or ``groove``) under ``out``."""
    if stage not in STAGE_FOLDERS:
        raise ValueError(f"stage must be one of {', '.join(STAGE_FOLDERS)}, got {stage!r}")
    return Path(out) / STAGE_FOLDERS[stage]


def library_folder(out: str | Path, k: int) -> Path:
    """``out/library_K``: the one-shots of one stage-1 run."""
    return Path(out) / f"{LIBRARY_PREFIX}{k}"


def library_numbers(out: str | Path) -> list[int]:
    """Every K of the ``library_K`` folders under ``out``, ascending."""
    names = (p.name.removeprefix(LIBRARY_PREFIX) for p in Path(out).glob(f"{LIBRARY_PREFIX}*"))
    return sorted(int(n) for n in names if n.isdigit())


def run_records(out: str | Path) -> list[Path]:
    """The ``run_N.json`` files under ``out``, newest (highest N) first."""
    try:
        names = [p.name for p in Path(out).iterdir()]
    except OSError:
        return []
    numbered = [(int(m.group(1)), name) for name in names if (m := _RUN_RECORD.match(name))]
    return [Path(out) / name for _, name in sorted(numbered, reverse=True)]


def find_run_root(path: str | Path) -> Path | None:
    """The output folder of the `drumgenx run` that holds ``path``, or None.

    Walks up from ``path`` to the first folder that holds both the stage records
    (``.drumgenx-run/``) and a ``run_N.json``; the folder is relative to the current folder
    when it lies under it, else absolute.
    """
    start = Path(os.path.abspath(path))
    for folder in (start, *start.parents):
        if (folder / STATE_DIR).is_dir() and run_records(folder):
            # as the user would write it: relative when under the current folder
            return Path(os.path.relpath(folder)) if folder.is_relative_to(Path.cwd()) else folder
    return None


@dataclass(frozen=True)
class RunFiles:
    """The files of one `drumgenx run` an edit needs: its pools and its one-shot library.

    ``record`` is the ``run_N.json`` they were read from; ``matched`` says whether that record
    names one of the files asked about (False: none did, so the newest record was taken).
    """

    root: Path
    record: Path
    pools: Path | None
    library: Path | None
    matched: bool


def _outputs(record: Path) -> dict[str, dict[str, str]] | None:
    """``{stage: {name: path under the run folder}}`` of a run record; None if unreadable."""
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        return {s["stage"]: dict(s["outputs"]) for s in data["stages"]}
    except (OSError, ValueError, TypeError, KeyError):
        return None


def find_run_files(*paths: str | Path) -> RunFiles | None:
    """The pools and library of the `drumgenx run` that wrote ``paths`` (e.g. events, grid).

    The run folder is found by walking up from the first of ``paths`` inside one (see
    `find_run_root`). Of its ``run_N.json`` records, the newest that lists one of ``paths``
    among its outputs is used; when none does (an edit's file, say), the newest record.

    Returns
    -------
    RunFiles or None
        None when no path is inside a run folder or no record there can be read. A field is
        None when the record names no such file or the file is gone.
    """
    for path in paths:
        root = find_run_root(path)
        if root is not None:
            break
    else:
        return None
    wanted = {Path(p).resolve() for p in paths}
    readable = [(r, o) for r in run_records(root) if (o := _outputs(r)) is not None]
    if not readable:
        return None

    def lists_a_path(outputs: dict[str, dict[str, str]]) -> bool:
        named = (p for stage in outputs.values() for p in stage.values())
        return any((root / p).resolve() in wanted for p in named)

    matching = [(r, o) for r, o in readable if lists_a_path(o)]
    record, outputs = (matching or readable)[0]
    matched = bool(matching)

    def existing(stage: str, name: str) -> Path | None:
        relative = outputs.get(stage, {}).get(name)
        return root / relative if relative and (root / relative).exists() else None

    return RunFiles(
        root=root,
        record=record,
        pools=existing("roles", "pools"),
        library=existing("preprocess", "library"),
        matched=matched,
    )
