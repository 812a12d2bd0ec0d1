"""The humanizer: a small transformer that plays a quantized pattern like a drummer.

Numpy only (trained with PyTorch by `training.humanizer`; inference needs no torch). Per
2-bar window of the pattern (32 steps x 9 classes, `groove.representation`), conditioned on
what a drummer knows — the tempo, the style, the drummer, the window's bar in a 4-bar
phrase — it predicts for every hit a velocity and a timing offset in milliseconds, each as
a Laplace distribution: a location (the median, what minimises the mean absolute error the
issue measures) and a scale (the mean absolute deviation a drummer shows around it).

``feel`` in `perform` walks from the most likely performance (0: the locations) to one
with a drummer's spread (1: a draw from the distributions, each class's offsets correlated
from hit to hit, as a drummer's drift is). How much noise and how much correlation make a
drummer's spread and lag-1 (`FeelCalibration`) is measured on whole GMD *validation*
performances when the model is trained.

The network, in the order the weights are applied (``torch.nn.TransformerEncoderLayer``
with ``norm_first=True``, ReLU, no dropout at inference)::

    x = hits @ W_in + pos[step] + phase[bar % 4] + drummer[d] + style[s] + log(bpm/100) * w_t
    x = x + attention(layer_norm(x));  x = x + ffn(layer_norm(x))        (layers times)
    y = layer_norm(x) @ W_out  -> (32, 4, 9): velocity, log velocity scale, offset, log offset scale
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.groove.representation import NUM_CLASSES, WINDOW_STEPS

__all__ = [
    "ANY",
    "FeelCalibration",
    "Humanizer",
    "HumanizerError",
    "Prediction",
    "check_feel",
    "default_humanizer_path",
    "perform",
]

ANY = 0  # the embedding index of "any drummer" / "any style" (trained with condition dropout)
OFFSET_LIMIT_MS = 50.0  # tanh range of the offset location (GMD: 99.6 % of offsets within it)
SCALE_UNIT_MS = 20.0  # offsets are scored in units of 20 ms in the loss (velocity: 1)
REFERENCE_BPM = 100.0
MIN_VELOCITY = 1 / 127  # MIDI's quietest note: a draw never silences a hit (0 is a note-off)
WEIGHTS_FILE = "humanizer.npz"


class HumanizerError(DrumgenxError):
    """Weights that cannot be read, or a drummer or style the model does not know."""


def default_humanizer_path() -> Path:
    """The shipped weights, ``groove/weights/humanizer/humanizer.npz``."""
    return Path(str(resources.files("drumgenx.groove") / "weights" / "humanizer" / WEIGHTS_FILE))


@dataclass(frozen=True)
class Prediction:
    """Per step and class, float64: velocity 0..1 and its Laplace scale, offset in ms and
    its Laplace scale in ms. Shapes match the hits they were predicted for."""

    velocity: np.ndarray
    velocity_scale: np.ndarray
    offset_ms: np.ndarray
    offset_scale_ms: np.ndarray

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.velocity, self.velocity_scale, self.offset_ms, self.offset_scale_ms)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * weight + bias


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@dataclass(frozen=True)
class FeelCalibration:
    """What ``feel`` 1 draws: the offsets' AR(1) correlation from hit to hit, and factors on
    the predicted velocity and offset scales (1: the scales as predicted)."""

    offset_correlation: float = 0.0
    velocity_noise: float = 1.0
    offset_noise: float = 1.0


class Humanizer:
    """The loaded network; `predict` is a pure function of its inputs."""

    def __init__(self, weights: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.w = weights
        self.meta = meta
        self.styles: tuple[str, ...] = tuple(meta["styles"])
        self.num_drummers: int = int(meta["num_drummers"])
        self.layers: int = int(meta["layers"])
        self.heads: int = int(meta["heads"])
        self.calibration = FeelCalibration(**meta.get("feel_calibration", {}))

    @classmethod
    def load(cls, path: str | Path | None = None) -> Humanizer:
        """Read ``humanizer.npz`` (a file, or a folder holding one); None: the shipped weights.

        Raises
        ------
        HumanizerError
            The file is missing or not humanizer weights (one line naming it).
        """
        path = Path(path) if path is not None else default_humanizer_path()
        if path.is_dir():
            path = path / WEIGHTS_FILE
        try:
            with np.load(path, allow_pickle=False) as data:
                weights = {k: data[k].astype(np.float64) for k in data.files if k != "meta"}
                meta = json.loads(str(data["meta"]))
            if meta.get("model") != "humanizer":
                raise KeyError("model")
        except (OSError, ValueError, KeyError) as exc:
            raise HumanizerError(f"{path}: not humanizer weights ({exc})") from None
        return cls(weights, meta)

    def condition(self, *, drummer: int | None, style: str | None) -> tuple[int, int]:
        """Embedding indices of a drummer (1..num_drummers) and a style; None: any.

        Raises
        ------
        ParameterError
            An unknown drummer or style, naming the ones there are.
        """
        if drummer is not None and not 1 <= drummer <= self.num_drummers:
            raise ParameterError(
                "drummer", f"must be 1..{self.num_drummers} (GMD's drummers), got {drummer}"
            )
        if style is not None and style not in self.styles:
            raise ParameterError("style", f"must be one of {', '.join(self.styles)}; got {style!r}")
        return (drummer or ANY, self.styles.index(style) + 1 if style else ANY)

    def predict(
        self,
        hits: np.ndarray,
        *,
        bpm: float,
        first_bars: np.ndarray,
        drummer: int | None = None,
        style: str | None = None,
    ) -> Prediction:
        """Velocities and offsets for ``hits`` ``(windows, 32, 9)``.

        ``first_bars`` is each window's first bar in the pattern (its bar in the phrase is
        that modulo 4); ``bpm`` the tempo (offsets in ms depend on it).
        """
        w = self.w
        drummer_index, style_index = self.condition(drummer=drummer, style=style)
        hits = np.asarray(hits, np.float64)
        if hits.ndim != 3 or hits.shape[1:] != (WINDOW_STEPS, NUM_CLASSES):
            raise ValueError(f"hits must be (windows, 32, 9), got {hits.shape}")
        context = (
            w["phase"][np.asarray(first_bars) % 4]
            + w["drummer"][drummer_index]
            + w["style"][style_index]
            + np.log(bpm / REFERENCE_BPM) * w["tempo_w"]
            + w["tempo_b"]
        )
        x = hits @ w["in_w"].T + w["in_b"] + w["pos"] + context[:, None, :]
        for i in range(self.layers):
            x = x + self._attention(_layer_norm(x, w[f"l{i}.ln1_w"], w[f"l{i}.ln1_b"]), i)
            h = _layer_norm(x, w[f"l{i}.ln2_w"], w[f"l{i}.ln2_b"])
            h = np.maximum(h @ w[f"l{i}.ff1_w"].T + w[f"l{i}.ff1_b"], 0.0)
            x = x + h @ w[f"l{i}.ff2_w"].T + w[f"l{i}.ff2_b"]
        y = _layer_norm(x, w["ln_w"], w["ln_b"]) @ w["out_w"].T + w["out_b"]
        y = y.reshape(*y.shape[:2], 4, NUM_CLASSES)
        return Prediction(
            velocity=1.0 / (1.0 + np.exp(-y[:, :, 0])),
            velocity_scale=np.exp(y[:, :, 1]),
            offset_ms=OFFSET_LIMIT_MS * np.tanh(y[:, :, 2]),
            offset_scale_ms=SCALE_UNIT_MS * np.exp(y[:, :, 3]),
        )

    def _attention(self, x: np.ndarray, layer: int) -> np.ndarray:
        w, heads = self.w, self.heads
        qkv = x @ w[f"l{layer}.qkv_w"].T + w[f"l{layer}.qkv_b"]
        batch, steps, width3 = qkv.shape
        head = width3 // 3 // heads
        q, k, v = (
            part.reshape(batch, steps, heads, head).transpose(0, 2, 1, 3)
            for part in np.split(qkv, 3, axis=-1)
        )
        attended = _softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(head)) @ v
        attended = attended.transpose(0, 2, 1, 3).reshape(batch, steps, heads * head)
        return attended @ w[f"l{layer}.proj_w"].T + w[f"l{layer}.proj_b"]


def check_feel(feel: float) -> None:
    """Raise `ParameterError` for a ``feel`` outside 0..1."""
    if not 0.0 <= feel <= 1.0:
        raise ParameterError("feel", f"must be 0..1, got {feel:g}")


def perform(
    prediction: Prediction,
    hits: np.ndarray,
    *,
    feel: float,
    seed: int,
    calibration: FeelCalibration,
) -> tuple[np.ndarray, np.ndarray]:
    """Velocities (1/127..1) and offsets (ms) of one performance of ``hits`` ``(steps, 9)``.

    ``feel`` 0 gives the locations (deterministic); 1 adds a draw of each hit's Laplace
    noise (its predicted scale times the calibration's factor), velocities independent, each
    class's offsets an AR(1) series in time order with lag-1 correlation
    ``calibration.offset_correlation`` (a drummer's timing drifts rather than jumps); in
    between, the noise scaled by ``feel``. The same inputs and seed give the same result.

    Raises
    ------
    ParameterError
        ``feel`` outside 0..1.
    """
    check_feel(feel)
    velocity, offset = prediction.velocity.copy(), prediction.offset_ms.copy()
    if feel > 0:
        rng = np.random.default_rng(seed)
        present = np.asarray(hits) > 0
        velocity_noise = rng.laplace(size=velocity.shape) * prediction.velocity_scale
        velocity_noise *= calibration.velocity_noise
        velocity = velocity + feel * np.where(present, velocity_noise, 0.0)
        innovation = rng.laplace(size=offset.shape)
        rho = calibration.offset_correlation
        for c in range(offset.shape[1]):
            steps = np.flatnonzero(present[:, c])
            noise, previous = np.zeros(len(steps)), 0.0
            for i, e in enumerate(innovation[steps, c]):  # unit-scale AR(1), keeps its spread
                previous = rho * previous + np.sqrt(1 - rho**2) * e if i else e
                noise[i] = previous
            scale = calibration.offset_noise * prediction.offset_scale_ms[steps, c]
            offset[steps, c] += feel * noise * scale
    return np.clip(velocity, MIN_VELOCITY, 1.0), offset
