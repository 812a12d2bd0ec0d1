"""Editor operations: pure functions from a list of events to a new list.

A hit is identified by ``(bar, step, role)``; a selection filters by bars, steps and roles
(each optional, all given filters must match). Edited or added events get ``source="edit"``.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace

from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.core.events import DUR_STEPS, MAX_VOICES, sort_events, velocity
from drumgenx.core.records import Event, Pools
from drumgenx.core.roles import ROLES
from drumgenx.edit.settings import OFFSET_MS, POOL_SEED

MAX_OFFSET_MS = 1000.0  # the event grid schema's limit on micro_offset_ms


def parse_index_list(text: str, *, name: str, upper: int | None = None) -> frozenset[int]:
    """``"0,2,4-7"`` -> {0, 2, 4, 5, 6, 7}; every value must be ``0 <= v < upper``.

    ``name`` is the parameter ``text`` came through, as an error names it.
    """
    values: set[int] = set()
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        try:
            lo, hi = int(low), int(high) if dash else int(low)
        except ValueError:
            raise ParameterError(name, f"expects numbers like 0,2,4-7, got {text!r}") from None
        if lo > hi or lo < 0 or (upper is not None and hi >= upper):
            limit = f" (0..{upper - 1})" if upper is not None else ""
            raise ParameterError(name, f"{part.strip()!r} is out of range{limit}")
        values.update(range(lo, hi + 1))
    return frozenset(values)


@dataclass(frozen=True)
class Selection:
    """Which hits an edit touches; ``None`` means any."""

    bars: frozenset[int] | None = None
    steps: frozenset[int] | None = None
    roles: frozenset[str] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.roles or ()) - set(ROLES)
        if unknown:
            raise DrumgenxError(f"unknown role(s) {sorted(unknown)}; roles are {', '.join(ROLES)}")

    @property
    def is_everything(self) -> bool:
        return self.bars is None and self.steps is None and self.roles is None

    def matches(self, event: Event) -> bool:
        return (
            (self.bars is None or event.bar in self.bars)
            and (self.steps is None or event.step in self.steps)
            and (self.roles is None or event.role in self.roles)
        )


def _select(events: list[Event], selection: Selection) -> list[int]:
    hits = [i for i, e in enumerate(events) if selection.matches(e)]
    if not hits:
        raise DrumgenxError("the selection matches no hit; nothing was changed")
    return hits


def set_hit(
    events: list[Event],
    *,
    bar: int,
    step: int,
    role: str,
    sample_id: str | None = None,
    vel: float | None = None,
    dur_steps: float | None = None,
    micro_offset_ms: float = OFFSET_MS,
    max_voices: int = MAX_VOICES,
) -> list[Event]:
    """Add the ``role`` hit at ``(bar, step)``, or replace the one already there.

    Defaults: the sample the role uses most in ``events``, the skeleton's velocity and
    length for that role and step. Refuses to exceed ``max_voices`` hits on one step.
    """
    if role not in ROLES:
        raise DrumgenxError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if not 0 <= step < 16 or bar < 0:
        raise DrumgenxError(f"no step {step} in bar {bar}: bars count from 0, steps are 0..15")
    if vel is not None and not 0.0 <= vel <= 1.0:
        raise ParameterError("vel", f"must be 0..1, got {vel:g}")
    if not -MAX_OFFSET_MS <= micro_offset_ms <= MAX_OFFSET_MS:
        raise ParameterError("micro_offset_ms", f"must be -1000..1000, got {micro_offset_ms:g}")
    if sample_id is None:
        sample_id = most_used_sample(events, role=role)
        if sample_id is None:
            raise ParameterError("sample_id", f"not given and no {role} hit to take a sample from")
    kept = [e for e in events if not (e.position == (bar, step) and e.role == role)]
    if sum(e.position == (bar, step) for e in kept) >= max_voices:
        raise DrumgenxError(
            f"bar {bar} step {step} already has {max_voices} hits (the polyphony limit); "
            "remove one first"
        )
    new = Event(
        bar=bar,
        step=step,
        role=role,
        sample_id=sample_id,
        vel=velocity(role, step) if vel is None else vel,
        dur_steps=DUR_STEPS[role] if dur_steps is None else dur_steps,
        micro_offset_ms=micro_offset_ms,
        source="edit",
    )
    return sort_events([*kept, new])


def most_used_sample(events: list[Event], *, role: str) -> str | None:
    """The sample the ``role`` hits of ``events`` use most (the first of a tie), or None."""
    used = Counter(e.sample_id for e in events if e.role == role)
    return used.most_common(1)[0][0] if used else None


def draw_pool_sample(pools: Pools, *, role: str, seed: int = POOL_SEED) -> str | None:
    """One sample id of ``role``'s pool, drawn with ``seed``; None if that pool is empty.

    Confidence weights the draw (with a floor of 0.001, so no sample is undrawable): the
    samples stage 2 is surest of are the likeliest. The same pools and seed give the same id.

    Parameters
    ----------
    pools
        Stage 2's pools.
    role
        One of `ROLES`.
    seed
        Any integer; the default is `POOL_SEED`.
    """
    if role not in ROLES:
        raise ParameterError("role", f"must be one of {', '.join(ROLES)}, got {role!r}")
    pool = pools.pool(role)
    if not pool:
        return None
    weights = [max(item.confidence, 1e-3) for item in pool]
    return random.Random(seed).choices(pool, weights=weights)[0].sample_id


def remove_hits(events: list[Event], selection: Selection) -> list[Event]:
    """Remove the selected hits. An empty selection is refused (it would remove all)."""
    if selection.is_everything:
        raise ParameterError.about(
            "remove: select hits with {0}, {1} and/or {2}", "bars", "steps", "roles"
        )
    chosen = set(_select(events, selection))
    return [e for i, e in enumerate(events) if i not in chosen]


def change_velocity(
    events: list[Event],
    selection: Selection,
    *,
    value: float | None = None,
    scale: float | None = None,
) -> list[Event]:
    """Set (``value``) or multiply (``scale``) the velocity of the selected hits, within 0..1."""
    if (value is None) == (scale is None):
        raise ParameterError.about("velocity: give exactly one of {0} and {1}", "value", "scale")
    if value is not None and not 0.0 <= value <= 1.0:
        raise ParameterError("value", f"must be 0..1, got {value:g}")
    if scale is not None and not scale >= 0:  # also refuses NaN
        raise ParameterError("scale", f"must be >= 0, got {scale:g}")
    chosen = set(_select(events, selection))
    out = []
    for i, e in enumerate(events):
        if i in chosen:
            vel = value if value is not None else min(1.0, e.vel * scale)
            e = replace(e, vel=round(vel, 6), source="edit")
        out.append(e)
    return out
