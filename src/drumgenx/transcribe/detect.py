"""From activations to hits: peak picking, sub-frame timing, class probabilities per hit.

``transcribe_audio(y, sr=sr)`` is the whole transcriber on an array: features
(:mod:`.features`), the network (:mod:`.model`), then the peak picking here.

A hit is a peak of the "any drum hit" activation: above its threshold, the maximum within
``+-peak_window_s``, and more than ``min_gap_s`` after the previous hit (hits closer than
30 ms are one perceptual onset: madmom's ``combine``, and the merge of the benchmark's
reference). Its time is the vertex of the parabola through the peak frame and its
neighbours. Its class probabilities are each class activation's maximum within
``+-class_window_s`` of the peak (a kick's class peak may sit a frame from the hit's), and
its classes are those whose probability reaches the class threshold (at least the most
probable one: the network said a drum was hit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drumgenx.core.peaks import keep_apart, moving_max, refine_peaks
from drumgenx.transcribe.features import FPS, transcriber_features
from drumgenx.transcribe.model import CLASSES, TranscriberModel, activations, load_model

__all__ = [
    "TranscribeParams",
    "Transcription",
    "framed_activations",
    "hits_from_activations",
    "pick_peaks",
    "transcribe_audio",
]


@dataclass(frozen=True)
class TranscribeParams:
    """Peak-picking settings. ``None`` thresholds take the model's (tuned on validation)."""

    hit_threshold: float | None = None
    """The "any hit" activation a peak must reach (0..1)."""
    class_thresholds: tuple[float, ...] | None = None
    """Per class (order of `CLASSES`): the probability at which a hit counts as that class."""
    peak_window_s: float = 0.02
    """A peak is the activation's maximum within this many seconds each side (2 frames)."""
    min_gap_s: float = 0.03
    """Hits closer than this are one (madmom's ``combine=0.03``)."""
    class_window_s: float = 0.01
    """A class probability is the class activation's maximum within this of the hit."""

    def __post_init__(self) -> None:
        if self.hit_threshold is not None and not 0.0 < self.hit_threshold < 1.0:
            raise ValueError(f"hit_threshold must be between 0 and 1, got {self.hit_threshold}")
        if self.class_thresholds is not None and len(self.class_thresholds) != len(CLASSES):
            raise ValueError(f"class_thresholds needs {len(CLASSES)} values")
        for name in ("peak_window_s", "min_gap_s", "class_window_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class Transcription:
    """The hits found in one piece of audio, sorted by time; arrays share their first axis."""

    times: np.ndarray
    """Seconds: each hit's onset."""
    strengths: np.ndarray
    """The "any hit" activation at the peak (0..1): how clearly a drum was hit."""
    class_probs: np.ndarray
    """``(hits, 5)``: each class's probability (order of `CLASSES`)."""
    classes: np.ndarray
    """``(hits, 5)`` bool: the classes each hit is transcribed as (at least one)."""
    activations: np.ndarray
    """``(frames, 6)``: the network's output, frame ``i`` at ``i / FPS`` s."""


def pick_peaks(
    activation: np.ndarray, *, threshold: float, window: int, min_gap: float
) -> np.ndarray:
    """Sub-frame positions (frames) of the peaks of one activation curve.

    A peak reaches ``threshold``, is the maximum within ``window`` frames each side (the first
    of a plateau) and comes more than ``min_gap`` frames after the previous kept peak.
    """
    a = np.asarray(activation, dtype=np.float64)
    if a.size < 3:
        return np.zeros(0)
    cand = np.flatnonzero((a >= moving_max(a, window, window)) & (a >= threshold))
    return refine_peaks(a, keep_apart(cand, min_gap))


def hits_from_activations(
    act: np.ndarray, *, model: TranscriberModel, params: TranscribeParams = TranscribeParams()
) -> Transcription:
    """Peak-pick ``act`` ``(frames, 6)`` into a :class:`Transcription`."""
    hit_threshold = model.thresholds[-1] if params.hit_threshold is None else params.hit_threshold
    class_thresholds = np.asarray(
        model.thresholds[: len(CLASSES)]
        if params.class_thresholds is None
        else params.class_thresholds
    )
    pos = pick_peaks(
        act[:, -1],
        threshold=hit_threshold,
        window=round(params.peak_window_s * FPS),
        min_gap=params.min_gap_s * FPS,
    )
    frames = np.clip(np.round(pos).astype(np.int64), 0, max(0, len(act) - 1))
    reach = round(params.class_window_s * FPS)
    if len(act):
        padded = np.pad(act[:, : len(CLASSES)], ((reach, reach), (0, 0)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1, axis=0)
        probs = windows[frames].max(axis=2).astype(np.float64)
        strengths = act[frames, -1].astype(np.float64)
    else:
        probs, strengths = np.zeros((0, len(CLASSES))), np.zeros(0)
    classes = probs >= class_thresholds[None, :]
    if len(probs):
        classes[np.arange(len(probs)), probs.argmax(axis=1)] = True
    return Transcription(
        times=pos / FPS + model.time_offset_s,
        strengths=strengths,
        class_probs=probs,
        classes=classes,
        activations=act,
    )


def transcribe_audio(
    y: np.ndarray,
    *,
    sr: int,
    params: TranscribeParams = TranscribeParams(),
    model: TranscriberModel | None = None,
) -> Transcription:
    """Transcribe the drums in mono audio ``y`` (a drum track or a full mix).

    Parameters
    ----------
    y : np.ndarray
        Mono audio, 1-D float (callers downmix).
    sr : int
        Its sample rate (any; resampled to 44.1 kHz for the network).
    params : TranscribeParams
        Peak picking; the defaults take the model's tuned thresholds.
    model : TranscriberModel, optional
        Default: the shipped weights (loaded once per process).

    Returns
    -------
    Transcription
        Hits (times, strengths, class probabilities and classes) and the activations.
        Silence gives no hits.
    """
    model = load_model() if model is None else model
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"y must be mono (1-D), got shape {y.shape}")
    if not np.any(y):
        act = np.zeros((0, len(CLASSES) + 1), dtype=np.float32)
        return hits_from_activations(act, model=model, params=params)
    act = framed_activations(y, sr=sr, model=model)
    return hits_from_activations(act, model=model, params=params)


def framed_activations(
    y: np.ndarray, *, sr: int, model: TranscriberModel, peak: float | None = None
) -> np.ndarray:
    """The network's activations ``(frames, 6)`` for mono audio ``y`` (frame ``i`` at
    ``i / FPS`` s), heard between as many frames of silence as the network looks each side
    (`TranscriberModel.context`), so hits on the first and last samples count as others do.
    ``peak``: as for `transcriber_features`."""
    pad = model.context
    features = transcriber_features(y, sr=sr, peak=peak, silence=pad)
    return activations(features, model=model)[pad : features.shape[1] - pad]
