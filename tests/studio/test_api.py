"""The studio's server in-process (Starlette's TestClient) on a small run folder.

Listing and reading; confinement (``..``, ``%2e%2e``, absolute paths, hidden files, a symlink
out of OUT); the guard on POSTs (token, Origin) and on the Host; saves as new versions through
the editor, never touching the original, and the 409 of a second tab; stage 4 on the server;
errors as one JSON line.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from drumgenx.core.formats import dump_json, load_events
from drumgenx.core.records import events_to_json
from drumgenx.core.roles import ROLES

RECORD = "run_1.json"
EVENTS = "skeleton/event_grid_1.json"


def everything(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, hidden ones too, with its bytes: what a refused request
    must leave as it was."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def one_line_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) <= {"error", "newer"} and "\n" not in body["error"]
    assert "Traceback" not in response.text
    return body["error"]


# --- reading ---------------------------------------------------------------------------------


def test_runs_are_listed_from_their_records_and_a_broken_one_says_why(studio) -> None:
    (studio.out / "run_2.json").write_text("{")
    runs = studio.get("/api/runs").json()["runs"]
    assert [run["record"] for run in runs] == ["run_2.json", RECORD]  # newest first
    broken, good = runs
    assert "not valid JSON" in broken["error"]
    assert good["inputs"] == ["kit"] and good["params"]["bpm"] == 120


def test_runs_in_subfolders_are_listed_and_an_empty_folder_lists_none(
    open_studio, out: Path, tmp_path: Path
) -> None:
    from starlette.testclient import TestClient

    from drumgenx.studio.app import create_app

    parent = out.parent
    app = create_app(parent, token="t", allowed_hosts=frozenset({"testserver"}))
    with TestClient(app) as client:
        assert [r["record"] for r in client.get("/api/runs").json()["runs"]] == ["out/run_1.json"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with TestClient(create_app(empty, token="t", allowed_hosts=None)) as client:
        assert client.get("/api/runs").json()["runs"] == []


def test_a_run_lists_its_files_grid_and_rules(studio) -> None:
    run = studio.get("/api/run", params={"record": RECORD}).json()
    assert run["grid"]["bpm"] == 120 and run["grid"]["num_bars"] == 2
    assert run["grid_path"] == "skeleton/grid_1.json" and run["pools"] == "roles/pools_1.json"
    assert run["event_grids"] == [EVENTS] and run["start"] == EVENTS
    assert run["audio"] == ["skeleton/render_1.wav"] and run["midi"] == ["skeleton/midi_1.mid"]
    rules = run["rules"]
    assert rules["roles"] == list(ROLES) and rules["max_voices"] == 3
    assert rules["velocity"]["CORE"][0] == 1.0 and rules["dur_steps"]["FILL"] == 8


def test_an_event_grid_comes_with_its_samples_and_the_new_hit_rule(studio) -> None:
    answer = studio.get("/api/events", params={"path": EVENTS}).json()
    events = load_events(studio.out / EVENTS)
    assert answer["events"] == [e.to_json() for e in events]
    assert answer["head"] is None  # no edit saved beside it yet
    # every role of the kit has a sample for a new hit; each sample file is served
    assert set(answer["new_hit_samples"]) == set(ROLES) and all(answer["new_hit_samples"].values())
    for sample_id, path in answer["samples"].items():
        audio = studio.get(f"/files/{path}")
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF", sample_id


def test_files_under_out_are_served_as_they_are(studio) -> None:
    (studio.out / "skeleton" / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    for path, kind in [
        ("skeleton/render_1.wav", "audio/"),
        (EVENTS, "application/json"),
        ("skeleton/picture.png", "image/png"),
    ]:
        response = studio.get(f"/files/{path}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
        assert response.content == (studio.out / path).read_bytes()
    assert "no file" in one_line_error(studio.get("/files/skeleton/none.json"), 404)


# --- confinement -----------------------------------------------------------------------------


@pytest.fixture
def secret(out: Path) -> Path:
    """A file beside OUT, and a symlink inside OUT pointing at it."""
    path = out.parent / "secret.json"
    path.write_text('{"secret": "TOP-SECRET"}')
    (out / "skeleton" / "link.json").symlink_to(path)
    return path


@pytest.mark.parametrize(
    "url",
    [
        "/files/%2e%2e/secret.json",  # percent-encoded: decoded before the route sees it
        "/files/%2E%2E%2Fsecret.json",
        "/files/skeleton/%2e%2e/%2e%2e/secret.json",
        "/files/%2Ftmp%2Fsecret.json",  # absolute
        "/files/skeleton/link.json",  # a symlink out of OUT
        "/files/.drumgenx-run/x.json",  # hidden
        "/files/run_1.py",  # not a type the studio serves
        "/api/events?path=../secret.json",
        "/api/events?path=%2e%2e%2Fsecret.json",
        "/api/events?path=/etc/passwd",
        "/api/events?path=skeleton/link.json",
        "/api/run?record=../out/run_1.json",
        "/static/..%2Fapi.py",
    ],
)
def test_paths_outside_out_are_refused(studio, secret: Path, url: str) -> None:
    response = studio.client.get(url)
    one_line_error(response, 404 if url.startswith("/static/") else 403)
    assert "TOP-SECRET" not in response.text and "import" not in response.text


def test_a_plain_dot_dot_url_is_refused_too(studio, secret: Path) -> None:
    """The client normalises ``/files/../x`` to ``/x`` before sending: no route serves it."""
    response = studio.get("/files/../secret.json")
    one_line_error(response, 404)
    assert "TOP-SECRET" not in response.text


def test_confinement_refuses_before_touching_the_disk(out: Path) -> None:
    from drumgenx.studio.paths import OutsideError, resolve_inside

    root = out.resolve()
    assert resolve_inside(root, "skeleton/grid_1.json") == root / "skeleton" / "grid_1.json"
    for bad in ["", "..", "a/../../b", "/etc/passwd", "C:/x", "a\\..\\b", "a\x00b", ".hidden"]:
        with pytest.raises(OutsideError):
            resolve_inside(root, bad)


# --- the guard on changes -----------------------------------------------------------------


def _set_hit(**changes) -> dict:
    edit = {"op": "set", "bar": 0, "step": 3, "role": "ACCENT", "sample_id": "clap"}
    return {**edit, "vel": 0.5, "micro_offset_ms": 0.0, **changes}


def _save_body(**changes) -> dict:
    return {"base": EVENTS, "head": None, "edits": [_set_hit()], **changes}


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({"X-Drumgenx-Token": None}, "token"),
        ({"X-Drumgenx-Token": "guess"}, "token"),
        ({"Origin": None}, "origin"),
        ({"Origin": "http://evil.example"}, "origin"),
        ({"Origin": "http://testserver.evil.example"}, "origin"),
    ],
)
def test_changes_need_the_token_and_the_studios_origin(studio, headers, says: str) -> None:
    before = everything(studio.out)
    for url, body in [
        ("/api/save", _save_body()),
        ("/api/groove", {"record": RECORD, "events": EVENTS, "mode": "humanize"}),
    ]:
        error = one_line_error(studio.post(url, body, **headers), 403)
        assert says in error.lower()
    assert everything(studio.out) == before


def test_a_foreign_host_name_is_refused_even_for_reading(studio) -> None:
    """A page whose DNS name was rebound to 127.0.0.1 sends its own name as Host."""
    response = studio.get("/api/runs", headers={"Host": "evil.example:8765"})
    assert "evil.example" in one_line_error(response, 403)
    assert studio.get("/").status_code == 200


def test_the_page_carries_the_token_and_its_modules_are_served(studio) -> None:
    page = studio.get("/")
    assert '<meta name="drumgenx-token" content="test-token">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    script = studio.get("/static/main.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "drumgenxStudio" in script.text
    one_line_error(studio.get("/static/index.html"), 404)  # only through /, with the token


# --- saving ----------------------------------------------------------------------------------


def test_a_save_writes_a_new_version_through_the_editor(studio) -> None:
    original = (studio.out / EVENTS).read_bytes()
    events = load_events(studio.out / EVENTS)
    motion = next(e for e in events if e.role == "MOTION")
    core = next(e for e in events if e.role == "CORE")
    edits = [
        _set_hit(micro_offset_ms=-12.5),  # a new hit
        {"op": "remove", "bar": core.bar, "step": core.step, "role": "CORE"},
        {**_set_hit(), **motion.to_json(), "op": "set", "vel": 0.25},  # a velocity
    ]
    answer = studio.post("/api/save", _save_body(edits=edits)).json()
    assert answer["path"] == "skeleton/event_grid_edit_1.json" == answer["head"]
    saved = {(e.bar, e.step, e.role): e for e in load_events(studio.out / answer["path"])}
    added = saved[(0, 3, "ACCENT")]
    assert (added.sample_id, added.vel, added.micro_offset_ms, added.source) == (
        "clap", 0.5, -12.5, "edit"
    )  # fmt: skip
    assert (core.bar, core.step, "CORE") not in saved
    changed = saved[(motion.bar, motion.step, "MOTION")]
    assert changed.vel == 0.25 and changed.dur_steps == motion.dur_steps
    assert len(saved) == len(events)  # one added, one removed
    assert (studio.out / EVENTS).read_bytes() == original
    assert answer["events"] == json.loads((studio.out / answer["path"]).read_text())


def test_a_second_tab_saving_over_a_newer_edit_gets_409_then_may_branch(studio) -> None:
    opened = studio.get("/api/events", params={"path": EVENTS}).json()  # both tabs open
    first = studio.post("/api/save", _save_body(head=opened["head"]))
    assert first.status_code == 200
    before = everything(studio.out)
    second = studio.post("/api/save", _save_body(head=opened["head"], edits=[_set_hit(vel=0.9)]))
    error = one_line_error(second, 409)
    assert "skeleton/event_grid_edit_1.json was saved since you opened" in error
    assert second.json()["newer"] == "skeleton/event_grid_edit_1.json"
    assert everything(studio.out) == before  # nothing written
    branch = studio.post("/api/save", _save_body(edits=[_set_hit(vel=0.9)], force=True))
    assert branch.json()["path"] == "skeleton/event_grid_edit_2.json"
    # the first tab saves on from its own save: no conflict with itself
    saved = first.json()
    onward = {"base": saved["path"], "head": branch.json()["head"], "edits": [_set_hit(vel=0.1)]}
    assert studio.post("/api/save", onward).json()["path"] == "skeleton/event_grid_edit_3.json"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (_save_body(edits=[]), "nothing to save"),
        (_save_body(edits=[_set_hit(vel=2.0)]), "must be 0..1"),
        (_save_body(edits=[_set_hit(vel=True)]), "field 'vel'"),
        (_save_body(edits=[_set_hit(op="paint")]), "field 'op'"),
        (_save_body(edits=[{"op": "remove", "bar": 1, "step": 1, "role": "FILL"}]), "no hit"),
        (_save_body(base="roles/pools_1.json"), "not an event grid"),
        (_save_body(base="skeleton/event_grid_9.json"), "no event grid"),
        ({"edits": []}, "field 'base'"),
        ([1, 2], "JSON object"),
    ],
)
def test_a_bad_save_is_one_line_and_writes_nothing(studio, body, says: str) -> None:
    before = everything(studio.out)
    response = studio.post("/api/save", body)
    assert says in one_line_error(response, response.status_code)
    assert response.status_code in (400, 404)
    assert everything(studio.out) == before


def test_a_body_that_is_not_json_is_refused(studio) -> None:
    headers = {"X-Drumgenx-Token": "test-token", "Origin": "http://testserver"}
    response = studio.client.post("/api/save", content=b"{nope", headers=headers)
    assert "not JSON" in one_line_error(response, 400)


# --- stage 4 ---------------------------------------------------------------------------------


def test_humanize_and_vary_run_stage_4_and_answer_the_new_grid(
    open_studio, groove_models: dict[str, Path], one_torch_thread
) -> None:
    studio = open_studio(groove_models)
    # as --pattern source leaves them: the button hands played hits to the model too
    played = [replace(e, source="played") for e in load_events(studio.out / EVENTS)]
    (studio.out / EVENTS).write_bytes(dump_json(events_to_json(played)))
    source = load_events(studio.out / EVENTS)
    body = {"record": RECORD, "events": EVENTS, "temperature": 0.5, "seed": 3}
    humanized = studio.post("/api/groove", {**body, "mode": "humanize"}).json()
    assert humanized["path"] == "groove/event_grid_groovae_1.json"
    grooved = load_events(studio.out / humanized["path"])
    assert [(e.bar, e.step, e.role) for e in grooved] == [(e.bar, e.step, e.role) for e in source]
    assert {e.source for e in grooved} == {"groovae"}
    assert humanized["events"] == [e.to_json() for e in grooved] and humanized["added"] == 0
    varied = studio.post("/api/groove", {**body, "mode": "vary"}).json()
    assert varied["path"] == "groove/event_grid_groovae_2.json"
    assert set(varied["samples"]) >= {e["sample_id"] for e in varied["events"]}
    assert "mode must be humanize or vary" in one_line_error(
        studio.post("/api/groove", {**body, "mode": "shuffle"}), 400
    )
    assert "field 'seed'" in one_line_error(
        studio.post("/api/groove", {**body, "mode": "vary", "seed": "x"}), 400
    )


# --- errors ----------------------------------------------------------------------------------


def test_every_error_is_one_json_line_with_its_status(studio) -> None:
    one_line_error(studio.get("/nowhere"), 404)
    one_line_error(studio.get("/api/save"), 405)
    assert "record parameter" in one_line_error(studio.get("/api/run"), 400)
    assert "not a run record" in one_line_error(
        studio.get("/api/run", params={"record": EVENTS}), 404
    )
    (studio.out / "skeleton" / "event_grid_5.json").write_text("[{")
    broken = studio.get("/api/events", params={"path": "skeleton/event_grid_5.json"})
    assert "not valid JSON" in one_line_error(broken, 400)


def test_a_bug_answers_500_in_one_line_not_a_traceback_page(studio, monkeypatch) -> None:
    from drumgenx.studio.api import StudioApi

    def broken(self):
        raise RuntimeError("a bug\nwith two lines")

    monkeypatch.setattr(StudioApi, "runs", broken)
    error = one_line_error(studio.get("/api/runs"), 500)
    assert error == "internal error: RuntimeError: a bug with two lines"
