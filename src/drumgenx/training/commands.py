"""``drumgenx train MODEL``: one trainer command per model, with the shipped weights' defaults.

The flags are `training.flags`' (each model's inputs and one flag per settings field); a
command imports its trainer module (torch, scikit-learn, ...) only when it runs and calls its
``run_command``, so ``drumgenx --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any

from drumgenx.core.console import Command, notice
from drumgenx.core.errors import DrumgenxError
from drumgenx.training.flags import MODELS, add_model_arguments

__all__ = ["RUNNERS", "TRAIN", "TRAIN_GROOVAE", "add_train_parser"]

_TORCH = "pip install torch==2.13.0 -e '.[groove]'"


def _need(module: str, install: str) -> None:
    """A one-line error, not a traceback, where a trainer's dependency is not installed."""
    if importlib.util.find_spec(module) is None:
        raise DrumgenxError(f"training this model needs {module}: {install}")


def run_groove(args: argparse.Namespace) -> None:
    _need("torch", _TORCH)
    from drumgenx.training.groove import run_command

    run_command(args)


def run_humanizer(args: argparse.Namespace) -> None:
    _need("torch", _TORCH)
    from drumgenx.training.humanizer import run_command

    run_command(args)


def run_roles(args: argparse.Namespace) -> None:
    _need("sklearn", "pip install -e '.[train]' (scikit-learn)")
    from drumgenx.training.roles import run_command

    run_command(args)


def run_role_data(args: argparse.Namespace) -> None:
    from drumgenx.training.role_data import run_command

    run_command(args)


def run_onsets(args: argparse.Namespace) -> None:
    _need("torch", _TORCH)
    _need("pretty_midi", "pip install -e '.[train]' (pretty_midi)")
    from drumgenx.training.onsets import run_command

    run_command(args)


def run_transcriber(args: argparse.Namespace) -> None:
    _need("torch", _TORCH)
    from drumgenx.training.transcriber import run_command

    run_command(args)


def run_corpus(args: argparse.Namespace) -> None:
    from drumgenx.training.corpus import run_command

    run_command(args)


def run_downbeats(args: argparse.Namespace) -> None:
    from drumgenx.training.downbeats import run_command

    run_command(args)


def run_styles(args: argparse.Namespace) -> None:
    from drumgenx.training.styles import run_command

    run_command(args)


RUNNERS = {
    "groove": run_groove,
    "humanizer": run_humanizer,
    "roles": run_roles,
    "role-data": run_role_data,
    "onsets": run_onsets,
    "transcriber": run_transcriber,
    "corpus": run_corpus,
    "downbeats": run_downbeats,
    "styles": run_styles,
}


def add_models(parser: argparse.ArgumentParser) -> None:
    """One subcommand per model of `training.flags.MODELS`, each with its flags."""
    models = parser.add_subparsers(dest="model", metavar="MODEL", required=True)
    for name, model in MODELS.items():
        sub = models.add_parser(name, help=model.help, description=model.description)
        add_model_arguments(sub, name)
        sub.set_defaults(handler=RUNNERS[name])


TRAIN = Command(
    "train",
    help=f"train a model: {', '.join(MODELS)}",
    description="Train one of drumgenx's models (or build the transcriber's corpus); "
    "every default is the setting the shipped weights were trained with. "
    "MODEL --help lists its flags.",
    add_arguments=add_models,
)
"""``drumgenx train MODEL``."""


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    """``drumgenx train MODEL`` added to ``subparsers`` (`TRAIN`)."""
    return TRAIN.add_to(subparsers)


def run_train_groovae(args: argparse.Namespace) -> None:
    """``drumgenx train-groovae``: deprecated, ``drumgenx train groove`` with its defaults."""
    notice("train-groovae is deprecated; use drumgenx train groove (same flags)")
    run_groove(args)


def _add_groove_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, "groove")


TRAIN_GROOVAE = Command(
    "train-groovae",
    help="deprecated: use drumgenx train groove",
    description="Deprecated alias of drumgenx train groove (same flags and defaults).",
    add_arguments=_add_groove_arguments,
    run=run_train_groovae,
)
"""``drumgenx train-groovae``, the deprecated name of ``drumgenx train groove``."""
