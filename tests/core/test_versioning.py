"""Versioned outputs: next N, shared N across families, never overwrite, atomic, concurrent."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from drumgenx.core.errors import OutputExistsError
from drumgenx.core.versioning import (
    latest_version,
    reserve_version,
    write_new_files,
    write_versioned,
)


def test_first_version_is_1_and_next_is_one_higher_than_any(tmp_path: Path) -> None:
    assert write_versioned(tmp_path, {"grid": (".json", b"{}")})[0] == 1
    (tmp_path / "grid_7.json").write_bytes(b"{}")
    n, paths = write_versioned(tmp_path, {"grid": (".json", b"{}")})
    assert n == 8 and paths["grid"] == tmp_path / "grid_8.json"


def test_families_of_one_run_share_n_above_all_of_them(tmp_path: Path) -> None:
    (tmp_path / "render_4.wav").write_bytes(b"x")
    n, paths = write_versioned(tmp_path, {"grid": (".json", b"1"), "render": (".wav", b"2")})
    assert n == 5
    assert paths["grid"].read_bytes() == b"1" and paths["render"].read_bytes() == b"2"


def test_family_match_is_exact(tmp_path: Path) -> None:
    """event_grid_groovae_9 and event_grid_edit_3 are other families than event_grid."""
    for name in ("event_grid_groovae_9.json", "event_grid_edit_3.json", "xevent_grid_5.json"):
        (tmp_path / name).write_bytes(b"[]")
    assert latest_version(tmp_path, ["event_grid"]) == 0
    assert latest_version(tmp_path, ["event_grid_edit"]) == 3


def test_existing_file_is_never_replaced_and_nothing_is_left(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_bytes(b"old")
    with pytest.raises(OutputExistsError):
        write_new_files({tmp_path / "a.json": b"new-a", tmp_path / "b.json": b"new-b"})
    assert (tmp_path / "b.json").read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["b.json"]  # a.json rolled back, no temp files


def test_reservation_is_released_and_skipped_while_held(tmp_path: Path) -> None:
    with (
        reserve_version(tmp_path, ["grid"]) as first,
        reserve_version(tmp_path, ["grid"]) as second,
    ):
        assert (first, second) == (1, 2)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".reserved")]


def test_interrupted_write_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C between the temp write and the link: no final file, no temp file."""

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "link", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_versioned(tmp_path, {"grid": (".json", b"{}")})
    assert os.listdir(tmp_path) == []


def _write_one(args: tuple[str, int]) -> int:
    folder, worker = args
    n, _ = write_versioned(
        folder,
        {"grid": (".json", f"{worker}".encode()), "event_grid": (".json", f"{worker}".encode())},
    )
    return n


def test_concurrent_runs_get_distinct_versions(tmp_path: Path) -> None:
    """Many processes started together: all N distinct, every file complete and paired."""
    workers = 24
    with multiprocessing.get_context("fork").Pool(8) as pool:
        numbers = pool.map(_write_one, [(str(tmp_path), w) for w in range(workers)])
    assert sorted(numbers) == list(range(1, workers + 1))
    for n in numbers:
        assert (tmp_path / f"grid_{n}.json").read_bytes() == (
            tmp_path / f"event_grid_{n}.json"
        ).read_bytes()
    assert len(os.listdir(tmp_path)) == 2 * workers


def test_weights_sha256_identifies_the_bytes_and_names_a_missing_file(tmp_path: Path) -> None:
    from drumgenx.core.errors import DrumgenxError
    from drumgenx.core.versioning import file_sha256, weights_sha256

    weights = tmp_path / "w.npz"
    weights.write_bytes(b"weights")
    assert weights_sha256(weights, "model") == file_sha256(weights)
    with pytest.raises(DrumgenxError) as info:
        weights_sha256(tmp_path / "gone.npz", "learned role scorer")
    message = str(info.value)
    assert message.startswith("learned role scorer: cannot read ") and "gone.npz" in message
    assert "\n" not in message
