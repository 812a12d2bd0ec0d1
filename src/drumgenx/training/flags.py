"""The trainers' command-line flags: each model's inputs, and one flag per settings field.

A settings flag has its field's name, default and help (`training.settings`; the help adds
the default), so ``--help`` shows exactly the dataclass's defaults. A multi-word flag is also
accepted with dashes (``--max-minutes``), as the module CLIs the shipped weights recorded
wrote it. Light (argparse and the settings only): ``drumgenx --help`` builds these parsers.
Each trainer module's ``run_command(args)`` runs its model's parsed flags; `training.commands`
puts them under ``drumgenx train``, `standalone` under ``python -m drumgenx.training.MODULE``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from drumgenx.core.errors import DrumgenxError
from drumgenx.training.settings import (
    KIT_VARIATION,
    CorpusSettings,
    DownbeatTrainSettings,
    GrooveTrainSettings,
    HumanizerTrainSettings,
    OnsetTrainSettings,
    RoleDataSettings,
    RoleTrainSettings,
    StyleLibrarySettings,
    TranscriberTrainSettings,
)

__all__ = [
    "MODELS",
    "Model",
    "add_model_arguments",
    "add_settings_flags",
    "new_run_dir",
    "settings_from",
    "standalone",
]

EXIT_USER_ERROR = 2
GROOVE_TASKS = ("humanize", "vary")  # groove.model.TASKS, without importing torch


@dataclass(frozen=True)
class Model:
    """One trainer's command: what ``drumgenx train --help`` says, its settings, its inputs."""

    help: str
    description: str
    settings: type
    """The settings dataclass its flags come from."""
    add_inputs: Callable[[argparse.ArgumentParser], None]
    """Adds the flags that are not settings (data, output)."""


def add_settings_flags(parser: argparse.ArgumentParser, settings: type) -> None:
    """One flag per field of the dataclass ``settings``: its default, its help."""
    defaults = settings()
    group = parser.add_argument_group(
        f"settings ({settings.__name__}; the defaults are the shipped weights')"
    )
    for f in fields(settings):
        default = getattr(defaults, f.name)
        kind = type(default)
        group.add_argument(
            f"--{f.name}",
            type=kind,
            default=default,
            metavar=f.name.upper(),
            help=f"{f.metadata['help']} (default: {default})",
        )
        if "_" in f.name:  # the dashed spelling of the module CLIs, hidden
            group.add_argument(
                f"--{f.name.replace('_', '-')}",
                dest=f.name,
                type=kind,
                default=argparse.SUPPRESS,
                help=argparse.SUPPRESS,
            )


def settings_from(args: argparse.Namespace, settings: type) -> Any:
    """The ``settings`` dataclass of the parsed flags; a value out of a setting's range is a
    one-line error naming its flag."""
    try:
        return settings(**{f.name: getattr(args, f.name) for f in fields(settings)})
    except ValueError as exc:  # "name must be ...": the setting's name is the flag's
        raise DrumgenxError(f"--{exc}") from None


def new_run_dir(base: Path) -> Path:
    """``base/run_N``, N one past the highest there (the folder itself is not created)."""
    numbers = (p.name.removeprefix("run_") for p in base.glob("run_*"))
    return base / f"run_{1 + max((int(n) for n in numbers if n.isdigit()), default=0)}"


def _gmd(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gmd", required=True, help="Groove MIDI Dataset folder (with info.csv)")


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("a JSON object is needed, e.g. '{\"z_size\": 64}'")
    return value


def _groove_inputs(parser: argparse.ArgumentParser) -> None:
    _gmd(parser)
    parser.add_argument("--task", required=True, choices=GROOVE_TASKS, help="what to learn")
    parser.add_argument("--out", help="model folder (default: a new output/groovae_TASK/run_N)")
    parser.add_argument(
        "--config",
        type=_json_object,
        default={},
        metavar="JSON",
        help="GrooVAE hyperparameters over the shipped ones (groove.model.GrooVAEConfig), "
        "e.g. '{\"z_size\": 64}' (default: none)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace a model in --out")


def _shipped_out(parser: argparse.ArgumentParser, what: str, shipped: str) -> None:
    """``--out``: a file that replaces the one given, ``what`` (``WEIGHTS.npz``) as its
    metavar, the shipped one at ``src/drumgenx/{shipped}``."""
    parser.add_argument(
        "--out",
        required=True,
        metavar=what,
        help=f"the file written (replaced if it exists; the shipped one is src/drumgenx/{shipped})",
    )


def _humanizer_inputs(parser: argparse.ArgumentParser) -> None:
    _gmd(parser)
    _shipped_out(parser, "WEIGHTS.npz", "groove/weights/humanizer/humanizer.npz")


def _roles_inputs(parser: argparse.ArgumentParser) -> None:
    _shipped_out(parser, "WEIGHTS.npz", "roles/weights/role_scorer.npz")
    parser.add_argument(
        "--labels",
        metavar="CSV",
        help="the labelled one-shots (default: ../shared/data/drum_oneshots/labels.csv beside "
        "the checkout, or $DRUMGENX_ONESHOT_LABELS)",
    )
    parser.add_argument(
        "--audio_root",
        default="/usr/share",
        help="where the labels' path_in_package paths are (default: %(default)s)",
    )
    parser.add_argument("--cache_dir", help="feature cache (default: ~/.cache/drumgenx/roles)")


def _role_data_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", required=True, help="folder for the WAVs, role_labels.csv and manifest.json"
    )
    parser.add_argument(
        "--labels",
        metavar="CSV",
        help="the labelled Debian one-shots referenced (default: "
        "../shared/data/drum_oneshots/labels.csv beside the checkout, or "
        "$DRUMGENX_ONESHOT_LABELS; left out with a warning when absent)",
    )


def _onsets_inputs(parser: argparse.ArgumentParser) -> None:
    _gmd(parser)
    _shipped_out(parser, "WEIGHTS.npz", "preprocess/weights/onset_activation.npz")


def _corpus_folder(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        required=True,
        help="a corpus folder with train/ and validation/ (drumgenx train corpus)",
    )


def _transcriber_inputs(parser: argparse.ArgumentParser) -> None:
    _corpus_folder(parser)
    parser.add_argument("--out", required=True, help="folder for transcriber.npz and its log")


def _corpus_inputs(parser: argparse.ArgumentParser) -> None:
    _gmd(parser)
    parser.add_argument("--out", required=True, help="corpus root folder")
    parser.add_argument(
        "--split", required=True, help="train or validation (the test split is refused)"
    )
    parser.add_argument("--n", type=int, required=True, help="number of items, 1 or more")
    parser.add_argument(
        "--kits",
        choices=("train", "validation"),
        help="kit group (default: the split's own: train -> train, validation -> validation)",
    )
    parser.add_argument(
        "--kit_variation",
        type=float,
        help=f"share of items with a varied kit, 0..1 (default: {KIT_VARIATION} for the "
        "training kits, 0 for the validation kits)",
    )
    parser.add_argument("--cache_dir", help="one-shot cache (default: OUT/cache/oneshots)")


def _downbeats_inputs(parser: argparse.ArgumentParser) -> None:
    _corpus_folder(parser)
    _shipped_out(parser, "WEIGHTS.npz", "core/weights/downbeat.npz")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="processes transcribing, 1 or more (default: %(default)s)",
    )
    parser.add_argument(
        "--cache_dir", help="the excerpts' transcriptions (default: ~/.cache/drumgenx/downbeats)"
    )


def _styles_inputs(parser: argparse.ArgumentParser) -> None:
    _gmd(parser)
    _shipped_out(parser, "STYLES.json.gz", "skeleton/data/styles.json.gz")


MODELS: dict[str, Model] = {
    "groove": Model(
        help="GrooVAE (humanize or vary) on the Groove MIDI Dataset",
        description="Train a GrooVAE on GMD's train split, choose the epoch on validation; "
        "writes model.pt, config.json and train_log.jsonl to --out, for drumgenx groove "
        "--model. Needs torch.",
        settings=GrooveTrainSettings,
        add_inputs=_groove_inputs,
    ),
    "humanizer": Model(
        help="the humanizer (drumgenx groove's humanize model) on the Groove MIDI Dataset",
        description="Train the humanizer on GMD's train split, conditioned on tempo, "
        "drummer, style and bar; choose the checkpoint and --feel 1's offset correlation on "
        "validation; writes --out and train_log.jsonl beside it. Needs torch.",
        settings=HumanizerTrainSettings,
        add_inputs=_humanizer_inputs,
    ),
    "roles": Model(
        help="the learned role scorer on the labelled Debian one-shots",
        description="Choose the role scorer's settings on leave-one-kit-out, retrain it on "
        "every labelled one-shot, write it to --out with its scores. Needs scikit-learn "
        "(pip install -e '.[train]') and the Debian kits (hydrogen-data, hydrogen-drumkits).",
        settings=RoleTrainSettings,
        add_inputs=_roles_inputs,
    ),
    "role-data": Model(
        help="build the role scorer's labelled one-shots (SoundFont kits, Debian, found sounds)",
        description="Render every GM SoundFont drum kit key by key at several velocities "
        "(WAV files under --out), reference the labelled Debian one-shots and the found "
        "sounds, and write one labels CSV (package, version, path, kit, key, velocity, class, "
        "role, confidence, group train|frozen) and manifest.json. Needs fluidsynth and the "
        "SoundFonts (see the README).",
        settings=RoleDataSettings,
        add_inputs=_role_data_inputs,
    ),
    "onsets": Model(
        help="the learned onset activation (stage 1's --onset_method learned)",
        description="Render GMD train and validation performances through five Debian kits, "
        "train the onset activation, choose the epoch and the peak picking on validation; "
        "writes the weights to --out. Needs torch, pretty_midi, the Debian kits "
        "(hydrogen-data, hydrogen-drumkits) and ../shared/data/drum_oneshots/labels.csv.",
        settings=OnsetTrainSettings,
        add_inputs=_onsets_inputs,
    ),
    "transcriber": Model(
        help="the drum transcriber on a mixture corpus (drumgenx train corpus)",
        description="Train the drum transcriber on CORPUS/train, choose the checkpoint, the "
        "thresholds and the timing offset on CORPUS/validation; writes transcriber.npz and "
        "train_log.jsonl to --out. Needs torch.",
        settings=TranscriberTrainSettings,
        add_inputs=_transcriber_inputs,
    ),
    "corpus": Model(
        help="build the transcriber's mixture corpus (one split)",
        description="Render GMD performances through many drum kits under composed "
        "accompaniment, with sample-exact labels, into OUT/SPLIT (resumable). Needs "
        "fluidsynth, the SoundFonts and the Debian kits (see the README).",
        settings=CorpusSettings,
        add_inputs=_corpus_inputs,
    ),
    "downbeats": Model(
        help="the beat tracker's downbeat model on a mixture corpus (drumgenx train corpus)",
        description="Transcribe CORPUS/train and CORPUS/validation's 4/4 beat excerpts (cached), "
        "fit where bars start on train (GMD files start on a downbeat), score validation; "
        "writes the weights to --out.",
        settings=DownbeatTrainSettings,
        add_inputs=_downbeats_inputs,
    ),
    "styles": Model(
        help="build the GMD style library (drumgenx styles; the skeleton's style patterns)",
        description="Read GMD's train split (never validation or test): 4/4 beats as 2-bar "
        "patterns and fills as 1-bar fills, on 16 steps a bar with each hit's velocity and "
        "micro-timing, grouped by style; writes the gzipped library to --out.",
        settings=StyleLibrarySettings,
        add_inputs=_styles_inputs,
    ),
}
"""The trainers, in the order ``drumgenx train --help`` lists them."""


def add_model_arguments(parser: argparse.ArgumentParser, model: str) -> None:
    """``model``'s inputs, then its settings flags."""
    MODELS[model].add_inputs(parser)
    add_settings_flags(parser, MODELS[model].settings)


def standalone(
    model: str, run: Callable[[argparse.Namespace], None], argv: Sequence[str] | None = None
) -> int:
    """``python -m drumgenx.training.MODULE``: ``drumgenx train model`` under another name,
    ``run`` its ``run_command``; an error is one line on stderr and exit status 2."""
    parser = argparse.ArgumentParser(
        prog=f"python -m drumgenx.training.{model}",
        description=f"{MODELS[model].description} The same as drumgenx train {model}.",
    )
    add_model_arguments(parser, model)
    args = parser.parse_args(argv)
    try:
        run(args)
    except DrumgenxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0
