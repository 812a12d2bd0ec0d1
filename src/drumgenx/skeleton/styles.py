"""The GMD style library: beats and fills played by real drummers, by style.

``skeleton/data/styles.json.gz`` is built by ``drumgenx train styles`` (`training.styles`,
whose docstring gives the command and the rules) from the Groove MIDI Dataset's *train*
split only. Each style (``rock``, ``funk``, ``latin``, ...: GMD's style before its ``/``)
holds 2-bar beat patterns and 1-bar fills on 16 steps a bar, each hit with its role, its
MIDI velocity and its micro-timing offset as the drummer played it, and each pattern with
its origin (GMD id, MIDI file, first bar). ``drumgenx styles`` lists them.

This module loads the library once per process (`load_library`, checked against
``core/schemas/styles.schema.json``: a bad file is one line naming the file and the field)
and picks from it. The picks are pure functions of their inputs: a seeded choice takes a
`random.Random` (`drumgenx.core.pools.seeded_rng`), never a global random state.

Choosing
--------
- `pick_style` (``--pattern style`` without a name): among the styles with at least
  `MIN_PICK_PATTERNS` beat patterns (all styles where none has that many), the one whose
  tempo range (``bpm_min..bpm_max`` of its performances) holds the tempo; of several, the
  one whose median tempo is nearest; then the one with more patterns, then by name. Where no
  range holds the tempo, the range nearest to it wins, with the same ties.
- `pick_pattern`: one beat pattern of the style, uniformly among those played within
  `TEMPO_TOLERANCE` of the given tempo (all of the style's where none was, or no tempo is
  given).
- `pick_fill`: one fill of the style, uniformly; None where the style has none.
- `loop_hits`: a loop of any length from a pattern (repeated) and fills on the bars asked
  for (each from its first hit to the bar's end; the beat plays before it).

Wiring a ``style[:NAME]`` pattern source (the skeleton turns hits into events)::

    style = get_style(name) if name else pick_style(bpm)
    pattern = pick_pattern(style, seeded_rng(seed, "style:pattern"), bpm=bpm)
    fills = {bar: pick_fill(style, seeded_rng(seed, f"style:fill:{bar}")) for bar in ...}
    for bar, hit in loop_hits(pattern, bars=bars, fills=fills):
        Event(bar=bar, step=hit.step, role=hit.role, vel=hit.vel,
              micro_offset_ms=hit.offset_ms(grid.tstep), ...)
    meta["pattern_source"] = {"style": style.name, **pattern.origin()}
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from drumgenx.core.errors import FormatError, ParameterError
from drumgenx.core.midi import midi_to_velocity
from drumgenx.core.roles import ROLE_PRIORITY
from drumgenx.skeleton.grid import STEPS_PER_BAR

__all__ = [
    "HIT_FORMAT",
    "LIBRARY_PATH",
    "MIN_PICK_PATTERNS",
    "TEMPO_TOLERANCE",
    "Style",
    "StyleHit",
    "StyleLibrary",
    "StylePattern",
    "get_style",
    "hit_tokens",
    "list_styles",
    "load_library",
    "loop_hits",
    "pick_fill",
    "pick_pattern",
    "pick_style",
    "styles_table",
    "window_hits",
]

LIBRARY_PATH = Path(__file__).resolve().parent / "data" / "styles.json.gz"
"""The shipped library (package data)."""
MIN_PICK_PATTERNS = 20
"""Beat patterns a style needs for `pick_style` to choose it unasked (a style of one or two
performances is for those who name it)."""
TEMPO_TOLERANCE = 0.15
"""`pick_pattern` with a tempo: patterns played within this share of it (±15 %)."""
HIT_FORMAT = (
    "STEP ROLE VELOCITY OFFSET: step 0..63, role C|A|M|F (CORE, ACCENT, MOTION, FILL), "
    "MIDI velocity 1..127, offset in hundredths of a step -50..+50 (positive late); "
    "e.g. 14M87-12, space-separated"
)
"""How a pattern's hits are written: one short token each (the schema checks a pattern's
hits with one regular expression, so the library loads in a fraction of a second)."""
_ROLE_OF_LETTER = {role[0]: role for role in ("CORE", "ACCENT", "MOTION", "FILL")}
_TOKEN = re.compile(r"(\d+)([CAMF])(\d+)([+-]\d+)")


@dataclass(frozen=True)
class StyleHit:
    """One hit of a pattern, as the drummer played it.

    Attributes
    ----------
    step
        16th-note step from the pattern's start (0 .. 16 * bars - 1).
    role
        CORE (kick), ACCENT (snare, rim), MOTION (hats, ride) or FILL (toms, crash).
    velocity
        MIDI velocity, 1..127.
    offset
        Where it sounded from its step, in steps (-0.5..0.5, positive late).
    """

    step: int
    role: str
    velocity: int
    offset: float

    @property
    def vel(self) -> float:
        """The velocity as an event's ``vel`` (0..1, `core.midi.midi_to_velocity`)."""
        return midi_to_velocity(self.velocity)

    def offset_ms(self, tstep: float) -> float:
        """The offset as an event's ``micro_offset_ms``, for a step of ``tstep`` seconds."""
        return round(self.offset * tstep * 1000.0, 3)

    def to_json(self) -> str:
        """Its token in the library (`HIT_FORMAT`), e.g. ``14M87-12``."""
        return f"{self.step}{self.role[0]}{self.velocity}{round(self.offset * 100):+d}"

    @classmethod
    def from_json(cls, token: str) -> StyleHit:
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise ValueError(f"not a hit token ({HIT_FORMAT}): {token!r}")
        step, letter, velocity, offset = match.groups()
        return cls(int(step), _ROLE_OF_LETTER[letter], int(velocity), int(offset) / 100)


def hit_tokens(hits: Iterable[StyleHit]) -> str:
    """Hits as a pattern's ``tokens`` (`HIT_FORMAT`): ``"0C96+2 0M64-1 4A101+3"``."""
    return " ".join(hit.to_json() for hit in hits)


@dataclass(frozen=True)
class StylePattern:
    """A beat (``bars`` bars, usually 2) or a fill (1 bar) and where in GMD it was played.

    Attributes
    ----------
    gmd_id, midi_filename
        The performance (``info.csv``'s ``id`` and ``midi_filename``).
    gmd_style
        Its GMD style in full (``latin/brazilian-samba``).
    bpm
        Its tempo.
    bar
        Its first bar in the performance, from 0.
    bars
        Its length in bars.
    tokens
        Its hits as the library writes them (`HIT_FORMAT`, `hit_tokens`); read into `hits`
        when first asked for, so loading the library parses none of its 280,000 hits.
    """

    gmd_id: str
    midi_filename: str
    gmd_style: str
    bpm: float
    bar: int
    bars: int
    tokens: str = field(repr=False)

    @cached_property
    def hits(self) -> tuple[StyleHit, ...]:
        """Its hits, sorted by step, then role priority; steps 0 .. 16 * ``bars`` - 1.

        Raises
        ------
        FormatError
            A hit lies past the pattern's bars.
        """
        hits = tuple(StyleHit.from_json(token) for token in self.tokens.split())
        last = max(hit.step for hit in hits)
        if last >= self.bars * STEPS_PER_BAR:
            raise FormatError(
                f"style library: pattern {self.gmd_id} bar {self.bar}: step {last} lies past "
                f"its {self.bars} bar(s)"
            )
        return hits

    def origin(self) -> dict[str, Any]:
        """Where it was played, for a skeleton's metadata (enough to find it again)."""
        return {
            "gmd_id": self.gmd_id,
            "midi_filename": self.midi_filename,
            "gmd_style": self.gmd_style,
            "bar": self.bar,
            "bars": self.bars,
            "bpm": self.bpm,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.gmd_id,
            "file": self.midi_filename,
            "gmd_style": self.gmd_style,
            "bpm": self.bpm,
            "bar": self.bar,
            "bars": self.bars,
            "hits": self.tokens,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StylePattern:
        return cls(
            gmd_id=data["id"],
            midi_filename=data["file"],
            gmd_style=data["gmd_style"],
            bpm=float(data["bpm"]),
            bar=int(data["bar"]),
            bars=int(data["bars"]),
            tokens=data["hits"],
        )


@dataclass(frozen=True)
class Style:
    """One style of the library: its tempo range, its beats and its fills.

    ``bpm_min``, ``bpm_max``: the slowest and fastest of its performances that gave a
    pattern or a fill; ``bpm_median``: the median tempo of its beat patterns;
    ``performances``: how many performances gave them.
    """

    name: str
    bpm_min: float
    bpm_max: float
    bpm_median: float
    performances: int
    patterns: tuple[StylePattern, ...]
    fills: tuple[StylePattern, ...]

    def tempo_distance(self, bpm: float) -> float:
        """0 where ``bpm`` lies in the style's range, else how far outside it lies."""
        return max(self.bpm_min - bpm, bpm - self.bpm_max, 0.0)


@dataclass(frozen=True)
class StyleLibrary:
    """The loaded library: its styles by name, and how it was built."""

    styles: Mapping[str, Style]
    command: str
    source: Mapping[str, Any]
    settings: Mapping[str, Any]

    def get(self, name: str) -> Style:
        """The style called ``name``.

        Raises
        ------
        ParameterError
            No such style; the message lists the known ones.
        """
        try:
            return self.styles[name]
        except KeyError:
            raise ParameterError(
                "style",
                f"{name!r} is not in the style library; known styles: {', '.join(self.styles)}",
            ) from None

    def pick(self, bpm: float) -> Style:
        """The style for a loop at ``bpm`` (the module docstring's rule)."""
        styles = [s for s in self.styles.values() if len(s.patterns) >= MIN_PICK_PATTERNS]
        return min(
            styles or self.styles.values(),
            key=lambda s: (
                s.tempo_distance(bpm),
                abs(s.bpm_median - bpm),
                -len(s.patterns),
                s.name,
            ),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, path: str | Path) -> StyleLibrary:
        """The library of a file's data (already checked against its schema); a style whose
        tempo range does not hold its patterns' and fills' tempi is a `FormatError` naming
        ``path`` and the field. (Hits are read when a pattern's are first asked for.)"""
        styles = {}
        for name, entry in sorted(data["styles"].items()):
            parts = {}
            for part in ("patterns", "fills"):
                parts[part] = tuple(StylePattern.from_json(p) for p in entry[part])
                for i, pattern in enumerate(parts[part]):
                    _check_pattern(
                        pattern, entry, where=f"{path}: field 'styles.{name}.{part}[{i}]"
                    )
            styles[name] = Style(
                name=name,
                bpm_min=float(entry["bpm_min"]),
                bpm_max=float(entry["bpm_max"]),
                bpm_median=float(entry["bpm_median"]),
                performances=int(entry["performances"]),
                patterns=parts["patterns"],
                fills=parts["fills"],
            )
        return cls(styles, data["command"], data["source"], data["settings"])


def _check_pattern(pattern: StylePattern, entry: Mapping[str, Any], *, where: str) -> None:
    if not entry["bpm_min"] <= pattern.bpm <= entry["bpm_max"]:
        raise FormatError(
            f"{where}.bpm': {pattern.bpm:g} lies outside the style's "
            f"{entry['bpm_min']:g}..{entry['bpm_max']:g}"
        )


@cache
def _load(path: Path) -> StyleLibrary:
    from drumgenx.core.formats import read_json  # jsonschema: only when a library is loaded

    return StyleLibrary.from_json(read_json(path, "styles"), path=path)


def load_library(path: str | Path | None = None) -> StyleLibrary:
    """The style library at ``path`` (the shipped one by default), read and checked once per
    process and path.

    Raises
    ------
    FormatError
        The file is missing, unreadable, or off its schema (one line: file and field).
    """
    return _load(Path(path).resolve() if path is not None else LIBRARY_PATH)


def _style(style: str | Style) -> Style:
    return style if isinstance(style, Style) else load_library().get(style)


def get_style(name: str) -> Style:
    """The shipped library's style ``name`` (`StyleLibrary.get`: unknown names list the known)."""
    return load_library().get(name)


def list_styles(library: StyleLibrary | None = None) -> list[Style]:
    """The styles by name (the shipped library's by default): each has ``name``,
    ``patterns`` and ``fills`` (count them with ``len``), ``bpm_min``, ``bpm_max``."""
    return list((library or load_library()).styles.values())


def pick_style(bpm: float, library: StyleLibrary | None = None) -> Style:
    """The style whose tempo range fits ``bpm`` (module docstring: the rule and its ties)."""
    return (library or load_library()).pick(bpm)


def pick_pattern(
    style: str | Style, rng: random.Random, *, bpm: float | None = None
) -> StylePattern:
    """One beat pattern of ``style`` (a name of the shipped library, or a `Style`), drawn
    with ``rng``; with ``bpm``, among those played within `TEMPO_TOLERANCE` of it where any
    was."""
    patterns = _style(style).patterns
    if bpm is not None:
        near = [p for p in patterns if abs(p.bpm - bpm) <= TEMPO_TOLERANCE * bpm]
        patterns = tuple(near) or patterns
    return patterns[rng.randrange(len(patterns))]


def pick_fill(style: str | Style, rng: random.Random) -> StylePattern | None:
    """One fill of ``style`` drawn with ``rng``; None where the style has no fill."""
    fills = _style(style).fills
    return fills[rng.randrange(len(fills))] if fills else None


def loop_hits(
    pattern: StylePattern,
    *,
    bars: int,
    fills: Mapping[int, StylePattern | None] | None = None,
) -> list[tuple[int, StyleHit]]:
    """``(bar, hit)`` for a loop of ``bars`` bars, each hit's step within its bar (0..15).

    The pattern repeats from bar 0 (bar ``b`` plays the pattern's bar ``b % pattern.bars``).
    A bar of ``fills`` (a 1-bar fill; None: none) keeps the beat's hits before the fill's
    first hit and plays the fill from there to the bar's end. Sorted by bar, step and role
    priority; the polyphony limit is the caller's.
    """
    if bars < 1:
        raise ParameterError("bars", f"must be at least 1, got {bars}")
    out: list[tuple[int, StyleHit]] = []
    for bar in range(bars):
        hits = window_hits(pattern.hits, bar % pattern.bars * STEPS_PER_BAR, STEPS_PER_BAR)
        fill = (fills or {}).get(bar)
        if fill is not None:
            start = min(h.step for h in fill.hits)
            hits = [h for h in hits if h.step < start]
            hits += [h for h in fill.hits if h.step < STEPS_PER_BAR]
        out += [(bar, h) for h in sorted(hits, key=lambda h: (h.step, ROLE_PRIORITY[h.role]))]
    return out


def window_hits(hits: Iterable[StyleHit], first: int, steps: int) -> list[StyleHit]:
    """The hits on steps ``first .. first + steps - 1``, their steps counted from ``first``."""
    return [replace(h, step=h.step - first) for h in hits if first <= h.step < first + steps]


def styles_table(styles: list[Style]) -> str:
    """``drumgenx styles``' table: a row per style with its counts and tempo range."""
    header = ("style", "patterns", "fills", "bpm range", "median bpm", "performances")
    rows = [
        (
            s.name,
            str(len(s.patterns)),
            str(len(s.fills)),
            f"{s.bpm_min:g}-{s.bpm_max:g}",
            f"{s.bpm_median:g}",
            str(s.performances),
        )
        for s in styles
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in (header, *rows)
    ]
    return "\n".join(lines)
