"""Pictures from files: loading, validation, versioned PNGs that never overwrite."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from matplotlib.image import imread

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.formats import dump_json
from drumgenx.core.records import Event, events_to_json
from drumgenx.core.roles import ROLES
from drumgenx.pictures.run import chosen_sample_ids, plot_library_file, plot_step_grid_file
from drumgenx.skeleton.grid import build_grid

PROBS = {role: 0.2 for role in ROLES}


@pytest.fixture
def pattern(tmp_path: Path) -> dict[str, Path]:
    """A 2-bar grid with a skeleton and a humanized version of it, as stage 3 and 4 write."""
    grid = build_grid(bpm=100, num_bars=2)
    skeleton = [Event(b, s, "CORE", "kick", 0.9, 4.0) for b in range(2) for s in (0, 8)]
    skeleton += [Event(b, 4, "ACCENT", "snare", 1.0, 4.0) for b in range(2)]
    humanized = [
        Event(e.bar, e.step, e.role, e.sample_id, e.vel * 0.8, e.dur_steps, -9.0, "groovae")
        for e in skeleton
    ]
    files = {
        "grid": tmp_path / "grid_1.json",
        "skeleton": tmp_path / "event_grid_1.json",
        "groove": tmp_path / "event_grid_groovae_1.json",
    }
    files["grid"].write_bytes(dump_json(grid.to_json()))
    files["skeleton"].write_bytes(dump_json(events_to_json(skeleton)))
    files["groove"].write_bytes(dump_json(events_to_json(humanized)))
    return files


def _sample(sample_id: str, role: str, centroid: float) -> dict:
    return {
        "sample_id": sample_id,
        "filepath": f"in/{sample_id}.wav",
        "features": {"spectral_centroid_hz": centroid, "attack_time_ms": centroid / 1000},
        "p_rule": PROBS,
        "p_clap": None,
        "p_model": None,
        "weights": {"rule": 1.0},
        "p_fused": PROBS,
        "guard_actions": [],
        "role": role,
        "confidence": 0.2,
    }


@pytest.fixture
def library(tmp_path: Path) -> dict[str, Path]:
    per_sample = {
        "drumgenx_version": "0",
        "input_dir": "in",
        "config": {},
        "clap": "off",
        "samples": [
            _sample("kick", "CORE", 120.0),
            _sample("snare", "ACCENT", 1800.0),
            _sample("hat", "MOTION", 9000.0),
        ],
        "skipped": [],
    }
    meta = {
        "drumgenx_version": "0",
        "seed": 42,
        "params": {},
        "pools_source": "pools_1.json",
        "chosen": {
            "CORE": [{"sample_id": "kick", "filepath": "in/kick.wav", "confidence": 0.9}],
            "ACCENT": [
                {"sample_id": "snare", "filepath": "in/snare.wav", "confidence": 0.9},
                {"sample_id": "kick", "filepath": "in/kick.wav", "confidence": 0.1},
            ],
        },
        "notices": [],
    }
    paths = {"per_sample": tmp_path / "per_sample_1.json", "meta": tmp_path / "meta_1.json"}
    paths["per_sample"].write_bytes(dump_json(per_sample))
    paths["meta"].write_bytes(dump_json(meta))
    return paths


def _is_png(path: Path) -> bool:
    return imread(io.BytesIO(path.read_bytes()), format="png").ndim == 3


def test_step_grid_file_writes_new_versions_and_never_overwrites(
    pattern: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "pictures"
    panels = [("skeleton", pattern["skeleton"]), ("GrooVAE humanize", pattern["groove"])]
    first = plot_step_grid_file(pattern["grid"], panels, out_dir=out)
    assert first == out / "grid_picture_1.png" and _is_png(first)
    before = first.read_bytes()
    second = plot_step_grid_file(pattern["grid"], panels[:1], out_dir=out)
    assert second == out / "grid_picture_2.png"
    assert first.read_bytes() == before and second.read_bytes() != before
    (out / "grid_picture_7.png").write_bytes(b"someone else's")
    assert plot_step_grid_file(pattern["grid"], panels, out_dir=out).name == "grid_picture_8.png"
    assert (out / "grid_picture_7.png").read_bytes() == b"someone else's"
    other = plot_step_grid_file(pattern["grid"], panels, out_dir=out, family="groove_view")
    assert other.name == "groove_view_1.png"


def test_events_from_another_grid_are_refused_and_nothing_is_written(
    pattern: dict[str, Path], tmp_path: Path
) -> None:
    stray = tmp_path / "event_grid_9.json"
    stray.write_bytes(dump_json(events_to_json([Event(5, 0, "CORE", "kick", 1.0, 1.0)])))
    out = tmp_path / "pictures"
    with pytest.raises(DrumgenxError, match=r"event_grid_9\.json.*2 bars"):
        plot_step_grid_file(pattern["grid"], [("late", stray)], out_dir=out)
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize("broken", ["grid", "skeleton"])
def test_a_malformed_file_is_a_one_line_user_error(
    pattern: dict[str, Path], tmp_path: Path, broken: str
) -> None:
    text = pattern[broken].read_text()
    pattern[broken].write_text(text[: len(text) // 2])  # truncated mid-write
    with pytest.raises(DrumgenxError) as caught:
        plot_step_grid_file(
            pattern["grid"], [("s", pattern["skeleton"])], out_dir=tmp_path / "pictures"
        )
    assert pattern[broken].name in str(caught.value) and "\n" not in str(caught.value)


def test_step_grid_file_refuses_bad_requests(pattern: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(DrumgenxError, match="at least one"):
        plot_step_grid_file(pattern["grid"], [], out_dir=tmp_path)
    with pytest.raises(DrumgenxError, match="family"):
        plot_step_grid_file(
            pattern["grid"], [("s", pattern["skeleton"])], out_dir=tmp_path, family="../up"
        )
    with pytest.raises(DrumgenxError, match="no such file"):
        plot_step_grid_file(pattern["grid"], [("s", tmp_path / "nope.json")], out_dir=tmp_path)


def test_library_file_marks_the_skeletons_chosen_samples(
    library: dict[str, Path], tmp_path: Path
) -> None:
    assert chosen_sample_ids(library["meta"]) == ["kick", "snare"]  # once each, role order
    out = tmp_path / "pictures"
    plain = plot_library_file(library["per_sample"], out_dir=out)
    marked = plot_library_file(
        library["per_sample"], out_dir=out, skeleton_meta_json=library["meta"]
    )
    assert (plain.name, marked.name) == ("library_map_1.png", "library_map_2.png")
    assert _is_png(plain) and _is_png(marked)
    assert plain.read_bytes() != marked.read_bytes()


def test_library_file_errors(library: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(DrumgenxError, match="not a valid per_sample"):
        plot_library_file(library["meta"], out_dir=tmp_path)  # a skeleton_meta, not per_sample
    with pytest.raises(DrumgenxError, match="not a valid skeleton_meta"):
        plot_library_file(
            library["per_sample"], out_dir=tmp_path, skeleton_meta_json=library["per_sample"]
        )
    library["per_sample"].write_text("{")
    with pytest.raises(DrumgenxError, match="not valid JSON"):
        plot_library_file(library["per_sample"], out_dir=tmp_path)
    empty = tmp_path / "per_sample_2.json"
    empty.write_bytes(
        dump_json(
            {
                "drumgenx_version": "0",
                "input_dir": "in",
                "config": {},
                "clap": "off",
                "samples": [],
                "skipped": [{"filepath": "in/x.wav", "reason": "silent"}],
            }
        )
    )
    with pytest.raises(DrumgenxError, match="no samples to map"):
        plot_library_file(empty, out_dir=tmp_path)
    assert not list(tmp_path.glob("library_map_*.png"))


def test_each_picture_is_titled_with_the_files_it_drew(
    pattern: dict[str, Path], library: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:
    import drumgenx.pictures.run as run

    drawn: dict[str, dict] = {}

    def spy(name: str, real):
        def draw(*args, **kwargs):
            drawn[name] = {"args": args, **kwargs}
            return real(*args, **kwargs)

        return draw

    monkeypatch.setattr(run, "step_grid_png", spy("grid", run.step_grid_png))
    monkeypatch.setattr(run, "library_map_png", spy("library", run.library_map_png))
    panels = [("skeleton", pattern["skeleton"]), ("GrooVAE vary", pattern["groove"])]
    plot_step_grid_file(pattern["grid"], panels, out_dir=tmp_path / "pictures")
    title = drawn["grid"]["title"]
    assert title.startswith("event_grid_1.json, event_grid_groovae_1.json  ·  100 BPM")
    assert "grid_1.json" not in title.replace("event_grid_1.json", "")  # not the beat grid
    labels = [label for label, _ in drawn["grid"]["args"][0]]
    assert labels == [
        "skeleton  ·  event_grid_1.json",
        "GrooVAE vary  ·  event_grid_groovae_1.json",
    ]
    plot_step_grid_file(pattern["grid"], [("", pattern["groove"])], out_dir=tmp_path / "p")
    assert drawn["grid"]["title"].startswith("event_grid_groovae_1.json  ·  ")
    assert [label for label, _ in drawn["grid"]["args"][0]] == ["event_grid_groovae_1.json"]
    plot_library_file(library["per_sample"], out_dir=tmp_path / "pictures")
    assert drawn["library"]["title"].startswith("per_sample_1.json · sample library · in")
