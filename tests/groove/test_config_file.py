"""``drumgenx groove --config FILE``: the file over the defaults, the flags given over both."""

from __future__ import annotations

from pathlib import Path

from drumgenx import cli
from drumgenx.groove.cli_args import groove_settings
from drumgenx.groove.settings import GrooveSettings

STAGE = ["groove", "--grid_json", "g", "--events_json", "e", "--pools_json", "p", "--out_dir"]


def _settings(*argv: str) -> GrooveSettings:
    return groove_settings(cli.build_parser().parse_args([*STAGE, "o", *argv]))


def test_the_file_changes_settings_and_a_flag_given_beats_it(tmp_path: Path) -> None:
    config = tmp_path / "groove.yaml"
    config.write_text("mode: vary\ntemperature: 1\n")
    assert _settings() == GrooveSettings()
    assert _settings("--config", str(config)) == GrooveSettings(mode="vary", temperature=1.0)
    got = _settings("--config", str(config), "--mode", "humanize", "--seed", "3")
    assert got == GrooveSettings(mode="humanize", temperature=1.0, seed=3)


def test_an_unknown_key_is_one_line_naming_file_and_key(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("temprature: 0.3\n")
    assert cli.main([*STAGE, str(tmp_path / "o"), "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and "temprature" in err
