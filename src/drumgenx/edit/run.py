"""Editor commands with disk I/O: read an event grid, apply an operation, write a new version."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.core.formats import dump_json, load_events, load_pools, schema_problem
from drumgenx.core.layout import find_run_files
from drumgenx.core.records import Event, events_to_json
from drumgenx.core.versioning import write_versioned
from drumgenx.edit.operations import POOL_SEED, draw_pool_sample, most_used_sample, set_hit
from drumgenx.edit.settings import OFFSET_MS

EDIT_FAMILY = "event_grid_edit"


def _write_edit(
    events_path: Path,
    edited: list[Event],
    out_dir: str | Path | None,
    companions: Mapping[str, bytes] | None = None,
) -> Path:
    data = events_to_json(edited)
    # Never write a version that could not be loaded back (e.g. an empty --sample).
    problem = schema_problem(data, "event_grid")
    if problem is not None:
        raise DrumgenxError(f"the edit would make an invalid event grid: {problem}")
    files = {EDIT_FAMILY: (".json", dump_json(data))}
    files |= {family: (".json", content) for family, content in (companions or {}).items()}
    _, paths = write_versioned(out_dir or events_path.parent, files)
    return paths[EDIT_FAMILY]


def edit_file(
    events_path: str | Path,
    operation: Callable[[list[Event]], list[Event]],
    *,
    out_dir: str | Path | None = None,
    companions: Mapping[str, bytes] | None = None,
) -> Path:
    """Apply ``operation`` to the events in ``events_path``; write ``event_grid_edit_N.json``.

    The input file is never modified; the new file goes to ``out_dir`` (default: beside it).
    ``companions`` (``{family: JSON bytes}``, e.g. the studio's ``grid_edit``) are written
    with it, all or none, under the same N: ``grid_edit_N.json`` beside
    ``event_grid_edit_N.json``.
    """
    events_path = Path(events_path)
    edited = operation(load_events(events_path))
    return _write_edit(events_path, edited, out_dir, companions)


class NoSampleError(ParameterError):
    """A new hit has no sample: none given, no hit of its role, and no pool sample to draw.

    The message says why and names the parameters that would supply one (the command line
    names its flags instead).
    """


@dataclass(frozen=True)
class DrawnSample:
    """The sample `set_hit_file` drew from pools: which, from which file, with which seed."""

    sample_id: str
    pools_json: Path
    seed: int


@dataclass(frozen=True)
class SetResult:
    """What `set_hit_file` wrote; ``drawn`` is set when the sample came from the pools."""

    path: Path
    drawn: DrawnSample | None = None


def draw_sample_for(
    events_path: str | Path,
    *,
    role: str,
    seed: int = POOL_SEED,
    pools_json: str | Path | None = None,
) -> DrawnSample:
    """Draw a ``role`` sample from ``pools_json``, or from the pools of the run that wrote
    ``events_path`` (found through the run's layout, `drumgenx.core.layout.find_run_files`).

    Raises
    ------
    NoSampleError
        No pools were given or found, or their ``role`` pool is empty.
    """
    events_path = Path(events_path)
    if pools_json is None:
        found = find_run_files(events_path)
        if found is None or found.pools is None:
            raise NoSampleError.about(
                "no {role} sample to use: {events} holds no {role} hit and is not in the "
                "output folder of a `drumgenx run` with pools; pass {0} or {1}",
                "sample_id",
                "pools_json",
                role=role,
                events=events_path,
            )
        pools_json = found.pools
    pools_json = Path(pools_json)
    sample_id = draw_pool_sample(load_pools(pools_json), role=role, seed=seed)
    if sample_id is None:
        raise NoSampleError.about(
            "no {role} sample anywhere: {events} holds no {role} hit and the {role} pool of "
            "{pools} is empty; pass {0}",
            "sample_id",
            role=role,
            events=events_path,
            pools=pools_json,
        )
    return DrawnSample(sample_id, pools_json, seed)


def set_hit_file(
    events_path: str | Path,
    *,
    bar: int,
    step: int,
    role: str,
    sample_id: str | None = None,
    vel: float | None = None,
    micro_offset_ms: float = OFFSET_MS,
    pools_json: str | Path | None = None,
    seed: int = POOL_SEED,
    out_dir: str | Path | None = None,
) -> SetResult:
    """`set_hit` on the events in ``events_path``; write ``event_grid_edit_N.json``.

    The sample, when ``sample_id`` is None: the one the ``role`` hits already use most; if
    there are none, one drawn with ``seed`` from the ``role`` pool of ``pools_json`` (default:
    the pools of the `drumgenx run` whose output folder holds ``events_path``), reported in
    the result's ``drawn``.

    Raises
    ------
    NoSampleError
        No sample of ``role`` in the events, and none in the pools (or no pools found).
    DrumgenxError
        As `set_hit`; and a malformed events or pools file.
    """
    events_path = Path(events_path)
    events = load_events(events_path)
    drawn = None
    if sample_id is None and most_used_sample(events, role=role) is None:
        drawn = draw_sample_for(events_path, role=role, seed=seed, pools_json=pools_json)
        sample_id = drawn.sample_id
    edited = set_hit(
        events,
        bar=bar,
        step=step,
        role=role,
        sample_id=sample_id,
        vel=vel,
        micro_offset_ms=micro_offset_ms,
    )
    return SetResult(_write_edit(events_path, edited, out_dir), drawn)
