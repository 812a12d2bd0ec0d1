"""``drumgenx train MODEL``: every model listed, flags read from the settings dataclasses, and
those defaults equal to what the shipped weights recorded."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from drumgenx.cli import build_parser, main
from drumgenx.training.flags import MODELS, add_model_arguments, settings_from
from drumgenx.training.settings import (
    CorpusSettings,
    DownbeatTrainSettings,
    GrooveTrainSettings,
    OnsetTrainSettings,
    RoleTrainSettings,
    TranscriberTrainSettings,
)

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "drumgenx"
REQUIRED = {  # each model's required inputs, for parsing its defaults
    "groove": ["--gmd", "g", "--task", "vary"],
    "humanizer": ["--gmd", "g", "--out", "h.npz"],
    "roles": ["--out", "w.npz"],
    "role-data": ["--out", "o"],
    "onsets": ["--gmd", "g", "--out", "w.npz"],
    "transcriber": ["--corpus", "c", "--out", "o"],
    "corpus": ["--gmd", "g", "--out", "o", "--split", "train", "--n", "1"],
    "downbeats": ["--corpus", "c", "--out", "d.npz"],
    "styles": ["--gmd", "g", "--out", "s.json.gz"],
}


def _help(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_train_help_lists_every_model(capsys) -> None:
    assert (
        "train a model: groove, humanizer, roles, role-data, onsets, transcriber, corpus, "
        "downbeats, styles" in " ".join(build_parser().format_help().split())
    )
    text = _help(capsys, ["train"])
    for model in REQUIRED:
        assert f" {model} " in text
    assert list(MODELS) == list(REQUIRED)


@pytest.mark.parametrize("model", list(REQUIRED))
def test_each_model_help_shows_the_dataclass_defaults(capsys, model: str) -> None:
    settings = MODELS[model].settings
    text = _help(capsys, ["train", model])
    for f in fields(settings):
        default = getattr(settings(), f.name)
        help_text = " ".join(f.metadata["help"].split())
        assert f"--{f.name} {f.name.upper()} {help_text} (default: {default})" in text
        assert re.search(r"\d|more|least", help_text), f"{f.name}: the help states no range"
    parser = build_parser()
    args = parser.parse_args(["train", model, *REQUIRED[model]])
    assert settings_from(args, settings) == settings()
    assert args.handler.__name__ == f"run_{model.replace('-', '_')}"


def test_dashed_flags_of_the_module_commands_still_parse() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_model_arguments(parser, "transcriber")
    argv = [*REQUIRED["transcriber"], "--max-minutes", "45", "--eval-every", "100"]
    got = settings_from(parser.parse_args(argv), TranscriberTrainSettings)
    assert got == TranscriberTrainSettings(max_minutes=45.0, eval_every=100)


def test_a_setting_out_of_range_is_one_line_naming_its_flag(capsys, tmp_path: Path) -> None:
    argv = ["train", "roles", "--out", str(tmp_path / "w.npz"), "--tree_leaves", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip() == "drumgenx: error: --tree_leaves must be at least 2, got 1"
    with pytest.raises(ValueError, match="max_minutes must be more than 0"):
        GrooveTrainSettings(max_minutes=0)


def test_the_corpus_command_refuses_the_test_split(capsys, tmp_path: Path) -> None:
    argv = ["--gmd", str(tmp_path), "--out", str(tmp_path / "o"), "--split", "test", "--n", "3"]
    assert main(["train", "corpus", *argv]) == 2
    assert "held out" in capsys.readouterr().err and not (tmp_path / "o").exists()


def _command_flags(command: str) -> dict[str, str]:
    """``--name value`` pairs of a recorded command line, names with underscores."""
    words = command.split()
    return {
        w[2:].replace("-", "_"): words[i + 1]
        for i, w in enumerate(words[:-1])
        if w.startswith("--") and not words[i + 1].startswith("--")
    }


# --- the defaults are the shipped weights' settings ------------------------------------------


@pytest.mark.parametrize("task", ["humanize", "vary"])
def test_groove_defaults_are_the_shipped_weights(task: str) -> None:
    info = json.loads((PACKAGE / "groove" / "weights" / task / "config.json").read_text())
    settings = GrooveTrainSettings()
    flags = _command_flags(info["command"])
    assert info["seed"] == settings.seed == int(flags["seed"])
    assert float(flags["max_minutes"]) == settings.max_minutes
    assert "epochs" not in flags and settings.epochs == 200  # the trainer's default then
    assert info["threads"] == settings.threads_for(task)
    pytest.importorskip("torch")
    from drumgenx.groove.model import GrooVAEConfig
    from drumgenx.training.groove import default_config

    ours = json.loads(json.dumps(default_config(task).to_dict()))
    assert info["config"] == {k: ours[k] for k in info["config"]}
    magenta = json.loads(json.dumps(GrooVAEConfig(task=task).to_dict()))
    for later in set(ours) - set(info["config"]):  # a setting added since, at Magenta's value
        assert ours[later] == magenta[later]


def test_role_trainer_defaults_are_the_shipped_weights() -> None:
    from drumgenx.roles.learned import LearnedRoleScorer

    meta = LearnedRoleScorer.load().meta
    settings = RoleTrainSettings()
    assert meta["seed"] == settings.seed
    assert f"n_aug={settings.n_aug}" in meta["data"]
    config = meta["config"]
    assert (config["tree_rounds"], config["tree_leaves"], config["tree_lr"]) == (
        settings.tree_rounds,
        settings.tree_leaves,
        settings.tree_lr,
    )
    roles = pytest.importorskip("drumgenx.training.roles")
    assert config["c"] in roles.C_GRID and config["tree_weight"] in roles.TREE_WEIGHTS


def test_onset_trainer_defaults_are_the_shipped_weights() -> None:
    from drumgenx.preprocess.onsets_learned import load_model

    meta = load_model().meta
    flags = _command_flags(meta["command"])
    names = {"batch": "batch_size", "lr": "learning_rate"}  # the bench script's flag names
    recorded = {names.get(k, k): float(v) for k, v in flags.items()}
    settings = OnsetTrainSettings()
    assert recorded == {k: v for k, v in vars(settings).items() if k in recorded}
    assert len(recorded) == 7  # epochs, steps, batch, lr, seed, workers, limit
    assert f"(seed {settings.train_seed})" in meta["train"]
    assert f"(seed {settings.validation_seed})" in meta["validation"]


def test_transcriber_defaults_are_the_shipped_weights_where_not_given() -> None:
    with np.load(PACKAGE / "transcribe" / "weights" / "transcriber.npz") as z:
        meta = json.loads(str(z["meta"]))
    given = _command_flags(meta["command"])
    defaults = vars(TranscriberTrainSettings())
    not_given = {k: v for k, v in meta["settings"].items() if k not in given}
    assert not_given and not_given == {k: defaults[k] for k in not_given}


def test_downbeat_defaults_are_the_shipped_model() -> None:
    with np.load(PACKAGE / "core" / "weights" / "downbeat.npz") as z:
        meta = json.loads(str(z["meta"]))
    assert meta["settings"] == vars(DownbeatTrainSettings())
    assert "train downbeats" in meta["command"]


def test_corpus_defaults_are_the_shipped_corpus() -> None:
    folder = PACKAGE / "transcribe" / "weights" / "corpus"
    train = json.loads((folder / "train_corpus.json").read_text())
    settings = CorpusSettings()
    assert train["seed"] == settings.seed and train["excerpt_s"] == settings.excerpt_s
