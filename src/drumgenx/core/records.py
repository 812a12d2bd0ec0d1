"""Dataclasses for the records that travel between stages as JSON.

Each record converts to and from the plain JSON structure of its file format; the formats
themselves are pinned by the schemas in ``core/schemas`` and checked by `core.formats`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from drumgenx.core.roles import ROLES, pool_key

EVENT_SOURCES: tuple[str, ...] = ("skeleton", "played", "groovae", "edit")
"""Who made an event: the seed's rules (``skeleton``), a drummer (``played``: the input's own
pattern or a GMD drummer's, stage 3 with its velocity and micro-timing as played), the
groove model (``groovae``, stage 4) or the editor (``edit``)."""
PLAYED = "played"
"""`EVENT_SOURCES`' value for a hit that keeps how it was played (stage 4 leaves it be)."""


@dataclass(frozen=True)
class Grid:
    """A beat grid: where every bar and 16th-note step falls, in seconds.

    ``t_step`` lists the start of every step of the pattern (``num_bars * steps_per_bar``
    values); ``bar_start`` the start of every bar.
    """

    bpm: float
    meter: str
    steps_per_bar: int
    num_bars: int
    tbeat: float
    tbar: float
    tstep: float
    bar_start: list[float]
    t_step: list[float]

    @property
    def duration(self) -> float:
        """Length of the pattern in seconds."""
        return self.num_bars * self.tbar

    @property
    def num_steps(self) -> int:
        return self.num_bars * self.steps_per_bar

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Grid:
        # JSON Schema counts 1.0 as an integer; the grid's sizes index arrays, so make them int.
        fields = {k: data[k] for k in cls.__dataclass_fields__}
        return cls(**{**fields, "steps_per_bar": int(fields["steps_per_bar"]),
                      "num_bars": int(fields["num_bars"])})  # fmt: skip


@dataclass(frozen=True)
class Event:
    """One drum hit on the grid.

    ``vel`` is 0..1; ``micro_offset_ms`` moves the hit off its step (positive = late);
    ``source`` says who made it (one of `EVENT_SOURCES`).
    """

    bar: int
    step: int
    role: str
    sample_id: str
    vel: float
    dur_steps: float
    micro_offset_ms: float = 0.0
    source: str = "skeleton"

    @property
    def position(self) -> tuple[int, int]:
        return (self.bar, self.step)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        # JSON Schema counts 1.0 as an integer; bar and step index arrays, so make them int.
        return cls(**{**fields, "bar": int(fields["bar"]), "step": int(fields["step"])})


def events_to_json(events: list[Event]) -> list[dict[str, Any]]:
    return [e.to_json() for e in events]


def events_from_json(data: list[dict[str, Any]]) -> list[Event]:
    return [Event.from_json(d) for d in data]


@dataclass(frozen=True)
class PoolItem:
    """A sample in a role pool; ``confidence`` (0..1) is how sure stage 2 is of the role.

    ``unsure``: stage 2's confidence was below its threshold (`RolesSettings.unsure_below`);
    such a sample is drawn after every sure one of its pool (`core.pools.choose_samples`).
    Written only when true, so pools without unsure samples read as before.
    """

    sample_id: str
    filepath: str
    confidence: float
    unsure: bool = False

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        if not self.unsure:
            del out["unsure"]
        return out


@dataclass(frozen=True)
class Pools:
    """Samples grouped by role, each pool sorted by confidence (highest first)."""

    by_role: dict[str, list[PoolItem]] = field(default_factory=dict)

    def pool(self, role: str) -> list[PoolItem]:
        return self.by_role.get(role, [])

    def find(self, sample_id: str) -> PoolItem | None:
        """The first pool item with this sample id, in any role."""
        for role in ROLES:
            for item in self.pool(role):
                if item.sample_id == sample_id:
                    return item
        return None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            pool_key(role): [item.to_json() for item in self.pool(role)] for role in ROLES
        }
        out["counts"] = {role: len(self.pool(role)) for role in ROLES}
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pools:
        return cls(
            by_role={
                role: [
                    PoolItem(
                        item["sample_id"],
                        item["filepath"],
                        item["confidence"],
                        bool(item.get("unsure", False)),  # older pools: all sure
                    )
                    for item in data[pool_key(role)]
                ]
                for role in ROLES
            }
        )
