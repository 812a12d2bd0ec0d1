"""Issue #12 §2: library errors name parameters, the CLI names flags; notices reach the user
one way, through a ``notify`` callback the command line prints."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from drumgenx import cli
from drumgenx.chain.run import ChainParams, run_chain
from drumgenx.core.errors import DrumgenxError, MissingSamplesError, ParameterError
from drumgenx.core.formats import dump_json
from drumgenx.core.records import Event, events_to_json
from drumgenx.edit.operations import (
    Selection,
    change_velocity,
    parse_index_list,
    remove_hits,
    set_hit,
)
from drumgenx.kit.export import export_kit, find_run_loop
from drumgenx.preprocess import separation
from drumgenx.preprocess.run import run_preprocess
from drumgenx.preprocess.separation import SeparationParams
from drumgenx.render.midi import parse_note_overrides
from drumgenx.render.samples import load_samples
from drumgenx.roles.run import manifest_class_probs
from drumgenx.skeleton.grid import build_grid


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ChainParams(workers=0).validate(), "workers must be at least 1, got 0"),
        (lambda: build_grid(bpm=5, num_bars=1), "bpm must be between 20 and 999, got 5"),
        (lambda: build_grid(bpm=120, num_bars=0), "num_bars must be between 1 and 1024, got 0"),
        (lambda: set_hit([], bar=0, step=0, role="CORE", sample_id="k", vel=2.0), "vel must be"),
        (lambda: set_hit([], bar=0, step=0, role="CORE"), "sample_id not given and no CORE hit"),
        (lambda: parse_index_list("x", name="step"), "step expects numbers like 0,2,4-7"),
        (lambda: remove_hits([], Selection()), "remove: select hits with bars, steps and/or roles"),
        (lambda: change_velocity([], Selection()), "velocity: give exactly one of value and scale"),
        (lambda: parse_note_overrides(["FILL=200"]), "note_overrides expects ROLE=0..127"),
        (
            lambda: run_preprocess(dataset_root="/no/such", output_root="o"),
            "dataset_root /no/such:",
        ),
        (
            lambda: run_preprocess(dataset_root=".", output_root="o", workers=0),
            "workers must be at least 1, got 0",
        ),
        (lambda: find_run_loop(Path(".")), "run .: no run_N.json in it"),
        (
            lambda: export_kit(pools_json="p.json", out_dir="o", events_json="e.json"),
            "events_json and grid_json go together",
        ),
        (lambda: run_chain(".", out=__file__), f"out {__file__} is a file, not a folder"),
        (
            lambda: load_samples(["k"], pools=None, pools_dir=None, sample_root=Path("/no")),
            "1 sample(s) missing or unreadable under sample_root /no: k (file not found) "
            "(pass pools_json (the pools that name them) or pass skip_missing to render "
            "without them)",
        ),
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


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["remove"], "remove: select hits with --bar, --step and/or --role"),
        (["remove", "--step", "x"], "--step expects numbers like 0,2,4-7, got 'x'"),
        (["export-midi", "--grid", "GRID", "--note", "FILL=200"], "--note expects ROLE=0..127"),
        (
            ["render", "--grid", "GRID", "--sample_root", "ROOT"],
            "under --sample_root ROOT: k (file not found) (pass --pools_json (the pools that "
            "name them) or pass --skip_missing to render without",
        ),
    ],
)
def test_the_cli_names_the_flags_of_every_parameter(argv, line, tmp_path: Path, capsys) -> None:
    """An error about several parameters, or naming one mid-sentence, names each flag."""
    grid = tmp_path / "grid.json"
    grid.write_bytes(dump_json(build_grid(bpm=120, num_bars=1).to_json()))
    events = tmp_path / "events.json"
    events.write_bytes(dump_json(events_to_json([Event(0, 0, "CORE", "k", 1.0, 4)])))
    paths = {"GRID": str(grid), "ROOT": str(tmp_path)}
    argv = [paths.get(arg, arg) for arg in argv]
    assert cli.main(["edit", *argv, "--events", str(events)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("drumgenx: error: ") and err.count("\n") == 1, err
    assert line.replace("ROOT", str(tmp_path)) in err


def test_an_error_about_several_parameters_keeps_the_users_braces() -> None:
    """`ParameterError.about`: the parameters anywhere in the message, each named by the
    caller's names (a flag) or its own; what the user typed, braces and all, as it is; a
    subclass and its message survive pickling (a worker process's error)."""
    error = MissingSamplesError.about(
        "{n} missing under {1} {root} (pass {0})", "skip_missing", "sample_root",
        n=2, root="/a/{0}/{x}",
    )  # fmt: skip
    assert str(error) == "2 missing under sample_root /a/{0}/{x} (pass skip_missing)"
    assert isinstance(error, ParameterError) and error.parameters == ("skip_missing", "sample_root")
    named = error.named({"skip_missing": "--skip_missing"})
    assert str(named) == "2 missing under sample_root /a/{0}/{x} (pass --skip_missing)"
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is MissingSamplesError and str(again) == str(error)
    assert str(pickle.loads(pickle.dumps(ParameterError("bpm", "must be 20..999, got {5}")))) == (
        "bpm must be 20..999, got {5}"
    )


def test_a_notice_names_parameters_and_the_cli_says_it_with_flags(capsys) -> None:
    """`Notice`: a plain string to library callers (parameter names), the same sentence
    with flags from `flag_notice`; nested notices are named too; it survives pickling (a
    worker process's notice); an ordinary string passes unchanged."""
    import argparse

    from drumgenx.core.console import flag_notice
    from drumgenx.core.errors import Notice

    inner = Notice("{0} {repo}: no such folder", "demucs_repo", repo="/x/{0}")
    outer = Notice("not used ({why}); point {0} at a folder", "demucs_repo", why=inner)
    assert isinstance(outer, str)
    assert outer == "not used (demucs_repo /x/{0}: no such folder); point demucs_repo at a folder"
    assert pickle.loads(pickle.dumps(outer)).named({"demucs_repo": "-r"}) == outer.named(
        {"demucs_repo": "-r"}
    )
    say = flag_notice(argparse.Namespace(flag_names={"demucs_repo": "--demucs_repo"}))
    say(outer)
    say("plain {0} text")
    assert capsys.readouterr().err == (
        "drumgenx: notice: not used (--demucs_repo /x/{0}: no such folder); "
        "point --demucs_repo at a folder\n"
        "drumgenx: notice: plain {0} text\n"
    )


@pytest.mark.parametrize("command", ["preprocess", "run"])
def test_the_cli_names_the_flag_in_a_separation_error(command, tmp_path: Path, capsys) -> None:
    """Stage 1's Demucs error names ``demucs_repo``; ``preprocess`` and ``run`` (which
    shares the flag) say ``--demucs_repo``."""
    import soundfile

    (tmp_path / "in").mkdir()
    soundfile.write(str(tmp_path / "in" / "a.wav"), [0.0] * 4410, 44100)
    missing = tmp_path / "nope"
    where = {
        "preprocess": ["--dataset_root", str(tmp_path / "in"), "--output_root"],
        "run": [str(tmp_path / "in"), "--out"],
    }[command]
    argv = [command, *where, str(tmp_path / "o"), "--separator", "demucs"]
    assert cli.main([*argv, "--demucs_repo", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"--demucs_repo {missing}: no such folder" in err and "point --demucs_repo at" in err
    assert not (tmp_path / "o").exists()


def test_the_cli_names_the_flag_in_a_missing_weights_error(tmp_path: Path, monkeypatch, capsys):
    """The shipped transcriber weights missing: ``transcribe`` says ``--model``, and
    ``preprocess`` names ``--transcriber_weights`` and ``--onset_method``."""
    import soundfile

    from drumgenx.transcribe import model

    monkeypatch.setattr(model, "DEFAULT_WEIGHTS", tmp_path / "gone.npz")
    (tmp_path / "in").mkdir()
    soundfile.write(str(tmp_path / "in" / "a.wav"), [0.0] * 4410, 44100)
    assert cli.main(["transcribe", str(tmp_path / "in"), "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert "gone.npz (the shipped weights are not installed: set --model)" in err
    argv = ["preprocess", "--dataset_root", str(tmp_path / "in"), "--output_root"]
    assert cli.main([*argv, str(tmp_path / "o"), "--onset_method", "transcribe"]) == 2
    err = capsys.readouterr().err
    assert "set --transcriber_weights, or choose another --onset_method (flux)" in err
