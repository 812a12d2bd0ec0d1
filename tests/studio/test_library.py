"""The library view (``GET /api/library``, ``POST /api/library/move``): a run's one-shots by
role with their waveforms and map places (the library map picture's own projection); a move
to another role written as a new pools file through the versioned writer, the old untouched.
"""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.core.formats import load_pools, read_json
from drumgenx.core.roles import ROLES
from drumgenx.pictures.library_map import feature_matrix, project_2d
from drumgenx.studio.library import PEAK_BINS

RECORD = "run_1.json"
POOLS = "roles/pools_1.json"


def test_the_library_lists_every_one_shot_by_role_with_waveform_and_map_place(studio) -> None:
    answer = studio.get("/api/library", params={"record": RECORD})
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["pools"] == POOLS and view["pools_files"] == [POOLS]
    assert view["per_sample"] == "roles/per_sample_1.json"
    pools = load_pools(studio.out / POOLS)
    for role in ROLES:
        listed = view["roles"][role]
        assert [s["sample_id"] for s in listed] == [i.sample_id for i in pools.pool(role)]
        assert [s["confidence"] for s in listed] == sorted(
            (s["confidence"] for s in listed), reverse=True
        )
    kick = view["roles"]["CORE"][0]
    assert kick["sample_id"] == "kick" and kick["file"] == "library_1/kick.wav"
    assert len(kick["peaks"]) == PEAK_BINS and 0.1 < max(kick["peaks"]) <= 1.0
    assert kick["peaks"][0] > kick["peaks"][-1]  # a one-shot dies away
    # the places are the library map picture's: the same features, the same projection
    samples = read_json(studio.out / view["per_sample"], "per_sample")["samples"]
    xy, explained = project_2d(feature_matrix(samples)[0])
    place = {s["sample_id"]: tuple(p) for s, p in zip(samples, xy, strict=True)}
    for listed in view["roles"].values():
        for s in listed:
            assert (s["x"], s["y"]) == pytest.approx(place[s["sample_id"]], abs=1e-4)
    assert view["map"]["explained"] == pytest.approx(list(explained), abs=1e-4)


def test_the_step_grids_sample_menus_get_the_pools_without_waveforms(studio) -> None:
    params = {"record": RECORD, "pools": POOLS, "waveforms": "0"}
    view = studio.get("/api/library", params=params).json()
    assert [s["sample_id"] for s in view["roles"]["ACCENT"]] == ["snare", "clap"]
    assert all(s["peaks"] is None and s["file"] for r in view["roles"].values() for s in r)


def test_moving_a_sample_writes_a_new_pools_file_and_keeps_the_old(studio) -> None:
    before = (studio.out / POOLS).read_bytes()
    body = {"record": RECORD, "pools": POOLS, "sample_id": "clap", "role": "FILL"}
    answer = studio.post("/api/library/move", body)
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    assert moved["written"] == moved["pools"] == "roles/pools_2.json"
    assert moved["from_role"] == "ACCENT"
    assert moved["pools_files"] == [POOLS, "roles/pools_2.json"]
    assert (studio.out / POOLS).read_bytes() == before  # never touched
    written = load_pools(studio.out / "roles/pools_2.json")
    assert "clap" not in [i.sample_id for i in written.pool("ACCENT")]
    fills = written.pool("FILL")
    assert "clap" in [i.sample_id for i in fills]
    assert [i.confidence for i in fills] == sorted((i.confidence for i in fills), reverse=True)
    # its confidence is stage 2's probability of the new role
    samples = read_json(studio.out / "roles/per_sample_1.json", "per_sample")["samples"]
    p_fill = next(s for s in samples if s["sample_id"] == "clap")["p_fused"]["FILL"]
    assert written.find("clap").confidence == pytest.approx(p_fill)
    # the newest pools file is what the library shows from now on
    assert studio.get("/api/library", params={"record": RECORD}).json()["pools"] == (
        "roles/pools_2.json"
    )
    old = studio.get("/api/library", params={"record": RECORD, "pools": POOLS}).json()
    assert "clap" in [s["sample_id"] for s in old["roles"]["ACCENT"]]


@pytest.mark.parametrize(
    ("changes", "status", "says"),
    [
        ({"role": "LEAD"}, 400, "unknown role"),
        ({"sample_id": "nope"}, 400, "is not in"),
        ({"role": "ACCENT"}, 400, "already ACCENT"),
        ({"pools": "skeleton/grid_1.json"}, 400, "is not a pools file"),
        ({"pools": "../pools_1.json"}, 403, "climb"),
        ({"record": "skeleton/grid_1.json"}, 404, "not a run record"),
    ],
)
def test_a_bad_move_writes_nothing(studio, changes, status: int, says: str) -> None:
    body = {"record": RECORD, "pools": POOLS, "sample_id": "clap", "role": "FILL"} | changes
    answer = studio.post("/api/library/move", body)
    assert answer.status_code == status and says in answer.json()["error"]
    assert sorted(p.name for p in (studio.out / "roles").iterdir()) == [
        "per_sample_1.json",
        "pools_1.json",
    ]


def test_a_move_needs_the_token(studio) -> None:
    body = {"record": RECORD, "pools": POOLS, "sample_id": "clap", "role": "FILL"}
    assert studio.post("/api/library/move", body, **{"X-Drumgenx-Token": None}).status_code == 403
    assert not (studio.out / "roles/pools_2.json").exists()


def test_a_sample_that_cannot_be_read_has_no_waveform(studio) -> None:
    (studio.out / "library_1" / "kick.wav").write_bytes(b"not audio")
    kick = studio.get("/api/library", params={"record": RECORD}).json()["roles"]["CORE"][0]
    assert kick["file"] == "library_1/kick.wav" and kick["peaks"] is None
    assert np.isfinite([kick["x"], kick["y"]]).all()


def test_a_large_librarys_lists_come_alone_then_their_waveforms_and_map(studio) -> None:
    """What the page asks for: the lists (no waveforms, no places), the waveforms of the rows
    it shows, the map apart; each the same as the full answer's."""
    full = studio.get("/api/library", params={"record": RECORD}).json()
    params = {"record": RECORD, "waveforms": "0", "places": "0"}
    lists = studio.get("/api/library", params=params).json()
    assert lists["map"] is None
    rows = [s for r in lists["roles"].values() for s in r]
    assert all(s["peaks"] is None and s["x"] is None and s["file"] for s in rows)
    full_rows = {s["sample_id"]: s for r in full["roles"].values() for s in r}
    assert {s["sample_id"]: s["file"] for s in rows} == {i: s["file"] for i, s in full_rows.items()}

    ids = [("id", "kick"), ("id", "snare")]
    answer = studio.get("/api/library/peaks", params=[("record", RECORD), *ids])
    assert answer.status_code == 200, answer.text
    assert answer.json()["peaks"] == {i: full_rows[i]["peaks"] for i in ("kick", "snare")}
    unknown = studio.get("/api/library/peaks", params=[("record", RECORD), ("id", "nope")])
    assert unknown.status_code == 400 and "'nope' is not in" in unknown.json()["error"]
    many = [("id", f"x{i}") for i in range(501)]
    assert studio.get("/api/library/peaks", params=[("record", RECORD), *many]).status_code == 400

    places = studio.get("/api/library/map", params={"record": RECORD}).json()
    assert places["per_sample"] == "roles/per_sample_1.json"
    assert places["explained"] == full["map"]["explained"]
    assert places["places"] == {i: [s["x"], s["y"]] for i, s in full_rows.items()}
