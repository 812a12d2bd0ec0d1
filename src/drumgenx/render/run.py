"""Render and MIDI export with disk I/O: load samples, call the pure workers, write files."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drumgenx.core.audio import encode_wav
from drumgenx.core.console import silent
from drumgenx.core.formats import check_events_fit_grid, load_events, load_grid, load_pools
from drumgenx.core.records import Event, Grid, Pools
from drumgenx.core.versioning import write_versioned
from drumgenx.render.midi import events_to_midi, parse_note_overrides
from drumgenx.render.mixer import render_events
from drumgenx.render.samples import load_samples
from drumgenx.render.settings import RenderSettings


@dataclass
class Output:
    """What a command wrote (its notices went to its ``notify``)."""

    path: Path


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
    notify: Callable[[str], None] | None = None,
) -> bytes:
    """Load the events' samples and mix them into 24-bit WAV bytes.

    ``sr``, ``swing`` and ``loop`` are `render.mixer.render_events`'s (defaults:
    `RenderSettings`: exactly one loop long, tails wrapped to the start). ``notify``
    receives a line per sample skipped (``skip_missing``) and for a mix turned down; None:
    they are dropped.
    """
    notify = notify or silent
    samples = load_samples(
        (e.sample_id for e in events),
        pools=pools,
        pools_dir=pools_dir,
        sample_root=sample_root,
        skip_missing=skip_missing,
        notify=notify,
    )
    mix = render_events(events, grid, samples, sr=sr, swing=swing, loop=loop)
    if mix.gain_db < 0:
        notify(f"the mix peaked above the ceiling: turned down {-mix.gain_db:.1f} dB")
    return encode_wav(mix.audio, sr)


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
    notify: Callable[[str], None] | None = None,
) -> Output:
    """Render an event grid file to ``render[_suffix]_N.wav`` in ``out_dir``.

    Options as `render_wav_bytes` (defaults: `RenderSettings`).
    """
    events_path, grid_path = Path(events_path), Path(grid_path)
    events, grid = _load_pair(events_path, grid_path)
    pools = load_pools(pools_json) if pools_json else None
    data = render_wav_bytes(
        events,
        grid,
        pools=pools,
        pools_dir=Path(pools_json).parent if pools_json else None,
        sample_root=Path(sample_root) if sample_root else None,
        sr=sr,
        swing=swing,
        loop=loop,
        skip_missing=skip_missing,
        notify=notify,
    )
    family = output_family("render", events_path)
    _, paths = write_versioned(out_dir or events_path.parent, {family: (".wav", data)})
    return Output(paths[family])


def export_midi_file(
    events_path: str | Path,
    grid_path: str | Path,
    *,
    out_dir: str | Path | None = None,
    swing: float = RenderSettings.swing,
    note_overrides: list[str] | None = None,
    notify: Callable[[str], None] | None = None,
) -> Output:
    """Write an event grid file as ``midi[_suffix]_N.mid`` in ``out_dir``.

    ``notify`` as `render.midi.events_to_midi`'s.
    """
    events_path, grid_path = Path(events_path), Path(grid_path)
    events, grid = _load_pair(events_path, grid_path)
    notes = parse_note_overrides(note_overrides)
    data = events_to_midi(events, grid, swing=swing, notes=notes, notify=notify)
    family = output_family("midi", events_path)
    _, paths = write_versioned(out_dir or events_path.parent, {family: (".mid", data)})
    return Output(paths[family])
