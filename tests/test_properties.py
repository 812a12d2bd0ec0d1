"""Property tests of the stage chain: skeleton -> groove -> render -> MIDI.

Random *valid* pools, skeleton parameters and event grids go through the pure functions and
every output is checked against its schema and the documented rules; random *invalid* files
(documents mutated from valid ones) go through the file-level entry points, which must either
refuse them with a one-line `DrumgenxError` and write nothing, or succeed with valid files.

The shipped GrooVAE weights are used (loaded once per module). Sample files come from a small
kit synthesized into a temporary folder once per module. Each example makes its own temporary
folders, since function-scoped fixtures are not reset between hypothesis examples.

Bugs these properties found are fixed and pinned by the regression tests at the end of the
module: NaN / Infinity in JSON, integral floats (``1.0``) in integer fields, lone surrogates
and line breaks in sample ids, grids whose timing disagrees with their bpm or whose bpm is
below MIDI's slowest tempo, and audio holding NaN. The random strategies leave those inputs
to the regression tests, and keep TEXTURE ``dur_steps`` moderate (a long hold is slow).
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import hypothesis
import numpy as np
import pretty_midi
import pytest
import soundfile
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.events import DUR_STEPS
from drumgenx.core.formats import (
    check_events_fit_grid,
    dump_json,
    load_events,
    load_grid,
    schema_problem,
)
from drumgenx.core.records import (
    EVENT_SOURCES,
    Event,
    Grid,
    PoolItem,
    Pools,
    events_from_json,
    events_to_json,
)
from drumgenx.core.roles import ROLE_PRIORITY, ROLES, pool_key
from drumgenx.groove.convert import humanize_events, vary_events
from drumgenx.groove.model import GrooveModel
from drumgenx.groove.run import run_groove
from drumgenx.kit.run import write_kit
from drumgenx.render.midi import (
    GM_DRUM_NOTES,
    events_to_midi,
    midi_to_events,
    parse_note_overrides,
)
from drumgenx.render.mixer import CEILING_DBFS, RELEASE_MS
from drumgenx.render.run import export_midi_file, render_file, render_wav_bytes
from drumgenx.render.timing import MAX_SWING
from drumgenx.skeleton.grid import build_grid
from drumgenx.skeleton.patterns import (
    CORE_STEPS,
    SkeletonParams,
    build_skeleton,
)
from drumgenx.skeleton.run import run_skeleton

CEILING = 10.0 ** (CEILING_DBFS / 20.0)
PCM24_LSB = 2.0**-23
TICKS_PER_STEP = 120  # render.midi: 480 ticks a beat, 4 steps a beat
MAX_VOICES = 3  # groove.convert.limit_voices
SAMPLE_RATES = (8000, 16000, 44100)  # small rates keep the renders cheap
TEXTURE = "TEXTURE"

# hypothesis: no example database in the checkout; generous deadlines (model inference).
FAST = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FILES = settings(FAST, max_examples=60)


# --- shared set-up ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Kit:
    """Sample files on disk: ``files`` maps a name to its absolute path."""

    root: Path
    files: dict[str, Path]
    not_audio: Path  # a file with an audio extension that is not audio


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run the model on one thread here: 2-window batches gain nothing from a second, and on
    a busy 2-core machine an OpenMP barrier can stall a call for seconds."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    root = tmp_path_factory.mktemp("kit")
    write_kit(root)
    # Odd files the bundled kit lacks: stereo at another rate, a CamelCase name hint, a name
    # that only looks like a hint ("hollow" is not "low"), one frame, FLAC.
    rng = np.random.default_rng(0)
    stereo = (0.3 * rng.standard_normal((2400, 2))).astype(np.float32)
    soundfile.write(root / "RideBell.wav", stereo, 48000, subtype="PCM_16")
    soundfile.write(root / "hollow_block.flac", stereo[:600, :1], 22050)
    soundfile.write(root / "OpenHat_click.wav", np.full((1, 1), 0.5, np.float32), 44100)
    not_audio = root / "fake.wav"
    not_audio.write_bytes(b"RIFF not really a wave file")
    files = {p.stem: p for p in sorted(root.iterdir()) if p != not_audio}
    return Kit(root, files, not_audio)


@cache
def model(task: str) -> GrooveModel:
    """The shipped weights, loaded once (hypothesis cannot use function-scoped fixtures)."""
    return GrooveModel.load(None, task=task, device="cpu")


# --- strategies ------------------------------------------------------------------------------

# What str.splitlines() splits on: a message must stay one line.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Any text but lone surrogates and line breaks (known bugs); NUL and tabs included.
SAMPLE_ID_CHARS = st.characters(codec="utf-8", exclude_characters=LINE_BREAKS)


@st.composite
def pools_st(draw: st.DrawFn, kit: Kit, *, max_items: int = 3, nonempty: bool = False) -> Pools:
    """0..max_items samples per role; ids are file stems or any text.

    ``nonempty``: at least one role has a sample (a role drawn for it gets one or more).
    """
    names = sorted(kit.files)
    by_role: dict[str, list[PoolItem]] = {}
    filled = draw(st.sampled_from(ROLES)) if nonempty else None
    for role in ROLES:
        items = []
        for _ in range(draw(st.integers(1 if role == filled else 0, max_items))):
            name = draw(st.sampled_from(names))
            sample_id = draw(st.one_of(st.just(name), st.text(SAMPLE_ID_CHARS, min_size=1)))
            confidence = draw(st.floats(0.0, 1.0))
            items.append(PoolItem(sample_id, str(kit.files[name]), confidence))
        items.sort(key=lambda item: -item.confidence)
        by_role[role] = items
    return Pools(by_role)


skeleton_params_st = st.builds(
    SkeletonParams,
    bars=st.integers(1, 4),
    seed=st.integers(0, 2**32),
    motion_mode=st.sampled_from(["A", "B"]),
    motion_keep=st.integers(4, 8),
    fill_prob=st.floats(0.0, 1.0),
    texture=st.booleans(),
    max_voices=st.integers(1, 5),
    rotation=st.integers(1, 4),
)
bpm_st = st.one_of(st.floats(40.0, 240.0), st.sampled_from([20.0, 999.0]))
swing_st = st.one_of(st.just(0.0), st.floats(0.0, MAX_SWING))
temperature_st = st.floats(0.0, 1.5)
seed_st = st.integers(0, 2**31)


@st.composite
def events_st(
    draw: st.DrawFn, num_bars: int, sample_ids: list[str], *, max_events: int = 40
) -> list[Event]:
    """Any event the event grid schema allows on a ``num_bars`` grid (unsorted, stacked)."""
    n = draw(st.integers(0, max_events))
    ids = st.sampled_from(sample_ids) if sample_ids else st.text(SAMPLE_ID_CHARS, min_size=1)
    return [
        Event(
            bar=draw(st.integers(0, num_bars - 1)),
            step=draw(st.integers(0, 15)),
            role=draw(st.sampled_from(ROLES)),
            sample_id=draw(ids),
            vel=draw(st.floats(0.0, 1.0)),
            dur_steps=draw(
                st.one_of(st.sampled_from([1.0, 2.0, 4.0, 8.0, 16.0]), st.floats(1e-6, 32.0))
            ),
            micro_offset_ms=draw(
                st.one_of(st.just(0.0), st.floats(-60.0, 60.0), st.floats(-1000.0, 1000.0))
            ),
            source=draw(st.sampled_from(EVENT_SOURCES)),
        )
        for _ in range(n)
    ]


# --- checks ----------------------------------------------------------------------------------


def strict_json(text: str) -> Any:
    """Parse as standard JSON: NaN and Infinity are not JSON, whatever Python's json allows."""

    def refuse(constant: str) -> Any:
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def assert_one_line(message: str) -> None:
    """The CLI prints a DrumgenxError as one line (core.errors)."""
    assert message and message.splitlines() == [message], message


def sort_key(event: Event) -> tuple[int, int, int]:
    return (event.bar, event.step, ROLE_PRIORITY[event.role])


def identity(event: Event) -> tuple[int, int, str, str, float]:
    """What groove must keep of a hit: where, what and how long (timing is the model's)."""
    return (event.bar, event.step, event.role, event.sample_id, event.dur_steps)


def check_events(events: list[Event], grid: Grid) -> None:
    """Schema-valid (standard JSON), on the grid, and in the file format's order."""
    data = events_to_json(events)
    assert schema_problem(data, "event_grid") is None
    strict_json(json.dumps(data, allow_nan=False))
    check_events_fit_grid(events, grid, events_path="(events)")
    assert [sort_key(e) for e in events] == sorted(sort_key(e) for e in events)


def check_groove_timing(out: list[Event], inp: list[Event], grid: Grid) -> None:
    """The model's hits: vel 0..1 to 4 decimals, offsets within ±half a step (to 1 µs).

    TEXTURE events, which the model never sees, keep everything but ``source``.
    """
    half_step_ms = 0.5 * grid.tstep * 1000.0
    assert all(e.source == "groovae" for e in out)
    for event in out:
        if event.role == TEXTURE:
            continue
        assert 0.0 <= event.vel <= 1.0 and round(event.vel, 4) == event.vel
        assert abs(event.micro_offset_ms) <= half_step_ms + 5e-4
    textures = Counter(replace(e, source="x") for e in inp if e.role == TEXTURE)
    assert Counter(replace(e, source="x") for e in out if e.role == TEXTURE) == textures


def check_humanized(out: list[Event], inp: list[Event], grid: Grid) -> None:
    check_events(out, grid)
    check_groove_timing(out, inp, grid)
    assert Counter(map(identity, out)) == Counter(map(identity, inp))


def check_varied(grooved: Any, inp: list[Event], grid: Grid, pools: Pools) -> None:
    out: list[Event] = grooved.events
    check_events(out, grid)
    check_groove_timing(out, inp, grid)
    known = Counter(map(identity, inp))
    for event in out:
        if event.role == TEXTURE:
            continue
        if known[identity(event)] > 0:
            known[identity(event)] -= 1
            continue
        # A new hit: a sample of its role's pool, the skeleton's length for the role.
        assert event.sample_id in {item.sample_id for item in pools.pool(event.role)}
        assert event.dur_steps == DUR_STEPS[event.role]
    per_step = Counter(e.position for e in out if e.role != TEXTURE)
    textures = Counter(e.position for e in out if e.role == TEXTURE)
    for position, n in per_step.items():
        assert n <= max(0, MAX_VOICES - textures[position])
    dropped = sum(grooved.polyphony_dropped.values())
    assert grooved.added >= 0 and 0 <= grooved.removed <= len(inp)
    assert len(out) - grooved.added <= len(inp) - grooved.removed
    assert len(inp) - grooved.removed <= len(out) - grooved.added + dropped


def onset_steps(event: Event, grid: Grid, swing: float) -> float:
    """From first principles: step + swing on odd steps + micro-offset."""
    return (
        event.bar * 16
        + event.step
        + (swing if event.step % 2 else 0.0)
        + event.micro_offset_ms / 1000.0 / grid.tstep
    )


def check_wav(
    data: bytes, events: list[Event], grid: Grid, *, sr: int, swing: float, loop: bool
) -> None:
    """Decodes, finite, under the ceiling; one loop long, or the loop plus the tails."""
    audio, rate = soundfile.read(io.BytesIO(data), dtype="float64", always_2d=True)
    assert rate == sr
    assert audio.shape[1] in (1, 2)
    assert np.all(np.isfinite(audio))
    assert float(np.max(np.abs(audio), initial=0.0)) <= CEILING + PCM24_LSB
    loop_frames = round(grid.duration * sr)
    if loop:
        assert len(audio) == loop_frames
        return
    release = max(1, round(RELEASE_MS * sr / 1000.0))
    # A voice lasts at most its dur_steps plus the release; an early hit starts at 0.
    ends = [
        max(0, round(onset_steps(e, grid, swing) * grid.tstep * sr) + 1)
        + round(e.dur_steps * grid.tstep * sr)
        + release
        for e in events
    ]
    assert loop_frames <= len(audio) <= max([loop_frames, *ends])


def check_midi(
    data: bytes,
    notices: list[str] | None,
    events: list[Event],
    grid: Grid,
    swing: float,
    notes: Mapping[str, int] = GM_DRUM_NOTES,
) -> None:
    """pretty_midi reads one note per event, on its key, at its onset (to one tick), and
    `midi_to_events` gives back the position of every hit that stays nearer its own step.

    ``notices`` (None: not known) must say which hits were pulled before time 0.
    """
    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    played = [n for inst in pm.instruments for n in inst.notes]
    assert all(inst.is_drum for inst in pm.instruments)
    assert len(played) == len(events)
    _, tempi = pm.get_tempo_changes()
    assert list(tempi) == [pytest.approx(grid.bpm, rel=1e-4)]
    want_vel = Counter((notes[e.role], max(1, min(127, round(1 + e.vel * 126)))) for e in events)
    assert Counter((n.pitch, n.velocity) for n in played) == want_vel
    ticks = [onset_steps(e, grid, swing) * TICKS_PER_STEP for e in events]
    if notices is not None:
        assert len(notices) == sum(round(t) < 0 for t in ticks)
    for role, key in notes.items():
        want = sorted(
            max(0, round(t)) for t, e in zip(ticks, events, strict=True) if e.role == role
        )
        got = sorted(pm.time_to_tick(n.start) for n in played if n.pitch == key)
        assert len(got) == len(want)
        assert all(abs(g - w) <= 1 for g, w in zip(got, want, strict=True))
        assert all(n.end > n.start for n in played if n.pitch == key)

    back, bpm = midi_to_events(data, swing=swing, notes=notes)
    assert bpm == pytest.approx(grid.bpm, rel=1e-4)
    assert len(back) == len(events)
    assert schema_problem(events_to_json(back), "event_grid") is None
    # Unambiguous: |offset| under half the (swung) gap to a neighbour, less two ticks.
    limit = (1.0 - swing) / 2.0 - 2.0 / TICKS_PER_STEP
    clear = Counter(
        (e.bar, e.step, e.role)
        for e, t in zip(events, ticks, strict=True)
        if t >= 0 and abs(e.micro_offset_ms / 1000.0 / grid.tstep) < limit
    )
    assert clear <= Counter((e.bar, e.step, e.role) for e in back)


def render_and_export(
    events: list[Event], grid: Grid, pools: Pools, kit: Kit, draw: st.DrawFn
) -> None:
    sr = draw(st.sampled_from(SAMPLE_RATES))
    swing = draw(swing_st)
    loop = draw(st.booleans())
    # Pools hold absolute paths; half the time make them file names, found from pools_dir.
    pools_dir = draw(st.sampled_from([None, kit.root]))
    if pools_dir is not None:
        pools = Pools(
            {
                role: [replace(item, filepath=Path(item.filepath).name) for item in items]
                for role, items in pools.by_role.items()
            }
        )
    wav = render_wav_bytes(
        events, grid, pools=pools, pools_dir=pools_dir, sample_root=None, sr=sr, swing=swing,
        loop=loop,
    )  # fmt: skip
    check_wav(wav, events, grid, sr=sr, swing=swing, loop=loop)
    said: list[str] = []
    midi = events_to_midi(events, grid, swing=swing, notify=said.append)
    check_midi(midi, said, events, grid, swing)


# --- 1. valid pools and parameters through the whole chain ------------------------------------


@FAST
@given(data=st.data(), params=skeleton_params_st, bpm=bpm_st)
def test_skeleton_groove_render_midi_chain(
    kit: Kit, data: st.DataObject, params: SkeletonParams, bpm: float
) -> None:
    """Skeleton rules hold; humanize and vary keep the format and their promises; the render
    and the MIDI file of any of the three agree with the events."""
    pools = data.draw(pools_st(kit))
    grid = build_grid(bpm=bpm, num_bars=params.bars)
    said: list[str] = []
    skeleton = build_skeleton(pools, params, notify=said.append)
    events = skeleton.events
    check_events(events, grid)
    assert all(e.source == "skeleton" and e.micro_offset_ms == 0.0 for e in events)
    assert all(e.dur_steps == DUR_STEPS[e.role] for e in events)
    for role in ROLES:
        ids = {item.sample_id for item in pools.pool(role)}
        assert {e.sample_id for e in events if e.role == role} <= ids
        chosen = skeleton.chosen.get(role, [])
        assert len(chosen) == min(params.rotation, len(pools.pool(role)))
        assert (f"{role}_POOL is empty: no {role} hits in this skeleton" in said) == (
            not pools.pool(role)
        )
    assert max(Counter(e.position for e in events).values(), default=0) <= params.max_voices
    if pools.pool("CORE"):  # the highest priority: never dropped
        core = {e.position for e in events if e.role == "CORE"}
        assert core == {(b, s) for b in range(params.bars) for s in CORE_STEPS}

    humanized = humanize_events(events, grid, model=model("humanize"), pools=pools)
    check_humanized(humanized.events, events, grid)
    varied = vary_events(
        events,
        grid,
        pools,
        model=model("vary"),
        temperature=data.draw(temperature_st),
        seed=data.draw(seed_st),
    )
    check_varied(varied, events, grid, pools)

    chosen_events = data.draw(st.sampled_from([events, humanized.events, varied.events]))
    render_and_export(chosen_events, grid, pools, kit, data.draw)


# --- 2. random valid event grids through groove, render and MIDI ------------------------------


@FAST
@given(data=st.data(), bpm=bpm_st, bars=st.integers(1, 4))
def test_random_event_grids_through_groove_render_midi(
    kit: Kit, data: st.DataObject, bpm: float, bars: int
) -> None:
    """As above, on any schema-valid grid: stacked hits, any offsets, any lengths."""
    # At least one sample: the events name samples of the pools, so the render finds them.
    pools = data.draw(pools_st(kit, nonempty=True))
    grid = build_grid(bpm=bpm, num_bars=bars)
    ids = [item.sample_id for role in ROLES for item in pools.pool(role)]
    events = data.draw(events_st(bars, ids))
    assert schema_problem(events_to_json(events), "event_grid") is None  # the strategy's promise

    humanized = humanize_events(events, grid, model=model("humanize"), pools=pools)
    check_humanized(humanized.events, events, grid)
    varied = vary_events(
        events,
        grid,
        pools,
        model=model("vary"),
        temperature=data.draw(temperature_st),
        seed=data.draw(seed_st),
    )
    check_varied(varied, events, grid, pools)

    # The input too: unsorted, stacked and far off the grid, still a valid event grid.
    chosen_events = data.draw(st.sampled_from([events, humanized.events, varied.events]))
    render_and_export(chosen_events, grid, pools, kit, data.draw)


# --- 3. invalid files through the file-level entry points -------------------------------------

# Values that are wrong for most fields (a few happen to be right for some: then the run
# may succeed, and its outputs must be valid). No NaN, no 1.0 for an integer, no bpm under
# 3.6: known bugs. No huge dur_steps either: a TEXTURE hold grows quadratically.
WRONG_VALUES: list[Any] = ["x", "", None, [], {}, True, False, 0.5, -3]
EVENT_OUT_OF_RANGE: dict[str, list[Any]] = {
    "bar": [-1, "BAR_BEYOND", 10**12],
    "step": [-1, 16, 99],
    "role": ["SNARE", "core", "", "TEXTURE_POOL"],
    "sample_id": ["", "not_in_any_pool"],
    "vel": [-0.01, 1.01, 2],
    "dur_steps": [0, -1.0],
    "micro_offset_ms": [-1000.5, 1000.001, 5000],
    "source": ["human", "GROOVAE"],
}
GRID_OUT_OF_RANGE: dict[str, list[Any]] = {
    "bpm": [0, -120, 1000, "120"],
    "meter": ["3/4", 4],
    "steps_per_bar": [12, 32, "16"],
    "num_bars": [0, 1025, "NUM_BARS+1", "NUM_BARS-1"],
    "tbeat": [0, -0.5],
    "tbar": [0, -2.0],
    "tstep": [0, -0.125],
    "bar_start": [[], [-1.0], "x"],
    "t_step": [[], [-1.0], [0.0]],
}


@dataclass
class Docs:
    """The JSON documents of one run, before they are written (or mangled) to files."""

    grid: Any
    events: Any
    pools: Any
    num_bars: int  # of the grid the documents were made for
    raw: dict[str, bytes | None]  # replaces a file's text; None: the file is missing


def pools_doc(pools: Pools, pools_dir: Path, draw: st.DrawFn) -> dict[str, Any]:
    data = pools.to_json()
    for role in ROLES:
        for item in data[pool_key(role)]:
            if draw(st.booleans()):  # the usual form: relative to the pools file
                item["filepath"] = os.path.relpath(item["filepath"], pools_dir)
    return data


def mutate_events(docs: Docs, draw: st.DrawFn) -> None:
    events = docs.events
    kind = draw(st.sampled_from(["field", "range", "delete", "extra", "whole", "other_grid"]))
    if kind == "whole":
        docs.events = copy.deepcopy(
            draw(
                st.sampled_from([{}, None, "events", [[]], [1], docs.grid, docs.pools, [docs.grid]])
            )
        )
        return
    if kind == "other_grid":  # events of a longer loop: bars beyond this grid
        base = events[0] if events and isinstance(events[0], dict) else {}
        events.append({**base, "bar": docs.num_bars + draw(st.integers(0, 3))})
        return
    if not events:
        events.append({})
    index = draw(st.integers(0, len(events) - 1))
    if not isinstance(events[index], dict):  # an earlier mutation left [] or 1 there
        events[index] = {}
    event = events[index]
    key = draw(st.sampled_from(sorted(EVENT_OUT_OF_RANGE)))
    if kind == "field":
        event[key] = draw(st.sampled_from(WRONG_VALUES))
    elif kind == "range":
        value = draw(st.sampled_from(EVENT_OUT_OF_RANGE[key]))
        event[key] = docs.num_bars if value == "BAR_BEYOND" else value
    elif kind == "delete":
        event.pop(key, None)
    else:
        event[draw(st.sampled_from(["velocity", "pitch", "", key.upper()]))] = 1


def mutate_grid(docs: Docs, draw: st.DrawFn) -> None:
    grid = docs.grid
    kind = draw(st.sampled_from(["field", "range", "delete", "whole", "other_run"]))
    key = draw(st.sampled_from(sorted(GRID_OUT_OF_RANGE)))
    if kind == "whole":
        docs.grid = copy.deepcopy(
            draw(st.sampled_from([[], None, "grid", docs.events, docs.pools]))
        )
    elif kind == "other_run":  # a consistent grid of another run: other bpm, bars
        docs.grid = build_grid(bpm=draw(bpm_st), num_bars=draw(st.integers(1, 3))).to_json()
    elif kind == "field":
        grid[key] = draw(st.sampled_from([v for v in WRONG_VALUES if key != "bpm" or v != 0.5]))
    elif kind == "range":
        value = draw(st.sampled_from(GRID_OUT_OF_RANGE[key]))
        if value in ("NUM_BARS+1", "NUM_BARS-1"):  # lists no longer match the size
            value = docs.num_bars + (1 if value.endswith("+1") else -1)
        grid[key] = value
    else:
        grid.pop(key, None)


def mutate_pools(docs: Docs, kit: Kit, draw: st.DrawFn) -> None:
    pools = docs.pools
    kind = draw(
        st.sampled_from(["file", "field", "delete", "counts", "empty", "drop_item", "whole"])
    )
    # An earlier mutation may have deleted keys: touch only what is still there.
    items = [(role, item) for role in ROLES for item in pools.get(pool_key(role), [])]
    counts = pools.get("counts", {})
    if kind == "whole":
        docs.pools = copy.deepcopy(
            draw(st.sampled_from([[], None, docs.grid, docs.events, {"counts": {}}]))
        )
    elif kind == "empty":
        for role in ROLES:
            pools[pool_key(role)] = []
            counts[role] = 0
    elif kind == "counts":
        counts[draw(st.sampled_from(ROLES))] = draw(st.sampled_from([99, -1, "1", None]))
    elif kind == "delete":
        pools.pop(draw(st.sampled_from([*map(pool_key, ROLES), "counts"])), None)
    elif items:
        role, item = items[draw(st.integers(0, len(items) - 1))]
        if kind == "file":  # missing, a folder, not audio, or empty
            item["filepath"] = draw(
                st.sampled_from(
                    [str(kit.root / "missing.wav"), str(kit.root), str(kit.not_audio), ""]
                )
            )
        elif kind == "field":
            key = draw(st.sampled_from(["sample_id", "filepath", "confidence"]))
            item[key] = draw(st.sampled_from([*WRONG_VALUES, 1.5, -0.1]))
        else:  # events now name a sample no pool has
            pools[pool_key(role)].remove(item)
            if isinstance(counts.get(role), int):
                counts[role] -= 1


def mutate_text(docs: Docs, name: str, draw: st.DrawFn) -> None:
    text = dump_json(getattr(docs, name))
    docs.raw[name] = draw(
        st.sampled_from(
            [
                text[: draw(st.integers(0, max(0, len(text) - 1)))],  # truncated
                b"",
                b"   \n",
                b"\xff\xfe\x00garbage",  # not UTF-8
                b"{'single': 'quotes'}",
                None,  # missing
            ]
        )
    )


@st.composite
def docs_st(draw: st.DrawFn, kit: Kit, pools_dir: Path) -> Docs:
    """Valid documents of one run, then 0..3 mutations: most runs get some bad input."""
    pools = draw(pools_st(kit, max_items=2))
    bars = draw(st.integers(1, 2))
    grid = build_grid(bpm=draw(bpm_st), num_bars=bars)
    ids = [item.sample_id for role in ROLES for item in pools.pool(role)]
    events = draw(events_st(bars, ids, max_events=12))
    docs = Docs(
        grid=grid.to_json(),
        events=sorted(events_to_json(events), key=lambda e: (e["bar"], e["step"])),
        pools=pools_doc(pools, pools_dir, draw),
        num_bars=bars,
        raw={},
    )
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        target = draw(st.sampled_from(["events", "grid", "pools", "text"]))
        if target == "events" and isinstance(docs.events, list):
            mutate_events(docs, draw)
        elif target == "grid" and isinstance(docs.grid, dict):
            mutate_grid(docs, draw)
        elif target == "pools" and isinstance(docs.pools, dict):
            mutate_pools(docs, kit, draw)
        elif target == "text":
            mutate_text(docs, draw(st.sampled_from(["grid", "events", "pools"])), draw)
    return docs


def write_docs(docs: Docs, folder: Path) -> dict[str, Path]:
    paths = {}
    for name in ("grid", "events", "pools"):
        path = folder / f"{name}.json"
        data = docs.raw.get(name, dump_json(getattr(docs, name)))
        if data is not None:
            path.write_bytes(data)
        paths[name] = path
    return paths


def listing(folder: Path) -> set[str]:
    return set(os.listdir(folder)) if folder.is_dir() else set()


def check_outputs_of(
    kind: str, written: dict[str, Path], *, grid_path: Path | None, options: dict[str, Any]
) -> None:
    """Every file a successful run wrote is valid against its format."""
    grid = load_grid(written["grid"] if kind == "skeleton" else grid_path)
    for family, path in written.items():
        if family.startswith("event_grid"):
            strict_json(path.read_text("utf-8"))
            check_events(load_events(path), grid)
        elif family == "skeleton_meta":
            meta = strict_json(path.read_text("utf-8"))
            assert schema_problem(meta, "skeleton_meta") is None
        elif family == "grid":
            strict_json(path.read_text("utf-8"))
        elif family.startswith("render"):
            events_path = written.get("event_grid_groovae", written.get("event_grid"))
            events = load_events(events_path or options["events_path"])
            check_wav(
                path.read_bytes(),
                events,
                grid,
                sr=options.get("sr", 44100),
                swing=options.get("swing", 0.0),
                loop=options.get("loop", False),
            )
        elif family.startswith("midi"):
            events = load_events(options["events_path"])
            notes = parse_note_overrides(options.get("notes"))
            check_midi(path.read_bytes(), None, events, grid, options["swing"], notes)
        else:
            raise AssertionError(f"unexpected output family {family}")


BAD_OPTIONS: dict[str, tuple[str, ...]] = {
    "groove": ("swing", "mode", "temperature"),
    "render": ("swing",),
    "midi": ("swing", "notes"),
    "skeleton": ("swing", "params", "bpm", "sr"),
}


def entry_point(
    kind: str, paths: dict[str, Path], out_dir: Path, kit: Kit, draw: st.DrawFn
) -> tuple[Callable[[], Any], dict[str, Any]]:
    """The call to make, with at most one bad option: most runs reach the files' checks."""
    broken = draw(st.sampled_from([None, None, None, None, *BAD_OPTIONS[kind]]))

    def option(name: str, valid: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> Any:
        return draw(bad if name == broken else valid)

    swing = option("swing", swing_st, st.sampled_from([-0.1, 0.8, 1.0]))
    loop = draw(st.booleans())
    skip_missing = draw(st.booleans())
    options: dict[str, Any] = {"swing": swing, "loop": loop, "events_path": paths["events"]}
    if kind == "groove":
        mode = option("mode", st.sampled_from(["humanize", "vary"]), st.sampled_from(["Vary", ""]))
        temperature = option(
            "temperature", temperature_st, st.sampled_from([-0.5, math.inf, math.nan])
        )
        seed = draw(seed_st)
        render = draw(st.booleans())

        def call() -> Any:
            return run_groove(
                grid_json=paths["grid"],
                events_json=paths["events"],
                pools_json=paths["pools"],
                out_dir=out_dir,
                mode=mode,
                temperature=temperature,
                seed=seed,
                render=render,
                swing=swing,
                loop=loop,
                skip_missing=skip_missing,
                model=model(mode) if mode in ("humanize", "vary") else None,
            )

        return call, options
    if kind == "render":
        sr = draw(st.sampled_from(SAMPLE_RATES))
        use_pools = draw(st.booleans())  # else by file name under sample_root
        sample_root = kit.root if not use_pools or draw(st.booleans()) else None
        options["sr"] = sr

        def call() -> Any:
            return render_file(
                paths["events"],
                paths["grid"],
                pools_json=paths["pools"] if use_pools else None,
                sample_root=sample_root,
                out_dir=out_dir,
                sr=sr,
                swing=swing,
                loop=loop,
                skip_missing=skip_missing,
            )

        return call, options
    if kind == "midi":
        notes = option(
            "notes",
            st.sampled_from([None, ["FILL=47"], ["motion=44", "TEXTURE=49"]]),
            st.sampled_from([["CORE=38"], ["X=1"], ["CORE=300"], ["CORE"]]),
        )
        options["notes"] = notes

        def call() -> Any:
            return export_midi_file(
                paths["events"], paths["grid"], out_dir=out_dir, swing=swing, note_overrides=notes
            )

        return call, options
    params = option(
        "params",
        skeleton_params_st,
        st.builds(
            SkeletonParams,
            bars=st.integers(0, 3),
            motion_mode=st.sampled_from(["A", "C", ""]),
            motion_keep=st.sampled_from([3, 4, 9]),
            fill_prob=st.sampled_from([-0.1, 0.5, 1.5]),
            max_voices=st.integers(0, 2),
            rotation=st.integers(0, 2),
        ),
    )
    bpm = option("bpm", bpm_st, st.sampled_from([-5.0, 0.0, 10.0, 1000.0, math.nan]))
    sr = option("sr", st.sampled_from(SAMPLE_RATES), st.sampled_from([4000, 200000]))
    render = draw(st.booleans())
    options.update(sr=sr, swing=swing, loop=loop)

    def call() -> Any:
        return run_skeleton(
            out_dir=out_dir,
            bpm=bpm,
            pools_json=paths["pools"],
            params=params,
            sample_root=None,
            render=render,
            render_sr=sr,
            swing=swing,
            loop=loop,
            skip_missing=skip_missing,
        )

    return call, options


@pytest.mark.parametrize("kind", ["groove", "render", "midi", "skeleton"])
@FILES
@given(data=st.data())
def test_file_entry_points_refuse_bad_input_cleanly(
    kit: Kit, data: st.DataObject, kind: str
) -> None:
    """A DrumgenxError (one line) and no new file, or success with valid files only."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inputs, out_dir = folder / "in", folder / data.draw(st.sampled_from(["out", "in"]))
        inputs.mkdir()
        docs = data.draw(docs_st(kit, inputs))
        paths = write_docs(docs, inputs)
        if data.draw(st.integers(0, 9)) == 0:  # a folder where a file should be
            name = data.draw(st.sampled_from(["grid", "events", "pools"]))
            paths[name].unlink(missing_ok=True)
            paths[name].mkdir()
        call, options = entry_point(kind, paths, out_dir, kit, data.draw)
        before = listing(out_dir)
        try:
            result = call()
        except DrumgenxError as exc:
            hypothesis.event(f"{kind}: refused ({type(exc).__name__})")
            assert_one_line(str(exc))
            assert listing(out_dir) == before
            return
        hypothesis.event(f"{kind}: succeeded")
        # run_groove and run_skeleton report files by family; render and MIDI one Output
        written: dict[str, Path] = result.paths if hasattr(result, "paths") else {kind: result.path}
        # Exactly the reported files are new: no temporary or reservation files left.
        assert listing(out_dir) - before == {p.name for p in written.values()}
        assert all(p.parent == out_dir for p in written.values())
        check_outputs_of(kind, written, grid_path=paths["grid"], options=options)


# --- regressions: bugs these properties found, each pinned by its inputs -----------------------


def _run_all_entry_points(
    folder: Path, kit: Kit, *, grid: Any, events: Any, pools: Any | None = None
) -> None:
    """Every file-level entry point on these documents: DrumgenxError or valid outputs."""
    if pools is None:
        pools = Pools({"CORE": [PoolItem("kick", str(kit.files["kick"]), 1.0)]}).to_json()
    paths = {}
    for name, doc in (("grid", grid), ("events", events), ("pools", pools)):
        paths[name] = folder / f"{name}.json"
        # json.dumps writes NaN and Infinity as Python's json reads them back
        paths[name].write_text(json.dumps(doc, ensure_ascii=True), encoding="utf-8")
    calls = {
        "humanize": lambda out: run_groove(
            grid_json=paths["grid"], events_json=paths["events"], pools_json=paths["pools"],
            out_dir=out, model=model("humanize"), render=True,
        ),
        "vary": lambda out: run_groove(
            grid_json=paths["grid"], events_json=paths["events"], pools_json=paths["pools"],
            out_dir=out, mode="vary", temperature=1.0, model=model("vary"),
        ),
        "render": lambda out: render_file(
            paths["events"], paths["grid"], pools_json=paths["pools"], out_dir=out, sr=8000
        ),
        "midi": lambda out: export_midi_file(paths["events"], paths["grid"], out_dir=out),
        "skeleton": lambda out: run_skeleton(
            out_dir=out, bpm=120, pools_json=paths["pools"], sample_root=None,
            params=SkeletonParams(bars=1), render_sr=8000,
        ),
    }  # fmt: skip
    for name, call in calls.items():
        out = folder / f"out_{name}"
        try:
            call(out)
        except DrumgenxError as exc:
            assert_one_line(str(exc))
            assert listing(out) == set()
            continue
        for path in sorted(out.iterdir()):
            if path.suffix == ".json":
                data = strict_json(path.read_text("utf-8"))
                if path.name.startswith("event_grid"):
                    # the skeleton writes its own grid; the others work on the given one
                    own_grid = out / path.name.replace("event_grid", "grid")
                    grid_path = own_grid if own_grid.exists() else paths["grid"]
                    check_events(events_from_json(data), load_grid(grid_path))
            elif path.suffix == ".wav":
                audio, _ = soundfile.read(path, always_2d=True)
                assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= CEILING + 1e-6
            elif path.suffix == ".mid":
                pretty_midi.PrettyMIDI(str(path))


def _event(**changes: Any) -> dict[str, Any]:
    return {**Event(0, 0, "CORE", "kick", 1.0, 4.0).to_json(), **changes}


GRID_1 = build_grid(bpm=120, num_bars=1).to_json()
GRID_2 = build_grid(bpm=120, num_bars=2).to_json()


@pytest.mark.parametrize(
    ("grid", "events", "pool_confidence"),
    [
        pytest.param(GRID_1, [_event(vel=math.nan)], 1.0, id="vel-nan"),
        pytest.param(GRID_1, [_event(micro_offset_ms=math.nan)], 1.0, id="offset-nan"),
        pytest.param(GRID_1, [_event(dur_steps=math.nan)], 1.0, id="dur-nan"),
        pytest.param(GRID_1, [_event(dur_steps=math.inf)], 1.0, id="dur-infinity"),
        pytest.param({**GRID_1, "tstep": math.nan}, [_event()], 1.0, id="grid-tstep-nan"),
        pytest.param({**GRID_1, "bpm": math.nan}, [_event()], 1.0, id="grid-bpm-nan"),
        pytest.param(GRID_1, [_event()], math.nan, id="pool-confidence-nan"),
    ],
)
def test_regression_nan_and_infinity_in_json(
    kit: Kit, grid: Any, events: Any, pool_confidence: float
) -> None:
    pools = Pools({"CORE": [PoolItem("kick", str(kit.files["kick"]), pool_confidence)]})
    with tempfile.TemporaryDirectory() as tmp:
        _run_all_entry_points(Path(tmp), kit, grid=grid, events=events, pools=pools.to_json())


@pytest.mark.parametrize(
    ("grid", "events"),
    [
        pytest.param(GRID_2, [_event(bar=1.0)], id="bar-1.0"),
        pytest.param(GRID_2, [_event(step=4.0)], id="step-4.0"),
        pytest.param({**GRID_2, "num_bars": 2.0}, [_event()], id="num_bars-2.0"),
    ],
)
def test_regression_integral_floats_in_integer_fields(kit: Kit, grid: Any, events: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _run_all_entry_points(Path(tmp), kit, grid=grid, events=events)


@pytest.mark.parametrize("where", ["events", "pools"])
def test_regression_lone_surrogate_in_sample_id(kit: Kit, where: str) -> None:
    sample_id = "\ud800kick"
    events = [_event(sample_id=sample_id if where == "events" else "kick")]
    pools = Pools(
        {"CORE": [PoolItem(sample_id if where == "pools" else "kick", str(kit.files["kick"]), 1)]}
    )
    with tempfile.TemporaryDirectory() as tmp:
        _run_all_entry_points(Path(tmp), kit, grid=GRID_1, events=events, pools=pools.to_json())


def test_regression_grid_bpm_below_midi_tempo_range(kit: Kit) -> None:
    grid = {**build_grid(bpm=120, num_bars=1).to_json(), "bpm": 1.0}
    with tempfile.TemporaryDirectory() as tmp:
        _run_all_entry_points(Path(tmp), kit, grid=grid, events=[_event()])


def test_regression_grid_timing_disagrees_with_bpm(kit: Kit) -> None:
    grid = {**GRID_1, "tbar": 1e12}
    with tempfile.TemporaryDirectory() as tmp:
        _run_all_entry_points(Path(tmp), kit, grid=grid, events=[_event()])


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_regression_non_finite_samples_in_audio(kit: Kit, bad: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "broken.wav"
        audio = np.tile(np.array([[0.5], [bad], [0.2]], np.float32), (100, 1))
        soundfile.write(path, audio, 44100, subtype="FLOAT")
        pools = Pools({"CORE": [PoolItem("kick", str(path), 1.0)]})
        grid = build_grid(bpm=120, num_bars=1)
        try:
            wav = render_wav_bytes(
                [Event(0, 0, "CORE", "kick", 1.0, 4.0)], grid, pools=pools, pools_dir=None,
                sample_root=None, sr=8000,
            )  # fmt: skip
        except DrumgenxError:
            return
        check_wav(wav, [Event(0, 0, "CORE", "kick", 1.0, 4.0)], grid, sr=8000, swing=0, loop=False)


@pytest.mark.parametrize("sample_id", ["kick\nsnare", "kick\r", "kick\u2028"])
def test_regression_line_break_in_sample_id_breaks_the_message(kit: Kit, sample_id: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _run_all_entry_points(
            Path(tmp),
            kit,
            grid=GRID_1,
            events=[_event(sample_id=sample_id)],
            pools={**Pools().to_json(), "counts": {}},
        )
