"""The trainers' settings: one frozen dataclass per model, the one place its defaults live.

Each default is the value the shipped weights were trained with (their metadata records the
command and settings; ``tests/training/test_commands.py`` keeps the two equal). Kept free of
heavy imports (no numpy, no torch): ``drumgenx train MODEL --help`` reads its defaults from
here at start-up. A field's ``metadata["help"]`` is its flag's help, range included;
`training.commands` turns every field into a flag of the same name.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = [
    "KIT_VARIATION",
    "SHIPPED_GROOVE_THREADS",
    "CorpusSettings",
    "DownbeatTrainSettings",
    "GrooveTrainSettings",
    "OnsetTrainSettings",
    "RoleDataSettings",
    "RoleTrainSettings",
    "StyleLibrarySettings",
    "TranscriberTrainSettings",
    "command_line",
    "default_cache_dir",
]


def _setting(
    default: Any, help: str, *, low: float = 0, above: bool = False, high: float = math.inf
) -> Any:
    """A settings field whose flag says ``help`` (the command line adds the default); its
    value must be at least ``low`` (more than ``low`` with ``above``) and at most ``high``."""
    return field(default=default, metadata={"help": help, "low": low, "above": above, "high": high})


def _text_setting(default: str, help: str) -> Any:
    """A text settings field (no range: its class checks it in ``__post_init__``)."""
    return field(default=default, metadata={"help": help})


class _Ranged:
    """Checks every field against its range (`_setting`) when a settings object is made."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            if "low" not in f.metadata:  # a text setting
                continue
            value, low = getattr(self, f.name), f.metadata["low"]
            if f.metadata["above"] and not value > low:
                raise ValueError(f"{f.name} must be more than {low:g}, got {value}")
            if not value >= low:
                raise ValueError(f"{f.name} must be at least {low:g}, got {value}")
            if not value <= f.metadata["high"]:
                raise ValueError(f"{f.name} must be at most {f.metadata['high']:g}, got {value}")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/drumgenx`` (``~/.cache/drumgenx``): parsed data, outside the repo."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "drumgenx"


def command_line(argv: list[str] | None = None) -> str:
    """The command being run as it was typed (``drumgenx train ...``, ``python -m
    drumgenx.training.transcriber ...``), for the metadata of the weights it writes."""
    argv = list(sys.argv if argv is None else argv) or [""]
    path = Path(argv[0])
    head = path.name
    if path.name in ("drumgenx", "__main__.py"):
        head = "drumgenx"
    elif path.suffix == ".py" and "drumgenx" in path.parts[:-1]:
        parts = path.with_suffix("").parts
        head = "python -m " + ".".join(parts[len(parts) - parts[::-1].index("drumgenx") - 1 :])
    return " ".join([head, *argv[1:]])


SHIPPED_GROOVE_THREADS: dict[str, int] = {"humanize": 1, "vary": 2}
"""The torch thread count each shipped GrooVAE was trained with (part of the result)."""


@dataclass(frozen=True)
class GrooveTrainSettings(_Ranged):
    """`training.groove.train_groovae`: a GrooVAE on the Groove MIDI Dataset.

    The shipped weights (``groove/weights/{humanize,vary}/config.json``): seed 0, at most 200
    epochs, 50 minutes each on a 2-core CPU, 1 thread (humanize) and 2 (vary).
    """

    seed: int = _setting(0, "seeds initialisation, shuffling, dropout and z draws, 0 or more")
    epochs: int = _setting(200, "passes over the train windows at most, 1 or more", low=1)
    max_minutes: float = _setting(
        50.0,
        "wall-clock limit in minutes, more than 0; the epoch under way is then scored",
        above=True,
    )
    threads: int = _setting(
        0,
        "torch CPU threads, 0 or more; 0: as the shipped weights were trained (humanize 1, "
        "vary 2); the thread count is part of the result",
    )

    def threads_for(self, task: str) -> int:
        """The thread count a run for ``task`` uses."""
        return self.threads or SHIPPED_GROOVE_THREADS.get(task, 2)


HUMANIZER_LOSSES: tuple[str, ...] = ("laplace", "l1", "l2")


@dataclass(frozen=True)
class HumanizerTrainSettings(_Ranged):
    """`training.humanizer.train_humanizer`: the humanizer on the Groove MIDI Dataset.

    The shipped weights (``groove/weights/humanizer/humanizer.npz``, ``meta``) were trained
    with these defaults (10,000 steps: 12 minutes on one core); the loss was compared on the
    validation split (README, Stage 4).
    """

    seed: int = _setting(
        0, "seeds initialisation, the batches and the condition dropout, 0 or more"
    )
    max_minutes: float = _setting(
        90.0, "wall-clock limit of the training loop, more than 0", above=True
    )
    steps: int = _setting(10_000, "stop after this many steps, 0 or more; 0: the time limit only")
    batch_size: int = _setting(64, "2-bar windows per batch, 1 or more", low=1)
    learning_rate: float = _setting(
        1e-3, "AdamW's learning rate before the cosine decay, more than 0", above=True
    )
    width: int = _setting(64, "transformer width, 4 or more (a multiple of --heads)", low=4)
    layers: int = _setting(3, "transformer layers, 1 or more", low=1)
    heads: int = _setting(4, "attention heads, 1 or more", low=1)
    condition_dropout: float = _setting(
        0.3,
        "share of windows trained with drummer (and, drawn apart, style) 'any', 0..1",
        high=1,
    )
    loss: str = _text_setting("laplace", "laplace, l1 or l2 (see training.humanizer)")
    eval_every: int = _setting(250, "steps between validation scores, 1 or more", low=1)
    threads: int = _setting(1, "torch CPU threads, 1 or more", low=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.loss not in HUMANIZER_LOSSES:
            raise ValueError(f"loss must be one of {', '.join(HUMANIZER_LOSSES)}, got {self.loss}")
        if self.width % self.heads:
            raise ValueError(f"width must be a multiple of heads ({self.heads}), got {self.width}")


@dataclass(frozen=True)
class RoleTrainSettings(_Ranged):
    """`training.roles.train_role_scorer`: the learned role scorer on the labelled one-shots.

    The logistic member's ``c`` and the trees' share are chosen on leave-one-kit-out from the
    grids in `training.roles` (``C_GRID``, ``TREE_WEIGHTS``); the rest is fixed here. The
    shipped weights (``roles/weights/role_scorer.npz``, ``meta``): seed 0, 2 augmented copies
    (issue #15: 5,696 files of the role data already vary by velocity and kit, and 2 keep a
    run near ten minutes on one core; not tuned), 100 rounds of 15-leaf trees at learning
    rate 0.1.
    """

    seed: int = _setting(0, "seeds the augmentations and the trees, 0 or more")
    n_aug: int = _setting(2, "augmented copies of each labelled file, 0 or more")
    tree_rounds: int = _setting(100, "boosting rounds (one tree per role each), 1 or more", low=1)
    tree_leaves: int = _setting(15, "leaves per tree at most, 2 or more", low=2)
    tree_lr: float = _setting(0.1, "the trees' learning rate, more than 0", above=True)


@dataclass(frozen=True)
class RoleDataSettings(_Ranged):
    """`training.role_data.build_role_data`: the role scorer's labelled one-shots (issue #15).

    Every GM SoundFont drum kit is rendered key by key at each of ``velocities``, each
    velocity moved by a whole number drawn in ``+-velocity_jitter`` from ``seed`` (per kit,
    key and layer), so the same settings write the same files and labels.
    """

    velocities: str = _text_setting(
        "40,80,120", "comma-separated MIDI velocities rendered per key, each 1..127"
    )
    seed: int = _setting(0, "seeds the velocity jitter, 0 or more")
    velocity_jitter: int = _setting(
        4, "each rendered velocity moves by up to this much (seeded), 0..20", high=20
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.velocity_list()  # raises on a bad list

    def velocity_list(self) -> tuple[int, ...]:
        """The velocities of :attr:`velocities`, checked: distinct, each 1..127."""
        try:
            values = tuple(int(v) for v in self.velocities.split(","))
        except ValueError:
            raise ValueError(
                f"velocities must be comma-separated whole numbers, got {self.velocities!r}"
            ) from None
        if not values or len(set(values)) != len(values) or not all(1 <= v <= 127 for v in values):
            raise ValueError(f"velocities must be distinct, each 1..127, got {self.velocities!r}")
        return values


@dataclass(frozen=True)
class OnsetTrainSettings(_Ranged):
    """`training.onsets.train_onsets`: the learned onset activation on GMD renders.

    The shipped weights (``preprocess/weights/onset_activation.npz``, ``meta``): 16 epochs of
    400 batches of 64 chunks, learning rate 0.002, seed 0, 2 workers; the train performances
    shuffled with seed 2, the validation ones with seed 1.
    """

    epochs: int = _setting(16, "epochs, 1 or more (the best on validation is kept)", low=1)
    steps: int = _setting(400, "batches per epoch, 1 or more", low=1)
    batch_size: int = _setting(64, "2 s chunks per batch, 1 or more", low=1)
    learning_rate: float = _setting(
        2e-3, "peak learning rate of the one-cycle schedule, more than 0", above=True
    )
    seed: int = _setting(0, "seeds initialisation, augmentation draws and batches, 0 or more")
    train_seed: int = _setting(
        2, "shuffles the GMD train performances and deals their kits, 0 or more"
    )
    validation_seed: int = _setting(
        1, "shuffles the GMD validation performances (as the bench), 0 or more"
    )
    workers: int = _setting(2, "processes rendering the data, 1 or more", low=1)
    threads: int = _setting(2, "torch CPU threads, 1 or more", low=1)
    limit: int = _setting(0, "the first N performances of each split only, 0 or more; 0: all")


@dataclass(frozen=True)
class DownbeatTrainSettings(_Ranged):
    """`training.downbeats.fit_weights`: the beat tracker's downbeat model. The shipped one
    (``core/weights/downbeat.npz``, ``meta``) was fitted with these defaults."""

    l2: float = _setting(
        10.0, "L2 penalty on the weights, 0 or more (1, 10 and 100 alike on validation)"
    )


@dataclass(frozen=True)
class TranscriberTrainSettings(_Ranged):
    """`training.transcriber.train_transcriber`: the drum transcriber on a mixture corpus.

    The shipped weights record theirs in ``transcribe/weights/transcriber.npz`` (``meta``:
    ``settings`` and ``command``); a setting the command gave explicitly is not a default.
    """

    seed: int = _setting(0, "seeds initialisation and the crops, 0 or more")
    crop_frames: int = _setting(400, "frames per training crop (100 per second), 1 or more", low=1)
    batch_size: int = _setting(24, "crops per batch, 1 or more", low=1)
    learning_rate: float = _setting(
        1e-3, "Adam's learning rate before the cosine decay, more than 0", above=True
    )
    max_minutes: float = _setting(
        95.0, "wall-clock limit of the training loop, more than 0", above=True
    )
    steps: int = _setting(0, "stop after this many steps, 0 or more; 0: the time limit only")
    eval_every: int = _setting(250, "steps between validation scores, 1 or more", low=1)
    threads: int = _setting(2, "torch CPU threads, 1 or more", low=1)
    family_balance: float = _setting(
        0.5,
        "exponent of the kit-family balance of the crop sampler, 0 or more (0: by length only)",
    )
    eq_augment: float = _setting(
        0.5,
        "share of crops given a random smooth EQ (up to +-9 dB) on their spectrogram, 0..1",
        high=1,
    )
    pitch_augment: float = _setting(
        0.0,
        "share of crops retuned at random (up to +-3 semitones) on their spectrogram, 0..1",
        high=1,
    )
    conv_channels: int = _setting(
        12, "channels of the first two 3x3 convolutions (the third has twice), 1 or more", low=1
    )
    temporal_channels: int = _setting(
        96, "channels of the dilated 1-D convolutions over time, 1 or more", low=1
    )


@dataclass(frozen=True)
class CorpusSettings(_Ranged):
    """`training.corpus.build_corpus`: the transcriber's mixture corpus.

    The shipped transcriber's corpus (``transcribe/weights/corpus/*_corpus.json``) was built
    with ``--seed 0`` for both splits, 20 s excerpts, corpus version 3 (today's code).
    """

    seed: int = _setting(0, "seeds every draw of the corpus, 0 or more")
    excerpt_s: float = _setting(
        20.0, "longest excerpt of a performance in seconds, 4 or more", low=4
    )
    workers: int = _setting(1, "processes rendering items, 1 or more", low=1)


@dataclass(frozen=True)
class StyleLibrarySettings(_Ranged):
    """`training.styles.build_library`: the GMD style library of the skeleton's ``style``
    patterns. The shipped one (``skeleton/data/styles.json.gz``, ``settings``) was built with
    these defaults.
    """

    beat_bars: int = _setting(2, "bars per beat pattern, 1..4", low=1, high=4)
    min_hits: int = _setting(4, "hits each bar of a beat or a fill needs, 1 or more", low=1)


KIT_VARIATION = 0.6
"""Default share of varied kits in a corpus of the training kits (``--kit_variation``); a
corpus of the validation kits is not varied unless asked."""
