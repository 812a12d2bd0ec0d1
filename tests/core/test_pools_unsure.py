"""Unsure samples (issue #15) in pools: drawn after the sure ones; older pools still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drumgenx.core.pools import choose_samples, seeded_rng, weighted_order
from drumgenx.core.records import PoolItem, Pools


def _pool() -> Pools:
    # the unsure samples are the most confident here: only the flag can put them last
    sure = [PoolItem(f"sure_{i}", f"s{i}.wav", 0.1 + 0.01 * i) for i in range(3)]
    unsure = [PoolItem(f"unsure_{i}", f"u{i}.wav", 0.45, unsure=True) for i in range(4)]
    return Pools({"CORE": unsure[:2] + sure + unsure[2:]})


@pytest.mark.parametrize("seed", range(25))
def test_unsure_samples_come_after_every_sure_one(seed: int) -> None:
    drawn = choose_samples(_pool(), seed=seed, rotation=5)["CORE"]
    assert [item.unsure for item in drawn] == [False, False, False, True, True]
    # with a rotation the sure samples fill, no unsure one is drawn at all
    assert not any(item.unsure for item in choose_samples(_pool(), seed=seed, rotation=3)["CORE"])


def test_a_pool_without_unsure_samples_is_drawn_as_before() -> None:
    items = [PoolItem(f"k{i}", f"k{i}.wav", c) for i, c in enumerate((0.9, 0.2, 0.5, 0.7))]
    for seed in range(10):
        before = weighted_order([i.confidence for i in items], seeded_rng(seed, "samples:CORE"))
        drawn = choose_samples(Pools({"CORE": items}), seed=seed, rotation=4)["CORE"]
        assert drawn == [items[i] for i in before]


def test_unsure_round_trips_and_older_pools_load(tmp_path: Path) -> None:
    from drumgenx.core.formats import load_pools

    pools = _pool()
    data = pools.to_json()
    assert "unsure" not in data["CORE_POOL"][2]  # a sure item is written as before
    assert data["CORE_POOL"][0]["unsure"] is True
    path = tmp_path / "pools_1.json"
    path.write_text(json.dumps(data))
    assert load_pools(path).pool("CORE") == pools.pool("CORE")  # schema-checked too
    for item in data["CORE_POOL"]:
        item.pop("unsure", None)  # a pools file from before issue #15
    path.write_text(json.dumps(data))
    assert not any(item.unsure for item in load_pools(path).pool("CORE"))
