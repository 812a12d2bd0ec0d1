"""Where stage 4's weights live, and what identifies them, without importing torch.

A GrooVAE weights folder holds ``model.pt`` (the network's state) and ``config.json`` (its
architecture and training record); the package ships one per task under ``weights/``
(``humanize``, ``vary``). The humanizer (``humanize``'s default model) is one file,
``weights/humanizer/humanizer.npz``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from drumgenx.core.versioning import weights_sha256

__all__ = [
    "CONFIG_FILE",
    "LOG_FILE",
    "MODEL_FILE",
    "WEIGHTS_DIR",
    "is_groovae_folder",
    "model_folder",
    "model_identity",
    "model_weights",
    "uses_humanizer",
]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_FILE = "model.pt"
CONFIG_FILE = "config.json"
LOG_FILE = "train_log.jsonl"
HUMANIZER_FILE = "humanizer/humanizer.npz"  # under WEIGHTS_DIR


def model_folder(task: str, model_dir: str | Path | None = None) -> Path:
    """The weights folder a ``task`` run loads: ``model_dir``, or the shipped one."""
    return Path(model_dir) if model_dir is not None else WEIGHTS_DIR / task


def is_groovae_folder(path: str | Path) -> bool:
    """Whether ``path`` is a GrooVAE weights folder (it holds ``model.pt``)."""
    return (Path(path) / MODEL_FILE).is_file()


def uses_humanizer(task: str, model_dir: str | Path | None = None) -> bool:
    """Whether a ``task`` run loads the humanizer: ``humanize``, unless ``model_dir`` is a
    GrooVAE folder."""
    return task == "humanize" and not (model_dir is not None and is_groovae_folder(model_dir))


def model_weights(task: str, model_dir: str | Path | None = None) -> Path:
    """What a ``task`` run loads: the humanizer's ``.npz`` (`uses_humanizer`) or a GrooVAE
    folder."""
    if uses_humanizer(task, model_dir):
        path = Path(model_dir) if model_dir is not None else WEIGHTS_DIR / HUMANIZER_FILE
        return path / Path(HUMANIZER_FILE).name if path.is_dir() else path
    return model_folder(task, model_dir)


def model_identity(task: str, model_dir: str | Path | None = None) -> str:
    """SHA-256 over the model's files (`model_weights`): the model a run uses.

    ``drumgenx run`` keys stage 4 on it, so new weights (retrained, or another folder) redo
    the groove.

    Parameters
    ----------
    task
        ``"humanize"`` or ``"vary"``.
    model_dir
        A weights folder; default the shipped one for ``task``.

    Raises
    ------
    DrumgenxError
        A file is missing or unreadable, naming it.
    """
    weights = model_weights(task, model_dir)
    if weights.suffix == ".npz":
        return weights_sha256(weights, "humanizer weights")
    folder = weights
    digest = hashlib.sha256()
    for name in (CONFIG_FILE, MODEL_FILE):
        digest.update(weights_sha256(folder / name, f"GrooVAE {task} weights").encode("ascii"))
    return digest.hexdigest()
