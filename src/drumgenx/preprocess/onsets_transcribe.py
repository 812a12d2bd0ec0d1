"""Stage 1's ``--onset_method transcribe``: hits from the drum transcriber, starts on the stem.

The transcriber (:mod:`drumgenx.transcribe`) was trained on full mixes and on drums alone,
so it listens to the *original* audio of a block, where a separator's artefacts cannot
hide or invent a hit. The slices are still cut from the separated drum stem: each hit's
attack start is backtracked on the stem with the flux detector's backtracking
(``onsets_flux._backtrack``, ``OnsetParams.backtrack_*``), so a slice begins where its sound in
the stem begins. Each hit keeps the transcriber's five class probabilities, which the
manifest records and stage 2 fuses into the role.

``OnsetParams.transcriber_weights`` picks the weights (empty: the shipped ones); the
thresholds and timing offset are the model's own, chosen on validation kits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drumgenx.core.errors import ParameterError
from drumgenx.core.versioning import file_sha256
from drumgenx.preprocess.onsets_flux import OnsetParams, Onsets, _backtrack, _check_audio

__all__ = [
    "TranscribedOnsets",
    "detect_onsets_transcribe",
    "load_transcriber",
    "transcriber_identity",
    "weights_path",
]


@dataclass(frozen=True)
class TranscribedOnsets:
    """Onsets with each hit's class probabilities."""

    onsets: Onsets
    """``times`` (the transcriber's hit times), ``starts`` (backtracked on the stem),
    ``strengths`` (the "any hit" activation at the hit, 0..1)."""
    class_probs: np.ndarray
    """``(hits, 5)``: kick, snare, hi-hat, tom, cymbal (``transcribe.model.CLASSES``)."""
    classes: np.ndarray
    """``(hits, 5)`` bool: the classes each hit was transcribed as (at least one: those
    reaching the model's tuned thresholds, else the most probable)."""


def weights_path(params: OnsetParams) -> Path:
    """The weights file ``params`` names (``transcriber_weights``; empty: the shipped one)."""
    from drumgenx.transcribe.model import DEFAULT_WEIGHTS

    if not params.transcriber_weights:
        return DEFAULT_WEIGHTS
    return Path(params.transcriber_weights).expanduser()


def load_transcriber(params: OnsetParams):  # -> transcribe.model.TranscriberModel
    """The transcriber ``params`` names, loaded once per process.

    Raises
    ------
    DrumgenxError
        The weights file is missing or unreadable (one line naming it).
    """
    from drumgenx.core.errors import Notice
    from drumgenx.transcribe.model import open_model

    hint = Notice(
        "{shipped}; set {0}, or choose another {1} (flux)",
        "onsets.transcriber_weights",
        "onsets.method",
        shipped="" if params.transcriber_weights else " (the shipped weights are not installed)",
    )
    return open_model(weights_path(params), hint=hint)[1]


def transcriber_identity(params: OnsetParams) -> str:
    """SHA-256 of the weights file ``params`` names: what makes two runs' hits comparable
    (``drumgenx run`` keys stage 1 on it)."""
    path = weights_path(params)
    try:
        return file_sha256(path)
    except OSError as exc:
        raise ParameterError(
            "onset_method",
            f"transcribe: cannot read transcriber weights {path}: {exc.strerror or exc}",
        ) from None


def detect_onsets_transcribe(
    mix: np.ndarray,
    *,
    sr: int,
    stem: np.ndarray | None = None,
    stem_sr: int | None = None,
    params: OnsetParams | None = None,
) -> TranscribedOnsets:
    """Hits of mono ``mix`` found by the transcriber, with attack starts on ``stem``.

    Parameters
    ----------
    mix : np.ndarray
        The original audio, mono 1-D (the transcriber's input).
    sr : int
        Its rate.
    stem, stem_sr
        The separated drum stem, mono, and its rate (a separator may resample): where the
        starts are backtracked. Default: ``mix`` itself.
    params : OnsetParams, optional
        ``transcriber_weights`` and the backtracking settings (default: `OnsetParams()`).

    Returns
    -------
    TranscribedOnsets
        Sorted by time; ``starts <= times``; silence gives no hits.
    """
    from drumgenx.transcribe.detect import transcribe_audio
    from drumgenx.transcribe.model import CLASSES

    params = OnsetParams(method="transcribe") if params is None else params
    mix = _check_audio(mix, sr)
    if stem is None:
        stem, stem_sr = mix, sr
    stem = _check_audio(stem, stem_sr if stem_sr is not None else sr)
    stem_sr = sr if stem_sr is None else stem_sr
    empty = np.zeros(0, dtype=np.float64)
    if mix.size == 0 or not np.any(mix):
        return TranscribedOnsets(
            Onsets(empty, empty.copy(), empty.copy()),
            np.zeros((0, len(CLASSES))),
            np.zeros((0, len(CLASSES)), dtype=bool),
        )
    found = transcribe_audio(mix, sr=sr, model=load_transcriber(params))
    times = np.clip(found.times.astype(np.float64), 0.0, len(mix) / sr)
    starts = _backtrack(stem, stem_sr, times, params)
    return TranscribedOnsets(
        Onsets(times, starts.astype(np.float64), found.strengths.astype(np.float64)),
        found.class_probs.astype(np.float64),
        found.classes.copy(),
    )
