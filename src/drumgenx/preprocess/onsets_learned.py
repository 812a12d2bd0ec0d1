"""Learned onset activation for drums: a tiny 1-D conv net over the flux detector's spectrogram.

An option next to the hand-tuned spectral flux of :mod:`drumgenx.preprocess.onsets_flux`
(``OnsetParams(method="learned")`` selects it in :func:`~drumgenx.preprocess.onsets.detect_onsets`).
Pure numpy at inference: ``import drumgenx`` and stage 1 never need torch. The weights
(``weights/onset_activation.npz``, a few tens of kB) were trained by ``drumgenx train onsets``
(`drumgenx.training.onsets`) on Groove MIDI Dataset *train* performances rendered through
the Debian drum kits; the threshold was chosen on the *validation* split. The file's
``meta`` entry records the command, the splits, the date and the validation scores.

Pipeline
--------
1. **Input.** The flux detector's log filterbank frames (``_log_filterbank``: 200 fps,
   12 filters per octave, the same peak normalisation and noise-floor knee) and their
   half-wave rectified first differences, standardised per feature with the training set's
   mean and deviation. The model was trained at 44.1 kHz, so other rates are resampled to it
   first (soxr): the filterbank's width depends on the rate.
2. **Activation.** A stack of 1-D convolutions over time (ReLU between them, a sigmoid at the
   end), zero-padded to keep the length. Each layer is computed as ``k`` matrix products of
   time-shifted views of its input (no window copies), so the net costs a few ms per
   30 s of audio. The receptive field is ~+-50 ms, enough to tell the second hit of a drag
   or flam from the first one's tail (the flux detector's main miss).
3. **Peak picking.** A frame is an onset when its activation exceeds ``threshold``, is the
   maximum within ``[-pre_max_s, +post_max_s]`` and comes more than ``min_gap_s`` after the
   previous onset (all stored with the weights, tuned on validation), reusing the flux
   detector's picker with its adaptive part switched off (a probability needs no local mean).
4. **Timing and starts.** Sub-frame parabola refinement and the model's own
   ``time_offset_s``, then the flux detector's backtracking for ``starts``.

``strengths`` rank hits by loudness as the flux detector's do: the mean positive log
difference over all filters around the onset (a rise in dB, averaged), over its file maximum.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drumgenx.core.peaks import refine_peaks
from drumgenx.preprocess.onsets_flux import (
    OnsetParams,
    Onsets,
    _backtrack,
    _check_audio,
    _log_filterbank,
    pick_peaks,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "LearnedOnsetModel",
    "activation_from_features",
    "detect_onsets_learned",
    "learned_activation",
    "learned_features",
    "load_model",
]

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "onset_activation.npz"
MODEL_SR = 44100
"""The model's input rate: its filterbank (and so its input width) is the one at 44.1 kHz."""


@dataclass(frozen=True)
class LearnedOnsetModel:
    """Weights and peak-picking settings of a learned onset activation.

    Layer ``i`` is a 1-D convolution over time: ``weights[i]`` has shape
    ``(kernel, in_channels, out_channels)`` and output frame ``t`` is
    ``bias + sum_j x[t + (j - (kernel - 1) / 2) * dilation] @ weights[i][j]``, with zeros
    outside the input (PyTorch's ``Conv1d(padding="same")`` with ``weight.permute(2, 1, 0)``).
    ReLU follows every layer but the last, which has one output channel and a sigmoid.
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    dilations: tuple[int, ...]
    mean: np.ndarray
    """Per-feature mean of the training inputs (subtracted first)."""
    std: np.ndarray
    """Per-feature standard deviation of the training inputs (divided by second)."""
    threshold: float = 0.5
    pre_max_s: float = 0.01
    post_max_s: float = 0.01
    min_gap_s: float = 0.025
    time_offset_s: float = 0.0
    meta: dict = field(default_factory=dict)
    """Provenance: training command, splits, date, validation scores."""

    @property
    def n_params(self) -> int:
        """Number of trained parameters (weights and biases)."""
        return int(sum(w.size + b.size for w, b in zip(self.weights, self.biases, strict=True)))

    @property
    def receptive_field(self) -> int:
        """Frames of input that one output frame sees."""
        return 1 + sum(
            (w.shape[0] - 1) * d for w, d in zip(self.weights, self.dilations, strict=True)
        )


def save_model(path: str | Path, model: LearnedOnsetModel) -> None:
    """Write ``model`` as an ``.npz`` that :func:`load_model` reads (no pickles)."""
    arrays: dict[str, np.ndarray] = {
        "n_layers": np.asarray(len(model.weights)),
        "mean": model.mean.astype(np.float32),
        "std": model.std.astype(np.float32),
        "dilations": np.asarray(model.dilations, dtype=np.int64),
        "peak_picking": np.asarray(
            [
                model.threshold,
                model.pre_max_s,
                model.post_max_s,
                model.min_gap_s,
                model.time_offset_s,
            ],
            dtype=np.float64,
        ),
        "meta": np.asarray(json.dumps(model.meta, sort_keys=True)),
    }
    for i, (w, b) in enumerate(zip(model.weights, model.biases, strict=True)):
        arrays[f"w{i}"] = w.astype(np.float32)
        arrays[f"b{i}"] = b.astype(np.float32)
    np.savez_compressed(path, **arrays)


def _load(path: Path) -> LearnedOnsetModel:
    with np.load(path, allow_pickle=False) as z:
        n = int(z["n_layers"])
        threshold, pre_max, post_max, min_gap, offset = (float(v) for v in z["peak_picking"])
        return LearnedOnsetModel(
            weights=tuple(z[f"w{i}"] for i in range(n)),
            biases=tuple(z[f"b{i}"] for i in range(n)),
            dilations=tuple(int(d) for d in z["dilations"]),
            mean=z["mean"],
            std=z["std"],
            threshold=threshold,
            pre_max_s=pre_max,
            post_max_s=post_max,
            min_gap_s=min_gap,
            time_offset_s=offset,
            meta=json.loads(str(z["meta"])),
        )


@functools.cache
def _load_default() -> LearnedOnsetModel:
    return _load(DEFAULT_WEIGHTS)


def load_model(path: str | Path | None = None) -> LearnedOnsetModel:
    """Load a learned onset model; ``None`` gives the shipped one (cached after the first call).

    Raises
    ------
    FileNotFoundError
        If the weights file is missing (e.g. an install without package data).
    """
    if path is None:
        if not DEFAULT_WEIGHTS.is_file():
            raise FileNotFoundError(
                f"learned onset weights not found at {DEFAULT_WEIGHTS}; reinstall drumgenx "
                "with its package data, or use OnsetParams(method='flux')"
            )
        return _load_default()
    return _load(Path(path))


def learned_features(y: np.ndarray, *, sr: int) -> tuple[np.ndarray, float]:
    """The model's input: log filterbank frames and their positive differences.

    Parameters
    ----------
    y : np.ndarray
        Mono float audio at ``sr`` (already checked and, for the model, at ``MODEL_SR``).
    sr : int
        Sample rate.

    Returns
    -------
    features : np.ndarray
        float32 ``(frames, 2 * filters)``: ``[log spectrum, max(0, its change from the
        previous frame)]``, not standardised.
    fps : float
        Frames per second.
    """
    # The analysis settings are the flux detector's defaults, fixed: the model was trained
    # on exactly these frames.
    logspec, _, _, hop = _log_filterbank(y, sr, OnsetParams())
    diff = np.zeros_like(logspec)
    np.subtract(logspec[1:], logspec[:-1], out=diff[1:])
    np.maximum(diff, 0.0, out=diff)
    return np.concatenate([logspec, diff], axis=1), sr / hop


def activation_from_features(x: np.ndarray, model: LearnedOnsetModel) -> np.ndarray:
    """Numpy forward pass: standardised features (frames, features) -> activation (frames,)."""
    h = np.ascontiguousarray(x, dtype=np.float32)
    n = len(h)
    last = len(model.weights) - 1
    for i, (w, b, d) in enumerate(zip(model.weights, model.biases, model.dilations, strict=True)):
        k = w.shape[0]
        half = (k - 1) // 2 * d
        hp = np.zeros((n + 2 * half, h.shape[1]), dtype=np.float32)
        hp[half : half + n] = h
        # A convolution as k matrix products of shifted views: no (frames, k * channels)
        # window copy, and each product is one BLAS call.
        out = hp[0:n] @ w[0]
        for j in range(1, k):
            out += hp[j * d : j * d + n] @ w[j]
        out += b
        if i < last:
            np.maximum(out, 0.0, out=out)
        h = out
    z = h[:, 0].astype(np.float64)
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


def _prepare(y: np.ndarray, sr: int) -> np.ndarray:
    y = _check_audio(y, sr)
    if sr != MODEL_SR and y.size:
        import soxr  # a core dependency; imported here so 44.1 kHz input never needs it

        y = soxr.resample(y, sr, MODEL_SR).astype(np.float32, copy=False)
    return y


def learned_activation(
    y: np.ndarray, *, sr: int, model: LearnedOnsetModel | None = None
) -> tuple[np.ndarray, float, np.ndarray]:
    """Per-frame onset probability of the learned model.

    Parameters
    ----------
    y : np.ndarray
        Mono audio, 1-D float.
    sr : int
        Sample rate of ``y`` (resampled to 44.1 kHz for the model if different).
    model : LearnedOnsetModel, optional
        Defaults to the shipped weights.

    Returns
    -------
    activation : np.ndarray
        float32 in (0, 1), frame ``i`` centred at ``i / fps`` seconds.
    fps : float
        Frames per second (200).
    flux : np.ndarray
        Mean positive log difference over all filters per frame (for ``strengths``).
    """
    model = model if model is not None else load_model()
    y = _prepare(y, sr)
    if y.size == 0:
        z = np.zeros(0, dtype=np.float32)
        return z, MODEL_SR / round(OnsetParams().hop_s * MODEL_SR), z
    feats, fps = learned_features(y, sr=MODEL_SR)
    if feats.shape[1] != model.mean.shape[0]:
        raise ValueError(
            f"model expects {model.mean.shape[0]} features per frame, got {feats.shape[1]}"
        )
    n_filt = feats.shape[1] // 2
    flux = feats[:, n_filt:].mean(axis=1)
    x = (feats - model.mean) / model.std
    return activation_from_features(x, model), fps, flux


def detect_onsets_learned(
    y: np.ndarray,
    *,
    sr: int,
    params: OnsetParams | None = None,
    model: LearnedOnsetModel | None = None,
) -> Onsets:
    """Detect drum onsets with the learned activation; same output as ``detect_onsets``.

    Parameters
    ----------
    y : np.ndarray
        Mono audio, 1-D float32/float64 (2-D input raises ``ValueError``).
    sr : int
        Sample rate of ``y``.
    params : OnsetParams, optional
        Only the backtracking settings (``backtrack_*``, ``env_hop_s``) are used: the analysis
        and peak-picking settings belong to the model.
    model : LearnedOnsetModel, optional
        Defaults to the shipped weights (``load_model()``).

    Returns
    -------
    Onsets
        ``times``, ``starts`` (backtracked, ``<= times``) and ``strengths`` (0..1), sorted.
        Silence gives empty arrays.
    """
    y = _check_audio(y, sr)
    empty = np.zeros(0, dtype=np.float64)
    if y.size == 0 or not np.any(y):
        return Onsets(empty, empty.copy(), empty.copy())
    model = model if model is not None else load_model()
    act, fps, flux = learned_activation(y, sr=sr, model=model)
    pick = OnsetParams(
        delta=model.threshold,
        avg_mult=0.0,
        pre_max_s=model.pre_max_s,
        post_max_s=model.post_max_s,
        min_gap_s=model.min_gap_s,
    )
    peaks = pick_peaks(act, fps, pick)
    if peaks.size == 0:
        return Onsets(empty, empty.copy(), empty.copy())
    times = refine_peaks(act, peaks) / fps + model.time_offset_s
    times = np.clip(times, 0.0, len(y) / sr)
    # Loudness ranking as the flux detector's: the largest rise near the peak (the net may
    # peak a frame before or after the flux).
    lo = np.clip(peaks - 1, 0, len(flux) - 1)
    hi = np.clip(peaks + 1, 0, len(flux) - 1)
    rise = np.maximum(np.maximum(flux[lo], flux[peaks]), flux[hi]).astype(np.float64)
    top = float(rise.max())
    strengths = rise / top if top > 0 else np.zeros(len(peaks))
    starts = _backtrack(y, sr, times, params if params is not None else OnsetParams())
    return Onsets(times.astype(np.float64), starts.astype(np.float64), strengths)
