"""The run layout: where `drumgenx run` puts files, and finding a run's pools and library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drumgenx.core.layout import (
    STATE_DIR,
    find_run_files,
    find_run_root,
    library_folder,
    library_numbers,
    run_records,
    stage_folder,
)


def _record(out: Path, n: int, *, grid: str, events: str, pools: str, library: str) -> Path:
    """A run_N.json with the stage outputs `find_run_files` reads (paths under ``out``)."""
    stages = [
        {"stage": "preprocess", "outputs": {"library": library}},
        {"stage": "roles", "outputs": {"pools": pools}},
        {"stage": "skeleton", "outputs": {"grid": grid, "event_grid": events}},
        {"stage": "groove", "outputs": {"event_grid": f"groove/event_grid_groovae_{n}.json"}},
    ]
    path = out / f"run_{n}.json"
    path.write_text(json.dumps({"stages": stages}))
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Two runs in one folder: run 1 on library_1/pools_1, run 2 (a new stage 1) on _2."""
    out = tmp_path / "output"
    (out / STATE_DIR).mkdir(parents=True)
    for n in (1, 2):
        library_folder(out, n).mkdir()
        for stage, name in (("roles", "pools"), ("skeleton", "grid"), ("skeleton", "event_grid")):
            stage_folder(out, stage).mkdir(exist_ok=True)
            (stage_folder(out, stage) / f"{name}_{n}.json").write_text("{}")
        stage_folder(out, "groove").mkdir(exist_ok=True)
        (stage_folder(out, "groove") / f"event_grid_groovae_{n}.json").write_text("[]")
        _record(
            out,
            n,
            grid=f"skeleton/grid_{n}.json",
            events=f"skeleton/event_grid_{n}.json",
            pools=f"roles/pools_{n}.json",
            library=f"library_{n}",
        )
    return out


def test_layout_names() -> None:
    """The folder names the README's layout and `drumgenx run` use."""
    assert stage_folder("o", "groove") == Path("o/groove")
    assert library_folder("o", 3) == Path("o/library_3")
    with pytest.raises(ValueError, match="stage must be one of"):
        stage_folder("o", "preprocess")  # stage 1 writes library_K, not a stage folder


def test_records_and_libraries_are_numbered(out: Path) -> None:
    (out / "run_10.json").write_text("{}")  # numeric order, not name order
    (out / "run_x.json").write_text("{}")
    assert [p.name for p in run_records(out)] == ["run_10.json", "run_2.json", "run_1.json"]
    assert library_numbers(out) == [1, 2]
    assert run_records(out / "nowhere") == []


def test_find_run_root_walks_up(out: Path, tmp_path: Path) -> None:
    """From a stage file, a nested edit or the folder itself; nothing outside a run."""
    deep = out / "groove" / "edits" / "event_grid_edit_1.json"
    for path in (out / "groove" / "event_grid_groovae_1.json", deep, out):
        assert find_run_root(path) == out
    assert find_run_root(tmp_path / "elsewhere.json") is None


def test_find_run_root_needs_records_and_a_run(tmp_path: Path) -> None:
    """A folder with only the stage records (a run that never finished) is not a run root."""
    (tmp_path / "o" / STATE_DIR).mkdir(parents=True)
    assert find_run_root(tmp_path / "o" / "skeleton" / "grid_1.json") is None
    (tmp_path / "o" / "run_1.json").write_text("{}")
    assert find_run_root(tmp_path / "o" / "skeleton" / "grid_1.json") == tmp_path / "o"


def test_find_run_root_is_relative_under_the_current_folder(out, monkeypatch) -> None:
    monkeypatch.chdir(out.parent)
    assert find_run_root(Path("output/groove/event_grid_groovae_1.json")) == Path("output")


def test_find_run_files_takes_the_record_listing_the_file(out: Path) -> None:
    """The grid of run 1 gives run 1's pools and library although run 2 is newer."""
    files = find_run_files(out / "groove" / "event_grid_edit_1.json", out / "skeleton/grid_1.json")
    assert files is not None and files.matched
    assert files.record == out / "run_1.json"
    assert (files.pools, files.library) == (out / "roles/pools_1.json", out / "library_1")

    files = find_run_files(out / "skeleton" / "event_grid_2.json")
    assert files is not None and files.record == out / "run_2.json"
    assert files.pools == out / "roles/pools_2.json"


def test_find_run_files_falls_back_to_the_newest_record(out: Path) -> None:
    """A file no record lists (an edit): the newest run's pools and library."""
    files = find_run_files(out / "groove" / "event_grid_edit_4.json")
    assert files is not None and not files.matched
    assert (files.record, files.pools, files.library) == (
        out / "run_2.json",
        out / "roles/pools_2.json",
        out / "library_2",
    )


def test_find_run_files_missing_files_and_damaged_records(out: Path, tmp_path: Path) -> None:
    """A file the record names that is gone is None; an unreadable record is passed over."""
    (out / "roles" / "pools_2.json").unlink()
    files = find_run_files(out / "skeleton" / "grid_2.json")
    assert files is not None and files.pools is None and files.library == out / "library_2"

    (out / "run_3.json").write_text("{not json")
    files = find_run_files(out / "groove" / "event_grid_edit_1.json")
    assert files is not None and files.record == out / "run_2.json"

    assert find_run_files(tmp_path / "loose" / "event_grid_1.json") is None
