"""Stage 3 with disk I/O: pools in; grid, events, meta and a rendered WAV out."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drumgenx import __version__
from drumgenx.core.audio import find_audio_files
from drumgenx.core.console import silent
from drumgenx.core.errors import ParameterError
from drumgenx.core.formats import dump_json, load_pools
from drumgenx.core.records import PoolItem, Pools, events_to_json
from drumgenx.core.roles import ROLES
from drumgenx.core.versioning import write_versioned
from drumgenx.render.run import render_wav_bytes
from drumgenx.render.settings import RenderSettings
from drumgenx.render.timing import check_swing
from drumgenx.skeleton.grid import build_grid
from drumgenx.skeleton.origin import (
    AUTO,
    PatternChoice,
    choose_pattern,
    find_manifests,
    needs_transcription,
    read_transcription,
)
from drumgenx.skeleton.patterns import SkeletonParams, build_skeleton, fill_bars, params_to_json
from drumgenx.skeleton.settings import RANDOM_POOLS, SAMPLE_ROOT

RANDOM_CONFIDENCE = 0.2  # a random role is right by chance 1 time in 5


@dataclass
class SkeletonRun:
    """What one stage-3 run wrote: ``paths`` maps family (grid, event_grid, ...) to file."""

    version: int
    paths: dict[str, Path]


def random_pools(sample_root: str | Path, *, seed: int) -> Pools:
    """Pools drawn at random from the audio files under ``sample_root`` (``--pools_json random``).

    The files are shuffled with the seed and dealt round-robin to CORE, ACCENT, MOTION, FILL,
    TEXTURE; with fewer than five files, roles share files. Roles are arbitrary, so every
    confidence is 0.2 (chance): a quick way to hear a folder, not a role assignment.
    ``sample_id`` is the path under ``sample_root`` without extension.
    """
    root = Path(sample_root)
    if not root.is_dir():
        raise ParameterError(
            "sample_root",
            f"{root}: no such folder (run from the project checkout, "
            "or create the bundled kit with `drumgenx kit`)",
        )
    files = find_audio_files(root)
    if not files:
        raise ParameterError("sample_root", f"{root}: no audio files found")
    random.Random(f"drumgenx:{seed}:random_pools").shuffle(files)
    by_role: dict[str, list[PoolItem]] = {role: [] for role in ROLES}
    for i in range(max(len(files), len(ROLES))):
        path = files[i % len(files)]
        sample_id = path.relative_to(root).with_suffix("").as_posix()
        by_role[ROLES[i % len(ROLES)]].append(PoolItem(sample_id, str(path), RANDOM_CONFIDENCE))
    return Pools(by_role)


def _choose_pattern(
    params: SkeletonParams, *, bpm: float | str, pools: Pools, sample_root: str | Path | None
) -> PatternChoice:
    """`origin.choose_pattern` with the library's manifests read where the choice needs them."""
    transcription = None
    if needs_transcription(params.pattern, bpm):
        manifests = find_manifests(sample_root, pools)
        transcription = read_transcription(manifests) if manifests else None
    return choose_pattern(
        params.pattern,
        bpm=bpm,
        bars=params.bars,
        seed=params.seed,
        fill_bars=fill_bars(params),
        transcription=transcription,
        pools=pools,
    )


def run_skeleton(
    *,
    out_dir: str | Path,
    bpm: float | str,
    pools_json: str | Path = RANDOM_POOLS,
    params: SkeletonParams | None = None,
    sample_root: str | Path | None = SAMPLE_ROOT,
    render: bool = True,
    render_sr: int = RenderSettings.sr,
    swing: float = RenderSettings.swing,
    loop: bool = RenderSettings.loop,
    skip_missing: bool = False,
    notify: Callable[[str], None] | None = None,
) -> SkeletonRun:
    """Build grid and skeleton, render them, and write everything under one new N.

    Nothing is written unless every step succeeds (a missing sample stops the run before
    any file appears). ``params`` defaults to `SkeletonParams()` (the seed's defaults);
    ``params.pattern`` and ``bpm`` (a number or ``"auto"``) choose the pattern's source and
    the tempo (`skeleton.origin`), reading the stage-1 manifests of the pools' library
    (``sample_root``, else beside the pools' samples) where they need them; the choice,
    enough to make it again, goes into ``skeleton_meta_N.json`` under ``pattern``;
    ``render_sr``, ``swing`` and ``loop`` to `RenderSettings` (the render exactly one loop
    long, tails wrapped to its start; ``loop=False`` keeps them after the end). ``notify``
    receives the run's notices (an empty pool, a skipped sample) once its files are written,
    the lines ``skeleton_meta_N.json`` keeps; None: only the file has them.
    """
    params = params or SkeletonParams()
    params.validate()
    check_swing(swing)
    if render_sr < 8000 or render_sr > 192000:
        raise ParameterError("render_sr", f"must be 8000..192000, got {render_sr}")
    if str(pools_json) == RANDOM_POOLS:
        pools, pools_dir = random_pools(sample_root or ".", seed=params.seed), None
        pools_source = f"random:{sample_root}"
    else:
        pools, pools_dir = load_pools(pools_json), Path(pools_json).parent
        pools_source = str(pools_json)
    notices: list[str] = []  # skeleton_meta_N.json keeps them
    choice = _choose_pattern(params, bpm=bpm, pools=pools, sample_root=sample_root)
    notices += choice.notices
    grid = build_grid(bpm=choice.bpm, num_bars=params.bars)
    skeleton = build_skeleton(
        pools, params, hits=choice.hits, tstep=grid.tstep, notify=notices.append
    )
    files = {
        "grid": (".json", dump_json(grid.to_json())),
        "event_grid": (".json", dump_json(events_to_json(skeleton.events))),
    }
    if render:
        wav = render_wav_bytes(
            skeleton.events,
            grid,
            pools=pools,
            pools_dir=pools_dir,
            sample_root=Path(sample_root) if sample_root else None,
            sr=render_sr,
            swing=swing,
            loop=loop,
            skip_missing=skip_missing,
            notify=notices.append,
        )
        files["render"] = (".wav", wav)
    meta = {
        "drumgenx_version": __version__,
        "seed": params.seed,
        "params": {
            "bpm": float(choice.bpm),
            **params_to_json(params),
            "sample_root": None if sample_root is None else str(sample_root),
            "render": render,
            "render_sr": render_sr,
            "swing": swing,
            "loop": loop,
        },
        "pools_source": pools_source,
        "pattern": {**choice.origin, "reason": choice.reason},
        "chosen": {r: [i.to_json() for i in items] for r, items in skeleton.chosen.items()},
        "polyphony_dropped": skeleton.polyphony_dropped,
        "notices": notices,
    }
    files["skeleton_meta"] = (".json", dump_json(meta))
    version, paths = write_versioned(out_dir, files)
    if choice.kind != "seed" or str(bpm) == AUTO:  # the seed's runs print as they always did
        (notify or silent)(f"{choice.reason}; the loop at {choice.bpm:g} bpm")
    for message in notices:
        (notify or silent)(message)
    return SkeletonRun(version, paths)
