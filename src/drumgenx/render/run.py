"""Render and MIDI export with disk I/O: load samples, call the pure workers, write files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from drumgenx.core.audio import encode_wav
from drumgenx.core.formats import check_events_fit_grid, load_events, load_grid, load_pools
from drumgenx.core.records import Event, Grid, Pools
from drumgenx.core.versioning import write_versioned
from drumgenx.render.midi import events_to_midi, parse_note_overrides
from drumgenx.render.mixer import render_events
from drumgenx.render.samples import load_samples
from drumgenx.render.settings import RenderSettings


@dataclass
class Output:
    """What a command wrote, and what the user should be told."""

    path: Path
    notices: list[str] = field(default_factory=list)


def render_wav_bytes(
    events: list[Event],
    grid: Grid,
    *,
    pools: Pools | None,
    pools_dir: Path | None,
    sample_root: Path | None,
    sr: int = RenderSettings.sr,
    swing: float = RenderSettings.swing,
    loop: bool = RenderSettings.loop,
    skip_missing: bool = False,
) -> tuple[bytes, list[str]]:
    """Load the events' samples and mix them into 24-bit WAV bytes; returns (bytes, notices).

    ``sr``, ``swing`` and ``loop`` are `render.mixer.render_events`'s (defaults:
    `RenderSettings`: exactly one loop long, tails wrapped to the start).
    """
    samples, notices = load_samples(
        (e.sample_id for e in events),
        pools=pools,
        pools_dir=pools_dir,
        sample_root=sample_root,
        skip_missing=skip_missing,
    )
    mix = render_events(events, grid, samples, sr=sr, swing=swing, loop=loop)
    if mix.gain_db < 0:
        notices.append(f"the mix peaked above the ceiling: turned down {-mix.gain_db:.1f} dB")
    return encode_wav(mix.audio, sr), notices


def output_family(prefix: str, events_path: Path) -> str:
    """``render`` + the events file's suffix: event_grid_groovae_3 -> render_groovae."""
    match = re.match(r"^event_grid((?:_[a-z]+)*)_\d+$", events_path.stem)
    return prefix + (match.group(1) if match else "")


def _load_pair(events_path: Path, grid_path: Path) -> tuple[list[Event], Grid]:
    events = load_events(events_path)
    grid = load_grid(grid_path)
    check_events_fit_grid(events, grid, events_path=events_path)
    return events, grid


def render_file(
    events_path: str | Path,
    grid_path: str | Path,
    *,
    pools_json: str | Path | None = None,
    sample_root: str | Path | None = None,
    out_dir: str | Path | None = None,
    sr: int = RenderSettings.sr,
    swing: float = RenderSettings.swing,
    loop: bool = RenderSettings.loop,
    skip_missing: bool = False,
) -> Output:
    """Render an event grid file to ``render[_suffix]_N.wav`` in ``out_dir``.

    Options as `render_wav_bytes` (defaults: `RenderSettings`).
    """
    events_path, grid_path = Path(events_path), Path(grid_path)
    events, grid = _load_pair(events_path, grid_path)
    pools = load_pools(pools_json) if pools_json else None
    data, notices = render_wav_bytes(
        events,
        grid,
        pools=pools,
        pools_dir=Path(pools_json).parent if pools_json else None,
        sample_root=Path(sample_root) if sample_root else None,
        sr=sr,
        swing=swing,
        loop=loop,
        skip_missing=skip_missing,
    )
    family = output_family("render", events_path)
    _, paths = write_versioned(out_dir or events_path.parent, {family: (".wav", data)})
    return Output(paths[family], notices)


def export_midi_file(
    events_path: str | Path,
    grid_path: str | Path,
    *,
    out_dir: str | Path | None = None,
    swing: float = RenderSettings.swing,
    note_overrides: list[str] | None = None,
) -> Output:
    """Write an event grid file as ``midi[_suffix]_N.mid`` in ``out_dir``."""
    events_path, grid_path = Path(events_path), Path(grid_path)
    events, grid = _load_pair(events_path, grid_path)
    notes = parse_note_overrides(note_overrides)
    data, notices = events_to_midi(events, grid, swing=swing, notes=notes)
    family = output_family("midi", events_path)
    _, paths = write_versioned(out_dir or events_path.parent, {family: (".mid", data)})
    return Output(paths[family], notices)
