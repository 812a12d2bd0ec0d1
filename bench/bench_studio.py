"""Measure the studio on a large library, in real headless Chromium; or re-take the README's
screenshot of the step grid.

Usage::

    python bench/bench_studio.py [--samples 10000] [--repeats 3] [--keep DIR]
    python bench/bench_studio.py --screenshot docs/studio_step_grid.png [--run OUTPUT]

The bench builds a run folder as `drumgenx run` lays one out, with a library of
``--samples`` one-shots (the bundled kit's ten voices, 0.1 s each, at varied gains, written
with soundfile), its ``roles/pools_1.json`` (`core.records.Pools`) and
``roles/per_sample_1.json`` (stage 2's own record of the kit, `roles.run.run_roles`, each
sample a copy of its voice's with its features jittered, so the library map spreads them),
a 4-bar skeleton (`skeleton.run.run_skeleton`) and a ``run_1.json``; every JSON file is read
back through its schema. It starts the real server (``drumgenx studio OUT --port 0
--no-browser``) and drives Debian's Chromium through Playwright:

- **library first paint**: from the click on *Library* to the first frame that shows the
  role lists (their first page of rows; a ``requestAnimationFrame`` then a task: that frame
  has been painted), timed with ``performance.now()`` in the page, the requests to the
  server included; then to the frame that shows the library map. *Cold*: the first open on
  a freshly started server, right after the run opened in the editor (as far as its role
  menus, which read the pools); *warm*: the page reloaded, the server's caches kept. The
  rows' waveforms come after the first paint (the bench waits for them before going on).
- **play to first hit**: from the click on *Play* to the first entry of
  ``window.drumgenxStudio.scheduled`` (the player handed a hit to the audio clock), and to
  that hit's start on the audio clock (when it sounds). The first play of a page (the
  AudioContext made, the loop's samples fetched and decoded) and the next (warm).
- **server memory**: the server process's resident set (``VmRSS``) after start, after the
  library view is answered, and its peak (``VmHWM``), from ``/proc``.

The goal line: the cold library first paint (the lists) under 1 s. Run by hand, never by CI.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile

from drumgenx import __version__
from drumgenx.core.formats import dump_json, load_pools, read_json
from drumgenx.core.layout import STATE_DIR, library_folder, stage_folder
from drumgenx.core.records import PoolItem, Pools
from drumgenx.core.roles import ROLES
from drumgenx.kit.run import write_kit
from drumgenx.kit.synth import KIT_SR, KIT_VOICES
from drumgenx.render.run import export_midi_file
from drumgenx.roles.run import run_roles
from drumgenx.skeleton.patterns import SkeletonParams
from drumgenx.skeleton.run import run_skeleton

GOAL_FIRST_PAINT_MS = 1000.0
SAMPLE_SECONDS = 0.1  # a one-shot's length in the synthetic library: the list, not the audio
BPM = 120
BARS = 4
CHROMIUM_NAMES = ("chromium", "chromium-browser")
VIEWPORT = {"width": 1400, "height": 900}

# In the page: the click on Library, then the first painted frame that shows the role
# lists, then the one that shows the map (a requestAnimationFrame, then a task after it:
# that frame has been drawn).
LIBRARY_PAINT_JS = """async () => {
  const painted = async (selector) => {
    while (!document.querySelector(selector)) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return performance.now() - started;
  };
  const started = performance.now();
  document.getElementById('show-library').click();
  return [await painted('#role-lists .sample'), await painted('#library-map .dot')];
}"""

# The waveforms of the rows shown have come (the envelopes the view keeps, one per row).
WAVEFORMS_DRAWN_JS = """() => {
  const rows = document.querySelectorAll('#role-lists .sample').length;
  return rows > 0 && window.drumgenxStudio.libraryView.peaks.size >= rows;
}"""

# In the page: the click on Play, then the first hit handed to the audio clock; the hit's
# start on that clock counted from the click (the clock's time at the click is its time
# at the hit's scheduling less the wall time since the click: the two run together).
PLAY_JS = """async () => {
  const studio = window.drumgenxStudio;
  const player = studio.player;
  let handed = null; // when the first hit was handed to the audio clock
  player.scheduleHit = (...hit) => {
    handed ??= performance.now();
    return Object.getPrototypeOf(player).scheduleHit.apply(player, hit);
  };
  const before = studio.scheduled; // Play starts a new list
  const started = performance.now();
  document.getElementById('play').click();
  while (studio.scheduled === before || !studio.scheduled.length) {
    await new Promise((r) => setTimeout(r, 0));
  }
  const seen = performance.now();
  const first = Math.min(...studio.scheduled.map((hit) => hit.time));
  const sounds = seen - started + (first - player.context.currentTime) * 1000;
  delete player.scheduleHit;
  document.getElementById('stop').click();
  return [handed - started, sounds];
}"""

# In the page: the click on a run, then the first frame that shows its step grid, then the
# one whose role menus hold the run's pools (read after the grid).
OPEN_RUN_JS = """async (record) => {
  const painted = async (selector) => {
    while (!document.querySelector(selector)) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return performance.now() - started;
  };
  const started = performance.now();
  document.querySelector(`button.run[data-record="${record}"]`).click();
  return [
    await painted('#grid-a .cell.hit'),
    await painted('#grid-a select.role-sample option:nth-child(2)'),
  ];
}"""


def build_library_run(out: Path, *, samples: int, seed: int = 0) -> Path:
    """A run folder with a library of ``samples`` one-shots; returns its ``run_1.json``."""
    rng = np.random.default_rng(seed)
    roles_dir = stage_folder(out, "roles")
    library = library_folder(out, 1)
    with tempfile.TemporaryDirectory() as scratch:
        kit_dir = Path(scratch) / "kit"
        write_kit(kit_dir)
        scored = run_roles(input_dir=kit_dir, out_dir=Path(scratch) / "roles", limit=0)
        kit_record = read_json(scored.per_sample_path, "per_sample")
        voices = {Path(s["filepath"]).stem: s for s in kit_record["samples"]}
        role_of = {voice.name: voice.role for voice in KIT_VOICES}
        audio = {
            name: soundfile.read(kit_dir / f"{name}.wav", dtype="float32")[0] for name in voices
        }
    library.mkdir(parents=True)
    roles_dir.mkdir()
    names = sorted(voices)
    by_role: dict[str, list[PoolItem]] = {role: [] for role in ROLES}
    entries = []
    for i in range(samples):
        voice = names[i % len(names)]
        sample_id = f"dummy_{i + 1:05d}"
        wav = library / f"{sample_id}.wav"
        clip = audio[voice][: int(SAMPLE_SECONDS * KIT_SR)] * rng.uniform(0.3, 1.0)
        soundfile.write(wav, clip, KIT_SR, subtype="PCM_16")
        filepath = os.path.relpath(wav, roles_dir)
        confidence = round(float(rng.uniform(0.3, 1.0)), 4)
        by_role[role_of[voice]].append(PoolItem(sample_id, filepath, confidence))
        jitter = {k: v * float(rng.normal(1.0, 0.05)) for k, v in voices[voice]["features"].items()}
        entries.append(
            voices[voice]
            | {"sample_id": sample_id, "filepath": filepath, "features": jitter}
            | {"confidence": confidence}
        )
    for pool in by_role.values():
        pool.sort(key=lambda item: (-item.confidence, item.sample_id))
    pools_path = roles_dir / "pools_1.json"
    pools_path.write_bytes(dump_json(Pools(by_role).to_json()))
    per_sample = roles_dir / "per_sample_1.json"
    per_sample.write_bytes(dump_json(kit_record | {"input_dir": str(library), "samples": entries}))
    load_pools(pools_path)  # off their schemas, the bench stops here
    read_json(per_sample, "per_sample")
    skeleton = run_skeleton(
        out_dir=stage_folder(out, "skeleton"),
        bpm=BPM,
        pools_json=pools_path,
        params=SkeletonParams(bars=BARS, fill_prob=1.0),
        render=True,
        sample_root=library,
    )
    midi = export_midi_file(skeleton.paths["event_grid"], skeleton.paths["grid"]).path
    stage_folder(out, "groove").mkdir()
    (out / STATE_DIR).mkdir()
    return _write_run_record(
        out,
        {
            "preprocess": {"library": library.name},
            "roles": {"pools": "roles/pools_1.json", "per_sample": "roles/per_sample_1.json"},
            "skeleton": {
                k: p.relative_to(out).as_posix()
                for k, p in {**skeleton.paths, "midi": midi}.items()
            },
        },
    )


def _write_run_record(out: Path, outputs: dict[str, dict[str, str]]) -> Path:
    """``run_1.json`` naming ``outputs``, as `drumgenx run` writes one (checked)."""
    params = {"bpm": BPM, "bars": BARS, "seed": 42, "mode": "humanize", "temperature": 0.5}
    stages = [
        {"stage": stage, "key": f"{i:020x}", "reused": False, "seconds": 0.0,
         "outputs": files, "summary": {}}
        for i, (stage, files) in enumerate({**outputs, "groove": {}}.items())
    ]  # fmt: skip
    skeleton = outputs["skeleton"]
    record = {
        "drumgenx_version": __version__,
        "input_dir": "synthetic",
        "inputs": ["synthetic"],
        "params": {**params, "swing": 0.0, "workers": 1},
        "from_stage": None,
        "stages": stages,
        "final": {"wav": skeleton["render"], "midi": skeleton["midi"]},
    }
    path = out / "run_1.json"
    path.write_bytes(dump_json(record))
    read_json(path, "run")
    return path


@contextmanager
def studio_server(out: Path) -> Iterator[tuple[int, str]]:
    """``drumgenx studio OUT --port 0 --no-browser``: its pid and its page's URL."""
    drumgenx = str(Path(sys.executable).with_name("drumgenx"))
    command = [drumgenx, "studio", str(out), "--port", "0", "--no-browser"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # printed once the server listens
        found = re.search(r"http://\S+", line)
        if found is None:
            raise SystemExit(f"the studio did not start: {line}{process.communicate()[1]}")
        yield process.pid, found.group(0)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def memory_kib(pid: int) -> dict[str, int]:
    """The process's resident set now (``VmRSS``) and at its peak (``VmHWM``), in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {
        key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE).group(1))
        for key in ("VmRSS", "VmHWM")
    }


def chromium_path() -> str:
    found = os.environ.get("DRUMGENX_CHROMIUM") or next(
        filter(None, map(shutil.which, CHROMIUM_NAMES)), None
    )
    if found is None:
        raise SystemExit("Chromium not found: apt-get install -y chromium")
    return found


@contextmanager
def browser_page(url: str) -> Iterator:
    """A Playwright page on ``url`` in headless Chromium (as tests/browser launches it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
        page = context.new_page()
        page.goto(url)
        try:
            yield page, browser.version
        finally:
            browser.close()


def open_run(page, record: str = "run_1.json") -> tuple[float, float]:
    """Open a run in the editor, as far as its role menus (the pools, read after the grid);
    the milliseconds to its grid's first paint and to its menus'."""
    page.wait_for_selector(f'button.run[data-record="{record}"]')
    return tuple(page.evaluate(OPEN_RUN_JS, record))


def measure(out: Path, repeats: int) -> tuple[dict[str, list[float]], dict[str, int], str]:
    """The timings (ms, by row) and the server's memory (KiB) on the run in ``out``."""
    times: dict[str, list[float]] = {}
    with studio_server(out) as (pid, url):
        memory = {"after start": memory_kib(pid)["VmRSS"]}
        with browser_page(url) as (page, version):
            for attempt in range(repeats + 1):
                if attempt:
                    page.reload()
                grid_ms, menus_ms = open_run(page)
                memory.setdefault("run opened", memory_kib(pid)["VmRSS"])
                kind = "cold" if attempt == 0 else "warm"
                times.setdefault(f"open a run: step grid painted ({kind})", []).append(grid_ms)
                times.setdefault(f"open a run: role menus filled ({kind})", []).append(menus_ms)
                lists, drawn = page.evaluate(LIBRARY_PAINT_JS)
                page.wait_for_function(WAVEFORMS_DRAWN_JS)
                memory.setdefault("library shown", memory_kib(pid)["VmRSS"])
                times.setdefault(f"library first paint: lists ({kind})", []).append(lists)
                times.setdefault(f"library map drawn ({kind})", []).append(drawn)
                for play in range(2):
                    scheduled, sounds = page.evaluate(PLAY_JS)
                    first = "a page's first" if play == 0 else "next"
                    times.setdefault(f"play -> first hit scheduled ({first})", []).append(scheduled)
                    times.setdefault(f"play -> first hit sounds ({first})", []).append(sounds)
            shown = page.locator("#role-lists .sample").count()
        memory["peak (VmHWM)"] = memory_kib(pid)["VmHWM"]
    return times, memory, f"Chromium {version}, {shown} list rows in the page"


def take_screenshot(run: Path, png: Path) -> None:
    """The step grid of ``run``'s final loop (the demo run: ``drumgenx demo demo_audio &&
    drumgenx run demo_audio --out output``), as a PNG of the editor's top."""
    with studio_server(run) as (_, url), browser_page(url) as (page, _):
        open_run(page, page.get_attribute("button.run", "data-record"))
        page.mouse.move(0, 0)
        editor = page.locator("#editor-view")
        box = editor.bounding_box()
        grid = page.locator("#grid-a").bounding_box()
        clip = {"x": box["x"], "y": box["y"], "width": box["width"],
                "height": grid["y"] + grid["height"] - box["y"] + 8}  # fmt: skip
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png), clip=clip)


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cores} cores ({model}), load average {load} at the start"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=10_000, help="one-shots in the library")
    parser.add_argument("--repeats", type=int, default=3, help="warm measurements after the cold")
    parser.add_argument(
        "--keep", type=Path, help="build the run here once and keep it; later runs reuse it"
    )
    parser.add_argument("--screenshot", type=Path, help="only re-take this PNG of the step grid")
    parser.add_argument("--run", type=Path, default=Path("output"), help="with --screenshot")
    args = parser.parse_args()
    if args.screenshot:
        take_screenshot(args.run, args.screenshot)
        size = args.screenshot.stat().st_size
        print(f"wrote {args.screenshot} ({size / 1024:.0f} kB) from {args.run}")
        return 0

    scratch = None if args.keep else tempfile.TemporaryDirectory()
    out = args.keep or Path(scratch.name) / "out"
    started = time.perf_counter()
    if not (out / "run_1.json").is_file():
        build_library_run(out, samples=args.samples)
    built = time.perf_counter() - started
    print(f"drumgenx studio {__version__}, Python {platform.python_version()}, {machine()}")
    times, memory, browser = measure(out, args.repeats)
    print(f"a run with {args.samples} one-shots ready in {built:.1f} s; {browser}")
    print("times: median (min..max) of the measurements, ms\n")
    header = f"{'measurement':<44} {'n':>2} {'median':>8} {'range':>17}"
    print(header)
    print("-" * len(header))
    for name, values in times.items():
        span = f"{min(values):.0f}..{max(values):.0f}"
        print(f"{name:<44} {len(values):>2} {statistics.median(values):>8.0f} {span:>17}")
    for name, kib in memory.items():
        print(f"{'server memory, ' + name:<44} {'':>2} {kib / 1024:>6.0f} MiB")
    cold = times["library first paint: lists (cold)"][0]
    verdict = "PASS" if cold < GOAL_FIRST_PAINT_MS else "FAIL"
    goal = f"library first paint (cold) < {GOAL_FIRST_PAINT_MS:.0f} ms"
    print(f"\ngoal: {goal}: {cold:.0f} ms -> {verdict}")
    if scratch is not None:
        scratch.cleanup()
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
