"""Events <-> GrooVAE arrays: the role <-> drum-class map and 2-bar windows over a loop.

GrooVAE (Gillick et al. 2019) sees a drum pattern as 9 drum classes (`DRUM_CLASSES`) on
16th-note steps, two bars (32 steps) at a time: per step and class a hit (0/1), a velocity
(0..1) and an offset from the step (-0.5..0.5 steps). DrumGen-X events carry roles instead
of classes, and patterns have any number of bars; this module translates both ways and runs
a model over the windows. Pure functions: no disk, no global random state.

Roles to classes (what the model is told a hit is)
--------------------------------------------------
A sample's *name* is its ``sample_id`` and the file name of its pool entry; a word in it
(`NAME_HINTS`: ``ride``, ``open``, ``closed``, ``crash``, ``cymbal``, ``floor``, ``low``,
``mid``, ``high``, at the start of a word, CamelCase split) picks the class within the role.

=======  =========================================================================
role     class
=======  =========================================================================
CORE     kick
ACCENT   snare
MOTION   closed_hihat; open_hihat or ride when the name says ``open`` / ``ride``
FILL     the tom or crash the name says; else crash when the hit lasts a bar or more
         (``dur_steps >= 16``: it rings), else a run down the toms within each beat:
         the beat's 1st and 2nd 16th high_tom, 3rd mid_tom, 4th low_tom
TEXTURE  none: never sent to the model, kept as it is (only ``source`` becomes
         ``groovae``, as for every event stage 4 gives the model's timing)
=======  =========================================================================

Classes to roles (new hits of ``vary``)
---------------------------------------
A new hit takes the first role in its row whose pool has samples, and a sample of that pool
whose name hints its class (any sample when none does):

============  ==========================================
class         roles, nearest first
============  ==========================================
kick          CORE, FILL, ACCENT, MOTION
snare         ACCENT, FILL, CORE, MOTION
closed_hihat  MOTION, ACCENT, FILL, CORE
open_hihat    MOTION, FILL, ACCENT, CORE
ride          MOTION, FILL, ACCENT, CORE
low_tom       FILL, CORE, ACCENT, MOTION
mid_tom       FILL, ACCENT, CORE, MOTION
high_tom      FILL, ACCENT, MOTION, CORE
crash         FILL, MOTION, ACCENT, CORE
============  ==========================================

Toms sit between kick and snare; cymbals fall back to the other cymbal role. TEXTURE never:
a bed is not a hit.

Windows and continuity
----------------------
A pattern is a loop (it is played and rendered as one): bar ``B - 1`` is followed by bar 0.
Every bar starts a window: window ``k`` holds bars ``k`` and ``k + 1`` (mod ``B``), so ``B``
bars give ``B`` windows and every step lies in exactly two of them, once in each half. No
padding is needed for any bar count, odd ones included (a 1-bar loop is seen as itself
twice). The windows' outputs are cross-faded: a step at position ``t`` (0..31) of a window
counts with weight ``w(t) = sin²(π (t + 0.5) / 32)``, and a step's two weights sum to exactly
1 (``w(t) + w(t + 16) = sin² + cos²``). Hence:

- a step takes over half its value from the window where it is central (positions 8..23)
  and almost nothing (``w(0) = 0.0024``) from a window that cuts right beside it: the edge
  predictions, made without context on one side, barely count, so nothing jumps there;
- a model that predicts the same for a step in both windows gets exactly that back;
- windows cut at every bar line alike, so rotating a loop by whole bars rotates the result:
  it does not depend on which bar the loop starts on.

Hits (``vary``) are kept where the windows' weighted vote is above one half (the central
window decides; the weights never tie); velocities and offsets are the weighted mean over the
windows that have the hit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from drumgenx.core.console import silent
from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.core.events import DUR_STEPS, MAX_VOICES, sort_events
from drumgenx.core.pools import choose_samples
from drumgenx.core.records import PLAYED, Event, Grid, PoolItem, Pools
from drumgenx.groove.humanizer import Humanizer, Prediction, perform
from drumgenx.groove.representation import DRUM_CLASSES, STEPS_PER_BAR, WINDOW_STEPS

TEXTURE = "TEXTURE"  # the role the model never sees

# The classes each role's hits can play; the first is the default but for FILL (`event_class`).
ROLE_CLASSES: dict[str, tuple[str, ...]] = {
    "CORE": ("kick",),
    "ACCENT": ("snare",),
    "MOTION": ("closed_hihat", "open_hihat", "ride"),
    "FILL": ("high_tom", "mid_tom", "low_tom", "crash"),
}
CLASS_ROLE: dict[str, str] = {c: role for role, classes in ROLE_CLASSES.items() for c in classes}
# Where a class's new hits go when its own role's pool is empty, nearest first.
FALLBACK_ROLES: dict[str, tuple[str, ...]] = {
    "kick": ("FILL", "ACCENT", "MOTION"),
    "snare": ("FILL", "CORE", "MOTION"),
    "closed_hihat": ("ACCENT", "FILL", "CORE"),
    "open_hihat": ("FILL", "ACCENT", "CORE"),
    "ride": ("FILL", "ACCENT", "CORE"),
    "low_tom": ("CORE", "ACCENT", "MOTION"),
    "mid_tom": ("ACCENT", "CORE", "MOTION"),
    "high_tom": ("ACCENT", "MOTION", "CORE"),
    "crash": ("MOTION", "ACCENT", "CORE"),
}
# Words in a sample's name that pick its class, checked in this order.
NAME_HINTS: tuple[tuple[str, str], ...] = (
    ("ride", "ride"),
    ("open", "open_hihat"),
    ("closed", "closed_hihat"),
    ("crash", "crash"),
    ("cymbal", "crash"),
    ("floor", "low_tom"),
    ("low", "low_tom"),
    ("mid", "mid_tom"),
    ("high", "high_tom"),
)
RINGING_STEPS = 16  # a FILL hit held a bar or longer is a cymbal, not a tom
FILL_RUN = ("high_tom", "high_tom", "mid_tom", "low_tom")  # by 16th within the beat
VEL_DECIMALS = 4  # finer than MIDI's 127 levels
MS_DECIMALS = 3  # 1 µs, finer than one sample at 192 kHz


class GrooveModelLike(Protocol):
    """What `humanize_events` and `vary_events` need: `groove.model.GrooveModel`, or a fake.

    Arrays are float32 ``(windows, 32, 9)``: hits 0/1, velocities 0..1, offsets in steps.
    """

    def humanize(self, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def vary(
        self,
        hits: np.ndarray,
        velocities: np.ndarray,
        offsets: np.ndarray,
        *,
        temperature: float,
        seed: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


# --- roles <-> classes ---------------------------------------------------------------------


def _words(text: str) -> str:
    """Lower case with CamelCase split (``HiHatOpen`` -> ``hi hat open``)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).lower()


def hinted_classes(name: str) -> list[str]:
    """The classes the words of a sample name point to, in `NAME_HINTS` order.

    A word counts where it starts a word (``hat_open``, ``ride2``, ``OpenHat``), never
    inside one (``hollow`` is not ``low``).
    """
    text = _words(name)
    return [c for word, c in NAME_HINTS if re.search(rf"(?<![a-z]){word}", text)]


def item_name(item: PoolItem) -> str:
    """A pool sample's name: its id and its file name (without folders, which say little)."""
    return f"{item.sample_id} {Path(item.filepath).stem}"


def event_class(event: Event, *, pools: Pools | None = None) -> str:
    """The drum class the model is told ``event`` is (module table, `ROLE_CLASSES`).

    Raises
    ------
    DrumgenxError
        The role has no class (TEXTURE, or an unknown role).
    """
    if event.role not in ROLE_CLASSES:
        raise DrumgenxError(
            f"role {event.role!r} has no drum class; the model takes "
            f"{', '.join(ROLE_CLASSES)} ({TEXTURE} is passed through)"
        )
    item = pools.find(event.sample_id) if pools else None
    name = item_name(item) if item else event.sample_id
    allowed = ROLE_CLASSES[event.role]
    hinted = next((c for c in hinted_classes(name) if c in allowed), None)
    if hinted:
        return hinted
    if event.role == "FILL":
        return "crash" if event.dur_steps >= RINGING_STEPS else FILL_RUN[event.step % 4]
    return allowed[0]


def class_roles(pools: Pools) -> dict[str, str | None]:
    """For every class, the role whose pool supplies its new hits (module table); None: none."""
    return {
        c: next((r for r in (CLASS_ROLE[c], *FALLBACK_ROLES[c]) if pools.pool(r)), None)
        for c in DRUM_CLASSES
    }


def pool_rotation(pools: Pools, role: str, drum_class: str, *, seed: int) -> list[PoolItem]:
    """The samples new ``drum_class`` hits in ``role`` take in turn (empty if the pool is).

    The pool's samples whose name hints the class, else the whole pool; of those, the
    skeleton's rotation (`core.pools.choose_samples`: up to 3, drawn by confidence with the
    seed).
    """
    pool = pools.pool(role)
    named = [item for item in pool if drum_class in hinted_classes(item_name(item))]
    return choose_samples(Pools({role: named or pool}), seed=seed)[role]


# --- windows -------------------------------------------------------------------------------


def window_weights() -> np.ndarray:
    """``w(t) = sin²(π (t + 0.5) / 32)`` for t = 0..31; ``w(t) + w(t + 16) = 1``."""
    t = np.arange(WINDOW_STEPS)
    return np.sin(np.pi * (t + 0.5) / WINDOW_STEPS) ** 2


def window_index(num_bars: int) -> np.ndarray:
    """``(num_bars, 32)``: the pattern step at each window position (window k: bars k, k+1)."""
    starts = np.arange(num_bars)[:, None] * STEPS_PER_BAR
    return (starts + np.arange(WINDOW_STEPS)) % (num_bars * STEPS_PER_BAR)


def to_windows(steps: np.ndarray) -> np.ndarray:
    """``(num_bars * 16, C)`` pattern arrays -> ``(num_bars, 32, C)`` windows (a copy)."""
    return steps[window_index(len(steps) // STEPS_PER_BAR)]


def blend_windows(
    hits: np.ndarray, velocities: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cross-fade per-window outputs ``(num_bars, 32, C)`` back onto the pattern.

    Returns
    -------
    hits
        ``(num_bars * 16, C)`` bool: the windows' weighted vote is above one half.
    velocities, offsets
        ``(num_bars * 16, C)``: the weighted mean over the windows that have the hit; 0 where
        none has it.
    """
    num_bars, _, num_classes = hits.shape
    index = window_index(num_bars).ravel()
    weight = (window_weights()[None, :, None] * np.asarray(hits, np.float64)).reshape(
        -1, num_classes
    )

    def overlap_add(values: np.ndarray) -> np.ndarray:
        out = np.zeros((num_bars * STEPS_PER_BAR, num_classes))
        np.add.at(out, index, values.reshape(-1, num_classes))
        return out

    total = overlap_add(weight)
    divisor = np.where(total > 0, total, 1.0)
    mean_velocity = overlap_add(weight * np.asarray(velocities, np.float64).reshape(weight.shape))
    mean_offset = overlap_add(weight * np.asarray(offsets, np.float64).reshape(weight.shape))
    return total > 0.5, mean_velocity / divisor, mean_offset / divisor


# --- events <-> arrays ---------------------------------------------------------------------


@dataclass
class Encoded:
    """A pattern as GrooVAE arrays ``(num_bars * 16, 9)`` and where each event went.

    ``cells[i]`` is event i's ``(pattern step, class index)``, or None for TEXTURE. Where
    several events share a cell, the loudest one's velocity and offset stand for it.
    """

    hits: np.ndarray
    velocities: np.ndarray
    offsets: np.ndarray
    cells: list[tuple[int, int] | None]


def step_ms(grid: Grid) -> float:
    """Milliseconds per step: ``micro_offset_ms = offset_steps * step_ms(grid)``."""
    return grid.tstep * 1000.0


def encode_events(events: list[Event], grid: Grid, *, pools: Pools | None = None) -> Encoded:
    """Events -> hits, velocities and offsets (steps, clipped to ±0.5) per step and class.

    Raises
    ------
    DrumgenxError
        The grid is not 16 steps per bar, or an event's role is unknown (`event_class`).
    """
    if grid.steps_per_bar != STEPS_PER_BAR:
        raise DrumgenxError(
            f"the grid has {grid.steps_per_bar} steps per bar; GrooVAE needs {STEPS_PER_BAR}"
        )
    shape = (grid.num_bars * STEPS_PER_BAR, len(DRUM_CLASSES))
    hits, velocities, offsets = (np.zeros(shape, np.float32) for _ in range(3))
    cells: list[tuple[int, int] | None] = []
    for event in events:
        if event.role == TEXTURE:
            cells.append(None)
            continue
        cell = (
            event.bar * STEPS_PER_BAR + event.step,
            DRUM_CLASSES.index(event_class(event, pools=pools)),
        )
        cells.append(cell)
        if not hits[cell] or event.vel > velocities[cell]:
            velocities[cell] = event.vel
            offsets[cell] = np.clip(event.micro_offset_ms / step_ms(grid), -0.5, 0.5)
        hits[cell] = 1.0
    return Encoded(hits, velocities, offsets, cells)


def _timing(velocity: float, offset: float, grid: Grid) -> dict[str, float]:
    """Model velocity and offset (steps) -> ``vel`` and ``micro_offset_ms``, clipped, rounded."""
    offset = float(np.clip(offset, -0.5, 0.5))
    return {
        "vel": round(float(np.clip(velocity, 0.0, 1.0)), VEL_DECIMALS),
        # + 0.0 turns a rounded -0.0 into 0.0
        "micro_offset_ms": round(offset * step_ms(grid), MS_DECIMALS) + 0.0,
    }


def _regroove(
    events: list[Event],
    encoded: Encoded,
    velocity: np.ndarray,
    offset: np.ndarray,
    grid: Grid,
    *,
    present: np.ndarray | None = None,
    keep_played: bool = False,
) -> list[Event]:
    """The events with ``source="groovae"`` and the model's timing (TEXTURE keeps its own); a
    hit whose cell is not ``present`` (the model removed it) is left out. With
    ``keep_played``, a played hit (``source="played"``) is left exactly as it is."""

    def regrooved(event: Event, cell: tuple[int, int] | None) -> Event:
        if keep_played and event.source == PLAYED:
            return event
        if cell is None:  # TEXTURE: the model never saw it
            return replace(event, source="groovae")
        return replace(event, source="groovae", **_timing(velocity[cell], offset[cell], grid))

    return [
        regrooved(event, cell)
        for event, cell in zip(events, encoded.cells, strict=True)
        if cell is None or present is None or present[cell]
    ]


def limit_voices(
    events: list[Event], *, max_voices: int = MAX_VOICES
) -> tuple[list[Event], Counter[str]]:
    """At most ``max_voices`` hits start on one step, as in the skeleton (`limit_polyphony`).

    The lowest-priority roles are dropped first, except that TEXTURE, which the model never
    touches, keeps its voice and the model's hits share what is left. ``events`` must be
    sorted (`core.events.sort_events`): on a tie, the earlier event stays.

    Returns the kept events (in order) and how many were dropped per role.
    """
    used = Counter(e.position for e in events if e.role == TEXTURE)
    kept, dropped = [], Counter[str]()
    for event in events:  # sorted: the hits of a step come in priority order
        if event.role != TEXTURE:
            if used[event.position] >= max_voices:
                dropped[event.role] += 1
                continue
            used[event.position] += 1
        kept.append(event)
    return kept, dropped


# --- the model over a pattern --------------------------------------------------------------


@dataclass
class Grooved:
    """What `humanize_events` / `vary_events` made: events (sorted as the format asks), counts."""

    events: list[Event]
    added: int = 0
    removed: int = 0
    polyphony_dropped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Feel:
    """How the humanizer plays (`groove.humanizer`; GrooVAE takes only the defaults).

    ``feel`` 0..1 (0: the most likely performance; 1: a drummer's spread, drawn with
    ``seed``), ``drummer`` 1..10 (GMD's drummers; None: any), ``style`` a GMD style (None:
    any).
    """

    feel: float = 0.0
    drummer: int | None = None
    style: str | None = None
    seed: int = 0

    @property
    def is_default(self) -> bool:
        return self.feel == 0 and self.drummer is None and self.style is None


def humanize_events(
    events: list[Event],
    grid: Grid,
    *,
    model: GrooveModelLike | Humanizer,
    pools: Pools | None = None,
    feel: Feel | None = None,
    keep_played: bool = False,
) -> Grooved:
    """Give every hit the model's velocity and micro-timing; the hits stay exactly the same.

    Each non-TEXTURE event keeps bar, step, role, sample and length, and gets the model's
    velocity and ``micro_offset_ms``. TEXTURE events keep theirs. Every event gets
    ``source="groovae"``, except that with ``keep_played`` a played hit (``source="played"``:
    the input's own pattern, a GMD drummer's) stays exactly as it was played; the model still
    hears it as context. With the humanizer, ``feel`` conditions and samples the
    performance (`groove.humanizer.perform`, after the windows are cross-faded, so a draw is
    made once per hit); GrooVAE has no such inputs.

    Raises
    ------
    ParameterError
        A ``feel`` other than the default with GrooVAE, or one the humanizer refuses.
    """
    feel = feel or Feel()
    encoded = encode_events(events, grid, pools=pools)
    windows = to_windows(encoded.hits)
    if isinstance(model, Humanizer):
        if feel.feel > 0 and model.meta.get("loss", "laplace") != "laplace":
            raise ParameterError(
                "feel",
                f"this humanizer was trained with the {model.meta['loss']} loss: it "
                "predicts no spread to draw from",
            )
        predicted = humanizer_prediction(
            model, encoded.hits, bpm=grid.bpm, drummer=feel.drummer, style=feel.style
        )
        velocity, offset_ms = perform(
            predicted, encoded.hits, feel=feel.feel, seed=feel.seed, calibration=model.calibration
        )
        offset = offset_ms / step_ms(grid)
    else:
        if not feel.is_default:
            raise ParameterError(
                "feel", "feel, drummer and style need the humanizer, not a GrooVAE model"
            )
        velocities, offsets = model.humanize(windows)
        _, velocity, offset = blend_windows(windows, velocities, offsets)
    return Grooved(
        sort_events(_regroove(events, encoded, velocity, offset, grid, keep_played=keep_played))
    )


def humanizer_prediction(
    model: Humanizer,
    hits: np.ndarray,
    *,
    bpm: float,
    drummer: int | None = None,
    style: str | None = None,
) -> Prediction:
    """The humanizer's distributions for a looped pattern ``hits`` ``(bars * 16, 9)``: its
    windows predicted and cross-faded (`blend_windows`), so `perform` draws once per hit."""
    windows = to_windows(hits)
    predicted = model.predict(
        windows, bpm=bpm, first_bars=np.arange(len(windows)), drummer=drummer, style=style
    )
    _, velocity, velocity_scale = blend_windows(
        windows, predicted.velocity, predicted.velocity_scale
    )
    _, offset_ms, offset_scale = blend_windows(
        windows, predicted.offset_ms, predicted.offset_scale_ms
    )
    return Prediction(velocity, velocity_scale, offset_ms, offset_scale)


def vary_events(
    events: list[Event],
    grid: Grid,
    pools: Pools,
    *,
    model: GrooveModelLike,
    temperature: float,
    seed: int,
    notify: Callable[[str], None] | None = None,
    keep_played: bool = False,
) -> Grooved:
    """Let the model add and remove hits, then re-apply the 3-voice limit (`limit_voices`).

    Kept hits get the model's velocity and timing as in `humanize_events` (with
    ``keep_played``, played hits keep their own); removed hits are dropped. A new hit takes
    its role from `class_roles` (its own, else the nearest role with samples), its sample
    from `pool_rotation` (in turn, in time order), the skeleton's length for the role
    (`core.events.DUR_STEPS`) and ``source="groovae"``. TEXTURE events are kept (``source``
    aside) and keep their voice. ``notify`` receives a line per role
    standing in for an empty pool and per class no pool supplies (None: dropped).
    """
    encoded = encode_events(events, grid, pools=pools)
    hits, velocities, offsets = model.vary(
        to_windows(encoded.hits),
        to_windows(encoded.velocities),
        to_windows(encoded.offsets),
        temperature=temperature,
        seed=seed,
    )
    present, velocity, offset = blend_windows(hits, velocities, offsets)
    kept = _regroove(
        events, encoded, velocity, offset, grid, present=present, keep_played=keep_played
    )
    roles = class_roles(pools)
    rotations: dict[tuple[str, str], list[PoolItem]] = {}
    turn: Counter[tuple[str, str]] = Counter()
    unsupplied: Counter[str] = Counter()
    new = []
    for step, c in np.argwhere(present & (encoded.hits == 0)):  # row-major: time order
        drum_class, cell = DRUM_CLASSES[c], (int(step), int(c))
        role = roles[drum_class]
        if role is None:
            unsupplied[drum_class] += 1
            continue
        key = (role, drum_class)
        rotation = rotations.setdefault(key, pool_rotation(pools, role, drum_class, seed=seed))
        sample = rotation[turn[key] % len(rotation)]
        turn[key] += 1
        new.append(
            Event(
                bar=cell[0] // STEPS_PER_BAR,
                step=cell[0] % STEPS_PER_BAR,
                role=role,
                sample_id=sample.sample_id,
                dur_steps=DUR_STEPS[role],
                source="groovae",
                **_timing(velocity[cell], offset[cell], grid),
            )
        )
    # Kept hits come first, so on a tie of role and step the polyphony limit keeps them.
    out, dropped = limit_voices(sort_events(kept + new))
    new_ids = {id(event) for event in new}
    notify = notify or silent
    for role, c in rotations:
        if role != CLASS_ROLE[c]:
            notify(f"new {c} hits use {role} samples ({CLASS_ROLE[c]}_POOL is empty)")
    for c, n in unsupplied.items():
        notify(f"no pool has samples for {n} new {c} hit(s): left out")
    return Grooved(
        events=out,
        added=sum(id(event) in new_ids for event in out),
        removed=len(events) - len(kept),
        polyphony_dropped=dict(sorted(dropped.items())),
    )
