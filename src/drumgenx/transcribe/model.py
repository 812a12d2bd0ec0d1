"""The drum transcriber's network, run in numpy: frames of a mix in, six activations out.

A small convolutional network over the log spectrogram of :mod:`.features`, in the manner of
the CNN drum transcribers of Vogl et al. (2017) and ADTOF (Zehren et al., 2023): a few 3x3
convolutions over time and frequency with pooling along frequency only (so every frame keeps
its own output), then dilated 1-D convolutions over time that see ~+-0.2 s of context (enough
to tell a drum's attack from a note of the music under it). The output per frame is a
sigmoid for each of the five drum classes of `CLASSES` and one for "any drum hit".

The weights were trained with PyTorch (``python -m drumgenx.training.transcriber``, see
:mod:`drumgenx.training.transcriber`), batch normalisation folded into the convolutions,
and saved as a small ``.npz`` (no pickles) with the architecture, the feature standardisation
and the provenance (command, data, splits, scores) in it. Inference needs only numpy: each
convolution is one matrix product over an im2col view, run in chunks of `CHUNK_FRAMES` with
enough context that the result equals a whole-file pass exactly.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "CLASSES",
    "DEFAULT_WEIGHTS",
    "OUTPUTS",
    "Layer",
    "TranscriberModel",
    "activations",
    "load_model",
    "open_model",
    "save_model",
]

CLASSES = ("kick", "snare", "hihat", "tom", "cymbal")
"""The five drum classes: kick; snare, clap and rim; hi-hat, ride and shakers; toms; crash
and other cymbals."""
OUTPUTS = (*CLASSES, "hit")
"""The network's outputs per frame: the five classes, then "any drum hit"."""
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "transcriber.npz"
CHUNK_FRAMES = 1000
"""Frames computed per pass (10 s): bounds memory on long files."""


@dataclass(frozen=True)
class Layer:
    """One layer. ``kind`` is ``conv2d`` (3x3, same padding), ``pool`` (max over ``size``
    frequency bins), ``flatten`` (channels x frequency -> features per frame) or ``conv1d``
    (over time, ``kernel`` taps ``dilation`` frames apart, same padding). ReLU follows every
    convolution but the last, which is followed by a sigmoid."""

    kind: str
    weight: np.ndarray | None = None
    """conv2d: ``(out, in, 3, 3)``; conv1d: ``(out, in, kernel)`` (PyTorch's layouts)."""
    bias: np.ndarray | None = None
    size: int = 1
    dilation: int = 1


@dataclass(frozen=True)
class TranscriberModel:
    """Weights, feature standardisation and peak-picking defaults of a transcriber."""

    layers: tuple[Layer, ...]
    mean: np.ndarray
    """Per channel and filter ``(2, filters)``: subtracted from the features first."""
    std: np.ndarray
    """Per channel and filter ``(2, filters)``: the features are divided by it second."""
    thresholds: tuple[float, ...] = (0.5,) * len(OUTPUTS)
    """Peak-picking threshold per output (chosen on validation kits by the trainer)."""
    time_offset_s: float = 0.0
    """Added to every peak time: the median error of the peaks on validation kits."""
    meta: dict = field(default_factory=dict)
    """Provenance: command, data, splits, date, validation scores."""

    @property
    def n_params(self) -> int:
        return int(
            sum(
                layer.weight.size + layer.bias.size
                for layer in self.layers
                if layer.weight is not None
            )
        )

    @property
    def context(self) -> int:
        """Frames of input each side of a frame that its output depends on."""
        reach = 0
        for layer in self.layers:
            if layer.kind == "conv2d":
                reach += 1
            elif layer.kind == "conv1d":
                reach += (layer.weight.shape[2] - 1) // 2 * layer.dilation
        return reach


def save_model(path: str | Path, model: TranscriberModel) -> None:
    """Write ``model`` as an ``.npz`` that :func:`load_model` reads (no pickles)."""
    arch = [
        {"kind": layer.kind, "size": layer.size, "dilation": layer.dilation}
        for layer in model.layers
    ]
    arrays: dict[str, np.ndarray] = {
        "arch": np.asarray(json.dumps(arch)),
        "mean": model.mean.astype(np.float32),
        "std": model.std.astype(np.float32),
        "thresholds": np.asarray(model.thresholds, dtype=np.float64),
        "time_offset_s": np.asarray(model.time_offset_s, dtype=np.float64),
        "meta": np.asarray(json.dumps(model.meta, sort_keys=True)),
    }
    for i, layer in enumerate(model.layers):
        if layer.weight is not None:
            arrays[f"w{i}"] = layer.weight.astype(np.float32)
            arrays[f"b{i}"] = layer.bias.astype(np.float32)
    np.savez_compressed(path, **arrays)


def _load(path: Path) -> TranscriberModel:
    with np.load(path, allow_pickle=False) as z:
        arch = json.loads(str(z["arch"]))
        layers = tuple(
            Layer(
                kind=spec["kind"],
                weight=z.get(f"w{i}", None),
                bias=z.get(f"b{i}", None),
                size=int(spec["size"]),
                dilation=int(spec["dilation"]),
            )
            for i, spec in enumerate(arch)
        )
        return TranscriberModel(
            layers=layers,
            mean=z["mean"],
            std=z["std"],
            thresholds=tuple(float(t) for t in z["thresholds"]),
            time_offset_s=float(z["time_offset_s"]),
            meta=json.loads(str(z["meta"])),
        )


@functools.cache
def _load_cached(path: Path) -> TranscriberModel:
    return _load(path)


def load_model(path: str | Path | None = None) -> TranscriberModel:
    """Load a transcriber, once per process and path; ``None`` gives the shipped weights.

    Raises
    ------
    FileNotFoundError
        The weights file is missing (e.g. an install without package data).
    """
    path = DEFAULT_WEIGHTS if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"transcriber weights not found at {path}; reinstall drumgenx with its package "
            "data, or choose another onset method (flux)"
        )
    return _load_cached(path.resolve())


def open_model(path: str | Path | None = None, *, hint: str = "") -> tuple[Path, TranscriberModel]:
    """:func:`load_model` for commands: the path it read, and a missing or unreadable file as
    one :class:`~drumgenx.core.errors.DrumgenxError` line naming it (``hint`` appended; a
    `~drumgenx.core.errors.Notice` hint names its parameters as the caller calls them)."""
    from drumgenx.core.errors import DrumgenxError, ParameterError

    path = DEFAULT_WEIGHTS if path is None else Path(path).expanduser()
    if not path.is_file():
        raise ParameterError.about(
            "transcriber weights not found: {path}{hint}", path=str(path), hint=hint
        )
    try:
        return path, load_model(path)
    except (OSError, ValueError, KeyError) as exc:
        raise DrumgenxError(f"cannot load transcriber weights {path}: {exc}") from None


# --- inference -----------------------------------------------------------------------------


def _conv2d(x: np.ndarray, layer: Layer) -> np.ndarray:
    """3x3 same convolution of ``x`` ``(channels, frames, filters)``."""
    c, t, f = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    cols = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))  # c,t,f,3,3
    cols = cols.transpose(0, 3, 4, 1, 2).reshape(c * 9, t * f)
    w = layer.weight.reshape(layer.weight.shape[0], c * 9)
    return (w @ cols + layer.bias[:, None]).reshape(-1, t, f)


def _conv1d(x: np.ndarray, layer: Layer) -> np.ndarray:
    """Same convolution over time of ``x`` ``(features, frames)``."""
    out_c, _in_c, k = layer.weight.shape
    reach = (k - 1) // 2 * layer.dilation
    xp = np.pad(x, ((0, 0), (reach, reach)))
    t = x.shape[1]
    y = np.broadcast_to(layer.bias[:, None], (out_c, t)).copy()
    for j in range(k):
        y += layer.weight[:, :, j] @ xp[:, j * layer.dilation : j * layer.dilation + t]
    return y


def _forward(x: np.ndarray, model: TranscriberModel) -> np.ndarray:
    """Activations ``(frames, outputs)`` of standardised features ``(2, frames, filters)``."""
    convs = [i for i, layer in enumerate(model.layers) if layer.weight is not None]
    last = convs[-1]
    for i, layer in enumerate(model.layers):
        if layer.kind == "conv2d":
            x = _conv2d(x, layer)
        elif layer.kind == "conv1d":
            x = _conv1d(x, layer)
        elif layer.kind == "pool":
            c, t, f = x.shape
            keep = f // layer.size * layer.size
            x = x[:, :, :keep].reshape(c, t, keep // layer.size, layer.size).max(axis=3)
            continue
        elif layer.kind == "flatten":
            c, t, f = x.shape
            x = x.transpose(0, 2, 1).reshape(c * f, t)
            continue
        else:
            raise ValueError(f"unknown layer kind {layer.kind!r}")
        if i != last:
            np.maximum(x, 0.0, out=x)
    return (1.0 / (1.0 + np.exp(-x))).T.astype(np.float32)


def activations(features: np.ndarray, *, model: TranscriberModel) -> np.ndarray:
    """Per-frame activations of the five classes and "any hit", each 0..1.

    Parameters
    ----------
    features : np.ndarray
        ``(2, frames, filters)`` from :func:`~drumgenx.transcribe.features.transcriber_features`.
    model : TranscriberModel
        From :func:`load_model`.

    Returns
    -------
    np.ndarray
        float32 ``(frames, 6)``, columns in the order of `OUTPUTS`. Computed in chunks of
        `CHUNK_FRAMES` with the model's context on each side: equal to one whole pass.
    """
    if features.ndim != 3 or features.shape[0] != 2 or features.shape[2] != model.mean.shape[1]:
        raise ValueError(
            f"features must be (2, frames, {model.mean.shape[1]}), got {features.shape}"
        )
    x = ((features - model.mean[:, None, :]) / model.std[:, None, :]).astype(np.float32)
    n = x.shape[1]
    ctx = model.context
    out = np.empty((n, len(OUTPUTS)), dtype=np.float32)
    for start in range(0, n, CHUNK_FRAMES):
        stop = min(n, start + CHUNK_FRAMES)
        lo, hi = max(0, start - ctx), min(n, stop + ctx)
        out[start:stop] = _forward(x[:, lo:hi], model)[start - lo : stop - lo]
    return out
