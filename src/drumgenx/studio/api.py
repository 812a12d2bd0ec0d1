"""What the studio's endpoints do: read and write OUT's files through the package's functions.

Every path in a request or an answer is relative to OUT, ``/``-separated, and checked by
`drumgenx.studio.paths.resolve_inside` (nothing outside OUT, no ``..``, no symlink out).
Answers are JSON; an error is ``{"error": "one line"}`` with a status: 400 a bad request,
403 a refused path or request, 404 nothing there, 409 a save conflict, 500 a bug.

Endpoints (the routes are in `drumgenx.studio.app`)
--------------------------------------------------
``GET /``
    The page, with the per-launch token in ``<meta name="drumgenx-token">``.
``GET /static/NAME``
    The page's own files (``studio/static/``), nothing else.
``GET /files/PATH``
    A file under OUT: audio, JSON, PNG or MIDI (`SERVED_SUFFIXES`).
``GET /api/runs``
    ``{"out", "runs": [...]}``: every ``run_N.json`` in OUT and its direct subfolders, newest
    first (`StudioApi.runs`).
``GET /api/run?record=PATH``
    One run: its grid, event grids (skeleton, groove, edits), pools, renders, MIDI files,
    pictures, and the rules a new hit follows (`StudioApi.run`).
``GET /api/events?path=PATH``
    One event grid: its events, its loop (grid, bpm, bars, swing: `StudioApi.loop_of`), the
    newest edit of its lineage, each sample's file and the sample a new hit of each role
    takes (`StudioApi.events`).
``POST /api/save``
    ``{"base", "head", "edits": [...], "loop": {"bpm", "bars", "swing"}, "force"}``: the
    edits applied to ``base`` through `drumgenx.edit.operations`, written as a new
    ``event_grid_edit_N.json`` beside it (`drumgenx.edit.run.edit_file`), with
    ``grid_edit_N.json`` when ``loop`` is not the run's own; 409 when a newer edit than
    ``head`` was saved since (`StudioApi.save`). Answers as ``/api/events`` for the new file.
``POST /api/groove``
    ``{"record", "events", "mode", "temperature", "seed"}``: stage 4 on ``events``
    (`drumgenx.groove.run.run_groove`), written to the run's ``groove/``; answers as
    ``/api/events`` for the new file, with ``added`` and ``removed`` (`StudioApi.groove`).

``GET /api/library?record=PATH[&pools=PATH][&waveforms=0][&places=0]``
    The run's one-shots by role from a pools file (default: the newest of the run's), each
    with its file, confidence, waveform (a peak envelope; not with ``waveforms=0``) and place
    on the library map (not with ``places=0``) (`drumgenx.studio.library.library`).
``GET /api/library/peaks?record=PATH[&pools=PATH]&id=ID[&id=ID...]``
    ``{"peaks": {id: [...]}}``: the waveforms of those samples, at most 500 at once (the
    rows a large library's page shows; `drumgenx.studio.library.peaks`).
``GET /api/library/map?record=PATH``
    ``{"per_sample", "places": {id: [x, y]}, "explained"}``: the library map apart from the
    lists (`drumgenx.studio.library.library_map`).
``POST /api/library/move``
    ``{"record", "pools", "sample_id", "role"}``: the sample moved to ``role``, written as a
    new ``pools_N.json`` beside ``pools`` (never over it); answers as ``/api/library`` with
    ``waveforms=0&places=0`` for the new file, with ``written`` and ``from_role``
    (`drumgenx.studio.library.move_sample`).
``POST /api/export``
    ``{"record", "events", "kind"}``: the saved event grid as ``wav`` (`render.run.render_file`)
    or ``midi`` (`render.run.export_midi_file`), beside it, or the run's ``kit``
    (`kit.export.export_kit`, into the run's ``kits/``); each a new N. Answers ``{"written",
    "download", "notices"}`` (`drumgenx.studio.exports.export`).
``GET /api/download?path=PATH``
    A WAV or MIDI file under OUT as an attachment, or an exported kit folder as a zip built
    in memory (`drumgenx.studio.exports.download`).
``POST /api/new-run``
    A multipart form: ``files`` (audio uploads, any number), ``folder`` (a folder of audio
    on this machine, optional), ``params`` (JSON: ``bars``, ``bpm``, ``mode``,
    ``temperature``, ``seed``, each optional). Saves the uploads into a new
    ``OUT/new_<time>/input/`` and starts the four stages there in the background; 202 with
    ``{"run", "saved", "skipped": [{"name", "reason"}]}``; 409 while another run is under
    way; 413 over the upload limits (`drumgenx.studio.new_run`).
``GET /api/new-run``
    ``{"running": folder or null}``: the run under way, for a page opened while it runs.
``GET /api/new-run/events?run=FOLDER``
    The run's events as server-sent events (``stage``, ``progress``, ``notice``, then
    ``done``, ``failed`` or ``stopped``), from the first (or after ``Last-Event-ID``) to the
    run's end (`drumgenx.studio.new_run.RunJob`).
``POST /api/new-run/stop``
    ``{"run": FOLDER}``: the run stops at its next file or stage; the finished stages'
    files stay, the unfinished one's are removed; 202, then its stream ends with
    ``stopped``; 404 no such run, 409 it has ended (`drumgenx.studio.new_run.NewRuns.stop`).

POSTs also need the token (``X-Drumgenx-Token``) and an ``Origin`` of the studio itself;
`drumgenx.studio.app` checks both before any of this runs.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drumgenx.core.errors import DrumgenxError, FormatError
from drumgenx.core.events import DUR_STEPS, MAX_VOICES, velocity
from drumgenx.core.formats import dump_json, load_events, load_grid, load_pools, read_json
from drumgenx.core.layout import find_run_files, run_records, stage_folder
from drumgenx.core.pools import resolve_sample_path
from drumgenx.core.records import Event, Grid, Pools, events_to_json
from drumgenx.core.roles import ROLES
from drumgenx.core.versioning import latest_version, write_new_files
from drumgenx.edit.operations import (
    MAX_OFFSET_MS,
    Selection,
    draw_pool_sample,
    most_used_sample,
    remove_hits,
)
from drumgenx.edit.operations import set_hit as set_hit_operation
from drumgenx.edit.run import EDIT_FAMILY, edit_file
from drumgenx.edit.settings import POOL_SEED
from drumgenx.pictures.palette import ROLE_COLOURS
from drumgenx.render.mixer import RELEASE_MS
from drumgenx.render.settings import RenderSettings
from drumgenx.render.timing import check_swing
from drumgenx.skeleton.grid import build_grid
from drumgenx.studio.paths import OutsideError, relative_name, resolve_inside

__all__ = [
    "SERVED_SUFFIXES",
    "BadRequest",
    "Conflict",
    "Loop",
    "NotFound",
    "RequestError",
    "StudioApi",
    "apply_edits",
    "cached_pools",
    "checked_field",
    "groove_arguments",
    "loop_grid_name",
    "save_arguments",
]

SERVED_SUFFIXES = frozenset(
    {".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".json", ".png", ".mid"}
)
EVENT_GRID_STAGES = ("skeleton", "groove")  # the stage folders event grids (and edits) live in
GRID_EDIT_FAMILY = EDIT_FAMILY.replace("event_grid", "grid", 1)  # grid_edit_N.json
LOOP_SWING_FIELD = "swing"  # grid_edit_N.json's optional swing (core/schemas/grid.schema.json)


class RequestError(DrumgenxError):
    """A request the studio answers with an error; ``status`` is the HTTP status."""

    status = 400


class BadRequest(RequestError):
    """The request's body or parameters are malformed."""


class NotFound(RequestError):
    """Nothing of the kind asked for at that path."""

    status = 404


class Conflict(RequestError):
    """A save that would pass over an edit saved since the client loaded (another tab).

    ``newer`` names that edit's file (relative to OUT).
    """

    status = 409

    def __init__(self, message: str, *, newer: str) -> None:
        super().__init__(message)
        self.newer = newer


def checked_field(
    body: Mapping[str, Any], name: str, kind: type | tuple[type, ...], *, optional=False
):
    """``body[name]``, checked to be ``kind`` (JSON true and false are no numbers here)."""
    value = body.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise BadRequest(f"field {name!r}: expected {names}, got {value!r}"[:200])
    return value


_NUMBER = (int, float)


def save_arguments(body: Mapping[str, Any]) -> dict[str, Any]:
    """`StudioApi.save`'s arguments from a ``POST /api/save`` body (checked)."""
    edits = body.get("edits")
    if not isinstance(edits, list):
        raise BadRequest(f"field 'edits': expected a list of edits, got {edits!r}"[:200])
    loop = checked_field(body, "loop", dict, optional=True)
    return {
        "base": checked_field(body, "base", str),
        "edits": edits,
        "head": checked_field(body, "head", str, optional=True),
        "force": body.get("force") is True,
        "loop": None if loop is None else Loop.from_request(loop),
    }


def loop_grid_name(events_path: Path) -> Path:
    """The grid file that belongs to an event grid: ``event_grid_N.json`` (stage 3's) ->
    ``grid_N.json``, ``event_grid_edit_N.json`` -> ``grid_edit_N.json`` (the studio's)."""
    return events_path.with_name(events_path.name.replace("event_grid", "grid", 1))


@dataclass(frozen=True)
class Loop:
    """How a loop plays: its grid (bpm, bars) and its swing (`render.timing`)."""

    grid: Grid
    swing: float

    @classmethod
    def from_request(cls, body: Mapping[str, Any]) -> Loop:
        """A loop from ``{"bpm", "bars", "swing"}``, each checked as the command line checks
        it (`skeleton.grid.build_grid`, `render.timing.check_swing`)."""
        bpm = float(checked_field(body, "bpm", _NUMBER))
        bars = checked_field(body, "bars", int)
        swing = check_swing(float(checked_field(body, "swing", _NUMBER)))
        return cls(build_grid(bpm=bpm, num_bars=bars), swing)

    def same_as(self, other: Loop) -> bool:
        """The same bpm, bars and swing (a loop saved so needs no grid file of its own)."""
        mine, theirs = self.grid, other.grid
        return (mine.bpm, mine.num_bars, self.swing) == (theirs.bpm, theirs.num_bars, other.swing)

    def grid_file(self) -> bytes:
        """The loop as ``grid_edit_N.json``: the grid (as stage 3 writes one) and its swing."""
        return dump_json(self.grid.to_json() | {LOOP_SWING_FIELD: self.swing})

    def to_json(self) -> dict[str, Any]:
        """``{"bpm", "bars", "swing", "grid"}``: the loop as `StudioApi.events` answers it."""
        grid = self.grid
        return {"bpm": grid.bpm, "bars": grid.num_bars, "swing": self.swing, "grid": grid.to_json()}


def groove_arguments(body: Mapping[str, Any]) -> dict[str, Any]:
    """`StudioApi.groove`'s arguments from a ``POST /api/groove`` body (checked)."""
    return {
        "record": checked_field(body, "record", str),
        "events": checked_field(body, "events", str),
        "mode": checked_field(body, "mode", str),
        "temperature": float(checked_field(body, "temperature", _NUMBER)),
        "seed": checked_field(body, "seed", int),
    }


def apply_edits(events: list[Event], edits: list[Mapping[str, Any]]) -> list[Event]:
    """``events`` with the studio's edits applied in order, through `edit.operations`.

    Parameters
    ----------
    events
        The event grid the client started from.
    edits
        Each ``{"op": "set", "bar", "step", "role", "sample_id", "vel", "micro_offset_ms",
        "dur_steps" (optional)}`` (`set_hit`: adds the hit, or replaces the one of that role
        on that step) or ``{"op": "remove", "bar", "step", "role"}`` (`remove_hits` on that
        one hit).

    Raises
    ------
    BadRequest
        An edit is malformed.
    DrumgenxError
        An operation refuses it (a velocity out of 0..1, a fourth voice on a step, no such
        hit to remove); the message says which.
    """
    for edit in edits:
        if not isinstance(edit, Mapping):
            raise BadRequest(f"an edit must be an object, got {edit!r}"[:200])
        op = edit.get("op")
        bar, step = checked_field(edit, "bar", int), checked_field(edit, "step", int)
        role = checked_field(edit, "role", str)
        if op == "remove":
            one_hit = Selection(frozenset({bar}), frozenset({step}), frozenset({role}))
            events = remove_hits(events, one_hit)
        elif op == "set":
            events = set_hit_operation(
                events,
                bar=bar,
                step=step,
                role=role,
                sample_id=checked_field(edit, "sample_id", str),
                vel=float(checked_field(edit, "vel", _NUMBER)),
                micro_offset_ms=float(checked_field(edit, "micro_offset_ms", _NUMBER)),
                dur_steps=checked_field(edit, "dur_steps", _NUMBER, optional=True),
            )
        else:
            raise BadRequest(f"field 'op': expected 'set' or 'remove', got {op!r}"[:200])
    return events


@functools.lru_cache(maxsize=16)
def _pools_of(path: str, size: int, mtime_ns: int) -> Pools:
    return load_pools(path)


def cached_pools(path: Path) -> Pools:
    """`load_pools`, once per file: a pools file is never overwritten (a change is a new N),
    and checking one of thousands of samples against its schema takes a good part of a
    second. Keyed by the file's name, size and modification time all the same."""
    stat = path.stat()
    return _pools_of(str(path), stat.st_size, stat.st_mtime_ns)


def _new_hit_sample(events: list[Event], role: str, pools: Pools | None) -> str | None:
    """The sample a new ``role`` hit takes, as ``drumgenx edit set`` takes it without
    ``--sample`` (`edit.run.set_hit_file`): the one the role uses most, else one drawn from
    the run's pools with the editor's seed; None: neither has one."""
    used = most_used_sample(events, role=role)
    if used is not None or pools is None:
        return used
    return draw_pool_sample(pools, role=role, seed=POOL_SEED)


@dataclass(frozen=True)
class _Run:
    """A run record read back: where it is and its stages' outputs (relative to its folder)."""

    record: Path
    data: dict[str, Any]

    @property
    def root(self) -> Path:
        return self.record.parent

    def output(self, stage: str, name: str) -> Path | None:
        for entry in self.data["stages"]:
            if entry["stage"] == stage and name in entry["outputs"]:
                return self.root / entry["outputs"][name]
        return None


class StudioApi:
    """The logic behind the studio's endpoints, on one folder OUT.

    Parameters
    ----------
    out
        The folder served; every file read or written lies inside it.
    groove_models
        Stage 4 weights folder per mode (``{"humanize": Path, "vary": Path}``); a mode not
        named uses the shipped weights.
    """

    def __init__(self, out: str | Path, *, groove_models: Mapping[str, Path] | None = None):
        self.out = Path(out).resolve()
        self.groove_models = dict(groove_models or {})
        # One save at a time: the conflict check and the write must see the same lineage.
        self._save_lock = threading.Lock()

    # --- paths ------------------------------------------------------------------------------

    def inside(self, relative: str) -> Path:
        """The file ``relative`` names inside OUT (see `resolve_inside`)."""
        return resolve_inside(self.out, relative)

    def name(self, path: Path | None) -> str | None:
        """``path`` as the client names it (relative to OUT), or None (none, or outside)."""
        return None if path is None else relative_name(self.out, path)

    def file(self, relative: str) -> Path:
        """A file under OUT the studio serves as it is (`SERVED_SUFFIXES`).

        Raises
        ------
        OutsideError, NotFound, RequestError
            As `resolve_inside`; no such file; a type the studio does not serve (403).
        """
        path = self.inside(relative)
        if path.suffix.lower() not in SERVED_SUFFIXES:
            raise OutsideError(f"the studio serves audio, JSON, PNG and MIDI, not {relative!r}")
        if not path.is_file():
            raise NotFound(f"no file {relative!r} in the studio's folder")
        return path

    # --- runs -------------------------------------------------------------------------------

    def _records(self) -> list[Path]:
        """``run_N.json`` in OUT, then in each direct subfolder (a parent of run folders)."""
        folders = [self.out]
        with contextlib.suppress(OSError):  # OUT gone while serving: no runs, not a crash
            folders += sorted(
                p for p in self.out.iterdir() if p.is_dir() and not p.name.startswith(".")
            )
        return [record for folder in folders for record in run_records(folder)]

    def read_run(self, record: str) -> _Run:
        """The run record ``record`` (a ``run_N.json`` the studio lists), read."""
        path = self.inside(record)
        if path not in self._records():
            raise NotFound(f"{record!r} is not a run record (run_N.json) in the studio's folder")
        return _Run(path, read_json(path, "run"))

    def runs(self) -> dict[str, Any]:
        """Every run in OUT: ``{"out": folder, "runs": [{"record", "folder", "inputs",
        "params", "final"}, ...]}``; a record that cannot be read is listed with ``"error"``."""
        listed = []
        for record in self._records():
            entry: dict[str, Any] = {
                "record": self.name(record),
                "folder": self.name(record.parent) or ".",
            }
            try:
                data = read_json(record, "run")
            except FormatError as exc:
                entry["error"] = str(exc)
            else:
                entry |= {
                    "inputs": data.get("inputs", [data["input_dir"]]),
                    "params": data["params"],
                    "final": data["final"],
                }
            listed.append(entry)
        return {"out": str(self.out), "runs": listed}

    def run(self, record: str) -> dict[str, Any]:
        """One run's files, each named relative to OUT.

        Returns
        -------
        dict
            ``record``, ``folder``, ``params``; ``grid`` (the grid itself) and ``grid_path``;
            ``pools`` and ``library``; ``event_grids``: every event grid in the run's stage
            folders (skeleton, groove, edits; by name) and ``start``, the one to open first
            (the run's final loop); ``audio``, ``midi``, ``pictures``: its files by kind;
            ``rules``: what a new hit gets (roles, velocity by role and step, length,
            voices per step, micro-timing limit, fade after its length) and each role's colour.
        """
        run = self.read_run(record)
        grid_path = run.output("skeleton", "grid")
        if grid_path is None or not grid_path.is_file():
            raise NotFound(f"{record!r} has no grid: its run stopped before stage 3")
        files: dict[str, list[str]] = {"audio": [], "midi": [], "pictures": [], "event_grids": []}
        kinds = {".wav": "audio", ".mid": "midi", ".png": "pictures"}
        for stage in EVENT_GRID_STAGES:
            folder = stage_folder(run.root, stage)
            for path in sorted(folder.glob("[!.]*")) if folder.is_dir() else []:
                if path.name.startswith("event_grid") and path.suffix == ".json":
                    files["event_grids"].append(self.name(path))
                elif path.suffix in kinds:
                    files[kinds[path.suffix]].append(self.name(path))
        start = run.output("groove", "event_grid") or run.output("skeleton", "event_grid")
        return {
            "record": self.name(run.record),
            "folder": self.name(run.root) or ".",
            "params": run.data["params"],
            "grid_path": self.name(grid_path),
            "grid": load_grid(grid_path).to_json(),
            "pools": self.name(run.output("roles", "pools")),
            "library": self.name(run.output("preprocess", "library")),
            "start": self.name(start) if start and start.is_file() else None,
            **files,
            "rules": {
                "roles": list(ROLES),
                "colours": ROLE_COLOURS,  # the pictures' palette
                "velocity": {role: [velocity(role, step) for step in range(16)] for role in ROLES},
                "dur_steps": DUR_STEPS,
                "max_voices": MAX_VOICES,
                "max_offset_ms": MAX_OFFSET_MS,
                "release_ms": RELEASE_MS,
            },
        }

    # --- loops: the grid and swing an event grid plays with ---------------------------------

    def run_of(self, events_path: Path) -> _Run:
        """The run whose folder holds ``events_path`` (`core.layout.find_run_files`)."""
        found = find_run_files(events_path)
        if found is None:
            raise NotFound(f"{self.name(events_path)!r} is not in the folder of a run")
        return _Run(found.record.resolve(), read_json(found.record, "run"))

    @staticmethod
    def run_loop(run: _Run) -> tuple[Loop, Path]:
        """The run's own loop (its stage-3 grid, the swing it ran with) and the grid's file."""
        grid = run.output("skeleton", "grid")
        if grid is None or not grid.is_file():
            raise NotFound(f"{run.record.name} has no grid: its run stopped before stage 3")
        swing = float(run.data["params"].get("swing", RenderSettings.swing))
        return Loop(load_grid(grid), swing), grid

    def loop_of(self, events_path: Path) -> tuple[Loop, Path]:
        """The loop ``events_path`` plays with, and its grid file: the grid beside it that
        `loop_grid_name` names (stage 3's own, or one the studio saved with another bpm,
        bars or swing: `Loop.grid_file`), else the run's (`run_loop`). A grid without the
        studio's ``swing`` field has the run's swing."""
        run = self.run_of(events_path)
        loop, grid = self.run_loop(run)
        own = loop_grid_name(events_path)
        if own.is_file() and own != grid:
            swing = read_json(own, "grid").get(LOOP_SWING_FIELD, loop.swing)
            if isinstance(swing, bool) or not isinstance(swing, _NUMBER):
                raise FormatError(f"{own}: field {LOOP_SWING_FIELD!r}: expected a number")
            return Loop(load_grid(own), check_swing(float(swing))), own
        return loop, grid

    # --- event grids ------------------------------------------------------------------------

    def event_grid_path(self, relative: str) -> Path:
        """The event grid file ``relative`` names (``event_grid*_N.json``), which must exist."""
        path = self.inside(relative)
        if not (path.name.startswith("event_grid") and path.suffix == ".json"):
            raise BadRequest(f"{relative!r} is not an event grid (event_grid*_N.json)")
        if not path.is_file():
            raise NotFound(f"no event grid {relative!r} in the studio's folder")
        return path

    def _lineage_head(self, folder: Path) -> Path | None:
        """The newest edit (``event_grid_edit_N.json``) saved in ``folder``, or None."""
        n = latest_version(folder, [EDIT_FAMILY])
        while n > 0 and not (folder / f"{EDIT_FAMILY}_{n}.json").is_file():
            n -= 1  # a reservation of a write still under way: not saved yet
        return folder / f"{EDIT_FAMILY}_{n}.json" if n else None

    def events(self, relative: str) -> dict[str, Any]:
        """One event grid, ready to play and edit.

        Returns
        -------
        dict
            ``path``; ``events``; ``loop``: how it plays (``bpm``, ``bars``, ``swing``,
            ``grid`` and ``grid_path``: `loop_of`); ``head``: the newest edit saved beside it
            (what a save must not pass over, `save`); ``new_hit_samples``: the sample a new
            hit of each role takes, as ``drumgenx edit set`` picks it without ``--sample``
            (the one the role uses most, else drawn from the run's pools; None: no sample anywhere);
            ``samples``: each of those samples' file (None when not inside OUT).
        """
        path = self.event_grid_path(relative)
        events = load_events(path)
        found = find_run_files(path)
        pools = cached_pools(found.pools) if found and found.pools else None
        new_hit_samples = {role: _new_hit_sample(events, role, pools) for role in ROLES}
        library = found.library.resolve() if found and found.library else None
        wanted = {e.sample_id for e in events} | {s for s in new_hit_samples.values() if s}
        samples = {
            sample_id: self.name(
                resolve_sample_path(
                    sample_id,
                    pools=pools,
                    pools_dir=found.pools.resolve().parent if pools else None,
                    sample_root=library,
                )
            )
            for sample_id in sorted(wanted)
        }
        loop, grid_path = self.loop_of(path)
        return {
            "path": self.name(path),
            "events": events_to_json(events),
            "loop": loop.to_json() | {"grid_path": self.name(grid_path)},
            "head": self.name(self._lineage_head(path.parent)),
            "new_hit_samples": new_hit_samples,
            "samples": samples,
        }

    def save(
        self,
        *,
        base: str,
        edits: list[Mapping[str, Any]],
        head: str | None,
        force: bool = False,
        loop: Loop | None = None,
    ) -> dict[str, Any]:
        """Apply ``edits`` to ``base`` (`apply_edits`) and write a new ``event_grid_edit_N.json``
        beside it; ``base`` is never touched.

        Parameters
        ----------
        base
            The event grid the client loaded (or last saved).
        edits
            As `apply_edits`; at least one, unless ``loop`` changes.
        head
            The newest edit beside ``base`` when the client loaded it (`events`' ``head``).
        force
            Save even when a newer edit was saved since: a new branch, nothing lost.
        loop
            The bpm, bars and swing to save the loop with; None: ``base``'s (`loop_of`).
            Other than the run's own, they go into ``grid_edit_N.json``, written with the
            edit under its N (`Loop.grid_file`); every hit must lie inside its bars.

        Raises
        ------
        Conflict
            An edit newer than ``head`` was saved beside ``base`` since (another tab); the
            message names it. Nothing is written.
        """
        path = self.event_grid_path(base)
        if not isinstance(edits, list):
            raise BadRequest("field 'edits': expected a list of edits")
        base_loop, _ = self.loop_of(path)
        loop = loop or base_loop
        if not edits and loop.same_as(base_loop):
            raise BadRequest(f"nothing to save: no change to {base}")
        run_loop, _ = self.run_loop(self.run_of(path))
        companions = None if loop.same_as(run_loop) else {GRID_EDIT_FAMILY: loop.grid_file()}

        def edited(events: list[Event]) -> list[Event]:
            events = apply_edits(events, edits)
            outside = sorted({e.bar + 1 for e in events if e.bar >= loop.grid.num_bars})
            if outside:
                raise BadRequest(
                    f"bar(s) {', '.join(map(str, outside))} hold hits but the loop is "
                    f"{loop.grid.num_bars} bar(s) long: remove them to shorten it"
                )
            return events

        with self._save_lock:
            newest = self.name(self._lineage_head(path.parent))
            if newest != head and not force:
                raise Conflict(
                    f"{newest} was saved since you opened {base} (another tab?): reload it, "
                    "or save anyway as a new branch",
                    newer=newest or "",
                )
            written = edit_file(path, edited, companions=companions)
        return self.events(self.name(written))

    # --- stage 4 ----------------------------------------------------------------------------

    def groove(
        self,
        *,
        record: str,
        events: str,
        mode: str,
        temperature: float,
        seed: int,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> dict[str, Any]:
        """Humanize (the humanizer) or vary (GrooVAE) ``events`` (`run_groove`), on the run's
        grid and pools; the result goes to the run's ``groove/`` as a new
        ``event_grid_groovae_N.json``. Every hit goes to the model, played ones too
        (``played="replace"``): the button asks for the model's feel, and A, the loop it
        started from, still has theirs to compare with.

        Returns
        -------
        dict
            As `events` for the new file, with ``added`` and ``removed`` (``vary``'s hits).
        """
        from drumgenx.groove.run import run_groove  # the render stage and, in it, torch

        run = self.read_run(record)
        events_path = self.event_grid_path(events)
        pools = run.output("roles", "pools")
        if pools is None:
            raise NotFound(f"{record!r} names no pools: it stopped before stage 2")
        loop, grid = self.loop_of(events_path)
        result = run_groove(
            grid_json=grid,
            events_json=events_path,
            pools_json=pools,
            out_dir=stage_folder(run.root, "groove"),
            mode=mode,
            temperature=temperature,
            seed=seed,
            played="replace",
            model_dir=self.groove_models.get(mode),
            swing=loop.swing,
            progress=progress,
        )
        if not loop.same_as(self.run_loop(run)[0]):
            # the result plays on the loop it came from: its own grid_groovae_N.json, under
            # the N stage 4 took (nothing else writes that family; never over a file)
            write_new_files({loop_grid_name(result.events_path): loop.grid_file()})
        answer = self.events(self.name(result.events_path))
        return answer | {"added": result.added, "removed": result.removed}
