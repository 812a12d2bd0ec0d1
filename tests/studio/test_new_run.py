"""A new run from the studio (``POST /api/new-run``, ``GET /api/new-run/events``): uploads
checked one by one (a bad one is a listed skip), written into a new folder of OUT, the four
stages run in the background with their progress streamed as server-sent events; one run at
a time; a failed run ends its stream with one line.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from studio.studio_run import TINY_RUN, TINY_RUN_VOICES, voice_wav

from drumgenx.chain.run import STAGES
from drumgenx.core.audio import encode_wav
from drumgenx.core.formats import read_json
from drumgenx.core.layout import STATE_DIR
from drumgenx.studio import app as studio_app
from drumgenx.studio import new_run

SILENCE = encode_wav(np.zeros((4410, 1), np.float32), 44100, subtype="PCM_16")


def folders(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if p.is_dir()}


def test_a_new_run_saves_the_good_uploads_skips_the_bad_and_streams_to_its_end(studio) -> None:
    before = folders(studio.out)
    good = [(f"{name}.wav", voice_wav(name)) for name in TINY_RUN_VOICES]
    bad = [
        ("broken.wav", b"RIFF\x00\x00\x00\x00WAVEnot really"),  # an audio name, no audio
        ("notes.txt", b"hello"),
        (".hidden.wav", voice_wav("kick")),
        ("../../escape/kick.wav", voice_wav("kick")),  # a path: only its name is kept
    ]
    answer = studio.upload(good + bad, params=TINY_RUN)
    assert answer.status_code == 202, answer.text
    started = answer.json()
    run = started["run"]
    assert folders(studio.out) - before == {run} and run.startswith("new_")
    assert started["saved"] == [f"{run}/input/{name}" for name, _ in good] + [
        f"{run}/input/kick_2.wav"  # never over the first kick.wav
    ]
    reasons = {s["name"]: s["reason"] for s in started["skipped"]}
    assert set(reasons) == {"broken.wav", "notes.txt", ".hidden.wav"}
    assert "cannot decode audio" in reasons["broken.wav"]
    assert "not an audio file" in reasons["notes.txt"]
    assert "hidden" in reasons[".hidden.wav"]
    saved = sorted(p.name for p in (studio.out / run / "input").iterdir())
    assert saved == sorted([*(n for n, _ in good), "kick_2.wav"])  # no probe, no temp file
    assert (studio.out / run / "input" / "kick.wav").read_bytes() == good[0][1]

    # one run at a time: a second start while this one runs is refused, nothing written
    second = studio.upload(good, params=TINY_RUN)
    assert second.status_code == 409 and "a run is under way" in second.json()["error"]
    assert studio.get("/api/new-run").json() == {"running": run}

    events = studio.run_events(run)
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    stages = [(e["stage"], e["state"]) for e in events if e["type"] == "stage"]
    assert stages == [(s, state) for s in STAGES for state in ("started", "done")]
    files = [e for e in events if e["type"] == "progress" and e["stage"] == "preprocess"]
    assert [(e["done"], e["total"]) for e in files] == [(1, 3), (2, 3), (3, 3)]
    assert {e["item"] for e in files} == {name for name, _ in good}  # names, not paths
    notices = [e["line"] for e in events if e["type"] == "notice"]
    assert any("kick_2.wav: same content as" in line for line in notices)  # stage 1's skip
    done = events[-1]
    assert done["type"] == "done" and done["record"] == f"{run}/run_1.json"
    assert read_json(studio.out / done["record"], "run")["params"]["bars"] == 1

    # the run is listed, opens in the editor, and its stream replays from Last-Event-ID
    assert done["record"] in [r["record"] for r in studio.get("/api/runs").json()["runs"]]
    opened = studio.get("/api/run", params={"record": done["record"]}).json()
    assert opened["start"] == f"{run}/groove/event_grid_groovae_1.json"
    assert studio.run_events(run, **{"Last-Event-ID": str(done["id"] - 1)}) == [done]
    assert studio.get("/api/new-run").json() == {"running": None}


def test_a_run_that_fails_ends_its_stream_with_one_line_and_frees_the_studio(
    studio, tmp_path: Path
) -> None:
    """A folder on the machine as input; silence has no hits, so stage 1 stops the run."""
    folder = tmp_path / "quiet"
    folder.mkdir()
    (folder / "silence.wav").write_bytes(SILENCE)
    answer = studio.upload([], folder=str(folder), params=TINY_RUN)
    assert answer.status_code == 202, answer.text
    assert answer.json()["saved"] == [] and answer.json()["skipped"] == []
    events = studio.run_events(answer.json()["run"])
    failed = events[-1]
    assert failed["type"] == "failed" and failed["stage"] == "preprocess"
    assert "no drum hits found" in failed["error"] and "\n" not in failed["error"]
    assert [e["type"] for e in events if e["type"] in ("done", "failed")] == ["failed"]
    again = studio.upload([], folder=str(folder), params=TINY_RUN)  # the slot is free again
    assert again.status_code == 202
    studio.run_events(again.json()["run"])


@pytest.mark.parametrize(
    ("files", "form", "says"),
    [
        ([("notes.txt", b"x")], {}, "no upload is audio the studio can read (notes.txt"),
        ([], {}, "nothing to run on"),
        ([], {"folder": "relative/folder"}, "is not a folder on this machine"),
        ([("a.wav", voice_wav("kick"))], {"params": {"bars": 0}}, "bars"),
        ([("a.wav", voice_wav("kick"))], {"params": {"mode": "x"}}, "mode"),
    ],
)
def test_a_new_run_that_cannot_start_is_400_and_leaves_nothing(
    studio, files, form, says: str
) -> None:
    before = folders(studio.out)
    answer = studio.upload(files, **form)
    assert answer.status_code == 400 and says in answer.json()["error"]
    assert folders(studio.out) == before
    assert studio.get("/api/new-run").json() == {"running": None}  # the slot is free


def test_the_studios_own_folder_is_no_input(studio) -> None:
    answer = studio.upload([], folder=str(studio.out.parent))
    assert answer.status_code == 400 and "holds the studio's folder" in answer.json()["error"]


def test_an_upload_over_the_size_limits_is_skipped_or_refused(studio, monkeypatch) -> None:
    kick = voice_wav("kick")
    monkeypatch.setattr(new_run, "MAX_FILE_BYTES", len(kick) - 1)
    answer = studio.upload([("kick.wav", kick)])
    assert answer.status_code == 400  # its only file skipped: nothing to run on
    assert "kick.wav: 0 MB is over the 0 MB a file may have" in answer.json()["error"]
    monkeypatch.setattr(studio_app, "MAX_UPLOAD_BODY_BYTES", 1000)
    before = folders(studio.out)
    answer = studio.upload([("kick.wav", kick)])
    assert answer.status_code == 413 and "name their folder" in answer.json()["error"]
    assert folders(studio.out) == before
    # without a declared length the limit holds while the body is read
    chunks = (kick[i : i + 500] for i in range(0, len(kick), 500))
    answer = studio.client.post(
        "/api/new-run",
        content=chunks,
        headers=studio._headers({"Content-Type": "multipart/form-data; boundary=x"}),
    )
    assert answer.status_code == 413
    assert studio.get("/api/new-run").json() == {"running": None}


@pytest.mark.parametrize(
    ("given", "saved"),
    [
        ("kick.WAV", "kick.wav"),
        ("C:\\music\\snare.flac", "snare.flac"),
        ("a/b/../hat.mp3", "hat.mp3"),
        ("tab\there;rm -rf.wav", "tab_here_rm -rf.wav"),
        ("trommel–ä.ogg", "trommel_ä.ogg"),
        ("x" * 300 + ".wav", "x" * 116 + ".wav"),
    ],
)
def test_upload_names_keep_only_a_plain_file_name(given: str, saved: str) -> None:
    assert new_run.safe_upload_name(given) == saved


@pytest.mark.parametrize(
    "given", ["", "..", "dir/", ".hidden.wav", "a/.x.wav", "song.exe", "noextension"]
)
def test_upload_names_that_are_hidden_empty_or_not_audio_are_skipped(given: str) -> None:
    with pytest.raises(new_run.UploadSkip):
        new_run.safe_upload_name(given)


def test_a_new_run_needs_the_token_like_every_change(studio) -> None:
    before = folders(studio.out)
    answer = studio.upload([("kick.wav", io.BytesIO(b"").read())], **{"X-Drumgenx-Token": None})
    assert answer.status_code == 403 and folders(studio.out) == before


def test_a_run_stopped_from_the_page_stops_at_its_next_file_and_leaves_no_stage_half_done(
    studio, monkeypatch
) -> None:
    # The click lands while stage 1's first file is at hand, however loaded the machine:
    # the run waits at that file's start until the stop has been posted.
    posted = threading.Event()
    added = new_run.RunJob.add

    def add_then_wait_for_the_click(job, kind: str, **data) -> None:
        added(job, kind, **data)
        if kind == "stage" and (data["stage"], data["state"]) == ("preprocess", "started"):
            posted.wait(timeout=60)

    monkeypatch.setattr(new_run.RunJob, "add", add_then_wait_for_the_click)
    good = [(f"{name}.wav", voice_wav(name)) for name in TINY_RUN_VOICES]
    run = studio.upload(good, params=TINY_RUN).json()["run"]
    stopping = studio.post("/api/new-run/stop", {"run": run})
    posted.set()
    assert stopping.status_code == 202 and stopping.json() == {"run": run, "stopping": True}
    events = studio.run_events(run)
    stopped = events[-1]
    assert stopped["type"] == "stopped"
    assert (stopped["stage"], stopped["kept"]) == ("preprocess", [])
    done = [e for e in events if e["type"] == "progress"]
    assert len(done) == 1  # the file at hand finished, no other began
    folder = studio.out / run
    assert sorted(p.name for p in folder.iterdir()) == ["input"]  # stage 1's files removed
    assert studio.get("/api/new-run").json() == {"running": None}  # the slot is free
    again = studio.post("/api/new-run/stop", {"run": run})
    assert again.status_code == 409 and "has ended already" in again.json()["error"]
    unknown = studio.post("/api/new-run/stop", {"run": "new_nothing"})
    assert unknown.status_code == 404


def test_a_run_stopped_between_stages_keeps_the_finished_stages_files(studio, monkeypatch) -> None:
    """The stop lands as stage 2 ends (a click at that moment): stages 1 and 2 stay,
    recorded for reuse; stage 3 never starts; there is no run record."""
    added = new_run.RunJob.add

    def add_and_click_stop(job, kind: str, **data) -> None:
        added(job, kind, **data)
        if kind == "stage" and (data["stage"], data["state"]) == ("roles", "done"):
            job.stop_asked.set()

    monkeypatch.setattr(new_run.RunJob, "add", add_and_click_stop)
    good = [(f"{name}.wav", voice_wav(name)) for name in TINY_RUN_VOICES]
    run = studio.upload(good, params=TINY_RUN).json()["run"]
    stopped = studio.run_events(run)[-1]
    assert stopped["type"] == "stopped"
    assert (stopped["stage"], stopped["kept"]) == ("skeleton", ["preprocess", "roles"])
    folder = studio.out / run
    assert list(folder.glob("library_1/dummy_*.wav")) and list(folder.glob("roles/pools_*.json"))
    assert len(list((folder / STATE_DIR).iterdir())) == 2  # both stages recorded for reuse
    assert not (folder / "skeleton").exists() and not list(folder.glob("run_*.json"))
