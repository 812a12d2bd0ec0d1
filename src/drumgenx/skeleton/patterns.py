"""Rule-based skeleton: where each role plays, how loud, and with which sample.

Pure functions of (pools, params): no disk, no clock, no global random state, so the same
inputs and seed always give the same events. Every rule is the seed's stage-3 rule; the
README's "Skeleton rules" section documents them for users.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TypeVar

from drumgenx.core.console import silent
from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.core.events import DUR_STEPS, FILL_STEPS, MAX_VOICES, step_class, velocity
from drumgenx.core.pools import ROTATION, choose_samples, seeded_rng, weighted_order
from drumgenx.core.records import PLAYED, Event, PoolItem, Pools
from drumgenx.core.roles import ROLE_PRIORITY, ROLES
from drumgenx.skeleton.grid import STEPS_PER_BAR
from drumgenx.skeleton.origin import parse_pattern
from drumgenx.skeleton.settings import MOTION_MODES, PatternSettings
from drumgenx.skeleton.source import PlacedHit

_Hit = TypeVar("_Hit", bound=tuple)

# The rules shared with the editor and GrooVAE (FILL_STEPS, DUR_STEPS, the velocity curve)
# live in `core.events`, the seeded sample rotation in `core.pools`.
CORE_STEPS = (0, 4, 8, 12)  # four on the floor (seed)
ACCENT_STEPS = (4, 12)  # backbeat on beats 2 and 4 (seed)
PHRASE_BARS = 4  # a fill may close every 4-bar phrase (seed)

# Mode A keeps the first `motion_keep` of these eighth-note steps in every bar: off-beats
# first (the hat answers the kick), then beats 1 and 3, then 2 and 4.
MOTION_A_ORDER = (2, 6, 10, 14, 0, 8, 4, 12)
# Mode B redraws `motion_keep` of all sixteen steps in every bar, weighted by step class:
# off-beat eighths are likeliest, then beats, then the 16th-note "e" and "a" positions.
MOTION_B_WEIGHTS = {"offbeat_8th": 4.0, "beat": 2.0, "sixteenth": 1.0}


@dataclass(frozen=True)
class SkeletonParams(PatternSettings):
    """Every parameter of a skeleton; defaults are the seed's runner defaults.

    The pattern's choices are `PatternSettings`' (``bars``, ``seed``, ``motion_mode``,
    ``motion_keep``, ``fill_prob``, ``texture``: the command line's flags); this adds the
    two limits the command line does not set.
    """

    max_voices: int = MAX_VOICES  # simultaneous hits per step (seed)
    rotation: int = ROTATION  # distinct samples a role cycles through when its pool has them

    def validate(self) -> None:
        if self.motion_mode not in MOTION_MODES:
            raise ParameterError("motion_mode", f"must be A or B, got {self.motion_mode!r}")
        if not 4 <= self.motion_keep <= 8:
            raise ParameterError("motion_keep", f"must be 4..8, got {self.motion_keep}")
        if not 0.0 <= self.fill_prob <= 1.0:
            raise ParameterError("fill_prob", f"must be 0..1, got {self.fill_prob:g}")
        if self.bars < 1:
            raise ParameterError("bars", f"must be at least 1, got {self.bars}")
        parse_pattern(self.pattern)
        if self.max_voices < 1 or self.rotation < 1:
            raise DrumgenxError("max_voices and rotation must be at least 1")


@dataclass
class Skeleton:
    """The result: events sorted by time then priority, and how they were chosen."""

    events: list[Event]
    chosen: dict[str, list[PoolItem]]
    polyphony_dropped: dict[str, int] = field(default_factory=dict)


def motion_steps(params: SkeletonParams) -> list[list[int]]:
    """The MOTION steps of every bar, per ``motion_mode`` (see module constants)."""
    if params.motion_mode == "A":
        steps = sorted(MOTION_A_ORDER[: params.motion_keep])
        return [steps for _ in range(params.bars)]
    rng = seeded_rng(params.seed, "motion")
    weights = [MOTION_B_WEIGHTS[step_class(s)] for s in range(STEPS_PER_BAR)]
    return [sorted(weighted_order(weights, rng)[: params.motion_keep]) for _ in range(params.bars)]


def fill_bars(params: SkeletonParams) -> list[int]:
    """Bars that end with a fill: the last bar of each 4-bar phrase, with ``fill_prob``.

    A trailing partial phrase (e.g. bars 4-5 of a 6-bar loop) ends on the loop's last bar.
    """
    rng = seeded_rng(params.seed, "fill")
    bars = []
    for phrase in range(math.ceil(params.bars / PHRASE_BARS)):
        last_bar = min(phrase * PHRASE_BARS + PHRASE_BARS - 1, params.bars - 1)
        if rng.random() < params.fill_prob:
            bars.append(last_bar)
    return bars


def place_hits(params: SkeletonParams) -> list[tuple[int, int, str]]:
    """Every ``(bar, step, role)`` the rules ask for, before the polyphony limit."""
    hits = []
    motion = motion_steps(params)
    for bar in range(params.bars):
        hits += [(bar, s, "CORE") for s in CORE_STEPS]
        hits += [(bar, s, "ACCENT") for s in ACCENT_STEPS]
        hits += [(bar, s, "MOTION") for s in motion[bar]]
    for bar in fill_bars(params):
        hits += [(bar, s, "FILL") for s in FILL_STEPS]
    if params.texture:
        hits.append((0, 0, "TEXTURE"))
    return sorted(hits, key=lambda h: (h[0], h[1], ROLE_PRIORITY[h[2]]))


def limit_polyphony(hits: list[_Hit], *, max_voices: int) -> tuple[list[_Hit], Counter[str]]:
    """Keep at most ``max_voices`` hits per step, dropping the lowest-priority roles.

    ``hits`` are tuples starting ``(bar, step, role, ...)``. Returns the kept hits (in input
    order) and how many were dropped per role.
    """
    per_step: dict[tuple[int, int], list[_Hit]] = {}
    for hit in hits:
        per_step.setdefault(hit[:2], []).append(hit)
    dropped: Counter[str] = Counter()
    keep = set()
    for group in per_step.values():
        ranked = sorted(group, key=lambda h: ROLE_PRIORITY[h[2]])
        keep.update(ranked[:max_voices])
        dropped.update(h[2] for h in ranked[max_voices:])
    return [h for h in hits if h in keep], dropped


def build_skeleton(
    pools: Pools,
    params: SkeletonParams,
    *,
    hits: Sequence[PlacedHit] | None = None,
    tstep: float = 0.125,  # a 16th at 120 bpm; callers with hits pass their grid's
    notify: Callable[[str], None] | None = None,
) -> Skeleton:
    """Build the skeleton events for ``params.bars`` bars from ``pools``.

    ``hits``: the pattern's hits when it comes from an input or a style (`skeleton.origin`),
    each with its velocity, its micro-timing (steps of ``tstep`` seconds) and, for an
    input's hit, the slice cut from it, played from whichever pool holds it (so a role whose
    pool stage 2 left empty still plays the hits it has slices for); None: the seed's rules
    place them (`place_hits`). A pattern's hits are marked ``source="played"`` (stage 4
    keeps their velocity and timing unless told otherwise), the rules' ``"skeleton"``.
    ``params.texture`` adds the TEXTURE bed either way; the polyphony limit applies either
    way.

    Roles whose pool is empty are skipped with a notice to ``notify`` (None: dropped). Hits
    of one role take the chosen samples in turn, in time order, so a repeated hit does not
    replay one file every time.
    """
    params.validate()
    chosen = choose_samples(pools, seed=params.seed, rotation=params.rotation)
    for role in ROLES:
        if not chosen[role]:
            (notify or silent)(f"{role}_POOL is empty: no {role} hits in this skeleton")
    if hits is None:
        planned = [
            (bar, step, role, velocity(role, step), 0.0, None)
            for bar, step, role in place_hits(params)
        ]
    else:
        planned = _pattern_hits(hits, params=params, tstep=tstep)
    pooled = {item.sample_id for items in pools.by_role.values() for item in items}
    playable = [h for h in planned if chosen[h[2]] or h[5] in pooled]
    planned, dropped = limit_polyphony(playable, max_voices=params.max_voices)
    turn: Counter[str] = Counter()
    events = []
    for bar, step, role, vel, offset_ms, own in planned:
        if own in pooled:
            sample_id = own
        else:
            sample_id = chosen[role][turn[role] % len(chosen[role])].sample_id
            turn[role] += 1
        events.append(
            Event(
                bar=bar,
                step=step,
                role=role,
                sample_id=sample_id,
                vel=vel,
                dur_steps=DUR_STEPS[role],
                micro_offset_ms=offset_ms,
                # a pattern's hits as played; the seed's rules and the TEXTURE bed are ours
                source=PLAYED if hits is not None and role != "TEXTURE" else "skeleton",
            )
        )
    return Skeleton(
        events=events,
        chosen={role: items for role, items in chosen.items() if items},
        polyphony_dropped=dict(sorted(dropped.items())),
    )


def _pattern_hits(
    hits: Sequence[PlacedHit], *, params: SkeletonParams, tstep: float
) -> list[tuple[int, int, str, float, float, str | None]]:
    """A pattern's hits as the skeleton plans them: one per (bar, step, role) (the
    loudest), offsets in ms, the TEXTURE bed added, in time and priority order."""
    loudest: dict[tuple[int, int, str], PlacedHit] = {}
    for h in hits:
        key = (h.bar, h.step, h.role)
        if 0 <= h.bar < params.bars and (key not in loudest or h.vel > loudest[key].vel):
            loudest[key] = h
    planned = [
        (h.bar, h.step, h.role, round(h.vel, 4), round(h.offset * tstep * 1000.0, 3), h.sample_id)
        for h in loudest.values()
    ]
    if params.texture:
        planned.append((0, 0, "TEXTURE", velocity("TEXTURE", 0), 0.0, None))
    return sorted(planned, key=lambda h: (h[0], h[1], ROLE_PRIORITY[h[2]]))


def params_to_json(params: SkeletonParams) -> dict[str, object]:
    return asdict(params)
