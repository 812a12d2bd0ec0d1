"""Exports from the editor (``POST /api/export``, ``GET /api/download``): the loop as WAV
(exactly its bars long, through the render stage's function), as MIDI, and the run's kit;
each written into OUT as the command line writes it (a new N), then sent as a download, the
kit as a zip built in memory.
"""

from __future__ import annotations

import io
import zipfile

import pytest
import soundfile

from drumgenx.core.formats import load_grid

RECORD = "run_1.json"
EVENTS = "skeleton/event_grid_1.json"


def exported(studio, kind: str, events: str = EVENTS) -> dict:
    answer = studio.post("/api/export", {"record": RECORD, "events": events, "kind": kind})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_loop_as_wav_is_exactly_its_bars_long_and_downloads(studio) -> None:
    first = exported(studio, "wav")
    assert first["written"] == "skeleton/render_2.wav"  # render_1.wav is the skeleton's own
    second = exported(studio, "wav")
    assert second["written"] == "skeleton/render_3.wav"  # never over the first
    grid = load_grid(studio.out / "skeleton" / "grid_1.json")
    info = soundfile.info(studio.out / first["written"])
    assert info.frames == round(grid.num_bars * grid.tbar * info.samplerate)
    answer = studio.get(first["download"])
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment")
    assert 'filename="render_2.wav"' in answer.headers["content-disposition"]
    assert answer.content == (studio.out / first["written"]).read_bytes()


def test_the_loop_as_midi_is_written_beside_it(studio) -> None:
    midi = exported(studio, "midi")
    assert midi["written"] == "skeleton/midi_2.mid"
    assert (studio.out / midi["written"]).read_bytes()[:4] == b"MThd"
    assert studio.get(midi["download"]).content == (studio.out / midi["written"]).read_bytes()


def test_the_kit_is_written_into_the_run_and_downloads_as_a_zip(studio) -> None:
    kit = exported(studio, "kit")
    assert kit["written"] == "kits/drumgenx_kit_1"
    folder = studio.out / kit["written"]
    answer = studio.get(kit["download"])
    assert answer.headers["content-type"] == "application/zip"
    assert 'filename="drumgenx_kit_1.zip"' in answer.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        names = set(archive.namelist())
        assert archive.read("drumgenx_kit_1/drumkit.xml") == (folder / "drumkit.xml").read_bytes()
    on_disk = {
        f"drumgenx_kit_1/{p.relative_to(folder).as_posix()}"
        for p in folder.rglob("*")
        if p.is_file()
    }
    assert names == on_disk
    assert {"drumgenx_kit_1/drumgenx.sfz", "drumgenx_kit_1/drumgenx_loop.mid"} <= names
    assert exported(studio, "kit")["written"] == "kits/drumgenx_kit_2"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"kind": "mp3"}, 400, "expected wav, midi, kit"),
        ({"events": "skeleton/grid_1.json"}, 400, "is not an event grid"),
        ({"events": "../x/event_grid_1.json"}, 403, "climb"),
        ({"record": "nope.json"}, 404, "not a run record"),
    ],
)
def test_a_bad_export_writes_nothing(studio, body, status: int, says: str) -> None:
    before = sorted(p.name for p in (studio.out / "skeleton").iterdir())
    answer = studio.post("/api/export", {"record": RECORD, "events": EVENTS, "kind": "wav"} | body)
    assert answer.status_code == status and says in answer.json()["error"]
    assert sorted(p.name for p in (studio.out / "skeleton").iterdir()) == before


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("skeleton/grid_1.json", 404),  # the downloads are WAV, MIDI and kits only
        ("library_1", 404),  # a folder that is no kit
        ("../secret.wav", 403),
        ("/etc/passwd", 403),
    ],
)
def test_downloads_are_exports_inside_out_only(studio, path: str, status: int) -> None:
    assert studio.get("/api/download", params={"path": path}).status_code == status


def test_an_export_needs_the_token(studio) -> None:
    body = {"record": RECORD, "events": EVENTS, "kind": "wav"}
    assert studio.post("/api/export", body, Origin="http://evil.example").status_code == 403
    assert not (studio.out / "skeleton" / "render_2.wav").exists()
