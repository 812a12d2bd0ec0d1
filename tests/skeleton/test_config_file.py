"""``drumgenx skeleton --config FILE``: the file over the defaults, the flags given over both."""

from __future__ import annotations

from pathlib import Path

import pytest

from drumgenx import cli
from drumgenx.skeleton.cli_args import pattern_settings
from drumgenx.skeleton.settings import PatternSettings


def _settings(*argv: str) -> PatternSettings:
    args = cli.build_parser().parse_args(["skeleton", "--out_dir", "o", "--bpm", "120", *argv])
    return pattern_settings(args)


def test_the_file_changes_settings_and_a_flag_given_beats_it(tmp_path: Path) -> None:
    config = tmp_path / "pattern.yaml"
    config.write_text("motion_mode: A\nfill_prob: 0.5\nseed: 7\ntexture: false\n")
    assert _settings() == PatternSettings()
    assert _settings("--config", str(config)) == PatternSettings(
        motion_mode="A", fill_prob=0.5, seed=7, texture=False
    )
    # a flag beats the file, even at its default value
    got = _settings("--config", str(config), "--seed", "42", "--texture", "1", "--bars", "2")
    assert got == PatternSettings(motion_mode="A", fill_prob=0.5, seed=42, texture=True, bars=2)


@pytest.mark.parametrize(
    ("text", "key"), [("motion_keeep: 5\n", "motion_keeep"), ("fill_prob: lots\n", "fill_prob")]
)
def test_unknown_keys_and_wrong_types_are_one_line_naming_file_and_key(
    capsys, tmp_path: Path, text: str, key: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    argv = ["skeleton", "--out_dir", str(tmp_path / "o"), "--bpm", "120", "--config", str(bad)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and key in err
    assert not (tmp_path / "o").exists()
