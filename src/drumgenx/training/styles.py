"""``drumgenx train styles``: the GMD style library the skeleton's ``style`` patterns play.

The shipped library, ``src/drumgenx/skeleton/data/styles.json.gz``, was built from a checkout
beside ``../shared`` with::

    drumgenx train styles --gmd ../shared/data/gmd --out src/drumgenx/skeleton/data/styles.json.gz

in 22 s (11 s of CPU, on 2 cores shared with a training job; 897 train performances read),
giving 1.01 MB; the same bytes every time (no clock, no randomness).
`drumgenx.skeleton.styles` loads it.

Rules
-----
- **Train split only.** Only the rows of ``info.csv`` whose split is ``train`` are kept
  (`training.gmd.load_performances`), before any MIDI file is opened: no validation or test
  performance is ever read. 4/4 performances only (``time_signature`` ``4-4``).
- **Quantized as GrooVAE sees GMD** (`groove.representation.midi_to_groove`): each note goes
  to its nearest 16th-note step from the file's start (GMD files start on bar 1's downbeat),
  the rest of the way is its micro-timing offset in steps (-0.5..0.5, positive late); steps
  are counted in MIDI ticks, which at the file's one tempo is the time at ``info.csv``'s bpm
  (a file whose tempo differs from its row by more than `BPM_TOLERANCE` is skipped). A swung
  16th keeps its step and a late offset (+0.33 for a triplet feel); a swung 8th (two thirds
  of a beat) lands on the beat's last 16th, 0.33 early.
- **Roles** from GrooVAE's nine drum classes (`groove.convert.CLASS_ROLE`): kick CORE, snare
  and rim ACCENT, hats and ride MOTION, toms and crash FILL. Of several hits of one role on
  one step, the loudest is kept (then the first class).
- **Beats** (``beat_type`` ``beat``): every window of ``beat_bars`` bars (2) starting on bar
  0, ``beat_bars``, ``2 * beat_bars``, ... (phrase-aligned, not overlapping) whose every bar
  holds at least ``min_hits`` hits (4) and whose every beat holds a hit: a steady groove,
  not the silence or the lone crash after the end.
- **Fills** (``beat_type`` ``fill``): every bar of a fill performance that holds at least
  ``min_hits`` hits, one of them in its last beat (a fill leads into the next downbeat).
- **De-duplicated by steps**: within a style, a pattern (or fill) whose (step, role) set was
  seen before is left out; the first kept, performances in ``id`` order.
- **Styles**: GMD's style before its ``/`` (``latin/brazilian-samba`` is ``latin``), with
  the tempo range (slowest and fastest) of the performances that gave a pattern or a fill,
  and the median tempo of its beat patterns. A style with no beat pattern is left out (its
  fills with it) and named in ``source.styles_without_beats``.

Each pattern keeps its origin: GMD ``id``, ``midi_filename``, full style, tempo, first bar.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from drumgenx.core.console import silent
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.roles import ROLE_PRIORITY
from drumgenx.core.versioning import file_sha256
from drumgenx.groove.convert import CLASS_ROLE
from drumgenx.groove.representation import DRUM_CLASSES, STEPS_PER_BAR, midi_to_groove
from drumgenx.skeleton.styles import (
    HIT_FORMAT,
    StyleHit,
    StylePattern,
    hit_tokens,
    window_hits,
)
from drumgenx.training.flags import settings_from
from drumgenx.training.gmd import Performance, load_performances
from drumgenx.training.settings import StyleLibrarySettings, command_line

__all__ = ["BPM_TOLERANCE", "DATASET", "build_library", "performance_hits", "run_command"]

SPLIT = "train"  # the only split read
METER = "4-4"
BPM_TOLERANCE = 0.5  # a GMD file's tempo rounds to its info.csv bpm (all of them do)
BEAT_STEPS = STEPS_PER_BAR // 4
DATASET = "Groove MIDI Dataset v1.0.0 (Gillick et al. 2019), CC BY 4.0"
FORMAT = "drumgenx-style-library"
VERSION = 1


def performance_hits(perf: Performance) -> tuple[list[StyleHit], int]:
    """A performance's hits on the 16th grid from its first bar, and its length in bars.

    Raises
    ------
    DrumgenxError
        The file cannot be read, has no drum note, or its tempo is not its ``bpm``.
    """
    groove, file_bpm = midi_to_groove(perf.midi_path)
    if abs(file_bpm - perf.bpm) > BPM_TOLERANCE:
        raise DrumgenxError(f"{perf.gmd_id}: file tempo {file_bpm:g}, info.csv {perf.bpm:g}")
    cells: dict[tuple[int, str], StyleHit] = {}
    for step in range(groove.steps):
        for drum, name in enumerate(DRUM_CLASSES):  # one class order: ties keep the first
            if not groove.hits[step, drum]:
                continue
            hit = StyleHit(
                step=step,
                role=CLASS_ROLE[name],
                velocity=round(float(groove.velocities[step, drum]) * 127),
                offset=round(float(groove.offsets[step, drum]), 2),
            )
            kept = cells.get((step, hit.role))
            if kept is None or hit.velocity > kept.velocity:
                cells[(step, hit.role)] = hit
    hits = sorted(cells.values(), key=lambda h: (h.step, ROLE_PRIORITY[h.role]))
    return hits, groove.steps // STEPS_PER_BAR


def _window(hits: list[StyleHit], bar: int, bars: int) -> list[StyleHit]:
    """The hits of bars ``bar .. bar + bars - 1``, steps from the window's start."""
    return window_hits(hits, bar * STEPS_PER_BAR, bars * STEPS_PER_BAR)


def _bar_counts(window: list[StyleHit], bars: int) -> list[int]:
    counts = Counter(h.step // STEPS_PER_BAR for h in window)
    return [counts[b] for b in range(bars)]


def beat_windows(
    hits: list[StyleHit], n_bars: int, settings: StyleLibrarySettings
) -> Iterator[tuple[int, list[StyleHit]]]:
    """``(first bar, hits)`` of each beat window the module's rule keeps."""
    size = settings.beat_bars
    for bar in range(0, n_bars - size + 1, size):
        window = _window(hits, bar, size)
        beats = {h.step // BEAT_STEPS for h in window}
        if min(_bar_counts(window, size)) >= settings.min_hits and len(beats) == 4 * size:
            yield bar, window


def fill_windows(
    hits: list[StyleHit], n_bars: int, settings: StyleLibrarySettings
) -> Iterator[tuple[int, list[StyleHit]]]:
    """``(bar, hits)`` of each fill bar the module's rule keeps."""
    for bar in range(n_bars):
        window = _window(hits, bar, 1)
        last_beat = any(h.step >= STEPS_PER_BAR - BEAT_STEPS for h in window)
        if len(window) >= settings.min_hits and last_beat:
            yield bar, window


class _StyleParts:
    """One style's patterns and fills while the library is built."""

    def __init__(self) -> None:
        self.parts: dict[str, list[StylePattern]] = {"patterns": [], "fills": []}
        self.seen: dict[str, set[tuple[tuple[int, str], ...]]] = {"patterns": set(), "fills": set()}
        self.bpms: dict[str, float] = {}  # performance id -> tempo, of those that gave one

    def add(
        self, part: str, origin: tuple[Performance, str], bar: int, bars: int, hits: list[StyleHit]
    ) -> None:
        """Keep ``hits`` (bars ``bar ..`` of ``origin``: a performance and its MIDI file as
        ``info.csv`` names it) unless the style holds their steps already."""
        perf, file = origin
        key = tuple((h.step, h.role) for h in hits)
        if key in self.seen[part]:
            return
        self.seen[part].add(key)
        self.bpms[perf.gmd_id] = perf.bpm
        self.parts[part].append(
            StylePattern(
                gmd_id=perf.gmd_id,
                midi_filename=file,
                gmd_style=perf.style,
                bpm=perf.bpm,
                bar=bar,
                bars=bars,
                tokens=hit_tokens(hits),
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "bpm_min": min(self.bpms.values()),
            "bpm_max": max(self.bpms.values()),
            "bpm_median": statistics.median(p.bpm for p in self.parts["patterns"]),
            "performances": len(self.bpms),
            **{part: [p.to_json() for p in items] for part, items in self.parts.items()},
        }


def build_library(
    gmd_dir: str | Path,
    *,
    settings: StyleLibrarySettings | None = None,
    command: str,
    progress: Callable[[int, int, str], None] | None = None,
    notify: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The style library's data (the module's rules) from GMD's train split at ``gmd_dir``.

    Parameters
    ----------
    gmd_dir
        The GMD folder (``info.csv`` and the MIDI files).
    settings
        Window length and the hits a bar needs (the shipped library's by default).
    command
        The command that builds it, recorded in the library.
    progress
        Called ``(done, total, gmd_id)`` after each performance.
    notify
        Told each performance left out and why (None: dropped); ``source.skipped`` counts
        them by reason.
    """
    settings = settings or StyleLibrarySettings()
    gmd_dir = Path(gmd_dir).resolve()
    try:
        performances = load_performances(gmd_dir, SPLIT)
    except FileNotFoundError as exc:
        raise DrumgenxError(str(exc)) from None
    styles: dict[str, _StyleParts] = {}
    skipped: Counter[str] = Counter()
    for done, perf in enumerate(performances, 1):
        if perf.split != SPLIT:  # load_performances keeps one split; say so where it matters
            raise DrumgenxError(f"{perf.gmd_id}: a {perf.split} performance; only train is read")
        reason = _add_performance(perf, gmd_dir, styles, settings)
        if reason is not None:
            skipped[reason] += 1
            (notify or silent)(f"skipped {perf.gmd_id}: {reason}")
        if progress is not None:
            progress(done, len(performances), perf.gmd_id)
    without_beats = {n: len(s.parts["fills"]) for n, s in styles.items() if not s.parts["patterns"]}
    return {
        "format": FORMAT,
        "version": VERSION,
        "command": command,
        "source": {
            "dataset": DATASET,
            "split": SPLIT,
            "info_csv_sha256": file_sha256(gmd_dir / "info.csv"),
            "performances": len(performances),
            "skipped": dict(sorted(skipped.items())),
            "styles_without_beats": dict(sorted(without_beats.items())),
        },
        "settings": {"beat_bars": settings.beat_bars, "min_hits": settings.min_hits},
        "steps_per_bar": STEPS_PER_BAR,
        "hit_format": HIT_FORMAT,
        "styles": {
            name: parts.to_json()
            for name, parts in sorted(styles.items())
            if name not in without_beats
        },
    }


def _add_performance(
    perf: Performance,
    gmd_dir: Path,
    styles: dict[str, _StyleParts],
    settings: StyleLibrarySettings,
) -> str | None:
    """Add a performance's beats or fills to its style; why it was left out, or None."""
    if perf.time_signature != METER:
        return f"time signature {perf.time_signature}"
    try:
        hits, n_bars = performance_hits(perf)
    except DrumgenxError as exc:  # GrooveFileError too
        return str(exc).removeprefix(f"{perf.gmd_id}: ").removeprefix(f"{perf.midi_path}: ")
    parts = styles.setdefault(perf.style.split("/")[0], _StyleParts())
    origin = (perf, perf.midi_path.relative_to(gmd_dir).as_posix())
    if perf.beat_type == "fill":
        for bar, window in fill_windows(hits, n_bars, settings):
            parts.add("fills", origin, bar, 1, window)
    else:
        for bar, window in beat_windows(hits, n_bars, settings):
            parts.add("patterns", origin, bar, settings.beat_bars, window)
    return None


def encode_library(data: dict[str, Any]) -> bytes:
    """The library's file bytes: compact JSON, gzipped with no time stamp (same data, same
    bytes)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def run_command(args: argparse.Namespace) -> None:
    """``drumgenx train styles`` (flags: `training.flags`)."""
    from drumgenx.core.console import notice, progress_printer
    from drumgenx.skeleton.styles import list_styles, load_library, styles_table

    settings = settings_from(args, StyleLibrarySettings)
    t0 = time.perf_counter()
    data = build_library(
        args.gmd,
        settings=settings,
        command=command_line(),
        progress=progress_printer("GMD train performances", unit=""),
        notify=notice,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(out.name + ".part")
    temp.write_bytes(encode_library(data))
    temp.replace(out)
    library = load_library(out)  # checked as the skeleton will read it
    print(styles_table(list_styles(library)))
    print(
        f"[DONE] style library: {out} ({out.stat().st_size / 1e6:.2f} MB, "
        f"{time.perf_counter() - t0:.0f} s)"
    )
