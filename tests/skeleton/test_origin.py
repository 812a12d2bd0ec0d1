"""``--pattern`` and ``--bpm auto``: the loop's hits from an input, a style or the seed's rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drumgenx.core.errors import ParameterError
from drumgenx.core.formats import load_events, load_grid, read_json
from drumgenx.core.records import PoolItem, Pools
from drumgenx.core.roles import ROLES
from drumgenx.skeleton.origin import choose_pattern, parse_pattern, source_candidates
from drumgenx.skeleton.patterns import SkeletonParams
from drumgenx.skeleton.run import run_skeleton

CLASS_OF = {"CORE": "kick", "ACCENT": "snare", "MOTION": "hihat", "FILL": "tom"}
# a 2-bar groove: kick on 1 and the "and" of 3 in bar 2, snare on 2 and 4, 8th-note hats
GROOVE = [
    [(0, "CORE"), (8, "CORE"), (4, "ACCENT"), (12, "ACCENT")],
    [(0, "CORE"), (10, "CORE"), (4, "ACCENT"), (12, "ACCENT")],
]
for bar in GROOVE:
    bar += [(s, "MOTION") for s in range(0, 16, 2)]


def groove_hits(bpm: float, n_bars: int, *, start_s: float = 0.5) -> list[dict]:
    """A manifest hit list of GROOVE at ``bpm`` for ``n_bars``, hats softer, 8 ms jitter."""
    rng = np.random.default_rng(0)
    step = 60.0 / bpm / 4
    hits = []
    for b in range(n_bars):
        for s, role in GROOVE[b % 2]:
            probs = dict.fromkeys(("kick", "snare", "hihat", "tom", "cymbal"), 0.02)
            probs[CLASS_OF[role]] = 0.95
            hits.append(
                {
                    "time_s": round(start_s + (16 * b + s) * step + rng.normal(0, 0.004), 6),
                    "strength": 0.5 if role == "MOTION" else 0.9,
                    "class_probs": probs,
                }
            )
    # a kick and a hat together are one hit for stage 1: keep the louder, as the manifest does
    by_time: dict[float, dict] = {}
    for h in hits:
        key = round(h["time_s"] - start_s, 2)
        if key not in by_time or h["strength"] > by_time[key]["strength"]:
            by_time[key] = h
    return sorted(by_time.values(), key=lambda h: h["time_s"])


def transcription(hit_list: list[dict], source: str = "song.wav") -> dict:
    return {
        "files": [{"source": source, "hit_list": hit_list}],
        "samples": [],
        "absorbed_by_existing": [],
    }


def pools_of(n: int = 3) -> Pools:
    return Pools(
        {r: [PoolItem(f"{r}_{i}", f"/lib/{r}_{i}.wav", 0.9) for i in range(n)] for r in ROLES}
    )


def test_parse_pattern() -> None:
    assert parse_pattern("style:funk") == ("style", "funk")
    assert parse_pattern("auto") == ("auto", None)
    for bad in ("styles", "seed:x", "style:", ""):
        with pytest.raises(ParameterError, match="must be seed, source, style"):
            parse_pattern(bad)


def test_source_plays_the_inputs_groove_at_its_tempo() -> None:
    hits = groove_hits(96.0, 12)
    choice = choose_pattern(
        "auto",
        bpm="auto",
        bars=4,
        seed=1,
        fill_bars=[],
        transcription=transcription(hits),
        pools=pools_of(),
    )
    assert choice.kind == "source" and choice.bpm == pytest.approx(96.0, rel=0.02)
    assert choice.origin["section_bars"] == 2 and choice.origin["file"] == "song.wav"
    cells = {(h.bar % 2, h.step, h.role) for h in choice.hits}
    assert {(0, 0, "CORE"), (0, 8, "CORE"), (1, 10, "CORE"), (1, 4, "ACCENT")} <= cells
    assert (1, 8, "CORE") not in cells
    assert max(h.bar for h in choice.hits) == 3
    assert all(abs(h.offset) < 0.3 for h in choice.hits)  # 4 ms of jitter, a step is 156 ms
    assert "song.wav's own" in choice.reason
    fixed = choose_pattern(
        "source",
        bpm=120,
        bars=4,
        seed=1,
        fill_bars=[],
        transcription=transcription(hits),
        pools=pools_of(),
    )
    assert fixed.bpm == 120 and fixed.hits == choice.hits  # offsets in steps: any tempo


def test_no_steady_input_falls_back_to_a_style_with_one_notice() -> None:
    rng = np.random.default_rng(3)
    loose = [{"time_s": float(t), "strength": 0.7} for t in np.sort(rng.uniform(0, 20, 60))]
    args = dict(bars=4, seed=5, fill_bars=[3], transcription=transcription(loose), pools=pools_of())
    asked = choose_pattern("source", bpm="auto", **args)
    assert asked.kind == "style" and asked.bpm == 120.0
    assert asked.notices == [
        "pattern source: no input with a steady drum pattern; a GMD style's pattern instead"
    ]
    auto = choose_pattern("auto", bpm="auto", **args)
    assert auto.kind == "style" and auto.notices == [] and "no input with a steady" in auto.reason
    assert auto.origin["fills"]  # bar 3 closes the phrase with a GMD fill
    assert choose_pattern("auto", bpm="auto", **args).hits == auto.hits  # seeded
    assert choose_pattern("auto", bpm="auto", **{**args, "seed": 6}).origin != auto.origin


def test_a_file_that_is_itself_a_four_bar_loop_plays_its_own_four_bars() -> None:
    """A break of four different bars, cut to the sample (no bar repeats inside it): before
    it was heard end to end, its best section scored under 0.6 and a style came instead."""
    bpm, bars = 140.0, 4
    step = 60.0 / bpm / 4
    kicks = [(0, 10), (0, 2, 10, 11), (2, 8, 14), (0, 6)]
    snares = [(4, 12), (4, 7, 9, 12, 15), (4, 10, 12), (1, 3, 4, 7, 9, 14)]
    hats = [range(0, 16, 2), range(0, 16, 2), range(16), ()]
    hits = []
    for b in range(bars):
        cells = [
            *((s, "CORE") for s in kicks[b]),
            *((s, "ACCENT") for s in snares[b]),
            *((s, "MOTION") for s in hats[b] if s not in kicks[b] + snares[b]),
        ]
        for s, role in cells:
            probs = dict.fromkeys(("kick", "snare", "hihat", "tom", "cymbal"), 0.02)
            probs[CLASS_OF[role]] = 0.95
            hits.append({"time_s": (16 * b + s) * step, "strength": 0.9, "class_probs": probs})
    hits.append({**hits[0], "time_s": bars * 16 * step - 0.01})  # the next turn's kick, cut in
    data = transcription(sorted(hits, key=lambda h: h["time_s"]), "break.wav")
    args = dict(bpm="auto", bars=8, seed=1, fill_bars=[], pools=pools_of())
    data["files"][0]["duration_s"] = bars * 16 * step
    choice = choose_pattern("auto", transcription=data, **args)
    assert choice.kind == "source" and choice.bpm == 140.0
    assert choice.origin["loop_bars"] == 4 and choice.origin["section_bars"] == 4
    assert choice.origin["section_start_s"] == pytest.approx(0.0, abs=0.01)
    assert "a 4-bar loop" in choice.reason
    played = {(h.bar, h.step) for h in choice.hits if h.role == "CORE"}
    assert played == {(b + 4 * turn, s) for turn in (0, 1) for b in range(4) for s in kicks[b]}
    del data["files"][0]["duration_s"]  # a manifest without lengths: heard once, as before
    assert choose_pattern("auto", transcription=data, **args).kind == "style"


def test_style_by_name_and_the_seed_rules() -> None:
    args = dict(bars=2, seed=1, fill_bars=[], transcription=None, pools=pools_of())
    funk = choose_pattern("style:funk", bpm=100, **args)
    assert funk.origin["style"] == "funk" and funk.bpm == 100
    with pytest.raises(ParameterError, match="not in the style library"):
        choose_pattern("style:polka", bpm=100, **args)
    seed = choose_pattern("seed", bpm="auto", **args)
    assert (seed.kind, seed.hits, seed.bpm) == ("seed", None, 120.0)
    steady = choose_pattern(
        "seed", bpm="auto", **{**args, "transcription": transcription(groove_hits(90.0, 8))}
    )
    assert steady.hits is None and steady.bpm == pytest.approx(90.0, rel=0.02)


def test_source_candidates_rank_the_input_that_loops_best() -> None:
    data = transcription(groove_hits(110.0, 8), "a.wav")
    data["files"].append({"source": "b.wav", "hit_list": groove_hits(110.0, 8)[::3]})
    found = source_candidates(data, pools_of())
    assert found[0].source == "a.wav"


def _library(tmp_path: Path) -> tuple[Path, Path]:
    """A stage-1 library (a manifest, no audio) and stage-2 pools whose CORE holds the
    slice cut from the first kick."""
    lib = tmp_path / "lib"
    lib.mkdir()
    hits = groove_hits(100.0, 8)
    manifest = {
        "drumgenx_version": "test",
        "dataset_root": "songs",
        "separator": "none",
        "config": {},
        "samples": [
            {
                "sample_id": "dummy_00001",
                "file": "dummy_00001.wav",
                "source": "songs/song.wav",
                "source_sha256": "0" * 64,
                "start_s": hits[0]["time_s"],
                "end_s": hits[0]["time_s"] + 0.2,
                "onset_strength": 0.9,
                "onset_s": hits[0]["time_s"],
                "absorbed": [],
            }
        ],
        "absorbed_by_existing": [],
        "files": [{"source": "songs/song.wav", "status": "processed", "hit_list": hits}],
        "summary": {},
    }
    (lib / "manifest_1.json").write_text(json.dumps(manifest))
    pools = {
        f"{r}_POOL": [
            {"sample_id": f"{r}_{i}", "filepath": str(lib / f"{r}_{i}.wav"), "confidence": 0.8}
            for i in range(3)
        ]
        for r in ROLES
    }  # the least sure CORE sample: the rotation would take it last
    pools["CORE_POOL"].append(
        {"sample_id": "dummy_00001", "filepath": str(lib / "dummy_00001.wav"), "confidence": 0.3}
    )
    pools["counts"] = {r: len(pools[f"{r}_POOL"]) for r in ROLES}
    (tmp_path / "pools_1.json").write_text(json.dumps(pools))
    return lib, tmp_path / "pools_1.json"


def test_run_skeleton_records_the_choice_and_reproduces_it_from_the_meta(tmp_path: Path) -> None:
    lib, pools = _library(tmp_path)
    told: list[str] = []
    params = SkeletonParams(bars=4, seed=7, pattern="auto")
    first = run_skeleton(
        out_dir=tmp_path / "out", bpm="auto", pools_json=pools, params=params, sample_root=None,
        render=False, notify=told.append,
    )  # fmt: skip
    meta = read_json(first.paths["skeleton_meta"], "skeleton_meta")
    assert meta["pattern"]["kind"] == "source" and meta["pattern"]["file"] == "songs/song.wav"
    assert meta["params"]["bpm"] == pytest.approx(100.0, rel=0.02)
    assert load_grid(first.paths["grid"]).bpm == meta["params"]["bpm"]
    assert any("song.wav's own" in line for line in told)
    events = load_events(first.paths["event_grid"])
    kicks = [e for e in events if e.role == "CORE" and (e.bar, e.step) == (0, 0)]
    assert kicks[0].sample_id == "dummy_00001"  # the slice cut from that very hit
    assert {e.sample_id for e in events if e.role == "ACCENT"} <= {
        "ACCENT_0",
        "ACCENT_1",
        "ACCENT_2",
    }
    # the meta's parameters make the same loop again
    again = {k: v for k, v in meta["params"].items() if k in SkeletonParams.__dataclass_fields__}
    second = run_skeleton(
        out_dir=tmp_path / "out", bpm=meta["params"]["bpm"], pools_json=pools,
        params=SkeletonParams(**again), sample_root=lib, render=False,
    )  # fmt: skip
    assert load_events(second.paths["event_grid"]) == events
