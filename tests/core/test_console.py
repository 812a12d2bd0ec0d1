"""Issue #12 §2: library errors name parameters, the CLI names flags; notices reach the user
one way, through a ``notify`` callback the command line prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drumgenx import cli
from drumgenx.chain.run import ChainParams
from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.edit.operations import set_hit
from drumgenx.preprocess import separation
from drumgenx.preprocess.separation import SeparationParams
from drumgenx.roles.run import manifest_class_probs
from drumgenx.skeleton.grid import build_grid


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ChainParams(workers=0).validate(), "workers must be at least 1, got 0"),
        (lambda: build_grid(bpm=5, num_bars=1), "bpm must be between 20 and 999, got 5"),
        (lambda: build_grid(bpm=120, num_bars=0), "num_bars must be between 1 and 1024, got 0"),
        (lambda: set_hit([], bar=0, step=0, role="CORE", sample_id="k", vel=2.0), "vel must be"),
    ],
)
def test_a_library_error_names_the_parameter_not_the_flag(call, message) -> None:
    with pytest.raises(ParameterError) as error:
        call()
    assert str(error.value).startswith(message) and "--" not in str(error.value)
    assert isinstance(error.value, DrumgenxError)  # still one line and exit status 2


def test_the_cli_names_the_flag(tmp_path: Path, capsys) -> None:
    events = tmp_path / "events.json"
    events.write_text("[]")
    where = ["--events", str(events), "--bar", "0", "--step", "0", "--role", "CORE"]
    rc = cli.main(["edit", "set", *where, "--sample", "k", "--velocity", "2"])
    assert rc == 2
    assert capsys.readouterr().err == "drumgenx: error: --velocity must be 0..1, got 2\n"
    rc = cli.main(["skeleton", "--out_dir", str(tmp_path / "o"), "--bpm", "120", "--bars", "2000"])
    assert rc == 2 and "error: --bars must be between 1 and 1024" in capsys.readouterr().err


def _demucs_unavailable(params) -> None:
    raise separation._DemucsUnavailable("no weights here")


def test_a_library_notice_goes_to_notify_and_is_never_printed(monkeypatch, capsys) -> None:
    monkeypatch.setattr(separation, "_DemucsSeparator", _demucs_unavailable)
    said: list[str] = []
    separation.make_separator(SeparationParams(method="auto"), notify=said.append)
    assert len(said) == 1 and "instead" in said[0]
    separation.make_separator(SeparationParams(method="auto"))  # no notify: dropped
    assert capsys.readouterr() == ("", "")


def test_a_manifest_off_its_schema_is_a_notice_not_a_print(tmp_path: Path, capsys) -> None:
    (tmp_path / "manifest_1.json").write_text(json.dumps({"class_probs": 1}))
    said: list[str] = []
    assert manifest_class_probs(tmp_path, notify=said.append) == {}
    assert len(said) == 1 and "class probabilities are not used" in said[0]
    assert manifest_class_probs(tmp_path) == {}
    assert capsys.readouterr() == ("", "")


def test_the_cli_names_a_folder_flag(tmp_path: Path, capsys) -> None:
    """`run_roles`' ``input_dir`` is ``--input_dir`` on the command line."""
    rc = cli.main(["roles", "--input_dir", str(tmp_path), "--out_dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and err == f"drumgenx: error: --input_dir {tmp_path}: no audio files found\n"
