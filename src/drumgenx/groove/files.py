"""Where GrooVAE's weights live, and what identifies them, without importing torch.

A weights folder holds ``model.pt`` (the network's state) and ``config.json`` (its
architecture and training record); the package ships one per task under ``weights/``.
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
    "model_folder",
    "model_identity",
]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_FILE = "model.pt"
CONFIG_FILE = "config.json"
LOG_FILE = "train_log.jsonl"


def model_folder(task: str, model_dir: str | Path | None = None) -> Path:
    """The weights folder a ``task`` run loads: ``model_dir``, or the shipped one."""
    return Path(model_dir) if model_dir is not None else WEIGHTS_DIR / task


def model_identity(task: str, model_dir: str | Path | None = None) -> str:
    """SHA-256 over the model's ``config.json`` and ``model.pt``: the model a run uses.

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
    folder = model_folder(task, model_dir)
    digest = hashlib.sha256()
    for name in (CONFIG_FILE, MODEL_FILE):
        digest.update(weights_sha256(folder / name, f"GrooVAE {task} weights").encode("ascii"))
    return digest.hexdigest()
