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
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from drumgenx.core.audio import AudioReadError, downmix, read_audio
from drumgenx.core.formats import dump_json, load_pools, read_json
from drumgenx.core.pools import resolve_sample_path
from drumgenx.core.records import Pools
from drumgenx.core.roles import ROLES
from drumgenx.core.versioning import latest_version, write_versioned
from drumgenx.studio.api import BadRequest, NotFound, StudioApi

__all__ = ["PEAK_BINS", "POOLS_FAMILY", "library", "move_sample", "peak_envelope"]

PEAK_BINS = 48  # a waveform 48 px wide at one bar a pixel: the list's thumbnail
PEAK_SECONDS = 2.0  # a one-shot's shape is in its first seconds; a long one is cut there
POOLS_FAMILY = "pools"


@functools.lru_cache(maxsize=8192)
def _cached_envelope(path: str, size: int, mtime_ns: int) -> tuple[float, ...]:
    audio, _ = read_audio(path, max_seconds=PEAK_SECONDS)
    mono = np.abs(downmix(audio))
    bins = np.array_split(mono, min(PEAK_BINS, mono.size))
    return tuple(round(float(b.max()), 3) for b in bins)


def peak_envelope(path: Path) -> list[float] | None:
    """The largest absolute sample of each of `PEAK_BINS` equal parts of the file's first
    `PEAK_SECONDS` (0..1 of full scale); None when it cannot be read."""
    try:
        stat = path.stat()
        return list(_cached_envelope(str(path), stat.st_size, stat.st_mtime_ns))
    except (OSError, AudioReadError):
        return None


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
    ``per_sample_N.json`` (none without it); and the map's ``explained`` variance."""
    from drumgenx.pictures.library_map import feature_matrix, project_2d

    if per_sample is None or not per_sample.is_file():
        return {}, {"explained": [0.0, 0.0], "per_sample": None}
    samples = read_json(per_sample, "per_sample")["samples"]
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
    api: StudioApi, *, record: str, pools: str | None = None, waveforms: bool = True
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
        names and files, not every file of the library decoded.

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
    places, map_info = _map_coordinates(per_sample)
    library_root = run.output("preprocess", "library")
    loaded = load_pools(pools_path)
    roles: dict[str, list[dict[str, Any]]] = {}
    for role in ROLES:
        roles[role] = []
        for item in loaded.pool(role):
            path = resolve_sample_path(
                item.sample_id,
                pools=loaded,
                pools_dir=pools_path.parent,
                sample_root=library_root,
            )
            name = api.name(path) if path is not None else None
            place = places.get(item.sample_id, {})
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
    loaded = load_pools(pools_path)
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
    return library(api, record=record, pools=written) | {"written": written, "from_role": was}
