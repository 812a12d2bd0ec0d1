"""A loop's bpm, swing and bars in the studio (``POST /api/save`` with ``loop``): saved with
the edit, as ``grid_edit_N.json`` beside ``event_grid_edit_N.json`` when they are not the
run's own (the grid as stage 3 builds one, and the swing); read back by ``/api/events``;
used by the exports; a loop shortened past its hits, or a bpm out of range, is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile

from drumgenx.core.formats import load_events, load_grid, read_json
from drumgenx.edit.run import edit_file
from drumgenx.render.timing import loop_frames
from drumgenx.skeleton.grid import build_grid

RECORD = "run_1.json"
EVENTS = "skeleton/event_grid_1.json"
RUN_LOOP = {"bpm": 120.0, "bars": 2, "swing": 0.0}  # studio_run's


def saved(studio, loop: dict | None, edits: list | None = None, base: str = EVENTS) -> dict:
    head = studio.get("/api/events", params={"path": base}).json()["head"]
    body = {"base": base, "head": head, "edits": edits or [], "loop": loop}
    answer = studio.post("/api/save", body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_event_grid_plays_on_the_runs_loop_until_saved_with_another(studio) -> None:
    opened = studio.get("/api/events", params={"path": EVENTS}).json()
    assert {k: opened["loop"][k] for k in RUN_LOOP} == RUN_LOOP
    assert opened["loop"]["grid_path"] == "skeleton/grid_1.json"
    assert opened["loop"]["grid"] == load_grid(studio.out / "skeleton/grid_1.json").to_json()


def test_a_new_bpm_and_swing_are_saved_as_a_grid_beside_the_edit(studio) -> None:
    before = {p.name: p.read_bytes() for p in (studio.out / "skeleton").iterdir()}
    answer = saved(studio, {"bpm": 96.5, "bars": 2, "swing": 0.33})  # no hit changed
    assert answer["path"] == "skeleton/event_grid_edit_1.json"
    grid_file = studio.out / "skeleton/grid_edit_1.json"
    assert answer["loop"] | {"grid": None} == {
        "bpm": 96.5, "bars": 2, "swing": 0.33, "grid": None,
        "grid_path": "skeleton/grid_edit_1.json",
    }  # fmt: skip
    assert load_grid(grid_file) == build_grid(bpm=96.5, num_bars=2)  # as stage 3 builds it
    assert read_json(grid_file, "grid")["swing"] == 0.33
    assert load_events(studio.out / answer["path"]) == load_events(studio.out / EVENTS)
    for name, data in before.items():  # nothing of the run touched
        assert (studio.out / "skeleton" / name).read_bytes() == data
    # reopened, it plays as saved; the next save from it keeps the loop unless it changes
    reopened = studio.get("/api/events", params={"path": answer["path"]}).json()
    assert reopened["loop"] == answer["loop"]
    remove = {"op": "remove", "bar": 0, "step": 0, "role": "CORE"}
    later = saved(studio, None, [remove], base=answer["path"])
    assert later["loop"]["bpm"] == 96.5 and later["loop"]["swing"] == 0.33
    assert later["loop"]["grid_path"] == later["path"].replace("event_grid", "grid")


def test_back_to_the_runs_own_loop_needs_no_grid_of_its_own(studio) -> None:
    changed = saved(studio, {"bpm": 100.0, "bars": 2, "swing": 0.0})
    back = saved(studio, RUN_LOOP, base=changed["path"])
    assert back["loop"]["grid_path"] == "skeleton/grid_1.json"
    assert not (studio.out / back["path"].replace("event_grid", "grid")).exists()


def test_more_bars_with_their_hits_and_fewer_bars_without_theirs(studio) -> None:
    events = load_events(studio.out / EVENTS)
    repeated = [
        {"op": "set", **{k: getattr(e, k) for k in ("step", "role", "sample_id", "vel")},
         "bar": e.bar + 2, "micro_offset_ms": e.micro_offset_ms, "dur_steps": e.dur_steps}
        for e in events
    ]  # fmt: skip
    longer = saved(studio, {**RUN_LOOP, "bars": 4}, repeated)
    assert longer["loop"]["bars"] == 4 and len(longer["events"]) == 2 * len(events)
    assert load_grid(studio.out / longer["loop"]["grid_path"]).num_bars == 4

    # a loop shortened past its hits is refused, nothing written; without them it saves
    files = sorted(p.name for p in (studio.out / "skeleton").iterdir())
    head = longer["path"]
    refused = studio.post(
        "/api/save", {"base": head, "head": head, "edits": [], "loop": {**RUN_LOOP, "bars": 1}}
    )
    assert refused.status_code == 400
    assert "bar(s) 2, 3, 4 hold hits but the loop is 1 bar(s) long" in refused.json()["error"]
    assert sorted(p.name for p in (studio.out / "skeleton").iterdir()) == files
    cut = [{"op": "remove", "bar": e.bar, "step": e.step, "role": e.role} for e in events]
    cut = [{**edit, "bar": edit["bar"] + 2} for edit in cut] + [
        edit for edit in cut if edit["bar"] == 1
    ]
    shorter = saved(studio, {**RUN_LOOP, "bars": 1}, cut, base=head)
    assert shorter["loop"]["bars"] == 1
    assert {e["bar"] for e in shorter["events"]} == {0}


@pytest.mark.parametrize(
    ("loop", "message"),
    [
        ({"bpm": 5, "bars": 2, "swing": 0}, "bpm must be between 20 and 999"),
        ({"bpm": 120, "bars": 0, "swing": 0}, "num_bars must be between 1 and 1024"),
        ({"bpm": 120, "bars": 2, "swing": 0.9}, "swing must be 0..0.75"),
        ({"bpm": "fast", "bars": 2, "swing": 0}, "field 'bpm': expected int or float"),
        ({"bpm": 120, "bars": 2.5, "swing": 0}, "field 'bars': expected int"),
    ],
)
def test_a_loop_out_of_range_is_refused_in_one_line(studio, loop, message) -> None:
    answer = studio.post("/api/save", {"base": EVENTS, "head": None, "edits": [], "loop": loop})
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert not (studio.out / "skeleton/event_grid_edit_1.json").exists()


def test_a_groove_of_a_loop_saved_with_its_own_grid_plays_on_it(
    open_studio, groove_models: dict[str, Path], one_torch_thread
) -> None:
    studio = open_studio(groove_models)
    loop = {"bpm": 100.0, "bars": 2, "swing": 0.25}
    answer = saved(studio, loop)
    body = {"record": RECORD, "events": answer["path"], "temperature": 0.5, "seed": 3}
    grooved = studio.post("/api/groove", {**body, "mode": "humanize"})
    assert grooved.status_code == 200, grooved.text
    result = grooved.json()
    assert result["path"] == "groove/event_grid_groovae_1.json"
    assert result["loop"] == answer["loop"] | {"grid_path": "groove/grid_groovae_1.json"}


def test_the_wav_export_is_the_saved_loops_length_at_its_bpm(studio) -> None:
    loop = {"bpm": 90.0, "bars": 2, "swing": 0.5}
    answer = saved(studio, loop)
    body = {"record": RECORD, "events": answer["path"], "kind": "wav"}
    exported = studio.post("/api/export", body)
    assert exported.status_code == 200, exported.text
    wav = studio.out / exported.json()["written"]
    info = soundfile.info(wav)
    assert info.frames == loop_frames(build_grid(bpm=90.0, num_bars=2), sr=info.samplerate)


def test_edit_file_writes_companions_under_the_edits_n(tmp_path: Path) -> None:
    events = tmp_path / "event_grid_1.json"
    events.write_text("[]")
    (tmp_path / "grid_edit_3.json").write_text("{}")  # a companion's N counts too
    written = edit_file(events, lambda e: e, companions={"grid_edit": b'{"a": 1}\n'})
    assert written.name == "event_grid_edit_4.json"
    assert json.loads((tmp_path / "grid_edit_4.json").read_text()) == {"a": 1}
