"""``drumgenx styles``: the style library's table, and a broken library in one line."""

from __future__ import annotations

import gzip
from pathlib import Path

from drumgenx.cli import main
from drumgenx.skeleton.styles import load_library


def test_drumgenx_styles_prints_the_table(capsys) -> None:
    assert main(["styles"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["style", "patterns", "fills"] and "bpm range" in lines[0]
    rock = next(line.split() for line in lines if line.startswith("rock "))
    style = load_library().get("rock")
    assert rock[:4] == [
        "rock",
        str(len(style.patterns)),
        str(len(style.fills)),
        f"{style.bpm_min:g}-{style.bpm_max:g}",
    ]
    assert "train split only" in lines[-1]


def test_drumgenx_styles_with_a_broken_library_is_one_line(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(gzip.compress(b'{"format": "drumgenx-style-library"}'))
    assert main(["styles", "--library", str(broken)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"drumgenx: error: {broken.resolve()}: not a valid styles file")
        and err.count("\n") == 1
    )
