"""Every file format is schema-checked on load with a one-line error naming file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drumgenx.core.errors import FormatError
from drumgenx.core.formats import (
    check_events_fit_grid,
    dump_json,
    load_events,
    load_grid,
    load_pools,
    read_json,
)
from drumgenx.core.records import Event, PoolItem, Pools, events_to_json
from drumgenx.skeleton.grid import build_grid


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _error(call, *args) -> str:
    with pytest.raises(FormatError) as info:
        call(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_grid_round_trips(tmp_path: Path) -> None:
    grid = build_grid(bpm=140, num_bars=2)
    path = tmp_path / "grid_1.json"
    path.write_bytes(dump_json(grid.to_json()))
    assert load_grid(path) == grid


def test_a_grids_optional_swing_is_checked(tmp_path: Path) -> None:
    data = build_grid(bpm=120, num_bars=1).to_json()
    assert load_grid(_write(tmp_path, "a.json", {**data, "swing": 0.25})) == load_grid(
        _write(tmp_path, "b.json", data)
    )
    assert "swing" in _error(load_grid, _write(tmp_path, "c.json", {**data, "swing": 0.9}))


def test_wrong_type_names_file_and_field(tmp_path: Path) -> None:
    data = build_grid(bpm=120, num_bars=1).to_json() | {"bpm": "fast"}
    path = _write(tmp_path, "grid_1.json", data)
    message = _error(load_grid, path)
    assert str(path) in message and "'bpm'" in message and "expected number" in message


def test_missing_field_and_inconsistent_lists(tmp_path: Path) -> None:
    data = build_grid(bpm=120, num_bars=2).to_json()
    assert "tstep" in _error(load_grid, _write(tmp_path, "a.json", {**data, "tstep": None}))
    del data["t_step"]
    assert "'t_step' is a required property" in _error(load_grid, _write(tmp_path, "b.json", data))
    data = build_grid(bpm=120, num_bars=2).to_json() | {"num_bars": 3}
    assert "bar_start" in _error(load_grid, _write(tmp_path, "c.json", data))


def test_truncated_empty_and_missing_files(tmp_path: Path) -> None:
    text = dump_json(build_grid(bpm=120, num_bars=1).to_json()).decode()
    assert "not valid JSON" in _error(load_grid, _write(tmp_path, "t.json", text[: len(text) // 2]))
    assert "empty" in _error(load_grid, _write(tmp_path, "e.json", ""))
    assert "no such file" in _error(load_grid, tmp_path / "nope.json")


def test_event_field_errors_point_at_the_event(tmp_path: Path) -> None:
    event = Event(0, 4, "CORE", "kick", 0.9, 4).to_json()
    bad_vel = _write(tmp_path, "v.json", [event, {**event, "vel": 1.5}])
    assert "[1].vel" in _error(load_events, bad_vel)
    bad_role = _write(tmp_path, "r.json", [{**event, "role": "COWBELL"}])
    assert "[0].role" in _error(load_events, bad_role) and "CORE" in _error(load_events, bad_role)
    assert "[0].step" in _error(load_events, _write(tmp_path, "s.json", [{**event, "step": 16}]))


def test_file_from_another_stage_is_named(tmp_path: Path) -> None:
    grid_file = _write(tmp_path, "grid_1.json", build_grid(bpm=120, num_bars=1).to_json())
    message = _error(load_events, grid_file)
    assert "not a valid event_grid file" in message and "looks like a grid file" in message


def test_pools_counts_must_agree(tmp_path: Path) -> None:
    pools = Pools({"CORE": [PoolItem("k", "k.wav", 0.9)]}).to_json()
    assert load_pools(_write(tmp_path, "ok.json", pools)).pool("CORE")[0].sample_id == "k"
    pools["counts"]["CORE"] = 2
    assert "counts.CORE" in _error(load_pools, _write(tmp_path, "bad.json", pools))


def test_events_outside_grid_are_refused() -> None:
    grid = build_grid(bpm=120, num_bars=2)
    with pytest.raises(FormatError, match="grid has 2 bars"):
        check_events_fit_grid([Event(2, 0, "CORE", "k", 1.0, 4)], grid, events_path="e.json")


def test_dump_is_deterministic_utf8() -> None:
    events = [Event(0, 0, "CORE", "kïck", 1.0, 4)]
    assert dump_json(events_to_json(events)) == dump_json(events_to_json(list(events)))
    assert "kïck" in dump_json(events_to_json(events)).decode("utf-8")


def test_every_schema_loads_and_accepts_its_own_output(tmp_path: Path) -> None:
    for fmt, data in {
        "grid": build_grid(bpm=90, num_bars=1).to_json(),
        "event_grid": events_to_json([Event(0, 0, "TEXTURE", "pad", 0.5, 16)]),
        "pools": Pools({}).to_json(),
    }.items():
        assert read_json(_write(tmp_path, f"{fmt}.json", data), fmt) == data
