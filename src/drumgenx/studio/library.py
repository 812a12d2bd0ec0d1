"""The library view: a run's one-shots by role, each with a short waveform and its place on
the library map, and a sample moved to another role saved as a new ``pools_N.json``.

The roles come from a pools file (stage 2's, or one written here); the map's coordinates
from the run's ``per_sample_N.json`` through the library map picture's own projection
(`pictures.library_map.feature_matrix` and `project_2d`), so the page and the PNG agree.

Waveforms are computed here, not in the page: a peak envelope of `PEAK_BINS` numbers per
sample is a few hundred bytes, where drawing it in the page would mean fetching and decoding
every file of a library of thousands before the list shows; the page fetches and decodes a
sample's audio only when it is auditioned (once). Envelopes are cached by file, size and
modification time.

A library of thousands: the page asks for the lists alone first (``waveforms=0``,
``places=0``: the pools file, read once and cached, its files found), paints them a page
at a time, then asks for the waveforms of the rows it shows (`peaks`) and for the map
(`library_map`: stage 2's record checked and projected once per file, cached). Pools and
stage 2's records are never overwritten (a change is a new N), so a cache keyed by file,
size and modification time never serves a stale one.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from drumgenx.core.audio import AudioReadError, downmix, read_audio
from drumgenx.core.formats import dump_json, read_json
from drumgenx.core.pools import resolve_sample_path
from drumgenx.core.records import PoolItem, Pools
from drumgenx.core.roles import ROLES
from drumgenx.core.versioning import latest_version, write_versioned
from drumgenx.studio.api import BadRequest, NotFound, StudioApi, cached_pools
from drumgenx.studio.paths import relative_name

__all__ = [
    "MAX_PEAK_IDS",
    "PEAK_BINS",
    "POOLS_FAMILY",
    "library",
    "library_map",
    "move_sample",
    "peak_envelope",
    "peaks",
]

PEAK_BINS = 48  # a waveform 48 px wide at one bar a pixel: the list's thumbnail
PEAK_SECONDS = 2.0  # a one-shot's shape is in its first seconds; a long one is cut there
POOLS_FAMILY = "pools"
MAX_PEAK_IDS = 500  # waveforms a request may ask for: a page of rows of every role
_PEAK_SCALE = 1000  # envelopes are kept as uint16 thousandths: 96 bytes a sample cached


@functools.lru_cache(maxsize=65536)
def _cached_envelope(path: str, size: int, mtime_ns: int) -> bytes:
    audio, _ = read_audio(path, max_seconds=PEAK_SECONDS)
    mono = np.abs(downmix(audio))
    bins = np.array_split(mono, min(PEAK_BINS, mono.size))
    peaks = np.array([b.max() for b in bins]).clip(0.0, 1.0)
    return np.round(peaks * _PEAK_SCALE).astype(np.uint16).tobytes()


def _stat_key(path: Path) -> tuple[str, int, int]:
    """What a cache of a file's contents is keyed by: its name, size and modification time."""
    stat = path.stat()
    return str(path), stat.st_size, stat.st_mtime_ns


def peak_envelope(path: Path) -> list[float] | None:
    """The largest absolute sample of each of `PEAK_BINS` equal parts of the file's first
    `PEAK_SECONDS` (0..1 of full scale, to 0.001); None when it cannot be read."""
    try:
        packed = _cached_envelope(*_stat_key(path))
    except (OSError, AudioReadError):
        return None
    return [int(v) / _PEAK_SCALE for v in np.frombuffer(packed, np.uint16)]


def _pools_files(folder: Path) -> list[Path]:
    """Every ``pools_N.json`` in ``folder``, oldest first."""
    newest = latest_version(folder, [POOLS_FAMILY])
    files = (folder / f"{POOLS_FAMILY}_{n}.json" for n in range(1, newest + 1))
    return [path for path in files if path.is_file()]


def _run_pools(api: StudioApi, record: str, pools: str | None) -> tuple[Any, Path]:
    """The run and the pools file to show: ``pools`` (one of the run's), else the newest in
    the folder of the pools its record names."""
    run = api.read_run(record)
    named = run.output("roles", "pools")
    if named is None:
        raise NotFound(f"{record!r} names no pools: it stopped before stage 2")
    choices = _pools_files(named.parent)
    if pools is None:
        return run, choices[-1] if choices else named
    path = api.inside(pools)
    if path not in choices:
        raise BadRequest(f"{pools!r} is not a pools file of {record!r}")
    return run, path


def _map_coordinates(per_sample: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each sample's map position ``{"x", "y"}`` and its per-role probabilities, by id, from
    ``per_sample_N.json`` (none without it); and the map's ``explained`` variance. Cached:
    checking a record of thousands against its schema takes seconds. Read only."""
    if per_sample is None or not per_sample.is_file():
        return {}, {"explained": [0.0, 0.0], "per_sample": None}
    return _cached_map(*_stat_key(per_sample))


@functools.lru_cache(maxsize=4)
def _cached_map(path: str, size: int, mtime_ns: int) -> tuple[dict[str, Any], dict[str, Any]]:
    from drumgenx.pictures.library_map import feature_matrix, project_2d

    samples = read_json(path, "per_sample")["samples"]
    xy, explained = project_2d(feature_matrix(samples)[0]) if samples else (np.zeros((0, 2)), [])
    places = {
        s["sample_id"]: {
            "x": round(float(x), 4),
            "y": round(float(y), 4),
            "p_fused": s["p_fused"],
        }
        for s, (x, y) in zip(samples, xy, strict=True)
    }
    return places, {"explained": [round(float(e), 4) for e in explained]}


def library(
    api: StudioApi,
    *,
    record: str,
    pools: str | None = None,
    waveforms: bool = True,
    places: bool = True,
) -> dict[str, Any]:
    """The run's one-shots by role (``GET /api/library``).

    Parameters
    ----------
    api
        The studio's API (paths, runs).
    record
        The run's ``run_N.json``.
    pools
        One of the run's pools files; None: the newest (a move writes a newer one).
    waveforms
        False: no ``peaks`` (None), for the step grid's sample menus, which need only the
        names and files, not every file of the library decoded; and for a large library's
        lists, which ask for the rows they show (`peaks`).
    places
        False: no ``x``, ``y`` (None) and no ``map``: the lists first, the map apart
        (`library_map`).

    Returns
    -------
    dict
        ``record``; ``pools`` (the file shown) and ``pools_files`` (all of the run's);
        ``per_sample``; ``roles``: each role's samples, most confident first, each
        ``{"sample_id", "confidence", "file", "peaks", "x", "y"}`` (``file`` None when not
        found inside OUT, ``x``/``y`` None when not in ``per_sample``); ``map``: the
        ``explained`` variance of its two axes.
    """
    run, pools_path = _run_pools(api, record, pools)
    per_sample = run.output("roles", "per_sample")
    where, map_info = _map_coordinates(per_sample) if places else ({}, None)
    loaded = cached_pools(pools_path)
    files = _sample_names(api, run, pools_path)
    roles: dict[str, list[dict[str, Any]]] = {}
    for role in ROLES:
        roles[role] = []
        for item in loaded.pool(role):
            name = files[item.sample_id]
            path = api.out / name if name else None
            place = where.get(item.sample_id, {})
            roles[role].append(
                {
                    "sample_id": item.sample_id,
                    "confidence": item.confidence,
                    "file": name,
                    "peaks": peak_envelope(path) if name and waveforms else None,
                    "x": place.get("x"),
                    "y": place.get("y"),
                }
            )
    return {
        "record": api.name(run.record),
        "pools": api.name(pools_path),
        "pools_files": [api.name(p) for p in _pools_files(pools_path.parent)],
        "per_sample": api.name(per_sample) if per_sample else None,
        "roles": roles,
        "map": map_info,
    }


@functools.lru_cache(maxsize=4)
def _cached_names(
    out: Path, pools_key: tuple[str, int, int], library_key: tuple[str, int, int] | None
) -> dict[str, str | None]:
    pools_path = Path(pools_key[0])
    library_root = Path(library_key[0]) if library_key else None
    loaded = cached_pools(pools_path)
    return {
        item.sample_id: relative_name(out, path) if path else None
        for role in ROLES
        for item in loaded.pool(role)
        for path in [_find_sample(item, pools_path, library_root)]
    }


def _sample_names(api: StudioApi, run: Any, pools_path: Path) -> dict[str, str | None]:
    """Each sample's file in a pools file, named as the page names it (None: not found inside
    OUT). Cached by the pools file and the library folder (a file added or removed there
    changes its modification time): thousands of files are looked for once."""
    library_root = run.output("preprocess", "library")
    library_key = _stat_key(library_root) if library_root and library_root.is_dir() else None
    return _cached_names(api.out, _stat_key(pools_path), library_key)


def _find_sample(item: PoolItem, pools_path: Path, library_root: Path | None) -> Path | None:
    """Where ``item``'s file is (`resolve_sample_path`), found from the item itself: a pool
    of just it, as a search through a pool of thousands for each of them would be n²."""
    return resolve_sample_path(
        item.sample_id,
        pools=Pools({ROLES[0]: [item]}),
        pools_dir=pools_path.parent,
        sample_root=library_root,
    )


def _sample_file(run: Any, pools_path: Path, item: PoolItem) -> Path | None:
    """Where ``item``'s file of the run is (`_find_sample`)."""
    return _find_sample(item, pools_path, run.output("preprocess", "library"))


def peaks(
    api: StudioApi, *, record: str, pools: str | None, sample_ids: list[str]
) -> dict[str, Any]:
    """The waveforms of ``sample_ids`` of a pools file of the run (``GET
    /api/library/peaks``): ``{"peaks": {sample_id: [...] or None}}``, None for a sample whose
    file cannot be read; at most `MAX_PEAK_IDS`."""
    if len(sample_ids) > MAX_PEAK_IDS:
        raise BadRequest(f"ask for at most {MAX_PEAK_IDS} waveforms at once")
    run, pools_path = _run_pools(api, record, pools)
    loaded = cached_pools(pools_path)
    items = {item.sample_id: item for role in ROLES for item in loaded.pool(role)}
    answer: dict[str, list[float] | None] = {}
    for sample_id in sample_ids:
        item = items.get(sample_id)
        if item is None:
            raise BadRequest(f"{sample_id!r} is not in {api.name(pools_path)}"[:200])
        path = _sample_file(run, pools_path, item)
        answer[sample_id] = peak_envelope(path) if path and api.name(path) else None
    return {"peaks": answer}


def library_map(api: StudioApi, *, record: str) -> dict[str, Any]:
    """The library map of the run (``GET /api/library/map``): ``{"per_sample", "places":
    {sample_id: [x, y]}, "explained"}``, the picture's own projection (`library`'s ``x``,
    ``y``); no places without stage 2's record."""
    run = api.read_run(record)
    per_sample = run.output("roles", "per_sample")
    where, map_info = _map_coordinates(per_sample)
    return {
        "per_sample": api.name(per_sample) if per_sample else None,
        "places": {sample_id: [p["x"], p["y"]] for sample_id, p in where.items()},
        "explained": map_info["explained"],
    }


def move_sample(
    api: StudioApi, *, record: str, pools: str, sample_id: str, role: str
) -> dict[str, Any]:
    """Move ``sample_id`` to ``role`` in ``pools`` and write the result as a new
    ``pools_N.json`` beside it (the next N; ``pools`` is never touched).

    Its confidence becomes stage 2's probability for the new role where ``per_sample_N.json``
    has it, else it keeps the old one; the role's pool stays most confident first.

    Returns
    -------
    dict
        As `library` for the new file, with ``written``: its name.

    Raises
    ------
    BadRequest
        An unknown role, a sample not in ``pools``, or already of ``role``.
    """
    if role not in ROLES:
        raise BadRequest(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    run, pools_path = _run_pools(api, record, pools)
    loaded = cached_pools(pools_path)
    item = loaded.find(sample_id)
    if item is None:
        raise BadRequest(f"{sample_id!r} is not in {pools}")
    was = next(r for r in ROLES if item in loaded.pool(r))
    if was == role:
        raise BadRequest(f"{sample_id!r} is already {role} in {pools}")
    places, _ = _map_coordinates(run.output("roles", "per_sample"))
    confidence = places.get(sample_id, {}).get("p_fused", {}).get(role, item.confidence)
    moved = type(item)(item.sample_id, item.filepath, round(float(confidence), 6))
    by_role = {r: [i for i in loaded.pool(r) if i is not item] for r in ROLES}
    by_role[role] = sorted([*by_role[role], moved], key=lambda i: (-i.confidence, i.sample_id))
    _, paths = write_versioned(
        pools_path.parent, {POOLS_FAMILY: (".json", dump_json(Pools(by_role).to_json()))}
    )
    written = api.name(paths[POOLS_FAMILY])
    # the lists alone: the page keeps the waveforms and the map it has (the same files)
    moved_view = library(api, record=record, pools=written, waveforms=False, places=False)
    return moved_view | {"written": written, "from_role": was}
