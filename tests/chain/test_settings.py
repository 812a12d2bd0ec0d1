"""`drumgenx config show [STAGE]`: the settings `drumgenx run` uses and where each came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from drumgenx import cli
from drumgenx.chain.run import STAGES, ChainParams
from drumgenx.chain.settings import SECTIONS, show_settings
from drumgenx.core.config import load_config
from drumgenx.roles.rules import RoleConfig, load_role_config


def _show(capsys, *argv: str) -> str:
    assert cli.main(["config", "show", *argv]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def _block(text: str, heading: str) -> str:
    """The lines under the first heading that contains ``heading``, up to the next one."""
    lines = text.split(heading, 1)[1].splitlines()[1:]
    return "\n".join(line for line in _until_heading(lines)) + "\n"


def _until_heading(lines: list[str]):
    for line in lines:
        if line.startswith("# ") or not line:
            return
        yield line


def test_every_stage_has_a_section_and_all_are_shown_by_default(capsys) -> None:
    assert ("run", *STAGES) == SECTIONS
    text = _show(capsys)
    for heading in ("# run", "# preprocess", "# roles", "# skeleton", "# groove"):
        assert heading in text
    assert "# preprocess" not in _show(capsys, "roles")
    assert "config" in cli.build_parser().format_help()  # listed with the other commands


def test_sources_default_file_and_flag(capsys, tmp_path: Path) -> None:
    config = tmp_path / "mine.yaml"
    config.write_text("fusion:\n  alpha: 0.5\nrules:\n  temperature: 0.2\n")
    text = _show(capsys, "roles", "--config", str(config), "--clap_model", "/models/clap")
    assert f"  alpha: 0.5  # {config}" in text
    assert f"  temperature: 0.2  # {config}" in text
    assert "  model_weight: 2.0  # default" in text
    assert "clap_model: /models/clap  # --clap_model" in text
    assert "limit: 0  # drumgenx run" in text  # the run scores every file
    assert "CORE:  # default" in text

    skeleton = _show(capsys, "skeleton", "--bars", "4", "--bpm", "96")
    assert "bars: 4  # --bars" in skeleton and "bpm: 96.0  # --bpm" in skeleton
    assert "seed: 42  # default" in skeleton
    assert "bars: 8  # drumgenx run" in _show(capsys, "skeleton")  # the run's, not stage 3's

    pre = _show(capsys, "preprocess", "--onset_method", "flux", "--separator", "hpss")
    assert "  method: flux  # --onset_method" in pre and "  method: hpss  # --separator" in pre
    assert "  method: transcribe  # default" in _show(capsys, "preprocess")

    groove = _show(capsys, "groove", "--tails", "--mode", "vary")
    assert "loop: false  # --tails" in groove and "mode: vary  # --mode" in groove
    assert "weights" in groove and "vary" in groove
    assert "played: keep  # default" in groove
    assert "played: replace  # --played" in _show(capsys, "groove", "--played", "replace")


def test_a_flag_typed_at_its_default_is_named_as_the_source(capsys) -> None:
    """Each of drumgenx run's flags, typed with the value it has anyway, is where the value
    came from, in every section that shows it (not "default" or "drumgenx run")."""
    argv = [
        *("--bpm", "120", "--bars", "8", "--seed", "42", "--mode", "humanize"),
        *("--temperature", "0.5", "--swing", "0", "--workers", "1"),
        *("--separator", "auto", "--onset_method", "transcribe"),
        *("--clap_model", "laion/clap-htsat-unfused"),
    ]
    run = _block(_show(capsys, "run", *argv), "# run")
    for field in ("bpm", "bars", "seed", "mode", "temperature", "swing", "workers"):
        assert f"  # --{field}" in next(line for line in run.splitlines() if line.startswith(field))
    assert "separator: auto  # --separator" in run and "onset_method: transcribe  # --onset" in run
    pre = _show(capsys, "preprocess", *argv)
    assert (
        "  method: auto  # --separator" in pre and "  method: transcribe  # --onset_method" in pre
    )
    assert "  transcriber_weights: ''  # default" in pre  # not a flag typed
    roles = _block(_show(capsys, "roles", *argv), "the run's settings")
    assert "clap_model: laion/clap-htsat-unfused  # --clap_model" in roles
    assert "workers: 1  # --workers" in roles and "limit: 0  # drumgenx run" in roles
    skeleton = _show(capsys, "skeleton", *argv)
    assert "bars: 8  # --bars" in skeleton and "seed: 42  # --seed" in skeleton
    assert "bpm: 120.0  # --bpm" in skeleton and "swing: 0.0  # --swing" in skeleton
    assert "motion_mode: B  # default" in skeleton and "loop: true  # default" in skeleton
    groove = _show(capsys, "groove", *argv)
    assert "mode: humanize  # --mode" in groove and "temperature: 0.5  # --temperature" in groove
    untyped = _show(capsys, "skeleton")  # the same values, no flag typed
    assert "bars: 8  # drumgenx run" in untyped and "bpm: auto  # default" in untyped


def test_the_role_config_shown_loads_back_as_the_same_config(capsys, tmp_path: Path) -> None:
    config = tmp_path / "mine.yaml"
    config.write_text("guards: []\nfeatures:\n  n_fft: 2048\n")
    text = _show(capsys, "roles", "--config", str(config))
    shown = tmp_path / "shown.yaml"
    shown.write_text(_block(text, "the role config"))
    assert load_config(shown, RoleConfig) == load_role_config(config)
    assert f"guards: []  # {config}" in text and f"  n_fft: 2048  # {config}" in text


def test_the_seeds_checkout_file_is_named_where_it_differs(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import drumgenx.roles.settings as settings

    edited = tmp_path / "role_assignment.yaml"
    edited.write_text(settings.SHIPPED_CONFIG_PATH.read_text().replace("alpha: 0.9", "alpha: 0.7"))
    monkeypatch.setattr(settings, "CHECKOUT_CONFIG_PATH", edited)
    text = _show(capsys, "roles")
    assert f"  alpha: 0.7  # {edited}" in text and "  model_weight: 2.0  # default" in text


def test_bad_files_and_unknown_stages_are_one_line(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("fusion:\n  alpah: 1\n")
    assert cli.main(["config", "show", "roles", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.yaml" in err and "alpah" in err
    with pytest.raises(SystemExit):
        cli.main(["config", "show", "nope"])
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(Exception, match="STAGE must be one of"):
        show_settings(ChainParams(), stage="nope")
