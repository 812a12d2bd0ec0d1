"""The GMD style library: the shipped one loads and holds only GMD train performances; styles
are listed and picked by tempo; patterns and fills are drawn reproducibly from a seed; an
unknown style or a broken file is one line."""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import asdict
from pathlib import Path

import pytest

from drumgenx.core.errors import FormatError, ParameterError
from drumgenx.core.pools import seeded_rng
from drumgenx.skeleton import styles
from drumgenx.skeleton.styles import (
    MIN_PICK_PATTERNS,
    StyleHit,
    StylePattern,
    hit_tokens,
    list_styles,
    load_library,
    loop_hits,
    pick_fill,
    pick_pattern,
    pick_style,
)
from drumgenx.training.settings import StyleLibrarySettings
from drumgenx.training.styles import DATASET, encode_library

GMD_INFO = Path(__file__).resolve().parents[3] / "shared" / "data" / "gmd" / "info.csv"


def _pattern(gmd_id: str, bpm: float, hits: list[StyleHit], *, bars: int = 2) -> StylePattern:
    return StylePattern(gmd_id, f"{gmd_id}.mid", "x/y", bpm, 0, bars, hit_tokens(hits))


def _style(bpms: list[float], fills: int = 0, median: float | None = None) -> dict:
    beat = [StyleHit(0, "CORE", 100, 0.0), StyleHit(20, "ACCENT", 90, 0.12)]
    fill = [StyleHit(12, "FILL", 80, -0.05), StyleHit(14, "FILL", 90, 0.0)]
    return {
        "bpm_min": min(bpms),
        "bpm_max": max(bpms),
        "bpm_median": median if median is not None else sorted(bpms)[len(bpms) // 2],
        "performances": len(bpms),
        "patterns": [_pattern(f"d/s/{i}", b, beat).to_json() for i, b in enumerate(bpms)],
        "fills": [_pattern(f"d/f/{i}", bpms[0], fill, bars=1).to_json() for i in range(fills)],
    }


def write_library(path: Path, library_styles: dict) -> Path:
    data = {
        "format": "drumgenx-style-library",
        "version": 1,
        "command": "drumgenx train styles --gmd g --out o",
        "source": {"dataset": DATASET, "split": "train", "info_csv_sha256": "0" * 64},
        "settings": {"beat_bars": 2, "min_hits": 4},
        "steps_per_bar": 16,
        "hit_format": styles.HIT_FORMAT,
        "styles": library_styles,
    }
    path.write_bytes(encode_library(data))
    return path


# --- the shipped library ---------------------------------------------------------------------


def test_the_shipped_library_loads_lists_its_styles_and_says_how_it_was_built() -> None:
    library = load_library()
    assert load_library() is library  # read once per process
    assert styles.LIBRARY_PATH.stat().st_size < 1.5e6
    assert library.command.startswith("drumgenx train styles --gmd ")
    assert library.source["split"] == "train" and library.source["dataset"] == DATASET
    assert library.settings == asdict(StyleLibrarySettings())  # built with the defaults
    listed = list_styles()
    assert [s.name for s in listed] == sorted(s.name for s in listed)
    assert {"rock", "funk", "jazz", "latin", "hiphop"} <= {s.name for s in listed}
    for style in listed:
        assert style.patterns and style.bpm_min <= style.bpm_median <= style.bpm_max
        assert all(p.bars == 2 for p in style.patterns) and all(f.bars == 1 for f in style.fills)
        assert "/" not in style.name
    rock = library.get("rock")
    assert len(rock.patterns) > 1000 and len(rock.fills) > 50
    hits = rock.patterns[0].hits
    assert all(0 <= h.step < 32 and 1 <= h.velocity <= 127 for h in hits)
    assert all(-0.5 <= h.offset <= 0.5 for h in hits)
    assert any(h.offset != 0 for h in hits)  # the drummer's timing is kept


def test_the_shipped_library_holds_no_validation_or_test_performance() -> None:
    if not GMD_INFO.is_file():
        pytest.skip(f"GMD info.csv not found at {GMD_INFO} (the ../shared checkout)")
    with open(GMD_INFO, newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    seen = set()
    for style in list_styles():
        for pattern in (*style.patterns, *style.fills):
            row = rows[pattern.gmd_id]
            assert row["split"] == "train", pattern.gmd_id
            assert row["midi_filename"] == pattern.midi_filename
            assert row["style"] == pattern.gmd_style and row["style"].split("/")[0] == style.name
            assert float(row["bpm"]) == pattern.bpm and row["time_signature"] == "4-4"
            seen.add(pattern.gmd_id)
    assert len(seen) > 500


def test_pick_style_fits_the_tempo_and_picks_are_reproducible() -> None:
    for bpm in (70, 95, 110, 120, 140, 170):
        style = pick_style(bpm)
        assert style.bpm_min <= bpm <= style.bpm_max
        assert len(style.patterns) >= MIN_PICK_PATTERNS
    rock = styles.get_style("rock")
    first = pick_pattern("rock", seeded_rng(7, "style:pattern"), bpm=120)
    assert first == pick_pattern(rock, seeded_rng(7, "style:pattern"), bpm=120)
    drawn = {
        pick_pattern(rock, seeded_rng(seed, "p"), bpm=120).origin()["gmd_id"] for seed in range(20)
    }
    assert len(drawn) > 5  # the seed picks the pattern
    for seed in range(20):
        assert abs(pick_pattern(rock, seeded_rng(seed, "p"), bpm=120).bpm - 120) <= 18
    fill = pick_fill("rock", seeded_rng(7, "style:fill"))
    assert fill is not None and fill == pick_fill("rock", seeded_rng(7, "style:fill"))


def test_an_unknown_style_lists_the_known_ones() -> None:
    with pytest.raises(ParameterError, match=r"style 'polka' is not in the style library; known"):
        styles.get_style("polka")
    with pytest.raises(ParameterError, match="rock") as caught:
        pick_pattern("polka", seeded_rng(1, "p"))
    assert "funk, " in str(caught.value) and "\n" not in str(caught.value)


# --- rules, on small libraries ---------------------------------------------------------------


def test_pick_style_prefers_the_range_that_holds_the_tempo_then_the_nearest_median(
    tmp_path: Path,
) -> None:
    many = MIN_PICK_PATTERNS
    library = load_library(
        write_library(
            tmp_path / "s.json.gz",
            {
                "wide": _style([60] + [100] * (many - 2) + [200], median=100),
                "fast": _style([130] * many + [160]),
                "tiny": _style([118, 122]),  # too few patterns to be picked unasked
            },
        )
    )
    assert pick_style(120, library).name == "wide"  # inside wide only (tiny is too small)
    assert pick_style(150, library).name == "fast"  # inside both: fast's median is nearer
    assert pick_style(40, library).name == "wide"  # inside none: wide's range is nearest
    assert pick_style(250, library).name == "wide"  # 50 outside wide, 90 outside fast
    alone = load_library(write_library(tmp_path / "t.json.gz", {"tiny": _style([118, 122])}))
    assert pick_style(120, alone).name == "tiny"  # no style has enough: all may be picked


def test_pick_style_ties_go_to_more_patterns_then_the_name(tmp_path: Path) -> None:
    many = MIN_PICK_PATTERNS
    equal = {"b": _style([100] * many), "a": _style([100] * many)}
    more = {**equal, "c": _style([100] * (many + 1))}
    assert pick_style(100, load_library(write_library(tmp_path / "m.json.gz", more))).name == "c"
    assert pick_style(100, load_library(write_library(tmp_path / "e.json.gz", equal))).name == "a"


def test_pick_pattern_keeps_to_the_tempo_and_pick_fill_may_find_none(tmp_path: Path) -> None:
    library = load_library(
        write_library(tmp_path / "s.json.gz", {"x": _style([80, 100, 120, 140], fills=0)})
    )
    style = library.get("x")
    picked = {pick_pattern(style, seeded_rng(s, "p"), bpm=100).bpm for s in range(30)}
    assert picked == {100.0}  # 85..115: only the 100 bpm pattern
    assert {pick_pattern(style, seeded_rng(s, "p"), bpm=300).bpm for s in range(30)} == {
        80.0,
        100.0,
        120.0,
        140.0,
    }  # none near: any
    assert pick_fill(style, seeded_rng(1, "f")) is None


def test_loop_hits_repeat_the_pattern_and_play_a_fill_from_its_first_hit(tmp_path: Path) -> None:
    beat = [StyleHit(s, "MOTION", 60, 0.1) for s in range(0, 32, 2)] + [
        StyleHit(16, "CORE", 100, 0.0)
    ]
    pattern = _pattern("d/s/1", 100, beat)
    fill = _pattern(
        "d/f/1", 100, [StyleHit(10, "FILL", 90, -0.2), StyleHit(12, "ACCENT", 80, 0.0)], bars=1
    )
    hits = loop_hits(pattern, bars=3, fills={2: fill, 1: None})
    assert [(bar, h.step, h.role) for bar, h in hits if bar < 2] == [
        (0, s, "MOTION") for s in range(0, 16, 2)
    ] + [(1, 0, "CORE")] + [(1, s, "MOTION") for s in range(0, 16, 2)]
    assert [(h.step, h.role) for bar, h in hits if bar == 2] == [
        *((s, "MOTION") for s in range(0, 10, 2)),
        (10, "FILL"),
        (12, "ACCENT"),
    ]
    fill_hit = next(h for bar, h in hits if h.role == "FILL")
    assert fill_hit.offset_ms(0.125) == -25.0 and fill_hit.vel == pytest.approx(89 / 126)
    with pytest.raises(ParameterError, match="bars must be at least 1"):
        loop_hits(pattern, bars=0)


def test_hit_tokens_round_trip() -> None:
    hits = [
        StyleHit(0, "CORE", 127, -0.5),
        StyleHit(63, "FILL", 1, 0.5),
        StyleHit(7, "MOTION", 64, 0.0),
    ]
    assert hit_tokens(hits) == "0C127-50 63F1+50 7M64+0"
    assert [StyleHit.from_json(t) for t in hit_tokens(hits).split()] == hits
    with pytest.raises(ValueError, match="not a hit token"):
        StyleHit.from_json("3X10+0")


# --- broken files ------------------------------------------------------------------------------


def test_a_broken_library_is_one_line_naming_the_file_and_the_field(tmp_path: Path) -> None:
    good = write_library(tmp_path / "good.json.gz", {"x": _style([100, 120])})
    data = json.loads(gzip.decompress(good.read_bytes()))
    data["styles"]["x"]["patterns"][0]["hits"] = "0C100+0 99C100+0"  # step 99
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(gzip.compress(json.dumps(data).encode()))
    with pytest.raises(
        FormatError,
        match=r"bad\.json\.gz: not a valid styles file: field 'styles\.x\.patterns\[0\]\.hits'",
    ):
        load_library(bad)
    data["styles"]["x"]["patterns"][0]["hits"] = "0C100+0"
    data["styles"]["x"]["patterns"][0]["bpm"] = 300
    outside = tmp_path / "outside.json.gz"
    outside.write_bytes(gzip.compress(json.dumps(data).encode()))
    with pytest.raises(
        FormatError, match=r"field 'styles\.x\.patterns\[0\]\.bpm': 300 lies outside"
    ):
        load_library(outside)
    truncated = tmp_path / "truncated.json.gz"
    truncated.write_bytes(good.read_bytes()[:50])
    with pytest.raises(FormatError, match=r"truncated\.json\.gz: cannot read"):
        load_library(truncated)
    with pytest.raises(FormatError, match="no such file"):
        load_library(tmp_path / "missing.json.gz")


def test_a_hit_past_its_bars_is_refused_when_read(tmp_path: Path) -> None:
    pattern = StylePattern("d/s/1", "f.mid", "x", 100, 0, 1, "0C100+0 20A90+0")
    with pytest.raises(FormatError, match="step 20 lies past its 1 bar"):
        _ = pattern.hits
