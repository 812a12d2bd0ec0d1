"""The studio in real headless Chromium (Debian's, driven by Playwright): open a run, play it
(the hits scheduled on the audio clock are the grid's), edit it on the step grid, save, find
the new version on disk; traversal URLs and a POST without the token are refused.

The server is the real command (``drumgenx studio OUT --port 0 --no-browser``) on a small
run. Chromium missing is a failure, so CI never passes without running these; a developer
without it sets ``DRUMGENX_NO_BROWSER=1`` to skip them.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile
from studio.studio_run import TINY_RUN, build_studio_run, start_studio, voice_wav

from drumgenx.core.events import velocity
from drumgenx.core.formats import load_events, load_grid, load_pools
from drumgenx.edit.operations import most_used_sample

EVENTS = "skeleton/event_grid_1.json"
SKIP_ENV = "DRUMGENX_NO_BROWSER"
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def _chromium() -> str:
    """The system's Chromium (Playwright's own browser download does not work here)."""
    found = os.environ.get("DRUMGENX_CHROMIUM") or next(
        filter(None, map(shutil.which, CHROMIUM_NAMES)), None
    )
    problem = None
    if found is None:
        problem = "Chromium not found: apt-get install -y chromium (as .ci/run does)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ModuleNotFoundError:
            problem = "Playwright not installed: pip install -e '.[test,studio]'"
    if problem is not None:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"{problem} ({SKIP_ENV}=1)")
        pytest.fail(f"{problem}; or set {SKIP_ENV}=1 to skip the browser tests", pytrace=False)
    return found


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser") / "out"
    build_studio_run(folder)
    (folder.parent / "secret.json").write_text('{"secret": "TOP-SECRET"}')
    return folder


@pytest.fixture(scope="module")
def url(out: Path) -> Iterator[str]:
    process, page_url = start_studio(out)
    yield page_url
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, url: str) -> Iterator:
    # bypass_csp: Playwright's wait_for_function evaluates strings, which the page's CSP
    # (no eval) forbids; the page's own scripts run under the CSP as they would anyway
    context = browser.new_context(viewport={"width": 1400, "height": 800}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    yield page
    context.close()
    assert errors == []


def open_the_run(page) -> None:
    page.click('button.run[data-record="run_1.json"]')
    page.wait_for_selector("#grid-a .cell.hit")
    assert page.inner_text("#name-a") == EVENTS


def cell(page, bar: int, step: int, role: str):
    return page.locator(f'#grid-a .cell[data-bar="{bar}"][data-step="{step}"][data-role="{role}"]')


def test_play_schedules_the_grids_hits_on_the_audio_clock(page, out: Path) -> None:
    events = load_events(out / EVENTS)
    grid = load_grid(out / "skeleton" / "grid_1.json")
    open_the_run(page)
    assert "120.0 bpm · 2 bars · 16 steps a bar" in page.inner_text("#tempo")
    page.click("#play")
    page.wait_for_function(f"window.drumgenxStudio.scheduled.length >= {len(events)}")
    assert page.locator("#grid-a .cursor").is_visible()
    page.click("#stop")
    first_loop = page.evaluate("window.drumgenxStudio.scheduled")[: len(events)]
    expected = sorted(
        (e.role, e.sample_id, e.vel, e.bar * grid.tbar + e.step * grid.tstep) for e in events
    )
    got = sorted((h["role"], h["sample"], h["velocity"], h["loopTime"]) for h in first_loop)
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    assert [g[3] for g in got] == pytest.approx([e[3] for e in expected], abs=1e-9)
    # on the audio clock, the hits are as far apart as on the grid
    start = min(first_loop, key=lambda h: h["loopTime"])
    for hit in first_loop:
        assert hit["time"] - start["time"] == pytest.approx(hit["loopTime"] - start["loopTime"])


def test_bpm_swing_and_bars_are_heard_at_once_undone_and_saved(page, out: Path) -> None:
    events = load_events(out / EVENTS)
    open_the_run(page)
    page.fill("#bpm", "90")
    page.press("#bpm", "Tab")  # a typed value counts when the field is left
    page.locator("#swing").fill("0.5")
    assert "90.0 bpm · 2 bars" in page.inner_text("#tempo")
    assert page.inner_text("#swing-value") == "0.50 (MPC 75 %)"
    page.click("#play")
    page.wait_for_function(f"window.drumgenxStudio.scheduled.length >= {len(events)}")
    page.click("#stop")
    first_loop = page.evaluate("window.drumgenxStudio.scheduled")[: len(events)]
    tstep = 60 / 90 / 4  # a 16th at 90 bpm; off-beat 16ths half a step late
    expected = sorted((e.bar * 16 + e.step + 0.5 * (e.step % 2)) * tstep for e in events)
    got = sorted(h["loopTime"] for h in first_loop)
    assert got == pytest.approx(expected, abs=1e-9)

    # 4 bars, the new ones repeating the pattern; undo takes it back, redo brings it again
    page.select_option("#bars-fill", "repeat")
    page.fill("#bars", "4")
    page.press("#bars", "Tab")
    core_cells = '#grid-a .cell[data-role="CORE"]'
    assert page.locator(core_cells).count() == 4 * 16
    for e in events:
        assert "hit" in cell(page, e.bar + 2, e.step, e.role).get_attribute("class")
    page.click("#undo")
    assert page.locator(core_cells).count() == 2 * 16
    assert page.input_value("#bars") == "2"
    page.click("#redo")
    assert page.locator(core_cells).count() == 4 * 16

    page.click("#save")
    page.wait_for_function("document.getElementById('message').textContent.includes('Saved')")
    written_name = page.inner_text("#name-a")
    assert written_name.startswith("skeleton/event_grid_edit_")
    written = load_events(out / written_name)
    assert len(written) == 2 * len(events)
    grid_file = out / written_name.replace("event_grid_edit_", "grid_edit_")
    grid = load_grid(grid_file)
    assert (grid.bpm, grid.num_bars) == (90.0, 4)
    assert json.loads(grid_file.read_text())["swing"] == 0.5
    assert "90.0 bpm · 4 bars" in page.inner_text("#tempo")  # as saved, reopened


def test_edit_on_the_grid_then_save_writes_a_new_version(page, out: Path) -> None:
    original = (out / EVENTS).read_bytes()
    events = load_events(out / EVENTS)
    open_the_run(page)
    # a click on an empty cell adds a hit, with the sample `drumgenx edit set` would take
    taken = {e.step for e in events if (e.bar, e.role) == (0, "ACCENT")}
    empty_step = min(set(range(16)) - taken)
    added = cell(page, 0, empty_step, "ACCENT")
    added.click()
    assert "hit" in added.get_attribute("class")
    page.click("#undo")
    assert "hit" not in added.get_attribute("class")
    page.click("#redo")
    assert "hit" in added.get_attribute("class")
    # a drag 40 px down on the downbeat's kick: velocity 1.0 -> 0.6
    kick = cell(page, 0, 0, "CORE")
    assert kick.get_attribute("data-vel") == "1"
    box = kick.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + 40, steps=5)
    page.mouse.up()
    assert kick.get_attribute("data-vel") == "0.6"
    # Shift+drag a fifth of a cell to the right: 25 ms late (a step is 125 ms at 120 bpm)
    snare = next(e for e in events if e.role == "ACCENT" and e.bar == 1)
    late = cell(page, snare.bar, snare.step, "ACCENT")
    box = late.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    dx = round(box["width"] / 5)
    page.keyboard.down("Shift")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=5)
    page.mouse.up()
    page.keyboard.up("Shift")
    offset_ms = float(late.get_attribute("data-offset-ms"))
    assert offset_ms == pytest.approx(dx / box["width"] * 125, abs=0.1)
    assert late.locator(".ms").inner_text() == f"+{round(offset_ms)}"
    page.click("#save")
    page.wait_for_function("document.getElementById('message').textContent.includes('Saved')")
    written_name = page.inner_text("#name-a")  # event_grid_edit_N.json, N the next free
    assert written_name.startswith("skeleton/event_grid_edit_")
    assert f"Saved as {written_name} ({EVENTS} is unchanged)" in page.inner_text("#message")

    written = load_events(out / written_name)
    saved = {(e.bar, e.step, e.role): e for e in written}
    new = saved[(0, empty_step, "ACCENT")]
    assert new.sample_id == most_used_sample(events, role="ACCENT")
    assert (new.vel, new.source) == (velocity("ACCENT", empty_step), "edit")
    assert saved[(0, 0, "CORE")].vel == 0.6
    assert saved[(snare.bar, snare.step, "ACCENT")].micro_offset_ms == offset_ms
    assert len(saved) == len(events) + 1
    assert (out / EVENTS).read_bytes() == original  # never touched


def test_two_tabs_saving_the_same_grid_lose_no_edit(page, url: str, out: Path) -> None:
    """The second tab's save is refused naming the first tab's file; it saves as a branch."""
    other = page.context.new_page()
    other.goto(url)
    for tab, step in [(page, 1), (other, 2)]:
        open_the_run(tab)
        cell(tab, 1, step, "FILL").click()
    page.click("#save")
    page.wait_for_function("document.getElementById('message').textContent.includes('Saved')")
    first = page.inner_text("#name-a")
    other.click("#save")
    other.wait_for_selector("#conflict:not([hidden])")
    assert f"{first} was saved since you opened {EVENTS}" in other.inner_text("#conflict-text")
    other.click("#save-branch")
    other.wait_for_function("document.getElementById('message').textContent.includes('Saved')")
    branch = other.inner_text("#name-a")
    assert branch != first and other.locator("#conflict").is_hidden()
    saved = {path: load_events(out / path) for path in (first, branch)}
    assert any((e.bar, e.step, e.role) == (1, 1, "FILL") for e in saved[first])
    assert any((e.bar, e.step, e.role) == (1, 2, "FILL") for e in saved[branch])


def test_traversal_urls_and_a_post_without_the_token_are_refused(page, url: str) -> None:
    refused = {
        "files/%2e%2e/secret.json": 404,  # Chromium resolves the dots itself: GET /secret.json
        "files/%2E%2E%2Fsecret.json": 403,  # one segment to the browser, '../' to the server
        "files/skeleton%2F..%2F..%2Fsecret.json": 403,
        "files/%2Fetc%2Fpasswd": 403,
    }
    for path, status in refused.items():
        response = page.goto(url + path)
        assert response.status == status, path
        assert "TOP-SECRET" not in response.text() and "error" in json.loads(response.text())
    page.goto(url)
    status = page.evaluate(
        "fetch('/api/save', {method: 'POST', body: '{}', headers: {'Content-Type': "
        "'application/json'}}).then((r) => r.status)"
    )
    assert status == 403


def drop_files(page, files: dict[str, bytes]) -> None:
    """Drop ``files`` on the page as a file manager would (a drop event with a DataTransfer)."""
    transfer = page.evaluate_handle(
        """(files) => {
          const transfer = new DataTransfer();
          for (const [name, data] of files) {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], name, { type: 'audio/wav' }));
          }
          return transfer;
        }""",
        [[name, base64.b64encode(data).decode()] for name, data in files.items()],
    )
    page.dispatch_event("#runs-view", "drop", {"dataTransfer": transfer})


def test_stop_the_run_stops_it_and_says_what_stays(page, out: Path) -> None:
    page.set_input_files(
        "#upload-picker",
        [
            {"name": f"{name}.wav", "mimeType": "audio/wav", "buffer": voice_wav(name)}
            for name in ("kick", "snare", "hat_closed")
        ],
    )
    page.fill("#new-bars", str(TINY_RUN["bars"]))
    page.fill("#new-bpm", str(TINY_RUN["bpm"]))
    page.click("#start-run")
    page.click("#stop-run")  # shown while the run is under way
    page.wait_for_selector("#run-error:not([hidden])", timeout=60_000)
    run = page.text_content("#progress-folder")
    said = page.inner_text("#run-error")
    assert said.startswith("Stopped at preprocess: its files were removed")
    assert "it is not in the list of runs" in said.lower()
    assert page.is_hidden("#stop-run") and page.is_enabled("#start-run")
    assert sorted(p.name for p in (out / run).iterdir()) == ["input"]


def test_a_new_run_from_dropped_and_picked_files_runs_and_opens(page, out: Path) -> None:
    drop_files(page, {f"{name}.wav": voice_wav(name) for name in ("kick", "snare")})
    page.set_input_files(
        "#upload-picker",
        [
            {"name": "hat_closed.wav", "mimeType": "audio/wav", "buffer": voice_wav("hat_closed")},
            {"name": "broken.wav", "mimeType": "audio/wav", "buffer": b"RIFF....WAVEjunk"},
        ],
    )
    assert page.locator("#upload-list li").count() == 4
    page.fill("#new-bars", str(TINY_RUN["bars"]))
    page.fill("#new-bpm", str(TINY_RUN["bpm"]))
    page.click("#start-run")
    page.wait_for_selector("#run-progress:not([hidden])")
    assert "left out broken.wav: " in page.inner_text("#upload-skips")
    # the run ends, the list of runs has it, and it opens in the editor
    page.wait_for_selector("#editor-view:not([hidden])", timeout=60_000)
    run = page.text_content("#progress-folder")
    assert page.inner_text("#name-a") == f"{run}/groove/event_grid_groovae_1.json"
    states = page.eval_on_selector_all(
        "#stage-lines li", "(items) => items.map((i) => i.dataset.state)"
    )
    assert states == ["done"] * 4
    assert "preprocess" in page.text_content("#stage-lines") and "3/3" in page.text_content(
        "#stage-lines"
    )
    assert sorted(p.name for p in (out / run / "input").iterdir()) == [
        "hat_closed.wav",
        "kick.wav",
        "snare.wav",
    ]
    page.click("#back")
    assert page.locator(f'button.run[data-record="{run}/run_1.json"]').count() == 1


def test_the_library_auditions_a_sample_maps_it_and_moves_it_to_another_role(
    page, out: Path
) -> None:
    open_the_run(page)
    page.click("#show-library")
    kick = page.locator('#role-lists .sample[data-sample="kick"]')
    kick.wait_for()
    assert kick.get_attribute("data-role") == "CORE"
    kick.locator(".waveform").click()  # the row, not its role menu
    page.wait_for_function("window.drumgenxStudio.auditioned.length === 1")
    heard = page.evaluate("window.drumgenxStudio.auditioned[0]")
    assert heard["sample"] == "kick" and heard["path"] == "library_1/kick.wav"
    assert page.evaluate("window.drumgenxStudio.player.auditionVoice.buffer.duration") > 0.05
    # the map: hover names a sample, a click plays it
    dot = page.locator('#library-map .dot[data-sample="snare"]')
    dot.wait_for()  # the map comes after the lists
    assert page.locator("#library-map .dot").count() == 10
    dot.hover()
    assert page.inner_text("#map-label").startswith("snare (ACCENT")
    dot.click()
    page.wait_for_function("window.drumgenxStudio.auditioned.length === 2")
    assert page.evaluate("window.drumgenxStudio.auditioned[1].sample") == "snare"
    # a role menu moves a sample: a new pools file, the old one kept
    before = (out / "roles" / "pools_1.json").read_bytes()
    page.select_option('#role-lists .sample[data-sample="clap"] select', "FILL")
    page.wait_for_function("document.getElementById('message').textContent.includes('wrote')")
    message = page.inner_text("#message")
    written = message.split("wrote ")[1].split(" ")[0]
    assert written.startswith("roles/pools_") and written != "roles/pools_1.json"
    assert "(roles/pools_1.json is unchanged)" in message
    assert "clap" in [i.sample_id for i in load_pools(out / written).pool("FILL")]
    assert (out / "roles" / "pools_1.json").read_bytes() == before
    clap = page.locator('#role-lists .sample[data-sample="clap"]')
    assert clap.get_attribute("data-role") == "FILL"
    assert page.input_value("#pools-select") == written


def test_download_the_loop_as_wav_writes_it_into_out_first(page, out: Path) -> None:
    open_the_run(page)
    with page.expect_download() as started:
        page.click("#export-wav")
    download = started.value
    page.wait_for_function("document.getElementById('message').textContent.includes('wrote')")
    written = page.inner_text("#message").split("wrote ")[1].split(" ")[0]
    assert written.startswith("skeleton/render_") and written != "skeleton/render_1.wav"
    assert download.suggested_filename == Path(written).name
    assert Path(download.path()).read_bytes() == (out / written).read_bytes()
    grid = load_grid(out / "skeleton" / "grid_1.json")
    info = soundfile.info(out / written)
    assert info.frames == round(grid.num_bars * grid.tbar * info.samplerate)  # exact bars


def test_a_roles_menu_changes_the_sample_of_all_its_hits_undoably(page, out: Path) -> None:
    open_the_run(page)
    accent = page.locator('#grid-a select.role-sample[data-role="ACCENT"]')
    page.wait_for_function(
        "document.querySelectorAll('#grid-a select.role-sample[data-role=ACCENT] option')"
        ".length === 3"
    )
    events = load_events(out / EVENTS)
    used = most_used_sample(events, role="ACCENT")
    assert accent.input_value() == used
    other = next(s for s in ("snare", "clap") if s != used)
    before = {e.sample_id for e in events if e.role == "ACCENT"}

    def accent_samples() -> set[str]:
        return set(
            page.evaluate(
                "window.drumgenxStudio.state.events.filter((e) => e.role === 'ACCENT')"
                ".map((e) => e.sample_id)"
            )
        )

    accent.select_option(other)
    assert accent_samples() == {other}
    page.click("#undo")
    assert accent_samples() == before and accent.input_value() == used
    page.click("#redo")
    assert accent.input_value() == other
    page.click("#save")
    page.wait_for_function("document.getElementById('message').textContent.includes('Saved')")
    saved = load_events(out / page.inner_text("#name-a"))
    assert {e.sample_id for e in saved if e.role == "ACCENT"} == {other}
    assert [e.sample_id for e in saved if e.role != "ACCENT"] == [
        e.sample_id for e in events if e.role != "ACCENT"
    ]
