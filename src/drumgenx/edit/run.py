"""Editor commands with disk I/O: read an event grid, apply an operation, write a new version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.formats import dump_json, load_events, schema_problem
from drumgenx.core.records import Event, events_to_json
from drumgenx.core.versioning import write_versioned

EDIT_FAMILY = "event_grid_edit"


def edit_file(
    events_path: str | Path,
    operation: Callable[[list[Event]], list[Event]],
    *,
    out_dir: str | Path | None = None,
) -> Path:
    """Apply ``operation`` to the events in ``events_path``; write ``event_grid_edit_N.json``.

    The input file is never modified; the new file goes to ``out_dir`` (default: beside it).
    """
    events_path = Path(events_path)
    edited = events_to_json(operation(load_events(events_path)))
    # Never write a version that could not be loaded back (e.g. an empty --sample).
    problem = schema_problem(edited, "event_grid")
    if problem is not None:
        raise DrumgenxError(f"the edit would make an invalid event grid: {problem}")
    _, paths = write_versioned(
        out_dir or events_path.parent, {EDIT_FAMILY: (".json", dump_json(edited))}
    )
    return paths[EDIT_FAMILY]
