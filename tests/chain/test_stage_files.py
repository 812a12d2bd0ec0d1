"""``drumgenx run --skeleton_config / --groove_config``: stage 3's and 4's YAML files under
the run's defaults and over the typed flags, in the stage keys and in ``config show``."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile

from drumgenx import cli
from drumgenx.chain.cli_args import chain_params
from drumgenx.chain.run import STAGES, ChainParams
from drumgenx.kit.run import write_kit


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("input")
    write_kit(folder / "kit")
    return folder


def _run(capsys, *argv: str) -> dict[str, bool]:
    """Stage -> reused, from the run's lines."""
    assert cli.main(["run", *argv]) == 0
    lines = capsys.readouterr().out.splitlines()
    return {
        stage: next(line for line in lines if line.startswith(f"{stage}: ")).endswith("(reused)")
        for stage in STAGES
    }


def _params(*argv: str) -> ChainParams:
    args = cli.build_parser().parse_args(["run", "in", "--out", "o", *argv])
    return chain_params(args)[0]


def test_a_skeleton_file_changes_the_bars_and_redoes_skeleton_and_groove(
    audio_dir: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    first = _run(capsys, str(audio_dir), "--out", str(out), "--bars", "1")
    assert not any(first.values())
    two = tmp_path / "two.yaml"
    two.write_text("bars: 2\n")
    again = _run(capsys, str(audio_dir), "--out", str(out), "--skeleton_config", str(two))
    assert again == {"preprocess": True, "roles": True, "skeleton": False, "groove": False}
    loops = sorted((out / "groove").rglob("*.wav"))
    frames = {soundfile.info(str(p)).frames for p in loops}
    assert 176400 in frames  # 2 bars at 120 bpm, 44.1 kHz: 4 s
    # the same file again: every stage reused
    same = _run(capsys, str(audio_dir), "--out", str(out), "--skeleton_config", str(two))
    assert all(same.values())


def test_a_typed_flag_beats_the_files_and_the_files_reach_every_setting(tmp_path: Path) -> None:
    skeleton = tmp_path / "skeleton.yaml"
    skeleton.write_text("bars: 2\nseed: 7\nmotion_mode: A\ntexture: false\n")
    groove = tmp_path / "groove.yaml"
    groove.write_text("mode: vary\ntemperature: 0.8\n")
    files = ("--skeleton_config", str(skeleton), "--groove_config", str(groove))
    got = _params(*files)
    assert (got.bars, got.seed, got.mode, got.temperature) == (2, 7, "vary", 0.8)
    assert (got.skeleton_params().motion_mode, got.skeleton_params().texture) == ("A", False)
    # typed flags win, even at the run's default value
    got = _params(*files, "--bars", "8", "--seed", "42", "--mode", "humanize")
    assert (got.bars, got.seed, got.mode, got.temperature) == (8, 42, "humanize", 0.8)
    assert ChainParams(bars=2) != ChainParams(bars=2, motion_mode="A")  # in the skeleton key


def test_one_seed_two_files_that_disagree_are_an_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "s.yaml").write_text("seed: 1\n")
    (tmp_path / "g.yaml").write_text("seed: 2\n")
    files = ["--skeleton_config", str(tmp_path / "s.yaml"), "--groove_config"]
    assert cli.main(["config", "show", *files, str(tmp_path / "g.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "one seed" in err
    assert _params(*files, str(tmp_path / "g.yaml"), "--seed", "3").seed == 3


def test_config_show_names_the_file_and_the_flag(tmp_path: Path, capsys) -> None:
    skeleton = tmp_path / "skeleton.yaml"
    skeleton.write_text("bars: 2\nmotion_keep: 5\nseed: 7\n")
    groove = tmp_path / "groove.yaml"
    groove.write_text("temperature: 0.9\nmode: vary\n")
    argv = ["config", "show", "--skeleton_config", str(skeleton), "--groove_config", str(groove)]
    assert cli.main([*argv, "skeleton", "--seed", "42"]) == 0
    text = capsys.readouterr().out
    assert f"bars: 2  # file {skeleton}" in text
    assert f"motion_keep: 5  # file {skeleton}" in text
    assert "seed: 42  # --seed" in text  # typed at its default, over the file's 7
    assert "fill_prob: 0.25  # default" in text
    assert cli.main([*argv, "groove", "--mode", "humanize"]) == 0
    text = capsys.readouterr().out
    assert f"temperature: 0.9  # file {groove}" in text
    assert f"seed: 7  # file {skeleton}" in text  # the run's one seed
    assert "mode: humanize  # --mode" in text  # typed, over the file's vary


@pytest.mark.parametrize("option", ["--skeleton_config", "--groove_config"])
def test_an_unknown_key_is_one_line_naming_file_and_key(
    tmp_path: Path, capsys, option: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tempature: 2\n")
    out = tmp_path / "out"
    assert cli.main(["run", str(tmp_path), "--out", str(out), option, str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and "tempature" in err
    assert not out.exists()
    assert cli.main(["config", "show", option, str(bad)]) == 2
    assert "tempature" in capsys.readouterr().err
